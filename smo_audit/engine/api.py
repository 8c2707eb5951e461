"""The rule API: what a rule declares, what it receives, what it returns.

A rule is a plain function over facts, wrapped by `@page_rule` or `@site_rule` with its metadata.
Its docs are its docstring, under fixed headings, so `smo-audit explain` and the generated rules
reference come from one source and cannot drift from the code:

    ## What it checks / ## Why it matters / ## How to fix
    ## Failing example / ## Passing example / ## Options / ## References   (optional)

A rule never does I/O of its own; anything it needs fetched goes through `ctx.resources`, which
fetches once per URL and caches. Returning None (or nothing) means "not applicable here".
"""

from __future__ import annotations

import enum
import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

if TYPE_CHECKING:
    from smo_audit.engine.resources import ResourceCache, Resources
    from smo_audit.extract.facts import Document, PageFacts
    from smo_audit.render.facts import RenderedPage


class Status(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"  # not applicable or not knowable in this mode: always with a reason
    ERROR = "error"  # the rule itself crashed (rule-error findings only); never scored


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


Scope: TypeAlias = Literal["page", "site"]
Needs: TypeAlias = Literal["static", "rendered"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One judgement of a rule: status, a sentence for a person, and evidence from the page."""

    status: Status
    message: str
    evidence: tuple[str, ...] = ()
    data: Mapping[str, Any] | None = None  # structured details for dashboards (optional)


def passed(message: str, *evidence: str, data: Mapping[str, Any] | None = None) -> Outcome:
    return Outcome(Status.PASS, message, tuple(evidence), data)


def failed(message: str, *evidence: str, data: Mapping[str, Any] | None = None) -> Outcome:
    return Outcome(Status.FAIL, message, tuple(evidence), data)


def warned(message: str, *evidence: str, data: Mapping[str, Any] | None = None) -> Outcome:
    return Outcome(Status.WARN, message, tuple(evidence), data)


def skipped(reason: str, *evidence: str) -> Outcome:
    return Outcome(Status.SKIP, reason, tuple(evidence))


@dataclass(frozen=True, slots=True)
class Option:
    """A rule option: its default and a description (both shown by `smo-audit explain`)."""

    default: Any
    description: str


@dataclass(frozen=True, slots=True)
class RuleDocs:
    what: str
    why: str
    fix: str
    failing_example: str = ""
    passing_example: str = ""
    options: str = ""
    references: tuple[str, ...] = ()

    REQUIRED = ("What it checks", "Why it matters", "How to fix")
    HEADINGS = {
        "What it checks": "what",
        "Why it matters": "why",
        "How to fix": "fix",
        "Failing example": "failing_example",
        "Passing example": "passing_example",
        "Options": "options",
        "References": "references",
    }

    @classmethod
    def from_docstring(cls, text: str | None) -> tuple[RuleDocs | None, list[str]]:
        """Parse `## Heading` sections; return the docs and the list of problems found."""
        sections: dict[str, str] = {}
        current: str | None = None
        lines: list[str] = []
        for line in inspect.cleandoc(text or "").splitlines():
            heading = re.match(r"^##\s+(.+?)\s*$", line)
            if heading:
                if current:
                    sections[current] = "\n".join(lines).strip()
                current, lines = heading.group(1), []
            elif current:
                lines.append(line)
        if current:
            sections[current] = "\n".join(lines).strip()
        problems = [f"missing '## {name}' section" for name in cls.REQUIRED if not sections.get(name)]
        problems += [f"unknown docs section '## {name}'" for name in sections if name not in cls.HEADINGS]
        if problems:
            return None, problems
        values: dict[str, Any] = {cls.HEADINGS[k]: v for k, v in sections.items()}
        if "references" in values:
            values["references"] = tuple(
                line.lstrip("-* ").strip() for line in values["references"].splitlines() if line.strip()
            )
        return cls(**values), []


CheckResult: TypeAlias = "Outcome | Iterable[Outcome] | None"
PageCheck: TypeAlias = Callable[["PageContext"], "CheckResult | Awaitable[CheckResult]"]
SiteCheck: TypeAlias = Callable[["SiteContext"], "CheckResult | Awaitable[CheckResult]"]


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule's metadata plus its check. Built by `page_rule`/`site_rule`, validated at load."""

    id: str
    title: str
    category: str
    severity: Severity
    weight: float
    scope: Scope
    needs: Needs
    check: Callable[..., Any]
    docs: RuleDocs | None
    docs_problems: tuple[str, ...] = ()
    options: Mapping[str, Option] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    source: str = ""  # where the rule came from: "builtin", an entry point, a --rules-dir file

    @property
    def module(self) -> str:
        return getattr(self.check, "__module__", "")


def _rule_decorator(scope: Scope) -> Callable[..., Callable[[Callable[..., Any]], Rule]]:
    def decorator(
        *,
        id: str,
        title: str,
        category: str,
        severity: Severity | str = Severity.WARNING,
        weight: float = 1.0,
        needs: Needs = "static",
        options: Mapping[str, Option] | None = None,
        aliases: Sequence[str] = (),
    ) -> Callable[[Callable[..., Any]], Rule]:
        def wrap(check: Callable[..., Any]) -> Rule:
            docs, problems = RuleDocs.from_docstring(check.__doc__)
            try:
                severity_value = Severity(severity)
            except ValueError:
                severity_value = Severity.WARNING
                problems.append(f"severity {severity!r} is not one of error, warning, info")
            return Rule(
                id=id,
                title=title,
                category=category,
                severity=severity_value,
                weight=weight,
                scope=scope,
                needs=needs,
                check=check,
                docs=docs,
                docs_problems=tuple(problems),
                options=dict(options or {}),
                aliases=tuple(aliases),
            )

        return wrap

    return decorator


page_rule = _rule_decorator("page")
site_rule = _rule_decorator("site")


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """Run-wide facts a rule may read: mode and the production URL the user told us about."""

    mode: Literal["static", "rendered"] = "static"
    base_url: str | None = None
    target: str = ""
    check_profiles: bool = False  # --check-profiles: rules may request each social profile URL once
    # The pages come from a build folder served by smo-audit itself, not from the production
    # server: checks of how that server answers (bot cloaking, firewalls) have nothing to judge.
    local_copy: bool = False


@dataclass(frozen=True, slots=True)
class PageContext:
    """What a page rule receives. Read-only; `doc` exists only while page rules run."""

    url: str
    final_url: str
    status: int
    headers: Mapping[str, str]
    facts: PageFacts
    doc: Document
    options: Mapping[str, Any]
    settings: AuditSettings
    resources: Resources  # the audit's ResourceCache, or a parse worker's proxy of it
    # Rendered mode: this page's rendered facts (own render, inherited from a sample of its
    # template, or static-only with the reason). `facts` then holds the effective facts: the
    # static preview tags (what crawlers read) and the rendered controls (what people use).
    rendered: RenderedPage | None = None


@dataclass(frozen=True, slots=True)
class PageRecord:
    """What site rules see of each audited page (its DOM is long gone)."""

    url: str
    final_url: str
    status: int
    facts: PageFacts
    source_path: str | None = None
    duplicate_of: str | None = None
    # The audited page this page's canonical names when it is not a duplicate of it (not shared
    # alike: a wrong canonical, e.g. a layout that writes the home page's URL into every page).
    canonical_of: str | None = None


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """Site-wide facts the crawler learned (robots.txt, sitemaps)."""

    start_url: str
    robots_txt: str | None = None
    robots_url: str | None = None
    sitemaps: tuple[str, ...] = ()
    sitemap_lastmod: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class SiteContext:
    """What a site rule receives: the audited pages (duplicates apart) and the crawl's facts."""

    pages: Sequence[PageRecord]
    site: SiteInfo
    options: Mapping[str, Any]
    settings: AuditSettings
    resources: ResourceCache
    duplicates: Sequence[PageRecord] = ()  # pages found to be another name of an audited page
