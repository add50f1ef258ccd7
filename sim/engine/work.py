"""Jobs that do not run in one go: units on a working calendar, and case slots.

The engine computes every job at dispatch (all random numbers were drawn with the incidents).
For most services the job runs straight through; for two kinds the engine hands the job's
times to a model here (:func:`job_models`, one entry per service, None for the others):

- :class:`CalendarJobs`: a unit of a service on a calendar works only inside its working time
  (its duty inside the calendar): a job not finished at closing pauses and resumes at the next
  opening with the trip back to the site, unless what is left fits into the service's overtime
  (:func:`sim.model.calendars.finish_job`);
- :class:`CaseSlots`: a case holds one case slot of a worker from allocation for its duration
  (its time on scene), and needs no trip: the worker's visits are scheduled apart
  (:mod:`sim.engine.visits`).

Both answer ``job(unit, incident, start, travel, arrive, leave, free_at, end)`` with the times
of the straight job and return ``(travel, arrive, leave, free_at, end)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..model.calendars import finish_job, work_intervals
from ..model.compile import Fleet, Region
from .demand import Incidents

if TYPE_CHECKING:
    from .loop import Unit

__all__ = ["CalendarJobs", "CaseSlots", "JobModel", "job_models"]

Times = tuple[float, float, float, float, int]


class JobModel(Protocol):
    def job(
        self,
        unit: Unit,
        i: int,
        start: float,
        travel: float,
        arrive: float,
        leave: float,
        free_at: float,
        end: int,
    ) -> Times: ...


class CalendarJobs:
    """Jobs of the units of one service on a calendar: paused at closing, resumed at opening."""

    def __init__(self, region: Region, fleet: Fleet, service: int) -> None:
        calendar = region.calendars[service]
        assert calendar is not None
        self.overtime = region.overtime[service]
        self.starts: dict[int, list[float]] = {}
        self.ends: dict[int, list[float]] = {}
        for u in np.flatnonzero(fleet.service == service).tolist():
            intervals = work_intervals(fleet.duty[u], calendar, region.horizon)
            self.starts[u], self.ends[u] = intervals[:, 0].tolist(), intervals[:, 1].tolist()

    def job(
        self,
        unit: Unit,
        i: int,
        start: float,
        travel: float,
        arrive: float,
        leave: float,
        free_at: float,
        end: int,
    ) -> Times:
        u = unit.index
        arrived, done, _, _ = finish_job(
            self.starts[u],
            self.ends[u],
            start,
            arrive - start,
            leave - arrive,
            travel,
            self.overtime,
        )
        return travel, arrived, done, done + (free_at - leave), end


class CaseSlots:
    """Cases of one caseload service: a slot is held from allocation for the case's duration."""

    def __init__(self, incidents: Incidents) -> None:
        self.duration: Any = memoryview(np.ascontiguousarray(incidents.on_scene))  # type: ignore[arg-type]

    def job(
        self,
        unit: Unit,
        i: int,
        start: float,
        travel: float,
        arrive: float,
        leave: float,
        free_at: float,
        end: int,
    ) -> Times:
        done = start + self.duration[i]
        return 0.0, start, done, done, unit.station


def job_models(region: Region, fleet: Fleet, incidents: Incidents) -> list[JobModel | None]:
    """Per service: the model of its jobs, or None when they run straight through."""
    out: list[JobModel | None] = []
    for s in range(len(region.services)):
        if region.max_cases and region.max_cases[s]:
            out.append(CaseSlots(incidents))
        elif region.calendars and region.pauses(s):
            out.append(CalendarJobs(region, fleet, s))
        else:
            out.append(None)
    return out
