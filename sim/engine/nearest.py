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

if TYPE_CHECKING:
    from ..model.preference import SearchRow
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
    hour's speed."""
    positions = view.positions[service]
    returning = positions.returning
    best = _returning(view, positions, place, t, accept) if returning else _NONE
    scale = 1.0 if limit == INF else view.hour_factor(t)
    kept = len(view.free[service]) - len(returning)  # free units kept at a place
    if kept:
        row = view.search_rows[service].get(place) or view.search_order(service, place)
        walked = _walk(view, positions.at, place, row, t, scale, limit, accept, kept, best)
        if walked is None:  # a short list walked to its end: a unit further on may do better
            units = view.free[service].values()
            return scan(view, (u for u in units if accept is None or accept(u)), place, t, limit)
        best = walked
    if best[0] is not None and best[1] * scale > limit:
        return None
    return best[0]


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


def _walk(
    view: Engine,
    at: list[dict[int, Unit] | None],
    place: int,
    row: SearchRow,
    t: float,
    scale: float,
    limit: float,
    accept: Accept | None,
    kept: int,
    best: Best,
) -> Best | None:
    """Walk the places where free units are kept (``at``), nearest first (``row``), from
    ``best`` so far: stop where no place further on can do better, beyond ``limit`` minutes
    (at the hour's factor ``scale``), or after the last of the ``kept`` free units. None: a
    short list ran out first.

    A returning unit is kept at every zone of its way (:mod:`sim.engine.positions`) and is
    measured from the zone it is at when met; it counts as seen at that zone's place."""
    unit, best_trip, best_index = best
    places, trips, complete = row
    limited = limit != INF
    for where, trip in zip(places, trips, strict=True):
        if trip > best_trip or (limited and trip * scale > limit):
            break
        units = at[where]
        if not units:
            continue
        for u in units.values():  # usually one
            times = u.ret_times
            if times is None or t >= u.ret_end:  # at its station
                if where != u.station:
                    continue  # a zone of a way back it has finished
                real = trip
                kept -= 1
            else:
                zone = u.ret_zones[bisect_right(times, t) - 1]  # type: ignore[index]
                if zone == where:
                    real = trip
                    kept -= 1
                else:
                    real = view.travel[zone][place]  # met early: it is further away
            if (accept is None or accept(u)) and (
                real < best_trip or (real == best_trip and u.index < best_index)
            ):
                unit, best_trip, best_index = u, real, u.index
        if not kept:
            break
    else:
        if not complete and trips and (unit is None or best_trip >= trips[-1]):
            return None
    return unit, best_trip, best_index


def scan(
    view: Engine, units: Iterable[Unit], place: int, t: float, limit: float = INF
) -> Unit | None:
    """The unit of ``units`` with the shortest expected trip to ``place`` (ties: lowest index),
    or None if none is within ``limit`` minutes (at the current hour's speed): for the few units
    a community owns."""
    best, best_trip, best_index = None, INF, 0
    rows = view.travel
    for u in units:
        # at its station (the common case, inlined for speed) or on its way back
        trip = rows[u.station][place] if t >= u.ret_end else view.expected_travel(u, place, t)
        if trip < best_trip or (trip == best_trip and u.index < best_index):
            best, best_trip, best_index = u, trip, u.index
    if best is not None and limit < INF and best_trip * view.hour_factor(t) > limit:
        return None
    return best
