"""The built-in rules' metadata as data, so `smo-audit rules` and `explain` start fast.

Loading the rules means importing every rule module, and with them the fetch and preview stack
(httpx, pydantic models, the catalogues): about half a second before `explain og-image` can
print a paragraph. The metadata (ids, titles, categories, options, the docs parsed from the
docstrings) is generated into `rules/metadata.json` by `make rules-doc`, next to docs/rules.md,
and these two commands read it instead. Plugins and --rules-dir files are still imported: they
are the user's code and have no such file.

The file carries a fingerprint of the rule sources it was made from. When the sources changed
since (a developer edited a rule and did not regenerate), the fingerprint differs and the rules
are loaded the slow, always-correct way; `tests/test_rules_reference.py` fails on a stale file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from smo_audit.engine.api import Option, Rule, RuleDocs, Severity

FILE_NAME = "metadata.json"
FORMAT = 1


def rules_folder() -> Path | None:
    """Where the built-in rules package lives, found without importing it (its import is the cost)."""
    spec = importlib.util.find_spec("smo_audit_rules")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def fingerprint(folder: Path) -> str:
    """A hash of the rule sources (their metadata and docstrings are in these files)."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _not_loaded(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("this rule was read from metadata.json for listing; load_rules() to run it")


def _rule_data(rule: Rule) -> dict[str, Any]:
    docs = rule.docs
    return {
        "id": rule.id, "title": rule.title, "category": rule.category, "severity": rule.severity.value,
        "weight": rule.weight, "scope": rule.scope, "needs": rule.needs, "aliases": list(rule.aliases),
        "options": {name: {"default": option.default, "description": option.description}
                    for name, option in rule.options.items()},
        "docs": None if docs is None else {
            "what": docs.what, "why": docs.why, "fix": docs.fix, "failing_example": docs.failing_example,
            "passing_example": docs.passing_example, "options": docs.options, "references": list(docs.references),
        },
    }


def _rule(data: dict[str, Any]) -> Rule:
    docs = data["docs"]
    return Rule(
        id=data["id"], title=data["title"], category=data["category"], severity=Severity(data["severity"]),
        weight=float(data["weight"]), scope=data["scope"], needs=data["needs"], check=_not_loaded,
        docs=None if docs is None else RuleDocs(**{**docs, "references": tuple(docs["references"])}),
        options={name: Option(o["default"], o["description"]) for name, o in data["options"].items()},
        aliases=tuple(data["aliases"]), source="builtin",
    )


def metadata_json(rules: Iterable[Rule], folder: Path) -> str:
    """The text of rules/metadata.json for these (built-in) rules."""
    ordered = sorted(rules, key=lambda r: (r.category, r.id))
    body = {"format": FORMAT, "fingerprint": fingerprint(folder), "rules": [_rule_data(r) for r in ordered]}
    return json.dumps(body, indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def builtin_rules_from_metadata() -> list[Rule] | None:
    """The built-in rules' metadata (checks not loaded), or None when the file is missing or stale."""
    folder = rules_folder()
    if folder is None:
        return None
    try:
        data = json.loads((folder / FILE_NAME).read_text("utf-8"))
        if data.get("format") != FORMAT or data.get("fingerprint") != fingerprint(folder):
            return None
        return [_rule(item) for item in data["rules"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


if __name__ == "__main__":
    import sys

    from smo_audit.engine.registry import load_rules

    where = rules_folder()
    if where is None:
        raise SystemExit("the built-in rules package is not installed")
    sys.stdout.write(metadata_json((r for r in load_rules().rules if r.source == "builtin"), where))
