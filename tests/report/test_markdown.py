"""Markdown report: snapshot, GitHub's size limit on huge sites, and inert page content."""

from __future__ import annotations

import os
from pathlib import Path

from markdown_it import MarkdownIt

from smo_audit.report.markdown import GITHUB_COMMENT_LIMIT, md, size, to_markdown
from smo_audit.report.model import Report
from tests.report.factory import synthetic_report
from tests.report.inert import PAYLOAD_TAGS, collect

SNAPSHOTS = Path(__file__).parent / "snapshots"


def _html(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


def test_markdown_snapshot() -> None:
    """The layout people see in a job summary; regenerate with SMO_UPDATE_SNAPSHOTS=1 after a
    deliberate change and review the diff."""
    text = to_markdown(synthetic_report(3))
    snapshot = SNAPSHOTS / "synthetic-3.md"
    if os.environ.get("SMO_UPDATE_SNAPSHOTS"):
        snapshot.write_text(text, encoding="utf-8")
    assert text == snapshot.read_text(encoding="utf-8")


def test_markdown_of_5000_pages_stays_under_githubs_limit_and_says_what_it_cut() -> None:
    report = synthetic_report(5000)
    text = to_markdown(report)
    assert size(text) < GITHUB_COMMENT_LIMIT
    assert text.rstrip().endswith("</details>"), "the <details> block is closed even when cut"
    total = sum(1 for p in report.pages for f in p.findings if f.status in ("fail", "warn")) + 1
    shown = sum(1 for line in text.splitlines() if line.startswith("- "))
    assert f"{total - shown} of {total} problems not shown" in text
    assert shown > 100, "the budget is used, not thrown away"
    # The head survives the cut: score, threshold result and the fix-first table.
    assert "below the threshold 80" in text and "### What to fix first" in text


def test_markdown_limit_counts_like_github_even_for_emoji() -> None:
    report = synthetic_report(300)
    pages = [p.model_copy(update={"source_path": "\U0001f600" * 150 + f"{i}.html"}) for i, p in enumerate(report.pages)]
    text = to_markdown(report.model_copy(update={"pages": pages}), limit=20_000)
    assert size(text) <= 20_000 < len(text.encode("utf-8"))


def test_small_report_is_not_cut_and_lists_every_problem() -> None:
    report = synthetic_report(2)
    text = to_markdown(report)
    assert "not shown" not in text
    assert sum(1 for line in text.splitlines() if line.startswith("- ")) == 2 * 4 + 1


def test_threshold_states() -> None:
    passed = synthetic_report(1).model_copy(update={"passed": True, "score": 91.0})
    assert "✅ passed (threshold 80)" in to_markdown(passed)
    assert "no threshold set" in to_markdown(synthetic_report(1, fail_under=None))


def test_escaping_makes_markup_literal() -> None:
    rendered = _html(md('<script>alert(1)</script> [x](javascript:alert(2)) **b** | {{ 7*7 }} https://evil.example'))
    page = collect(rendered)
    assert [t for t, _ in page.tags] == ["p"]
    assert "".join(page.text).strip() == "<script>alert(1)</script> [x](javascript:alert(2)) **b** | {{ 7*7 }} https://evil.example"


def test_hostile_page_content_never_renders_as_markup(xss_report: Report, rules) -> None:
    text = to_markdown(xss_report, rules)
    page = collect(_html(text))
    tags = {tag for tag, _ in page.tags}
    assert not tags & PAYLOAD_TAGS, tags
    hrefs = [attrs.get("href") or "" for tag, attrs in page.tags if tag == "a"]
    assert hrefs and all(h.startswith("https://github.com/smo-audit/smo-audit/blob/main/docs/rules.md#") for h in hrefs)
    visible = "".join(page.text)
    assert "<script>alert(5)</script>" in visible and "<img src=x onerror=alert(11)>" in visible


def test_fix_first_follows_the_reports_score_explanation(demo_report: Report, rules) -> None:
    text = to_markdown(demo_report, rules)
    table = text.split("### What to fix first", 1)[1].split("\n\n", 2)[1]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "docs/rules.md" in line]
    points = [float(row.split(" | ")[2]) for row in rows]
    assert points == sorted(points, reverse=True) and points[0] > 0
    first = min((c for cat in demo_report.categories for c in cat.costs), key=lambda c: (-c.points_lost, -c.pages_affected, c.rule))
    assert f"[{md(first.rule)}]" in rows[0]
