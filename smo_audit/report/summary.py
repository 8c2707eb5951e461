"""What every report writer needs besides the Report itself: rule metadata and problem groups.

Writers are pure functions of (Report, rules). The rules mapping is optional: a saved JSON report
re-rendered later may name rules that are no longer installed (a removed plugin), so everything a
writer shows about a rule falls back to what the findings themselves carry (id, title, category,
severity).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smo_audit import TOOL_URL
from smo_audit.report.model import Finding, Page, Report

if TYPE_CHECKING:
    from smo_audit.engine.api import Rule

RULES_DOC_URL = f"{TOOL_URL}/blob/main/docs/rules.md"
PROBLEM_STATUSES = ("fail", "warn")
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def clean(text: str | None, limit: int = 300) -> str:
    """Untrusted text on one line: control and bidi-override characters become spaces, bounded."""
    if not text:
        return ""
    one_line = " ".join(_CONTROL.sub(" ", text).split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


# GitHub's runner reads a line of a job's output as a workflow command when it starts with "::" once
# leading whitespace is trimmed. Escape sequences before the "::" are skipped too, so that a coloured
# line is judged by its text.
_COMMAND_START = re.compile(r"^((?:\s|\x1b\[[0-?]*[ -/]*[@-~])*)(?=::)")


def defuse_command(line: str) -> str:
    """The line with a backslash before a leading "::": still readable, and no command for the runner."""
    return _COMMAND_START.sub(lambda match: match.group(1) + "\\", line, count=1)


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading (lower-case, punctuation dropped, spaces -> -)."""
    kept = "".join(ch for ch in heading.lower() if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


def first_paragraph(text: str) -> str:
    return " ".join(text.strip().split("\n\n", 1)[0].split())


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A rule as reports show it. `builtin` rules have a section in docs/rules.md (`help_uri`)."""

    id: str
    title: str
    category: str
    severity: str
    what: str = ""
    why: str = ""
    fix: str = ""
    builtin: bool = False

    @property
    def help_uri(self) -> str | None:
        if not self.builtin:
            return None
        return f"{RULES_DOC_URL}#{github_anchor(f'{self.id}: {self.title}')}"

    @classmethod
    def of(cls, rule: Rule) -> RuleInfo:
        docs = rule.docs
        return cls(
            id=rule.id, title=rule.title, category=rule.category, severity=rule.severity.value,
            what=docs.what if docs else "", why=docs.why if docs else "", fix=docs.fix if docs else "",
            builtin=rule.source == "builtin",
        )

    @classmethod
    def from_finding(cls, finding: Finding) -> RuleInfo:
        return cls(id=finding.rule, title=finding.title or finding.rule, category=finding.category,
                   severity=finding.severity)


def all_findings(report: Report) -> Iterator[tuple[Page | None, Finding]]:
    """Every finding with its page (None for site findings), pages first, in report order.

    A page reported as the duplicate of another (`duplicate_of`) is left out: it is out of the
    score, and every writer counts problems from here, so none counts its findings twice (the
    JSON keeps them on the page, marked, and the page lists still show the page)."""
    for page in report.pages:
        if page.duplicate_of is not None:
            continue
        for finding in page.findings:
            yield page, finding
    for finding in report.site_findings:
        yield None, finding


def rule_infos(report: Report, rules: Mapping[str, Rule] | None = None) -> dict[str, RuleInfo]:
    """Every rule the report has a finding of, sorted by id, from the registry when it knows it."""
    known = rules or {}
    infos: dict[str, RuleInfo] = {}
    for _page, finding in all_findings(report):
        if finding.rule in infos:
            continue
        rule = known.get(finding.rule)
        infos[finding.rule] = RuleInfo.of(rule) if rule is not None else RuleInfo.from_finding(finding)
    return dict(sorted(infos.items()))


@dataclass(slots=True)
class ProblemGroup:
    """One rule's failures and warnings across the site."""

    rule: RuleInfo
    items: list[tuple[Page | None, Finding]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "fail" if any(f.status == "fail" for _, f in self.items) else "warn"

    @property
    def pages(self) -> int:
        """Pages affected (a site finding counts as one)."""
        return len({id(page) for page, _ in self.items})

    @property
    def example(self) -> Finding:
        return next((f for _, f in self.items if f.status == "fail"), self.items[0][1])


def problem_groups(report: Report, infos: Mapping[str, RuleInfo]) -> list[ProblemGroup]:
    """Failures and warnings grouped by rule: failures first, then severity, then pages affected."""
    groups: dict[str, ProblemGroup] = {}
    for page, finding in all_findings(report):
        if finding.status not in PROBLEM_STATUSES:
            continue
        info = infos.get(finding.rule) or RuleInfo.from_finding(finding)
        groups.setdefault(finding.rule, ProblemGroup(info)).items.append((page, finding))
    return sorted(
        groups.values(),
        key=lambda g: (g.status != "fail", SEVERITY_ORDER.get(g.rule.severity, 3), -g.pages, g.rule.id),
    )


def page_label(page: Page | None, report: Report) -> str:
    """How a report names a page: its file for folder targets, else its URL ("site" for site rules)."""
    if page is None:
        return "(whole site)"
    return page.source_path or page.url


def count(items: Iterable[object]) -> int:
    return sum(1 for _ in items)


@dataclass(frozen=True, slots=True)
class FixItem:
    """A line of "what to fix first": the rule, what it costs, where, and an example problem."""

    rule: RuleInfo
    points_lost: float | None  # None for reports made before the score explanation (schema 1.0)
    pages: int
    status: str
    example: str


def fix_first(report: Report, groups: list[ProblemGroup], limit: int = 10) -> list[FixItem]:
    """The rules that cost the most site-score points (the report's own score explanation:
    `fix_first`, then the categories' costs), each with an example problem; reports without
    the explanation fall back to the problem order (failures, severity, pages affected)."""
    by_rule = {group.rule.id: group for group in groups}
    costs = {cost.rule: cost for cost in report.fix_first}
    for category in report.categories:
        for cost in category.costs:
            costs.setdefault(cost.rule, cost)
    items: list[FixItem] = []
    for cost in sorted(costs.values(), key=lambda c: (-c.points_lost, -c.pages_affected, c.rule)):
        group = by_rule.get(cost.rule)
        if group is None or cost.points_lost <= 0:
            continue
        items.append(FixItem(group.rule, cost.points_lost, cost.pages_affected, group.status, group.example.message))
    if not costs:
        items = [FixItem(g.rule, None, g.pages, g.status, g.example.message) for g in groups]
    return items[:limit]
