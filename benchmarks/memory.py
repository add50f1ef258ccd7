"""Resident memory of this process, for the memory benchmarks that run in a fresh process.

The peak is the process's own high-water mark (``VmHWM`` in ``/proc/self/status``), not
``getrusage``'s ``ru_maxrss``: on Linux that one survives ``exec`` and starts from the peak of
the process that spawned it, so a benchmark started from a parent that had already grown (after
other sections ran) reported the parent's peak, not its own.
"""

from __future__ import annotations

import resource


def rss_now() -> int:
    """Bytes resident now."""
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()


def peak_rss() -> int:
    """Bytes resident at the peak of this process (since its ``exec``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
