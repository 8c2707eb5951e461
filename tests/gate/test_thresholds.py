"""Thresholds and fail-on over counted findings: a table of cases, and the directions that matter
(a worse site never passes a gate that a better one fails)."""

from __future__ import annotations

import pytest

from smo_audit.gate.failon import FailOnError, parse_fail_on
from smo_audit.gate.thresholds import Tally, Thresholds, evaluate


def _tally(*problems: tuple[str, str, str], errors: int = 0) -> Tally:
    tally = Tally(errors=errors)
    for rule, severity, status in problems:
        tally.add(rule, severity, status)
    return tally


CATEGORIES = {"open-graph": 85.0, "preview-image": 70.0, "sign-in": None}
OG_IMAGE_FAIL = ("og-image", "error", "fail")
ALT_WARN = ("og-image-alt", "warning", "warn")

CASES = [
    # (thresholds, score, tally, expected passed, needles in the reasons)
    (Thresholds(), 50.0, _tally(OG_IMAGE_FAIL), None, []),
    (Thresholds(fail_under=80), 80.0, _tally(), True, []),
    (Thresholds(fail_under=80), 79.9, _tally(), False, ["score 79.9 is below fail-under 80"]),
    (Thresholds(category_fail_under={"preview-image": 70}), 90.0, _tally(), True, []),
    (Thresholds(category_fail_under={"preview-image": 71}), 90.0, _tally(), False, ["category preview-image scores 70, below 71"]),
    (Thresholds(category_fail_under={"*": 75}), 90.0, _tally(), False, ["preview-image"]),
    (Thresholds(category_fail_under={"*": 60, "sign-in": 99}), 90.0, _tally(), True, []),  # not applicable: no score
    (Thresholds(max_failures={"og-image": 0}), 90.0, _tally(ALT_WARN), True, []),
    (Thresholds(max_failures={"og-image": 1}), 90.0, _tally(OG_IMAGE_FAIL), True, []),
    (Thresholds(max_failures={"og-image": 1}), 90.0, _tally(OG_IMAGE_FAIL, OG_IMAGE_FAIL), False, ["og-image failed or warned 2 times"]),
    (Thresholds(fail_on=parse_fail_on("severity>=error")), 90.0, _tally(ALT_WARN), True, []),
    (Thresholds(fail_on=parse_fail_on("severity>=error")), 90.0, _tally(ALT_WARN, OG_IMAGE_FAIL), False, ["og-image x1"]),
    (Thresholds(fail_on=parse_fail_on("severity>=warning")), 90.0, _tally(ALT_WARN), False, ["og-image-alt"]),
    (Thresholds(fail_on=parse_fail_on("score<90")), 90.0, _tally(), True, []),
    (Thresholds(fail_on=parse_fail_on("score<90")), 89.9, _tally(), False, ["'score<90' holds"]),
    (Thresholds(fail_on=parse_fail_on("category.preview-image<80")), 95.0, _tally(), False, ["preview-image scores 70"]),
    (Thresholds(fail_on=parse_fail_on("category.sign-in<80")), 95.0, _tally(), True, []),
    (Thresholds(fail_on=parse_fail_on("rule.og-image>0")), 95.0, _tally(ALT_WARN), True, []),
    (Thresholds(fail_on=parse_fail_on("rule.og-image>0")), 95.0, _tally(OG_IMAGE_FAIL), False, ["og-image failed or warned 1"]),
    (Thresholds(fail_on=parse_fail_on("errors>0")), 95.0, _tally(errors=2), False, ["crawl errors: 2"]),
    (Thresholds(fail_on=parse_fail_on("problems>=2")), 95.0, _tally(ALT_WARN), True, []),
    (Thresholds(fail_on=parse_fail_on("score<50 or problems>=2")), 95.0, _tally(ALT_WARN, OG_IMAGE_FAIL), False, ["problems: 2"]),
    (Thresholds(fail_under=99, fail_on=parse_fail_on("severity>=error")), 95.0, _tally(OG_IMAGE_FAIL), False,
     ["below fail-under 99", "severity>=error"]),
]


@pytest.mark.parametrize(("thresholds", "score", "tally", "passed", "needles"), CASES)
def test_thresholds(thresholds: Thresholds, score: float, tally: Tally, passed: bool | None, needles: list[str]) -> None:
    verdict = evaluate(thresholds, score, CATEGORIES, tally)
    assert verdict.passed is passed
    assert bool(verdict.reasons) == (passed is False)
    for needle in needles:
        assert any(needle in reason for reason in verdict.reasons), (needle, verdict.reasons)


def test_direction_a_worse_site_never_passes_where_a_better_one_fails() -> None:
    thresholds = Thresholds(fail_under=80, category_fail_under={"*": 60}, max_failures={"og-image": 0},
                            fail_on=parse_fail_on("severity>=error, problems>3"))
    better = _tally(ALT_WARN)
    worse = _tally(ALT_WARN, OG_IMAGE_FAIL)
    assert evaluate(thresholds, 85.0, CATEGORIES, better).passed is True
    assert evaluate(thresholds, 85.0, CATEGORIES, worse).passed is False
    assert evaluate(thresholds, 79.0, CATEGORIES, better).passed is False
    lower = {**CATEGORIES, "preview-image": 55.0}
    assert evaluate(thresholds, 85.0, lower, better).passed is False


@pytest.mark.parametrize("text", ["", "score", "score<", "score<x", "category<3", "rule.x", "severity>=loud",
                                  "score.x<3", "pages>3", "score<90,", "score =< 3"])
def test_bad_expressions_are_refused(text: str) -> None:
    with pytest.raises(FailOnError):
        parse_fail_on(text)


def test_expression_round_trips() -> None:
    conditions = parse_fail_on(" score<90 , category.preview-image<80,severity>=error or rule.og-image>0 ")
    assert [str(c) for c in conditions] == ["score<90", "category.preview-image<80", "severity>=error", "rule.og-image>0"]
