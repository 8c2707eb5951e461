"""What a hostile server can do to the messages and the stdout of a run: redirects to non-web URLs,
escape sequences in headers, empty exception texts, and a stdout that cannot encode the report."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from smo_audit.crawl.fetcher import classify_transport_error
from smo_audit.errors import printable
from tests.hostile.harness import assert_siblings_audited, home, plain, run_site, site_routes
from tests.support.scripted_server import Reply, html, redirect


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
    assert_siblings_audited(outcome)
    assert outcome.error_kinds("/hostile") == ["bad-redirect"]


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
    server = scripted_server(site_routes(**{"/a": plain(NON_ASCII)}))
    env = {**os.environ, "PYTHONIOENCODING": encoding, "LC_ALL": "C", "LANG": "C"}
    process = subprocess.run(
        [sys.executable, "-m", "smo_audit", "audit", server.url("/"), "--format", "json", "--quiet", "--timeout", "5"],
        capture_output=True, timeout=60, env=env,
    )
    assert process.returncode == 0, process.stderr.decode("utf-8", "replace")
    report = json.loads(process.stdout.decode("utf-8"))  # strict UTF-8: the JSON contract
    titles = {p["url"].rsplit("/", 1)[-1]: p["facts"]["title"] for p in report["pages"]}
    assert titles["a"] == NON_ASCII


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
    server = scripted_server(site_routes())
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
    assert process.returncode in (0, 1), err
    assert err == "", err
    if fmt == "terminal":
        assert len(json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["pages"]) == 3
