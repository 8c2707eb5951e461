"""A browser that dies mid-audit is relaunched once; the audit goes on (real Chromium, killed)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

from tests.render.sites import home, page, template_routes
from tests.render.test_visibility import page_at, rendered_audit
from tests.support.processes import descendants, is_chromium
from tests.support.scripted_server import ScriptedServer, drip, html, png


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


def _renderers() -> list[int]:
    """This process's Chromium renderer processes (the tabs' processes, not the browser)."""
    found = []
    for pid in descendants(os.getpid()):
        try:
            if b"--type=renderer" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


def test_a_browser_that_dies_twice_leaves_the_rest_static_and_the_audit_finishes() -> None:
    """The first death relaunches Chromium; the second ends rendering for the audit: every page
    still in the report, the later ones with their static results and one clear reason."""
    kills: list[list[int]] = []  # the browser processes killed at each trigger

    stop = threading.Event()

    def killer(server: ScriptedServer) -> None:
        deadline = time.monotonic() + 90
        for trigger in ("/crash.png", "/crash-again.png"):
            while not stop.is_set() and time.monotonic() < deadline and not server.hits(trigger):
                time.sleep(0.02)
            roots = _browser_roots()
            for pid in roots:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            kills.append(roots)

    routes = template_routes()
    articles = [path for path in routes if path.startswith(("/article/", "/doc/"))]
    routes["/crash"] = html(page("<img src='/crash.png' alt=''>"))
    routes["/crash.png"] = png(4, 4)
    # asked for by a page the relaunched browser renders: its second death
    routes["/crash-again"] = html(page("<img src='/crash-again.png' alt=''>"))
    routes["/crash-again.png"] = png(4, 4)
    routes["/"] = html(home(["/crash", *articles[:3], "/crash-again", *articles[3:]]))
    with ScriptedServer(routes) as server:
        thread = threading.Thread(target=killer, args=(server,), daemon=True)
        thread.start()
        try:
            # one fetch at a time: pages reach the browser in link order, so pages are left to
            # render after the second death (under load /crash-again could come last: none left)
            report = rendered_audit(server.url("/"), max_pages=12, render_concurrency=1, concurrency=1)
        finally:
            stop.set()
            thread.join(5)
        assert server.hits("/crash-again.png"), "the relaunched browser never reached the second trigger"
        base = server.base_url
    assert len(kills) == 2 and all(kills), kills
    assert report.render is not None and report.render.browser_restarts == 1
    assert len(report.pages) == 12
    statuses = {p.url.removeprefix(base): p.render.status for p in report.pages if p.render is not None}
    assert len(statuses) == 12
    # every page has its static findings whatever happened to its render
    assert all(p.findings for p in report.pages)
    render_errors = [e for e in report.errors if e.kind.startswith("render")]
    assert all(e.kind == "render-crash" for e in render_errors), render_errors
    twice = [e for e in render_errors if "died twice" in e.message]
    assert twice, render_errors
    # the pages after the second death were not rendered, and say why
    assert statuses["/crash-again"] != "rendered"
    after = {e.url.removeprefix(base) for e in twice}
    assert after and all(statuses[path] == "static-only" for path in after), (after, statuses)
    assert any(status == "rendered" for status in statuses.values())  # between the two deaths
    assert not _browser_roots()  # nothing left running


def test_a_crashed_tab_fails_its_page_only_and_the_browser_goes_on() -> None:
    """A renderer process that dies (a tab crash) is that page's render-crash; its slot is
    replaced, the browser is not relaunched, and the pages after it render."""
    killed: list[int] = []
    stop = threading.Event()

    def killer(server: ScriptedServer) -> None:
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline and not server.hits("/tab-crash.png"):
            time.sleep(0.01)
        renderers = _renderers()
        for pid in renderers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        killed.extend(renderers)

    routes = template_routes()
    articles = [path for path in routes if path.startswith(("/article/", "/doc/"))]
    # the image never answers, so the page is still loading when its renderer is killed
    routes["/tab-crash"] = html(page("<img src='/tab-crash.png' alt=''>"))
    routes["/tab-crash.png"] = drip([b"\x89"] * 50, 0.2, content_type="image/png")
    routes["/"] = html(home(["/tab-crash", *articles]))
    with ScriptedServer(routes) as server:
        thread = threading.Thread(target=killer, args=(server,), daemon=True)
        thread.start()
        try:
            report = rendered_audit(server.url("/"), max_pages=10, render_concurrency=1)
        finally:
            stop.set()
            thread.join(5)
    assert killed, "no renderer process was seen"
    assert report.render is not None and report.render.browser_restarts == 0
    crashed = page_at(report, "/tab-crash")
    assert crashed.render is not None and crashed.render.status == "static-only", crashed.render
    assert crashed.findings  # its static results are kept
    errors = [e for e in report.errors if e.url.endswith("/tab-crash")]
    assert [e.kind for e in errors] == ["render-crash"], errors
    others = [p.render.status for p in report.pages if p.render is not None and not p.url.endswith("/tab-crash")]
    assert len(others) == 9
    # the pages rendered after the crash were rendered in fresh tabs of the same browser
    assert others.count("rendered") >= 7, others
