"""Scoring is a pure function: weighted means where skip and error weigh nothing, hygiene rules
only take points away, and the site score is the mean of its pages' scores."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smo_audit.engine.scoring import Scored, ScoringProfile, SiteScore, SiteScorer, page_score
from tests.support.properties import examples

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


PENALISED = ScoringProfile.from_mapping({
    "status_values": {"pass": 1.0, "warn": 0.5, "fail": 0.0},
    "categories": {"a": {"title": "A", "weight": 3}, "b": {"title": "B", "weight": 1}},
    "penalties": {"hygiene": 0.4},
})


def _site(profile: ScoringProfile, pages: list[list[Scored]], site: Sequence[Scored] = ()) -> SiteScore:
    scorer = SiteScorer(profile)
    for findings in pages:
        scorer.add(findings)
    scorer.add_site(site)
    return scorer.result()


def test_site_score_is_the_mean_of_page_scores_with_site_findings_in_each() -> None:
    pages = [
        [Scored("r1", "a", "pass", 1), Scored("r2", "a", "fail", 1)],
        [Scored("r1", "a", "fail", 1), Scored("r2", "a", "fail", 1)],
        [Scored("r1", "a", "pass", 1)],  # r2 not applicable here
    ]
    site = [Scored("site", "b", "pass", 1)]
    result = _site(PROFILE, pages, site)
    each = [page_score([*p, *site], PROFILE)[0] for p in pages]
    assert each == [62.5, 25.0, 100.0]
    assert result.score == pytest.approx(round(sum(each) / 3, 1))
    assert (result.page_min, result.page_max, result.pages) == (25.0, 100.0, 3)
    assert result.categories["a"] == pytest.approx((0.5 + 0 + 1) / 3) and result.categories["b"] == 1.0


def test_pages_counted_together_score_as_pages_added_one_by_one() -> None:
    """The audit counts pages that scored alike once, with their number (Audit.summary)."""
    good = [Scored("r1", "a", "pass", 1), Scored("r2", "a", "pass", 1)]
    bad = [Scored("r1", "a", "fail", 1), Scored("r2", "a", "warn", 1)]
    site = [Scored("site", "b", "fail", 1)]
    one_by_one = _site(PROFILE, [good, good, good, bad], site)
    together = SiteScorer(PROFILE)
    together.add(good, 3)
    together.add(bad)
    together.add_site(site)
    assert together.result() == one_by_one
    more_bad = SiteScorer(PROFILE)
    more_bad.add(good, 2)
    more_bad.add(bad, 2)
    more_bad.add_site(site)
    assert more_bad.result().score < one_by_one.score  # one good page fewer, one bad more: lower


def test_a_rule_failing_on_its_only_page_cannot_sink_the_site_below_every_page() -> None:
    """The old model counted each rule once by pass rate: a rule failing on the one page it applied
    to weighed as much as one failing everywhere, so the site scored below all of its pages."""
    pages = [[Scored("r1", "a", "pass", 1)] for _ in range(9)] + [[Scored("r1", "a", "pass", 1),
                                                                   Scored("rare", "b", "fail", 1)]]
    result = _site(PROFILE, pages)
    assert result.page_min is not None and result.score is not None
    assert result.page_min <= result.score <= (result.page_max or 0)
    assert result.score == pytest.approx(round((9 * 100 + 75) / 10, 1))


def test_hygiene_rules_only_take_points_away() -> None:
    base = [Scored("r1", "a", "warn", 1)]
    assert page_score(base, PENALISED) == page_score([*base, Scored("hygiene", "a", "pass", 1)], PENALISED)
    failing, _ = page_score([*base, Scored("hygiene", "a", "fail", 1)], PENALISED)
    warning, _ = page_score([*base, Scored("hygiene", "a", "warn", 1)], PENALISED)
    assert failing == pytest.approx(50 * 0.6) and warning == pytest.approx(50 * 0.8)
    # a category judged only by hygiene rules: absent while they pass, failing when they do not
    assert page_score([Scored("hygiene", "b", "pass", 1)], PENALISED) == (None, {})
    assert page_score([Scored("hygiene", "b", "warn", 1)], PENALISED) == (0.0, {"b": 0.0})


def test_points_lost_is_what_passing_the_rule_everywhere_would_gain() -> None:
    pages = [
        [Scored("r1", "a", "fail", 2), Scored("r2", "a", "pass", 1), Scored("hygiene", "a", "fail", 1)],
        [Scored("r1", "a", "warn", 2), Scored("r3", "b", "fail", 1)],
        [Scored("r2", "a", "pass", 1)],
    ]
    site = [Scored("s1", "b", "fail", 1)]
    result = _site(PENALISED, pages, site)
    assert result.score is not None
    costs = {c.rule: c for c in result.costs}
    assert set(costs) == {"r1", "hygiene", "r3", "s1"}
    for rule, cost in costs.items():
        fixed_pages = [[Scored(f.rule, f.category, "pass" if f.rule == rule else f.status, f.weight) for f in p]
                       for p in pages]
        fixed_site = [Scored(f.rule, f.category, "pass" if f.rule == rule else f.status, f.weight) for f in site]
        fixed = _site(PENALISED, fixed_pages, fixed_site).score
        assert fixed is not None
        assert cost.points_lost == pytest.approx(fixed - result.score, abs=0.11), rule
    assert (costs["r1"].pages_affected, costs["r1"].pages_scored, costs["r1"].scope) == (2, 2, "page")
    assert (costs["s1"].pages_affected, costs["s1"].pages_scored, costs["s1"].scope) == (3, 3, "site")
    assert [c.rule for c in result.costs] == sorted(costs, key=lambda r: -costs[r].points_lost)
    assert result.site_points_lost == costs["s1"].points_lost
    assert result.category_points_lost["a"] >= costs["r1"].points_lost


_STATUSES = ("fail", "warn", "pass", "skip")
_finding = st.builds(Scored, st.sampled_from(["r1", "r2", "r3", "hygiene"]), st.sampled_from(["a", "b"]),
                     st.sampled_from(_STATUSES), st.sampled_from([1.0, 2.0, 3.0]))


@settings(max_examples=examples(150), deadline=None)
@given(pages=st.lists(st.lists(_finding, min_size=1, max_size=6), min_size=1, max_size=4),
       site=st.lists(_finding, max_size=2), where=st.integers(min_value=0, max_value=1000))
def test_a_better_status_never_lowers_a_page_or_the_site(pages: list[list[Scored]], site: list[Scored],
                                                         where: int) -> None:
    """Monotone in every finding: fail -> warn -> pass never lowers the page or the site score."""
    flat = [(i, j) for i, p in enumerate(pages) for j, f in enumerate(p) if f.status in ("fail", "warn")]
    if not flat:
        return
    i, j = flat[where % len(flat)]
    old = pages[i][j]
    better = [[*p] for p in pages]
    better[i][j] = Scored(old.rule, old.category, "warn" if old.status == "fail" else "pass", old.weight)
    assert (page_score(better[i], PENALISED)[0] or 0) >= (page_score(pages[i], PENALISED)[0] or 0) - 1e-9
    before, after = _site(PENALISED, pages, site), _site(PENALISED, better, site)
    assert (after.score or 0) >= (before.score or 0) - 0.05


def test_builtin_profile_covers_the_builtin_categories() -> None:
    profile = ScoringProfile.load()
    assert profile.status_values == {"pass": 1.0, "warn": 0.5, "fail": 0.0}
    assert {"open-graph", "twitter-card", "share-buttons", "profiles", "sign-in"} <= set(profile.categories)
    assert all(c.weight > 0 for c in profile.categories.values())


def test_an_absent_category_says_why_in_its_own_words() -> None:
    from smo_audit.engine.scoring import absent_reason

    rendered, static = "needs rendered mode (run with --render)", "no content page on the site to judge"
    assert absent_reason("share-buttons", [rendered, static], True) == static, "a static reason before --render"
    assert absent_reason("share-buttons", [rendered], True) == rendered
    assert absent_reason("x", [], True) == "none of its rules applied to the audited pages"
    assert absent_reason("x", [static], False).startswith("none of its rules ran")
    conversation = ScoringProfile.load().category("conversation").absent
    assert conversation is not None and "comment system" in conversation
    assert absent_reason("conversation", [static], True, conversation) == conversation


# (pages' findings, site-wide findings) -> what the score sentence must and must not say
_PAGE = [Scored("r1", "a", "pass", 1), Scored("r2", "b", "fail", 1)]
_OTHER_PAGE = [Scored("r1", "a", "fail", 1), Scored("r2", "b", "fail", 1)]
SENTENCES = [
    pytest.param([_PAGE], [], ["its one page's score."], ["site-wide", "mean of", "page' "], id="one page, no site checks"),
    pytest.param([_PAGE], [Scored("s1", "a", "pass", 1)],
                 ["its one page's score with the site-wide checks counted in", "counts its own checks only"],
                 ["mean of", "cost"], id="one page, site checks passing"),
    pytest.param([_PAGE, _OTHER_PAGE], [], ["mean of 2 pages' scores (from "], ["site-wide", "own checks"],
                 id="site rules not run or ignored"),
    pytest.param([_PAGE, _OTHER_PAGE], [Scored("s1", "a", "fail", 1)],
                 ["mean of 2 pages' scores with the site-wide checks counted in (from ",
                  "counts its own checks only", "failing site-wide checks cost "], [], id="site check failing"),
]


@pytest.mark.parametrize(("pages", "site", "says", "never"), SENTENCES)
def test_the_score_sentence_names_the_site_wide_checks_only_when_they_counted(
        pages: list[list[Scored]], site: list[Scored], says: list[str], never: list[str]) -> None:
    from smo_audit.engine.explain import _sentence

    scorer = SiteScorer(PROFILE)
    for findings in pages:
        scorer.add(findings)
    scorer.add_site(site)
    sentence = _sentence(scorer.result())
    assert all(part in sentence for part in says), sentence
    assert not any(part in sentence for part in never), sentence
