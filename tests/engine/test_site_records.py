"""The lean store of the site rules' records: tags come back exactly, findings do not change."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from smo_audit.config import AuditConfig
from smo_audit.engine.api import PageRecord
from smo_audit.engine.site_records import CHUNK, SiteRecords, tagged, with_tags
from smo_audit.extract.facts import Feed, PageFacts, ShareButton
from smo_audit.pipeline import Audit, Target, _Collected

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "site"
BASE = "https://northwind-coffee.example"


def _record(n: int) -> PageRecord:
    url = f"http://127.0.0.1:8000/post/{n}"
    button = ShareButton(network="x", href=f"https://x.com/intent/tweet?url={url}", shares_url=url,
                         label="Share on X", selector="a.share-x", problems=("template: x",) if n % 7 == 0 else ())
    facts = PageFacts(
        title=f"Post {n}", canonical=f"{url}?c" if n % 3 else None, description=f"About post {n}",
        open_graph={"og:title": f"Post {n}", "og:image": "http://127.0.0.1:8000/card.png", "og:url": url},
        twitter={"twitter:card": "summary_large_image", "twitter:title": f"Post {n}"} if n % 2 else {},
        share_buttons=(button,), feeds=(Feed("http://127.0.0.1:8000/feed.xml", "rss"),),
        page_type="article" if n else "home", has_password_form=n == 5,
    )
    return PageRecord(url, url, 200 if n % 11 else 404, facts, f"post/{n}.html" if n % 2 else None)


def test_tags_come_back_exactly_and_what_site_rules_read_is_kept_and_shared() -> None:
    originals = [_record(n) for n in range(CHUNK * 2 + 17)]  # two full chunks and a pending one
    store = SiteRecords()
    for record in originals:
        store.append(record)
    assert len(store) == len(originals)
    for position, original in enumerate(originals):
        slim, back = store[position], store.tagged(position)
        assert (slim.url, slim.final_url, slim.status, slim.source_path) == (
            original.url, original.final_url, original.status, original.source_path)
        assert back.facts.canonical == original.facts.canonical
        assert back.facts.open_graph == original.facts.open_graph
        assert back.facts.twitter == original.facts.twitter
        for name in ("feeds", "page_type", "has_password_form", "is_account_page", "profile_links", "sign_in"):
            assert getattr(slim.facts, name) == getattr(original.facts, name)
        (button,) = slim.facts.share_buttons
        assert (button.network, button.problems, button.href) == (
            original.facts.share_buttons[0].network, original.facts.share_buttons[0].problems, "")
        assert slim.facts.title is None and slim.facts.open_graph == {}  # per-page strings are not kept
    # Pages of one template share one slim facts object: memory does not grow with their strings.
    assert len({id(r.facts) for r in store}) <= 4


def test_primaries_skip_duplicates_and_give_their_tags_in_order() -> None:
    originals = [_record(n) for n in range(CHUNK + 3)]
    store = SiteRecords()
    for record in originals:
        store.append(record)
    store.mark_duplicate(2, originals[1].url)
    pages = store.primaries()
    assert [p.url for p in pages] == [r.url for i, r in enumerate(originals) if i != 2]
    assert [p.facts.open_graph for p in with_tags(pages)] == [r.facts.open_graph for i, r in enumerate(originals) if i != 2]
    last = pages[len(pages) - 1]
    assert tagged(pages, last).facts.canonical == originals[-1].facts.canonical
    # The first lookups scan, later ones use a map: both give every page its own tags.
    expected = [r.facts.canonical for i, r in enumerate(originals) if i != 2]
    assert [tagged(pages, p).facts.canonical for p in pages] == expected
    (duplicate,) = store.duplicates()
    assert duplicate.duplicate_of == originals[1].url and duplicate.facts.canonical == originals[2].facts.canonical
    # On a plain list (plugin rules, tests) both helpers give the records themselves.
    assert list(with_tags(originals)) == originals and tagged(originals, originals[4]) is originals[4]


def test_a_store_that_is_not_lean_keeps_records_whole() -> None:
    store = SiteRecords(lean=False)
    record = _record(3)
    store.append(record)
    assert store[0] is record and store.tagged(0) is record


def _site_findings(lean: bool) -> list[str]:
    config = AuditConfig(base_url=BASE, quiet=True, timeout=10, retries=0)
    run = Audit(Target(str(DEMO), folder=DEMO), config)
    run.collected = _Collected(records=SiteRecords(lean=lean))
    asyncio.run(run.execute())
    assert run.collected.records.lean is lean
    # The folder is served on a new port each run: findings are compared with it blanked out.
    return [re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", repr(f)) for f in run.site_findings]


def test_site_findings_are_the_same_with_lean_and_whole_records() -> None:
    lean, whole = _site_findings(True), _site_findings(False)
    assert len({f.split(",")[0] for f in whole}) >= 10  # most site rules had something to say
    assert lean == whole
