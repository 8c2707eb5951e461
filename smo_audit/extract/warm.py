"""A ready-built Extractor, made at import time on purpose.

The worker pool's fork server imports this module once; every worker it forks then starts with
the catalogues already compiled (milliseconds instead of ~0.3 s per worker, which matters when a
worker is replaced after a page went over its time budget). Nothing else should import it.
"""

from __future__ import annotations

from smo_audit.extract import Extractor
from smo_audit.extract.transfer import register

register()  # facts go back to the parent through the fast reducers (extract/transfer.py)
EXTRACTOR = Extractor()
