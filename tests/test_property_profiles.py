"""Every property test honours the hypothesis profile (SECURITY.md's long run covers them all)."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import settings

from tests.support.properties import CI_EXAMPLES, examples

TESTS = Path(__file__).resolve().parent
PINNED = re.compile(r"max_examples\s*=\s*\d")
GIVEN = re.compile(r"^@given\(", re.MULTILINE)


def test_no_property_test_pins_its_number_of_examples() -> None:
    pinned = [f"{path.relative_to(TESTS)}:{number}"
              for path in sorted(TESTS.rglob("*.py")) if path.name != "conftest.py"
              for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
              if PINNED.search(line)]
    assert pinned == [], f"use tests.support.properties.examples(n) instead: {pinned}"


def test_weights_scale_with_the_loaded_profile() -> None:
    factor = settings.default.max_examples / CI_EXAMPLES
    assert examples(300) == int(300 * factor) and examples(4) == max(1, int(4 * factor))
    assert examples(1) >= 1


def test_every_hypothesis_test_is_marked_property(request) -> None:
    marked = {item.nodeid for item in request.session.items if item.get_closest_marker("property")}
    hypothesis_files = {str(path.relative_to(TESTS.parent)) for path in TESTS.rglob("test_*.py")
                        if GIVEN.search(path.read_text(encoding="utf-8"))}
    selected = {item.nodeid.split("::", 1)[0] for item in request.session.items}
    assert {nodeid.split("::", 1)[0] for nodeid in marked} == hypothesis_files & selected
