"""Caseload services compiled: each worker becomes ``max_cases`` case slots, units of the fleet.

A case (an incident of a caseload service) holds one slot of one worker for its duration, so
the dispatch policies allocate cases exactly as they send units: a community's own workers
(``separate``), partners' beyond their reserve of free slots (``mutual_aid``), the closest
worker with a free slot (``pooled``). A slot exists round the clock: a case is allocated as
soon as one is free, whatever the hour, and holds it for its whole duration. The worker's time
(visits, travel) is kept apart: :class:`Workers` holds when each worker works (duty inside the
service's calendar, then the calendar after the horizon), which visits are scheduled in.

Each slot carries ``1 / max_cases`` of its worker's cost of working hours (spread over the
statistics window in which slots are on duty), so that the costs of a worker's slots add up
to the worker's cost.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from .calendars import work_intervals

if TYPE_CHECKING:
    from .compile import Fleet, Region

__all__ = ["Workers", "case_slots", "slot_label"]


@dataclass(frozen=True)
class Workers:
    """The workers of the caseload services of a fleet, and which units are their slots."""

    labels: tuple[str, ...]  # (W,)
    service: np.ndarray  # (W,) service index
    station: np.ndarray  # (W,) place of the office
    owner: np.ndarray  # (W,) community index
    working: tuple[np.ndarray, ...]  # (W,) (m, 2) when each works, beyond the horizon too
    of_unit: np.ndarray  # (U,) the worker whose slot each unit is; -1: no case slot

    @property
    def size(self) -> int:
        return len(self.labels)


def slot_label(worker: str, slot: int) -> str:
    """The unit label of a worker's case slot (``slot`` from 0)."""
    return f"{worker}#{slot + 1}"


def _share_of_window(duty: np.ndarray, lo: float, hi: float) -> float:
    """The share of the statistics window [lo, hi) that ``duty`` covers."""
    covered = np.clip(duty, lo, hi)
    return float((covered[:, 1] - covered[:, 0]).sum()) / (hi - lo) if hi > lo else 0.0


def case_slots(fleet: Fleet, region: Region) -> Fleet:
    """``fleet`` with every unit of a caseload service replaced by its worker's case slots
    (in place, in order), each on duty round the clock; other units are kept as they are."""
    keep: list[int] = []  # the fleet unit each new unit comes from
    slot_of: list[int] = []  # -1, or the slot number
    for u in range(fleet.size):
        m = region.max_cases[int(fleet.service[u])]
        keep += [u] * max(m, 1)
        slot_of += list(range(m)) if m else [-1]
    index = np.array(keep, dtype=np.int64)
    slots = np.array(slot_of, dtype=np.int64)
    workers = sorted({int(u) for u, j in zip(index, slots, strict=True) if j >= 0})
    number = {u: w for w, u in enumerate(workers)}
    always = np.array([[0.0, region.horizon]])
    cost = fleet.cost_per_hour[index].astype(np.float64)
    share = {u: _share_of_window(fleet.duty[u], region.warmup, region.horizon) for u in workers}
    duty = []
    for k, (u, j) in enumerate(zip(index.tolist(), slots.tolist(), strict=True)):
        if j < 0:
            duty.append(fleet.duty[u])
            continue
        cost[k] *= share[u] / region.max_cases[int(fleet.service[u])]
        duty.append(always)
    labels = tuple(
        fleet.labels[u] if j < 0 else slot_label(fleet.labels[u], j)
        for u, j in zip(index.tolist(), slots.tolist(), strict=True)
    )
    return replace(
        fleet,
        # a freed slot is at once free again (no drive back): as if dispatched only at station
        dispatch=tuple(
            replace(rule, from_road=False) if region.max_cases[s] else rule
            for s, rule in enumerate(fleet.dispatch)
        ),
        labels=labels,
        service=fleet.service[index],
        station=fleet.station[index],
        station_ids=tuple(fleet.station_ids[u] for u in index.tolist()),
        owner=fleet.owner[index],
        cost_per_hour=cost,
        duty=tuple(duty),
        workers=Workers(
            labels=tuple(fleet.labels[u] for u in workers),
            service=fleet.service[workers],
            station=fleet.station[workers],
            owner=fleet.owner[workers],
            working=tuple(_worker_time(region, fleet, u) for u in workers),
            of_unit=np.array(
                [number[u] if j >= 0 else -1 for u, j in zip(index, slots, strict=True)]
            ),
        ),
    )


def _worker_time(region: Region, fleet: Fleet, u: int) -> np.ndarray:
    calendar = region.calendars[int(fleet.service[u])] if region.calendars else None
    if calendar is None:
        return fleet.duty[u]
    return work_intervals(fleet.duty[u], calendar, region.horizon)
