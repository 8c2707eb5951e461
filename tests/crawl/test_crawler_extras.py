"""What the pipeline adds on top of the frontier: account pages outside the scope (PageLinks.extra)
and production URLs rewritten onto a local copy (folder targets with --base-url)."""

from __future__ import annotations

from collections.abc import Callable

from smo_audit.crawl.crawler import Crawler, CrawlSettings
from smo_audit.crawl.fetcher import Fetcher, FetchLimits
from smo_audit.crawl.models import PageLinks, RawPage
from smo_audit.crawl.urls import site_key
from tests.crawl._helpers import Recorder
from tests.support.scripted_server import ScriptedServer, html

Start = Callable[..., ScriptedServer]
LIMITS = FetchLimits(connect_timeout=1.0, read_timeout=1.0, total_timeout=2.0)


class ExtraRecorder(Recorder):
    """Hands every link of a page to the crawler as an account-page candidate."""

    async def on_page(self, page: RawPage) -> PageLinks:
        links = await super().on_page(page)
        return PageLinks(links=links.links, canonical=links.canonical, extra=links.links)


async def test_account_pages_outside_the_scope_are_audited_on_the_same_site_only(scripted_server: Start) -> None:
    server = scripted_server({})
    other_site = server.url("/elsewhere").replace("127.0.0.1", "localhost")
    server.routes.update({
        "/app/": html(f'<a href="/login">l</a><a href="/signup">s</a><a href="/account">a</a><a href="{other_site}">o</a>'),
        "/login": html("login"), "/signup": html("signup"), "/account": html("account"), "/elsewhere": html("x"),
    })
    settings = CrawlSettings(server.url("/app/"), scope="prefix", use_sitemaps=False, limits=LIMITS, max_extra_pages=2)
    recorder = ExtraRecorder()
    async with Fetcher(settings.user_agent, settings.limits) as fetcher:
        await Crawler(settings, fetcher).run(recorder.on_page, recorder.on_error, recorder.on_duplicate)
    paths = recorder.paths(server.base_url)
    assert "/app/" in paths and "/elsewhere" not in paths, "another site is never audited as an account page"
    assert len(paths - {"/app/"}) == 2, f"at most max_extra_pages account pages: {paths}"
    assert paths - {"/app/"} <= {"/login", "/signup", "/account"}


async def test_rewrite_maps_production_urls_onto_the_local_copy(scripted_server: Start) -> None:
    server = scripted_server({
        "/": html('<link rel="canonical" href="https://prod.example/"><a href="https://prod.example/about">a</a>'),
        "/about": html("about"),
    })
    local = server.base_url + "/"

    def rewrite(url: str) -> str:
        return local + url.removeprefix("https://prod.example/") if url.startswith("https://prod.example/") else url

    settings = CrawlSettings(server.url("/"), use_sitemaps=False, limits=LIMITS)
    recorder = Recorder()
    async with Fetcher(settings.user_agent, settings.limits) as fetcher:
        await Crawler(settings, fetcher, rewrite=rewrite).run(recorder.on_page, recorder.on_error, recorder.on_duplicate)
    assert recorder.paths(server.base_url) == {"/", "/about"}
    assert recorder.duplicates == [] and recorder.errors == []


def test_site_key_groups_sibling_hosts() -> None:
    assert site_key("auth.example.com") == site_key("www.example.com") == "example.com"
    assert site_key("shop.example.co.uk") == "example.co.uk"
    assert site_key("example.com:8080") == "example.com"
    assert site_key("127.0.0.1") == "127.0.0.1" and site_key("localhost") == "localhost"
    assert site_key("evil-example.com") != site_key("example.com")
