"""Output paths: a destination the run cannot write is refused before anything is fetched (exit 2,
one sentence; the same audit with a good destination then has every page), a write that fails at
the end says which file and why and keeps what it could write, a failed start URL replaces the
earlier run's reports, and a device or pipe given as --output stays a device or pipe. Each run
that audits checks pages[] (/, /a, /b with their titles) and errors[]."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.hostile.harness import run_cli, site_routes
from tests.support.scripted_server import Reply, Route


def _audit(server, *args: str) -> tuple[int, str, str]:
    code, out, err, _ = run_cli(["audit", server.url("/"), "--quiet", "--timeout", "5", *args], bound=30)
    return code, out, err


def _site(**extra: Route) -> dict[str, Route]:
    """Home, /a and /b: nothing hostile here but the destination."""
    return site_routes(hostile_path="/a", **extra)


def _one_sentence(err: str) -> None:
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def _assert_whole_site(report_text: str | bytes) -> None:
    """The report holds the whole crawl: /, /a and /b with their titles, no error."""
    report = json.loads(report_text)
    titles = {p["url"].split("/", 3)[3]: p["facts"]["title"] for p in report["pages"]}
    assert titles == {"": "Home", "a": "Page A", "b": "Page B"}, titles
    assert report["errors"] == [] and report["partial"] is False


@pytest.mark.parametrize(("case", "needle"), [
    ("parent-is-a-file", "is a file, not a folder"),
    ("output-is-a-folder", "is a folder: give a file name"),
    ("parent-cannot-be-created", "cannot write reports in"),
])
def test_a_bad_output_file_is_refused_before_the_crawl(scripted_server, tmp_path: Path, case: str, needle: str) -> None:
    server = scripted_server(_site())
    (tmp_path / "file").write_text("not a folder")
    (tmp_path / "folder").mkdir()
    output = {
        "parent-is-a-file": tmp_path / "file" / "report.json",
        "output-is-a-folder": tmp_path / "folder",
        "parent-cannot-be-created": Path("/proc/self/no-such-dir/report.json"),  # unwritable even for root
    }[case]
    code, out, err = _audit(server, "--format", "json", "--output", str(output))
    assert code == 2 and needle in err and out == ""
    _one_sentence(err)
    assert server.paths() == [], "the crawl started before the destination was checked"
    assert (tmp_path / "file").read_text() == "not a folder" and list((tmp_path / "folder").iterdir()) == []
    good = tmp_path / "good.json"  # control: only the destination was wrong
    code, _, err = _audit(server, "--format", "json", "--output", str(good))
    assert code == 0, err
    _assert_whole_site(good.read_text(encoding="utf-8"))


def test_an_output_dir_that_is_a_file_is_refused_before_the_crawl(scripted_server, tmp_path: Path) -> None:
    server = scripted_server(_site())
    blocker = tmp_path / "reports"
    blocker.write_text("x")
    code, _, err = _audit(server, "--format", "json,html", "--output-dir", str(blocker))
    assert code == 2 and "is a file, not a folder" in err
    _one_sentence(err)
    assert server.paths() == [] and blocker.read_text() == "x"
    code, _, err = _audit(server, "--format", "json,html", "--output-dir", str(tmp_path / "good"))
    assert code == 0, err
    _assert_whole_site((tmp_path / "good" / "report.json").read_text(encoding="utf-8"))


def test_an_output_dir_in_an_unwritable_place_is_refused_before_the_crawl(scripted_server) -> None:
    server = scripted_server(_site())
    code, out, err = _audit(server, "--format", "json,html", "--output-dir", "/proc/self/reports")
    assert code == 2 and "cannot write reports in /proc/self/reports" in err and out == ""
    _one_sentence(err)
    assert server.paths() == []


def test_a_good_output_file_in_a_new_folder_is_written(scripted_server, tmp_path: Path) -> None:
    """Control for the refusals above: a missing parent folder is created, not refused."""
    server = scripted_server(_site())
    output = tmp_path / "new" / "deeper" / "report.json"
    code, _, err = _audit(server, "--format", "json", "--output", str(output))
    assert code == 0, err
    _assert_whole_site(output.read_text(encoding="utf-8"))
    assert [p.name for p in output.parent.iterdir()] == ["report.json"], "a probe or temporary file was left"


FILE_LIMIT = 40_000  # bytes: room for the page spool of three pages (~30 KB), not for the HTML report (~57 KB)


def _limit_file_size() -> None:  # runs in the child before exec
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))


def test_a_full_disk_at_the_end_is_one_sentence_naming_the_file(scripted_server, tmp_path: Path) -> None:
    """RLIMIT_FSIZE stands in for a full disk: the probe (an empty file) passes, the report does not fit
    (--output-dir: the JSON report is written, the HTML one is not, and the error names both)."""
    server = scripted_server(_site())
    process = subprocess.run(
        [sys.executable, "-m", "smo_audit", "audit", server.url("/"), "--format", "json,html", "--output-dir",
         str(tmp_path), "--quiet", "--timeout", "5"],
        capture_output=True, text=True, timeout=60, preexec_fn=_limit_file_size,
    )
    assert process.returncode == 2, process.stderr
    html_report, json_report = tmp_path / "report.html", tmp_path / "report.json"
    assert f"could not write the report to {html_report}: File too large ({json_report} written)" in process.stderr
    _one_sentence(process.stderr)
    _assert_whole_site(json_report.read_text(encoding="utf-8"))  # the crawl is not lost to the HTML failure
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"], "a half-written report was left"


def test_a_failed_start_url_replaces_yesterdays_reports(scripted_server, tmp_path: Path) -> None:
    server = scripted_server(_site(**{"/": Reply(503)}))
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "report.json").write_text('{"score": 97, "pages": ["yesterday"]}')
    (reports / "report.html").write_text("<p>Score 97 (yesterday)</p>")
    code, out, err = _audit(server, "--format", "json,html", "--output-dir", str(reports))
    assert code == 3 and "503" in err and out == ""
    _one_sentence(err)
    report = json.loads((reports / "report.json").read_text(encoding="utf-8"))
    assert report["score"] is None and report["pages"] == [] and report["stop_reason"] == "not-auditable"
    assert [e["kind"] for e in report["errors"]] == ["not-auditable"] and "503" in report["errors"][0]["message"]
    assert "yesterday" not in (reports / "report.html").read_text(encoding="utf-8")


def test_a_named_pipe_as_output_stays_a_pipe(scripted_server, tmp_path: Path) -> None:
    """Renaming a temporary file over a device or pipe (-o /dev/stdout) would replace the node."""
    server = scripted_server(_site())
    pipe = tmp_path / "report.pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    code, _, err = _audit(server, "--format", "json", "--output", str(pipe))
    reader.join(10)
    assert code == 0, err
    assert pipe.is_fifo()
    _assert_whole_site(received[0])


@pytest.mark.parametrize("report_format", ["json", "terminal", "markdown"])
def test_a_full_stdout_is_one_sentence_and_exit_2(scripted_server, report_format: str) -> None:
    """A report on stdout that cannot be written (stdout is /dev/full) is an output failure, as
    with --output: exit 2 and one sentence, not an internal error (exit 4)."""
    server = scripted_server(_site())
    with Path("/dev/full").open("w") as full:
        process = subprocess.run(
            [sys.executable, "-m", "smo_audit", "audit", server.url("/"), "--format", report_format, "--quiet",
             "--timeout", "5"],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=60,
        )
    assert process.returncode == 2, process.stderr
    assert "could not write the report to standard output: No space left on device" in process.stderr
    _one_sentence(process.stderr)


def _build(root: Path) -> Path:
    site = root / "site"
    site.mkdir()
    (site / "index.html").write_text('<!doctype html><html><head><title>Home</title></head><body>'
                                     '<a href="/a.html">a</a></body></html>')
    (site / "a.html").write_text("<!doctype html><html><head><title>Page A</title></head><body>a</body></html>")
    (site / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    (site / "notes.txt").write_text("We run smo-audit in CI.\n")  # names the tool, is no report of it
    (site / "map.geojson").write_text('{"type":"FeatureCollection","features":[]}')
    return site


@pytest.mark.parametrize(("args", "needle"), [
    (["-f", "json", "-o", "site/index.html"], "would replace site/index.html, a file of the folder"),
    (["-f", "json", "-o", "site/robots.txt"], "would replace site/robots.txt, a file of the folder"),
    (["-f", "json,html", "--output-dir", "site/reports"], "take it for one of the site's pages"),
    (["-f", "json", "-o", "site/notes.txt"], "would replace site/notes.txt"),
    (["-f", "ndjson", "-o", "site/map.geojson"], "would replace site/map.geojson"),
], ids=["over-a-page", "over-robots-txt", "html-inside", "over-a-file-naming-the-tool", "over-a-json-file"])
def test_a_report_is_never_written_over_or_into_the_folder_being_audited(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], needle: str) -> None:
    # `-o public/index.html` replaced the build's home page with the JSON report, exit 0.
    site = _build(tmp_path)
    before = {p.name: p.read_bytes() for p in site.iterdir()}
    monkeypatch.chdir(tmp_path)
    code, _, err, _ = run_cli(["audit", "site", "--quiet", *args], bound=30)
    assert code == 2 and needle in err, err
    _one_sentence(err)
    assert {p.name: p.read_bytes() for p in site.iterdir()} == before  # nothing written or replaced


def test_a_report_of_ours_inside_the_folder_is_replaced_as_usual(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _build(tmp_path)
    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # the second run replaces the first run's report
        code, _, err, _ = run_cli(["audit", "site", "--quiet", "-f", "json", "-o", "site/smo-report.json"], bound=30)
        assert code in (0, 1), err
        report = json.loads((site / "smo-report.json").read_text(encoding="utf-8"))
        assert sorted(p["facts"]["title"] for p in report["pages"]) == ["Home", "Page A"]


def test_a_production_origin_with_a_quote_keeps_the_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The origin a folder audit detects comes from the pages' og:url and canonical; it went into
    # each page's JSON text unescaped, so `https://ex"ample.com/` made every page invalid JSON
    # ("processing failed", exit 3: nothing audited).
    site = tmp_path / "site"
    site.mkdir()
    for name, title in (("index.html", "Home"), ("a.html", "Page A")):
        url = "https://ex&quot;ample.com/" + ("" if name == "index.html" else name)
        (site / name).write_text(f'<!doctype html><html><head><title>{title}</title><link rel="canonical" href="{url}">'
                                 f'<meta property="og:url" content="{url}"></head><body><a href="/a.html">a</a>'
                                 "</body></html>")
    monkeypatch.chdir(tmp_path)
    code, _, err, _ = run_cli(["audit", "site", "--quiet", "-f", "json", "-o", "r.json"], bound=30)
    assert code in (0, 1), err
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert sorted(p["facts"]["title"] for p in report["pages"]) == ["Home", "Page A"]
    assert report["errors"] == []
