"""Thresholds: does an audit pass the gate a team configured?

Four kinds, all optional, all reported with the reason they failed:

    fail-under            the site score is at least N
    category-fail-under   each named category (or "*": every scored category) scores at least N
    max-failures          a rule fails or warns at most N times (pages plus site-wide findings)
    fail-on               a compact expression (smo_audit/gate/failon.py); any condition holding fails

A category or site with nothing scored is not applicable: no threshold fails on it, because a
category that does not apply cannot be below a number. Without any threshold nothing is judged
and `passed` stays null.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smo_audit.gate.failon import SEVERITIES, Condition, compare, parse_fail_on

if TYPE_CHECKING:
    from smo_audit.config import AuditConfig
    from smo_audit.report.model import Finding, Report

PROBLEM_STATUSES = frozenset({"fail", "warn"})


@dataclass(frozen=True)
class Thresholds:
    fail_under: float | None = None
    category_fail_under: Mapping[str, float] = field(default_factory=dict)
    max_failures: Mapping[str, int] = field(default_factory=dict)
    fail_on: tuple[Condition, ...] = ()

    @classmethod
    def from_config(cls, config: AuditConfig) -> Thresholds:
        return cls(config.fail_under, dict(config.category_fail_under), dict(config.max_failures),
                   parse_fail_on(config.fail_on) if config.fail_on else ())

    @property
    def any(self) -> bool:
        return bool(self.fail_under is not None or self.category_fail_under or self.max_failures or self.fail_on)


@dataclass
class Tally:
    """What thresholds count: problems (fail or warn findings) per rule and severity, crawl errors."""

    problems: Counter[str] = field(default_factory=Counter)  # rule -> fail/warn findings
    by_severity: Counter[str] = field(default_factory=Counter)  # severity -> fail/warn findings
    rules_by_severity: dict[str, Counter[str]] = field(default_factory=dict)  # severity -> rule -> count
    errors: int = 0

    def add(self, rule: str, severity: str, status: str, count: int = 1) -> None:
        if status in PROBLEM_STATUSES:
            self.problems[rule] += count
            self.by_severity[severity] += count
            self.rules_by_severity.setdefault(severity, Counter())[rule] += count

    def add_findings(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            self.add(finding.rule, finding.severity, finding.status)

    @classmethod
    def of_report(cls, report: Report) -> Tally:
        tally = cls(errors=sum(1 for e in report.errors if e.kind != "plugin"))
        for page in report.pages:
            if page.duplicate_of is None:
                tally.add_findings(page.findings)
        tally.add_findings(report.site_findings)
        return tally


@dataclass(frozen=True)
class Verdict:
    passed: bool | None  # None: no threshold, nothing judged
    reasons: tuple[str, ...] = ()


def evaluate(thresholds: Thresholds, score: float | None, categories: Mapping[str, float | None],
             tally: Tally) -> Verdict:
    """Every threshold the audit fails, as sentences; passed when there are none."""
    if not thresholds.any:
        return Verdict(None)
    reasons: list[str] = []
    if thresholds.fail_under is not None and score is not None and score < thresholds.fail_under:
        reasons.append(f"score {score:g} is below fail-under {thresholds.fail_under:g}")
    for category, floor in _category_floors(thresholds.category_fail_under, categories).items():
        value = categories.get(category)
        if value is not None and value < floor:
            reasons.append(f"category {category} scores {value:g}, below {floor:g}")
    for rule, limit in thresholds.max_failures.items():
        count = tally.problems.get(rule, 0)
        if count > limit:
            reasons.append(f"{rule} failed or warned {count} time{'' if count == 1 else 's'}, more than max-failures {limit}")
    for condition in thresholds.fail_on:
        why = _holds(condition, score, categories, tally)
        if why is not None:
            reasons.append(f"fail-on {str(condition)!r} holds: {why}")
    return Verdict(not reasons, tuple(reasons))


def _category_floors(floors: Mapping[str, float], categories: Mapping[str, float | None]) -> dict[str, float]:
    every = floors.get("*")
    result = dict.fromkeys(categories, every) if every is not None else {}
    result.update({c: v for c, v in floors.items() if c != "*"})
    return result


def _holds(condition: Condition, score: float | None, categories: Mapping[str, float | None],
           tally: Tally) -> str | None:
    """Why the condition holds, or None when it does not (or has nothing to judge)."""
    value: float | None
    if condition.subject == "severity":
        rank = SEVERITIES.index(str(condition.value))
        hits = [s for s in SEVERITIES if tally.by_severity.get(s) and compare(SEVERITIES.index(s), condition.op, rank)]
        if not hits:
            return None
        rules: Counter[str] = Counter()
        for severity in hits:
            rules.update(tally.rules_by_severity.get(severity, {}))
        top = ", ".join(f"{rule} x{count}" for rule, count in rules.most_common(3))
        total = sum(tally.by_severity[s] for s in hits)
        return f"{total} {'/'.join(hits)}-level finding{'' if total == 1 else 's'} failed or warned ({top})"
    if condition.subject == "score":
        value, what = score, "the score is"
    elif condition.subject == "category":
        value, what = categories.get(condition.name or ""), f"category {condition.name} scores"
    elif condition.subject == "rule":
        value, what = float(tally.problems.get(condition.name or "", 0)), f"{condition.name} failed or warned"
    elif condition.subject == "errors":
        value, what = float(tally.errors), "crawl errors:"
    else:
        value, what = float(sum(tally.problems.values())), "problems:"
    if value is None or not compare(value, condition.op, float(condition.value)):
        return None
    return f"{what} {value:g}"
