"""How pages and their facts cross the process boundary to and from the parse workers, fast.

Every page goes to a worker as a RawPage and comes back as an ExtractedPage: a Document of about
150 small frozen dataclasses (anchors, scripts, meta tags) plus the facts. Pickle's default for a
slots dataclass is `_dataclass_getstate`/`_dataclass_setstate`, Python loops that look up the
class's fields for every object: on the benchmark site that cost the parent about 1 ms a page to
load and the worker 0.5 ms to dump, a quarter of the parent's time once fetching is done.

`register()` gives each such class a reducer that reads all fields in one C call
(`operator.attrgetter`) and rebuilds the object with its `frozen_constructor`: the same object,
same equality and immutability, in about half the time each way. It is a copyreg registration,
so it applies to every pickle of these classes in the process (the worker registers on import
through `warm`, the parent through `workers`); classes the fast constructor cannot build (a
`__post_init__`, keyword-only fields) keep pickle's default.
"""

from __future__ import annotations

import copyreg
import operator
from collections.abc import Callable, Iterable
from dataclasses import fields, is_dataclass
from types import ModuleType
from typing import Any

from smo_audit.extract.fastinit import frozen_constructor

_CONSTRUCTORS: dict[type, Callable[..., Any]] = {}


def _rebuild(cls: type, values: tuple[Any, ...]) -> Any:
    """Unpickle one object: what the reducer below wrote (module-level, so pickle can name it)."""
    constructor = _CONSTRUCTORS.get(cls)
    if constructor is None:  # a process that loads before it registered anything
        constructor = _CONSTRUCTORS[cls] = frozen_constructor(cls)
    return constructor(*values)


def _reducer(names: list[str]) -> Callable[[Any], tuple[Callable[..., Any], tuple[Any, ...]]]:
    get = operator.attrgetter(*names)
    if len(names) == 1:  # attrgetter of one name returns the value, not a 1-tuple
        return lambda obj: (_rebuild, (type(obj), (get(obj),)))
    return lambda obj: (_rebuild, (type(obj), get(obj)))


def register_classes(classes: Iterable[type]) -> None:
    """Give every frozen slots dataclass in `classes` the fast reducer (others are left alone)."""
    for cls in classes:
        if cls in _CONSTRUCTORS or not is_dataclass(cls):
            continue
        try:
            _CONSTRUCTORS[cls] = frozen_constructor(cls)
        except TypeError:
            continue  # not buildable by the fast constructor: pickle's default stays
        copyreg.pickle(cls, _reducer([f.name for f in fields(cls)]))


def _dataclasses_of(module: ModuleType) -> list[type]:
    return [value for value in vars(module).values()
            if isinstance(value, type) and is_dataclass(value) and value.__module__ == module.__name__]


def register() -> None:
    """Register the classes that travel between the crawl and the parse workers (idempotent):
    pages, facts and Documents, fetched resources, and a worked page's scores and findings."""
    import smo_audit.crawl.models as crawl_models
    import smo_audit.engine.page_audit as page_audit
    import smo_audit.engine.resources as resources
    import smo_audit.engine.scoring as scoring
    import smo_audit.extract as extract
    import smo_audit.extract.facts as facts
    import smo_audit.imageinfo as imageinfo
    import smo_audit.preview as preview
    import smo_audit.report.model as report_model

    modules = (crawl_models, facts, extract, page_audit, resources, scoring, imageinfo, preview, report_model)
    register_classes([cls for module in modules for cls in _dataclasses_of(module)])
