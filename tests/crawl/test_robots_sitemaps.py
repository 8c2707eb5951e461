"""robots.txt (RFC 9309 status handling, fetched once) and sitemap parsing (bounded, gz, index)."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable

import pytest

from smo_audit.crawl.fetcher import Fetcher, FetchFailure, FetchLimits
from smo_audit.crawl.models import RawResponse
from smo_audit.crawl.robots import RobotsCache, parse_robots
from smo_audit.crawl.sitemaps import SitemapError, gunzip, parse_sitemap
from tests.support.scripted_server import Reply, ScriptedServer, text

Start = Callable[..., ScriptedServer]
UA = "smo-audit/0.1.0 (+https://github.com/smo-audit/smo-audit)"
ROBOTS = """
User-agent: *
Disallow: /private/
Crawl-delay: 2

User-agent: smo-audit
Disallow: /no-audit/
Allow: /private/ok
Crawl-delay: 0.5

Sitemap: https://example.org/sitemap.xml
"""


def _response(status: int, body: bytes = b"") -> RawResponse:
    return RawResponse("https://example.org/robots.txt", "https://example.org/robots.txt", status, {}, body)


def test_robots_rules_for_our_user_agent() -> None:
    robots = parse_robots("https://example.org/robots.txt", _response(200, ROBOTS.encode()))
    assert not robots.allowed("https://example.org/no-audit/x", UA)
    # the most specific group wins: our group does not disallow /private/
    assert robots.allowed("https://example.org/private/x", UA)
    assert not robots.allowed("https://example.org/private/x", "SomeOtherBot/1.0")
    assert robots.crawl_delay(UA) == 0.5
    assert robots.sitemaps == ("https://example.org/sitemap.xml",)
    assert robots.text is not None and "Crawl-delay" in robots.text


@pytest.mark.parametrize(
    ("status", "allowed"), [(404, True), (401, True), (410, True), (429, False), (500, False), (503, False)]
)
def test_robots_status_semantics(status: int, allowed: bool) -> None:
    robots = parse_robots("https://example.org/robots.txt", _response(status))
    assert robots.allowed("https://example.org/a", UA) is allowed
    assert robots.text is None


def test_unreachable_robots_allows_and_says_why() -> None:
    failure = FetchFailure("https://example.org/robots.txt", "connect", "could not connect")
    robots = parse_robots("https://example.org/robots.txt", None, failure)
    assert robots.allowed("https://example.org/a", UA)
    assert "could not connect" in robots.note


def test_crawl_delay_is_capped() -> None:
    robots = parse_robots("https://example.org/robots.txt", _response(200, b"User-agent: *\nCrawl-delay: 86400\n"))
    assert robots.crawl_delay(UA) == 60.0


async def test_robots_is_fetched_once_per_origin(scripted_server: Start) -> None:
    server = scripted_server({"/robots.txt": Reply(200, {"content-type": "text/plain"}, "User-agent: *\nDisallow: /x\n", delay=0.2)})
    async with Fetcher(limits=FetchLimits(1.0, 1.0, 2.0)) as fetcher:
        cache = RobotsCache(lambda url: fetcher.fetch(url, truncate=True, max_bytes=500 * 1024))
        files = await asyncio.gather(*(cache.get(server.base_url) for _ in range(10)))
    assert server.hits("/robots.txt") == 1
    assert all(f is files[0] for f in files)
    assert not files[0].allowed(server.url("/x"), UA)
    assert cache.peek(server.base_url) is files[0]


URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc> https://example.org/a </loc><lastmod>2024-05-01</lastmod></url>
  <url><loc>https://example.org/b?x=1&amp;y=2</loc></url>
  <url><lastmod>2024-01-01</lastmod></url>
</urlset>"""


def test_urlset() -> None:
    parsed = parse_sitemap(URLSET)
    assert parsed.kind == "urlset"
    assert [(e.loc, e.lastmod) for e in parsed.urls] == [
        ("https://example.org/a", "2024-05-01"),
        ("https://example.org/b?x=1&y=2", None),
    ]


def test_sitemap_index_gzipped() -> None:
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://example.org/s1.xml.gz</loc></sitemap>
      <sitemap><loc>https://example.org/s2.xml</loc></sitemap></sitemapindex>"""
    parsed = parse_sitemap(gzip.compress(index))
    assert parsed.kind == "sitemapindex"
    assert [e.loc for e in parsed.sitemaps] == ["https://example.org/s1.xml.gz", "https://example.org/s2.xml"]
    assert parsed.urls == ()


def test_text_sitemap() -> None:
    parsed = parse_sitemap(b"https://example.org/a\n\nhttps://example.org/b\r\nnot a url\n")
    assert parsed.kind == "text"
    assert [e.loc for e in parsed.urls] == ["https://example.org/a", "https://example.org/b"]


def test_url_count_is_capped() -> None:
    body = b"<urlset>" + b"".join(b"<url><loc>https://example.org/%d</loc></url>" % i for i in range(100)) + b"</urlset>"
    parsed = parse_sitemap(body, max_urls=10)
    assert len(parsed.urls) == 10
    assert parsed.truncated


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><urlset><url><loc>&lol;</loc></url></urlset>',
        b"<html><body>not a sitemap</body></html>",
        b"<urlset><url><loc>unclosed",
        b"just some words\n",
    ],
)
def test_unreadable_sitemaps_raise(body: bytes) -> None:
    with pytest.raises(SitemapError):
        parse_sitemap(body)


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * (20 * 1024 * 1024) + b"</urlset>")
    with pytest.raises(SitemapError, match="inflates"):
        gunzip(bomb, max_bytes=1024 * 1024)
    with pytest.raises(SitemapError):
        parse_sitemap(bomb, max_bytes=1024 * 1024)


async def test_sitemap_over_loopback(scripted_server: Start) -> None:
    server = scripted_server({"/sitemap.xml.gz": Reply(200, {"content-type": "application/gzip"}, gzip.compress(URLSET)),
                              "/plain": text("x")})
    async with Fetcher(limits=FetchLimits(1.0, 1.0, 2.0)) as fetcher:
        response = await fetcher.fetch(server.url("/sitemap.xml.gz"))
    assert len(parse_sitemap(response.body).urls) == 2
