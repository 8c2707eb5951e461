"""Shared pieces of the crawl tests: a minimal pipeline that records callbacks, static routes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser

from smo_audit.crawl.local_server import content_type
from smo_audit.crawl.models import CrawlError, PageLinks, RawPage
from smo_audit.extract.decode import decode_html
from tests.support.scripted_server import Reply

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "crawl"


def page_links(page: RawPage) -> PageLinks:
    """What the real pipeline returns, done the cheap way: absolute <a href>s and the canonical."""
    text, _ = decode_html(page.response.body, page.response.charset)
    tree = LexborHTMLParser(text)
    base = page.final_url
    links = tuple(
        urljoin(base, href) for node in tree.css("a[href]") if (href := node.attributes.get("href"))
    )
    canonical_node = tree.css_first('link[rel="canonical" i][href]')
    canonical = urljoin(base, canonical_node.attributes["href"] or "") if canonical_node else None
    return PageLinks(links=links, canonical=canonical)


@dataclass
class Recorder:
    """Collects what the crawler hands over, the way the pipeline would."""

    pages: dict[str, RawPage] = field(default_factory=dict)
    errors: list[CrawlError] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    order: list[str] = field(default_factory=list)

    async def on_page(self, page: RawPage) -> PageLinks:
        assert page.url not in self.pages, f"{page.url} handed over twice"
        self.pages[page.url] = page
        self.order.append(page.url)
        return page_links(page)

    def on_error(self, error: CrawlError) -> None:
        self.errors.append(error)

    def on_duplicate(self, url: str, duplicate_of: str) -> None:
        self.duplicates.append((url, duplicate_of))

    def error_kinds(self, base: str) -> dict[str, str]:
        return {e.url.removeprefix(base): e.kind for e in self.errors}

    def paths(self, base: str) -> set[str]:
        return {url.removeprefix(base) for url in self.pages}


def static_routes(folder: Path, base: str) -> dict[str, Reply]:
    """Routes serving `folder` like a static host; "{BASE}" in .txt/.xml files becomes `base`."""
    routes: dict[str, Reply] = {}
    for file in sorted(folder.rglob("*")):
        if not file.is_file():
            continue
        rel = file.relative_to(folder).as_posix()
        body = file.read_bytes()
        if file.suffix in (".txt", ".xml"):
            body = body.replace(b"{BASE}", base.encode())
        reply = Reply(200, {"content-type": content_type(file)}, body)
        routes["/" + rel] = reply
        if rel.endswith("index.html"):
            routes["/" + rel[: -len("index.html")]] = reply
        elif rel.endswith(".html"):
            routes["/" + rel[: -len(".html")]] = reply
    return routes
