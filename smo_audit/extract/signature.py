"""Simple CSS selectors (`tag#id.class[attr][attr=value]`) matched against facts, not DOM nodes.

The catalogue describes widgets with such selectors. The one DOM pass hands them to lexbor to
collect matching elements; afterwards the classifiers need to know *which* signature an element
matched, which this tiny matcher answers from the element's recorded tag, id, classes and attrs.
Combinators are deliberately not supported: signatures stay simple and data-driven.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

_TOKEN = re.compile(
    r"""(?P<tag>^[a-zA-Z][\w-]*(?:\\:[a-zA-Z][\w-]*)?)|\#(?P<id>[\w-]+)|\.(?P<cls>[\w-]+)"""
    r"""|\[(?P<attr>[\w:-]+)(?:(?P<op>[~^$*|]?=)["']?(?P<val>[^"'\]]*)["']?)?\]"""
)


@dataclass(frozen=True, slots=True)
class SimpleSelector:
    text: str
    tag: str | None
    element_id: str | None
    classes: frozenset[str]
    attrs: tuple[tuple[str, str | None, str | None], ...]  # (name, operator, value)

    @classmethod
    def parse(cls, text: str) -> SimpleSelector:
        text = text.strip()
        tag = element_id = None
        classes: set[str] = set()
        attrs: list[tuple[str, str | None, str | None]] = []
        position = 0
        for match in _TOKEN.finditer(text):
            if match.start() != position:
                raise ValueError(f"unsupported selector {text!r} (only tag#id.class[attr=value])")
            position = match.end()
            if match.group("tag"):
                tag = match.group("tag").lower().replace("\\:", ":")  # fb\:login-button names <fb:login-button>
            elif match.group("id"):
                element_id = match.group("id")
            elif match.group("cls"):
                classes.add(match.group("cls"))
            else:
                attrs.append((match.group("attr").lower(), match.group("op"), match.group("val")))
        if position != len(text) or not text:
            raise ValueError(f"unsupported selector {text!r} (only tag#id.class[attr=value])")
        return cls(text, tag, element_id, frozenset(classes), tuple(attrs))

    def matches(
        self,
        tag: str,
        element_id: str | None,
        classes: Iterable[str],
        attrs: Iterable[tuple[str, str]] = (),
    ) -> bool:
        if self.tag and self.tag != tag:
            return False
        if self.element_id and self.element_id != element_id:
            return False
        if self.classes and not self.classes.issubset(classes):
            return False
        if self.attrs:
            values = dict(attrs)
            for name, op, expected in self.attrs:
                actual = values.get(name)
                if actual is None or not _compare(op, actual, expected or ""):
                    return False
        return True


class Element(Protocol):
    @property
    def tag(self) -> str: ...
    @property
    def element_id(self) -> str | None: ...
    @property
    def classes(self) -> tuple[str, ...]: ...


E = TypeVar("E", bound=Element)


class ElementIndex(Generic[E]):
    """One page's marked elements by class, id and tag, so that a signature is compared with the
    few elements that can match it instead of all of them (document order kept)."""

    def __init__(self, elements: Iterable[E]) -> None:
        self.all = list(elements)
        self._by_class: dict[str, list[E]] = {}
        self._by_id: dict[str, list[E]] = {}
        self._by_tag: dict[str, list[E]] = {}
        for element in self.all:
            for cls in element.classes:
                self._by_class.setdefault(cls, []).append(element)
            if element.element_id:
                self._by_id.setdefault(element.element_id, []).append(element)
            self._by_tag.setdefault(element.tag, []).append(element)

    def candidates(self, selector: SimpleSelector) -> list[E]:
        if not self.all:
            return self.all
        if selector.classes:
            best: list[E] | None = None
            for cls in selector.classes:
                found = self._by_class.get(cls)
                if found is None:
                    return []  # no element has this class
                if best is None or len(found) < len(best):
                    best = found
            return best or []
        if selector.element_id:
            return self._by_id.get(selector.element_id, [])
        if selector.tag:
            return self._by_tag.get(selector.tag, [])
        return self.all


def _compare(op: str | None, actual: str, expected: str) -> bool:
    if op is None:
        return True
    if op == "=":
        return actual == expected
    if op == "~=":
        return expected in actual.split()
    if op == "^=":
        return actual.startswith(expected)
    if op == "$=":
        return actual.endswith(expected)
    if op == "*=":
        return expected in actual
    return actual == expected or actual.startswith(expected + "-")  # |=
