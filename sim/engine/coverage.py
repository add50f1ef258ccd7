"""Uncovered time and cover given and received: tables of one replication, from its records.

A zone of a service is *covered* while some unit of the service stands free at a post from
which it reaches the zone within its target (:mod:`sim.model.coverage`; whose units count
follows the dispatch rule). A community is *uncovered* while the covered zones hold less than
the service's ``coverage_share`` of its calls. Free units on the road (heading back or moving)
cover nothing until they arrive (:mod:`sim.engine.standing`). Times are inside the
statistics window [warm-up, horizon].

:func:`coverage_table` gives per service and community the uncovered minutes, the moves of
other communities' units to posts inside it (cover received, ``moves_in``) and of its own units
to posts outside it (cover given, ``moves_out``) with the minutes those units stood or drove
there, and the minutes its own units drove on moves. :func:`free_units_table` gives the free
units standing in each community, hour by hour over the first week of the window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model.compile import Fleet, Region
from ..model.coverage import Cover, cover_of
from .demand import Incidents
from .loop import EngineRecords
from .standing import Standing, move_minutes, standings

__all__ = ["COVERAGE_COLUMNS", "coverage_table", "covered_services", "free_units_table"]

COVERAGE_COLUMNS = (
    "replication",
    "option",
    "service",
    "community",
    "window_min",
    "uncovered_min",
    "moves_in",
    "moves_out",
    "move_min",
    "cover_min_in",
    "cover_min_out",
)
TIMELINE_DAYS = 7


def covered_services(region: Region) -> list[int]:
    """Services whose uncovered time is measured: response targets in minutes, round the
    clock (no calendar that closes, no caseload)."""
    out = []
    for s in range(len(region.services)):
        if region.max_cases and region.max_cases[s]:
            continue
        calendar = region.calendars[s] if region.calendars else None
        if calendar is not None and not calendar.always_open:
            continue
        out.append(s)
    return out


def _cover(region: Region, fleet: Fleet, s: int) -> Cover | None:
    places = np.union1d(fleet.station[fleet.service == s], fleet.relocation_of(s).posts)
    share = region.coverage_share[s] if region.coverage_share else 0.5
    cover = cover_of(region, s, fleet.dispatch[s], places, share)
    return cover if cover is not None and cover.weight.sum() > 0 else None


def _occupancy(
    st: Standing, slots: np.ndarray, n_slots: int, lo: float, hi: float
) -> tuple[np.ndarray, np.ndarray]:
    """Breakpoints ``t`` (E + 1,) and whether some unit stands in each slot between them
    (S, E): slot by slot, so that the running count runs along memory."""
    a, b = np.clip(st.start, lo, hi), np.clip(st.end, lo, hi)
    keep = b > a
    times = np.concatenate([[lo], a[keep], b[keep], [hi]])
    step = np.concatenate([[-1], slots[keep], slots[keep], [-1]])
    sign = np.concatenate([[0], np.ones(keep.sum()), -np.ones(keep.sum()), [0]])
    order = _stable_order(times)
    times, step, sign = times[order], step[order], sign[order]
    delta = np.zeros((n_slots, len(times)), dtype=np.int32)
    real = step >= 0
    delta[step[real], np.flatnonzero(real)] = sign[real]
    return times, np.cumsum(delta, axis=1)[:, :-1] > 0


def _stable_order(times: np.ndarray) -> np.ndarray:
    """``np.argsort(times, kind="stable")``, quicker: a quicksort, then the runs of equal
    times (few: units clipped to the window's start, shifts that begin together) put back in
    their first order."""
    order = np.argsort(times)
    ordered = times[order]
    tied = np.zeros(len(times), dtype=bool)
    same = ordered[1:] == ordered[:-1]
    tied[1:] |= same
    tied[:-1] |= same
    if tied.any():
        at = np.flatnonzero(tied)
        run = np.cumsum(np.concatenate([[True], ~same]))[at]  # the run of each tied place
        order[at] = order[at][np.lexsort((order[at], run))]
    return order


def _patterns(occupied: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct patterns of occupied slots (P, S) among the columns of ``occupied``
    (S, E), in sorted order of their bytes packed as ``np.packbits`` packs them, and each
    column's pattern. Up to 64 slots a pattern is one integer (slot 0 its highest bit), which
    sorts the same way and much quicker than rows of bytes."""
    n_slots = len(occupied)
    if n_slots > 64:
        packed = np.packbits(occupied.T, axis=1)
        patterns, inverse = np.unique(packed, axis=0, return_inverse=True)
        bits = np.unpackbits(patterns, axis=1, count=n_slots).astype(bool)
        return bits, inverse.ravel()
    shift = np.uint64(63) - np.arange(n_slots, dtype=np.uint64)
    keys = np.zeros(occupied.shape[1], dtype=np.uint64)
    for slot in range(n_slots):
        keys |= occupied[slot].astype(np.uint64) << shift[slot]
    distinct, inverse = np.unique(keys, return_inverse=True)
    bits = (distinct[:, None] >> shift[None, :]) & np.uint64(1)
    return bits.astype(bool), inverse.ravel()


def _uncovered(
    cover: Cover, reach: np.ndarray, occupied: np.ndarray, dt: np.ndarray, n_com: int
) -> np.ndarray:
    """Minutes each community was uncovered: the distinct patterns of occupied slots once."""
    if not len(dt):
        return np.zeros(n_com)
    bits, inverse = _patterns(occupied)
    covered = (bits.astype(np.float64) @ reach) > 0  # (patterns, Z)
    member = np.zeros((len(cover.weight), n_com))
    member[np.arange(len(cover.weight)), cover.zone_community] = cover.weight
    total = member.sum(axis=0)
    share = np.divide(covered @ member, total, out=np.ones((len(bits), n_com)), where=total > 0)
    short = (share < cover.share - 1e-12) & (total > 0)  # (patterns, C)
    return np.bincount(inverse, dt, len(bits)) @ short


def _slots(fleet: Fleet, cover: Cover, st: Standing) -> tuple[np.ndarray, np.ndarray, int]:
    """Each interval's slot (owner x post), and each slot's reach (S, Z)."""
    row = np.full(int(max(cover.places.max(initial=-1), st.post.max(initial=-1))) + 1, -1)
    row[cover.places] = np.arange(len(cover.places))
    if (row[st.post] < 0).any():
        raise KeyError(f"a unit stood at a place outside its cover: {st.post[row[st.post] < 0]}")
    owner = fleet.owner[st.unit]
    key = owner * len(cover.places) + row[st.post].astype(np.int64)
    keys, slot = np.unique(key, return_inverse=True)
    reach = (
        np.vstack(
            [cover.reach(int(k) % len(cover.places), int(k) // len(cover.places)) for k in keys]
        )
        if len(keys)
        else np.zeros((0, len(cover.weight)))
    )
    return slot.ravel(), reach.astype(np.float64), len(keys)


def coverage_table(
    region: Region, fleet: Fleet, inc: Incidents, rec: EngineRecords, replication: int
) -> pd.DataFrame:
    """Per service and community: uncovered minutes, moves and cover in and out."""
    lo, hi = region.warmup, region.horizon
    n_com = len(region.communities)
    rows = []
    minutes = move_minutes(rec)
    services = covered_services(region)
    for s, st in zip(services, standings(region, fleet, inc, rec, services), strict=True):
        cover = _cover(region, fleet, s)
        if cover is None:
            continue
        slot, reach, n_slots = _slots(fleet, cover, st)
        times, occupied = _occupancy(st, slot, n_slots, lo, hi)
        uncovered = _uncovered(cover, reach, occupied, np.diff(times), n_com)
        flows = _flows(region, fleet, rec, st, s, minutes)
        for c in range(n_com):
            rows.append(
                (
                    replication,
                    fleet.option,
                    region.services[s],
                    region.communities[c],
                    hi - lo,
                    uncovered[c],
                    *(f[c] for f in flows),
                )
            )
    return pd.DataFrame(rows, columns=list(COVERAGE_COLUMNS))


def _flows(
    region: Region, fleet: Fleet, rec: EngineRecords, st: Standing, s: int, minutes: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Moves in and out, minutes driven on moves, minutes of cover in and out, per community."""
    lo, hi = region.warmup, region.horizon
    n_com = len(region.communities)
    mine = (fleet.service[rec.move_unit] == s) & (rec.move_start >= lo) & (rec.move_start < hi)
    unit, to = rec.move_unit[mine], rec.move_to[mine]
    owner = fleet.owner[unit]
    host = region.place_community[to]
    away = (to != fleet.station[unit]) & (host != owner)
    moves_in = np.bincount(host[away & (host >= 0)], minlength=n_com).astype(np.float64)
    moves_out = np.bincount(owner[away], minlength=n_com).astype(np.float64)
    driven = np.bincount(owner, minutes[mine], n_com)
    stood = np.clip(st.end, lo, hi) - np.clip(st.start, lo, hi)
    st_owner = fleet.owner[st.unit]
    st_host = region.place_community[st.post]
    out_post = (st.post != fleet.station[st.unit]) & (st_host != st_owner)
    cover_out = np.bincount(st_owner[out_post], stood[out_post], n_com)
    received = out_post & (st_host >= 0)
    cover_in = np.bincount(st_host[received], stood[received], n_com)
    return moves_in, moves_out, driven, cover_in, cover_out


def free_units_table(
    region: Region, fleet: Fleet, inc: Incidents, rec: EngineRecords, replication: int
) -> pd.DataFrame:
    """Free units standing in each community (where their post is), hour by hour over the
    first week of the statistics window: the time-average per hour; for the first
    replication only (the figure's), empty for the others."""
    lo = region.warmup
    hi = min(region.horizon, lo + TIMELINE_DAYS * 1440.0)
    edges = np.arange(lo, hi + 1e-9, 60.0)
    rows: list[tuple[object, ...]] = []
    services = covered_services(region) if replication == 0 else []
    for s, st in zip(services, standings(region, fleet, inc, rec, services), strict=True):
        host = region.place_community[st.post]
        for c, cid in enumerate(region.communities):
            mine = (host == c) & (st.end > lo) & (st.start < hi)
            a, b = st.start[mine], st.end[mine]
            level = _hourly(a, b, edges)
            rows += [
                (replication, fleet.option, region.services[s], cid, float(t), float(v))
                for t, v in zip(edges[:-1], level, strict=True)
            ]
    columns = ["replication", "option", "service", "community", "hour_start", "free_units"]
    return pd.DataFrame(rows, columns=columns)


def _hourly(a: np.ndarray, b: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Time-average count of intervals [a, b) inside each hour between ``edges``."""
    if len(edges) < 2:
        return np.zeros(0)
    lo_e, hi_e = edges[:-1], edges[1:]
    inside = np.clip(np.minimum(b[:, None], hi_e) - np.maximum(a[:, None], lo_e), 0, None)
    return inside.sum(axis=0) / (hi_e - lo_e)
