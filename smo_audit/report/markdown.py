"""Markdown: a compact summary for a GitHub job summary or a pull-request comment.

Score and threshold result, the category table, what to fix first (linked to the rule docs), then
every problem inside `<details>`. The text never exceeds `limit` characters (GitHub rejects a
comment over 65,536): the full list is cut with a note saying how much was left out.

Built in Python rather than a template because the size budget is decided line by line. Page
content is untrusted: `md()` backslash-escapes every Markdown and HTML metacharacter, so a title
like `<script>` or `[x](javascript:...)` shows literally and never becomes markup or a link.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from smo_audit.report.model import FolderInfo, Report
from smo_audit.report.summary import (
    ProblemGroup,
    RuleInfo,
    clean,
    first_paragraph,
    fix_first,
    page_label,
    problem_groups,
    rule_infos,
)
from smo_audit.report.wording import below_fail_under, plural, score_text

if TYPE_CHECKING:
    from smo_audit.engine.api import Rule

GITHUB_COMMENT_LIMIT = 65_536
DEFAULT_LIMIT = 65_000  # a margin under GitHub's limit for whatever a workflow adds around it
FIX_FIRST = 10
_MD_SPECIAL = frozenset("\\`*_{}[]<>()#+-.!|~&\"'=:$@")
_ICON = {"fail": "❌", "warn": "⚠️"}


def md(text: str | None, limit: int = 300) -> str:
    """Untrusted text as inert Markdown on one line: every metacharacter backslash-escaped."""
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in clean(text, limit))


def size(text: str) -> int:
    """Length as GitHub counts it (UTF-16 code units: an emoji counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def _pages(count: int) -> str:
    return f"{count} page" if count == 1 else f"{count} pages"


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def _rule_link(rule: RuleInfo) -> str:
    label = md(rule.id, 80)
    uri = rule.help_uri
    return f"[{label}]({uri})" if uri else label


def _verdict(report: Report) -> str:
    # The site score exactly as compared with --fail-under (one decimal), never re-rounded.
    score = f"**{score_text(report.score)}/100**"
    if report.passed is None or (report.passed is False and report.fail_under is None and not report.failed_thresholds):
        return f"{score} (no threshold set)"
    if report.passed:
        if report.fail_under is None:
            return f"{score} ✅ passed the thresholds"
        return f"{score} ✅ passed (threshold {report.fail_under:g})"
    reasons = report.failed_thresholds
    if report.fail_under is not None and (not reasons or any(below_fail_under(r) for r in reasons)):
        return f"{score} ❌ below the threshold {report.fail_under:g}"
    return f"{score} ❌ failed the thresholds"


def _folder(folder: FolderInfo) -> str:
    """A build folder audit: files audited, the production origin, orphans (files no page links to)."""
    line = f"Folder: {folder.audited_files} of {plural(folder.html_files, 'HTML file')} audited"
    if folder.not_audited:
        line += f" ({folder.not_audited} left out)"
    if folder.origin:
        how = "detected from canonical/og:url" if folder.origin_source == "detected" else "--base-url"
        line += f" · production origin {md(folder.origin, 200)} ({how})"
    if folder.orphans:
        shown = ", ".join(md(o, 100) for o in folder.orphans[:5])
        more = f" and {len(folder.orphans) - 5} more" if len(folder.orphans) > 5 else ""
        line += f" · {plural(len(folder.orphans), 'orphan')} (linked from no page): {shown}{more}"
    return line


def _head(report: Report, groups: list[ProblemGroup]) -> list[str]:
    lines = [f"## smo-audit: {_verdict(report)}", ""]
    failed = [r for r in report.failed_thresholds if not below_fail_under(r)]
    if failed:
        lines += [f"- ❌ {md(reason, 500)}" for reason in failed[:20]] + [""]
    about = f"Target {md(report.target, 200)} · {_pages(len(report.pages))} · {report.mode} mode · smo-audit {md(report.tool.version, 40)}"
    lines += [about, ""]
    if report.partial:
        lines += [f"> **Partial report**: the audit stopped early ({md(report.stop_reason or 'stopped', 80)}).", ""]
    if report.errors:
        lines += [f"{plural(len(report.errors), 'crawl error')}: URLs that could not be audited.", ""]
    if report.folder is not None:
        lines += [_folder(report.folder), ""]
    if report.categories:
        lines += ["| Category | Score |", "|---|---:|"]
        lines += [f"| {md(c.title, 80)} | {_score(c.score)} |" for c in report.categories[:40]]
        lines.append("")
    if not groups:
        lines += ["No failures or warnings.", ""]
        return lines
    items = fix_first(report, groups, FIX_FIRST)
    costed = any(item.points_lost is not None for item in items)
    lines += ["### What to fix first", ""]
    if costed:
        lines += ["| | Rule | Points lost | Pages | Problem |", "|---|---|---:|---:|---|"]
    else:
        lines += ["| | Rule | Severity | Pages | Problem |", "|---|---|---|---:|---|"]
    for item in items:
        middle = f"{item.points_lost:.1f}" if costed and item.points_lost is not None else md(item.rule.severity, 20)
        lines.append(f"| {_ICON[item.status]} | {_rule_link(item.rule)} | {middle} | {item.pages} | {md(item.example, 200)} |")
    if len(groups) > len(items):
        lines += ["", f"{len(groups)} rules have problems: all are listed below."]
    lines.append("")
    return lines


def _group_lines(group: ProblemGroup, report: Report) -> list[str]:
    rule = group.rule
    heading = f"#### {_ICON[group.status]} {_rule_link(rule)}: {md(rule.title, 120)} ({md(rule.severity, 20)}, {_pages(group.pages)})"
    lines = [heading, ""]
    if rule.fix:
        lines += [f"How to fix: {md(first_paragraph(rule.fix), 400)}", ""]
    for page, finding in group.items:
        lines.append(f"- {md(page_label(page, report), 200)}: {md(finding.message, 300)}")
    lines.append("")
    return lines


def to_markdown(report: Report, rules: Mapping[str, Rule] | None = None, *, limit: int = DEFAULT_LIMIT) -> str:
    """The report as GitHub-flavoured Markdown of at most `limit` characters."""
    infos = rule_infos(report, rules)
    groups = problem_groups(report, infos)
    head = "\n".join(_head(report, groups)) + "\n"
    if not groups:
        return head
    total = sum(len(g.items) for g in groups)
    opening = f"<details><summary>All {total} problems ({len(groups)} rules)</summary>\n\n"
    closing = "</details>\n"
    # Room for the cut note: its longest form, whatever the counts.
    note_room = 300
    budget = limit - size(head) - size(opening) - size(closing) - note_room
    body: list[str] = []
    used = shown = 0
    cut = False
    for group in groups:
        lines = _group_lines(group, report)
        for index, line in enumerate(lines):
            if used + size(line) + 1 > budget:
                cut = True
                break
            body.append(line)
            used += size(line) + 1
            if line.startswith("- ") and index > 0:
                shown += 1
        if cut:
            break
    text = head + opening + "\n".join(body) + "\n"
    if cut:
        text += (
            f"\n**…cut here: {total - shown} of {total} problems not shown** to stay under GitHub's "
            f"{GITHUB_COMMENT_LIMIT:,}-character limit. The JSON or HTML report has them all.\n\n"
        )
    text += closing
    return text
