"""Fast constructors for the frozen slots dataclasses built on hot paths (links, findings).

A frozen dataclass's `__init__` stores every field through `object.__setattr__`, which goes the
long way round (type lookup, wrapper call) and made building a page's Anchors cost about a third
of its DOM pass. `frozen_constructor(cls)` returns a function with the same signature that fills
the slots through their member descriptors instead: same object, same defaults, same
immutability afterwards, about half the cost. It is generated once per class, like dataclasses
generates `__init__` itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, fields, is_dataclass
from typing import Any, TypeVar

T = TypeVar("T")


def frozen_constructor(cls: type[T]) -> Callable[..., T]:
    """A keyword-or-positional constructor for the frozen slots dataclass `cls`."""
    if not is_dataclass(cls) or not hasattr(cls, "__slots__") or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} is not a slots dataclass without __post_init__")
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    params: list[str] = []
    body: list[str] = ["    self = _new(_cls)"]
    for index, field in enumerate(fields(cls)):
        if not field.init or field.kw_only is True:
            raise TypeError(f"{cls.__name__}.{field.name} is not a plain __init__ field")
        setter = f"_set{index}"
        namespace[setter] = getattr(cls, field.name).__set__  # the slot's member descriptor
        if field.default is not MISSING:
            namespace[f"_default{index}"] = field.default
            params.append(f"{field.name}=_default{index}")
            body.append(f"    {setter}(self, {field.name})")
        elif field.default_factory is not MISSING:
            namespace[f"_factory{index}"] = field.default_factory
            params.append(f"{field.name}=_MISSING")
            namespace["_MISSING"] = MISSING
            body.append(f"    {setter}(self, _factory{index}() if {field.name} is _MISSING else {field.name})")
        else:
            params.append(field.name)
            body.append(f"    {setter}(self, {field.name})")
    source = f"def {cls.__name__}({', '.join(params)}):\n" + "\n".join([*body, "    return self"]) + "\n"
    exec(source, namespace)  # generated from the dataclass's own fields, as dataclasses does
    constructor: Callable[..., T] = namespace[cls.__name__]
    constructor.__doc__ = f"Build a {cls.__name__} (fast path for {cls.__qualname__}(...))."
    return constructor
