"""The terminal report: score, categories, the failures that cost most, each with its fix.

Page content is untrusted: every string from a page goes through `Text` (never rich markup), so
a title like "[red]pwned" or an ANSI escape prints literally.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from smo_audit.engine.api import Rule
from smo_audit.engine.explain import cost_line
from smo_audit.report.model import Finding, Report
from smo_audit.report.wording import plural, score_text, verdict_text

_STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "skip": "dim", "error": "magenta"}
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def _clean(value: str, limit: int = 160) -> str:
    """Strip control characters (ANSI escapes, bells) from untrusted text and bound it."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in value)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _score_style(score: float | None) -> str:
    if score is None:
        return "dim"
    return "green" if score >= 90 else "yellow" if score >= 50 else "red"


def _fmt(score: float | None) -> str:
    return "n/a" if score is None else f"{score:.0f}"


def first_paragraph(text: str) -> str:
    return " ".join(text.strip().split("\n\n", 1)[0].split())


def render(report: Report, rules: Mapping[str, Rule], console: Console, *, top: int = 10, show: str = "summary") -> None:
    header = Text()
    header.append("smo-audit ", style="bold")
    header.append(_clean(report.target, 200))
    audited = sum(1 for p in report.pages if p.duplicate_of is None)
    duplicates = len(report.pages) - audited
    header.append(f"  ·  {plural(audited, 'page')}")
    if duplicates:
        header.append(f" (+{plural(duplicates, 'duplicate URL')})")
    header.append(f"  ·  {report.mode} mode")
    if report.partial:
        header.append(f"  ·  partial ({report.stop_reason or 'stopped early'})", style="yellow")
    # The number shown is the number compared with --fail-under, and "passed" only with a threshold.
    score = Text(f"{score_text(report.score)}/100", style=f"bold {_score_style(report.score)}")
    judged = verdict_text(report.passed, report.fail_under)
    verdict = Text(f"  {judged}" if judged else "", style="green" if report.passed else "bold red")
    categories = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    categories.add_column("Category")
    categories.add_column("Score", justify="right")
    for category in report.categories:
        categories.add_row(category.title, Text(_fmt(category.score), style=_score_style(category.score)))
    console.print(Panel(Group(header, Text.assemble("Score ", score, verdict), Text(""), categories), expand=False))
    costs = cost_line(report.fix_first)
    if costs:
        console.print(Text(_clean(costs, 400)))

    problems = _top_problems(report)
    if problems:
        table = Table(title="What to fix first", show_lines=False, header_style="bold", title_justify="left")
        table.add_column("Rule")
        table.add_column("Pages", justify="right")
        table.add_column("Problem / how to fix", overflow="fold")
        for (rule_id, status), (count, example) in problems[:top]:
            rule = rules.get(rule_id)
            fix = first_paragraph(rule.docs.fix) if rule and rule.docs else ""
            cell = Text(_clean(example.message, 240), style=_STATUS_STYLE.get(status, ""))
            if fix:
                cell.append("\n→ " + _clean(fix, 300), style="dim")
            table.add_row(rule_id, str(count), cell)
        console.print(table)
        if len(problems) > top:
            console.print(Text(f"…and {plural(len(problems) - top, 'more rule')} with problems: "
                               "see the JSON report (--format json) or `smo-audit explain RULE`.", style="dim"))
        _worst_pages(report, console)
    else:
        console.print(Text("No failures or warnings.", style="green"))

    if report.errors:
        kinds = Counter(e.kind for e in report.errors)
        line = Text(f"{plural(len(report.errors), 'crawl error')}: ", style="yellow")
        line.append(", ".join(f"{kind} {n}" for kind, n in kinds.most_common()))
        console.print(line)
        for error in report.errors[:5]:
            console.print(Text(f"  {error.kind}: {_clean(error.message, 200)}", style="dim"))
    crashed = [f for p in report.pages for f in p.findings if f.status == "error"] + [
        f for f in report.site_findings if f.status == "error"
    ]
    if crashed:
        console.print(Text(f"{plural(len(crashed), 'rule error')} (not scored): {_clean(crashed[0].message, 200)}",
                           style="magenta"))


def _worst_pages(report: Report, console: Console, count: int = 5) -> None:
    scored = [p for p in report.pages if p.score is not None and p.duplicate_of is None]
    if len(scored) < 2:
        return
    table = Table(title="Lowest-scoring pages", header_style="bold", title_justify="left")
    table.add_column("Score", justify="right")
    table.add_column("Page", overflow="fold")
    table.add_column("Failures", justify="right")
    for page in sorted(scored, key=lambda p: (p.score or 0.0, p.url))[:count]:
        failures = sum(1 for f in page.findings if f.status == "fail")
        where = page.source_path or page.url
        table.add_row(Text(_fmt(page.score), style=_score_style(page.score)), Text(_clean(where, 200)), str(failures))
    console.print(table)


def _top_problems(report: Report) -> list[tuple[tuple[str, str], tuple[int, Finding]]]:
    """Failures and warnings grouped by rule, the most widespread and severe first."""
    groups: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for page in report.pages:
        for finding in page.findings:
            if finding.status in ("fail", "warn"):
                groups[(finding.rule, finding.status)].append(finding)
    for finding in report.site_findings:
        if finding.status in ("fail", "warn"):
            groups[(finding.rule, finding.status)].append(finding)
    ordered = sorted(
        groups.items(),
        key=lambda item: (item[0][1] != "fail", _SEVERITY_ORDER.get(item[1][0].severity, 3), -len(item[1]), item[0][0]),
    )
    return [(key, (len(found), found[0])) for key, found in ordered]
