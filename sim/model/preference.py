"""Preference lists: per place, where free units of one service can be, nearest first.

Closest-available dispatch looks for the free unit with the shortest expected trip to the
incident's zone. Scanning every free unit costs in proportion to the fleet; instead the engine
walks the positions where free units can be kept from the nearest outwards and stops as soon as
no position further on can do better (:mod:`sim.engine.nearest`). Those positions are the
stations that hold units of the service and, when returning units are measured from the zone
nearest to them (:mod:`sim.model.snap`), the tiles of zones: a tile's trip is the shortest trip
of its zones, never longer than the trip of a unit at any of them.

A list depends on the fleet and the travel matrix only, so each :class:`Preference` belongs to
a compiled fleet and is shared by every replication run in a process: a place's list is sorted
the first time a call there needs it and remembered. To keep the memory small with thousands
of zones, a list holds only the positions as near as its :data:`REACH`-th station; when every
position of a short list is empty or too far, the engine falls back to a scan. A list is the
positions and their trips, flat arrays: a walk reads a few trips at the head of a random
place's list, so they are kept 8 bytes each, side by side (a list of Python floats takes four
times the memory, one object a trip, and with thousands of zones the lists no longer stay in
the caches).

Ties in trip time keep the positions in ascending order; the engine compares every position of
the same trip, so that the unit chosen is the one a full scan would choose: the shortest trip,
then the lowest unit index.
"""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np

__all__ = ["REACH", "Preference", "SearchRow", "preferences"]

REACH = 16  # stations in a place's list; a call whose nearest 16 are all busy scans instead
SearchRow = tuple[Any, Any, bool]  # positions, their trips (arrays), whether complete


class Preference:
    """One service's preference lists.

    ``stations``: the distinct places holding units of the service, ascending; ``tile_of``:
    per place, the position of its zone's tile (``sim.model.snap.Snapper.tile_of``: -1 for a
    place that is no zone), or None when returning units are not kept at zones.
    ``positions``: every position a free unit can be kept at, ascending (the stations, then the
    tiles).
    """

    def __init__(
        self, stations: np.ndarray, tile_of: np.ndarray | None = None, reach: int = REACH
    ) -> None:
        self.stations = np.asarray(stations, dtype=np.int64)
        self.reach = reach
        tiles = np.zeros(0, dtype=np.int64)
        self._zones, self._starts = tiles, tiles  # zones by tile, where each tile's begin
        if tile_of is not None and self.stations.size:
            tile_of = np.asarray(tile_of, dtype=np.int64)
            zones = np.flatnonzero(tile_of >= 0)
            self._zones = zones[np.argsort(tile_of[zones], kind="stable")]
            tiles, self._starts = np.unique(tile_of[self._zones], return_index=True)
        self.positions = np.concatenate([self.stations, tiles])
        self._memo: dict[int, SearchRow] = {}

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_memo"] = {}  # a memo, not state: each process fills its own
        return state

    def row(self, place: int, travel: np.ndarray) -> SearchRow:
        """Positions where a free unit can be, by trip to ``place`` (``travel[a, b]``: minutes
        from ``a`` to ``b``), their trips, and whether the list holds every such position."""
        found = self._memo.get(place)
        if found is None:
            found = self._memo[place] = self._sort(place, travel)
        return found

    def trips(self, place: int, travel: np.ndarray) -> np.ndarray:
        """The trip of each position to ``place``: a station's own, a tile's shortest."""
        trips = np.asarray(travel[self.stations, place], dtype=np.float64)
        if not self._zones.size:
            return trips
        zone_trips = np.asarray(travel[self._zones, place], dtype=np.float64)
        return np.concatenate([trips, np.minimum.reduceat(zone_trips, self._starts)])

    def _sort(self, place: int, travel: np.ndarray) -> SearchRow:
        trips = self.trips(place, travel)
        n_stations = len(self.stations)
        complete = n_stations <= self.reach
        keep = np.arange(len(trips))
        if not complete:  # the positions as near as the reach-th station, or nearer
            farthest = np.partition(trips[:n_stations], self.reach - 1)[self.reach - 1]
            keep = np.flatnonzero(trips <= farthest)
        order = keep[np.argsort(trips[keep], kind="stable")]  # ties: ascending position
        return array("q", self.positions[order].tolist()), array("d", trips[order]), complete


def preferences(
    service: np.ndarray,
    station: np.ndarray,
    n: int,
    tile_of: np.ndarray | None = None,
    reach: int = REACH,
) -> tuple[Preference, ...]:
    """Preference lists of each of ``n`` services for units at ``station`` of ``service``;
    ``tile_of``: returning units are kept at the tiles of their nearest zones (None: not)."""
    out = []
    for s in range(n):
        stations = np.unique(np.asarray(station)[np.asarray(service) == s]).astype(np.int64)
        out.append(Preference(stations, tile_of, reach))
    return tuple(out)
