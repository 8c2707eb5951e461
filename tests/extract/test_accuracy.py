"""Precision and recall of the classifiers, per category, over fixture pages written for them.

fixtures/extract/accuracy/ holds pages reproducing the patterns real sites use (sign-in controls
that are not `<a href>`, share menus, widgets loaded for embeds, links inside embedded posts, ...)
and the negatives that look like them (a file manager's "Share", an identity provider's own login
page, a +1 button). tests/extract/accuracy.toml says what each page must yield. Every page goes
through the real folder server, fetcher and Extractor; the sets found are scored against the
expected ones, and each category must keep precision and recall at 1.000: every page yields exactly
its row (a table of one page per case cannot afford a miss: at 0.97 one missed page in forty
passed, so a new row proved nothing).
"""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from smo_audit.crawl.fetcher import DEFAULT_USER_AGENT, Fetcher, FetchLimits
from smo_audit.crawl.local_server import serve_folder
from smo_audit.crawl.models import RawPage
from smo_audit.extract import Extractor
from smo_audit.extract.facts import PageFacts

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "fixtures" / "extract" / "accuracy"
TABLE = Path(__file__).with_name("accuracy.toml")
CATEGORIES = ("sign_in", "dead_sign_in", "share", "share_widgets", "social_widgets", "profiles", "tags")
MINIMUM = 1.0


def found_sets(facts: PageFacts, file: str) -> dict[str, set[str]]:
    """What the classifiers reported, as the sets the table is written in."""
    return {
        "sign_in": {s.provider for s in facts.sign_in if not s.dead},
        "dead_sign_in": {s.provider for s in facts.sign_in if s.dead},
        "share": {b.network for b in facts.share_buttons},
        "share_widgets": {w.provider for w in facts.share_widgets},
        "social_widgets": {w.widget for w in facts.social_widgets},
        "profiles": {f"{p.network}:{p.handle}" for p in facts.profile_links},
        "tags": set(facts.open_graph) | set(facts.twitter) if file.startswith("tags/") else set(),
    }


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def _table() -> list[dict[str, object]]:
    return list(tomllib.loads(TABLE.read_text("utf-8"))["page"])


@pytest.fixture(scope="module")
def results() -> Iterator[dict[str, tuple[dict[str, set[str]], dict[str, set[str]]]]]:
    """file -> (expected sets, found sets) for every page of the table."""
    table = _table()
    extractor = Extractor()
    with serve_folder(PAGES) as server:

        async def fetch_all() -> list[RawPage]:
            async with Fetcher(DEFAULT_USER_AGENT, FetchLimits(total_timeout=10)) as fetcher:
                responses = await asyncio.gather(
                    *(fetcher.fetch(server.base_url + str(row["file"]), html_only=True) for row in table))
            return [RawPage(r) for r in responses]

        pages = asyncio.run(fetch_all())
    out: dict[str, tuple[dict[str, set[str]], dict[str, set[str]]]] = {}
    for row, page in zip(table, pages, strict=True):
        file = str(row["file"])
        assert page.response.status == 200, file
        url = str(row.get("url", f"https://www.example.com/p/{Path(file).name}"))
        labelled = RawPage(replace(page.response, url=url, final_url=url))
        facts = extractor.extract(labelled).facts
        expected = {c: set(map(str, row.get(c, []))) for c in CATEGORIES}  # type: ignore[call-overload]
        out[file] = (expected, found_sets(facts, file))
    yield out


def test_every_fixture_page_is_in_the_table() -> None:
    listed = {str(row["file"]) for row in _table()}
    on_disk = {p.relative_to(PAGES).as_posix() for p in PAGES.rglob("*.html")}
    assert listed == on_disk


def test_precision_and_recall_per_category(results: dict[str, tuple[dict[str, set[str]], dict[str, set[str]]]],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    scores = {c: Score() for c in CATEGORIES}
    misses: list[str] = []
    for file, (expected, found) in sorted(results.items()):
        for category in CATEGORIES:
            want, got = expected[category], found[category]
            score = scores[category]
            score.tp += len(want & got)
            score.fp += len(got - want)
            score.fn += len(want - got)
            if want != got:
                misses.append(f"{file} {category}: missed {sorted(want - got)}, extra {sorted(got - want)}")
    report = [f"{'category':<15} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>9} {'recall':>7}"]
    report += [f"{c:<15} {s.tp:>4} {s.fp:>4} {s.fn:>4} {s.precision:>9.3f} {s.recall:>7.3f}" for c, s in scores.items()]
    with capsys.disabled():
        print("\n" + "\n".join(report + misses))
    low = {c: (round(s.precision, 3), round(s.recall, 3)) for c, s in scores.items()
           if s.precision < MINIMUM or s.recall < MINIMUM}
    assert not low, f"below {MINIMUM}: {low}\n" + "\n".join(misses)
    assert sum(s.tp for s in scores.values()) >= len(results), "the table must prove detections, not only absences"
