"""A browser that dies mid-audit is relaunched once; the audit goes on (real Chromium, killed)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from tests.render.sites import home, page, template_routes
from tests.render.test_visibility import rendered_audit
from tests.support.processes import descendants, is_chromium
from tests.support.scripted_server import ScriptedServer, html, png


def _browser_roots() -> list[int]:
    """This process's Chromium main processes (a Chromium whose parent is not a Chromium)."""
    mine = {pid for pid in descendants(os.getpid()) if is_chromium(pid)}
    roots = []
    for pid in mine:
        try:
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent not in mine:
            roots.append(pid)
    return roots


def test_a_killed_browser_is_relaunched_once_and_the_audit_finishes() -> None:
    killed: list[int] = []
    stop = threading.Event()

    def killer(server: ScriptedServer) -> None:
        # once Chromium asks for /crash.png (only the browser does), kill the browser
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            if server.hits("/crash.png"):
                break
            time.sleep(0.02)
        for pid in _browser_roots():
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    routes = template_routes()
    routes["/crash"] = html(page("<img src='/crash.png' alt=''>"))
    routes["/crash.png"] = png(4, 4)
    routes["/"] = html(home(["/crash", *(path for path in routes if path.startswith(("/article/", "/doc/")))]))
    with ScriptedServer(routes) as server:
        thread = threading.Thread(target=killer, args=(server,), daemon=True)
        thread.start()
        try:
            report = rendered_audit(server.url("/"), max_pages=12)
        finally:
            stop.set()
            thread.join(5)
    assert killed, "the browser was never seen"
    assert report.render is not None and report.render.browser_restarts == 1
    statuses = [p.render.status for p in report.pages if p.render is not None]
    assert len(statuses) == 12
    # pages caught by the crash keep their static results with a render-crash; later pages render
    assert statuses.count("rendered") >= 6, statuses
    assert all(e.kind == "render-crash" for e in report.errors if e.kind.startswith("render")), report.errors
    assert not _browser_roots()  # and the relaunched browser is closed at the end
