"""When and where free units stood at a post: a pure function of the engine's records.

A unit *stands* at a post from the moment it arrives there free until it next leaves: it is
dispatched, starts a move, or its shift ends. It arrives at a post at the end of a way: the
way back after a job (to its home station, or to its post under ``return_to: post``), a move
(:mod:`sim.engine.relocation`), or the start of a shift (at its home station). A way cut short
by a dispatch or a move never arrives. A unit on the road counts at no post. The ways back are
not logged by the engine; they are computed here exactly as the engine computes them (the trip
from where the job ended, at the return speed and the hour's factor).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.compile import Fleet, Region
from .demand import Incidents
from .loop import EngineRecords

__all__ = ["Standing", "move_minutes", "standing", "standings", "unit_rows"]


@dataclass(frozen=True)
class Standing:
    """Intervals [start, end) during which ``unit`` stood free at place ``post``."""

    unit: np.ndarray
    post: np.ndarray
    start: np.ndarray
    end: np.ndarray


def _job_ends(region: Region, inc: Incidents, rec: EngineRecords) -> np.ndarray:
    """The place where each job ended: the facility of a transport (first unit), else the
    incident's zone."""
    i = rec.job_incident
    order = np.argsort(i, kind="stable")
    first = np.ones(len(i), dtype=bool)
    first[order[1:]] = i[order[1:]] != i[order[:-1]]
    ends = region.zone_place[inc.zone[i]]
    moved = first & inc.transport[i]
    return np.where(moved, inc.facility[i], ends)


def _back(region: Region, fleet: Fleet, rec: EngineRecords, ends: np.ndarray, post: np.ndarray):
    """When each job's way back arrives at ``post``, as the engine computes it."""
    free = rec.job_free
    from_road = np.array([r.from_road for r in fleet.dispatch])[fleet.service[rec.job_unit]]
    hours = region.hour_factors[(free // 60).astype(np.int64) % 24]
    trip = region.trips_of(fleet.service[rec.job_unit], ends, post)
    trip = trip / region.return_speed_factor * hours
    return np.where(from_road, free + trip, free)


def unit_rows(units: np.ndarray, size: int) -> list[np.ndarray]:
    """The rows of each of ``size`` units (what ``np.flatnonzero(units == u)`` gives), from
    one sort."""
    small = units.astype(np.uint16) if size <= 1 << 16 else units  # 16 bits: radix sort
    order = np.argsort(small, kind="stable")
    ends = np.cumsum(np.bincount(units, minlength=size))
    return [order[end - n : end] for end, n in zip(ends, np.diff(ends, prepend=0), strict=True)]


def _job_posts(
    fleet: Fleet, rec: EngineRecords, jobs_of: list[np.ndarray], moves_of: list[np.ndarray]
) -> np.ndarray:
    """Where each job's unit heads afterwards: home, or under ``return_to: post`` the post it
    was moved to last before the job (home again after a shift began)."""
    home = fleet.station[rec.job_unit]
    post = home.copy()
    for s, rule in enumerate(fleet.relocation):
        if rule.return_home:
            continue
        for u in np.flatnonzero(fleet.service == s):
            jobs, moves = jobs_of[u], moves_of[u]
            if not len(jobs) or not len(moves):
                continue
            k = np.searchsorted(rec.move_start[moves], rec.job_assigned[jobs], side="right") - 1
            shift = fleet.duty[u][:, 0]
            last_shift = np.searchsorted(shift, rec.job_assigned[jobs], side="right") - 1
            since = np.where(last_shift >= 0, shift[np.maximum(last_shift, 0)], -np.inf)
            valid = (k >= 0) & (rec.move_start[moves][np.maximum(k, 0)] >= since)
            post[jobs] = np.where(valid, rec.move_to[moves][np.maximum(k, 0)], home[jobs])
    return post


def standing(
    region: Region, fleet: Fleet, inc: Incidents, rec: EngineRecords, service: int
) -> Standing:
    """Every interval during which a unit of ``service`` stood free at a post."""
    return standings(region, fleet, inc, rec, [service])[0]


def standings(
    region: Region, fleet: Fleet, inc: Incidents, rec: EngineRecords, services: list[int]
) -> list[Standing]:
    """:func:`standing` of each of ``services``; the ways back of the jobs are worked out once
    for all of them."""
    if not services:
        return []
    jobs_of = unit_rows(rec.job_unit, fleet.size)
    moves_of = unit_rows(rec.move_unit, fleet.size)
    posts = _job_posts(fleet, rec, jobs_of, moves_of)
    back = _back(region, fleet, rec, _job_ends(region, inc, rec), posts)
    out = []
    for service in services:
        parts = [
            _unit_standing(int(u), fleet, rec, posts, back, jobs_of[u], moves_of[u])
            for u in np.flatnonzero(fleet.service == service)
        ]
        out.append(_joined(parts))
    return out


def _joined(parts: list[tuple[np.ndarray, ...]]) -> Standing:
    if not parts:
        empty = np.zeros(0)
        return Standing(empty.astype(np.int64), empty.astype(np.int64), empty, empty)
    unit, post, start, end = (np.concatenate(col) for col in zip(*parts, strict=True))
    keep = end > start
    return Standing(unit[keep], post[keep], start[keep], end[keep])


def _unit_standing(
    u: int,
    fleet: Fleet,
    rec: EngineRecords,
    posts: np.ndarray,
    back: np.ndarray,
    jobs: np.ndarray,
    moves: np.ndarray,
) -> tuple[np.ndarray, ...]:
    duty = fleet.duty[u]
    assigned = rec.job_assigned[jobs]  # sorted: a unit's jobs are dispatched in turn
    shifts = duty[:, 0]
    busy_at = np.searchsorted(assigned, shifts, side="right") - 1
    freed = np.append(rec.job_free[jobs], -np.inf)  # a unit without jobs: always idle
    idle = (busy_at < 0) | (freed[busy_at] <= shifts)
    shifts = shifts[idle]  # a shift that began during a job does not bring the unit home
    home = fleet.station[u]
    # ways: start, arrival, post (the ways back, the moves, the starts of shifts)
    w_start = np.concatenate([rec.job_free[jobs], rec.move_start[moves], shifts])
    w_arrive = np.concatenate([back[jobs], rec.move_arrive[moves], shifts])
    w_post = np.concatenate(
        [posts[jobs], rec.move_to[moves], np.full(len(shifts), home, dtype=np.int64)]
    )
    others = np.sort(np.concatenate([rec.move_start[moves], duty[:, 1], shifts]))
    leave = np.minimum(_next(assigned, w_start, "left"), _next(others, w_start, "right"))
    start = w_arrive
    end = np.minimum(leave, _duty_end(duty, w_arrive))
    return np.full(len(start), u, dtype=np.int64), w_post.astype(np.int64), start, end


def _next(times: np.ndarray, at: np.ndarray, side: str) -> np.ndarray:
    """The first of sorted ``times`` at or after (``left``) or after (``right``) each ``at``."""
    k = np.searchsorted(times, at, side=side)  # type: ignore[call-overload]
    padded = np.append(times, np.inf)
    return padded[k]


def _duty_end(duty: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The end of the shift holding each time ``t`` (``t`` itself outside every shift)."""
    k = np.searchsorted(duty[:, 0], t, side="right") - 1
    inside = (k >= 0) & (t < duty[np.maximum(k, 0), 1])
    return np.where(inside, duty[np.maximum(k, 0), 1], t)


def move_minutes(rec: EngineRecords) -> np.ndarray:
    """Minutes driven on each move: until it arrived, or until its unit was sent elsewhere
    (dispatched, or moved again) on the way."""
    out = rec.move_arrive - rec.move_start
    if not len(out):
        return out
    size = int(max(rec.move_unit.max(), rec.job_unit.max(initial=0))) + 1
    jobs_of = unit_rows(rec.job_unit, size)
    for u, moves in enumerate(unit_rows(rec.move_unit, size)):
        if not len(moves):
            continue
        jobs = np.sort(rec.job_assigned[jobs_of[u]])
        stop = np.minimum(
            _next(jobs, rec.move_start[moves], "left"),
            _next(rec.move_start[moves], rec.move_start[moves], "right"),
        )
        out[moves] = np.minimum(rec.move_arrive[moves], stop) - rec.move_start[moves]
    return out
