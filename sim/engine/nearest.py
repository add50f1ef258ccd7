"""The nearest free unit of a service: preference lists instead of a scan of the fleet.

Free units are kept by the place whose trips they have (:mod:`sim.engine.positions`): their
station, or on their way back the zone nearest to them. Walking those places from the nearest
outwards (:meth:`~sim.engine.loop.Engine.search_order`, from :mod:`sim.model.preference`) finds
the nearest free unit after a few steps, whatever the size of the fleet. Under the interpolated
return rule a returning unit's trip has no place, so those few are compared one by one first.

The answer is the one a full scan gives: the shortest expected trip, then the lowest unit
index (tested against :func:`scan` in ``tests/unit/test_nearest.py``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .positions import way_times

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

    Walks the places where free units are kept, nearest first, from the best returning unit:
    stops where no place further on can do better, beyond the limit, or after the last of the
    free units kept at a place; when a short list runs out first, a unit further on may do
    better, and a scan decides. A returning unit is kept at every zone of its way
    (:mod:`sim.engine.positions`) and is measured from the zone it is at when met; it counts as
    seen at that zone's place. (One function, the walk inlined: it runs for every call.)"""
    positions = view.positions[service]
    returning = positions.returning
    unit, best_trip, best_index = (
        _returning(view, positions, place, t, accept) if returning else _NONE
    )
    scale = 1.0 if limit == INF else view.hour_factor(t)
    kept = len(view.free[service]) - len(returning)  # free units kept at a place
    if kept:
        places, trips, complete = view.search_rows[service][place] or view.search_order(
            service, place
        )
        at = positions.at
        limited = limit != INF
        k = 0
        for trip in trips:
            if trip > best_trip or (limited and trip * scale > limit):
                break
            where = places[k]
            k += 1
            units = at[where]
            if not units:
                continue
            stale = None
            for u in units.values():  # usually one
                if t >= u.ret_end:  # at its station
                    if where != u.station:  # a zone of a way back it has finished
                        stale = [u] if stale is None else [*stale, u]
                        continue
                    real = trip
                    kept -= 1
                else:
                    times = u.ret_times or way_times(u)
                    zone = u.ret_way[1][bisect_right(times, t) - 1]  # type: ignore[index]
                    if zone == where:
                        real = trip
                        kept -= 1
                    else:
                        real = view.travel[service][zone][place]  # met early: it is further away
                if (accept is None or accept(u)) and (
                    real < best_trip or (real == best_trip and u.index < best_index)
                ):
                    unit, best_trip, best_index = u, real, u.index
            if stale is not None:  # no walk needs to meet them there again
                for u in stale:
                    positions.settle(u)
            if not kept:
                break
        else:
            if not complete and trips and (unit is None or best_trip >= trips[-1]):
                units = view.free[service].values()  # the short list ran out: scan
                ok = (u for u in units if accept is None or accept(u))
                return scan(view, ok, place, t, limit)
    if unit is not None and best_trip * scale > limit:
        return None
    return unit


Best = tuple["Unit | None", float, int]  # unit, its trip, its index
Accept = Callable[["Unit"], bool]
_NONE: Best = (None, INF, 0)


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
