"""Extraction: raw page bytes -> one DOM pass -> Document (transient) + PageFacts (kept).

Classifiers (share buttons, profiles, sign-in, widgets) are data-driven functions over the
Document; they never see the DOM, so the page is parsed exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Protocol

from smo_audit.crawl.models import PageLinks, RawPage
from smo_audit.extract.decode import decode_html
from smo_audit.extract.dom import build_selector, meta_byte_offsets, parse_document
from smo_audit.extract.facts import Document, Feed, PageFacts
from smo_audit.extract.fastinit import frozen_constructor
from smo_audit.extract.jsonld import iter_nodes, node_types
from smo_audit.extract.limits import dom_cut


class Classifier(Protocol):
    """Turns Document facts into PageFacts fields using the catalogue."""

    name: str

    def selectors(self) -> Iterable[str]:
        """Simple selectors (tag#id.class[attr]) of elements the one DOM pass must collect."""
        ...

    def classify(self, doc: Document, facts: PageFacts) -> Mapping[str, Any]:
        """PageFacts field values to set, e.g. {"share_buttons": (...)}."""
        ...


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    document: Document
    facts: PageFacts
    links: PageLinks
    encoding: str
    notes: tuple[str, ...] = ()  # limits that cut the work on this page short, one sentence each


_FEED_TYPES = {"application/rss+xml": "rss", "application/atom+xml": "atom",
               "application/feed+json": "json", "application/json": "json"}
_ARTICLE_TYPES = {"article", "blogposting", "newsarticle", "techarticle", "report", "scholarlyarticle"}
_PRODUCT_TYPES = {"product", "productgroup"}


def _first(meta: dict[str, str], key: str) -> str | None:
    return meta.get(key)


def base_facts(doc: Document, final_url: str) -> PageFacts:
    """The classifier-independent facts: title, canonical, OG/Twitter maps, JSON-LD summary."""
    open_graph: dict[str, str] = {}
    twitter: dict[str, str] = {}
    names: dict[str, str] = {}
    for tag in doc.meta:
        if tag.key.startswith(("og:", "article:", "product:", "fb:", "profile:", "book:", "music:", "video:")):
            open_graph.setdefault(tag.key, tag.content)
        elif tag.key.startswith("twitter:"):
            twitter.setdefault(tag.key, tag.content)
        else:
            names.setdefault(tag.key, tag.content)
    canonical = next((t.url for t in doc.link_tags if "canonical" in t.rel and t.url), None)
    types: list[str] = []
    same_as: list[str] = []
    published = open_graph.get("article:published_time")
    modified = open_graph.get("article:modified_time")
    for node in iter_nodes(doc.json_ld):
        node_type = node_types(node)
        types.extend(node_type)
        lowered = {t.lower() for t in node_type}
        if lowered & {"organization", "corporation", "person", "localbusiness", "newsmediaorganization"}:
            raw = node.get("sameAs")
            values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
            same_as.extend(v for v in values if isinstance(v, str))
        if lowered & _ARTICLE_TYPES:
            published = published or _str(node.get("datePublished"))
            modified = modified or _str(node.get("dateModified"))
    feeds = tuple(
        Feed(t.url, _FEED_TYPES[(t.type or "").lower()], t.title)
        for t in doc.link_tags
        if "alternate" in t.rel and t.url and (t.type or "").lower() in _FEED_TYPES
        and not ((t.type or "").lower() == "application/json" and "oembed" in (t.href or "").lower())
    )
    has_password = any(form.has_password for form in doc.forms)
    return _new_facts(
        title=doc.title,
        canonical=canonical,
        lang=doc.lang,
        description=names.get("description"),
        open_graph=open_graph,
        twitter=twitter,
        feeds=feeds,
        json_ld_types=tuple(dict.fromkeys(types))[:32],
        same_as=tuple(dict.fromkeys(same_as))[:64],
        has_password_form=has_password,
        page_type=_page_type(open_graph.get("og:type"), types, final_url, has_password,
                             article_tags=any(key in _ARTICLE_TAGS for key in open_graph)),
        published_time=published,
        modified_time=modified,
    )


_new_facts = frozen_constructor(PageFacts)  # built twice per page (see fastinit)
_FACT_FIELDS = tuple(f.name for f in fields(PageFacts))


def _replace_facts(facts: PageFacts, updates: Mapping[str, Any]) -> PageFacts:
    """dataclasses.replace(facts, **updates), without its per-call introspection."""
    values = {name: getattr(facts, name) for name in _FACT_FIELDS}
    values.update(updates)
    return _new_facts(**values)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


# Open Graph's article properties (https://ogp.me/#type_article): they belong to og:type article
_ARTICLE_TAGS = frozenset(("article:published_time", "article:modified_time", "article:expiration_time",
                           "article:author", "article:section", "article:tag"))


def _page_type(og_type: str | None, types: list[str], url: str, has_password: bool, *,
               article_tags: bool = False) -> str:
    """What kind of page this is; articles and products are where share buttons are expected.

    Without og:type, Open Graph's article properties (article:published_time, ...) still say
    "article" on any page but the home page: taking og:type away from a post must not turn it into
    a page that needs no share buttons, which would score it higher for having less. (A post
    with no type signal at all, no og:type, JSON-LD type or article tag, is not known to be one.)"""
    lowered = {t.lower() for t in types}
    og = (og_type or "").lower()
    if og == "article" or lowered & _ARTICLE_TYPES:
        return "article"
    if og.startswith("product") or lowered & _PRODUCT_TYPES:
        return "product"
    if has_password:
        return "account"
    path = url.split("://", 1)[-1].partition("/")[2].split("?", 1)[0]
    if path in ("", "index.html", "index.htm"):
        return "home"
    if not og and article_tags:
        return "article"
    return "other"


class Extractor:
    """Builds the one-pass selector once and turns each RawPage into facts."""

    def __init__(self, classifiers: Iterable[Classifier] | None = None) -> None:
        if classifiers is None:
            from smo_audit.extract.classifiers import default_classifiers

            classifiers = default_classifiers()
        self.classifiers = tuple(classifiers)
        self.selector = build_selector(s for c in self.classifiers for s in c.selectors())

    def extract(self, page: RawPage) -> ExtractedPage:
        response = page.response
        text, encoding = decode_html(response.body, response.charset)
        return self.extract_text(text, response.final_url, encoding=encoding, html_bytes=len(response.body),
                                 meta_offsets=meta_byte_offsets(response.body))

    def extract_text(self, text: str, final_url: str, *, encoding: str = "utf-8", html_bytes: int | None = None,
                     meta_offsets: tuple[tuple[str, int], ...] = ()) -> ExtractedPage:
        """The same facts from already decoded HTML: rendered mode feeds the rendered DOM here."""
        cut = dom_cut(text)
        if cut.at is not None:
            text = text[: cut.at]
        doc = parse_document(
            text,
            final_url,
            selector=self.selector,
            html_bytes=len(text.encode("utf-8", "surrogatepass")) if html_bytes is None else html_bytes,
            meta_offsets=meta_offsets,
            capped=True,
        )
        facts = base_facts(doc, final_url)
        updates: dict[str, Any] = {}
        for classifier in self.classifiers:
            updates.update(classifier.classify(doc, facts))
        if updates:
            facts = _replace_facts(facts, updates)
        skip = {b.href for b in facts.share_buttons}
        # OAuth links (/auth/google, provider authorize URLs) start a sign-in flow: never crawl them.
        skip.update(s.evidence for s in facts.sign_in if s.mechanism == "oauth-link")
        links = tuple(
            a.url for a in doc.anchors
            if a.url and a.url.startswith(("http://", "https://")) and a.href not in skip
        )
        return ExtractedPage(
            doc, facts, PageLinks(links=links, canonical=facts.canonical, extra=facts.account_links), encoding,
            (cut.reason,) if cut.reason else (),
        )
