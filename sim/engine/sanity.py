"""A cheap check of every replication's engine records: times in order, trips finite.

Run once per option and replication on the record arrays (vectorised, not per event), so a
defect or an input that slipped past validation stops the run instead of writing negative
response times or NaN trips into the tables.
"""

from __future__ import annotations

import numpy as np

from .demand import Incidents
from .loop import EngineRecords

__all__ = ["RecordsInconsistent", "check_records"]


class RecordsInconsistent(AssertionError):
    """The engine produced times out of order or trips that are not finite (a defect)."""


def _after(later: np.ndarray, earlier: np.ndarray) -> np.ndarray:
    """``later >= earlier`` up to rounding: the engine's clock and sums of durations may
    differ in the last bits (a microsecond here is far below any time it reports)."""
    return later - earlier >= -(1e-6 + 1e-12 * np.abs(earlier))


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


CHUNK = 1 << 16  # jobs checked at a time: their dispatch and arrival are worked out per chunk


def _chunks(n: int) -> list[slice]:
    return [slice(i, min(i + CHUNK, n)) for i in range(0, n, CHUNK)] or [slice(0, 0)]


def _jobs_in_order(rec: EngineRecords, rows: slice) -> np.ndarray:
    """Whether each job of ``rows`` is ordered: assigned <= dispatch <= arrival <= free."""
    dispatch, arrive = rec.job_times(rows)
    free = rec.job_free[rows]
    return (
        _after(dispatch, rec.job_assigned[rows])
        & _after(arrive, dispatch)
        & _after(free, arrive)
        & np.isfinite(free)
    )


def check_records(inc: Incidents, rec: EngineRecords, option: str) -> None:
    """Raise RecordsInconsistent unless, for every dispatched incident, call <= ready <=
    dispatch <= first arrival <= clear (unknown while a multi-unit call still lacks units) with
    a finite trip, and every job is ordered."""
    sent = ~np.isnan(rec.t_dispatch)
    with np.errstate(invalid="ignore"):
        order = (
            _after(rec.t_ready, inc.t_call)
            & _after(rec.t_dispatch, rec.t_ready)
            & _after(rec.t_first_arrival, rec.t_dispatch)
            & (_after(rec.t_clear, rec.t_first_arrival) | np.isnan(rec.t_clear))  # NaN: crew short
            & np.isfinite(rec.travel)
            & (rec.travel >= 0)
        )
        jobs = np.concatenate(
            [_jobs_in_order(rec, rows) for rows in _chunks(len(rec.job_incident))]
        )
    bad = sent & ~order
    if bad.any():
        i = _first(bad)
        raise RecordsInconsistent(
            f"option {option}: incident {i} has times out of order or a trip that is not "
            f"finite (call {inc.t_call[i]!r}, ready {rec.t_ready[i]!r}, dispatch "
            f"{rec.t_dispatch[i]!r}, first arrival {rec.t_first_arrival[i]!r}, clear "
            f"{rec.t_clear[i]:.6g}, travel {rec.travel[i]:.6g}); {int(bad.sum())} incident(s)"
        )
    if not jobs.all():
        j = _first(~jobs)
        dispatch, arrive = rec.job_times(slice(j, j + 1))
        raise RecordsInconsistent(
            f"option {option}: job {j} of unit {rec.job_unit[j]} has times out of order "
            f"(assigned {rec.job_assigned[j]:.6g}, dispatch {dispatch[0]:.6g}, arrive "
            f"{arrive[0]:.6g}, free {rec.job_free[j]:.6g})"
        )
