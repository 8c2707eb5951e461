"""RSS 2.0, RSS 1.0 (RDF), Atom and JSON Feed bodies -> a small ParsedFeed, bounded.

A feed is untrusted input fetched from the site: documents that declare a DTD or entities are
refused outright (feeds never need one, and entity expansion is how XML bombs work), the tree is
cleared item by item, and only the first `max_items` items are kept. Relative item links are
resolved against xml:base or the feed's own URL, as feed readers do.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from typing import Any, Literal
from xml.etree.ElementTree import Element, ParseError, iterparse

from smo_audit.extract.limits import MAX_JSON_DEPTH, json_too_deep
from smo_audit.extract.urlmatch import join_url

FEED_MAX_BYTES = 4 * 1024 * 1024
MAX_ITEMS = 200
MAX_XML_DEPTH = 256  # feeds and sitemaps are 3-5 levels deep; deeper is hostile
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_ATOM = "{http://www.w3.org/2005/Atom}"
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_JSON_FEED_VERSION = "https://jsonfeed.org/version/"


class FeedError(ValueError):
    """A body that is not a feed anyone can read; the message says why, for a person."""


@dataclass(frozen=True, slots=True)
class FeedItem:
    link: str | None
    title: str | None = None
    published: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    kind: Literal["rss", "atom", "json"]
    title: str | None
    items: tuple[FeedItem, ...]
    truncated: bool = False


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if "}" in tag else tag


def _text(element: Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip()[:500] or None


def parse_feed(data: bytes, url: str, *, max_items: int = MAX_ITEMS) -> ParsedFeed:
    """Parse a feed body fetched from `url`. Raises FeedError when it cannot be read."""
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise FeedError("the feed is empty")
    if stripped.startswith(b"{"):
        return _parse_json(stripped, url, max_items)
    if not stripped.startswith(b"<"):
        raise FeedError("the body is neither XML nor JSON")
    if _DTD.search(data):
        raise FeedError("the feed declares a DTD or entities, which feeds never need (refused: XML bomb risk)")
    return _parse_xml(data, url, max_items)


def _parse_json(data: bytes, url: str, max_items: int) -> ParsedFeed:
    if json_too_deep(data):
        raise FeedError(f"the JSON Feed nests deeper than {MAX_JSON_DEPTH} levels (not read)")
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise FeedError(f"the JSON Feed is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise FeedError("the JSON Feed is not a JSON object")
    version = value.get("version")
    if not isinstance(version, str) or not version.startswith(_JSON_FEED_VERSION):
        raise FeedError(f"the JSON document has no JSON Feed version (expected {_JSON_FEED_VERSION}1.1)")
    raw_items = value.get("items")
    if not isinstance(raw_items, list):
        raise FeedError("the JSON Feed has no items array")
    items: list[FeedItem] = []
    for raw in raw_items[:max_items]:
        if not isinstance(raw, dict):
            continue
        link = _str(raw.get("url")) or _str(raw.get("external_url"))
        items.append(FeedItem(join_url(url, link) if link else None, _str(raw.get("title")),
                              _str(raw.get("date_published"))))
    return ParsedFeed("json", _str(value.get("title")), tuple(items), len(raw_items) > max_items)


def _str(value: Any) -> str | None:
    return value.strip()[:2000] or None if isinstance(value, str) else None


def _atom_link(entry: Element, base: str) -> str | None:
    fallback: str | None = None
    for child in entry:
        if child.tag != _ATOM + "link":
            continue
        href = (child.get("href") or "").strip()
        if not href:
            continue
        rel = child.get("rel", "alternate")
        if rel == "alternate":
            return join_url(base, href)
        fallback = fallback or join_url(base, href)
    return fallback


def _parse_xml(data: bytes, url: str, max_items: int) -> ParsedFeed:
    root: Element | None = None
    kind: Literal["rss", "atom"] | None = None
    base = url
    title: str | None = None
    items: list[FeedItem] = []
    truncated = False
    in_item = False
    try:
        depth = 0
        for event, element in iterparse(io.BytesIO(data), events=("start", "end")):
            name = _local(element.tag)
            depth += 1 if event == "start" else -1
            if depth > MAX_XML_DEPTH:
                raise FeedError(f"the XML nests deeper than {MAX_XML_DEPTH} levels (refused)")
            if event == "start":
                if root is None:
                    root = element
                    if name in ("rss", "RDF"):
                        kind = "rss"
                    elif element.tag == _ATOM + "feed":
                        kind = "atom"
                    else:
                        raise FeedError(f"the XML root is <{name}>, not <rss>, <rdf:RDF> or an Atom <feed>")
                    base = join_url(url, element.get(_XML_BASE) or "") or url
                elif name in ("item", "entry"):
                    in_item = True
                continue
            if name == "title" and not in_item and title is None:
                title = _text(element)
            if name not in ("item", "entry"):
                continue
            in_item = False
            if len(items) >= max_items:
                truncated = True
                break
            items.append(_atom_item(element, base) if kind == "atom" else _rss_item(element, base))
            element.clear()  # keep memory flat on long feeds
    except ParseError as exc:
        raise FeedError(f"the feed is not well-formed XML ({exc})") from None
    if kind is None:
        raise FeedError("the document has no root element")
    return ParsedFeed(kind, title, tuple(items), truncated)


def _atom_item(entry: Element, base: str) -> FeedItem:
    entry_base = join_url(base, entry.get(_XML_BASE) or "") or base
    return FeedItem(_atom_link(entry, entry_base), _text(entry.find(_ATOM + "title")),
                    _text(entry.find(_ATOM + "published")) or _text(entry.find(_ATOM + "updated")))


def _rss_item(item: Element, base: str) -> FeedItem:
    children = {_local(c.tag): c for c in reversed(list(item))}  # first occurrence wins
    link = _text(children.get("link"))
    guid = children.get("guid")
    if link is None and guid is not None and guid.get("isPermaLink", "true") == "true":
        link = _text(guid)
    return FeedItem(join_url(base, link) if link else None, _text(children.get("title")),
                    _text(children.get("pubDate")) or _text(children.get("date")))
