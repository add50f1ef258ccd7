"""Where the free units of one service are: parked at a station, or on their way back.

Closest-available dispatch walks positions from the nearest outwards and stops early
(:mod:`sim.engine.nearest`), so free units are kept by positions whose trips are never longer
than their own, each position a *box* of units:

- a unit at its station is in the station's box, boxes of parked units ordered by unit index
  (all of a box have the same trip: the first one a search accepts is the one it wants);
- a unit on its way back, when returning units are measured from the zone nearest to them
  (``travel.return_position: nearest_zone``), is in the box of every tile of the zones of its
  way (:mod:`sim.model.snap`: a few neighbouring zones to a tile, tiles numbered after the
  places). A tile's trip is the shortest of its zones', so a walk meets the unit no later than
  it should, and measures it from the zone it is at (its :data:`~sim.model.snap.Way` and
  :func:`zone_at`, the rule :meth:`sim.engine.loop.Engine.expected_travel` uses too).
  Nothing moves while it drives; it is due at its station at ``ret_end``, and a search first
  parks the units due by then (:meth:`Positions.arrive`): a list of units by the time they are
  due, no event, no heap;
- with the interpolated rule a returning unit's trip is a mix of two places' trips and has no
  place: it is in ``returning``, which searches compare one by one (few units, small regions).

So a box holds parked units or returning units, never both.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING, Any

from ..model.snap import Way

if TYPE_CHECKING:
    from .loop import Unit

__all__ = ["ROAD", "Positions", "Way", "zone_at"]

INF = float("inf")
ROAD = (-1,)  # the places of a unit on its way back under the interpolated rule: none


def zone_at(unit: Unit, t: float) -> int:
    """The zone (its place) ``unit`` is at at ``t`` on its way back: the piece of its way that
    the share of the way covered by then falls in (``nearest_free`` inlines it)."""
    start, way = unit.ret_start, unit.ret_way
    assert way is not None
    return way[1][bisect_right(way[0], (t - start) / (unit.ret_end - start)) - 1]


class Positions:
    """The free units of one service by where they are (``n`` positions: the places, then the
    tiles); ``rows[place]``: the boxes of the search row of ``place``, once asked (per run).

    ``unit.places``: the tiles it is kept at on its way back, ``()`` when parked at its station,
    :data:`ROAD` when interpolated (in ``returning``)."""

    __slots__ = ("at", "due", "ends", "returning", "rows")

    def __init__(self, n: int) -> None:
        self.at: list[list[Unit]] = [[] for _ in range(n)]  # the box of each position
        self.ends: list[float] = [INF]  # when the units on a way back are due, ascending, INF
        self.due: list[Unit] = []  # those units, in that order
        self.returning: dict[int, Unit] = {}
        self.rows: list[Any] = [None] * n

    def boxes(self, place: int, row: Any) -> Any:
        """The search row ``row`` of ``place`` (positions, trips, complete) with the boxes of
        its positions in place of the positions, remembered."""
        at = self.at
        self.rows[place] = found = ([at[p] for p in row[0]], row[1], row[2])
        return found

    def add(self, unit: Unit, now: float) -> None:
        """``unit`` is free from ``now``."""
        end = unit.ret_end
        if now >= end:
            _park(self.at[unit.station], unit)
            return
        way = unit.ret_way
        if way is None:  # interpolated: no place
            unit.places = ROAD
            self.returning[unit.index] = unit
            return
        unit.places = places = way[2]
        at = self.at
        for place in places:
            at[place].append(unit)
        k = bisect_right(self.ends, end)
        self.ends.insert(k, end)
        self.due.insert(k, unit)

    def remove(self, unit: Unit) -> None:
        """``unit`` is no longer free (dispatched, or off duty)."""
        places = unit.places
        if not places:  # parked
            self.at[unit.station].remove(unit)
        elif places is ROAD:
            del self.returning[unit.index]
        else:
            at = self.at
            for place in places:
                at[place].remove(unit)
            ends, due = self.ends, self.due
            k = bisect_left(ends, unit.ret_end)
            while due[k] is not unit:
                k += 1
            del ends[k], due[k]

    def arrive(self, t: float) -> None:
        """Park the units due at their stations by ``t``."""
        ends, due, at = self.ends, self.due, self.at
        while ends[0] <= t:
            del ends[0]
            unit = due.pop(0)
            for place in unit.places:
                at[place].remove(unit)
            box, index = at[unit.station], unit.index  # _park, inlined: once a return
            k = len(box)
            while k and box[k - 1].index > index:
                k -= 1
            box.insert(k, unit)
            unit.places = ()

    def park(self, unit: Unit) -> None:
        """A unit measured by interpolation is back at its station (noticed by a search)."""
        del self.returning[unit.index]
        self.add(unit, unit.ret_end)


def _park(box: list[Unit], unit: Unit) -> None:
    """``unit`` into the box of its station, in the order of unit index."""
    index, k = unit.index, len(box)
    while k and box[k - 1].index > index:
        k -= 1
    box.insert(k, unit)
    unit.places = ()
