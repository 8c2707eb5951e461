"""docs/rules.md is generated from the rules' docstrings; this fails when it is stale."""

from __future__ import annotations

from pathlib import Path

from smo_audit.engine.docs import rules_reference
from smo_audit.engine.registry import load_rules

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "rules.md"


def test_rules_reference_is_up_to_date() -> None:
    expected = rules_reference(r for r in load_rules().rules if r.source == "builtin")
    assert REFERENCE.read_text("utf-8") == expected, "docs/rules.md is stale: run `make rules-doc`"


def test_reference_lists_every_rule_with_its_docs() -> None:
    text = REFERENCE.read_text("utf-8")
    for rule in load_rules().rules:
        if rule.source == "builtin":
            assert f"## {rule.id}: {rule.title}" in text
