"""Where the free units of one service are: parked at a place, or on their way back.

Closest-available dispatch walks places from the nearest outwards and stops early
(:mod:`sim.engine.nearest`), so free units are kept by the places whose trips they can have:

- a unit at its station is in ``at[station]``;
- a unit on its way back, when returning units are measured from the zone nearest to them
  (``travel.return_position: nearest_zone``), is in ``at[zone]`` for every zone of its way
  (:mod:`sim.model.snap`) and in ``at[station]``. Its trip from the zone it is at now is never
  shorter than the trip of the nearest of those places, so a walk meets it no later than it
  should; the walk then measures it from where it is (its :data:`Way` and :func:`way_times`,
  the rule :meth:`sim.engine.loop.Engine.expected_travel` uses too). Nothing moves while it
  drives: no event, no heap;
- with the interpolated rule a returning unit's trip is a mix of two places' trips and has no
  place: it is in ``returning``, which searches compare one by one (few units, small regions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .loop import Unit

__all__ = ["Positions", "Way", "way_times"]

Way = tuple[list[float], list[int], tuple[int, ...]]
"""A way back by nearest zones (:meth:`sim.model.snap.Snapper.pieces`): where each piece
starts (a fraction of the way, the first 0.0), its zone's place, and every place a unit on
that way is kept at (the zones, then the station if it is not one of them)."""


def way_times(unit: Unit) -> list[float]:
    """When ``unit`` reaches each piece of its way back (worked out when first asked)."""
    start, way = unit.ret_start, unit.ret_way
    assert way is not None
    span = unit.ret_end - start
    unit.ret_times = times = [start + d * span for d in way[0]]
    return times


class Positions:
    """The free units of one service by where they are."""

    __slots__ = ("at", "returning")

    def __init__(self, n_places: int) -> None:
        # at[place]: the free units kept there (None: none); a list, read on every search
        self.at: list[dict[int, Unit] | None] = [None] * n_places
        self.returning: dict[int, Unit] = {}

    def add(self, unit: Unit, now: float) -> None:
        """``unit`` is free from ``now``."""
        if now >= unit.ret_end:
            unit.places = (unit.station,)
        elif unit.ret_way is None:  # interpolated: no place
            unit.places = ()
            self.returning[unit.index] = unit
            return
        else:
            unit.places = unit.ret_way[2]
        at = self.at
        for place in unit.places:
            units = at[place]
            if units is None:
                units = at[place] = {}
            units[unit.index] = unit

    def remove(self, unit: Unit) -> None:
        """``unit`` is no longer free (dispatched, or off duty)."""
        if not unit.places:
            del self.returning[unit.index]
            return
        at, index = self.at, unit.index
        for place in unit.places:
            units = at[place]
            del units[index]  # type: ignore[union-attr]
            if not units:
                at[place] = None  # a search skips it without reading a dict

    def settle(self, unit: Unit) -> None:
        """A unit kept at the zones of its way back is at its station by now (noticed by a
        search): keep it at its station only."""
        at, station, index = self.at, unit.station, unit.index
        for place in unit.places:
            if place != station:
                units = at[place]
                del units[index]  # type: ignore[union-attr]
                if not units:
                    at[place] = None
        unit.places = (station,)

    def park(self, unit: Unit) -> None:
        """A unit measured by interpolation is back at its station (noticed by a search)."""
        del self.returning[unit.index]
        self.add(unit, unit.ret_end)
