"""Sparing the garbage collector's full passes the objects that outlive a burst of work.

A simulation run or a figure stage makes many short-lived containers, so the collector runs
often, and each full pass scans every object of the process again: its modules, the scenario
and the compiled region, the tables. In a large region a replication meets such a pass at
random, and it costs as much as a tenth of the run (a full pass over a process that has
loaded a 5,000-zone region, found nothing to free). :func:`spared` moves the objects alive
when the work begins out of the collector's sight until it ends (``gc.freeze``); the work's
own garbage, cycles included, is still collected as it goes.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["spared"]


@contextmanager
def spared() -> Iterator[None]:
    """The objects alive now are left out of garbage collection until the block ends (they
    are collected as usual afterwards)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
