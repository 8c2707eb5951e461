"""Compact per-page records for the site rules: what repeats from page to page is stored once.

Site rules need every page's facts at the end of the crawl, so these are the one thing an audit
keeps per page in memory (the pages themselves are on the spool). A site's pages repeat most of
their facts: the same footer profiles, the same feeds and JSON-LD types, the same share bar
labels and selectors, the same twitter tags. Sharing one immutable object for each distinct
value took a record from ~9 KB to ~1.4 KB of its own on the benchmark site (plus the per-page
strings it keeps: about 3 KB in all, 4 KB of peak RSS a page; benchmarks/README.md).
The records are equal (==) to the originals: rules cannot tell the difference.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

from smo_audit.engine.api import PageRecord
from smo_audit.extract.facts import PageFacts, ShareButton

T = TypeVar("T")

_LIMIT = 200_000
_shared: dict[Any, Any] = {}
_shared_dicts: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
# Open Graph values that differ on every page: sharing them would only grow the table.
_PER_PAGE_KEYS = frozenset({"og:title", "og:description", "og:url", "og:image:alt", "article:published_time",
                            "article:modified_time", "og:updated_time"})


def share(value: T) -> T:
    """One object for every equal, immutable value seen in this process (bounded table)."""
    if len(_shared) >= _LIMIT:
        _shared.clear()
    return _shared.setdefault(value, value)  # type: ignore[no-any-return]


def _mapping(values: dict[str, str]) -> dict[str, str]:
    """Equal dicts (the same twitter tags on every page) become one; keys are shared anyway."""
    key = tuple(values.items())
    known = _shared_dicts.get(key)
    if known is not None:
        return known
    compact = {share(k): (v if k in _PER_PAGE_KEYS else share(v)) for k, v in values.items()}
    if len(_shared_dicts) >= _LIMIT // 10:
        _shared_dicts.clear()
    if len(values) <= 4:  # small dicts repeat (twitter card + site); big ones are per page
        _shared_dicts[key] = compact
    return compact


def _button(button: ShareButton, page_url: str) -> ShareButton:
    return ShareButton(
        network=share(button.network), href=button.href,
        shares_url=page_url if button.shares_url == page_url else button.shares_url,
        label=share(button.label), selector=share(button.selector), visible=button.visible,
        mechanism=share(button.mechanism), text=button.text, target=share(button.target) if button.target else None,
        rel=share(button.rel), problems=share(button.problems), source=share(button.source),
        url_source=share(button.url_source), provider=share(button.provider) if button.provider else None,
        popup=button.popup,
    )


def compact_facts(facts: PageFacts, page_url: str) -> PageFacts:
    return replace(
        facts,
        lang=share(facts.lang) if facts.lang else facts.lang,
        page_type=share(facts.page_type),
        open_graph=_mapping(facts.open_graph),
        twitter=_mapping(facts.twitter),
        share_buttons=tuple(_button(b, page_url) for b in facts.share_buttons),
        share_widgets=share(facts.share_widgets),
        profile_links=share(facts.profile_links),
        sign_in=share(facts.sign_in),
        social_widgets=share(facts.social_widgets),
        feeds=share(facts.feeds),
        json_ld_types=share(facts.json_ld_types),
        same_as=share(facts.same_as),
        account_links=share(facts.account_links),
    )


def compact_record(url: str, final_url: str, status: int, facts: PageFacts, source_path: str | None) -> PageRecord:
    """The record site rules read for one audited page."""
    final = url if final_url == url else final_url
    return PageRecord(url, final, status, compact_facts(facts, final), source_path)
