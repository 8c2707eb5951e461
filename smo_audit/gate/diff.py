"""Compare two reports of the same site: what got worse, what got better, did it regress?

Pages are matched by their source file when the audit was of a folder (the loopback port changes
from run to run), else by URL; a page whose URL differs only in host (staging against production,
or two local servers) is matched by path as a fallback. For each matched page and rule the worst
status is compared: pass > warn > fail; skip and not-run are "not judged".

A regression (`regressed`, exit 1 for `diff` and for `audit --baseline`) is a new failure (a
rule that now fails where it passed, warned or was not judged, on a page both reports share or on
a new page) or a site or category score that dropped by more than `tolerance` points. A new
warning is listed as worse and moves the score, but only the tolerance decides whether that fails.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from smo_audit.report.model import Finding, Page, Report

SITE = "(site-wide)"
_RANK = {"fail": 0, "warn": 1, "pass": 2}


class ScoreChange(BaseModel):
    id: str
    title: str
    old: float | None
    new: float | None
    delta: float | None = Field(description="new - old; null when either side has no score")


class FindingChange(BaseModel):
    page: str = Field(description="the page (source file or URL) or (site-wide)")
    rule: str
    category: str
    severity: str
    old: str | None = Field(description="worst status before: pass, warn, fail, or null (not judged / new page)")
    new: str | None
    message: str = Field(description="the finding's message in the report that judged it worse or better")


class ReportDiff(BaseModel):
    old_target: str
    new_target: str
    tolerance: float
    score: ScoreChange
    categories: list[ScoreChange]
    worse: list[FindingChange]
    better: list[FindingChange]
    pages_added: list[str]
    pages_removed: list[str]
    new_failures: int
    regressed: bool
    reasons: list[str] = Field(description="why it regressed: new failures, score drops beyond the tolerance")


def page_key(page: Page) -> str:
    """How a page is recognised across runs: its source file, else its URL."""
    return page.source_path or page.url


def _path_key(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _worst(findings: Iterable[Finding]) -> dict[str, Finding]:
    """Per rule, the finding with the worst judged status (pass/warn/fail); others are left out."""
    worst: dict[str, Finding] = {}
    for finding in findings:
        if finding.status not in _RANK:
            continue
        seen = worst.get(finding.rule)
        if seen is None or _RANK[finding.status] < _RANK[seen.status]:
            worst[finding.rule] = finding
    return worst


@dataclass(frozen=True, slots=True)
class _View:
    """What a diff keeps of a page: how to match it and its worst finding per rule."""

    url: str
    source_path: str | None
    worst: dict[str, Finding]


def _pages(pages: Iterable[Page]) -> dict[str, _View]:
    """Pages one at a time into small views: a live audit's pages stream from its spool."""
    return {page_key(p): _View(p.url, p.source_path, _worst(p.findings)) for p in pages if p.duplicate_of is None}


def _match(old: dict[str, _View], new: dict[str, _View]) -> tuple[list[tuple[str, _View | None, _View | None]], list[str], list[str]]:
    pairs: list[tuple[str, _View | None, _View | None]] = []
    old_left = {k: p for k, p in old.items() if k not in new}
    by_path = {_path_key(p.url): k for k, p in old_left.items() if p.source_path is None}
    added: list[str] = []
    for key, page in new.items():
        if key in old:
            pairs.append((key, old[key], page))
            continue
        fallback = by_path.pop(_path_key(page.url), None) if page.source_path is None else None
        if fallback is not None:
            pairs.append((key, old_left.pop(fallback), page))
        else:
            pairs.append((key, None, page))
            added.append(key)
    return pairs, added, sorted(old_left)


def diff_reports(old: Report, new: Report, *, tolerance: float = 0.0, new_pages: Iterable[Page] | None = None) -> ReportDiff:
    """`new_pages` replaces `new.pages` (a live audit's summary has none: they are on its spool)."""
    pairs, added, removed = _match(_pages(old.pages), _pages(new.pages if new_pages is None else new_pages))
    pairs.append((SITE, None, None))
    worse: list[FindingChange] = []
    better: list[FindingChange] = []
    for key, old_page, new_page in pairs:
        if key == SITE:
            before, after = _worst(old.site_findings), _worst(new.site_findings)
        else:
            before = old_page.worst if old_page is not None else {}
            after = new_page.worst if new_page is not None else {}
        for rule in sorted(set(before) | set(after)):
            was, now = before.get(rule), after.get(rule)
            old_rank = _RANK[was.status] if was is not None else None
            new_rank = _RANK[now.status] if now is not None else None
            if new_rank is not None and new_rank < 2 and (old_rank is None or new_rank < old_rank):
                assert now is not None
                worse.append(_change(key, now, was, now))
            elif old_rank is not None and old_rank < 2 and new_rank is not None and new_rank > old_rank:
                assert was is not None and now is not None
                better.append(_change(key, was, was, now))
    new_failures = sum(1 for c in worse if c.new == "fail")
    score = _score_change("score", "Site score", old.score, new.score)
    old_categories = {c.id: c for c in old.categories}
    categories = [
        _score_change(c.id, c.title, old_categories[c.id].score if c.id in old_categories else None, c.score)
        for c in new.categories
    ]
    reasons: list[str] = []
    if new_failures:
        reasons.append(f"{new_failures} new failure{'' if new_failures == 1 else 's'} "
                       f"({', '.join(sorted({c.rule for c in worse if c.new == 'fail'})[:5])})")
    for change in (score, *categories):
        if change.delta is not None and -change.delta > tolerance:
            what = "the site score" if change.id == "score" else f"category {change.id}"
            reasons.append(f"{what} dropped {-change.delta:g} points ({change.old:g} -> {change.new:g}), "
                           f"more than the tolerance {tolerance:g}")
    return ReportDiff(old_target=old.target, new_target=new.target, tolerance=tolerance, score=score,
                      categories=categories, worse=worse, better=better, pages_added=added, pages_removed=removed,
                      new_failures=new_failures, regressed=bool(reasons), reasons=reasons)


def _change(page: str, shown: Finding, was: Finding | None, now: Finding | None) -> FindingChange:
    return FindingChange(page=page, rule=shown.rule, category=shown.category, severity=shown.severity,
                         old=was.status if was is not None else None, new=now.status if now is not None else None,
                         message=shown.message)


def _score_change(key: str, title: str, old: float | None, new: float | None) -> ScoreChange:
    delta = None if old is None or new is None else round(new - old, 1)
    return ScoreChange(id=key, title=title, old=old, new=new, delta=delta)
