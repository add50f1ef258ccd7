"""The travel-time matrix between places, compiled from a scenario's ``travel`` section.

Places are the communities (in scenario order, so community ``i`` is place ``i``), then the
stations and facilities that have a location of their own. The diagonal of a community is the
mean travel inside it; other places reach themselves in no time.
"""

from __future__ import annotations

import math

import numpy as np

from ..schema.references import place_locations
from ..schema.scenario import Location, Scenario

__all__ = ["distance_km", "place_index", "travel_matrix"]

EARTH_RADIUS_KM = 6371.0


def distance_km(a: Location, b: Location) -> float:
    """Straight-line distance: Euclidean for x/y, great-circle for lat/lon."""
    if a.x is not None and b.x is not None and a.y is not None and b.y is not None:
        return math.hypot(a.x - b.x, a.y - b.y)
    assert a.lat is not None
    assert a.lon is not None
    assert b.lat is not None
    assert b.lon is not None
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def place_index(s: Scenario) -> dict[str, int]:
    """Place id -> index, for every id that names a place (stations and facilities without
    their own location map to their community's place)."""
    ids = list(place_locations(s))
    index = {pid: i for i, pid in enumerate(ids)}
    for group in (s.stations, s.facilities):
        for pid, p in group.items():
            if pid not in index:
                assert p.community is not None
                index[pid] = index[p.community]
    return index


def _derived(s: Scenario, a: Location, b: Location) -> float:
    assert s.travel.speed_kmh is not None
    return distance_km(a, b) * s.travel.detour_factor / s.travel.speed_kmh * 60.0


def _inside(s: Scenario, community: str) -> float:
    """Mean travel inside a community when not given: from the centre of a disc of its area
    to a uniform point in it, 2/3 of the radius."""
    com = s.communities[community]
    assert com.area_km2 is not None
    assert s.travel.speed_kmh is not None
    radius = math.sqrt(com.area_km2 / math.pi)
    return 2 * radius / 3 * s.travel.detour_factor / s.travel.speed_kmh * 60.0


def travel_matrix(s: Scenario) -> np.ndarray:
    """Minutes between every pair of places, shape (P, P); asymmetric where the matrix gives
    both directions of a pair, one given direction is mirrored."""
    locations = place_locations(s)
    ids = list(locations)
    n = len(ids)
    m = np.full((n, n), np.nan)
    given_m = s.travel.matrix
    for i, a in enumerate(ids):
        for j in range(i, n):
            b = ids[j]
            ab, ba = given_m.get(a, {}).get(b), given_m.get(b, {}).get(a)
            if ab is not None and ba is not None:
                m[i, j], m[j, i] = ab, ba
                continue
            given = ab if ab is not None else ba
            if given is None and i == j:
                if a in s.travel.inside:
                    given = s.travel.inside[a]
                elif a in s.communities:
                    given = _inside(s, a)
                else:
                    given = 0.0
            if given is None:
                la, lb = locations[a], locations[b]
                assert la is not None
                assert lb is not None
                given = _derived(s, la, lb)
            m[i, j] = m[j, i] = given
    return m
