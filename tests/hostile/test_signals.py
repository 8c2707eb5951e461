"""SIGINT and SIGTERM at any moment, sent to a real `smo-audit` process (signals are the process's
business, so only a subprocess tests them honestly).

Each case signals the audit at a known moment (the server sees the request that marks it), then
asserts: it stops within STOP_BOUND seconds with exit 130 (SIGINT) or 143 (SIGTERM) and one line
on stderr, nothing is requested after the signal, its worker and browser processes are gone, and
the report file is valid JSON marked partial with stop_reason "interrupted" / "terminated" (never
"in-progress"), holding every page finished before the signal (the other pages of the crawl) and
no error: a page cut short by the signal is not the site's fault.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.harness import PLAIN, home
from tests.support.processes import alive, descendants, is_chromium
from tests.support.scripted_server import Reply, Request, ScriptedServer, by_user_agent, html, png

STOP_BOUND = 5.0  # seconds from the signal to the process's exit (the bound)
SLACK = 0.5  # a request already on the wire when the signal lands may reach the server just after
SIGNALS = [pytest.param(signal.SIGINT, 130, "interrupted", id="SIGINT"),
           pytest.param(signal.SIGTERM, 143, "terminated", id="SIGTERM")]


def _spawn(url: str, output: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("CI", None)
    return subprocess.Popen(
        [sys.executable, "-m", "smo_audit", "audit", url, "--format", "json", "--output", str(output), "--quiet",
         "--timeout", "60", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def _wait_for(condition: Callable[[], bool], what: str, bound: float = 30.0) -> None:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _signal_and_wait(process: subprocess.Popen[str], signum: int) -> tuple[float, float, str]:
    """Send `signum`; return (monotonic time sent, seconds to exit, stderr)."""
    sent = time.monotonic()
    process.send_signal(signum)
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError("the audit did not stop within 30 s of the signal") from None
    return sent, time.monotonic() - sent, err


def _check_stopped(process: subprocess.Popen[str], server: ScriptedServer, output: Path, signum: int, code: int,
                   reason: str) -> dict[str, Any]:
    children = descendants(process.pid)  # extraction workers, their fork server, Chromium
    sent, took, err = _signal_and_wait(process, signum)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and any(alive(pid) for pid in children):
        time.sleep(0.05)
    assert not any(alive(pid) for pid in children), "a worker or browser process outlived the audit"
    assert process.returncode == code, err
    assert took < STOP_BOUND, f"took {took:.1f} s to stop"
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and reason in err, err
    late = [r.target for r in list(server.requests) if r.time > sent + SLACK]
    assert late == [], f"requested after the signal: {late}"
    report: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    assert report["partial"] is True and report["stop_reason"] == reason
    return report


def _page(title: str, *links: str) -> str:
    anchors = "".join(f'<a href="{link}">{link}</a>' for link in links)
    return PLAIN.format(title=title).replace("</body>", anchors + "</body>")


def _titles(report: dict[str, Any], server: ScriptedServer) -> dict[str, str]:
    """pages[] as {path: title}; each page once."""
    paths = [p["url"][len(server.base_url):] or "/" for p in report["pages"]]
    assert len(paths) == len(set(paths)), paths
    return {path: p["facts"]["title"] for path, p in zip(paths, report["pages"], strict=True)}


def _snapshot_pages(output: Path) -> int:
    """Pages in the JSON snapshot the running audit refreshes (0 before the first, or mid-write)."""
    try:
        return len(json.loads(output.read_text(encoding="utf-8"))["pages"])
    except (OSError, ValueError, KeyError):
        return 0


@pytest.mark.parametrize(("signum", "code", "reason"), SIGNALS)
def test_a_signal_before_the_first_page_is_finished(scripted_server, tmp_path: Path, signum: int, code: int,
                                                    reason: str) -> None:
    server = scripted_server({"/": Reply(200, {"content-type": "text/html"}, _page("Home"), delay=30),
                              "/robots.txt": Reply(404)})
    output = tmp_path / "report.json"
    process = _spawn(server.url("/"), output)
    _wait_for(lambda: server.hits("/") == 1, "the start page request")
    report = _check_stopped(process, server, output, signum, code, reason)
    assert report["pages"] == [] and report["score"] is None and report["errors"] == []


def _slow(request: Request) -> Reply:
    number = int(request.path.rsplit("/", 1)[-1] or 0)
    body = _page(f"Page {number}", *(f"/p/{number * 3 + k}" for k in (1, 2, 3)))
    return Reply(200, {"content-type": "text/html"}, body, delay=0.15)


@pytest.mark.parametrize(("signum", "code", "reason"), SIGNALS)
def test_a_signal_mid_crawl_keeps_the_pages_audited(scripted_server, tmp_path: Path, signum: int, code: int,
                                                    reason: str) -> None:
    server = scripted_server({"/p/*": _slow, "/og.png": png(1200, 630), "/robots.txt": Reply(404)})
    output = tmp_path / "report.json"
    process = _spawn(server.url("/p/0"), output, "--concurrency", "2", "--max-pages", "400")
    _wait_for(lambda: len([p for p in server.paths() if p.startswith("/p/")]) >= 8, "the crawl to get going")
    report = _check_stopped(process, server, output, signum, code, reason)
    titles = _titles(report, server)
    assert 1 <= len(titles) < 400 and titles["/p/0"] == "Page 0"
    assert all(title == f"Page {path.rsplit('/', 1)[1]}" for path, title in titles.items()), titles
    assert report["errors"] == [], report["errors"]


@pytest.mark.parametrize(("signum", "code", "reason"), SIGNALS)
def test_a_signal_during_the_site_rules_stops_their_fetches(scripted_server, tmp_path: Path, signum: int, code: int,
                                                            reason: str) -> None:
    # The page answers the audit at once but social crawlers (the bot-cloaking site rule) only
    # after 30 s: the signal lands while the site rules wait for them.
    page = html(_page("Home"))
    slow_for_bots = Reply(200, {"content-type": "text/html"}, _page("Home"), delay=30)
    page = html(_page("Home", "/a", "/b"))
    slow_for_bots = Reply(200, {"content-type": "text/html"}, _page("Home", "/a", "/b"), delay=30)
    server = scripted_server({
        "/": by_user_agent({"facebookexternalhit": slow_for_bots, "Twitterbot": slow_for_bots,
                            "LinkedInBot": slow_for_bots, "Slackbot": slow_for_bots, "WhatsApp": slow_for_bots},
                           default=page),
        "/a": html(_page("Page A")), "/b": html(_page("Page B")),
        "/og.png": png(1200, 630), "/robots.txt": Reply(404),
    })
    output = tmp_path / "report.json"
    process = _spawn(server.url("/"), output)
    _wait_for(lambda: server.hits("/") >= 2, "a social crawler's request (the site rules)")
    report = _check_stopped(process, server, output, signum, code, reason)
    assert _titles(report, server) == {"/": "Home", "/a": "Page A", "/b": "Page B"}  # the whole crawl is kept
    assert report["errors"] == [] and report["site_findings"] == [], "site rules cut short must not judge"


@pytest.mark.parametrize(("signum", "code", "reason"), SIGNALS)
def test_a_signal_during_rendering_closes_the_browser(scripted_server, tmp_path: Path, signum: int, code: int,
                                                      reason: str) -> None:
    slow = _page("Slow").replace("</head>", '<script src="/slow.js"></script></head>')
    # A chain (/ -> /a -> /b -> /slow): /slow is found, and rendered, after the others. /b comes
    # late, so the JSON snapshot (refreshed as pages finish, at most every 2 s) is written with it.
    server = scripted_server({"/": html(_page("Home", "/a")), "/a": html(_page("Page A", "/b")),
                              "/b": Reply(200, {"content-type": "text/html"}, _page("Page B", "/slow"), delay=4),
                              "/slow": html(slow), "/og.png": png(1200, 630), "/robots.txt": Reply(404),
                              "/slow.js": Reply(200, {"content-type": "text/javascript"}, b"1;", delay=110)})
    output = tmp_path / "report.json"
    config = tmp_path / "smo-audit.toml"  # the slow page's render outlasts the test, not the signal
    config.write_text("render_timeout = 100\n", encoding="utf-8")
    process = _spawn(server.url("/"), output, "--render", "all", "--concurrency", "1", "--config", str(config))
    _wait_for(lambda: server.hits("/slow.js") >= 1, "Chromium to request the slow page's script", bound=60)
    _wait_for(lambda: _snapshot_pages(output) >= 3, "/, /a and /b rendered and in the snapshot", bound=60)
    browser = {pid for pid in descendants(process.pid) if is_chromium(pid)}
    assert browser, "no Chromium process under the audit"
    report = _check_stopped(process, server, output, signum, code, reason)
    assert _titles(report, server) == {"/": "Home", "/a": "Page A", "/b": "Page B"}
    assert all(page["render"] is not None for page in report["pages"]) and report["errors"] == []
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and any(alive(pid) for pid in browser):
        time.sleep(0.05)
    assert not any(alive(pid) for pid in browser), "Chromium outlived the audit"


def test_sigterm_replaces_the_in_progress_snapshot(scripted_server, tmp_path: Path) -> None:
    """The JSON file refreshed during the crawl says "in-progress"; after SIGTERM it must not."""
    server = scripted_server({"/p/*": _slow, "/og.png": png(1200, 630), "/robots.txt": Reply(404)})
    output = tmp_path / "report.json"
    process = _spawn(server.url("/p/0"), output, "--concurrency", "2", "--max-pages", "400")
    _wait_for(output.exists, "the first in-progress snapshot")
    assert json.loads(output.read_text(encoding="utf-8"))["stop_reason"] == "in-progress"
    report = _check_stopped(process, server, output, signal.SIGTERM, 143, "terminated")
    titles = _titles(report, server)
    assert titles["/p/0"] == "Page 0" and report["errors"] == []


def test_a_link_only_home_page_with_no_wait(scripted_server, tmp_path: Path) -> None:
    """Control: the same site without a signal ends 0 with a complete report (so the cases above
    measure the signal, not a site that never finishes)."""
    server = scripted_server({"/": html(home("/a")), "/a": html(_page("A")), "/og.png": png(1200, 630),
                              "/robots.txt": Reply(404)})
    output = tmp_path / "report.json"
    process = _spawn(server.url("/"), output)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    report = json.loads(output.read_text(encoding="utf-8"))
    assert report["partial"] is False and report["stop_reason"] is None
    assert _titles(report, server) == {"/": "Home", "/a": "A"} and report["errors"] == []


# 95,000 share-looking anchors (9.6 MB, under the 10 MB body cap): ~10 s of extraction work in a
# worker on an idle machine, far under the default 20 s page budget.
HEAVY = ("<html><head><title>Heavy</title></head><body>" + (
    "<a href=https://facebook.com/sharer.php?u=x class=share-facebook onclick=window.open(this.href)>f</a>"
    * 95_000) + "</body></html>").encode()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _busy_worker(audit: int, seconds: float) -> bool:
    """A page worker (a grandchild: forked by the audit's fork server) has used `seconds` of CPU.
    Workers fork from the preloaded server, so their CPU time is the page work alone."""
    return any(_cpu_seconds(pid) >= seconds for pid in descendants(audit) - _children(audit))


def _children(pid: int) -> set[int]:
    return {child for child in descendants(pid) if _parent(child) == pid}


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


@pytest.mark.parametrize(("signum", "code", "reason"), SIGNALS)
def test_a_signal_mid_parse_stops_the_worker_and_keeps_the_pages_audited(scripted_server, tmp_path: Path, signum: int,
                                                                          code: int, reason: str) -> None:
    """The signal lands while a worker is seconds deep in one page's extraction: the worker is
    killed (not waited for), and /, /a and /b, audited before, are in the partial report."""
    server = scripted_server({
        "/": html(_page("Home", "/a", "/heavy", "/b")), "/a": html(_page("Page A")), "/b": html(_page("Page B")),
        # Late, so the plain pages are audited before the worker gets it.
        "/heavy": Reply(200, {"content-type": "text/html"}, HEAVY, delay=1.0),
        "/og.png": png(1200, 630), "/robots.txt": Reply(404),
    })
    output = tmp_path / "report.json"
    process = _spawn(server.url("/"), output, "--max-pages", "10")
    _wait_for(lambda: server.hits("/heavy") == 1, "the heavy page's request")
    _wait_for(lambda: _busy_worker(process.pid, 1.0), "a worker to be a second deep into the heavy page", bound=60)
    report = _check_stopped(process, server, output, signum, code, reason)
    assert _titles(report, server) == {"/": "Home", "/a": "Page A", "/b": "Page B"}
    assert report["errors"] == [], report["errors"]  # the unfinished page is not blamed on the site


def test_a_signal_in_the_first_second_never_leaves_an_earlier_runs_report_looking_current(tmp_path: Path) -> None:
    """Before the crawl starts (imports, settings, opening the outputs) a signal ends the run with
    no report; later, with the partial one. Either way the stderr line says which, and the files
    agree with it. Before, a signal while the outputs were opened left report.ndjson emptied and
    report.json from the earlier run, with exit 143 and only "terminated" on stderr. The moment
    cannot be marked from outside (no request is made yet), so the signal is sent at 14 delays."""
    site = tmp_path / "site"
    site.mkdir()
    for number in range(300):
        links = "".join(f'<a href="/p{n}.html">p{n}</a>' for n in range(number + 1, min(number + 4, 300)))
        name = "index.html" if number == 0 else f"p{number}.html"
        (site / name).write_text(PLAIN.format(title=f"Page {number}").replace("</body>", links + "</body>"))
    outputs = tmp_path / "out"
    outputs.mkdir()
    earlier = {"report.json": '{"earlier": true}\n', "report.ndjson": '{"earlier": true}\n'}
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("CI", None)
    stopped = written = 0
    for step in range(14):
        for name, text in earlier.items():
            (outputs / name).write_text(text)
        process = subprocess.Popen(
            [sys.executable, "-m", "smo_audit", "audit", str(site), "--format", "ndjson,json", "--output-dir",
             str(outputs), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        time.sleep(0.15 + 0.06 * step)
        _, _, err = _signal_and_wait(process, signal.SIGTERM)
        if process.returncode == 0:
            continue  # finished before the signal: nothing to check at this delay
        files = {name: (outputs / name).read_text(encoding="utf-8") for name in earlier}
        if process.returncode == -signal.SIGTERM:  # before Python ran any of our code: the default action
            assert files == earlier
            continue
        assert process.returncode == 143, err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        if "no report was written" in err:
            stopped += 1
            assert files == earlier, err
            continue
        written += 1
        assert "the partial report of" in err, err
        report = json.loads(files["report.json"])
        assert report["partial"] is True and report["stop_reason"] == "terminated", err
        lines = [json.loads(line) for line in files["report.ndjson"].splitlines()]
        assert lines and any(line.get("stop_reason") == "terminated" for line in lines), (err, files["report.ndjson"][:300])
    assert stopped + written > 0, "every run finished before its signal: the site is too small to test this"
