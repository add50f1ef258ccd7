"""Engine records turned into tidy tables: one row per incident, per unit, per level.

Pure functions of arrays; the statistics window is [warm-up, horizon].
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .demand import Incidents
from .engine import EngineRecords
from .model import Fleet, Region

__all__ = ["help_table", "incident_table", "level_table", "overlap", "unit_table"]


def _category(values: np.ndarray, names: tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical.from_codes(values.astype(np.int32), categories=list(names))


def incident_table(
    region: Region, fleet: Fleet, inc: Incidents, rec: EngineRecords, replication: int
) -> pd.DataFrame:
    """One row per incident, including those still open at the horizon (``open`` is True)."""
    n = len(inc)
    types = region.types
    k = inc.type
    service = np.array([t.service for t in types], dtype=np.int32)[k]
    priority = np.array([t.priority for t in types], dtype=np.int8)[k]
    target = np.vstack([t.target_minutes for t in types])[k, inc.community]
    response = rec.t_first_arrival - inc.t_call
    reached = ~np.isnan(response)
    met = pd.array(response <= target, dtype="boolean")
    undecided = np.isnan(target) | (~reached & (inc.t_call + np.nan_to_num(target) > region.horizon))
    met[undecided] = pd.NA
    has_unit = rec.first_unit >= 0
    owner = np.where(has_unit, fleet.owner[np.maximum(rec.first_unit, 0)], -1)
    own = pd.array(owner == inc.community, dtype="boolean")
    own[~has_unit] = pd.NA
    unit_names = (*fleet.labels,)
    return pd.DataFrame(
        {
            "replication": np.full(n, replication, dtype=np.int32),
            "option": pd.Categorical([fleet.option] * n),
            "incident": np.arange(n, dtype=np.int64),
            "type": _category(k, tuple(t.id for t in types)),
            "service": _category(service, region.services),
            "priority": priority,
            "community": _category(inc.community, region.communities),
            "t_call": inc.t_call,
            "t_ready": rec.t_ready,
            "t_dispatch": rec.t_dispatch,
            "t_first_arrival": rec.t_first_arrival,
            "t_full_arrival": rec.t_full_arrival,
            "t_clear": rec.t_clear,
            "first_unit": pd.Categorical.from_codes(rec.first_unit, categories=list(unit_names)),
            "first_unit_owner": pd.Categorical.from_codes(owner.astype(np.int32), categories=list(region.communities)),
            "units_sent": rec.units_sent,
            "wait": rec.t_dispatch - rec.t_ready,
            "travel": rec.travel,
            "response": response,
            "target": target,
            "met_target": met,
            "own_unit": own,
            "open": ~(rec.t_clear <= region.horizon),
            "warmup": inc.t_call < region.warmup,
        }
    )


def overlap(starts: np.ndarray, ends: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Length of each interval [start, end) inside the union of sorted disjoint ``cuts`` (m, 2)."""
    if len(cuts) == 0:
        return np.zeros(len(starts))
    xs = cuts.ravel()
    covered = np.concatenate([[0.0], np.cumsum(cuts[:, 1] - cuts[:, 0])])
    ys = np.empty(len(xs))
    ys[0::2], ys[1::2] = covered[:-1], covered[1:]  # duty time covered up to each breakpoint
    return np.interp(ends, xs, ys) - np.interp(starts, xs, ys)


def unit_table(region: Region, fleet: Fleet, inc: Incidents, rec: EngineRecords, replication: int) -> pd.DataFrame:
    """One row per unit: time on duty and busy within the statistics window, dispatches."""
    lo, hi = region.warmup, region.horizon
    a = np.clip(rec.job_assigned, lo, hi)
    b = np.clip(rec.job_free, lo, hi)
    busy = b - a
    others = inc.community[rec.job_incident] != fleet.owner[rec.job_unit]
    counted = (rec.job_assigned >= lo) & (rec.job_assigned < hi)
    u = rec.job_unit
    size = fleet.size
    busy_min = np.bincount(u, busy, size)
    window = np.array([[lo, hi]])
    on_duty = np.empty(size)
    for i, duty in enumerate(fleet.duty):
        scheduled = float(overlap(window[:, 0], window[:, 1], duty)[0])
        mine = u == i
        in_duty = overlap(a[mine], b[mine], duty).sum()
        on_duty[i] = scheduled + (busy_min[i] - in_duty)  # overtime finishing a job counts
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(on_duty > 0, busy_min / on_duty, np.nan)
    return pd.DataFrame(
        {
            "replication": np.full(size, replication, dtype=np.int32),
            "option": pd.Categorical([fleet.option] * size),
            "unit": list(fleet.labels),
            "service": _category(fleet.service, region.services),
            "station": list(fleet.station_ids),
            "owner": _category(fleet.owner, region.communities),
            "on_duty_min": on_duty,
            "busy_min": busy_min,
            "busy_fraction": fraction,
            "dispatches": np.bincount(u[counted], minlength=size).astype(np.int64),
            "busy_min_for_others": np.bincount(u, busy * others, size),
            "cost": on_duty / 60.0 * fleet.cost_per_hour,
        }
    )


def _hour_time(t: np.ndarray, hour: int) -> np.ndarray:
    """Minutes of hour-of-day ``hour`` in [0, t)."""
    return (t // 1440) * 60 + np.clip(t % 1440 - 60 * hour, 0, 60)


def _levels(starts: np.ndarray, ends: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Time-average number of open intervals in [lo, hi): overall, then for each hour of day."""
    a, b = np.clip(starts, lo, hi), np.clip(ends, lo, hi)
    out = np.empty(25)
    out[0] = (b - a).sum() / (hi - lo)
    span = np.array([lo]), np.array([hi])
    for h in range(24):
        total = float((_hour_time(span[1], h) - _hour_time(span[0], h))[0])
        inside = (_hour_time(b, h) - _hour_time(a, h)).sum()
        out[h + 1] = inside / total if total > 0 else np.nan
    return out


def level_table(region: Region, fleet: Fleet, inc: Incidents, rec: EngineRecords, replication: int) -> pd.DataFrame:
    """Time-weighted mean busy units and waiting calls per service, overall (hour -1) and by
    hour of day. A call waits from the end of call handling until its first unit is sent."""
    lo, hi = region.warmup, region.horizon
    type_service = np.array([t.service for t in region.types])
    inc_service = type_service[inc.type]
    job_service = fleet.service[rec.job_unit]
    dispatched = np.where(np.isnan(rec.t_dispatch), hi, rec.t_dispatch)
    rows = []
    for s, name in enumerate(region.services):
        busy = _levels(rec.job_assigned[job_service == s], rec.job_free[job_service == s], lo, hi)
        mine = inc_service == s
        waiting = _levels(rec.t_ready[mine], dispatched[mine], lo, hi)
        for h in range(25):
            rows.append((replication, fleet.option, name, h - 1, busy[h], waiting[h]))
    return pd.DataFrame(rows, columns=["replication", "option", "service", "hour", "busy_units", "waiting_calls"])


def help_table(region: Region, fleet: Fleet, inc: Incidents, rec: EngineRecords, replication: int) -> pd.DataFrame:
    """Unit-hours that each owning community's units spent on each community's incidents
    (busy time clipped to the statistics window), per service."""
    lo, hi = region.warmup, region.horizon
    hours = (np.clip(rec.job_free, lo, hi) - np.clip(rec.job_assigned, lo, hi)) / 60.0
    n_c, n_s = len(region.communities), len(region.services)
    key = (fleet.service[rec.job_unit] * n_c + fleet.owner[rec.job_unit]) * n_c + inc.community[rec.job_incident]
    total = np.bincount(key, hours, n_s * n_c * n_c).reshape(n_s, n_c, n_c)
    s, o, c = np.meshgrid(np.arange(n_s), np.arange(n_c), np.arange(n_c), indexing="ij")
    return pd.DataFrame(
        {
            "replication": replication,
            "option": fleet.option,
            "service": [region.services[i] for i in s.ravel()],
            "owner": [region.communities[i] for i in o.ravel()],
            "community": [region.communities[i] for i in c.ravel()],
            "unit_hours": total.ravel(),
        }
    )
