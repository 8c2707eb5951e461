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
    site = "link_preview/sites/robots-blocked"  # optional: serve this folder (under fixtures/rules/) as
                                            # the site root, for robots.txt, /favicon.ico and home pages;
                                            # `page` stays relative to fixtures/rules/ and lies inside it
    routes = "tests.rules.link_preview_sites:cloaking"  # optional: a scripted loopback site instead of
                                            # files, for answers a folder cannot give (bot-dependent, huge,
                                            # redirecting); the function takes the server's base URL and
                                            # returns ScriptedServer routes; `page` is a path ending in "/"
    render = true                           # optional: run in rendered mode
    use_sitemaps = true                     # optional: read robots.txt Sitemap: lines and /sitemap.xml
    check_profiles = true                   # optional: --check-profiles (social profile URLs requested)
    folder = true                           # optional: audit `site` as a build folder (the folder target),
                                            # not as a URL; `page` is then only the case's name
"""

from __future__ import annotations

import asyncio
import importlib
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smo_audit.config import AuditConfig
from smo_audit.crawl.local_server import serve_folder
from smo_audit.pipeline import Audit, Target
from smo_audit.report.model import Finding, Report
from tests.support.scripted_server import ScriptedServer

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
    site: str | None = None
    routes: str | None = None
    render: bool = False
    use_sitemaps: bool = False
    check_profiles: bool = False
    folder: bool = False

    @property
    def id(self) -> str:
        where = f"{self.routes.rsplit(':', 1)[-1]}:" if self.routes else ""
        return f"{self.rule}:{where}{self.page}{':rendered' if self.render else ''}:{self.status}"


def load_cases() -> list[RuleCase]:
    cases: list[RuleCase] = []
    for path in sorted(CASES_DIR.glob("*.toml")):
        for raw in tomllib.loads(path.read_text("utf-8")).get("case", []):
            cases.append(RuleCase(table=path.stem, **raw))
    return cases


@contextmanager
def _served(case: RuleCase, base_url: str) -> Iterator[tuple[str, str]]:
    """(site root URL, page path under it) for a case: the shared fixture server, its own
    folder-site, or a scripted server."""
    if case.routes:
        module_name, _, function = case.routes.partition(":")
        factory = getattr(importlib.import_module(module_name), function)
        with ScriptedServer() as server:
            server.routes.update(factory(server.base_url))
            yield server.base_url, case.page.lstrip("/")
        return
    if case.site:
        prefix = case.site.rstrip("/") + "/"
        assert case.page.startswith(prefix), f"page {case.page} is not inside site {case.site}"
        with serve_folder(FIXTURES / case.site) as site:
            yield site.base_url, case.page[len(prefix):]
        return
    yield base_url, case.page


def run_case(case: RuleCase, base_url: str) -> Report:
    if case.folder:
        assert case.site, "a folder case names its site"
        return _audit(case, None)
    with _served(case, base_url) as (root, page):
        return _audit(case, root.rstrip("/") + "/" + page)


def _audit(case: RuleCase, url: str | None) -> Report:
    config = AuditConfig(
        select=[case.rule],
        max_pages=case.max_pages,
        max_depth=0 if case.max_pages == 1 else 5,
        use_sitemaps=case.use_sitemaps,
        rules={case.rule: case.options} if case.options else {},
        base_url=case.base_url,
        timeout=10,
        retries=0,
        quiet=True,
        debug=True,
        render=case.render,
        check_profiles=case.check_profiles,
    )
    target = Target(case.page, folder=FIXTURES / case.site) if url is None and case.site else Target(case.page, url=url)
    audit = Audit(target, config)
    return asyncio.run(audit.run())


def findings_for(report: Report, rule: str) -> list[Finding]:
    found = [f for page in report.pages for f in page.findings if f.rule == rule]
    return found + [f for f in report.site_findings if f.rule == rule]
