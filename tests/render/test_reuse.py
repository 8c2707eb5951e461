"""A slot (browser context and page) renders page after page: each must still be seen as a
first-time visitor sees it. Real headless Chromium, one viewport and one slot, so every page after
the first is rendered in the context the previous page wrote its consent into."""

from __future__ import annotations

import json
import socket

from smo_audit.render.browser import CLEAR_ORIGINS
from smo_audit.report.model import Report
from tests.render.sites import TALL, page, target
from tests.render.test_visibility import rendered_audit
from tests.support.scripted_server import Reply, ScriptedServer, html

# A consent banner over the share button, shown unless an earlier visit left consent behind in a
# cookie (one set by the script, one by a sub-request's Set-Cookie), local or session storage.
CONSENT_SCRIPT = """
const seen = document.cookie.includes('consent=') || document.cookie.includes('served=') ||
  localStorage.getItem('consent') !== null || sessionStorage.getItem('consent') !== null;
if (seen) document.getElementById('cookie-banner').remove();
document.cookie = 'consent=1; max-age=3600; path=/';
localStorage.setItem('consent', '1');
sessionStorage.setItem('consent', '1');
new Image().src = '/mark.png';  // its response sets the `served` cookie
// and keeps writing consent until the tab moves on: a measured page must be stopped for good
setInterval(() => { document.cookie = 'consent=1; max-age=3600; path=/'; localStorage.setItem('consent', '1'); }, 1);
requestAnimationFrame(function again() { localStorage.setItem('consent', '1'); requestAnimationFrame(again); });
"""
BANNER = ("<div id='cookie-banner' style='position:fixed;top:0;left:0;right:0;height:300px;background:#eee'>"
          "We use cookies</div>")
PAGES = [f"/consent/{n}" for n in range(6)]


def test_every_page_is_rendered_as_a_first_time_visitor_sees_it() -> None:
    routes: dict[str, Reply | str] = {
        path: html(page(f"<div class='share'>{target()}</div>{BANNER}<script src='/consent.js'></script>"))
        for path in PAGES
    }
    routes["/consent.js"] = Reply(200, {"content-type": "text/javascript"}, CONSENT_SCRIPT)
    routes["/mark.png"] = Reply(200, [("content-type", "image/png"), ("set-cookie", "served=1; Path=/")],
                                b"")
    routes["/"] = html(page("".join(f"<a href='{p}'>{p}</a>" for p in PAGES)))
    with ScriptedServer(routes) as server:
        report = rendered_audit(server.url("/"), viewports=["desktop"], render_concurrency=1)
        assert server.hits("/consent.js") == len(PAGES)  # every page ran the script itself
        assert server.hits("/mark.png") >= 1
    assert_banner_on_every_page(report)


def audit_in_one_slot(paths: list[str], body: str, host: str = "127.0.0.1") -> Report:
    """`body` served at every path (all linked from `/`), rendered one after another in one slot;
    the audit starts at `http://{host}:PORT/` (the server listens on 127.0.0.1)."""
    routes: dict[str, Reply | str] = {path: html(page(body)) for path in paths}
    routes["/"] = html(page("".join(f"<a href='{p}'>{p}</a>" for p in paths)))
    with ScriptedServer(routes) as server:
        return rendered_audit(f"http://{host}:{server.port}/", viewports=["desktop"], render_concurrency=1)


def assert_banner_on_every_page(report: Report, paths: list[str] = PAGES) -> None:
    """Every page rendered, its button covered by the cookie banner: no consent carried over
    from the page before."""
    pages = [p for p in report.pages if any(p.url.endswith(path) for path in paths)]
    assert len(pages) == len(paths)
    for rendered in pages:
        assert rendered.render is not None and rendered.render.status == "rendered", rendered.render
        (button,) = [b for b in rendered.render.viewports["desktop"].buttons if b.selector == "a#target"]
        assert button.visible and button.covered_by == "div#cookie-banner", (rendered.url, button)


# A frame of the page that keeps writing consent into the page's own origin (same-origin frame,
# same storage): stopping only the top frame would let it write again after the storage is cleared.
FRAME_WRITER = """<script>
setInterval(() => { document.cookie = 'consent=1; max-age=3600; path=/'; localStorage.setItem('consent', '1');
                    sessionStorage.setItem('consent', '1'); }, 1);
</script>"""
READER = """<script>
const seen = document.cookie.includes('consent=') || localStorage.getItem('consent') !== null ||
  sessionStorage.getItem('consent') !== null;
if (seen) document.getElementById('cookie-banner').remove();
</script>"""


def test_the_frames_of_a_measured_page_are_stopped_too() -> None:
    routes: dict[str, Reply | str] = {
        path: html(page(f"<div class='share'>{target()}</div>{BANNER}{READER}<iframe src='/writer'></iframe>"))
        for path in PAGES
    }
    routes["/writer"] = html(FRAME_WRITER)
    routes["/"] = html(page("".join(f"<a href='{p}'>{p}</a>" for p in PAGES)))
    with ScriptedServer(routes) as server:
        report = rendered_audit(server.url("/"), viewports=["desktop"], render_concurrency=1)
        assert server.hits("/writer") >= len(PAGES)  # every page loaded its frame
    assert_banner_on_every_page(report)


# A scroll listener (a lazy loader, analytics, consent on scroll) that starts writing consent: the
# measuring script's own scrolling would fire it in the next frame, which may come after the page
# was stopped. The page sees no scroll event of the measurement's, and a stopped page starts no
# timer either, so nothing is written after the storage is cleared.
SCROLL_WRITER = """<script>
addEventListener('scroll', () => setInterval(() => { document.cookie = 'consent=1; max-age=3600; path=/';
  localStorage.setItem('consent', '1'); }, 1), {once: true});
</script>"""
SCROLL_PAGES = [f"/scroll/{n}" for n in range(16)]  # each page after the first is a chance to leak
FULL_BANNER = BANNER.replace("height:300px", "bottom:0")  # covers the button wherever it is scrolled to


def test_a_scroll_listener_that_starts_a_timer_leaves_nothing_behind() -> None:
    # below the fold (TALL): the measuring script scrolls to it, under the banner (fixed, full screen)
    report = audit_in_one_slot(SCROLL_PAGES, f"{TALL}<div class='share'>{target()}</div>{FULL_BANNER}{READER}{SCROLL_WRITER}")
    assert_banner_on_every_page(report, SCROLL_PAGES)


# The page remembers a visit in its own origin's local storage. It also reaches more origins than
# the slot clears one by one (images on closed loopback ports: each a distinct origin, and every
# `http://127.0.0.1:PORT` sorts before the page's own `http://localhost:PORT`): its own origin
# must be cleared all the same.
MEMORY = """<script>
if (localStorage.getItem('consent') !== null) document.getElementById('cookie-banner').remove();
localStorage.setItem('consent', '1');
</script>"""


def test_a_page_that_reached_more_origins_than_are_cleared_one_by_one_leaves_nothing_behind() -> None:
    closed = [socket.socket() for _ in range(CLEAR_ORIGINS + 5)]  # bound, never listening: refused
    try:
        for sock in closed:
            sock.bind(("127.0.0.1", 0))
        images = "".join(f"<img src='http://127.0.0.1:{s.getsockname()[1]}/x.png'>" for s in closed)
        report = audit_in_one_slot(PAGES, f"<div class='share'>{target()}</div>{BANNER}{MEMORY}{images}",
                                   host="localhost")
    finally:
        for sock in closed:
            sock.close()
    assert_banner_on_every_page(report)


# A scroll listener that writes consent synchronously: the measuring script's scrolling fires it in
# the next frame, which may come after the page was stopped and even after the storage was cleared.
SYNC_SCROLL_WRITER = """<script>
addEventListener('scroll', () => { localStorage.setItem('consent', '1'); sessionStorage.setItem('consent', '1'); });
</script>"""


def test_a_scroll_handler_that_writes_after_the_measurement_leaves_nothing_behind() -> None:
    report = audit_in_one_slot(SCROLL_PAGES, f"{TALL}<div class='share'>{target()}</div>{FULL_BANNER}{READER}{SYNC_SCROLL_WRITER}")
    assert_banner_on_every_page(report, SCROLL_PAGES)


# Listeners that save state as the visitor leaves (analytics, consent managers): they run when the
# next page's navigation replaces the stopped one, which is after the storage was cleared.
LEAVE_WRITER = """<script>
for (const type of ['pagehide', 'pageswap', 'unload', 'beforeunload']) addEventListener(type, () => localStorage.setItem('consent', '1'));
document.addEventListener('visibilitychange', () => localStorage.setItem('consent', '1'));
</script>"""


def test_a_listener_that_writes_as_the_page_is_left_leaves_nothing_behind() -> None:
    report = audit_in_one_slot(PAGES, f"<div class='share'>{target()}</div>{BANNER}{READER}{LEAVE_WRITER}")
    assert_banner_on_every_page(report)


# The same listeners in a document the page writes over itself once loaded (`document.write` after
# `load`, as some ad and consent scripts do): `document.open()` erases the window's event listeners,
# the slot's own muting listener included, so the slot registers it again before the page adds one
# of the watched listeners to the window, when it measures and when it stops the page.
def rewriter(document: str) -> str:
    """A script that writes `document` over the page once it has loaded."""
    return ("<script>addEventListener('load', () => { document.open(); document.write("
            + json.dumps(document).replace("</", "<\\/") + "); document.close(); });</script>")


def test_listeners_of_a_document_written_over_the_page_leave_nothing_behind() -> None:
    written = page(f"{TALL}<div class='share'>{target()}</div>{FULL_BANNER}{READER}{SYNC_SCROLL_WRITER}{LEAVE_WRITER}")
    report = audit_in_one_slot(PAGES, f"<div class='share'>{target()}</div>{rewriter(written)}")
    assert_banner_on_every_page(report)


# Handler properties and attributes in the written document: they are listeners added after the
# rewrite, without addEventListener, so only emptying them when the page is stopped keeps them quiet.
HANDLER_WRITER = """<script>
onpagehide = onbeforeunload = () => { localStorage.setItem('consent', '1'); };
document.body.setAttribute('onunload', "localStorage.setItem('consent', '1')");
document.onvisibilitychange = () => { localStorage.setItem('consent', '1'); };
</script>"""


def test_handler_properties_of_a_document_written_over_the_page_leave_nothing_behind() -> None:
    written = page(f"<div class='share'>{target()}</div>{BANNER}{READER}{HANDLER_WRITER}")
    report = audit_in_one_slot(PAGES, f"<div class='share'>{target()}</div>{rewriter(written)}")
    assert_banner_on_every_page(report)


# A dedicated worker keeps messaging the page, whose handler starts writing consent: workers go on
# after the page is stopped (until the next page replaces it), so the handler runs after the stop,
# and only the stopped page's refusal to start timers keeps the write from the next page.
WORKER_WRITER = """<script>
const worker = new Worker(URL.createObjectURL(new Blob(['setInterval(() => postMessage(1), 1);'])));
worker.onmessage = () => setTimeout(() => localStorage.setItem('consent', '1'), 0);
</script>"""
WORKER_PAGES = [f"/worker/{n}" for n in range(12)]


def test_a_worker_message_after_the_stop_starts_no_timer() -> None:
    report = audit_in_one_slot(WORKER_PAGES, f"<div class='share'>{target()}</div>{FULL_BANNER}{READER}{WORKER_WRITER}")
    assert_banner_on_every_page(report, WORKER_PAGES)


def test_consent_kept_in_the_window_name_is_not_carried_to_the_next_page() -> None:
    # window.name outlives a same-site navigation of the tab: the slot's next page would read it
    paths = [f"/named/{n}" for n in range(4)]
    body = (f"<div class='share'>{target()}</div>{BANNER}"
            "<script>if (window.name === 'consented') document.getElementById('cookie-banner').remove();"
            "window.name = 'consented';</script>")
    assert_banner_on_every_page(audit_in_one_slot(paths, body), paths)
