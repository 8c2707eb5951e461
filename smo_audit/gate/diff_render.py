"""`smo-audit diff` and `audit --baseline` output: terminal text, Markdown or JSON.

Everything a page supplied (URLs, messages) is untrusted: terminal text loses control characters
and no line of it starts a GitHub workflow command (`::error::`, which the runner obeys),
Markdown escapes every metacharacter, JSON is written by pydantic.
"""

from __future__ import annotations

from smo_audit.gate.diff import FindingChange, ReportDiff, ScoreChange
from smo_audit.report.markdown import md
from smo_audit.report.summary import clean, defuse_command

LIMIT = 50  # changes listed per side; the counts are always complete


def _delta(change: ScoreChange) -> str:
    if change.delta is None:
        old = "n/a" if change.old is None else f"{change.old:g}"
        new = "n/a" if change.new is None else f"{change.new:g}"
        return f"{old} -> {new}"
    sign = "+" if change.delta > 0 else ""
    return f"{change.old:g} -> {change.new:g} ({sign}{change.delta:g})"


def _status(value: str | None) -> str:
    return value or "not judged"


def verdict(diff: ReportDiff) -> str:
    if diff.regressed:
        return "regressed: " + "; ".join(diff.reasons)
    return f"no regression (tolerance {diff.tolerance:g} points)"


def to_terminal(diff: ReportDiff) -> str:
    lines = [f"smo-audit diff: {clean(diff.old_target, 120)} -> {clean(diff.new_target, 120)}",
             f"Score {_delta(diff.score)}: {clean(verdict(diff), 600)}"]
    moved = [c for c in diff.categories if c.delta]
    if moved:
        lines.append("Categories: " + ", ".join(f"{clean(c.id, 80)} {_delta(c)}" for c in moved))
    for title, changes in ((f"Worse ({len(diff.worse)})", diff.worse), (f"Better ({len(diff.better)})", diff.better)):
        lines.append(f"{title}:")
        lines.extend(f"  {_line(c, clean)}" for c in changes[:LIMIT])
        if len(changes) > LIMIT:
            lines.append(f"  ... and {len(changes) - LIMIT} more")
    for title, pages in (("Pages added", diff.pages_added), ("Pages removed", diff.pages_removed)):
        if pages:
            lines.append(f"{title} ({len(pages)}): " + ", ".join(clean(p, 120) for p in pages[:10])
                         + (" ..." if len(pages) > 10 else ""))
    return "\n".join(defuse_command(line) for line in lines) + "\n"  # a rule id of a saved report too


def _line(change: FindingChange, escape: object) -> str:
    text = clean if escape is clean else md
    return (f"{text(change.rule, 80)} on {text(change.page, 160)}: {_status(change.old)} -> {_status(change.new)} "
            f"({text(change.message, 200)})")


def to_markdown(diff: ReportDiff) -> str:
    icon = "❌" if diff.regressed else "✅"
    lines = [f"## smo-audit baseline: {icon} {md(verdict(diff), 600)}", "",
             "| | Before | After | Change |", "|---|---:|---:|---:|"]
    for change in (diff.score, *diff.categories):
        if change.id == "score" or change.delta:
            old = "n/a" if change.old is None else f"{change.old:g}"
            new = "n/a" if change.new is None else f"{change.new:g}"
            delta = "" if change.delta is None else f"{'+' if change.delta > 0 else ''}{change.delta:g}"
            lines.append(f"| {md(change.title, 80)} | {old} | {new} | {delta} |")
    for title, changes in (("Worse", diff.worse), ("Better", diff.better)):
        lines += ["", f"### {title} ({len(changes)})", ""]
        if not changes:
            lines.append("Nothing.")
        lines.extend(f"- {'❌' if title == 'Worse' else '✅'} {_line(c, md)}" for c in changes[:LIMIT])
        if len(changes) > LIMIT:
            lines.append(f"- … and {len(changes) - LIMIT} more")
    for title, pages in (("Pages added", diff.pages_added), ("Pages removed", diff.pages_removed)):
        if pages:
            lines += ["", f"**{title} ({len(pages)}):** " + ", ".join(md(p, 160) for p in pages[:20])]
    return "\n".join(lines) + "\n"


def to_json(diff: ReportDiff) -> str:
    return diff.model_dump_json(indent=2) + "\n"
