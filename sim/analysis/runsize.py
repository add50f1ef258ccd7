"""A guard against runs far beyond this machine: estimate incidents, time and memory first.

The figures come from the compiled model (expected arrivals, surges, bursts) and the fleet,
and from measured costs of the engine (``python -m benchmarks``): about 30,000 incident-runs a
second on one core, plus 0.03 µs per unit a dispatch may look at (a pooled service of 9,000
units runs about 3,700 incident-runs a second), about 200 bytes of peak memory per incident of
the replication in flight, about 130 bytes per incident-run and 100 bytes per unit and
option-replication kept in the tables of a whole run. The figures drawn from those tables are
bounded in size whatever the fleet (the per-unit figure draws the busiest 40 per service).

With zones, the travel matrices count too: every process that simulates holds the compiled
region, whose trips take 4 bytes a pair of places (``sim.model.travel.TRIP_DTYPE``: 100 MB for
5,000 places), and each run copies its stations' columns (up to 32 MiB a service). The estimate
from the compiled region (:func:`estimate_run`) counts them once, and says how much they are.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..errors import InputError
from ..model.compile import Region, Surge, compile_surges, demand_rates
from ..model.travel import COLUMN_COPY_MAX
from ..schema.options import resolve_option
from ..schema.scenario import Scenario

__all__ = [
    "RunEstimate",
    "check_feasible",
    "early_estimate",
    "estimate_run",
    "expected_calls",
    "largest_fleet",
]

RATE_PER_SECOND = 30_000.0
SCAN_SECONDS = 3e-8  # per unit a dispatch may look at, per incident-run
WORKING_BYTES = 200.0
KEPT_BYTES = 130.0
UNIT_BYTES = 100.0  # per unit row of one option and replication
MAX_SECONDS = 24 * 3600.0
MAX_MEMORY_SHARE = 0.7


@dataclass(frozen=True)
class RunEstimate:
    incidents_per_replication: float
    incident_runs: float
    seconds: float
    peak_bytes: float  # travel_bytes included
    travel_bytes: float = 0.0  # the compiled travel matrices, per process that simulates

    def describe(self) -> str:
        travel = (
            f" ({self.travel_bytes / 2**20:,.0f} MiB of it travel matrices, per process)"
            if self.travel_bytes >= 2**20
            else ""
        )
        return (
            f"about {self.incidents_per_replication:,.0f} incidents per replication, "
            f"{self.incident_runs:,.0f} incident-runs, {_duration(self.seconds)} and "
            f"{self.peak_bytes / 2**30:.1f} GiB of memory{travel}"
        )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def expected_incidents(region: Region) -> float:
    """Expected calls of one replication: rates over the horizon, surges and bursts."""
    bursts = sum(b.count for b in region.bursts)
    return expected_calls(region.rates, region.horizon, region.surges, bursts)


def expected_calls(
    rates: np.ndarray, horizon: float, surges: Sequence[Surge], bursts: float
) -> float:
    """Expected calls over ``horizon`` minutes at ``rates`` (per community and type, per
    minute), raised by ``surges``, plus ``bursts`` calls."""
    base = float(rates.sum()) * horizon
    extra = 0.0
    for sg in surges:
        rate = float(rates[sg.communities][:, sg.types].sum())
        span = max(0.0, min(sg.end, horizon) - sg.start)
        extra += rate * span * (sg.multiplier - 1.0)
    return base + extra + bursts


def largest_fleet(scenario: Scenario) -> int:
    """The units of the largest option (an upper bound of the units a dispatch looks at)."""
    return max(len(resolve_option(scenario, o).units) for o in scenario.options)


def estimate_run(region: Region, options: int, replications: int, units: int = 0) -> RunEstimate:
    """Incidents, time and memory of a run; ``units``: the fleet of the largest option."""
    found = _estimate(expected_incidents(region), options, replications, units)
    travel = float(travel_bytes(region))
    return replace(found, peak_bytes=found.peak_bytes + travel, travel_bytes=travel)


def travel_bytes(region: Region) -> int:
    """Bytes of the compiled travel matrices (each distinct one once) and of the columns a run
    copies of them, up to the engine's cap a service."""
    matrices = {id(m): m for m in (region.travel, *region.service_travel)}
    held = sum(m.nbytes for m in matrices.values())
    return held + len(region.services) * min(COLUMN_COPY_MAX, region.travel.nbytes)


def early_estimate(scenario: Scenario, options: int, replications: int) -> RunEstimate:
    """:func:`estimate_run` from the scenario alone, before its data files (zones, travel
    matrix) are read and the region is compiled: the same incidents and time, since the calls
    of a replication depend on the communities' rates, surges and bursts, not on where they
    fall; the memory without the travel matrices, which need the zones."""
    bursts = sum(b.count for b in scenario.bursts)
    calls = expected_calls(
        demand_rates(scenario), scenario.run.horizon, compile_surges(scenario), bursts
    )
    return _estimate(calls, options, replications, largest_fleet(scenario))


def _estimate(per_rep: float, options: int, replications: int, units: int) -> RunEstimate:
    runs = per_rep * options * replications
    unit_rows = units * options * replications
    return RunEstimate(
        incidents_per_replication=per_rep,
        incident_runs=runs,
        seconds=runs * (1 / RATE_PER_SECOND + units * SCAN_SECONDS),
        peak_bytes=per_rep * options * WORKING_BYTES + runs * KEPT_BYTES + unit_rows * UNIT_BYTES,
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
