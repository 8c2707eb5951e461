"""robots.txt for the agent actually sent: images, feeds and bot fetches under a Disallow are not
requested; --ignore-robots (the control run) requests them."""

from __future__ import annotations

from tests.hostile.harness import assert_case, home, plain, run_site, site_routes
from tests.support.scripted_server import Reply, ScriptedServer, by_user_agent, html, png, redirect


def _robots(text: str) -> Reply:
    return Reply(200, {"content-type": "text/plain"}, text)


def _page_with(server: ScriptedServer, head: str) -> None:
    server.routes["/hostile"] = html(f"<html><head><title>H</title>{head}</head><body>x</body></html>")


def test_an_og_image_under_disallow_is_not_fetched(scripted_server) -> None:
    server = scripted_server(site_routes(**{"/img/og.png": png(1200, 630),
                                            "/robots.txt": _robots("User-agent: *\nDisallow: /img/\n")}))
    _page_with(server, f'<meta property="og:title" content="H"><meta property="og:image" content="{server.url("/img/og.png")}">')
    outcome = run_site(server)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())  # the refusal is the page's finding
    assert server.hits("/img/og.png") == 0
    finding = next(f for f in outcome.pages["/hostile"]["findings"] if f["rule"] == "og-image-reachable")
    assert finding["status"] == "skip" and "robots.txt disallows it" in finding["message"], finding["message"]
    control = run_site(server, "--ignore-robots")
    assert server.hits("/img/og.png") >= 1
    assert_case(control, {}, audited=["/hostile"], not_audited=())


def test_a_feed_under_disallow_is_not_fetched(scripted_server) -> None:
    server = scripted_server(site_routes(**{
        "/private/feed.xml": Reply(200, {"content-type": "application/rss+xml"},
                                   '<rss version="2.0"><channel><title>t</title></channel></rss>'),
        "/robots.txt": _robots("User-agent: smo-audit\nDisallow: /private/\n"),
    }))
    _page_with(server, '<link rel="alternate" type="application/rss+xml" href="/private/feed.xml">')
    outcome = run_site(server)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert server.hits("/private/feed.xml") == 0
    control = run_site(server, "--ignore-robots")
    assert server.hits("/private/feed.xml") >= 1
    assert_case(control, {}, audited=["/hostile"], not_audited=())


def _agents(server: ScriptedServer) -> set[str]:
    return {r.user_agent.split("/", 1)[0].lower() for r in server.requests if r.path != "/robots.txt"}


def test_no_request_as_a_social_bot_that_robots_txt_disallows(scripted_server) -> None:
    server = scripted_server(site_routes(**{"/robots.txt": _robots(
        "User-agent: facebookexternalhit\nDisallow: /\n\nUser-agent: Twitterbot\nDisallow: /\n\n"
        "User-agent: *\nAllow: /\n")}))
    server.routes["/hostile"] = html("<title>Bots disallowed</title>")
    outcome = run_site(server)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    agents = _agents(server)
    assert "facebookexternalhit" not in agents and "twitterbot" not in agents, agents


def test_social_bots_are_asked_when_robots_txt_lets_them_in(scripted_server) -> None:
    # The control of the test above: same site, robots.txt allowing everyone.
    server = scripted_server(site_routes(**{"/hostile": html("<title>Bots welcome</title>")}))
    outcome = run_site(server)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert "facebookexternalhit" in _agents(server)


# -- redirect hops: an allowed URL redirecting into a Disallow'd path is refused at the hop ------

def test_an_og_image_redirecting_into_a_disallowed_path_is_not_fetched(scripted_server) -> None:
    server = scripted_server(site_routes(**{"/img/og.png": redirect("/private/og.png", 302),
                                            "/private/og.png": png(1200, 630),
                                            "/robots.txt": _robots("User-agent: *\nDisallow: /private/\n")}))
    _page_with(server, f'<meta property="og:title" content="H"><meta property="og:image" content="{server.url("/img/og.png")}">')
    outcome = run_site(server)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())  # the refusal is the page's finding
    assert server.hits("/img/og.png") >= 1 and server.hits("/private/og.png") == 0
    finding = next(f for f in outcome.pages["/hostile"]["findings"] if f["rule"] == "og-image-reachable")
    assert finding["status"] == "skip" and "robots.txt disallows it" in finding["message"], finding["message"]
    control = run_site(server, "--ignore-robots")
    assert server.hits("/private/og.png") >= 1, "control: without robots the hop is followed"
    assert_case(control, {}, audited=["/hostile"], not_audited=())


def test_a_feed_redirecting_into_a_disallowed_path_is_not_fetched(scripted_server) -> None:
    server = scripted_server(site_routes(**{
        "/feed.xml": redirect("/private/feed.xml", 301),
        "/private/feed.xml": Reply(200, {"content-type": "application/rss+xml"},
                                   '<rss version="2.0"><channel><title>t</title></channel></rss>'),
        "/robots.txt": _robots("User-agent: smo-audit\nDisallow: /private/\n"),
    }))
    _page_with(server, '<link rel="alternate" type="application/rss+xml" href="/feed.xml">')
    outcome = run_site(server)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert server.hits("/feed.xml") >= 1 and server.hits("/private/feed.xml") == 0
    control = run_site(server, "--ignore-robots")
    assert server.hits("/private/feed.xml") >= 1
    assert_case(control, {}, audited=["/hostile"], not_audited=())


def test_an_icon_redirecting_into_a_disallowed_path_is_not_fetched(scripted_server) -> None:
    # No page names an icon, so the site's /favicon.ico is requested: it redirects under a Disallow.
    server = scripted_server(site_routes(**{
        "/favicon.ico": redirect("/private/favicon.ico", 302),
        "/private/favicon.ico": Reply(200, {"content-type": "image/x-icon"}, b"\x00\x00\x01\x00"),
        "/robots.txt": _robots("User-agent: *\nDisallow: /private/\n"),
    }))
    server.routes["/hostile"] = html("<title>No icon</title>")
    outcome = run_site(server)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert server.hits("/favicon.ico") >= 1 and server.hits("/private/favicon.ico") == 0
    control = run_site(server, "--ignore-robots")
    assert server.hits("/private/favicon.ico") >= 1
    assert_case(control, {}, audited=["/hostile"], not_audited=())


def _bots_redirected(server: ScriptedServer) -> None:
    """Every page answers facebookexternalhit and Twitterbot with a redirect under /for-bots/."""
    for path in ("/", "/a", "/b", "/hostile"):
        page = server.routes[path]
        assert not callable(page)
        server.routes[path] = by_user_agent({"facebookexternalhit": redirect(f"/for-bots{path}", 302),
                                             "twitterbot": redirect(f"/for-bots{path}", 302)}, default=page)
    server.routes["/for-bots*"] = html("<title>bots</title>")


def _bot_hop_hits(server: ScriptedServer) -> int:
    return sum(1 for r in server.requests if r.path.startswith("/for-bots"))


def test_a_bot_fetch_redirecting_where_robots_txt_keeps_that_bot_out_is_refused(scripted_server) -> None:
    server = scripted_server(site_routes(**{"/hostile": html("<title>Bots redirected</title>"), "/robots.txt": _robots(
        "User-agent: facebookexternalhit\nDisallow: /for-bots/\n\nUser-agent: Twitterbot\nDisallow: /for-bots/\n\n"
        "User-agent: *\nAllow: /\n")}))
    _bots_redirected(server)
    outcome = run_site(server)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert "facebookexternalhit" in _agents(server), "the bots were not asked at all: the case proves nothing"
    assert _bot_hop_hits(server) == 0, [r.target for r in server.requests if r.path.startswith("/for-bots")]
    control = run_site(server, "--ignore-robots")
    assert _bot_hop_hits(server) >= 1
    assert_case(control, {}, audited=["/hostile"], not_audited=())


def _crawler_hits(server: ScriptedServer, path: str) -> int:
    """Requests for `path` as smo-audit (the site rules' social-bot fetches of a sample of pages
    are not counted: which pages they sample depends on the order pages finished in)."""
    return sum(1 for r in server.requests_for(path) if r.user_agent.startswith("smo-audit"))


def test_a_page_redirecting_to_another_origin_obeys_that_origins_robots_txt(scripted_server) -> None:
    # --scope domain admits every port of 127.0.0.1: /hostile redirects to another origin in scope
    # whose robots.txt (not read yet when the redirect comes) disallows the target.
    other = scripted_server({"/private/page": html("<title>Other private</title>"), "/open/page": html("<title>Open</title>"),
                             "/robots.txt": _robots("User-agent: *\nDisallow: /private/\n")})
    server = scripted_server(site_routes(**{"/hostile": redirect(other.url("/private/page"), 302)}))
    outcome = run_site(server, "--scope", "domain")
    assert_case(outcome, {"/hostile": ["robots-disallowed"]})
    assert other.hits("/robots.txt") == 1 and other.hits("/private/page") == 0, other.paths()
    assert "/private/page" in outcome.errors[0]["message"]
    # An allowed target on the same origin is followed and audited once its robots.txt is known.
    server.routes["/hostile"] = redirect(other.url("/open/page"), 302)
    allowed = run_site(server, "--scope", "domain")
    assert _crawler_hits(other, "/open/page") == 1
    assert_case(allowed, {}, not_audited=())
    assert [p["final_url"] for p in allowed.report["pages"] if p["url"].endswith("/hostile")] == [other.url("/open/page")]
    server.routes["/hostile"] = redirect(other.url("/private/page"), 302)
    control = run_site(server, "--scope", "domain", "--ignore-robots")
    assert_case(control, {}, not_audited=())
    assert _crawler_hits(other, "/private/page") == 1, "control: without robots the hop is followed"


def test_an_account_page_redirecting_under_a_disallow_is_not_followed(scripted_server) -> None:
    # Account pages outside the crawl's scope are audited as explicit pages (they follow redirects
    # anywhere); here /login, outside --scope prefix /app/, redirects into a Disallow'd path.
    server = scripted_server({
        "/app/": html(home("/app/a", "/login")), "/app/a": plain("Page A"),
        "/login": redirect("/private/login", 302), "/private/login": html("<title>Private login</title>"),
        "/robots.txt": _robots("User-agent: *\nDisallow: /private/\n"),
    })
    outcome = run_site(server, "--scope", "prefix", path="/app/")
    assert_case(outcome, {"/login": ["robots-disallowed"]}, siblings=("/app/", "/app/a"), not_audited=("/login",))
    assert server.hits("/login") >= 1 and server.hits("/private/login") == 0, server.paths()
    control = run_site(server, "--scope", "prefix", "--ignore-robots", path="/app/")
    assert_case(control, {}, audited=["/login"], siblings=("/app/", "/app/a"), not_audited=())
    assert server.hits("/private/login") >= 1, "control: without robots the account page's redirect is followed"


def test_a_start_url_redirecting_under_another_origins_disallow_is_not_followed(scripted_server) -> None:
    # The start URL (http -> https, example.com -> www.) lands on another origin: its robots.txt is
    # read before the hop is requested, and a Disallow'd landing ends the audit like a Disallow'd start.
    other = scripted_server({"/private/home": html("<title>Private home</title>"),
                             "/open/home": html(home("/open/a")), "/open/a": plain("Open A"),
                             "/robots.txt": _robots("User-agent: *\nDisallow: /private/\n")})
    server = scripted_server(site_routes(**{"/": redirect(other.url("/private/home"), 301)}))
    outcome = run_site(server)
    assert outcome.code == 3, (outcome.code, outcome.stderr)
    assert "Traceback" not in outcome.stderr
    assert "/private/home" in outcome.stderr and "robots.txt" in outcome.stderr, outcome.stderr
    assert other.hits("/robots.txt") == 1 and other.hits("/private/home") == 0, other.paths()
    # An allowed landing is audited, with the pages it links to.
    server.routes["/"] = redirect(other.url("/open/home"), 301)
    allowed = run_site(server)
    assert allowed.code == 0, allowed.stderr
    assert {p["url"] for p in allowed.report["pages"]} == {server.url("/"), other.url("/open/a")}
    server.routes["/"] = redirect(other.url("/private/home"), 301)
    control = run_site(server, "--ignore-robots")
    assert control.code == 0, control.stderr
    assert other.hits("/private/home") >= 1, "control: without robots the start's redirect is followed"


def _sitemap(*locs: str) -> Reply:
    urls = "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
    return Reply(200, {"content-type": "application/xml"},
                 f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>')


def test_a_sitemap_redirecting_under_a_disallow_or_off_site_is_not_followed(scripted_server) -> None:
    other = scripted_server({"/sitemap.xml": _sitemap("/x"), "/robots.txt": _robots("User-agent: *\nAllow: /\n")})
    server = scripted_server(site_routes(**{
        "/hostile": plain("Linked page"), "/named.xml": redirect("/private/sitemap.xml", 302),
        "/away.xml": redirect(other.url("/sitemap.xml"), 302),
        "/sitemap.xml": redirect("/private/guess.xml", 302),
        "/private/sitemap.xml": _sitemap("/from-private"), "/private/guess.xml": _sitemap("/from-guess"),
    }))
    base = server.base_url
    server.routes["/robots.txt"] = _robots(f"User-agent: *\nDisallow: /private/\n\nSitemap: {base}/named.xml\n"
                                           f"Sitemap: {base}/away.xml\n")
    outcome = run_site(server)
    # Named sitemaps that stop at a hop are reported; the guessed /sitemap.xml is skipped quietly.
    assert_case(outcome, {"/named.xml": ["sitemap"], "/away.xml": ["sitemap"]}, not_audited=())
    assert server.hits("/private/sitemap.xml") == 0 and server.hits("/private/guess.xml") == 0, server.paths()
    assert other.hits("/sitemap.xml") == 0 and other.hits("/robots.txt") == 0, other.paths()
    assert all("outside the crawl or disallowed" in e["message"] for e in outcome.errors), outcome.errors
    control = run_site(server, "--ignore-robots")
    assert server.hits("/private/sitemap.xml") >= 1 and server.hits("/private/guess.xml") >= 1
    assert_case(control, {"/away.xml": ["sitemap"]}, not_audited=())
    assert other.hits("/sitemap.xml") == 0, "off-site sitemaps are never read, robots or not"
