"""The feed parser (bounded, DTDs refused) and the feed rules' single fetch per feed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from smo_audit.config import AuditConfig
from smo_audit.extract.feeds import FeedError, FeedItem, parse_feed
from smo_audit.pipeline import Audit, Target
from tests.support.scripted_server import ScriptedServer, html, text

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>ACME blog</title><link>https://example.com/</link>
<item><title>First</title><link>https://example.com/first</link><pubDate>Tue, 04 Mar 2025 09:30:00 +0100</pubDate></item>
<item><title>Second</title><guid>https://example.com/second</guid></item>
<item><title>Third</title><guid isPermaLink="false">tag:example.com,2025:3</guid></item>
</channel></rss>"""


def test_rss_items_links_titles_dates() -> None:
    feed = parse_feed(RSS, "https://example.com/feed.xml")
    assert (feed.kind, feed.title, feed.truncated) == ("rss", "ACME blog", False)
    assert feed.items == (
        FeedItem("https://example.com/first", "First", "Tue, 04 Mar 2025 09:30:00 +0100"),
        FeedItem("https://example.com/second", "Second", None),
        FeedItem(None, "Third", None),
    )


def test_rss_1_0_rdf() -> None:
    rdf = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
      xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel rdf:about="https://example.com/"><title>Old</title></channel>
      <item rdf:about="https://example.com/a"><title>A</title><link>https://example.com/a</link><dc:date>2025-01-01</dc:date></item>
    </rdf:RDF>"""
    feed = parse_feed(rdf, "https://example.com/index.rdf")
    assert (feed.kind, feed.title, feed.items) == ("rss", "Old", (FeedItem("https://example.com/a", "A", "2025-01-01"),))


def test_atom_relative_links_resolve_against_xml_base() -> None:
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://example.com/blog/">
      <title>T</title>
      <entry><title>E1</title><link rel="enclosure" href="/audio.mp3"/><link href="e1/"/></entry>
      <entry xml:base="/news/"><title>E2</title><link rel="self" href="e2.atom"/></entry>
    </feed>"""
    feed = parse_feed(atom, "https://cdn.example.net/feed.atom")
    assert [i.link for i in feed.items] == ["https://example.com/blog/e1/", "https://example.com/news/e2.atom"]


def test_items_are_bounded() -> None:
    items = b"".join(b"<item><title>x</title><link>https://example.com/%d</link></item>" % i for i in range(50))
    feed = parse_feed(b"<rss><channel><title>Big</title>" + items + b"</channel></rss>", "https://example.com/f",
                      max_items=10)
    assert (len(feed.items), feed.truncated, feed.items[-1].link) == (10, True, "https://example.com/9")


def test_json_feed() -> None:
    body = (b'{"version": "https://jsonfeed.org/version/1", "title": "J", "items": ['
            b'{"id": "1", "url": "/a"}, {"id": "2", "external_url": "https://other.example/b"}, 3]}')
    feed = parse_feed(body, "https://example.com/feed.json")
    assert (feed.kind, [i.link for i in feed.items]) == ("json", ["https://example.com/a", "https://other.example/b"])


@pytest.mark.parametrize(("body", "message"), [
    (b"", "empty"),
    (b"hello", "neither XML nor JSON"),
    (b"<html><body>Not a feed</body></html>", "root is <html>"),
    (b"<rss><channel><item><title>x</item></channel></rss>", "not well-formed XML"),
    (b'{"items": []}', "no JSON Feed version"),
    (b'["https://jsonfeed.org/version/1.1"]', "neither XML nor JSON"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": {}}', "no items array"),
    (b'{"version": ', "not valid JSON"),
])
def test_unreadable_feeds(body: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        parse_feed(body, "https://example.com/feed")


def test_entity_expansion_is_refused_before_parsing() -> None:
    lol = b'<!ENTITY l0 "lollollollollollollollollollol">' + b"".join(
        b'<!ENTITY l%d "%s">' % (i, b"&l%d;" % (i - 1) * 10) for i in range(1, 10))
    bomb = b'<?xml version="1.0"?><!DOCTYPE rss [' + lol + b']><rss><channel><title>&l9;</title></channel></rss>'
    started = time.perf_counter()
    with pytest.raises(FeedError, match="declares a DTD or entities"):
        parse_feed(bomb, "https://example.com/feed")
    assert time.perf_counter() - started < 1.0  # refused unread, not expanded (a billion "lol"s)
    with pytest.raises(FeedError, match="declares a DTD"):
        parse_feed(b'<!doctype rss SYSTEM "http://example.com/x.dtd"><rss/>', "https://example.com/feed")


def test_both_feed_rules_share_one_fetch(scripted_server: Callable[..., ScriptedServer]) -> None:
    server = scripted_server()
    page = ('<!doctype html><html><head><title>Blog</title>'
            '<link rel="alternate" type="application/rss+xml" href="/feed.rss"></head><body></body></html>')
    server.routes.update({
        "/": html(page),
        "/feed.rss": text(RSS.replace(b"https://example.com", server.base_url.encode()), "application/rss+xml"),
    })
    config = AuditConfig(select=["feed-valid", "feed-items-previewable"], max_pages=1, max_depth=0, use_sitemaps=False,
                         timeout=10, retries=0, quiet=True, debug=True)
    report = asyncio.run(Audit(Target(server.base_url, url=server.url("/")), config).run())
    assert server.hits("/feed.rss") == 1
    findings = {f.rule: f for f in report.site_findings}
    assert (findings["feed-valid"].status, findings["feed-valid"].message) == (
        "pass", f"the RSS feed {server.url('/feed.rss')} is valid with 3 item(s)")
    # the third item has no link (its guid is not a permalink): nothing a network could preview
    previewable = findings["feed-items-previewable"]
    assert previewable.status == "warn"
    assert previewable.evidence == [f"an item without a link in {server.url('/feed.rss')} (Third)"]
