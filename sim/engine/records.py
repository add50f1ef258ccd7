"""Engine records turned into tidy tables: one row per incident, per unit, per level.

Pure functions of arrays; the statistics window is [warm-up, horizon].
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model.compile import Fleet, Region
from .demand import Incidents
from .hours import level_sums
from .loop import EngineRecords
from .sanity import check_records
from .spans import busy_spans, job_work, working_targets
from .standing import move_minutes, unit_rows

__all__ = ["help_table", "incident_table", "level_table", "overlap", "unit_moves", "unit_table"]


def _category(values: np.ndarray, names: tuple[str, ...] | list[str]) -> pd.Categorical:
    """A categorical from integer codes, with the narrowest code type (1 byte for < 127)."""
    codes = np.int8 if len(names) < 127 else np.int16 if len(names) < 32_000 else np.int32
    return pd.Categorical.from_codes(values.astype(codes, copy=False), categories=list(names))


def incident_table(
    region: Region, fleet: Fleet, inc: Incidents, rec: EngineRecords, replication: int
) -> pd.DataFrame:
    """One row per incident, including those still open at the horizon (``open`` is True)."""
    check_records(inc, rec, fleet.option)  # times in order and trips finite, or stop here
    n = len(inc)
    types = region.types
    k = inc.type
    service = np.array([t.service for t in types], dtype=np.int8)[k]
    priority = np.array([t.priority for t in types], dtype=np.int8)[k]
    target = np.vstack([t.target_minutes for t in types])[k, inc.community]
    response = rec.t_first_arrival - inc.t_call
    reached = ~np.isnan(response)
    met = pd.array(response <= target, dtype="boolean")
    due = np.nan_to_num(target)  # one temporary: t_call + target, in place
    due += inc.t_call
    undecided = np.isnan(target) | (~reached & (due > region.horizon))
    del due
    met[undecided] = pd.NA
    working = working_targets(region, inc, rec)
    if working is not None:  # call to completion, in working time of the service's calendar
        has, on_time, decided = working
        met[has] = on_time[has]
        met[has & ~decided] = pd.NA
    has_unit = rec.first_unit >= 0
    owner = fleet.owner.astype(np.int32)[np.maximum(rec.first_unit, 0)]
    owner[~has_unit] = -1
    own = pd.array(owner == inc.community, dtype="boolean")
    own[~has_unit] = pd.NA
    table = pd.DataFrame(
        {
            "replication": np.full(n, replication, dtype=np.int32),
            "option": _category(np.zeros(n, dtype=np.int8), [fleet.option]),
            "incident": np.arange(n, dtype=np.int32),
            "type": _category(k, tuple(t.id for t in types)),
            "service": _category(service, region.services),
            "priority": priority,
            "community": _category(inc.community, region.communities),
            "zone": _category(inc.zone, region.zone_ids),
            "t_call": inc.t_call,
            "t_ready": rec.t_ready,
            "t_dispatch": rec.t_dispatch,
            "t_first_arrival": rec.t_first_arrival,
            "t_full_arrival": rec.t_full_arrival,
            "t_clear": rec.t_clear,
            "first_unit": _category(rec.first_unit, fleet.labels),
            "first_unit_owner": _category(owner, region.communities),
            "units_sent": rec.units_sent,
            "wait": rec.t_dispatch - rec.t_ready,
            "travel": rec.travel,
            "response": response,
            "target": target,
            "met_target": met,
            "own_unit": own,
            "open": ~(rec.t_clear <= region.horizon),
            "warmup": inc.t_call < region.warmup,
        },
        copy=False,  # share the engine's arrays rather than copy them
    )
    if region.calendars and any(map(region.pauses, range(len(region.services)))):
        pauses, overtime = job_work(region, fleet, rec)
        table["pauses"] = np.bincount(rec.job_incident, pauses, n).astype(np.int32)
        table["overtime"] = np.bincount(rec.job_incident, overtime, n)
    return table


def overlap(starts: np.ndarray, ends: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Length of each interval [start, end) inside the union of sorted disjoint ``cuts`` (m, 2)."""
    if len(cuts) == 0:
        return np.zeros(len(starts))
    xs = cuts.ravel()
    covered = np.concatenate([[0.0], np.cumsum(cuts[:, 1] - cuts[:, 0])])
    ys = np.empty(len(xs))
    ys[0::2], ys[1::2] = covered[:-1], covered[1:]  # duty time covered up to each breakpoint
    return np.interp(ends, xs, ys) - np.interp(starts, xs, ys)


CHUNK = 1 << 16  # rows processed at a time: bounded temporaries on million-row runs


def _chunks(n: int) -> list[slice]:
    return [slice(i, min(i + CHUNK, n)) for i in range(0, n, CHUNK)] or [slice(0, 0)]


def _present(values: np.ndarray, size: int) -> np.ndarray:
    """The distinct values of small non-negative integers, ascending (``np.unique``, counted)."""
    return np.flatnonzero(np.bincount(values, minlength=size))


def unit_table(
    region: Region, fleet: Fleet, inc: Incidents, rec: EngineRecords, replication: int
) -> pd.DataFrame:
    """One row per unit: time on duty and busy within the statistics window, dispatches."""
    lo, hi = region.warmup, region.horizon
    size = fleet.size
    busy_min, for_others, in_duty = np.zeros(size), np.zeros(size), np.zeros(size)
    dispatches = np.zeros(size, dtype=np.int64)
    for sl in _chunks(len(rec.job_unit)):
        counted = (rec.job_assigned[sl] >= lo) & (rec.job_assigned[sl] < hi)
        dispatches += np.bincount(rec.job_unit[sl][counted], minlength=size)
    spans = busy_spans(region, fleet, rec)
    for sl in _chunks(len(spans)):
        u = spans.unit[sl]
        a = np.clip(spans.start[sl], lo, hi)
        b = np.clip(spans.end[sl], lo, hi)
        others = inc.community[spans.incident[sl]] != fleet.owner[u]
        busy_min += np.bincount(u, b - a, size)
        for_others += np.bincount(u, (b - a) * others, size)
        for i, mine in enumerate(unit_rows(u, size)):
            if len(mine):
                in_duty[i] += overlap(a[mine], b[mine], fleet.duty[i]).sum()
    scheduled = np.array([overlap(np.array([lo]), np.array([hi]), d)[0] for d in fleet.duty])
    on_duty = scheduled + (busy_min - in_duty)  # overtime finishing a job counts as on duty
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(on_duty > 0, busy_min / on_duty, np.nan)
    table = pd.DataFrame(
        {
            "replication": np.full(size, replication, dtype=np.int32),
            "option": _category(np.zeros(size, dtype=np.int8), [fleet.option]),
            "unit": list(fleet.labels),
            "service": _category(fleet.service, region.services),
            "station": list(fleet.station_ids),
            "owner": _category(fleet.owner, region.communities),
            "on_duty_min": on_duty,
            "busy_min": busy_min,
            "busy_fraction": fraction,
            "dispatches": dispatches,
            "busy_min_for_others": for_others,
            "cost": on_duty / 60.0 * fleet.cost_per_hour,
        }
    )
    if region.relocates:  # some option moves units (sim.engine.relocation)
        moves, minutes = unit_moves(region, fleet, rec)
        table["moves"] = moves
        table["move_min"] = minutes
        rate = np.array([fleet.relocation_of(s).move_cost_per_hour for s in fleet.service])
        table["cost"] += minutes / 60.0 * rate
    return table


def unit_moves(region: Region, fleet: Fleet, rec: EngineRecords) -> tuple[np.ndarray, np.ndarray]:
    """Per unit: the moves begun inside the statistics window, and the minutes driven on them."""
    inside = (rec.move_start >= region.warmup) & (rec.move_start < region.horizon)
    units = rec.move_unit[inside]
    moves = np.bincount(units, minlength=fleet.size).astype(np.int64)
    return moves, np.bincount(units, move_minutes(rec)[inside], fleet.size)


def _level_spans(lo: float, hi: float) -> np.ndarray:
    span = level_sums(np.array([lo]), np.array([hi]), lo, hi)
    return np.where(span > 0, span, np.nan)


def level_table(
    region: Region, fleet: Fleet, inc: Incidents, rec: EngineRecords, replication: int
) -> pd.DataFrame:
    """Time-weighted mean busy units and waiting calls per service, overall (hour -1) and by
    hour of day. A call waits from the end of call handling until its first unit is sent."""
    lo, hi = region.warmup, region.horizon
    n_s = len(region.services)
    type_service = np.array([t.service for t in region.types])
    busy, waiting = np.zeros((n_s, 25)), np.zeros((n_s, 25))
    worked = busy_spans(region, fleet, rec)
    for sl in _chunks(len(worked)):
        job_service = fleet.service[worked.unit[sl]]
        for s in _present(job_service, n_s):
            mine = job_service == s
            busy[s] += level_sums(worked.start[sl][mine], worked.end[sl][mine], lo, hi)
    for sl in _chunks(len(inc)):
        inc_service = type_service[inc.type[sl]]
        dispatched = np.where(np.isnan(rec.t_dispatch[sl]), hi, rec.t_dispatch[sl])
        for s in _present(inc_service, n_s):
            mine = inc_service == s
            waiting[s] += level_sums(rec.t_ready[sl][mine], dispatched[mine], lo, hi)
    spans = _level_spans(lo, hi)
    busy, waiting = busy / spans, waiting / spans
    rows = [
        (replication, fleet.option, name, h - 1, busy[s, h], waiting[s, h])
        for s, name in enumerate(region.services)
        for h in range(25)
    ]
    return pd.DataFrame(
        rows, columns=["replication", "option", "service", "hour", "busy_units", "waiting_calls"]
    )


def help_table(
    region: Region, fleet: Fleet, inc: Incidents, rec: EngineRecords, replication: int
) -> pd.DataFrame:
    """Unit-hours that each owning community's units spent on each community's incidents
    (busy time clipped to the statistics window), per service."""
    lo, hi = region.warmup, region.horizon
    n_c, n_s = len(region.communities), len(region.services)
    total = np.zeros(n_s * n_c * n_c)
    spans = busy_spans(region, fleet, rec)
    for sl in _chunks(len(spans)):
        u = spans.unit[sl]
        hours = (np.clip(spans.end[sl], lo, hi) - np.clip(spans.start[sl], lo, hi)) / 60.0
        key = (fleet.service[u] * n_c + fleet.owner[u]) * n_c + inc.community[spans.incident[sl]]
        total += np.bincount(key, hours, n_s * n_c * n_c)
    s, o, c = np.meshgrid(np.arange(n_s), np.arange(n_c), np.arange(n_c), indexing="ij")
    return pd.DataFrame(
        {
            "replication": replication,
            "option": fleet.option,
            "service": [region.services[i] for i in s.ravel()],
            "owner": [region.communities[i] for i in o.ravel()],
            "community": [region.communities[i] for i in c.ravel()],
            "unit_hours": total,  # flat in (service, owner, community) order
        }
    )
