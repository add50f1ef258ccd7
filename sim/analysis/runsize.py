"""A guard against runs far beyond this machine: estimate incidents, time and memory first.

The figures come from the compiled model (expected arrivals, surges, bursts) and from measured
costs of the engine (``python -m benchmarks``): about 30,000 incident-runs a second on one core,
about 200 bytes of peak memory per incident of the replication in flight, and about 130 bytes
per incident-run kept in the tables of a whole run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import InputError
from ..model.compile import Region

__all__ = ["RunEstimate", "check_feasible", "estimate_run"]

RATE_PER_SECOND = 30_000.0
WORKING_BYTES = 200.0
KEPT_BYTES = 130.0
MAX_SECONDS = 24 * 3600.0
MAX_MEMORY_SHARE = 0.7


@dataclass(frozen=True)
class RunEstimate:
    incidents_per_replication: float
    incident_runs: float
    seconds: float
    peak_bytes: float

    def describe(self) -> str:
        return (
            f"about {self.incidents_per_replication:,.0f} incidents per replication, "
            f"{self.incident_runs:,.0f} incident-runs, {_duration(self.seconds)} and "
            f"{self.peak_bytes / 2**30:.1f} GiB of memory"
        )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def expected_incidents(region: Region) -> float:
    """Expected calls of one replication: rates over the horizon, surges and bursts."""
    base = float(region.rates.sum()) * region.horizon
    extra = 0.0
    for sg in region.surges:
        rate = float(region.rates[sg.communities][:, sg.types].sum())
        span = max(0.0, min(sg.end, region.horizon) - sg.start)
        extra += rate * span * (sg.multiplier - 1.0)
    return base + extra + sum(b.count for b in region.bursts)


def estimate_run(region: Region, options: int, replications: int) -> RunEstimate:
    per_rep = expected_incidents(region)
    runs = per_rep * options * replications
    return RunEstimate(
        incidents_per_replication=per_rep,
        incident_runs=runs,
        seconds=runs / RATE_PER_SECOND,
        peak_bytes=per_rep * options * WORKING_BYTES + runs * KEPT_BYTES,
    )


def machine_memory() -> float:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return float("inf")


def check_feasible(estimate: RunEstimate, force: bool = False, memory: float | None = None) -> None:
    """Refuse (InputError) a run that would take over a day or most of the memory."""
    memory = machine_memory() if memory is None else memory
    too_long = estimate.seconds > MAX_SECONDS
    too_big = estimate.peak_bytes > MAX_MEMORY_SHARE * memory
    if (too_long or too_big) and not force:
        limit = "memory" if too_big else "time"
        raise InputError(
            f"refusing a run beyond this machine ({limit}): estimated {estimate.describe()} "
            f"(machine: {memory / 2**30:.0f} GiB); shorten the horizon, use fewer replications "
            "or options, or pass --force"
        )
