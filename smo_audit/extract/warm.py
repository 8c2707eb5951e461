"""A ready-built Extractor, made at import time on purpose.

The worker pool's fork server imports this module once; every worker it forks then starts with
the catalogues already compiled and the page stage's modules imported (milliseconds instead of
~0.3 s per worker, which matters when a worker is replaced after a page went over its time budget). Nothing else should import it.
"""

from __future__ import annotations

import contextlib

import smo_audit.engine.page_audit  # noqa: F401  (the page stage a worker runs: rules, previews, report model)
from smo_audit.engine.registry import load_rules
from smo_audit.extract import Extractor
from smo_audit.extract.transfer import register
from smo_audit.tuning import tune_gc

# Imports the built-in rules (and installed plugins) once, for every worker. A broken plugin is
# the audit's to report (workers load what the audit loaded, later).
with contextlib.suppress(Exception):
    load_rules()
register()  # facts go back to the parent through the fast reducers (extract/transfer.py)
EXTRACTOR = Extractor()
tune_gc()  # after everything a worker shares with the fork server is built (see tuning.py)
