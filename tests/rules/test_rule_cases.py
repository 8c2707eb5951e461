"""Runs every table-driven rule case; see harness.py for the table format."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import pytest

from smo_audit.crawl.local_server import serve_folder
from smo_audit.engine.registry import load_rules
from tests.rules.harness import FIXTURES, RuleCase, findings_for, load_cases, run_case

CASES = load_cases()


@pytest.fixture(scope="module")
def fixture_site() -> Iterator[str]:
    with serve_folder(FIXTURES) as server:
        yield server.base_url


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_case(case: RuleCase, fixture_site: str) -> None:
    assert (FIXTURES / case.page.split("?")[0]).exists() or case.page.endswith("/"), f"missing fixture {case.page}"
    report = run_case(case, fixture_site)
    assert report.pages, f"the fixture page was not audited: {[e.message for e in report.errors]}"
    found = findings_for(report, case.rule)
    if case.status == "none":
        assert not found, f"expected no finding, got {[(f.status, f.message) for f in found]}"
        return
    matching = [f for f in found if f.status == case.status]
    assert matching, f"expected {case.status}, got {[(f.status, f.message) for f in found]}"
    if case.message:
        assert any(case.message in f.message for f in matching), [f.message for f in matching]
    if case.evidence:
        assert any(case.evidence in e for f in matching for e in f.evidence), [f.evidence for f in matching]


def test_every_builtin_rule_has_a_passing_and_a_failing_case() -> None:
    statuses: dict[str, set[str]] = defaultdict(set)
    for case in CASES:
        statuses[case.rule].add(case.status)
    missing = []
    for rule in load_rules().rules:
        if rule.source != "builtin":
            continue
        have = statuses.get(rule.id, set())
        if "pass" not in have or not have & {"fail", "warn"}:
            missing.append(f"{rule.id} (has {sorted(have) or 'no cases'})")
    assert not missing, "rules without a passing and a failing case: " + ", ".join(missing)
