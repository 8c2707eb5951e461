"""The private-address rule for every kind of request, not just pages and og:images: icons,
scripts, robots.txt, sitemaps, social-bot fetches, sibling-host account pages and the browser's
own sub-requests in rendered mode.

As in test_private_addresses.py, SMO_AUDIT_TEST_PUBLIC_NETWORKS makes the audited site on 127.0.0.1
play a public target while a second server on another 127.0.0.0/8 alias plays the internal host;
nothing is ever sent beyond loopback. Each case asserts the run's bound (run_site's), exit code,
pages[] and errors[], that the internal server's request log has no request of the kind under
test, and (with a --allow-private control run) that the same request does reach it when allowed,
so it was the policy, not some other check, that stopped it.
"""

from __future__ import annotations

import pytest

from tests.hostile.harness import PLAIN, Outcome, assert_case, home, run_site, site_routes
from tests.support.scripted_server import Reply, ScriptedServer, by_user_agent, html, png, redirect

PUBLIC_LOOPBACK = {"SMO_AUDIT_TEST_PUBLIC_NETWORKS": "127.0.0.1/32"}
ALLOW = ("--allow-private",)
SECRET = "INTERNAL SECRET"


def _robots(text: str) -> Reply:
    return Reply(200, {"content-type": "text/plain"}, text)


def _sitemap(*urls: str) -> Reply:
    entries = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    return Reply(200, {"content-type": "application/xml"},
                 f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>')


@pytest.fixture
def internal(scripted_server) -> ScriptedServer:
    """The "internal" host on 127.0.0.2: everything on it is worth stealing."""
    return scripted_server({
        "/secret": html(f"<title>{SECRET}</title>"), "/x.png": png(1200, 630),
        "/favicon.ico": Reply(200, {"content-type": "image/x-icon"}, b"\x00\x00\x01\x00"),
        "/share.js": Reply(200, {"content-type": "text/javascript"}, "navigator.share({url: location.href})"),
        "/robots.txt": _robots("User-agent: *\nAllow: /\n"),
    }, host="127.0.0.2")


def _no_secret(outcome: Outcome) -> None:
    assert SECRET not in outcome.stdout and SECRET not in str(outcome.report), "an internal page's facts leaked"


def _internal_hits(internal: ScriptedServer, *paths: str) -> int:
    return sum(internal.hits(p) for p in paths)


def test_icons_on_an_internal_host_are_not_fetched(scripted_server, internal) -> None:
    # A linked icon on the internal host, and the site's fallback /favicon.ico redirecting there.
    site = scripted_server(site_routes(**{"/favicon.ico": redirect(internal.url("/favicon.ico"), 302)}))
    site.routes["/hostile"] = html(f'<html><head><title>H</title><link rel="apple-touch-icon" href="/t.png">'
                                   f'<link rel="icon" href="{internal.url("/favicon.ico")}"></head><body>x</body></html>')
    outcome = run_site(site, env=PUBLIC_LOOPBACK)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert site.hits("/favicon.ico") >= 1, "the fallback icon was never asked for: the case proves nothing"
    assert _internal_hits(internal, "/favicon.ico", "/robots.txt") == 0, internal.paths()
    control = run_site(site, *ALLOW, env=PUBLIC_LOOPBACK)
    assert_case(control, {}, audited=["/hostile"], not_audited=())
    assert internal.hits("/favicon.ico") >= 1


def test_a_script_redirecting_to_an_internal_host_is_not_fetched(scripted_server, internal) -> None:
    # A generic "Share" button makes the share-js-only rule read the page's same-site scripts.
    site = scripted_server(site_routes(**{"/js/share.js": redirect(internal.url("/share.js"), 302)}))
    site.routes["/hostile"] = html(PLAIN.format(title="Hostile").replace(
        "</body>", '<button class="share-button">Share</button><script src="/js/share.js"></script></body>'))
    outcome = run_site(site, env=PUBLIC_LOOPBACK)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert site.hits("/js/share.js") >= 1, "the script was never asked for: the case proves nothing"
    assert _internal_hits(internal, "/share.js", "/robots.txt") == 0, internal.paths()
    control = run_site(site, *ALLOW, env=PUBLIC_LOOPBACK)
    assert_case(control, {}, audited=["/hostile"], not_audited=())
    assert internal.hits("/share.js") >= 1


def test_robots_txt_on_an_internal_host_is_not_fetched(scripted_server, internal) -> None:
    # The site's own robots.txt redirects inwards (read as "could not be fetched": all allowed),
    # and an og:image on the internal host would need that host's robots.txt first.
    site = scripted_server(site_routes(**{"/robots.txt": redirect(internal.url("/robots.txt"), 302)}))
    site.routes["/hostile"] = html(f'<html><head><title>H</title><meta property="og:title" content="H">'
                                   f'<meta property="og:image" content="{internal.url("/x.png")}"></head><body>x</body></html>')
    outcome = run_site(site, env=PUBLIC_LOOPBACK)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert site.hits("/robots.txt") >= 1
    assert _internal_hits(internal, "/robots.txt", "/x.png") == 0, internal.paths()
    control = run_site(site, *ALLOW, env=PUBLIC_LOOPBACK)
    assert_case(control, {}, audited=["/hostile"], not_audited=())
    assert internal.hits("/robots.txt") >= 1


def test_sitemaps_on_an_internal_host_are_not_fetched(scripted_server, internal) -> None:
    # robots.txt names a sitemap on the internal host and one that redirects there; /sitemap.xml
    # redirects there too. Only the internal sitemaps list /only-in-sitemap. Sitemaps and their
    # redirects stay inside the crawl's scope, so the internal host is refused before its address
    # is even checked: --allow-private does not open it either.
    site = scripted_server(site_routes(**{
        "/hostile": html(PLAIN.format(title="Hostile")), "/only-in-sitemap": html(PLAIN.format(title="Listed")),
        "/named.xml": redirect(internal.url("/named.xml"), 302),
        "/sitemap.xml": redirect(internal.url("/sitemap.xml"), 302),
    }))
    site.routes["/robots.txt"] = _robots(f"User-agent: *\nAllow: /\nSitemap: {internal.url('/direct.xml')}\n"
                                         f"Sitemap: {site.url('/named.xml')}\n")
    for path in ("/named.xml", "/sitemap.xml", "/direct.xml"):
        internal.routes[path] = _sitemap(site.url("/only-in-sitemap"))
    for extra in ((), ALLOW):
        outcome = run_site(site, *extra, env=PUBLIC_LOOPBACK)
        # The named sitemap that could not be read is reported; the unnamed default is not.
        assert_case(outcome, {"/named.xml": ["sitemap"]}, audited=["/hostile"], not_audited=())
        assert internal.url("/named.xml") in outcome.errors[0]["message"], outcome.errors
        assert "/only-in-sitemap" not in outcome.pages
    assert site.hits("/named.xml") >= 2 and site.hits("/sitemap.xml") >= 2
    assert _internal_hits(internal, "/named.xml", "/sitemap.xml", "/direct.xml", "/robots.txt") == 0, internal.paths()


def test_a_social_bot_fetch_redirecting_inwards_is_refused(scripted_server, internal) -> None:
    # Browsers get the page; facebookexternalhit and Twitterbot are sent to the internal host.
    site = scripted_server(site_routes())
    for path in ("/", "/a", "/b", "/hostile"):
        page = site.routes.get(path, html(PLAIN.format(title="Hostile")))
        assert not callable(page)
        site.routes[path] = by_user_agent({"facebookexternalhit": redirect(internal.url("/secret"), 302),
                                           "twitterbot": redirect(internal.url("/secret"), 302)}, default=page)
    outcome = run_site(site, env=PUBLIC_LOOPBACK)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    bots = [r for r in site.requests if "facebookexternalhit" in r.user_agent.lower()]
    assert bots, "no page was fetched as facebookexternalhit: the case proves nothing"
    assert _internal_hits(internal, "/secret", "/robots.txt") == 0, internal.paths()
    _no_secret(outcome)
    control = run_site(site, *ALLOW, env=PUBLIC_LOOPBACK)
    assert_case(control, {}, audited=["/hostile"], not_audited=())
    assert internal.hits("/secret") >= 1


def test_a_sibling_host_account_page_on_an_internal_address_is_not_fetched(scripted_server) -> None:
    """Account pages are audited on sibling hosts of the same site (auth.example.com for
    www.example.com). The stand-in without DNS: the site is audited as 0x7f.0.0.1 (127.0.0.1, a
    name the resolver turns into an address) and links its login page on 0x7f.1.0.1, a sibling
    by name (same last two labels) that resolves to 127.1.0.1: the internal host."""
    sibling = scripted_server({"/login": html(f"<title>{SECRET}</title><form><input type=password></form>")},
                              host="127.1.0.1")
    site = scripted_server(site_routes())
    login = f"http://0x7f.1.0.1:{sibling.port}/login"
    site.routes["/"] = html(home("/a", "/b").replace("</body>", f'<a href="{login}">Log in</a></body>'))
    outcome = run_site(site, host="0x7f.0.0.1", env=PUBLIC_LOOPBACK)
    assert_case(outcome, {login: ["private-address"]}, not_audited=())
    assert sibling.hits("/login") == 0 and sibling.hits("/robots.txt") == 0, sibling.paths()
    _no_secret(outcome)
    control = run_site(site, *ALLOW, host="0x7f.0.0.1", env=PUBLIC_LOOPBACK)
    assert sibling.hits("/login") >= 1, "control: with --allow-private the account page is audited"
    assert_case(control, {}, not_audited=())
    assert any(p["url"] == login for p in control.report["pages"])


RENDER = ("--render", "all", "--viewports", "desktop")


def _render_notes(outcome: Outcome, path: str) -> str:
    return " | ".join(outcome.pages[path]["render"]["notes"])


def test_a_rendered_page_cannot_make_the_browser_reach_an_internal_host(scripted_server, internal) -> None:
    site = scripted_server(site_routes(**{"/public.png": png(1, 1)}))
    image = internal.url("/x.png")
    site.routes["/hostile"] = html(PLAIN.format(title="Hostile").replace(
        "</body>", f'<img src="{image}" alt=""><img src="/public.png" alt=""></body>'))
    outcome = run_site(site, *RENDER, env=PUBLIC_LOOPBACK, bound=90)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert site.hits("/public.png") >= 1, "the browser fetched no image at all: the case proves nothing"
    assert _internal_hits(internal, "/x.png", "/robots.txt") == 0, internal.paths()
    assert all(outcome.pages[p]["render"]["status"] == "rendered" for p in ("/", "/a", "/b", "/hostile"))
    # The policy refused it (Chromium refuses this request by itself too, so the hit count alone
    # would not show who did): the render says so.
    notes = _render_notes(outcome, "/hostile")
    assert "not requested by the browser" in notes and f"127.0.0.2:{internal.port}" in notes, notes
    assert "non-public address" in notes, notes
    control = run_site(site, *RENDER, *ALLOW, env=PUBLIC_LOOPBACK, bound=90)
    assert_case(control, {}, audited=["/hostile"], not_audited=())
    assert "not requested by the browser" not in _render_notes(control, "/hostile")
    assert internal.hits("/robots.txt") >= 1, "control: the policy let the request through to its robots.txt check"
