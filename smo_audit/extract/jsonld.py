"""Walk JSON-LD values (objects, arrays, @graph) without trusting their shape."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

MAX_NODES = 500


def iter_nodes(values: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """Every JSON object with an @type, depth-first, bounded in count."""
    stack: list[Any] = list(values)[::-1]
    seen = 0
    while stack and seen < MAX_NODES:
        value = stack.pop()
        seen += 1
        if isinstance(value, list):
            stack.extend(reversed(value))
        elif isinstance(value, dict):
            if "@type" in value:
                yield value
            for key in ("@graph", "mainEntity", "publisher", "author", "itemListElement"):
                child = value.get(key)
                if isinstance(child, list | dict):
                    stack.append(child)


def node_types(node: dict[str, Any]) -> list[str]:
    raw = node.get("@type")
    values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return [v.rsplit("/", 1)[-1] for v in values if isinstance(v, str)][:8]
