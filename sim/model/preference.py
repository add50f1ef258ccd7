"""Preference lists: per place, where free units of one service can be, nearest first.

Closest-available dispatch looks for the free unit with the shortest expected trip to the
incident's zone. Scanning every free unit costs in proportion to the fleet; instead the engine
walks the places where free units can be kept from the nearest outwards and stops as soon as no
place further on can do better (:mod:`sim.engine.nearest`). Those places are the stations that
hold units of the service and, when returning units are measured from the zone nearest to them
(:mod:`sim.model.snap`), every zone.

A list depends on the fleet and the travel matrix only, so each :class:`Preference` belongs to
a compiled fleet and is shared by every replication run in a process: a place's list is sorted
the first time a call there needs it and remembered. To keep the memory small with thousands
of zones, a list holds only the places as near as its :data:`REACH`-th station; when every
place of a short list is empty or too far, the engine falls back to a scan.

Ties in trip time keep the places in ascending order; the engine compares every place of the
same trip, so that the unit chosen is the one a full scan would choose: the shortest trip, then
the lowest unit index.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["REACH", "Preference", "SearchRow", "preferences"]

REACH = 16  # stations in a place's list; a call whose nearest 16 are all busy scans instead
SearchRow = tuple[Any, Any, bool]  # places, their trips (memoryviews), whether complete


class Preference:
    """One service's preference lists.

    ``stations``: the distinct places holding units of the service, ascending;
    ``positions``: every place a free unit can be kept at (the stations, and the zones when
    returning units are kept at their nearest zone), ascending.
    """

    def __init__(self, stations: np.ndarray, positions: np.ndarray, reach: int = REACH) -> None:
        self.stations = np.asarray(stations, dtype=np.int64)
        self.positions = np.asarray(positions, dtype=np.int64)
        self.reach = reach
        self._is_station = np.isin(self.positions, self.stations)
        self._memo: dict[int, SearchRow] = {}

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_memo"] = {}  # a memo, not state: each process fills its own
        return state

    def row(self, place: int, travel: np.ndarray) -> SearchRow:
        """Places where a free unit can be, by trip to ``place`` (``travel[a, b]``: minutes
        from ``a`` to ``b``), their trips, and whether the list holds every such place."""
        found = self._memo.get(place)
        if found is None:
            found = self._memo[place] = self._sort(place, travel)
        return found

    def _sort(self, place: int, travel: np.ndarray) -> SearchRow:
        trips = np.asarray(travel[self.positions, place], dtype=np.float64)
        complete = len(self.stations) <= self.reach
        keep = np.arange(len(trips))
        if not complete:  # the places as near as the reach-th station, or nearer
            farthest = np.partition(trips[self._is_station], self.reach - 1)[self.reach - 1]
            keep = np.flatnonzero(trips <= farthest)
        order = keep[np.argsort(trips[keep], kind="stable")]  # ties: ascending place
        places = np.ascontiguousarray(self.positions[order])
        sorted_trips = np.ascontiguousarray(trips[order])
        return memoryview(places), memoryview(sorted_trips), complete  # type: ignore[arg-type]


def preferences(
    zone_place: np.ndarray,
    service: np.ndarray,
    station: np.ndarray,
    n: int,
    at_zones: bool,
    reach: int = REACH,
) -> tuple[Preference, ...]:
    """Preference lists of each of ``n`` services for units at ``station`` of ``service``;
    ``at_zones``: returning units are kept at their nearest zone, so zones are places too."""
    zones = np.asarray(zone_place, dtype=np.int64)
    out = []
    for s in range(n):
        stations = np.unique(np.asarray(station)[np.asarray(service) == s]).astype(np.int64)
        positions = np.union1d(stations, zones) if at_zones and stations.size else stations
        out.append(Preference(stations, positions, reach))
    return tuple(out)
