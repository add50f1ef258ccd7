"""One option's engine records assembled from runs of some of its services each.

A run of some services (:class:`~sim.engine.loop.Engine` with ``services``) gives each of them
the records a run of the whole fleet gives it (:mod:`sim.engine.loop`); another option's run
may have produced them, with its own unit indices (:mod:`sim.engine.reuse`). :func:`merge`
puts the parts together as one run of the whole fleet would have written them:

- incident arrays: each incident from the part that ran its service; ``first_unit`` in the
  fleet's own unit indices;
- the job log: a run appends a job when its unit is chosen, so the log is in order of
  ``job_assigned``; the parts' jobs are merged by it, jobs assigned at the same instant by
  service, each service's in the order of its run; crew rows follow their jobs;
- moves: by the time they began, moves begun at the same instant by service (as a run orders
  them).

The one order a run does not fix is that of jobs of different services assigned at the very
same instant (two services' shifts starting at 8:00 with calls waiting): the heap's order of
events, which depends on both services' history. The driver therefore puts every run's records
in :func:`canonical` order, the one :func:`merge` writes, so that an option's records are the
same whichever other options ran beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..model.compile import Fleet
from .loop import EngineRecords

__all__ = ["INCIDENT_FIELDS", "RECORD_FIELDS", "Part", "canonical", "merge", "unit_map"]

INCIDENT_FIELDS = (
    "t_ready",
    "t_dispatch",
    "t_first_arrival",
    "t_full_arrival",
    "t_clear",
    "first_unit",
    "units_sent",
    "travel",
)
JOB_FIELDS = ("job_incident", "job_unit", "job_assigned", "job_free")
CREW_FIELDS = ("crew_row", "crew_dispatch", "crew_arrive")
MOVE_FIELDS = ("move_unit", "move_start", "move_arrive", "move_from", "move_to")
RECORD_FIELDS = INCIDENT_FIELDS + JOB_FIELDS + CREW_FIELDS + MOVE_FIELDS
"""Every field of :class:`EngineRecords` that :func:`merge` assembles (the reuse planner shares
nothing while the records have a field outside these)."""


@dataclass(frozen=True)
class Part:
    """The records of ``services`` in a run of ``fleet`` (its unit indices)."""

    records: EngineRecords
    fleet: Fleet
    services: tuple[int, ...]


def unit_map(source: Fleet, target: Fleet, services: Sequence[int]) -> np.ndarray:
    """Per unit of ``source``: the same unit in ``target`` (the i-th unit of a service is the
    i-th unit of that service in both), -1 for units of other services."""
    out = np.full(source.size + 1, -1, dtype=np.int64)  # the last entry: no unit (-1) stays -1
    for s in services:
        mine, theirs = np.flatnonzero(source.service == s), np.flatnonzero(target.service == s)
        if len(mine) != len(theirs):
            raise ValueError(f"service {s}: {len(mine)} units against {len(theirs)}")
        out[mine] = theirs
    return out


def _remap(units: np.ndarray, to: np.ndarray) -> np.ndarray:
    return to[units].astype(units.dtype)  # index -1 reads the last entry, -1


def _stable_order(assigned: np.ndarray, service: np.ndarray) -> np.ndarray:
    """Rows by ``assigned``, then ``service``, then as given."""
    by_service = np.argsort(service, kind="stable")
    return by_service[np.argsort(assigned[by_service], kind="stable")]


def merge(
    target: Fleet, incident_service: np.ndarray, n_services: int, parts: Sequence[Part]
) -> EngineRecords:
    """The records of a run of ``target`` from ``parts``, which together run each of the
    ``n_services`` services once; ``incident_service``: the service of each incident."""
    covered = sorted(s for p in parts for s in p.services)
    if covered != list(range(n_services)):
        raise ValueError(f"parts run services {covered}, not each of {n_services} once")
    maps = [unit_map(p.fleet, target, p.services) for p in parts]
    columns = _incident_columns(incident_service, parts, maps)
    columns.update(_job_columns(parts, maps))
    columns.update(_move_columns(parts, maps))
    return EngineRecords(**columns)


def _incident_columns(
    incident_service: np.ndarray, parts: Sequence[Part], maps: list[np.ndarray]
) -> dict[str, np.ndarray]:
    first = parts[0].records
    out = {name: np.array(getattr(first, name)) for name in INCIDENT_FIELDS}
    out["first_unit"] = _remap(first.first_unit, maps[0])
    for part, to in zip(parts[1:], maps[1:], strict=True):
        mine = np.isin(incident_service, part.services)
        for name in INCIDENT_FIELDS:
            out[name][mine] = getattr(part.records, name)[mine]
        out["first_unit"][mine] = _remap(part.records.first_unit[mine], to)
    return out


def _jobs_of(part: Part, to: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The rows of ``part``'s job log that are jobs of its services, and their columns (units
    in the target's indices)."""
    rec = part.records
    rows = np.flatnonzero(np.isin(part.fleet.service[rec.job_unit], part.services))
    columns = {name: getattr(rec, name)[rows] for name in JOB_FIELDS}
    columns["service"] = part.fleet.service[columns["job_unit"]]
    columns["job_unit"] = _remap(columns["job_unit"], to)
    return rows, columns


def _job_columns(parts: Sequence[Part], maps: list[np.ndarray]) -> dict[str, np.ndarray]:
    """The job and crew logs of every part, merged in :func:`canonical` order."""
    jobs = [_jobs_of(p, to) for p, to in zip(parts, maps, strict=True)]
    joined = {
        name: np.concatenate([columns[name] for _, columns in jobs])
        for name in (*JOB_FIELDS, "service")
    }
    order = _stable_order(joined["job_assigned"], joined.pop("service"))
    out = {name: values[order] for name, values in joined.items()}
    where = np.empty(len(order), dtype=np.int64)  # merged row of each joined job
    where[order] = np.arange(len(order))
    new_rows, picked = [], []
    start = 0
    for part, (rows, _) in zip(parts, jobs, strict=True):
        crew = part.records.crew_row
        mine = np.flatnonzero(np.isin(crew, rows))  # the crew rows of its services' jobs
        new_rows.append(where[start + np.searchsorted(rows, crew[mine])])
        picked.append(mine)
        start += len(rows)
    crew_row = np.concatenate(new_rows).astype(np.int64)
    by_row = np.argsort(crew_row, kind="stable")
    out["crew_row"] = crew_row[by_row]
    for name in ("crew_dispatch", "crew_arrive"):
        values = [getattr(p.records, name)[m] for p, m in zip(parts, picked, strict=True)]
        out[name] = np.concatenate(values)[by_row]
    return out


def _move_columns(parts: Sequence[Part], maps: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Every service's moves, services in order, then by when they began (stable): the order
    of :meth:`sim.engine.loop.Engine._move_log`."""
    pieces = []
    for s in sorted({s for p in parts for s in p.services}):
        k = next(i for i, p in enumerate(parts) if s in p.services)
        rec = parts[k].records
        mine = np.flatnonzero(parts[k].fleet.service[rec.move_unit] == s)
        pieces.append((rec, mine, maps[k]))
    if not any(len(m) for _, m, _ in pieces):
        return {}
    out = {
        name: np.concatenate([getattr(rec, name)[m] for rec, m, _ in pieces])
        for name in MOVE_FIELDS
    }
    out["move_unit"] = np.concatenate([_remap(rec.move_unit[m], to) for rec, m, to in pieces])
    order = np.argsort(out["move_start"], kind="stable")
    return {name: values[order] for name, values in out.items()}


def canonical(
    records: EngineRecords, fleet: Fleet, incident_service: np.ndarray, n_services: int
) -> EngineRecords:
    """``records`` of a run of ``fleet`` with jobs assigned at the same instant ordered by
    service (the order :func:`merge` writes); the records themselves when they already are."""
    service = fleet.service[records.job_unit]
    same = np.diff(records.job_assigned) == 0
    if not np.any(same & (np.diff(service) < 0)):
        return records
    whole = Part(records, fleet, tuple(range(n_services)))
    return merge(fleet, incident_service, n_services, [whole])
