"""Child Pythons that leave the working directory off their import path.

A Python started as `python -c ...` (a multiprocessing fork server, Dask's spawned workers) puts
the working directory first on `sys.path`, so a `json.py` or `selectors.py` in the folder
smo-audit is run from (a repository's checkout, a build folder) would be imported, and run, in
place of the module it needs. PYTHONSAFEPATH (Python 3.11+) leaves it out; it is set only inside
the block (a fork server's start, a local Dask cluster's life), so the children this process starts
elsewhere do not inherit it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def children_without_working_directory() -> Iterator[None]:
    """Python processes started inside this block do not import from the working directory."""
    previous = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PYTHONSAFEPATH", None)
        else:
            os.environ["PYTHONSAFEPATH"] = previous
