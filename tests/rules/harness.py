"""Table-driven rule cases (sqlfluff-style): tests/rules/cases/*.toml, pages under fixtures/rules/.

Each case audits one fixture page (or a small folder-site) over real loopback HTTP with the real
crawler and pipeline, selecting only the rule under test, and checks the finding it produced:

    [[case]]
    rule = "og-title"                       # the rule under test (only it runs)
    page = "open_graph/og-title-missing.html"   # path under fixtures/rules/
    status = "fail"                         # pass | fail | warn | skip | none (no finding)
    message = "missing"                     # optional: substring of one finding's message
    evidence = "og:title"                   # optional: substring of that finding's evidence
    options = { min_length = 10 }           # optional: rule options
    max_pages = 1                           # optional: >1 crawls a folder-site (site rules)
    base_url = "https://example.com"        # optional: --base-url
"""

from __future__ import annotations

import asyncio
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smo_audit.config import AuditConfig
from smo_audit.pipeline import Audit, Target
from smo_audit.report.model import Finding, Report

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = ROOT / "tests" / "rules" / "cases"
FIXTURES = ROOT / "fixtures" / "rules"


@dataclass(frozen=True)
class RuleCase:
    table: str
    rule: str
    page: str
    status: str
    message: str | None = None
    evidence: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    max_pages: int = 1
    base_url: str | None = None

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.page}:{self.status}"


def load_cases() -> list[RuleCase]:
    cases: list[RuleCase] = []
    for path in sorted(CASES_DIR.glob("*.toml")):
        for raw in tomllib.loads(path.read_text("utf-8")).get("case", []):
            cases.append(RuleCase(table=path.stem, **raw))
    return cases


def run_case(case: RuleCase, base_url: str) -> Report:
    config = AuditConfig(
        select=[case.rule],
        max_pages=case.max_pages,
        max_depth=0 if case.max_pages == 1 else 5,
        use_sitemaps=False,
        rules={case.rule: case.options} if case.options else {},
        base_url=case.base_url,
        timeout=10,
        retries=0,
        quiet=True,
        debug=True,
    )
    audit = Audit(Target(case.page, url=base_url.rstrip("/") + "/" + case.page), config)
    return asyncio.run(audit.run())


def findings_for(report: Report, rule: str) -> list[Finding]:
    found = [f for page in report.pages for f in page.findings if f.rule == rule]
    return found + [f for f in report.site_findings if f.rule == rule]
