"""XML sitemaps (urlset and sitemapindex, plain or gzipped) and plain-text sitemaps, bounded.

A sitemap is untrusted input that can be large: the protocol allows 50,000 URLs and 50 MB
uncompressed per file, and a gzipped file can inflate far beyond that. So decompression is capped,
documents that declare a DTD are refused outright (sitemaps never need one, and entity expansion
is how XML bombs work), the tree is cleared element by element while parsing, and the number of
URLs taken from one file is capped.
"""

from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass
from typing import Literal
from xml.etree.ElementTree import Element, ParseError, iterparse

SITEMAP_MAX_BYTES = 50 * 1024 * 1024  # the protocol's limit for one uncompressed sitemap
SITEMAP_MAX_URLS = 50_000  # the protocol's limit for one sitemap
GZIP_MAGIC = b"\x1f\x8b"
MAX_XML_DEPTH = 256  # feeds and sitemaps are 3-5 levels deep; deeper is hostile
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


class SitemapError(ValueError):
    """A sitemap that cannot be read: corrupt, too large, or not a sitemap at all."""


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    loc: str
    lastmod: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedSitemap:
    kind: Literal["urlset", "sitemapindex", "text"]
    urls: tuple[SitemapEntry, ...] = ()
    sitemaps: tuple[SitemapEntry, ...] = ()  # children of a sitemap index
    truncated: bool = False  # more than max_urls entries; the rest were ignored


def gunzip(data: bytes, max_bytes: int = SITEMAP_MAX_BYTES) -> bytes:
    """Inflate a gzip file, refusing to produce more than `max_bytes` (gzip bombs)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise SitemapError(f"the gzipped sitemap is corrupt ({exc})") from None
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise SitemapError(f"the sitemap inflates to more than {max_bytes:,} bytes")
    return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if "}" in tag else tag


def parse_sitemap(data: bytes, *, max_urls: int = SITEMAP_MAX_URLS, max_bytes: int = SITEMAP_MAX_BYTES) -> ParsedSitemap:
    """Parse a sitemap body (gzipped or not). Raises SitemapError when it cannot be read."""
    if data[:2] == GZIP_MAGIC:
        data = gunzip(data, max_bytes)
    if len(data) > max_bytes:
        raise SitemapError(f"the sitemap is larger than {max_bytes:,} bytes")
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped.startswith(b"<"):
        return _parse_text(stripped, max_urls)
    if _DTD.search(data):
        raise SitemapError("the sitemap declares a DTD or entities, which sitemaps never need")
    return _parse_xml(data, max_urls)


def _parse_text(data: bytes, max_urls: int) -> ParsedSitemap:
    """The protocol's text format: one absolute URL per line, UTF-8."""
    urls: list[SitemapEntry] = []
    for line in data.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line.startswith(("http://", "https://")):
            if len(urls) >= max_urls:
                return ParsedSitemap("text", tuple(urls), truncated=True)
            urls.append(SitemapEntry(line))
    if not urls and data.strip():
        raise SitemapError("the file is neither an XML sitemap nor a list of URLs")
    return ParsedSitemap("text", tuple(urls))


def _parse_xml(data: bytes, max_urls: int) -> ParsedSitemap:
    urls: list[SitemapEntry] = []
    children: list[SitemapEntry] = []
    root_kind: str | None = None
    loc: str | None = None
    lastmod: str | None = None
    truncated = False
    root: Element | None = None
    try:
        depth = 0
        for event, element in iterparse(io.BytesIO(data), events=("start", "end")):
            name = _local(element.tag)
            depth += 1 if event == "start" else -1
            if depth > MAX_XML_DEPTH:
                raise SitemapError(f"the XML nests deeper than {MAX_XML_DEPTH} levels (refused)")
            if event == "start":
                if root is None:
                    root, root_kind = element, name
                continue
            if name == "loc":
                loc = (element.text or "").strip() or None
            elif name == "lastmod":
                lastmod = (element.text or "").strip() or None
            elif name in ("url", "sitemap"):
                if loc is not None:
                    target = urls if name == "url" else children
                    if len(target) >= max_urls:
                        truncated = True  # and nothing past the cap is read: a million entries
                        break             # took seconds of the crawl's event loop
                    target.append(SitemapEntry(loc, lastmod))
                loc = lastmod = None
                if root is not None:
                    root.clear()  # keep memory flat on 50,000-entry files
    except ParseError as exc:
        if not urls and not children:
            raise SitemapError(f"the sitemap is not well-formed XML ({exc})") from None
        truncated = True  # keep what was read before the damage
    if root_kind == "sitemapindex":
        return ParsedSitemap("sitemapindex", sitemaps=tuple(children), truncated=truncated)
    if root_kind == "urlset":
        return ParsedSitemap("urlset", urls=tuple(urls), truncated=truncated)
    raise SitemapError(f"the XML root is <{root_kind}>, not <urlset> or <sitemapindex>")
