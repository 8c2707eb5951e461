"""Rule docs rendered from the one source, the rule's docstring: `explain` and docs/rules.md."""

from __future__ import annotations

from collections.abc import Iterable

from smo_audit.engine.api import Rule


def rule_markdown(rule: Rule, heading: str = "#") -> str:
    docs = rule.docs
    lines = [
        f"{heading} {rule.id}: {rule.title}",
        "",
        f"Category: {rule.category} · severity: {rule.severity.value} · weight: {rule.weight:g} · "
        f"scope: {rule.scope} · needs: {rule.needs}" + (f" · aliases: {', '.join(rule.aliases)}" if rule.aliases else ""),
        "",
    ]
    if docs is None:
        return "\n".join(lines)
    sections = [
        ("What it checks", docs.what),
        ("Why it matters", docs.why),
        ("Failing example", docs.failing_example),
        ("Passing example", docs.passing_example),
        ("How to fix", docs.fix),
    ]
    for title, text in sections:
        if text:
            lines += [f"{heading}# {title}", "", text, ""]
    if rule.options:
        lines += [f"{heading}# Options", ""]
        for name, option in rule.options.items():
            lines.append(f"- `{name}` (default `{option.default!r}`): {option.description}")
        if docs.options:
            lines += ["", docs.options]
        lines.append("")
    if docs.references:
        lines += [f"{heading}# References", ""] + [f"- {ref}" for ref in docs.references] + [""]
    return "\n".join(lines).rstrip() + "\n"


def rules_reference(rules: Iterable[Rule]) -> str:
    """The generated rules reference (docs/rules.md); a test fails when the file is stale."""
    ordered = sorted(rules, key=lambda r: (r.category, r.id))
    out = [
        "# smo-audit rules",
        "",
        "Generated from the rules' own docstrings by `python -m smo_audit.engine.docs > docs/rules.md`.",
        "Do not edit by hand.",
        "",
        "| Rule | Category | Severity | Scope | Title |",
        "|---|---|---|---|---|",
    ]
    out += [f"| [{r.id}](#{r.id}) | {r.category} | {r.severity.value} | {r.scope} | {r.title} |" for r in ordered]
    out.append("")
    for rule in ordered:
        out.append(rule_markdown(rule, heading="##"))
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    import sys

    from smo_audit.engine.registry import load_rules

    sys.stdout.write(rules_reference(r for r in load_rules().rules if r.source == "builtin"))
