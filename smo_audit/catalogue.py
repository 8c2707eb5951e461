"""The network catalogue: everything that names a social network lives in rules/catalogue/*.toml.

The engine never knows a network by name; classifiers and rules read this data. Each file is one
section (its stem is the key): networks, share, widgets, profiles, sign_in, platforms, ...
Adding a network is a data change plus a fixture.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

CATALOGUE_PACKAGE = "smo_audit_rules"


@cache
def load_catalogue() -> dict[str, Any]:
    """All catalogue sections, keyed by file stem. Loaded once per process."""
    sections: dict[str, Any] = {}
    root = resources.files(CATALOGUE_PACKAGE).joinpath("catalogue")
    if not root.is_dir():
        return sections
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            sections[entry.name.removesuffix(".toml")] = tomllib.loads(entry.read_text("utf-8"))
    return sections


def section(name: str) -> dict[str, Any]:
    """One catalogue section (an empty dict when the file does not exist)."""
    value = load_catalogue().get(name, {})
    return value if isinstance(value, dict) else {}
