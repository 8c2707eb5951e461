"""What a hostile server can do to the messages and the stdout of a run: redirects to non-web URLs,
escape sequences in headers, empty exception texts, and a stdout that cannot encode the report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from smo_audit.crawl.fetcher import classify_transport_error
from smo_audit.errors import printable
from tests.hostile.harness import (
    assert_case,
    home,
    plain,
    run_cli,
    run_site,
    site_routes,
)
from tests.support.scripted_server import Reply, ScriptedServer, html, redirect


@pytest.mark.parametrize(("location", "needle"), [
    ("javascript:alert(document.domain)", "redirects to a javascript: URL"),
    ("data:text/html,<h1>hi</h1>", "redirects to a data: URL"),
    ("file:///etc/passwd", "redirects to a file: URL"),
    ("http://[::1", "which is not a valid URL"),
])
def test_a_start_url_redirecting_to_a_non_web_url_is_one_sentence(scripted_server, location: str, needle: str) -> None:
    server = scripted_server(site_routes(**{"/start": redirect(location, 302)}))
    outcome = run_site(server, path="/start")
    assert outcome.code == 3, outcome.stderr
    assert needle in outcome.stderr and "internal error" not in outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) == 1 and "Traceback" not in outcome.stderr


def test_a_page_redirecting_to_javascript_is_an_error_and_the_rest_is_audited(scripted_server) -> None:
    server = scripted_server(site_routes(**{"/hostile": redirect("javascript:alert(1)", 301)}))
    outcome = run_site(server)
    assert_case(outcome, {"/hostile": ["bad-redirect"]})


@pytest.mark.parametrize("content_type", ["text/\x1b[31mevil\x1b]0;owned\x07", "application/\x1b[2J\x1b[H", "text/\x9b31m"])
def test_escape_sequences_from_a_server_never_reach_stderr_raw(scripted_server, content_type: str) -> None:
    server = scripted_server(site_routes(**{"/": Reply(200, {"content-type": content_type}, b"<p>hi</p>")}))
    outcome = run_site(server)
    assert outcome.code == 3
    assert not any(not ch.isprintable() for ch in outcome.stderr.rstrip("\n")), repr(outcome.stderr)
    assert "\\x1b" in outcome.stderr or "\\x9b" in outcome.stderr  # shown, not obeyed
    assert len(outcome.stderr.strip().splitlines()) == 1


def test_printable_escapes_controls_and_keeps_text() -> None:
    assert printable("café ☕ ok") == "café ☕ ok"
    assert printable("a\x1b[31mb\nc\u202ed") == "a\\x1b[31mb\\nc\\u202ed"


@pytest.mark.parametrize("exc", [httpx.ReadError(""), httpx.NetworkError(""), ConnectionResetError(), OSError()])
def test_a_transport_error_without_text_still_says_something(exc: BaseException) -> None:
    failure = classify_transport_error("http://127.0.0.1:9/x", exc)
    assert not failure.message.rstrip().endswith((":", "()", ": .")), failure.message
    assert type(exc).__name__ in failure.message


NON_ASCII = "Café ☕ — naïve “quotes” 日本"


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "cp1252"])
def test_json_on_a_non_utf8_stdout_is_valid_utf8_json(scripted_server, encoding: str) -> None:
    server = scripted_server(site_routes(hostile_path="/a", **{"/a": plain(NON_ASCII)}))
    env = {**os.environ, "PYTHONIOENCODING": encoding, "LC_ALL": "C", "LANG": "C"}
    process = subprocess.run(
        [sys.executable, "-m", "smo_audit", "audit", server.url("/"), "--format", "json", "--quiet", "--timeout", "5"],
        capture_output=True, timeout=60, env=env,
    )
    assert process.returncode == 0, process.stderr.decode("utf-8", "replace")
    assert process.stderr == b""
    report = json.loads(process.stdout.decode("utf-8"))  # strict UTF-8: the JSON contract
    titles = {p["url"].rsplit("/", 1)[-1]: p["facts"]["title"] for p in report["pages"]}
    assert titles == {"": "Home", "a": NON_ASCII, "b": "Page B"} and report["errors"] == []


def test_the_terminal_report_on_an_ascii_stdout_does_not_crash(scripted_server) -> None:
    server = scripted_server({"/": html(home("/a")), "/a": plain(NON_ASCII), "/robots.txt": Reply(404)})
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "LC_ALL": "C", "LANG": "C"}
    process = subprocess.run(
        [sys.executable, "-m", "smo_audit", "audit", server.url("/"), "--show", "pages", "--timeout", "5"],
        capture_output=True, timeout=60, env=env,
    )
    assert process.returncode == 0, process.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in process.stderr and b"Score" in process.stdout
    process.stdout.decode("ascii")  # what the terminal was told it can show


@pytest.mark.parametrize("fmt", ["json", "ndjson", "terminal", "markdown"])
def test_a_reader_that_goes_away_is_not_an_error(scripted_server, tmp_path, fmt: str) -> None:
    """`smo-audit ... | head`: stdout's reader closes early. The run ends quietly (no traceback,
    no "internal error"), and a report also asked for as a file is still written."""
    server = scripted_server(site_routes(hostile_path="/a"))
    args = [sys.executable, "-m", "smo_audit", "audit", server.url("/"), "--timeout", "5", "--quiet"]
    if fmt == "terminal":
        args += ["--format", "terminal,json", "--output-dir", str(tmp_path)]
    else:
        args += ["--format", fmt]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the first byte
    err = process.stderr.read().decode("utf-8", "replace")
    process.wait(timeout=60)
    assert process.returncode == 0, err
    assert err == "", err
    assert {"/", "/a", "/b"} <= set(server.paths())  # the crawl went on to the end
    if fmt == "terminal":
        report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
        titles = {p["url"].rsplit("/", 1)[-1]: p["facts"]["title"] for p in report["pages"]}
        assert titles == {"": "Home", "a": "Page A", "b": "Page B"} and report["errors"] == []


FOLDER_NAME = "Café ☕ 日本"  # a build folder's name: what `compare` calls that site


@pytest.fixture(scope="module")
def saved_reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two saved reports with non-ASCII text: a real audit (a page titled NON_ASCII), and the same
    audit as if it were of a build folder named FOLDER_NAME (compare names that site by it)."""
    folder = tmp_path_factory.mktemp("reports")
    first, second = folder / "a.json", folder / "b.json"
    with ScriptedServer(site_routes(**{"/a": plain(NON_ASCII)})) as server:
        code, _, err, _ = run_cli(["audit", server.url("/"), "--format", "json", "--output", str(first), "--quiet",
                                   "--timeout", "5"], bound=30)
    assert code == 0, err
    report = json.loads(first.read_text(encoding="utf-8"))
    report["target"] = f"/srv/builds/{FOLDER_NAME}"
    report["pages"] = report["pages"][:2]  # and one page fewer: the diff has something to say
    second.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    return first, second


def _run_on(encoding: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": encoding, "LC_ALL": "C", "LANG": "C"}
    return subprocess.run([sys.executable, "-m", "smo_audit", *args], capture_output=True, timeout=60, env=env)


ENCODINGS = ["ascii", "latin-1"]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(("command", "needle"), [
    pytest.param(("compare", "-f", "markdown", "{a}", "{b}"), FOLDER_NAME, id="compare-markdown"),
    pytest.param(("compare", "-f", "html", "{a}", "{b}"), FOLDER_NAME, id="compare-html"),
    pytest.param(("report", "{a}", "-f", "markdown"), "3 pages \u00b7 static mode", id="report-markdown"),
    pytest.param(("report", "{a}", "-f", "csv"), NON_ASCII, id="report-csv"),
    pytest.param(("diff", "-f", "markdown", "{a}", "{b}"), "\u2705", id="diff-markdown"),
])
def test_file_formats_on_a_non_utf8_stdout_are_utf8(saved_reports: tuple[Path, Path], encoding: str,
                                                    command: tuple[str, ...], needle: str | None) -> None:
    a, b = saved_reports
    expected = _run_on("utf-8", *(part.format(a=a, b=b) for part in command))
    process = _run_on(encoding, *(part.format(a=a, b=b) for part in command))
    assert process.returncode == expected.returncode and process.returncode in (0, 1), process.stderr
    assert process.stderr == b""
    assert process.stdout == expected.stdout  # the same UTF-8 bytes as on a UTF-8 stdout, no '?'
    if needle is not None:
        assert needle in process.stdout.decode("utf-8")


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("command", [
    pytest.param(("report", "{a}", "-f", "json"), id="report-json"),
    pytest.param(("diff", "-f", "json", "{a}", "{b}"), id="diff-json"),
])
def test_json_of_saved_reports_on_a_non_utf8_stdout_is_valid_utf8_json(saved_reports: tuple[Path, Path],
                                                                      encoding: str, command: tuple[str, ...]) -> None:
    a, b = saved_reports
    expected = _run_on("utf-8", *(part.format(a=a, b=b) for part in command))
    process = _run_on(encoding, *(part.format(a=a, b=b) for part in command))
    assert process.returncode == expected.returncode and process.returncode in (0, 1), process.stderr
    assert process.stderr == b"" and process.stdout == expected.stdout
    document = json.loads(process.stdout.decode("utf-8"))  # strict UTF-8: the JSON contract
    if command[0] == "report":
        assert NON_ASCII in {p["facts"]["title"] for p in document["pages"]}
    else:
        assert document["new_target"].endswith(FOLDER_NAME) and document["old_target"].startswith("http://127.0.0.1:")


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("command", [
    pytest.param(("compare", "{a}", "{b}"), id="compare"),
    pytest.param(("report", "{a}", "--show", "pages"), id="report"),
    pytest.param(("diff", "{a}", "{b}"), id="diff"),
    pytest.param(("explain", "og-image"), id="explain"),
])
def test_terminal_output_on_a_non_utf8_stdout_is_in_its_encoding(saved_reports: tuple[Path, Path], encoding: str,
                                                                 command: tuple[str, ...]) -> None:
    """Text for a person is written in the terminal's encoding, what it cannot show as '?'."""
    a, b = saved_reports
    process = _run_on(encoding, *(part.format(a=a, b=b) for part in command))
    assert process.returncode in (0, 1), process.stderr
    assert process.stderr == b"" and process.stdout.strip()
    process.stdout.decode(encoding)  # what the terminal was told it can show
