"""The nearest free unit of a service: preference lists instead of a scan of the fleet.

Free units are kept in boxes by where they are (:mod:`sim.engine.positions`): at their station,
or on their way back in the tiles of zones they pass. Walking the search row of the incident's
place (:meth:`~sim.engine.loop.Engine.search_order`, from :mod:`sim.model.preference`: stations
and tiles, nearest first) finds the nearest free unit after a few steps, whatever the size of
the fleet. Under the interpolated return rule a returning unit's trip has no place, so those
few are compared one by one first.

The answer is the one a full scan gives: the shortest expected trip, then the lowest unit
index (tested against :func:`scan` in ``tests/unit/test_nearest.py``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from math import nextafter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .loop import Engine, Unit
    from .positions import Positions

__all__ = ["INF", "nearest_free", "scan"]

INF = float("inf")


def nearest_free(
    view: Engine,
    service: int,
    place: int,
    t: float,
    limit: float = INF,
    accept: Accept | None = None,
) -> Unit | None:
    """The free unit of ``service`` (that ``accept``\\s) with the shortest expected trip to
    ``place`` (ties: lowest index), or None if none is within ``limit`` minutes at the current
    hour's speed.

    Parks the units due at their stations by ``t``, then walks the boxes of the search row,
    nearest first, from the best returning unit, and stops where no position further on can do
    better (a trip of a station is its units' trip, a tile's the shortest of its zones': never
    longer than a unit's there). A station's box holds parked units by index, so its first
    (accepted) one is the one to compare; a tile's box holds units on their way back, each
    measured from the zone it is at. When a short list runs out first, a unit further on may do
    better, and a scan decides. (One function, the walk inlined: it runs for every call.)"""
    positions = view.positions[service]
    if positions.ends[0] <= t:
        positions.arrive(t)
    best = _returning(view, positions, place, t, accept) if positions.returning else _NONE
    if limit != INF:  # only trips within the limit: the longest such trip caps the walk
        best = _within(best, limit, view.hour_factor(t))
    unit, best_trip, best_index = best
    if view.free[service]:
        boxes, trips, complete = positions.rows[place] or positions.boxes(
            place, view.search_rows[service][place] or view.search_order(service, place)
        )
        for trip, units in zip(trips, boxes):  # noqa: B905 (one length; a keyword is a slow call)
            if trip > best_trip:
                break
            if not units:
                continue
            u = units[0]
            if t >= u.ret_end:  # parked at a station, by index: the first accepted
                if accept is not None:
                    u = next((u for u in units if accept(u)), None)  # type: ignore[assignment]
                    if u is None:
                        continue
                if trip < best_trip or u.index < best_index:
                    unit, best_trip, best_index = u, trip, u.index
            else:  # on their way back, measured from the zone each is at
                travel = view.travel[service]
                for u in units:  # the zone it is at (positions.zone_at, inlined)
                    way, start = u.ret_way, u.ret_start
                    covered = (t - start) / (u.ret_end - start)
                    real = travel[way[1][bisect_right(way[0], covered) - 1]][place]  # type: ignore[index]
                    if (accept is None or accept(u)) and (
                        real < best_trip or (real == best_trip and u.index < best_index)
                    ):
                        unit, best_trip, best_index = u, real, u.index
        else:
            if not complete and trips and (unit is None or best_trip >= trips[-1]):
                free = view.free[service].values()  # the short list ran out: scan
                ok = (u for u in free if accept is None or accept(u))
                return scan(view, ok, place, t, limit)
    return unit


Best = tuple["Unit | None", float, int]  # unit, its trip, its index
Accept = Callable[["Unit"], bool]
_NONE: Best = (None, INF, 0)
_ANY = 1 << 62  # an index above every unit's


def _returning(
    view: Engine, positions: Positions, place: int, t: float, accept: Accept | None
) -> Best:
    """The best of the units whose trip interpolates (compared one by one); those back at
    their station by now are parked on the way, for the walk to see."""
    best, best_trip, best_index = None, INF, 0
    for u in list(positions.returning.values()):
        if t >= u.ret_end:
            positions.park(u)
            continue
        if accept is not None and not accept(u):
            continue
        trip = view.expected_travel(u, place, t)
        if trip < best_trip or (trip == best_trip and u.index < best_index):
            best, best_trip, best_index = u, trip, u.index
    return best, best_trip, best_index


def _within(best: Best, limit: float, scale: float) -> Best:
    """``best`` if its trip is within ``limit`` minutes at speed factor ``scale``, else no unit
    yet and, for the trip to beat, the longest trip within the limit (a unit of that trip and
    any index beats it): ``trip > cap`` exactly when ``trip * scale > limit``, so a walk that
    stops beyond the cap stops where the limit says, and never picks a unit beyond it."""
    cap = limit / scale
    while cap * scale > limit:
        cap = nextafter(cap, -INF)
    while nextafter(cap, INF) * scale <= limit:
        cap = nextafter(cap, INF)
    return best if best[0] is not None and best[1] <= cap else (None, cap, _ANY)


def scan(
    view: Engine, units: Iterable[Unit], place: int, t: float, limit: float = INF
) -> Unit | None:
    """The unit of ``units`` with the shortest expected trip to ``place`` (ties: lowest index),
    or None if none is within ``limit`` minutes (at the current hour's speed): for the few units
    a community owns."""
    best, best_trip, best_index = None, INF, 0
    for u in units:
        # at its station (the common case, inlined for speed) or on its way back
        trip = (
            view.travel[u.service][u.station][place]
            if t >= u.ret_end
            else view.expected_travel(u, place, t)
        )
        if trip < best_trip or (trip == best_trip and u.index < best_index):
            best, best_trip, best_index = u, trip, u.index
    if best is not None and limit < INF and best_trip * view.hour_factor(t) > limit:
        return None
    return best
