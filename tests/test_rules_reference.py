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


def test_rule_metadata_file_is_up_to_date() -> None:
    """`rules` and `explain` read rules/metadata.json instead of importing the rules: it must say
    exactly what the rule modules say (a stale file is not used, but then start-up is slow)."""
    from smo_audit.engine.metadata import FILE_NAME, metadata_json, rules_folder

    folder = rules_folder()
    assert folder is not None
    expected = metadata_json((r for r in load_rules().rules if r.source == "builtin"), folder)
    assert (folder / FILE_NAME).read_text("utf-8") == expected, "rules/metadata.json is stale: run `make rules-doc`"


def test_metadata_rules_equal_loaded_rules_but_for_their_checks() -> None:
    from dataclasses import replace

    listed = load_rules(metadata_only=True).rules
    loaded = [r for r in load_rules().rules if r.source == "builtin"]
    assert len(listed) == len(loaded) > 30
    by_id = {r.id: r for r in loaded}
    for rule in listed:
        assert replace(rule, check=by_id[rule.id].check) == by_id[rule.id]
