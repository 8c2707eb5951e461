"""The terminal report, laid out for 80 columns with the verdict last.

Top to bottom: (with --show pages) every page; (with --show rules) every rule's problems page by
page; the lowest-scoring pages; what to fix first, each with its fix; crawl and rule errors; and
last the score box (categories, score, threshold result), so it is what stays on the screen when
the output scrolls. `render_page` and `render_rule` are the drill-downs of `smo-audit report
REPORT.json --page URL / --rule ID`.

Page content is untrusted, and so is a saved report (`smo-audit report`: any file can be given):
every string from either goes through `_clean` and `Text` (never a plain str, which rich reads as
markup), so a title or rule id like "[red]pwned" or an ANSI escape prints literally. In CI the
report is wrapped at 80 columns, so a long untrusted text can begin a line of its own: every line
is written through `CommandSafeFile`, so that none of them starts a GitHub workflow command
(`::error::...`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import IO

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from smo_audit.engine.api import Rule
from smo_audit.report.model import Finding, Page, Report
from smo_audit.report.summary import (
    ProblemGroup,
    RuleInfo,
    all_findings,
    defuse_command,
    first_paragraph,
    fix_first,
    page_label,
    problem_groups,
    rule_infos,
)
from smo_audit.report.wording import plural, score_text, verdict_text

_STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "skip": "dim", "error": "magenta"}
SHOW_CHOICES = ("summary", "pages", "rules", "all")


def _clean(value: str | None, limit: int = 160) -> str:
    """Strip control characters (ANSI escapes, bells) from untrusted text and bound it."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in value or "")
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")  # where the runner's lines end (defuse_command: summary.py)


class CommandSafeFile:
    """A text file wrapper that lets no line start a workflow command (`defuse_command`).

    One place for every line of the terminal report, instead of a check per call site: which
    text ends up at the start of a line depends on the width and on where rich wraps it. A line is
    judged once it is complete, so a partial line waits (in `pending`) for its end or `finish`."""

    def __init__(self, file: IO[str]) -> None:
        self.file = file
        self.pending = ""

    def write(self, text: str) -> int:
        parts = _LINE_BREAK.split(self.pending + text)
        self.pending = parts.pop()
        lines = [defuse_command(parts[i]) + parts[i + 1] for i in range(0, len(parts), 2)]
        if lines:
            self.file.write("".join(lines))
        return len(text)

    def finish(self) -> None:
        """Write out a last line without its line break."""
        if self.pending:
            self.file.write(defuse_command(self.pending))
            self.pending = ""
        self.file.flush()

    def flush(self) -> None:
        self.file.flush()

    def isatty(self) -> bool:
        return self.file.isatty()

    def fileno(self) -> int:
        return self.file.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.file, "encoding", None) or "utf-8"


@contextmanager
def command_safe(console: Console) -> Iterator[Console]:
    """The console writing through a `CommandSafeFile` for the time of one report."""
    inner = console.file
    if isinstance(inner, CommandSafeFile):
        yield console
        return
    guard = CommandSafeFile(inner)
    console.file = guard  # type: ignore[assignment]
    try:
        yield console
    finally:
        console.file = inner
        guard.finish()


def _score_style(score: float | None) -> str:
    if score is None:
        return "dim"
    return "green" if score >= 90 else "yellow" if score >= 50 else "red"


def _fmt(score: float | None) -> str:
    return "n/a" if score is None else f"{score:.0f}"


def render(report: Report, rules: Mapping[str, Rule], console: Console, *, top: int = 6, show: str = "summary") -> None:
    with command_safe(console):
        _render(report, rules, console, top, show)


def _render(report: Report, rules: Mapping[str, Rule], console: Console, top: int, show: str) -> None:
    infos = rule_infos(report, rules)
    groups = problem_groups(report, infos)
    if show in ("pages", "all"):
        _all_pages(report, console)
    if show in ("rules", "all"):
        for group in groups:
            _rule_pages(report, group, console)
    if groups:
        if show not in ("pages", "all"):
            _worst_pages(report, console)
        _fix_first(report, groups, console, top)
        if len(groups) > top and show not in ("rules", "all"):
            console.print(Text(f"…and {plural(len(groups) - top, 'more rule')} with problems: --show rules lists "
                               "them all, `smo-audit report REPORT.json --rule ID` the pages of one.", style="dim"))
    else:
        console.print(Text("No failures or warnings.", style="green"))
    _errors(report, console)
    _folder(report, console)
    _score_box(report, console)


def _folder(report: Report, console: Console) -> None:
    """A build folder audit: how much of the build was audited, against which origin, orphans."""
    folder = report.folder
    if folder is None:
        return
    line = Text(f"Folder: {folder.audited_files} of {plural(folder.html_files, 'HTML file')} audited")
    if folder.not_audited:
        line.append(f" ({folder.not_audited} left out)", style="yellow")
    if folder.origin:
        how = "detected from canonical/og:url" if folder.origin_source == "detected" else "--base-url"
        line.append(f" · production origin {_clean(folder.origin, 100)} ({how})")
    else:
        line.append(" · no production origin known (give --base-url)", style="dim")
    if folder.orphans:
        shown = ", ".join(_clean(o, 60) for o in folder.orphans[:3])
        more = f" and {len(folder.orphans) - 3} more" if len(folder.orphans) > 3 else ""
        line.append(f" · {plural(len(folder.orphans), 'orphan')} (linked from no page): {shown}{more}", style="yellow")
    console.print(line)


def _score_box(report: Report, console: Console) -> None:
    header = Text()
    header.append("smo-audit ", style="bold")
    header.append(_clean(report.target, 120))
    audited = sum(1 for p in report.pages if p.duplicate_of is None)
    duplicates = len(report.pages) - audited
    header.append(f"  ·  {plural(audited, 'page')}")
    if duplicates:
        header.append(f" (+{plural(duplicates, 'duplicate URL')})")
    header.append(f"  ·  {report.mode} mode")
    if report.partial:
        header.append(f"  ·  partial ({_clean(report.stop_reason or 'stopped early', 60)})", style="yellow")
    # The number shown is the number compared with --fail-under, and "passed" only with a threshold.
    score = Text(f"{score_text(report.score)}/100", style=f"bold {_score_style(report.score)}")
    judged = _clean(verdict_text(report.passed, report.fail_under, report.failed_thresholds), 400)
    verdict = Text(f"  {judged}" if judged else "", style="green" if report.passed else "bold red")
    categories = Table(show_header=False, box=None, pad_edge=False, padding=(0, 1))
    for _ in range(2):
        categories.add_column(overflow="ellipsis", no_wrap=True, max_width=24)
        categories.add_column(justify="right", width=4)
    cells = [(Text(_clean(c.title, 40)), Text(_fmt(c.score), style=_score_style(c.score))) for c in report.categories]
    half = (len(cells) + 1) // 2
    for left, right in zip(cells[:half], [*cells[half:], (Text(""), Text(""))], strict=False):
        categories.add_row(*left, *right)
    parts: list[Text | Table] = [header, categories, Text.assemble("Score ", score, verdict)]
    console.print(Panel(Group(*parts), expand=False))
    if report.score_basis is not None and report.score_basis.site_rules_points_lost > 0:
        console.print(Text(_clean(report.score_basis.explanation, 400), style="dim"))


def _fix_first(report: Report, groups: list[ProblemGroup], console: Console, top: int) -> None:
    items = fix_first(report, groups, top)
    title = "What to fix first (pages affected, points lost)" if any(i.points_lost is not None for i in items) else "What to fix first"
    table = Table(title=title, header_style="bold", title_justify="left", expand=False)
    table.add_column("Rule", no_wrap=True, max_width=26, overflow="ellipsis")
    table.add_column("Pages", justify="right")
    table.add_column("Problem / how to fix", overflow="fold", ratio=1)
    for item in items:
        cell = Text(_clean(item.example, 150), style=_STATUS_STYLE.get(item.status, ""))
        if item.rule.fix:
            cell.append("\n→ " + _clean(_first_sentence(first_paragraph(item.rule.fix)), 130), style="dim")
        pages = str(item.pages) if item.points_lost is None else f"{item.pages}\n-{item.points_lost:g}"
        table.add_row(Text(_clean(item.rule.id, 60)), pages, cell)
    console.print(table)


def _first_sentence(text: str) -> str:
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def _worst_pages(report: Report, console: Console, count: int = 5) -> None:
    scored = [p for p in report.pages if p.score is not None and p.duplicate_of is None]
    if len(scored) < 2:
        return
    # A page's own score: the site score's page scores count the site-wide checks too (the
    # score sentence gives their range), so the caption says which number this is.
    table = Table(title="Lowest-scoring pages", header_style="bold", title_justify="left",
                  caption="Each page's own checks only (no site-wide checks).",
                  caption_justify="left", caption_style="dim")
    table.add_column("Score", justify="right")
    table.add_column("Page", overflow="fold")
    table.add_column("Failures", justify="right")
    for page in sorted(scored, key=lambda p: (p.score or 0.0, p.url))[:count]:
        failures = sum(1 for f in page.findings if f.status == "fail")
        table.add_row(Text(_fmt(page.score), style=_score_style(page.score)),
                      Text(_clean(page_label(page, report), 200)), str(failures))
    console.print(table)
    if len(scored) > count:
        console.print(Text(f"{plural(len(scored) - count, 'more page')}: --show pages lists every page.", style="dim"))


def _all_pages(report: Report, console: Console) -> None:
    table = Table(title=f"All {plural(len(report.pages), 'page')}", header_style="bold", title_justify="left")
    table.add_column("Score", justify="right")
    table.add_column("Page", overflow="fold")
    table.add_column("Fail", justify="right")
    table.add_column("Warn", justify="right")
    for page in sorted(report.pages, key=lambda p: (p.score if p.score is not None else 101.0, page_label(p, report))):
        label = Text(_clean(page_label(page, report), 300))
        if page.duplicate_of:
            label.append(f" (duplicate of {_clean(page.duplicate_of, 200)})", style="dim")
        table.add_row(Text(_fmt(page.score), style=_score_style(page.score)), label,
                      str(sum(f.status == "fail" for f in page.findings)), str(sum(f.status == "warn" for f in page.findings)))
    console.print(table)


def _rule_pages(report: Report, group: ProblemGroup, console: Console) -> None:
    rule = group.rule
    title = Text.assemble((_clean(rule.id, 60), "bold"), f": {_clean(rule.title, 80)} ", (f"({_clean(rule.severity, 10)}, ", "dim"),
                          (f"{plural(group.pages, 'page')})", "dim"))
    console.print(title)
    for page, finding in group.items:
        line = Text("  ")
        line.append(finding.status, style=_STATUS_STYLE.get(finding.status, ""))
        line.append(f" {_clean(page_label(page, report), 120)}: ")
        line.append(_clean(finding.message, 300))
        console.print(line)


def _errors(report: Report, console: Console) -> None:
    if report.errors:
        kinds = Counter(e.kind for e in report.errors)
        line = Text(f"{plural(len(report.errors), 'crawl error')}: ", style="yellow")
        line.append(", ".join(f"{_clean(kind, 40)} {n}" for kind, n in kinds.most_common()))
        console.print(line)
        for error in report.errors[:3]:
            console.print(Text(f"  {_clean(error.kind, 40)}: {_clean(error.message, 200)}", style="dim"))
    crashed = [f for p in report.pages for f in p.findings if f.status == "error"] + [
        f for f in report.site_findings if f.status == "error"
    ]
    if crashed:
        console.print(Text(f"{plural(len(crashed), 'rule error')} (not scored): {_clean(crashed[0].message, 200)}",
                           style="magenta"))


# -- drill-downs: smo-audit report REPORT.json --page URL / --rule ID ------------------------------


def find_page(report: Report, key: str) -> Page | None:
    """The page named by its URL, final URL or source file (an exact match, then a unique suffix)."""
    for page in report.pages:
        if key in (page.url, page.final_url, page.source_path):
            return page
    matches = [p for p in report.pages if p.url.endswith(key) or (p.source_path or "").endswith(key)]
    return matches[0] if len(matches) == 1 else None


def _finding_block(finding: Finding, info: RuleInfo | None, console: Console, *, fix: bool = True) -> None:
    line = Text()
    line.append(f"{finding.status:<4}", style=_STATUS_STYLE.get(finding.status, ""))
    line.append(f" {_clean(finding.rule, 60)}", style="bold")
    line.append(f"  {_clean(finding.message, 400)}")
    console.print(line)
    for evidence in finding.evidence[:5]:
        console.print(Text(f"       {_clean(evidence, 300)}", style="dim"))
    if fix and info is not None and info.fix and finding.status in ("fail", "warn"):
        console.print(Text(f"       → {_clean(first_paragraph(info.fix), 300)}", style="dim"))


def render_page(report: Report, page: Page, rules: Mapping[str, Rule], console: Console) -> None:
    with command_safe(console):
        _render_page(report, page, rules, console)


def _render_page(report: Report, page: Page, rules: Mapping[str, Rule], console: Console) -> None:
    infos = rule_infos(report, rules)
    header = Text()
    header.append(_clean(page_label(page, report), 200), style="bold")
    if page.source_path:
        header.append(f"  ({_clean(page.url, 200)})", style="dim")
    console.print(header)
    console.print(Text.assemble("Score ", (f"{_fmt(page.score)}/100", f"bold {_score_style(page.score)}"),
                                f"  ·  HTTP {page.status}"))
    if page.duplicate_of:
        console.print(Text(f"Duplicate of {_clean(page.duplicate_of, 200)}: not scored.", style="yellow"))
    if page.preview:
        previews = Table(title="Link previews", header_style="bold", title_justify="left")
        previews.add_column("Platform")
        previews.add_column("Shows", overflow="fold", ratio=1)
        previews.add_column("Verdict")
        for platform, preview in page.preview.items():
            shown = Text(_clean(preview.title, 100) or "(no title)")
            if preview.notes:
                shown.append("\n" + "; ".join(_clean(n, 120) for n in preview.notes[:3]), style="dim")
            style = {"ok": "green", "degraded": "yellow", "broken": "red"}.get(preview.verdict, "")
            previews.add_row(Text(_clean(platform, 20)), shown, Text(preview.verdict, style=style))
        console.print(previews)
    order = {"fail": 0, "warn": 1, "error": 2, "skip": 3, "pass": 4}
    for finding in sorted(page.findings, key=lambda f: (order.get(f.status, 5), f.rule)):
        if finding.status == "pass":
            continue
        _finding_block(finding, infos.get(finding.rule), console)
    passed = sum(f.status == "pass" for f in page.findings)
    console.print(Text(f"{plural(passed, 'rule')} passed.", style="green"))


def render_rule(report: Report, rule_id: str, rules: Mapping[str, Rule], console: Console) -> bool:
    """Every page's result for one rule, problems first. False when the report has no such rule."""
    with command_safe(console):
        return _render_rule(report, rule_id, rules, console)


def _render_rule(report: Report, rule_id: str, rules: Mapping[str, Rule], console: Console) -> bool:
    infos = rule_infos(report, rules)
    info = infos.get(rule_id)
    rule = rules.get(rule_id)
    if info is None and rule is not None:
        info = RuleInfo.of(rule)
        rule_id = rule.id
    if info is None:
        return False
    console.print(Text.assemble((_clean(info.id, 60), "bold"), f": {_clean(info.title, 100)}  ",
                                (f"{_clean(info.category, 40)} · {_clean(info.severity, 10)}", "dim")))
    if info.why:
        console.print(Text("Why it matters: " + _clean(first_paragraph(info.why), 400)))
    if info.fix:
        console.print(Text("How to fix: " + _clean(first_paragraph(info.fix), 400)))
    results = [(page, finding) for page, finding in all_findings(report) if finding.rule == rule_id]
    counts = Counter(f.status for _, f in results)
    console.print(Text(", ".join(f"{n} {status}" for status, n in counts.most_common()) or "no results in this report",
                       style="dim"))
    order = {"fail": 0, "warn": 1, "error": 2, "skip": 3, "pass": 4}
    for page, finding in sorted(results, key=lambda r: (order.get(r[1].status, 5), page_label(r[0], report))):
        line = Text(f"{finding.status:<4} ", style=_STATUS_STYLE.get(finding.status, ""))
        line.append(_clean(page_label(page, report), 150), style="bold")
        line.append(f"  {_clean(finding.message, 300)}", style="" if finding.status in ("fail", "warn") else "dim")
        console.print(line)
    return True
