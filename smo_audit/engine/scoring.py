"""Weighted scoring, Lighthouse-style: not-applicable results weigh nothing.

    value(finding)   = status_values[status]                   (pass 1, warn 0.5, fail 0)
    category score   = sum(w_rule * value) / sum(w_rule)       over scored findings in the category
    page score       = sum(W_cat * category) / sum(W_cat)      over categories with scored findings
    site, per rule   = mean value of a page rule over the pages it scored on; a site rule's value
    site category    = sum(w_rule * site value) / sum(w_rule)
    site score       = sum(W_cat * site category) / sum(W_cat)

Every rule therefore counts once at site level, page rules by their pass rate. Scores are 0..100,
rounded to one decimal; a page or site with nothing scored has score None ("not scored").
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

SCORED = ("pass", "warn", "fail")


@dataclass(frozen=True)
class Category:
    id: str
    title: str
    weight: float


@dataclass(frozen=True)
class ScoringProfile:
    categories: Mapping[str, Category]
    status_values: Mapping[str, float]
    unknown_category_weight: float = 1.0
    rule_weights: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls) -> ScoringProfile:
        text = resources.files("smo_audit_rules").joinpath("scoring.toml").read_text("utf-8")
        return cls.from_mapping(tomllib.loads(text))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ScoringProfile:
        categories = {
            key: Category(key, str(value.get("title", key)), float(value.get("weight", 1)))
            for key, value in data.get("categories", {}).items()
        }
        return cls(
            categories=categories,
            status_values={k: float(v) for k, v in data.get("status_values", {}).items()},
            unknown_category_weight=float(data.get("unknown_category", {}).get("weight", 1)),
            rule_weights={k: float(v) for k, v in data.get("rule_weights", {}).items()},
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


def _weighted(pairs: Iterable[tuple[float, float]]) -> float | None:
    total = weight = 0.0
    for w, v in pairs:
        total += w * v
        weight += w
    return None if weight == 0 else total / weight


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def category_scores(findings: Iterable[Scored], profile: ScoringProfile) -> dict[str, float]:
    """Per category, the weighted mean of the findings' values (0..1)."""
    by_category: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for f in findings:
        value = profile.value(f.status)
        if value is not None:
            by_category[f.category].append((f.weight, value))
    result: dict[str, float] = {}
    for category, pairs in by_category.items():
        mean = _weighted(pairs)
        if mean is not None:
            result[category] = mean
    return result


def combine(categories: Mapping[str, float], profile: ScoringProfile) -> float | None:
    return _pct(_weighted((profile.category(c).weight, v) for c, v in categories.items()))


def page_score(findings: Iterable[Scored], profile: ScoringProfile) -> tuple[float | None, dict[str, float]]:
    cats = category_scores(findings, profile)
    return combine(cats, profile), cats


class SiteScorer:
    """Accumulates rule values as pages stream by, so no finding list has to be kept for scoring."""

    def __init__(self, profile: ScoringProfile) -> None:
        self.profile = profile
        self._sums: dict[tuple[str, str], list[float]] = {}  # (category, rule) -> [sum, count, weight]

    def add(self, findings: Iterable[Scored]) -> None:
        for f in findings:
            value = self.profile.value(f.status)
            if value is None:
                continue
            entry = self._sums.setdefault((f.category, f.rule), [0.0, 0.0, f.weight])
            entry[0] += value
            entry[1] += 1

    def result(self) -> tuple[float | None, dict[str, float]]:
        per_category: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for (category, _rule), (total, count, weight) in self._sums.items():
            per_category[category].append((weight, total / count))
        cats = {c: v for c, pairs in per_category.items() if (v := _weighted(pairs)) is not None}
        return combine(cats, self.profile), cats
