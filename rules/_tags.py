"""Small helpers the link-preview rule families share: evidence formatting and tag lookups."""

from __future__ import annotations

from collections.abc import Iterable

from smo_audit.extract.facts import Document, MetaTag

EVIDENCE_VALUE = 200


def tag(key: str, value: str, attribute: str | None = None) -> str:
    """A meta tag as evidence, the way the page would need to write it."""
    attr = attribute or ("name" if key.startswith("twitter:") else "property")
    return f'<meta {attr}="{key}" content="{value[:EVIDENCE_VALUE]}">'


def meta_evidence(meta: MetaTag) -> str:
    return tag(meta.key, meta.content, meta.attribute if meta.attribute in ("property", "name") else None)


def metas(doc: Document, prefixes: tuple[str, ...] = ("og:", "twitter:")) -> list[MetaTag]:
    """The page's og:/twitter: meta tags in document order."""
    return [m for m in doc.meta if m.key.startswith(prefixes)]


def non_empty(values: Iterable[str]) -> list[str]:
    return [v.strip() for v in values if v.strip()]


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def human_list(items: Iterable[str]) -> str:
    values = list(items)
    if len(values) <= 1:
        return "".join(values)
    return ", ".join(values[:-1]) + " and " + values[-1]
