"""When units were at work: their jobs as busy spans, and what working time says of incidents.

A job runs from its unit's assignment until the unit is free. Most jobs are one busy span; a
job of a unit on a working calendar that paused at closing is several: the parts inside the
unit's working time, and the overtime after the last closing if it finished there (the nights
and weekends between are not busy time). The unit, level and help tables add up spans, so that
a job paused overnight counts only the time worked. For targets in working time,
:func:`working_targets` says which incidents were completed within them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.calendars import job_pauses, pieces, work_intervals, working_minutes
from ..model.compile import Fleet, Region
from .demand import Incidents
from .loop import EngineRecords

__all__ = ["Spans", "busy_spans", "job_work", "working_targets"]


@dataclass(frozen=True)
class Spans:
    """Busy spans: the unit and the incident of each, its start and end."""

    unit: np.ndarray
    incident: np.ndarray
    start: np.ndarray
    end: np.ndarray

    def __len__(self) -> int:
        return len(self.unit)


def _pausing_units(region: Region, fleet: Fleet) -> list[int]:
    if not region.calendars:
        return []
    return [u for u in range(fleet.size) if region.pauses(int(fleet.service[u]))]


def _intervals(region: Region, fleet: Fleet, u: int) -> np.ndarray:
    calendar = region.calendars[int(fleet.service[u])]
    assert calendar is not None
    return work_intervals(fleet.duty[u], calendar, region.horizon)


def job_work(region: Region, fleet: Fleet, rec: EngineRecords) -> tuple[np.ndarray, np.ndarray]:
    """Per job: how often it paused at closing, and its overtime minutes (zeros for units
    whose jobs run straight through)."""
    pauses = np.zeros(len(rec.job_unit), dtype=np.int64)
    overtime = np.zeros(len(rec.job_unit))
    for u in _pausing_units(region, fleet):
        mine = np.flatnonzero(rec.job_unit == u)
        p, o = job_pauses(_intervals(region, fleet, u), rec.job_assigned[mine], rec.job_free[mine])
        pauses[mine], overtime[mine] = p, o
    return pauses, overtime


def _pieces(intervals: np.ndarray, a: np.ndarray, b: np.ndarray, ot: np.ndarray) -> tuple:
    """The parts of jobs [a, b) inside ``intervals``, and each job's overtime [b - ot, b):
    (job number, start, end) arrays."""
    job, start, end = pieces(intervals, a, b)
    late = np.flatnonzero(ot > 0)
    return (
        np.concatenate([job, late]),
        np.concatenate([start, b[late] - ot[late]]),
        np.concatenate([end, b[late]]),
    )


def busy_spans(region: Region, fleet: Fleet, rec: EngineRecords) -> Spans:
    """Every job as busy spans (the job log itself when no job pauses)."""
    pausing = _pausing_units(region, fleet)
    if not pausing:  # the job log itself, without a copy
        return Spans(rec.job_unit, rec.job_incident, rec.job_assigned, rec.job_free)
    jobs = np.arange(len(rec.job_unit))
    _, overtime = job_work(region, fleet, rec)
    straight = ~np.isin(rec.job_unit, pausing)
    parts = [(jobs[straight], rec.job_assigned[straight], rec.job_free[straight])]
    for u in pausing:
        mine = np.flatnonzero(rec.job_unit == u)
        j, a, b = _pieces(
            _intervals(region, fleet, u),
            rec.job_assigned[mine],
            rec.job_free[mine],
            overtime[mine],
        )
        parts.append((mine[j], a, b))
    job = np.concatenate([p[0] for p in parts])
    order = np.argsort(job, kind="stable")
    job = job[order]
    return Spans(
        rec.job_unit[job],
        rec.job_incident[job],
        np.concatenate([p[1] for p in parts])[order],
        np.concatenate([p[2] for p in parts])[order],
    )


def working_targets(
    region: Region, inc: Incidents, rec: EngineRecords
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """For targets in working time (call to completion, on the service's calendar): which
    incidents have one, which met it, and which are decided (completed by the horizon, or
    still open but already past it). None when no type has such a target."""
    kinds = [k for k, t in enumerate(region.types) if t.working_target is not None]
    if not kinds:
        return None
    n = len(inc)
    limit = np.full(n, np.nan)
    for k in kinds:
        mine = inc.type == k
        limit[mine] = region.types[k].working_target[inc.community[mine]]  # type: ignore[index]
    met, decided = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    service = np.array([t.service for t in region.types])[inc.type]
    for s, calendar in enumerate(region.calendars):
        mine = np.flatnonzero(~np.isnan(limit) & (service == s))
        if calendar is None or not len(mine):
            continue
        t0, t1 = inc.t_call[mine], rec.t_clear[mine]
        done = t1 <= region.horizon  # NaN compares false
        took = working_minutes(calendar.intervals, t0, np.where(done, t1, region.horizon))
        met[mine] = done & (took <= limit[mine])
        decided[mine] = done | (took > limit[mine])
    return ~np.isnan(limit), met, decided
