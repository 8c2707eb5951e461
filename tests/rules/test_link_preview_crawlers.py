"""Social-crawler access rules in scenarios the case tables cannot express: how many requests
the bot checks make, a CDN's own robots.txt, and rendered-mode comparison. Real loopback HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

from smo_audit.config import AuditConfig
from smo_audit.crawl.fetcher import Fetcher
from smo_audit.engine.api import AuditSettings, PageContext, Status
from smo_audit.engine.registry import load_rules
from smo_audit.engine.resources import ResourceCache
from smo_audit.extract import base_facts
from smo_audit.extract.dom import parse_document
from smo_audit.pipeline import Audit, Target
from smo_audit.platforms import platform
from smo_audit.render.compare import script_changes
from smo_audit.render.facts import RenderedPage
from smo_audit.report.model import Report
from tests.rules.link_preview_sites import preview_page
from tests.support.scripted_server import html, png, text


def _run(url: str, **config: Any) -> Report:
    settings = AuditConfig(use_sitemaps=False, timeout=10, retries=0, quiet=True, debug=True, **config)
    return asyncio.run(Audit(Target(url, url=url), settings).run())


def _site_finding(report: Report, rule: str) -> list[tuple[str, str]]:
    return [(f.status, f.message) for f in report.site_findings if f.rule == rule]


def test_bot_cloaking_requests_a_bounded_sample_as_each_bot(scripted_server) -> None:
    server = scripted_server({"/img/share.png": png(1200, 630)})
    links = "".join(f'<a href="/p{i}">p{i}</a>' for i in range(1, 7))
    server.routes["/"] = html(preview_page(server.base_url, "/").replace("<p>Body.</p>", links))
    for i in range(1, 7):
        server.routes[f"/p{i}"] = html(preview_page(server.base_url, f"/p{i}"))
    report = _run(server.url("/"), max_pages=7, select=["bot-cloaking"], rules={"bot-cloaking": {"sample_pages": 2}})
    assert len(report.pages) == 7
    assert _site_finding(report, "bot-cloaking") == [
        ("pass", "2 pages look the same to facebookexternalhit and Twitterbot as to a browser")]
    facebook, x = platform("facebook"), platform("x")
    assert facebook is not None and x is not None
    bot_requests = [(r.path, r.user_agent) for r in server.requests if r.user_agent in (facebook.user_agent, x.user_agent)]
    assert len(bot_requests) == 4, bot_requests
    assert ("/", facebook.user_agent) in bot_requests and ("/", x.user_agent) in bot_requests, "start page first"
    assert facebook.user_agent.startswith("facebookexternalhit/1.1") and x.user_agent == "Twitterbot/1.0"


def test_robots_txt_of_the_image_host_is_read(scripted_server) -> None:
    cdn = scripted_server({
        "/robots.txt": text("User-agent: Twitterbot\nDisallow: /og/\n"),
        "/og/share.png": png(1200, 630),
    })
    site = scripted_server({"/robots.txt": text("User-agent: *\nAllow: /\n")})
    page = preview_page(site.base_url, "/", image="/og/share.png").replace(site.base_url + "/og/", cdn.base_url + "/og/")
    site.routes["/"] = html(page)
    report = _run(site.url("/"), max_pages=1, select=["robots-social-bots"])
    assert _site_finding(report, "robots-social-bots") == [
        ("fail", "robots.txt blocks Twitterbot from 1 preview image (no picture): X previews break")]
    finding = next(f for f in report.site_findings if f.rule == "robots-social-bots")
    assert finding.evidence == [f"og:image: {cdn.base_url}/og/share.png"]
    assert finding.data == {"platform": "x", "token": "Twitterbot", "pages": 0, "images": 1}
    assert cdn.hits("/robots.txt") == 1


def test_no_robots_txt_blocks_nobody(scripted_server) -> None:
    server = scripted_server({"/img/share.png": png(1200, 630)})
    server.routes["/"] = html(preview_page(server.base_url, "/"))
    report = _run(server.url("/"), max_pages=1, select=["robots-social-bots"])
    assert _site_finding(report, "robots-social-bots") == [
        ("pass", "no robots.txt rules apply: social crawlers may fetch everything")]


def test_slack_is_noted_not_failed_because_it_ignores_robots_txt(scripted_server) -> None:
    server = scripted_server({
        "/img/share.png": png(1200, 630),
        "/robots.txt": text("User-agent: Slackbot-LinkExpanding\nDisallow: /\n"),
    })
    server.routes["/"] = html(preview_page(server.base_url, "/"))
    report = _run(server.url("/"), max_pages=1, select=["robots-social-bots"])
    [(status, message)] = _site_finding(report, "robots-social-bots")
    assert status == "pass"
    assert message.endswith("; Slack (Slackbot-LinkExpanding) is disallowed but ignores robots.txt")


async def _rendered_check(server_url: str, raw_html: str, rendered_html: str) -> tuple[Status, str]:
    """The rule over a page whose raw HTML and rendered DOM are given (the render's diff is a pure
    function; tests/render/ drives real Chromium end to end)."""
    doc = parse_document(raw_html, server_url)
    static = base_facts(doc, server_url)
    shown = base_facts(parse_document(rendered_html, server_url), server_url)
    rendered = RenderedPage("rendered", facts=shown, changes=script_changes(static, shown), static=static)
    cache = ResourceCache(Fetcher())
    ctx = PageContext(url=server_url, final_url=server_url, status=200, headers={}, facts=static,
                      doc=doc, options={}, settings=AuditSettings(mode="rendered"), resources=cache,
                      rendered=rendered)
    try:
        outcome = await load_rules().by_id()["js-injected-tags"].check(ctx)
    finally:
        await cache._fetcher.aclose()
    return outcome.status, outcome.message


def test_js_injected_tags_in_rendered_mode(scripted_server) -> None:
    server = scripted_server({"/img/share.png": png(1200, 630)})
    shell = preview_page(server.base_url, "/shell", tags=False)
    # what a browser shows after the app's scripts ran: the tags are there
    rendered = preview_page(server.base_url, "/shell")
    status, message = asyncio.run(_rendered_check(server.url("/shell"), shell, rendered))
    assert status == Status.FAIL
    named = message.split(" exist only", 1)[0].split(", ")
    assert set(named) >= {"og:title", "og:description", "og:image", "og:url", "twitter:card"}
    assert message.endswith("exist only after JavaScript runs: crawlers do not see them")
    ssr = preview_page(server.base_url, "/ssr")
    status, message = asyncio.run(_rendered_check(server.url("/ssr"), ssr, ssr))
    assert (status, message) == (Status.PASS, "every preview tag is in the HTML the server sends, unchanged by scripts")


def _page_finding(report: Report, rule: str, url: str) -> tuple[str, str, list[str]]:
    [finding] = [f for p in report.pages if p.url == url for f in p.findings if f.rule == rule]
    return finding.status, finding.message, list(finding.evidence)


def test_an_icon_link_answered_by_a_catch_all_html_route_is_broken(scripted_server) -> None:
    """Static hosts' single-page-app rewrites answer any path with the home page: the link exists,
    the icon does not. Each icon URL is requested once, however many pages name it."""
    head = '<link rel="icon" href="/favicon.svg"><link rel="apple-touch-icon" href="/touch.png">'
    server = scripted_server({
        "/": html(f"<title>Home</title>{head}<a href='/about'>about</a>"),
        "/about": html(f"<title>About</title>{head}"),
        "/favicon.svg": html("<title>Home</title><div id=app></div>"),  # the catch-all route
        "/touch.png": png(180, 180),
    })
    report = _run(server.url("/"), max_pages=2, select=["site-icons"])
    assert len(report.pages) == 2
    status, message, evidence = _page_finding(report, "site-icons", server.url("/about"))
    assert status == "warn" and message.startswith("broken favicon:"), message
    assert evidence == ["icon /favicon.svg answers an HTML page, not an image", "apple-touch-icon /touch.png"]
    assert server.hits("/favicon.svg") == 1 and server.hits("/touch.png") == 1


def test_icon_links_that_answer_images_pass(scripted_server) -> None:
    server = scripted_server({
        "/": html('<title>Home</title><link rel="icon" href="/favicon.png"><link rel="apple-touch-icon" href="/t.png">'),
        "/favicon.png": png(32, 32),
        "/t.png": png(180, 180),
    })
    report = _run(server.url("/"), max_pages=1, select=["site-icons"])
    status, message, _ = _page_finding(report, "site-icons", server.url("/"))
    assert (status, message) == ("pass", "favicon and apple-touch-icon are present")


def test_fixing_a_broken_icon_raises_the_score_and_never_lowers_it(scripted_server) -> None:
    """The same page with every rule: its favicon URL answering the catch-all HTML page, then the icon."""
    def audit(favicon: Any) -> Report:
        server = scripted_server({
            "/img/share.png": png(1200, 630),
            "/favicon.png": favicon,
            "/t.png": png(180, 180),
        })
        server.routes["/"] = html(preview_page(server.base_url, "/").replace(
            "<head>", '<head><link rel="icon" href="/favicon.png"><link rel="apple-touch-icon" href="/t.png">'))
        return _run(server.url("/"), max_pages=1)

    broken = audit(html("<title>Home</title><div id=app></div>"))
    fixed = audit(png(32, 32))
    assert _page_finding(broken, "site-icons", broken.pages[0].url)[0] == "warn"
    assert _page_finding(fixed, "site-icons", fixed.pages[0].url)[0] == "pass"
    assert broken.pages[0].score is not None and fixed.pages[0].score is not None
    assert fixed.pages[0].score > broken.pages[0].score
    assert fixed.score > broken.score
