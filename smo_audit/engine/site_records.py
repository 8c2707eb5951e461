"""The records the site rules read, kept lean: what differs per page is compressed, the rest shared.

An audit keeps one record per page until the site rules run at the end of the crawl, so these
records were the one thing that grew with the page count (about 4 KB of peak RSS a page; see
benchmarks/README.md, "Memory"). Most of a record is never read by the built-in site rules: the
title and description, the share buttons' URLs, the dates. What they do read is either shared from
page to page (page type, feeds, profile links, sign-in, the share bar's networks) or a page's own
preview tags (canonical, Open Graph, X tags), which a few rules read in one pass.

So a lean store keeps, per page, a slim record (URL, status, and facts without the per-page
strings: equal slim facts are one object) and packs the preview tags, 256 pages at a time, into a
zlib-compressed marshal chunk (about 60 bytes a page). Rules that read preview tags go through
`with_tags` / `tagged`, which decode them back; on a plain sequence of records (tests, plugins)
both are the identity. When a plugin site rule is loaded, nobody knows what it reads: the store
then keeps the records whole (`lean=False`), as before.
"""

from __future__ import annotations

import marshal
import zlib
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TypeAlias, overload

from smo_audit.engine.api import PageRecord
from smo_audit.engine.records import share
from smo_audit.extract.facts import PageFacts, ShareButton

CHUNK = 256  # pages per compressed chunk: big enough for zlib to find the repeats, small to decode
_SCAN_LOOKUPS = 16  # tagged() lookups answered by a scan before an id -> position map is built
_FACTS_LIMIT = 20_000  # distinct slim facts kept for sharing (a site has a few per template)

Tags: TypeAlias = "tuple[str | None, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]"


_buttons: dict[tuple[object, ...], ShareButton] = {}


def _slim_button(button: ShareButton) -> ShareButton:
    """What site rules read of a share button (network, mechanism, problems...), without its URLs.

    Looked up by those fields first: a share bar repeats on every page, and building the slim
    button each time was most of a record's cost.
    """
    b = button
    key = (b.network, b.label, b.selector, b.visible, b.mechanism, b.target, b.rel, b.problems, b.source,
           b.url_source, b.provider, b.popup)
    slim = _buttons.get(key)
    if slim is None:
        if len(_buttons) >= _FACTS_LIMIT:
            _buttons.clear()
        slim = _buttons[key] = share(replace(button, href="", shares_url=None, text=None))
    return slim


def _tags(facts: PageFacts) -> Tags:
    return facts.canonical, tuple(facts.open_graph.items()), tuple(facts.twitter.items())


class SiteRecords(Sequence[PageRecord]):
    """Every audited page's record, in report order (duplicates included); see the module docs."""

    def __init__(self, *, lean: bool = True) -> None:
        self.lean = lean
        self._records: list[PageRecord] = []
        self._chunks: list[bytes] = []  # compressed preview tags of pages [i*CHUNK, (i+1)*CHUNK)
        self._pending: list[Tags] = []  # the tags of the last, unfinished chunk
        self._decoded: tuple[int, list[Tags]] = (-1, [])  # the last chunk decoded (sequential reads)
        self._facts: dict[tuple[object, ...], PageFacts] = {}

    # -- writing --------------------------------------------------------------------------------
    def append(self, record: PageRecord) -> None:
        if not self.lean:
            self._records.append(record)
            return
        self._records.append(PageRecord(record.url, record.final_url, record.status, self._slim(record.facts),
                                        record.source_path, record.duplicate_of, record.canonical_of))
        self._pending.append(_tags(record.facts))
        if len(self._pending) == CHUNK:
            self._chunks.append(zlib.compress(marshal.dumps(self._pending), 1))
            self._pending = []

    def mark_duplicate(self, position: int, duplicate_of: str) -> None:
        """The page at `position` turned out to be another name of `duplicate_of`."""
        self._records[position] = replace(self._records[position], duplicate_of=duplicate_of)

    def mark_canonical_of(self, position: int, page: str) -> None:
        """The page at `position` names the audited page `page` as its canonical without being shared
        alike with it (see Audit._on_duplicate): a wrong canonical, not a duplicate."""
        self._records[position] = replace(self._records[position], canonical_of=page)

    def _slim(self, facts: PageFacts) -> PageFacts:
        slim = PageFacts(
            share_buttons=tuple(_slim_button(b) for b in facts.share_buttons), share_widgets=facts.share_widgets,
            profile_links=facts.profile_links, sign_in=facts.sign_in, social_widgets=facts.social_widgets,
            feeds=facts.feeds, json_ld_types=facts.json_ld_types, same_as=facts.same_as,
            has_password_form=facts.has_password_form, is_account_page=facts.is_account_page,
            page_type=facts.page_type,
        )
        key = (slim.share_buttons, slim.share_widgets, slim.profile_links, slim.sign_in, slim.social_widgets,
               slim.feeds, slim.json_ld_types, slim.same_as, slim.has_password_form, slim.is_account_page,
               slim.page_type)
        if len(self._facts) >= _FACTS_LIMIT:
            self._facts.clear()
        return self._facts.setdefault(key, slim)

    # -- reading --------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._records)

    @overload
    def __getitem__(self, index: int) -> PageRecord: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[PageRecord]: ...
    def __getitem__(self, index: int | slice) -> PageRecord | Sequence[PageRecord]:
        return self._records[index]

    def __iter__(self) -> Iterator[PageRecord]:
        return iter(self._records)

    def tagged(self, position: int) -> PageRecord:
        """The record at `position` with its preview tags (canonical, Open Graph, X) back."""
        record = self._records[position]
        if not self.lean:
            return record
        canonical, open_graph, twitter = self._chunk(position // CHUNK)[position % CHUNK]
        facts = replace(record.facts, canonical=canonical, open_graph=dict(open_graph), twitter=dict(twitter))
        return replace(record, facts=facts)

    def _chunk(self, number: int) -> list[Tags]:
        if number == len(self._chunks):
            return self._pending
        if self._decoded[0] != number:
            self._decoded = (number, marshal.loads(zlib.decompress(self._chunks[number])))
        return self._decoded[1]

    def primaries(self) -> SitePages:
        """The pages the site rules judge: every record that is not a duplicate of another."""
        return SitePages(self, array("I", (i for i, r in enumerate(self._records) if r.duplicate_of is None)))

    def duplicates(self) -> list[PageRecord]:
        """The duplicates, with their tags (canonical-collapse reads their canonical)."""
        return [self.tagged(i) for i, r in enumerate(self._records) if r.duplicate_of is not None]


class SitePages(Sequence[PageRecord]):
    """`SiteContext.pages` over a store: some of its records, by position, in order."""

    def __init__(self, store: SiteRecords, positions: array[int]) -> None:
        self._store = store
        self._positions = positions
        self._where: dict[int, int] | None = None  # id(record) -> position, once lookups are many
        self._lookups = 0

    def __len__(self) -> int:
        return len(self._positions)

    @overload
    def __getitem__(self, index: int) -> PageRecord: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[PageRecord]: ...
    def __getitem__(self, index: int | slice) -> PageRecord | Sequence[PageRecord]:
        if isinstance(index, slice):
            return [self._store[p] for p in self._positions[index]]
        return self._store[self._positions[index]]

    def __iter__(self) -> Iterator[PageRecord]:
        store = self._store
        return (store[p] for p in self._positions)

    def with_tags(self) -> Iterator[PageRecord]:
        """Every page with its preview tags, decoded one chunk at a time (one pass, in order)."""
        store = self._store
        return (store.tagged(p) for p in self._positions)

    def tagged(self, record: PageRecord) -> PageRecord:
        """One of these pages (as iterated) with its preview tags.

        A few lookups (bot-cloaking's sample) scan the positions by identity; past `_SCAN_LOOKUPS`
        (a feed's items) a map of every page is built: it costs memory per page, so only on demand.
        """
        self._lookups += 1
        if self._where is None and self._lookups > _SCAN_LOOKUPS:
            self._where = {id(self._store[p]): p for p in self._positions}
        if self._where is not None:
            return self._store.tagged(self._where[id(record)])
        store = self._store
        for position in self._positions:
            if store[position] is record:
                return store.tagged(position)
        raise KeyError(record.url)


def with_tags(pages: Sequence[PageRecord]) -> Iterator[PageRecord]:
    """The pages with their preview tags (canonical, Open Graph, X tags), in order.

    Site rules that read those tags iterate this instead of `ctx.pages`: on a lean store the
    tags are decoded one chunk at a time; on a plain sequence it is the pages themselves.
    """
    return pages.with_tags() if isinstance(pages, SitePages) else iter(pages)


def tagged(pages: Sequence[PageRecord], record: PageRecord) -> PageRecord:
    """`record` (one of `pages`) with its preview tags, for rules that read them of a few pages."""
    return pages.tagged(record) if isinstance(pages, SitePages) else record
