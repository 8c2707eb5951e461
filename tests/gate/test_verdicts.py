"""Every writer says why a gated audit failed, not only when the score was below fail-under."""

from __future__ import annotations

import re

from smo_audit.report.html import to_html
from smo_audit.report.markdown import to_markdown
from smo_audit.report.wording import verdict_text
from tests.report.factory import synthetic_report

FAIL_ON = "fail-on 'severity>=error' holds: 3 error-level findings failed or warned (og-image x3)"
BELOW = "score 61.5 is below fail-under 80"


def test_fail_on_only() -> None:
    report = synthetic_report(1, fail_under=None).model_copy(update={"passed": False, "failed_thresholds": [FAIL_ON]})
    assert verdict_text(report.passed, report.fail_under, report.failed_thresholds) == f"failed: {FAIL_ON}"
    markdown = to_markdown(report)
    assert "❌ failed the thresholds" in markdown and "no threshold set" not in markdown
    assert r"fail\-on \'severity\>\=error\' holds" in markdown
    html = to_html(report)
    assert "Failed the thresholds." in html and "fail-on &#39;severity&gt;=error&#39; holds" in html
    assert "No threshold set" not in html


def test_fail_under_and_another_threshold() -> None:
    report = synthetic_report(1).model_copy(update={"passed": False, "failed_thresholds": [BELOW, FAIL_ON]})
    assert verdict_text(report.passed, report.fail_under, report.failed_thresholds) == \
        f"below the threshold 80, failed: {FAIL_ON}"
    assert "❌ below the threshold 80" in to_markdown(report)
    html = to_html(report)
    assert "Below the threshold</span> of 80" in html and "<li>fail-on" in html and "<li>score 61.5" not in html


def test_passed_without_fail_under() -> None:
    report = synthetic_report(1, fail_under=None).model_copy(update={"passed": True, "failed_thresholds": []})
    assert verdict_text(True, None, ()) == "passed the thresholds"
    assert "✅ passed the thresholds" in to_markdown(report)
    assert "every threshold" in to_html(report)


def test_the_html_report_shows_the_score_it_compared_to_one_decimal() -> None:
    """36.7 is below the threshold of 36.8: the page said 37/100 beside it (title, heading and
    gauge rounded to an integer), a score that would have passed."""
    report = synthetic_report(1).model_copy(update={"score": 36.7, "fail_under": 36.8, "passed": False,
                                                    "failed_thresholds": ["score 36.7 is below fail-under 36.8"]})
    html = to_html(report)
    assert "Below the threshold</span> of 36.8" in html
    title = re.search(r"<title>smo-audit (\S+)/100 ", html)
    heading = re.search(r"<h1>Social media optimisation: (\S+)/100</h1>", html)
    label = re.search(r'aria-label="Site score (\S+) out of 100"', html)
    shown = re.search(r'<svg class="gauge".*?<text [^>]*>([^<]*)</text>', html, re.S)
    assert [m.group(1) if m else None for m in (title, heading, label, shown)] == ["36.7"] * 4
    whole = to_html(report.model_copy(update={"score": 100.0, "passed": True, "failed_thresholds": []}))
    assert "<h1>Social media optimisation: 100/100</h1>" in whole  # no "100.0"
