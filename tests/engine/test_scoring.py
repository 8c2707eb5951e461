"""Scoring is a pure function: weighted means where skip and error weigh nothing."""

from __future__ import annotations

import pytest

from smo_audit.engine.scoring import Scored, ScoringProfile, SiteScorer, page_score

PROFILE = ScoringProfile.from_mapping({
    "status_values": {"pass": 1.0, "warn": 0.5, "fail": 0.0},
    "categories": {"a": {"title": "A", "weight": 3}, "b": {"title": "B", "weight": 1}},
    "unknown_category": {"weight": 2},
})


def test_category_and_page_scores_are_weighted_means() -> None:
    findings = [
        Scored("r1", "a", "pass", 3), Scored("r2", "a", "fail", 1),  # a = 3/4
        Scored("r3", "b", "warn", 1),  # b = 0.5
    ]
    score, categories = page_score(findings, PROFILE)
    assert categories == {"a": 0.75, "b": 0.5}
    assert score == round((3 * 75 + 1 * 50) / 4, 1)  # one decimal


def test_skip_and_error_are_not_scored() -> None:
    score, categories = page_score([Scored("r1", "a", "pass", 1), Scored("r2", "a", "skip", 5),
                                    Scored("rule-error", "engine", "error", 1)], PROFILE)
    assert score == 100.0 and categories == {"a": 1.0}
    assert page_score([Scored("r", "a", "skip", 1)], PROFILE) == (None, {})


def test_unknown_categories_use_the_fallback_weight() -> None:
    score, _ = page_score([Scored("r1", "a", "pass", 1), Scored("x", "plugin", "fail", 1)], PROFILE)
    assert score == pytest.approx(100 * 3 / 5)
    assert PROFILE.category("plugin").title == "Plugin"


def test_site_score_counts_each_rule_once_by_pass_rate() -> None:
    scorer = SiteScorer(PROFILE)
    scorer.add([Scored("r1", "a", "pass", 1), Scored("r2", "a", "fail", 1)])  # page 1
    scorer.add([Scored("r1", "a", "fail", 1), Scored("r2", "a", "fail", 1)])  # page 2
    scorer.add([Scored("r1", "a", "pass", 1)])  # page 3 (r2 not applicable there)
    scorer.add([Scored("site", "b", "pass", 1)])  # a site rule
    score, categories = scorer.result()
    assert categories["a"] == pytest.approx((2 / 3 + 0) / 2)
    assert categories["b"] == 1.0
    assert score == pytest.approx(round(100 * (3 * (1 / 3) + 1 * 1) / 4, 1))


def test_builtin_profile_covers_the_builtin_categories() -> None:
    profile = ScoringProfile.load()
    assert profile.status_values == {"pass": 1.0, "warn": 0.5, "fail": 0.0}
    assert {"open-graph", "twitter-card", "share-buttons", "profiles", "sign-in"} <= set(profile.categories)
    assert all(c.weight > 0 for c in profile.categories.values())
