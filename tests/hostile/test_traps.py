"""Crawler traps a hostile or careless site sets: session ids in links and paths (always reported,
once per parameter, and not followed as new pages), ever-growing paths and endless calendars
(bounded and reported). Each case asserts the crawl stays small, errors[] says exactly that, and
the plain pages are still audited."""

from __future__ import annotations

import uuid

import pytest

from tests.hostile.harness import PLAIN, assert_case, home, run_site, site_routes
from tests.support.scripted_server import Reply, Request, html, png, redirect


def _session_page(link_format: str, *plain_links: str):  # every visit: a fresh session id on every link
    def route(request: Request) -> Reply:
        sid = uuid.uuid4().hex
        links = "".join(f'<a href="{link_format.format(sid=sid, n=n)}">{n}</a>' for n in range(3))
        links += "".join(f'<a href="{link}">{link}</a>' for link in plain_links)
        title = request.path.strip("/") or "Home"
        return html(PLAIN.format(title=title).replace("</body>", links + "</body>"))
    return route


@pytest.mark.parametrize(("link_format", "name"), [
    ("/p{n}?PHPSESSID={sid}", "PHPSESSID"),
    ("/p{n};jsessionid={sid}", "jsessionid"),
    ("/p{n}?lang=en&sid={sid}", "sid"),  # the site's own name: found by its repeating value
    ("/p{n}?visit={sid}", "visit"),
    ("/app;jsessionid={sid}/p{n}", "jsessionid"),  # a path parameter in a middle segment
    ("/p{n};JSESSIONID={sid}?x=1", "jsessionid"),
    ("/(S({sid}))/p{n}", "(S(...))"),  # ASP.NET cookieless session state
    ("/(X(1)S({sid}))/p{n}", "(S(...))"),
    ("/app/(A({sid})F({sid}))/p{n}", "(S(...))"),
])
def test_session_ids_are_reported_once_and_not_crawled_as_new_pages(scripted_server, link_format: str,
                                                                      name: str) -> None:
    routes = site_routes()
    routes.update({"/": _session_page(link_format, "/a", "/b"), "/p*": _session_page(link_format),
                   "/app*": _session_page(link_format), "/(*": _session_page(link_format)})
    server = scripted_server(routes)
    outcome = run_site(server, "--max-pages", "40")
    reports = [e for e in outcome.errors if e["kind"] == "session-id"]
    assert len(reports) == 1 and repr(name) in reports[0]["message"], outcome.errors
    assert_case(outcome, {reports[0]["url"][len(server.base_url):]: ["session-id"]})
    # /, /a, /b and the three session pages, each once: /p0 ... or /app/p0 ... (the id dropped)
    others = sorted(p["facts"]["title"] for path, p in outcome.pages.items() if path not in ("/", "/a", "/b"))
    assert len(outcome.report["pages"]) == 6 and len(set(others)) == 3, [p["url"] for p in outcome.report["pages"]]
    assert all(title.endswith(("p0", "p1", "p2")) for title in others), others
    assert outcome.report["stop_reason"] is None


def test_product_ids_are_not_mistaken_for_session_ids(scripted_server) -> None:
    """Control: a token-like id that differs from link to link names different pages."""
    ids = [uuid.uuid4().hex for _ in range(3)]
    links = "".join(f'<a href="/item?id={i}">item</a>' for i in ids)
    routes = site_routes(**{"/": html(PLAIN.format(title="Shop").replace("</body>", links + "</body>"))})
    routes["/item*"] = lambda request: html(PLAIN.format(title=f"Item {request.query_params.get('id', '')[:6]}"))
    server = scripted_server(routes)
    outcome = run_site(server)
    assert_case(outcome, {}, siblings=("/",), audited=[f"/item?id={i}" for i in ids], not_audited=())


def test_an_ever_growing_path_is_reported_as_a_trap(scripted_server) -> None:
    def deeper(request: Request) -> Reply:
        return html(PLAIN.format(title="Deep").replace("</body>", '<a href="x/">deeper</a></body>'))
    server = scripted_server(site_routes(**{"/hostile": html('<a href="/loop/x/">go</a>'), "/loop/*": deeper}))
    outcome = run_site(server, "--max-pages", "60")
    assert_case(outcome, {"/loop/x/x/x/": ["crawl-trap"]}, audited=["/hostile", "/loop/x/", "/loop/x/x/"],
                not_audited=())
    assert len(outcome.report["pages"]) == 6


def test_an_endless_calendar_stops_at_max_depth_and_says_so(scripted_server) -> None:
    def month(request: Request) -> Reply:
        m = int(request.query_params.get("m", "0"))
        return html(PLAIN.format(title=f"Month {m}").replace("</body>", f'<a href="/cal?m={m + 1}">next</a></body>'))
    server = scripted_server(site_routes(hostile_path="/cal?m=0", **{"/cal*": month}))
    outcome = run_site(server, "--max-depth", "4", "--max-pages", "60")
    assert_case(outcome, {"/cal?m=4": ["max-depth"]}, audited=[f"/cal?m={m}" for m in range(4)], not_audited=())
    assert sum(1 for p in outcome.report["pages"] if "/cal" in p["url"]) == 4


def _cookieless_asp_net(request: Request) -> Reply:
    """An ASP.NET site with cookieless sessions: a URL without a session segment is redirected to
    one with a fresh id, and pages link relatively, so every link carries the visitor's id."""
    segments = request.path.split("/")
    if not any(s.startswith("(S(") for s in segments):
        return redirect(f"/(S({uuid.uuid4().hex[:24]})){request.path}", 302)
    page = "/".join(s for s in segments if not s.startswith("(S(")) or "/"
    if page == "/":
        return html(home("a", "b"))  # relative links: /(S(id))/a, /(S(id))/b
    title = {"/a": "Page A", "/b": "Page B"}.get(page)
    if title is None:
        return Reply(404)
    return html(PLAIN.format(title=title).replace("</body>", '<a href="./">home</a><a href="a">A</a></body>'))


def test_asp_net_cookieless_sessions_are_one_page_each_and_reported_every_run(scripted_server) -> None:
    """Every fetch hands out a new id, so without the cookieless rule the crawl never ends; with it,
    each page is audited once, and the trap is reported on every run (three runs, same outcome)."""
    server = scripted_server({"/robots.txt": Reply(404), "/og.png": png(1200, 630), "/*": _cookieless_asp_net})
    for _ in range(3):
        outcome = run_site(server, "--max-pages", "30")
        assert [e["kind"] for e in outcome.errors] == ["session-id"], outcome.errors
        assert "'(S(...))'" in outcome.errors[0]["message"] and "/(S(" in outcome.errors[0]["url"]
        assert_case(outcome, {outcome.errors[0]["url"][len(server.base_url):]: ["session-id"]}, not_audited=())
        titles = sorted(p["facts"]["title"] for p in outcome.report["pages"])
        assert titles == ["Home", "Page A", "Page B"], [p["url"] for p in outcome.report["pages"]]
        assert outcome.report["stop_reason"] is None
