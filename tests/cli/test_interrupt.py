"""Ctrl-C in the middle of a crawl still leaves a valid report of what was audited."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.scripted_server import Reply


def _slow_page(request) -> Reply:
    number = int(request.path.rsplit("/", 1)[-1] or 0)
    links = "".join(f'<a href="/p/{number * 3 + k}">next</a>' for k in (1, 2, 3))
    body = f'<html><head><title>Page {number}</title><meta property="og:title" content="P{number}"></head><body>{links}</body></html>'
    return Reply(200, {"content-type": "text/html"}, body, delay=0.15)


def test_sigint_writes_a_valid_partial_report(scripted_server, tmp_path: Path) -> None:
    server = scripted_server({"/p/*": _slow_page, "/robots.txt": Reply(404)})
    output = tmp_path / "report.json"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "smo_audit", "audit", server.url("/p/0"), "--format", "json", "--output", str(output),
         "--concurrency", "2", "--max-pages", "400", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(server.paths()) < 8:
        time.sleep(0.05)
    assert len(server.paths()) >= 8, "the crawl did not get going"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    report = json.loads(output.read_text())
    assert report["partial"] is True and report["stop_reason"] == "interrupted"
    assert 1 <= len(report["pages"]) < 400
    titles = {p["url"][len(server.base_url):]: p["facts"]["title"] for p in report["pages"]}
    assert len(titles) == len(report["pages"]) and titles["/p/0"] == "Page 0"  # each page once, the start kept
    assert all(title == f"Page {path.rsplit('/', 1)[1]}" for path, title in titles.items()), titles
    assert report["errors"] == [], report["errors"]  # pages cut short by Ctrl-C are not the site's fault
