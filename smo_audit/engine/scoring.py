"""Weighted scoring, Lighthouse-style, with penalty-only hygiene rules and an explanation.

    value(finding)   = status_values[status]                      (pass 1, warn 0.5, fail 0)
    category score   = sum(w * value) / sum(w)                     over the category's scored rules
                       * product(1 - penalty * (1 - value))        over its hygiene (penalty) rules
    page score       = sum(W_cat * category) / sum(W_cat)          over categories with scored rules
    site score       = mean over pages of the page score, where each page also counts the site-wide
                       findings (robots.txt, feeds, consistency across pages): they affect every page;
                       a page the site failed to deliver (HTTP 4xx/5xx, timeout, a redirect loop, an
                       .html URL served as a download: broken_page()) counts as a page scoring 0, so a page that
                       breaks never raises the site score by leaving the mean

Hygiene rules ([penalties] in rules/scoring.toml: tags inside <head>, no conflicting duplicates, no
dead widgets) only take points away: passing them earns nothing, because having nothing to get
wrong is no achievement, and a junk tag added to a bare page must not raise its score.

Because the site score is a mean of page scores, it lies between the lowest and the highest page
score (site-wide findings included), and a change that raises every page raises the site. The
explanation is counterfactual: a rule's `points_lost` is how many site-score points the site would
gain if that rule passed everywhere it was scored. Scores are 0..100 with one decimal; a page or
site with nothing scored has score None ("not scored").
"""

from __future__ import annotations

import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

SCORED = ("pass", "warn", "fail")
# errors[] kinds of a page URL the site failed to deliver: such a page scores 0 in the site mean
# (the fetcher's failure kinds, crawl/fetcher.py, but those that are not the site's: not-html,
# invalid-url, private-address; a URL in errors[] counts once, a redirect onto a broken page too;
# broken_page() adds the not-html URLs named like pages)
BROKEN_PAGE_KINDS = frozenset((
    "http-status", "timeout", "dns", "tls", "connect", "protocol", "network", "too-large", "decoding",
    "redirect-loop", "too-many-redirects", "bad-redirect",
))


def broken_page(kind: str, url: str) -> bool:
    """Whether an errors[] entry is a page the site failed to deliver: a BROKEN_PAGE_KINDS kind, or
    a URL named like an HTML page (`/about.html`) served as something else (a download: not-html)."""
    if kind in BROKEN_PAGE_KINDS:
        return True
    if kind != "not-html":
        return False
    from smo_audit.crawl.urls import names_html_page

    return names_html_page(url)


@dataclass(frozen=True)
class Category:
    id: str
    title: str
    weight: float
    absent: str | None = None  # why the category has no score when none of its rules judged anything


@dataclass(frozen=True)
class ScoringProfile:
    categories: Mapping[str, Category]
    status_values: Mapping[str, float]
    unknown_category_weight: float = 1.0
    rule_weights: Mapping[str, float] = field(default_factory=dict)
    penalties: Mapping[str, float] = field(default_factory=dict)  # hygiene rule -> share of its category a fail takes
    # hygiene rule -> the rule that must be scored on the page for its penalty to count
    penalty_scope: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls) -> ScoringProfile:
        text = resources.files("smo_audit_rules").joinpath("scoring.toml").read_text("utf-8")
        return cls.from_mapping(tomllib.loads(text))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ScoringProfile:
        categories = {
            key: Category(key, str(value.get("title", key)), float(value.get("weight", 1)),
                          str(value["absent"]) if value.get("absent") else None)
            for key, value in data.get("categories", {}).items()
        }
        penalties = {k: min(1.0, max(0.0, float(v))) for k, v in data.get("penalties", {}).items()}
        return cls(
            categories=categories,
            status_values={k: float(v) for k, v in data.get("status_values", {}).items()},
            unknown_category_weight=float(data.get("unknown_category", {}).get("weight", 1)),
            rule_weights={k: float(v) for k, v in data.get("rule_weights", {}).items()},
            penalties=penalties,
            penalty_scope={k: str(v) for k, v in data.get("penalty_scope", {}).items()},
        )

    def category(self, category_id: str) -> Category:
        known = self.categories.get(category_id)
        if known is not None:
            return known
        return Category(category_id, category_id.replace("-", " ").capitalize(), self.unknown_category_weight)

    def value(self, status: str) -> float | None:
        return self.status_values.get(status) if status in SCORED else None


@dataclass(frozen=True, slots=True)
class Scored:
    """The minimum a scorer needs of a finding."""

    rule: str
    category: str
    status: str
    weight: float


# (rule, value, weight) of each scored finding of one category on one page
_Entries = list[tuple[str, float, float]]


def _category_value(entries: _Entries, penalties: Mapping[str, float], passing: str | None = None,
                    all_pass: bool = False, scope: Mapping[str, str] | None = None) -> float | None:
    """One category's value (0..1) on one page; `passing`/`all_pass` evaluate "what if it passed".

    A penalty with a `scope` rule counts only where that rule is scored too (the share buttons'
    hygiene only on pages that must offer sharing: elsewhere buttons are optional, and neither
    earn nor cost, so a working button with a flaw never scores below none)."""
    total = weight = 0.0
    factor = 1.0
    penalised = False
    scored = {rule for rule, _, _ in entries} if scope else set()
    for rule, value, w in entries:
        if all_pass or rule == passing:
            value = 1.0
        penalty = penalties.get(rule)
        if penalty is not None and scope and rule in scope and scope[rule] not in scored:
            continue  # out of its scope: not judged on this page
        if penalty is not None:
            if value < 1.0:
                factor *= 1.0 - penalty * (1.0 - value)
                penalised = True
        else:
            total += w * value
            weight += w
    if weight == 0:
        # Only hygiene rules judged here: passing them earns nothing (no category), failing costs.
        return 0.0 if penalised else None
    return total / weight * factor


def _group(findings: Iterable[Scored], profile: ScoringProfile) -> dict[str, _Entries]:
    grouped: dict[str, _Entries] = defaultdict(list)
    for f in findings:
        value = profile.value(f.status)
        if value is not None:
            grouped[f.category].append((f.rule, value, f.weight))
    return grouped


def _combine(values: Mapping[str, float], profile: ScoringProfile) -> float | None:
    total = weight = 0.0
    for category, value in values.items():
        w = profile.category(category).weight
        total += w * value
        weight += w
    return None if weight == 0 else total / weight


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def category_scores(findings: Iterable[Scored], profile: ScoringProfile) -> dict[str, float]:
    """Per category, its value (0..1): weighted mean of its rules times its hygiene penalties."""
    result: dict[str, float] = {}
    for category, entries in _group(findings, profile).items():
        value = _category_value(entries, profile.penalties, scope=profile.penalty_scope)
        if value is not None:
            result[category] = value
    return result


def combine(categories: Mapping[str, float], profile: ScoringProfile) -> float | None:
    return _pct(_combine(categories, profile))


def page_score(findings: Iterable[Scored], profile: ScoringProfile) -> tuple[float | None, dict[str, float]]:
    cats = category_scores(findings, profile)
    return combine(cats, profile), cats


@dataclass(frozen=True, slots=True)
class RuleCostData:
    """What one rule costs the site: score points, and on how many pages."""

    rule: str
    category: str
    scope: str  # "page" or "site"
    points_lost: float  # site-score points gained if this rule passed everywhere it was scored
    pages_affected: int  # pages where it failed or warned (a site rule: every page, when it did)
    pages_scored: int  # pages where it was scored (a site rule: every page)


@dataclass(frozen=True, slots=True)
class SiteScore:
    score: float | None  # 0..100, one decimal
    categories: dict[str, float]  # category -> mean of its page values (0..1), over pages it applies to
    category_points_lost: dict[str, float]  # category -> site points gained if all its rules passed
    costs: list[RuleCostData]  # every rule that failed or warned somewhere, most costly first
    pages: int = 0  # pages that count in the score
    page_min: float | None = None  # lowest and highest page score, site-wide findings included
    page_max: float | None = None
    site_points_lost: float = 0.0  # site points gained if every site-wide rule passed
    site_checks: int = 0  # scored site-wide findings counted in every page (0: site rules skipped or not run)


class SiteScorer:
    """Collects each page's scored findings as pages stream by, and the site-wide findings.

    Pages are kept as their distinct scored-finding signatures with a count: most pages of a site
    come from a few templates, so a big site keeps a few hundred tuples, not every finding.
    """

    def __init__(self, profile: ScoringProfile) -> None:
        self.profile = profile
        self._pages: Counter[tuple[Scored, ...]] = Counter()
        self._site: list[Scored] = []
        self._broken = 0

    def add(self, findings: Iterable[Scored], pages: int = 1) -> None:
        """One page's findings (or those of `pages` pages that scored alike)."""
        self._pages[tuple(f for f in findings if f.status in SCORED)] += pages

    def add_broken(self, pages: int) -> None:
        """Pages the site failed to deliver (see BROKEN_PAGE_KINDS): each scores 0 in the mean."""
        self._broken += pages

    def add_site(self, findings: Iterable[Scored]) -> None:
        """The site-wide findings (site rules): they count in every page."""
        self._site.extend(f for f in findings if f.status in SCORED)

    def result(self) -> SiteScore:
        profile = self.profile
        site_rules = {f.rule for f in self._site}
        pages = 0
        total = 0.0
        low: float | None = None
        high: float | None = None
        cat_sum: dict[str, float] = defaultdict(float)
        cat_pages: Counter[str] = Counter()
        gains: dict[str, float] = defaultdict(float)
        cat_gains: dict[str, float] = defaultdict(float)
        site_gain = 0.0
        scored_on: Counter[str] = Counter()
        affected: Counter[str] = Counter()
        category_of: dict[str, str] = {}
        signatures = self._pages or (Counter({(): 1}) if self._site else Counter())
        for signature, count in signatures.items():
            grouped = _group((*signature, *self._site), profile)
            values = {c: v for c, entries in grouped.items()
                      if (v := _category_value(entries, profile.penalties, scope=profile.penalty_scope)) is not None}
            base = _combine(values, profile)
            if base is None:
                continue
            pages += count
            total += base * count
            low = base if low is None else min(low, base)
            high = base if high is None else max(high, base)
            for category, value in values.items():
                cat_sum[category] += value * count
                cat_pages[category] += count
            all_failing: set[str] = set()
            for category, entries in grouped.items():
                failing = {rule for rule, value, _ in entries if value < 1.0}
                all_failing |= failing
                for rule in {rule for rule, _, _ in entries}:
                    category_of.setdefault(rule, category)
                    scored_on[rule] += count
                    if rule in failing:
                        affected[rule] += count
                if not failing:
                    continue
                for rule in failing:
                    gains[rule] += count * (self._what_if(values, category, entries, base, passing=rule))
                cat_gains[category] += count * self._what_if(values, category, entries, base, all_pass=True)
            if all_failing & site_rules:
                site_gain += count * self._site_what_if(grouped, all_failing & site_rules, base)
        if pages == 0:
            return SiteScore(None, {}, {}, [], 0)
        if self._broken:
            pages += self._broken  # scoring 0: total unchanged
            low = 0.0
        costs = [
            RuleCostData(rule, category_of[rule], "site" if rule in site_rules else "page",
                         round(gains[rule] / pages * 100, 1), affected[rule], scored_on[rule])
            for rule in affected
        ]
        costs.sort(key=lambda c: (-c.points_lost, -c.pages_affected, c.rule))
        return SiteScore(
            score=_pct(total / pages),
            categories={c: cat_sum[c] / cat_pages[c] for c in cat_sum},
            category_points_lost={c: round(g / pages * 100, 1) for c, g in cat_gains.items()},
            costs=costs,
            pages=pages,
            page_min=_pct(low),
            page_max=_pct(high),
            site_points_lost=round(site_gain / pages * 100, 1),
            site_checks=len(self._site),
        )

    def _what_if(self, values: Mapping[str, float], category: str, entries: _Entries, base: float,
                 passing: str | None = None, all_pass: bool = False) -> float:
        """How much this page's score (0..1) would rise if `passing` (or the whole category) passed."""
        changed = dict(values)
        value = _category_value(entries, self.profile.penalties, passing=passing, all_pass=all_pass,
                                scope=self.profile.penalty_scope)
        if value is None:
            changed.pop(category, None)
        else:
            changed[category] = value
        after = _combine(changed, self.profile)
        return 0.0 if after is None else max(0.0, after - base)

    def _site_what_if(self, grouped: Mapping[str, _Entries], rules: set[str], base: float) -> float:
        values: dict[str, float] = {}
        for category, entries in grouped.items():
            lifted = [(rule, 1.0 if rule in rules else value, w) for rule, value, w in entries]
            value = _category_value(lifted, self.profile.penalties, scope=self.profile.penalty_scope)
            if value is not None:
                values[category] = value
        after = _combine(values, self.profile)
        return 0.0 if after is None else max(0.0, after - base)


def absent_reason(category: str, skip_messages: Sequence[str], selected: bool, absent: str | None = None) -> str:
    """Why a category has no score: the catalogue's own sentence for it (scoring.toml `absent`), else
    the first reason one of its rules gave for skipping, a reason of the static audit before "needs
    rendered mode" (which says why one rule did not run, not why the category does not apply)."""
    if not selected:
        return "none of its rules ran (deselected with --select/--ignore)"
    if absent:
        return absent
    if skip_messages:
        return sorted(skip_messages, key=lambda m: m.startswith("needs rendered mode"))[0]
    return "none of its rules applied to the audited pages"
