"""The visits of caseload workers: recurring visits scheduled in each worker's working time.

A case of a type with ``visits: {every, duration}`` needs one visit in every period of
``every`` from its allocation while it is open: visit ``j`` may start from the period's
beginning and is on time when done by its end. A worker makes one visit at a time, inside
their working time (duty within the service's calendar): the trip from the office to the
client, the visit, the trip back (at the return speed). Of the visits that are due, the worker
takes the one whose period ends first (earliest deadline), then the older; a visit not done at
closing pauses and resumes at the next opening with the trip again, unless the service's
overtime lets it finish (:func:`sim.model.calendars.finish_job`).

Visits take the workers' time only: they do not delay allocations, which depend on case slots
alone. So they are scheduled after the run, from the cases each worker was allocated: a pure
function of the run's records, with no random number (trips are the expected trips).
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from ..model.calendars import finish_job
from ..model.compile import Fleet, Region

__all__ = ["Cases", "Visits", "schedule_visits"]


@dataclass(frozen=True)
class Cases:
    """The cases of one run of one fleet: their slot unit, allocation, end (NaN: open at the
    horizon), place and incident type."""

    unit: np.ndarray
    allocated: np.ndarray
    end: np.ndarray
    place: np.ndarray
    type: np.ndarray


@dataclass(frozen=True)
class Visits:
    """Scheduled visits: case (row of :class:`Cases`), worker, period start and end (the
    deadline), start and end of the visit (NaN: not started by the horizon), minutes worked."""

    case: np.ndarray
    worker: np.ndarray
    release: np.ndarray
    deadline: np.ndarray
    start: np.ndarray
    done: np.ndarray
    worked: np.ndarray

    def __len__(self) -> int:
        return len(self.case)


def _periods(region: Region, cases: Cases) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every visit due before the horizon: its case, period start and deadline."""
    every = np.array([t.visit_every for t in region.types])[cases.type]
    last = np.fmin(np.where(np.isnan(cases.end), region.horizon, cases.end), region.horizon)
    with np.errstate(invalid="ignore", divide="ignore"):
        count = np.where(every > 0, np.ceil((last - cases.allocated) / every), 0)
    count = np.maximum(np.nan_to_num(count), 0).astype(np.int64)
    case = np.repeat(np.arange(len(count)), count)
    j = np.arange(len(case)) - np.repeat(np.cumsum(count) - count, count)
    release = cases.allocated[case] + j * every[case]
    return case, release, release + every[case]


def _next_open(starts: list[float], ends: list[float], t: float) -> float:
    i = bisect_right(starts, t) - 1
    if i >= 0 and t < ends[i]:
        return t
    return starts[i + 1] if i + 1 < len(starts) else float("inf")  # no more working time


def _one_worker(
    region: Region,
    fleet: Fleet,
    w: int,
    trips: np.ndarray,
    site: np.ndarray,
    release: np.ndarray,
    deadline: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, end and minutes worked of one worker's visits (EDF, one at a time)."""
    assert fleet.workers is not None
    working = fleet.workers.working[w]
    starts, ends = working[:, 0].tolist(), working[:, 1].tolist()
    overtime = region.overtime[int(fleet.workers.service[w])]
    n = len(release)
    start, done, worked = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n)
    order = np.argsort(release, kind="stable").tolist()
    rel, dl = release.tolist(), deadline.tolist()
    due: list[tuple[float, float, int]] = []
    k, t = 0, 0.0
    while k < n or due:
        if not due:
            t = max(t, rel[order[k]])
        t = _next_open(starts, ends, t)
        if t >= region.horizon:
            break
        while k < n and rel[order[k]] <= t:
            v = order[k]
            heapq.heappush(due, (dl[v], rel[v], v))
            k += 1
        if not due:
            continue
        _, _, v = heapq.heappop(due)
        trip = float(trips[v])
        _, end, pauses, _ = finish_job(starts, ends, t, trip, float(site[v]), trip, overtime)
        start[v], done[v] = t, end
        worked[v] = trip + site[v] + pauses * trip
        t = end
    return start, done, worked


def schedule_visits(region: Region, fleet: Fleet, cases: Cases) -> Visits:
    """Every visit the cases need before the horizon, scheduled in their workers' time."""
    assert fleet.workers is not None
    workers = fleet.workers
    case, release, deadline = _periods(region, cases)
    worker = workers.of_unit[cases.unit[case]]
    office = workers.station[worker]
    service = np.array([t.service for t in region.types], dtype=np.int64)[cases.type[case]]
    trips = region.trips_of(service, office, cases.place[case])
    back = region.trips_of(service, cases.place[case], office) / region.return_speed_factor
    site = np.array([t.visit_duration for t in region.types])[cases.type[case]] + back
    start, done, worked = (
        np.full(len(case), np.nan),
        np.full(len(case), np.nan),
        np.zeros(len(case)),
    )
    for w in np.unique(worker).tolist():
        mine = np.flatnonzero(worker == w)
        s, d, m = _one_worker(
            region, fleet, w, trips[mine], site[mine], release[mine], deadline[mine]
        )
        start[mine], done[mine], worked[mine] = s, d, m
    return Visits(case, worker, release, deadline, start, done, worked)
