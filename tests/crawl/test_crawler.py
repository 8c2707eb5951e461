"""The crawler end to end over real loopback HTTP: what reaches on_page, on_error, on_duplicate.

The first half crawls one fixture site (fixtures/crawl/site plus scripted behaviour: redirects,
a loop, a 404, a 500 and a 429 that recover, a slow page, a huge page, an endless calendar) once
per module and checks each behaviour in its own test. The second half are small focused crawls.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from smo_audit.crawl.crawler import Crawler, CrawlSettings, CrawlSummary, ProgressInfo
from smo_audit.crawl.fetcher import Fetcher, FetchLimits
from smo_audit.crawl.models import PageLinks, RawPage, RawResponse, Redirect
from smo_audit.errors import TargetError
from smo_audit.extract.decode import decode_html
from tests.crawl._helpers import FIXTURES, Recorder, page_links, static_routes
from tests.support.scripted_server import (
    Reply,
    Request,
    RouteResult,
    ScriptedServer,
    fail_then,
    html,
    redirect,
    text,
)

Start = Callable[..., ScriptedServer]
LIMITS = FetchLimits(connect_timeout=1.0, read_timeout=0.5, total_timeout=1.0, max_body_bytes=64 * 1024)


def _settings(start: str, **overrides: object) -> CrawlSettings:
    options: dict[str, object] = {"limits": LIMITS, "retry_backoff": 0.05, "concurrency": 4, "per_host": 4}
    options.update(overrides)
    return CrawlSettings(start, **options)  # type: ignore[arg-type]


async def _crawl(settings: CrawlSettings, recorder: Recorder | None = None, **crawler_options: object) -> tuple[Recorder, CrawlSummary]:
    recorder = recorder or Recorder()
    async with Fetcher(settings.user_agent, settings.limits) as fetcher:
        crawler = Crawler(settings, fetcher, **crawler_options)  # type: ignore[arg-type]
        summary = await crawler.run(recorder.on_page, recorder.on_error, recorder.on_duplicate)
    return recorder, summary


# -- the fixture site -----------------------------------------------------------------------------


def _calendar(request: Request) -> RouteResult:
    year, month = map(int, request.query_params.get("month", "2024-01").split("-"))
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return html(f'<h1>Calendar</h1><a href="/calendar?month={year}-{month:02d}">Next month</a>')


@dataclass
class SiteCrawl:
    server: ScriptedServer
    base: str
    recorder: Recorder
    summary: CrawlSummary
    seconds: float

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
def site() -> Iterator[SiteCrawl]:
    server = ScriptedServer().start()
    base = server.base_url
    routes: dict[str, object] = dict(static_routes(FIXTURES / "site", base))
    sitemap = routes.pop("/sitemap-pages.xml")
    assert isinstance(sitemap, Reply) and isinstance(sitemap.body, bytes)
    cyrillic = routes["/cyrillic.html"]
    assert isinstance(cyrillic, Reply)
    routes.update({
        "/sitemap-pages.xml.gz": Reply(200, {"content-type": "application/gzip"}, gzip.compress(sitemap.body)),
        "/cyrillic.html": Reply(200, {"content-type": "text/html; charset=windows-1251"}, cyrillic.body),
        "/old-post": redirect("/older-post", 301),
        "/older-post": redirect("/new-post.html", 302),
        # answers late so that /about (linked first) is surely audited before it
        "/moved-about": Reply(301, {"location": "/about"}, delay=0.3),
        "/loop-a": redirect("/loop-b"),
        "/loop-b": redirect("/loop-a"),
        "/flaky": fail_then([Reply(500, {"content-type": "text/html"}, "oops")], html("<p>Recovered</p>")),
        "/busy": fail_then([Reply(429, {"retry-after": "1"}, "slow down")], html("<p>Served</p>")),
        "/data": text('{"not": "html"}', "application/json"),
        "/report.pdf": Reply(200, {"content-type": "application/pdf"}, b"%PDF-1.4"),
        "/huge": html("<p>" + "x" * 70_000 + "</p>"),
        "/slow": Reply(200, {"content-type": "text/html"}, "<p>late</p>", delay=2.0),
        "/calendar": _calendar,
    })
    server.routes.update(routes)  # type: ignore[arg-type]
    started = time.monotonic()
    recorder, summary = asyncio.run(_crawl(_settings(base + "/", max_depth=4)))
    seconds = time.monotonic() - started
    try:
        yield SiteCrawl(server, base, recorder, summary, seconds)
    finally:
        server.stop()


def test_exactly_the_html_pages_reach_on_page(site: SiteCrawl) -> None:
    assert site.recorder.paths(site.base) == {
        "/", "/about", "/blog/", "/blog/post-1.html", "/old-post", "/flaky", "/busy",
        "/cyrillic.html", "/broken-utf8.html", "/print/about.html", "/orphan.html",
        "/calendar?month=2024-01", "/calendar?month=2024-02", "/calendar?month=2024-03",
        "/calendar?month=2024-04",
    }
    assert site.summary.pages_fetched == len(site.recorder.pages)
    for page in site.recorder.pages.values():
        assert page.response.status < 400
        assert page.response.content_type == "text/html"


def test_errors_are_data_with_kinds(site: SiteCrawl) -> None:
    assert site.recorder.error_kinds(site.base) == {
        "/private/secret.html": "robots-disallowed",
        "/loop-a": "redirect-loop",
        "/missing": "http-status",
        "/huge": "too-large",
        "/slow": "timeout",
        "/calendar?month=2024-05": "max-depth",
    }
    missing = next(e for e in site.recorder.errors if e.url.endswith("/missing"))
    assert missing.status == 404
    assert missing.referrer == site.url("/")
    assert "404" in missing.message
    assert site.summary.errors == len(site.recorder.errors)


def test_tracking_params_and_fragments_never_refetch(site: SiteCrawl) -> None:
    # Linked three ways from the home page and once (with utm_campaign) from the sitemap.
    assert site.server.hits("/blog/post-1.html") == 1
    assert site.server.hits("/about") == 1
    assert site.server.hits("/robots.txt") == 1
    assert all("utm_" not in t and "fbclid" not in t for t in site.server.paths())


def test_disallowed_section_is_not_requested(site: SiteCrawl) -> None:
    assert site.server.hits("/private/secret.html") == 0
    assert site.summary.robots_txt is not None and "Disallow: /private/" in site.summary.robots_txt
    assert site.summary.robots_url == site.url("/robots.txt")


def test_redirect_chain_is_handed_over(site: SiteCrawl) -> None:
    page = site.recorder.pages[site.url("/old-post")]
    assert page.final_url == site.url("/new-post.html")
    assert page.response.redirects == (Redirect(site.url("/old-post"), 301), Redirect(site.url("/older-post"), 302))
    assert b"Where /old-post ends up" in page.response.body


def test_duplicates_redirect_and_canonical(site: SiteCrawl) -> None:
    assert sorted(site.recorder.duplicates) == [
        (site.url("/moved-about"), site.url("/about")),  # redirect to an audited page
        (site.url("/print/about.html"), site.url("/about")),  # rel=canonical to an audited page
    ]
    assert site.url("/moved-about") not in site.recorder.pages
    assert site.server.hits("/moved-about") == 1
    assert site.summary.duplicates == 2


def test_500_recovers_on_retry(site: SiteCrawl) -> None:
    assert site.server.hits("/flaky") == 2
    assert b"Recovered" in site.recorder.pages[site.url("/flaky")].response.body


def test_429_waits_for_retry_after(site: SiteCrawl) -> None:
    first, second = site.server.requests_for("/busy")
    assert second.time - first.time >= 0.95
    assert b"Served" in site.recorder.pages[site.url("/busy")].response.body


def test_non_html_is_skipped_silently_and_assets_are_not_requested(site: SiteCrawl) -> None:
    assert site.server.hits("/data") == 1
    assert site.server.hits("/report.pdf") == 0
    assert site.summary.non_html_skipped == 1


def test_out_of_scope_links_are_ignored(site: SiteCrawl) -> None:
    assert not any("elsewhere.invalid" in e.url for e in site.recorder.errors)


def test_windows_1251_page_keeps_its_bytes_and_charset(site: SiteCrawl) -> None:
    page = site.recorder.pages[site.url("/cyrillic.html")]
    assert page.response.charset == "windows-1251"
    text_, encoding = decode_html(page.response.body, page.response.charset)
    assert "Привет, мир!" in text_
    assert encoding == "cp1251"


def test_invalid_utf8_page_is_handed_over_not_dropped(site: SiteCrawl) -> None:
    page = site.recorder.pages[site.url("/broken-utf8.html")]
    assert b"\xff\xfe" in page.response.body
    text_, _ = decode_html(page.response.body, page.response.charset)
    assert "\ufffd" in text_ and "café" in text_


def test_calendar_trap_stops_at_max_depth_and_is_reported(site: SiteCrawl) -> None:
    depths = {p.url.removeprefix(site.base): p.depth for p in site.recorder.pages.values() if "calendar" in p.url}
    assert depths == {f"/calendar?month=2024-0{m}": m for m in range(1, 5)}
    assert site.server.hits("/calendar") == 4
    assert site.summary.partial is True
    assert site.summary.stop_reason == "max-depth"
    (trap,) = site.summary.traps
    assert (trap.reason, trap.pattern, trap.example) == ("max-depth", "/calendar?month", site.url("/calendar?month=2024-05"))


def test_sitemaps_seed_the_frontier(site: SiteCrawl) -> None:
    assert site.summary.sitemaps == (site.url("/sitemap_index.xml"), site.url("/sitemap-pages.xml.gz"))
    assert (site.url("/about"), "2024-05-01") in site.summary.sitemap_lastmod
    orphan = site.recorder.pages[site.url("/orphan.html")]
    assert orphan.depth == 1
    assert orphan.referrer == site.url("/sitemap-pages.xml.gz")
    # /sitemap.xml was probed (not in robots.txt) and its 404 is not an error
    assert site.server.hits("/sitemap.xml") == 1


def test_depth_and_referrer(site: SiteCrawl) -> None:
    pages = site.recorder.pages
    assert pages[site.url("/")].depth == 0 and pages[site.url("/")].referrer is None
    assert pages[site.url("/about")].depth == 1
    assert pages[site.url("/about")].referrer == site.url("/")


def test_the_site_crawl_is_quick(site: SiteCrawl) -> None:
    # 1 s of Retry-After and a 1 s timeout run in parallel with everything else.
    assert site.seconds < 4.0


# -- the start URL --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("routes", "fragment"),
    [
        ({"/": html("gone", status=404)}, "HTTP 404 Not Found"),
        ({"/": text("%PDF", "application/pdf")}, "application/pdf, not an HTML page"),
        ({"/robots.txt": text("User-agent: *\nDisallow: /\n"), "/": html("hi")}, "--ignore-robots"),
        ({"/": redirect("/b"), "/b": redirect("/")}, "redirects in a loop"),
        ({"/": Reply(503, {"retry-after": "0"}, "down")}, "HTTP 503"),
    ],
)
async def test_start_url_failure_raises_target_error(scripted_server: Start, routes: dict[str, Reply], fragment: str) -> None:
    server = scripted_server(routes)
    with pytest.raises(TargetError) as caught:
        await _crawl(_settings(server.url("/"), retries=1))
    message = str(caught.value)
    assert fragment in message
    assert message.endswith(".") and "\n" not in message


async def test_unreachable_start_url_raises_target_error() -> None:
    server = ScriptedServer().start()
    url = server.url("/")
    server.stop()  # nothing listens there any more
    with pytest.raises(TargetError, match=r"^Could not connect to http://127\.0\.0\.1:"):
        await _crawl(_settings(url, retries=0))


async def test_start_redirect_to_another_host_moves_the_scope(scripted_server: Start) -> None:
    www = scripted_server({"/": html('<a href="/page">page</a>'), "/page": html("<p>page</p>")})
    bare = scripted_server({"/": redirect(www.url("/")), "/other": html("never")})
    recorder, summary = await _crawl(_settings(bare.url("/")))
    assert recorder.paths(www.base_url) == {bare.url("/").removeprefix(www.base_url), "/page"}
    assert summary.start_final_url == www.url("/")
    assert www.hits("/page") == 1
    assert www.hits("/robots.txt") == 1  # the new host's robots.txt is read too


# -- bounds ---------------------------------------------------------------------------------------


def _chain_site(pages: int) -> dict[str, Reply]:
    routes = {f"/p{i}": html("".join(f'<a href="/p{j}">{j}</a>' for j in range(pages))) for i in range(pages)}
    routes["/"] = routes["/p0"]
    return routes


async def test_max_pages_bounds_requests_and_marks_partial(scripted_server: Start) -> None:
    server = scripted_server(_chain_site(40))
    recorder, summary = await _crawl(_settings(server.url("/"), max_pages=10))
    page_requests = [t for t in server.paths() if t.startswith(("/p", "/?")) or t == "/"]
    assert len(page_requests) == 10
    assert len(recorder.pages) == 10
    assert summary.partial and summary.stop_reason == "max-pages"


async def test_whole_small_site_is_not_partial(scripted_server: Start) -> None:
    server = scripted_server(_chain_site(5))
    recorder, summary = await _crawl(_settings(server.url("/")))
    assert len(recorder.pages) == 6
    assert summary.partial is False and summary.stop_reason is None and summary.traps == ()


async def test_include_exclude_and_host_scope(scripted_server: Start) -> None:
    other = scripted_server({"/": html("other host")})
    server = scripted_server({
        "/": html(f'<a href="/blog/a">a</a><a href="/blog/drafts/b">b</a><a href="/shop/c">c</a>'
                  f'<a href="{other.url("/")}">other</a>'),
        "/blog/a": html("a"), "/blog/drafts/b": html("b"), "/shop/c": html("c"),
    })
    recorder, _ = await _crawl(_settings(server.url("/"), include=("/blog/*",), exclude=("*/drafts/*",)))
    assert recorder.paths(server.base_url) == {"/", "/blog/a"}
    assert other.hits("/") == 0


async def test_prefix_scope(scripted_server: Start) -> None:
    server = scripted_server({
        "/docs/": html('<a href="intro">i</a><a href="/blog/">b</a><a href="/">home</a>'),
        "/docs/intro": html("intro"), "/blog/": html("blog"), "/": html("home"),
    })
    recorder, _ = await _crawl(_settings(server.url("/docs/"), scope="prefix", use_sitemaps=False))
    assert recorder.paths(server.base_url) == {"/docs/", "/docs/intro"}


async def test_ever_growing_path_is_a_trap(scripted_server: Start) -> None:
    # A relative link resolved against its own page: /a/ -> /a/a/ -> /a/a/a/ ...
    server = scripted_server({"/": html('<a href="a/">deeper</a>'), "/a/*": html('<a href="a/">deeper</a>')})
    recorder, summary = await _crawl(_settings(server.url("/")))
    assert recorder.paths(server.base_url) == {"/", "/a/", "/a/a/"}
    assert summary.stop_reason == "trap"
    assert [e.kind for e in recorder.errors] == ["crawl-trap"]
    assert recorder.errors[0].url == server.url("/a/a/a/")


async def test_session_ids_in_urls(scripted_server: Start) -> None:
    counter = iter(range(10_000))

    def shop(request: Request) -> RouteResult:
        # A new session id on every answer: each page links to a "new" URL forever.
        return html(f'<a href="/shop?session={next(counter)}">shop</a><a href="/cart;jsessionid={next(counter)}">cart</a>')

    server = scripted_server({"/": shop, "/shop": shop, "/cart": html("cart")})
    _, summary = await _crawl(_settings(server.url("/"), max_depth=3))
    assert server.hits("/cart") == 1  # ;jsessionid= is stripped: one cart, however many ids
    assert server.hits("/shop") == 3  # the unknown "session" parameter: bounded by depth
    assert summary.stop_reason == "max-depth"
    assert [(t.reason, t.pattern) for t in summary.traps] == [("max-depth", "/shop?session")]


# -- politeness -----------------------------------------------------------------------------------


async def test_ignore_robots(scripted_server: Start) -> None:
    server = scripted_server({"/robots.txt": text("User-agent: *\nDisallow: /x\n"),
                              "/": html('<a href="/x">x</a>'), "/x": html("x")})
    recorder, summary = await _crawl(_settings(server.url("/"), respect_robots=False))
    assert recorder.paths(server.base_url) == {"/", "/x"}
    assert summary.robots_txt is not None  # still read: site rules check social bots against it


async def test_robots_disallowed_redirect_target_is_not_followed(scripted_server: Start) -> None:
    server = scripted_server({"/robots.txt": text("User-agent: *\nDisallow: /x\n"),
                              "/": html('<a href="/go">go</a>'), "/go": redirect("/x"), "/x": html("x")})
    recorder, _ = await _crawl(_settings(server.url("/")))
    assert server.hits("/x") == 0
    assert recorder.error_kinds(server.base_url) == {"/go": "robots-disallowed"}


async def test_crawl_delay_spaces_requests(scripted_server: Start) -> None:
    server = scripted_server({"/robots.txt": text("User-agent: *\nCrawl-delay: 0.2\n"), **_chain_site(3)})
    recorder, _ = await _crawl(_settings(server.url("/"), use_sitemaps=False))
    assert len(recorder.pages) == 4
    starts = sorted(r.time for r in server.requests if r.path != "/robots.txt")
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # Server-side arrival times jitter by a few scheduler ticks on a loaded machine (0.17 s was seen
    # with 5 jobs on 2 cores); without the delay the gaps are milliseconds.
    assert min(gaps) >= 0.15


async def test_per_host_limit(scripted_server: Start) -> None:
    routes: dict[str, Reply] = {f"/p{i}": Reply(200, {"content-type": "text/html"}, "p", delay=0.15) for i in range(8)}
    routes["/"] = html("".join(f'<a href="/p{i}">{i}</a>' for i in range(8)))
    server = scripted_server(routes)
    await _crawl(_settings(server.url("/"), concurrency=8, per_host=2, use_sitemaps=False))
    starts = sorted(r.time for r in server.requests if r.path.startswith("/p"))
    assert len(starts) == 8
    # no three requests in flight at once: any three starts span at least one 0.15 s reply
    assert all(c - a >= 0.14 for a, c in zip(starts, starts[2:], strict=False))


async def test_retries_are_bounded_in_count(scripted_server: Start) -> None:
    server = scripted_server({"/": html('<a href="/down">down</a>'), "/down": Reply(503, {}, "down")})
    recorder, _ = await _crawl(_settings(server.url("/"), retries=2))
    assert server.hits("/down") == 3
    (error,) = recorder.errors
    assert (error.kind, error.status) == ("http-status", 503)


async def test_retry_after_longer_than_allowed_is_not_waited_for(scripted_server: Start) -> None:
    server = scripted_server({"/": html('<a href="/later">later</a>'), "/later": Reply(429, {"retry-after": "120"}, "")})
    started = time.monotonic()
    recorder, _ = await _crawl(_settings(server.url("/"), max_retry_wait=5))
    assert time.monotonic() - started < 2
    assert server.hits("/later") == 1
    (error,) = recorder.errors
    assert error.status == 429 and "retry after 120 s" in error.message


async def test_dropped_connection_is_retried(scripted_server: Start) -> None:
    server = scripted_server({"/": html('<a href="/wobbly">w</a>'),
                              "/wobbly": fail_then([Reply(drop=True)], html("<p>fine</p>"))})
    recorder, _ = await _crawl(_settings(server.url("/")))
    assert server.hits("/wobbly") == 2
    assert recorder.errors == []
    assert server.url("/wobbly") in recorder.pages


# -- the pipeline's side --------------------------------------------------------------------------


async def test_on_page_failure_is_reported_and_the_crawl_goes_on(scripted_server: Start) -> None:
    server = scripted_server({"/": html('<a href="/bad">b</a><a href="/good">g</a>'), "/bad": html("b"), "/good": html("g")})

    class Picky(Recorder):
        async def on_page(self, page: RawPage) -> PageLinks:
            if page.url.endswith("/bad"):
                raise RuntimeError("extractor exploded")
            return await super().on_page(page)

    recorder, summary = await _crawl(_settings(server.url("/")), Picky())
    assert recorder.paths(server.base_url) == {"/", "/good"}
    assert [(e.kind, e.url) for e in recorder.errors] == [("processing", server.url("/bad"))]
    assert "extractor exploded" in recorder.errors[0].message
    assert summary.pages_fetched == 3  # /bad was handed over; it is the pipeline that failed


async def test_cancellation_returns_a_partial_summary(scripted_server: Start) -> None:
    routes: dict[str, Reply] = {f"/p{i}": Reply(200, {"content-type": "text/html"}, "p", delay=0.5) for i in range(20)}
    routes["/"] = html("".join(f'<a href="/p{i}">{i}</a>' for i in range(20)))
    server = scripted_server(routes)
    recorder = Recorder()

    async def crawl_then_keep_working() -> tuple[Recorder, CrawlSummary]:
        result = await _crawl(_settings(server.url("/"), use_sitemaps=False, limits=FetchLimits(1, 2, 3)), recorder)
        current = asyncio.current_task()
        assert current is not None and current.cancelling() == 0  # the crawler uncancelled us
        await asyncio.sleep(0.01)  # the caller goes on (writes the partial report)
        return result

    task = asyncio.create_task(crawl_then_keep_working())
    async with asyncio.timeout(5):
        while not recorder.pages:
            await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)
    task.cancel()
    _, summary = await task
    assert not task.cancelled()
    assert summary.partial and summary.stop_reason == "cancelled"
    assert summary.pages_fetched == len(recorder.pages) >= 1
    assert server.url("/") in recorder.pages


async def test_canonical_target_is_queued_and_fetched_once(scripted_server: Start) -> None:
    server = scripted_server({
        "/": html('<a href="/list?sort=asc">asc</a><a href="/list?sort=desc">desc</a>'),
        "/list": html('<link rel="canonical" href="/list"><p>list</p>'),
        "/list?sort=asc": html('<link rel="canonical" href="/list"><p>list</p>'),
        "/list?sort=desc": html('<link rel="canonical" href="/list"><p>list</p>'),
    })
    recorder, _ = await _crawl(_settings(server.url("/")))
    assert [r.target for r in server.requests if r.path == "/list"].count("/list") == 1
    assert sorted(recorder.duplicates) == [
        (server.url("/list?sort=asc"), server.url("/list")),
        (server.url("/list?sort=desc"), server.url("/list")),
    ]


async def test_canonical_cycles_are_not_duplicates(scripted_server: Start) -> None:
    server = scripted_server({
        "/": html('<a href="/a">a</a><a href="/b">b</a>'),
        "/a": html('<link rel="canonical" href="/b">'),
        "/b": html('<link rel="canonical" href="/a">'),
    })
    recorder, _ = await _crawl(_settings(server.url("/")))
    assert recorder.duplicates == []
    assert recorder.paths(server.base_url) == {"/", "/a", "/b"}


async def test_extra_seeds_progress_and_explicit_not_html(scripted_server: Start) -> None:
    other = scripted_server({"/login": html("<form></form>"), "/api": text("{}", "application/json")})
    server = scripted_server({"/": html("<p>home</p>")})
    updates: list[ProgressInfo] = []
    recorder, summary = await _crawl(
        _settings(server.url("/"), extra_seeds=(other.url("/login"), other.url("/api"))),
        on_progress=updates.append,
    )
    assert other.url("/login") in recorder.pages  # out of scope, audited because asked for
    assert recorder.error_kinds(other.base_url) == {"/api": "not-html"}  # asked for: an error
    assert updates[0].done == 1 and updates[0].pages == 1  # the start page, before the workers
    assert updates[-1].done == 3 and updates[-1].pages == summary.pages_fetched == 2
    assert updates[-1].errors == 1 and updates[-1].queued == 0


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        CrawlSettings("http://x.org/", max_pages=0)
    with pytest.raises(ValueError):
        CrawlSettings("http://x.org/", scope="planet")  # type: ignore[arg-type]


def test_page_links_helper_matches_the_pipeline_contract() -> None:
    response_page = RawPage(RawResponse(
        "http://x.org/a/", "http://x.org/a/", 200, {"content-type": "text/html"},
        b'<link rel=Canonical href="/c"><a href="b">b</a><a href="">e</a>',
    ))
    links = page_links(response_page)
    assert links.links == ("http://x.org/a/b",)
    assert links.canonical == "http://x.org/c"


def _page_hits(server: ScriptedServer, path: str) -> int:
    return sum(1 for r in server.requests if r.path == path and r.method == "GET")


def test_a_redirect_onto_a_page_being_fetched_waits_for_it(scripted_server) -> None:
    """/r redirects to /t while /t (linked from /p) is being fetched: /r is /t's duplicate, and /t
    is fetched once (it used to be fetched a second time by the redirect's chain)."""
    server = scripted_server({
        "/": html('<a href="/p">p</a> <a href="/r">r</a>'),
        "/p": html('<a href="/t">t</a>'),
        "/r": Reply(301, {"location": "/t"}, delay=0.15),  # arrives while /t is still on its way
        "/t": Reply(200, {"content-type": "text/html"}, "<p>target</p>", delay=0.4),
    })
    recorder, _summary = asyncio.run(_crawl(_settings(server.url("/"), use_sitemaps=False)))
    assert recorder.paths(server.base_url) == {"/", "/p", "/t"}
    assert recorder.duplicates == [(server.url("/r"), server.url("/t"))]
    assert _page_hits(server, "/t") == 1
    assert not recorder.errors


def test_two_urls_redirecting_to_each_other_while_both_are_fetched_do_not_wait_forever(scripted_server) -> None:
    """/a redirects to /b and /b to /a, both linked from the home page and fetched at once: neither
    waits for the other (each stops counting as in flight before waiting), the loop is reported."""
    server = scripted_server({
        "/": html('<a href="/a">a</a> <a href="/b">b</a>'),
        "/a": Reply(301, {"location": "/b"}, delay=0.3),
        "/b": Reply(301, {"location": "/a"}, delay=0.3),
    })
    recorder, _summary = asyncio.run(asyncio.wait_for(_crawl(_settings(server.url("/"), use_sitemaps=False)), 30))
    assert recorder.paths(server.base_url) == {"/"}
    assert recorder.error_kinds(server.base_url) == {"/a": "redirect-loop", "/b": "redirect-loop"}


def _moved_slowly(to: str) -> Reply:
    """A redirect whose body drips for ~0.6 s: the chain is stopped (at its Location) at once, but
    its fetch returns only once the body is read, after the page it stopped at is done."""
    return Reply(301, {"location": to, "content-type": "text/html"}, body=[b"<p>moved</p>"] * 6, chunk_delay=0.1)


# (routes besides "/", errors expected by path, duplicates expected by path)
STALE_IN_FLIGHT_CASES = {
    "mutual redirects": (
        {"/a": _moved_slowly("/b"), "/b": Reply(301, {"location": "/a"}, delay=0.2)},
        {"/a": "redirect-loop", "/b": "redirect-loop"}, []),
    "the target answers 404": (
        {"/a": _moved_slowly("/b"), "/b": Reply(404, {"content-type": "text/html"}, "gone", delay=0.2)},
        {"/a": "http-status", "/b": "http-status"}, []),
    "the target redirects on": (
        {"/a": _moved_slowly("/b"), "/b": Reply(301, {"location": "/c"}, delay=0.2), "/c": html("<p>c</p>")},
        {}, [("/a", "/b")]),
}


@pytest.mark.parametrize("case", list(STALE_IN_FLIGHT_CASES))
def test_a_redirect_stopped_at_a_page_whose_fetch_ended_meanwhile_is_followed_again(scripted_server, case: str) -> None:
    """The chain of /a stops at /b while /b is in flight, but /b's fetch is over (not audited as
    /b) before /a's returns: /a's chain is followed to its end, and /a gets what that end says (it
    was reported "robots-disallowed", which no robots.txt said)."""
    routes, errors, duplicates = STALE_IN_FLIGHT_CASES[case]
    server = scripted_server({"/": html('<a href="/a">a</a> <a href="/b">b</a>'), **routes})
    recorder, _summary = asyncio.run(asyncio.wait_for(_crawl(_settings(server.url("/"), use_sitemaps=False)), 30))
    assert recorder.error_kinds(server.base_url) == errors
    base = server.base_url
    assert [(u.removeprefix(base), d.removeprefix(base)) for u, d in recorder.duplicates] == duplicates
