"""Garbage collector settings for the long-lived processes of an audit: the CLI's and the page
workers' (set in their fork server, which every worker inherits them from)."""

from __future__ import annotations

import gc


def tune_gc() -> None:
    """An audit allocates many small objects per page; what start-up built stays for good.

    Freezing what start-up built (modules, rules, catalogues) keeps the collector from walking it
    again and again, and a larger first generation lets it run less often (the collector was
    9-14% of an audit's CPU). In the fork server, freezing before the workers are forked also
    keeps their collections from touching (and so copying) the pages they share with it.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
