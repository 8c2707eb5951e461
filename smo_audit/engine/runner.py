"""Runs rules over contexts and turns their outcomes into report findings.

A rule that raises becomes a `rule-error` finding naming the rule and the URL (status "error",
never scored) and the audit goes on; `--debug` re-raises instead.
"""

from __future__ import annotations

import fnmatch
import inspect
import math
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from smo_audit.engine.api import Outcome, PageContext, Rule, Severity, SiteContext, Status
from smo_audit.engine.scoring import Scored, ScoringProfile
from smo_audit.errors import UsageError
from smo_audit.extract.fastinit import frozen_constructor
from smo_audit.report.model import Finding

RULE_ERROR_ID = "rule-error"
RULE_ERROR_CATEGORY = "engine"


@dataclass(frozen=True)
class RuleSet:
    """The rules chosen for a run, with their resolved options and scoring weights."""

    page_rules: tuple[Rule, ...]
    site_rules: tuple[Rule, ...]
    options: Mapping[str, Mapping[str, Any]]
    weights: Mapping[str, float]

    @classmethod
    def build(
        cls,
        rules: Iterable[Rule],
        profile: ScoringProfile,
        *,
        select: Iterable[str] = (),
        ignore: Iterable[str] = (),
        rule_options: Mapping[str, Mapping[str, Any]] | None = None,
        levels: Mapping[str, str] | None = None,
    ) -> RuleSet:
        """Filter by --select/--ignore (rule ids, aliases, categories, id prefixes), apply the
        configured levels (`off` drops a rule, the others replace its severity) and resolve options."""
        all_rules = list(rules)
        select_list, ignore_list = list(select), list(ignore)
        unknown = [p for p in (*select_list, *ignore_list) if not any(selects(p, r) for r in all_rules)]
        if unknown:
            raise UsageError(f"unknown rule or category {unknown[0]!r} (see `smo-audit rules`)")
        by_key = {key: r for r in all_rules for key in (r.id, *r.aliases)}
        level_of = {by_key[k].id if k in by_key else k: v for k, v in (levels or {}).items()}
        chosen = [
            r if level_of.get(r.id) in (None, r.severity.value) else replace(r, severity=Severity(level_of[r.id]))
            for r in all_rules
            if (not select_list or any(selects(p, r) for p in select_list))
            and not any(selects(p, r) for p in ignore_list)
            and level_of.get(r.id) != "off"
        ]
        options: dict[str, dict[str, Any]] = {r.id: {k: o.default for k, o in r.options.items()} for r in chosen}
        for key, values in (rule_options or {}).items():
            rule = by_key.get(key)
            if rule is None:
                raise UsageError(f"options given for unknown rule {key!r}")
            for name, value in values.items():
                if name not in rule.options:
                    raise UsageError(f"rule {rule.id!r} has no option {name!r} (see `smo-audit explain {rule.id}`)")
                default = rule.options[name].default
                if default is not None and not same_kind(default, value):
                    raise UsageError(f"option {rule.id}.{name} must be a {type(default).__name__}, got {value!r}")
                options.setdefault(rule.id, {})[name] = value
        weights = {r.id: profile.rule_weights.get(r.id, r.weight) for r in chosen}
        return cls(
            page_rules=tuple(r for r in chosen if r.scope == "page"),
            site_rules=tuple(r for r in chosen if r.scope == "site"),
            options=options,
            weights=weights,
        )


def selects(pattern: str, rule: Rule) -> bool:
    """Whether a select/ignore entry names this rule: id, alias, category, `og-*` glob or `og-` prefix."""
    if pattern in (rule.id, rule.category, *rule.aliases):
        return True
    if pattern.endswith("*"):
        return fnmatch.fnmatchcase(rule.id, pattern)
    return pattern.endswith("-") and rule.id.startswith(pattern)


def same_kind(default: Any, value: Any) -> bool:
    """A configured option value has the kind of the option's default (bool is not a number).

    Numbers are finite (no inf or nan); a whole-number default takes whole numbers only (70, not
    70.0 or 70.5), and one of 0 or more (every count, length and size) takes none below 0."""
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and (default < 0 or value >= 0)
    if isinstance(default, float):
        return isinstance(value, int | float) and math.isfinite(value)
    if isinstance(default, list | tuple):
        return isinstance(value, list | tuple)
    return isinstance(value, type(default))


def _outcomes(result: Any) -> list[Outcome]:
    if result is None:
        return []
    if isinstance(result, Outcome):
        return [result]
    outcomes = list(result)
    for item in outcomes:
        if not isinstance(item, Outcome):
            raise TypeError(f"rule returned {type(item).__name__}, expected Outcome")
    return outcomes


_new_finding = frozen_constructor(Finding)  # findings are built for every rule on every page
_SHARED_LIMIT = 4096
# Findings already built, by everything they are made of: most of a site's findings repeat page
# after page ("og:title is set"), and one shared immutable object each saves the building and the
# memory of thousands of copies. Only findings without `data` (a mutable dict) are shared.
_shared: dict[tuple[Any, ...], Finding] = {}


def to_finding(rule: Rule, outcome: Outcome) -> Finding:
    status, message, evidence = outcome.status, outcome.message, outcome.evidence
    key: tuple[Any, ...] | None = None
    if (outcome.data is None and type(status) is Status and type(message) is str and type(evidence) is tuple
            and all(type(e) is str for e in evidence)):
        key = (rule.id, rule.category, rule.severity, rule.title, status, message, evidence)
        shared = _shared.get(key)
        if shared is not None:
            return shared
    finding = _new_finding(
        rule=rule.id,
        category=rule.category,
        severity=rule.severity.value,
        status=status.value,
        message=message,
        evidence=[str(e)[:2000] for e in evidence[:50]],
        title=rule.title,
        data=dict(outcome.data) if outcome.data else None,
    )
    if key is not None:
        if len(_shared) >= _SHARED_LIMIT:
            _shared.clear()
        _shared[key] = finding
    return finding


def rule_error(rule: Rule, url: str, exc: BaseException) -> Finding:
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" ({frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})" if frame else ""
    return Finding(
        rule=RULE_ERROR_ID,
        category=RULE_ERROR_CATEGORY,
        severity="error",
        status="error",
        message=f"rule {rule.id} crashed on {url}: {type(exc).__name__}: {exc}"[:1000],
        evidence=[rule.id, url, f"{type(exc).__name__}{where}"],
        title="A rule crashed",
        data={"rule": rule.id, "url": url},
    )


# (rule, category, status, weight) -> its Scored: a run has a few hundred distinct ones at most,
# and every page (and the site score) asks for them again.
_scored_cache: dict[tuple[str, str, str, float], Scored] = {}


def scored(findings: Iterable[Finding], weights: Mapping[str, float]) -> list[Scored]:
    result: list[Scored] = []
    for f in findings:
        key = (f.rule, f.category, f.status, weights.get(f.rule, 1.0))
        value = _scored_cache.get(key)
        if value is None:
            if len(_scored_cache) >= _SHARED_LIMIT:
                _scored_cache.clear()
            value = _scored_cache[key] = Scored(*key)
        result.append(value)
    return result


class RuleRunner:
    def __init__(self, rule_set: RuleSet, *, mode: str = "static", debug: bool = False) -> None:
        self.rule_set = rule_set
        self.mode = mode
        self.debug = debug

    async def _run(self, rule: Rule, ctx: Any, url: str) -> list[Finding]:
        if rule.needs == "rendered" and self.mode != "rendered":
            return [to_finding(rule, Outcome(Status.SKIP, "needs rendered mode (run with --render)"))]
        try:
            result = rule.check(ctx)
            if inspect.isawaitable(result):
                result = await result
            return _findings(rule, result)
        except Exception as exc:
            if self.debug:
                raise
            return [rule_error(rule, url, exc)]

    async def run_page(self, ctx: PageContext) -> list[Finding]:
        """Every page rule over one page, in order.

        `_run` inlined: most rules are plain functions, and a coroutine per rule per page was a
        measurable part of a page's time; only a check that returns an awaitable is awaited.
        """
        findings: list[Finding] = []
        options = self.rule_set.options
        rendered = ctx.rendered is not None and ctx.rendered.status != "static-only"
        for rule in self.rule_set.page_rules:
            if rule.needs == "rendered" and not rendered:
                findings.append(to_finding(rule, Outcome(Status.SKIP, _not_rendered(ctx))))
                continue
            rule_options = options.get(rule.id)
            # Most rules have no options: they share the one context instead of a copy each.
            rule_ctx = _with_options(ctx, rule_options) if rule_options else ctx
            try:
                result = rule.check(rule_ctx)
                if result is not None and not isinstance(result, Outcome) and inspect.isawaitable(result):
                    result = await result
                findings.extend(_findings(rule, result))
            except Exception as exc:
                if self.debug:
                    raise
                findings.append(rule_error(rule, ctx.url, exc))
        return findings

    async def run_site(self, ctx: SiteContext) -> list[Finding]:
        findings: list[Finding] = []
        for rule in self.rule_set.site_rules:
            findings.extend(
                await self._run(rule, replace(ctx, options=self.rule_set.options.get(rule.id, {})), ctx.site.start_url)
            )
        return findings


def _not_rendered(ctx: PageContext) -> str:
    if ctx.rendered is None:
        return "needs rendered mode (run with --render)"
    return f"needs rendered mode, and this page could not be rendered ({ctx.rendered.reason or 'unknown reason'})"


def _findings(rule: Rule, result: Any) -> list[Finding]:
    if result is None:
        return []
    if isinstance(result, Outcome):
        return [to_finding(rule, result)]  # the common case, without building a list of outcomes first
    return [to_finding(rule, o) for o in _outcomes(result)]


_PAGE_CONTEXT_FIELDS = tuple(f.name for f in fields(PageContext) if f.name != "options")


def _with_options(ctx: PageContext, options: Mapping[str, Any]) -> PageContext:
    """`replace(ctx, options=options)` without dataclasses.replace's per-call field introspection."""
    values = {name: getattr(ctx, name) for name in _PAGE_CONTEXT_FIELDS}
    return PageContext(**values, options=options)
