"""The travel-time matrix between places, compiled from a scenario's ``travel`` section.

Places are the communities (in scenario order, so community ``i`` is place ``i``), then the
stations and facilities that have a location of their own, then the zones. Times come, from
the strongest to the weakest source, from the inline ``travel.matrix``, the matrix file (or in
its place the road network, :mod:`sim.model.roads`, for every pair of located places), and
locations x detour / speed; a source that gives one direction of a pair gives both, one that
gives both keeps them apart (asymmetric). The diagonal is the mean travel inside a community
(or inside a zone's polygon); other places reach themselves in no time. Everything is built
with whole-array operations: no loop over the pairs of thousands of places.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..schema.geo import LONLAT, frame_centred
from ..schema.geography import Geography, geography
from ..schema.matrixfile import read_matrix_file
from ..schema.roadcheck import service_factors, shared_factor
from ..schema.scenario import Location, Scenario
from ..schema.zonesource import site_zone

if TYPE_CHECKING:
    from .roads import RoadTravel

__all__ = [
    "COLUMN_COPY_MAX",
    "TRIP_DTYPE",
    "distance_km",
    "inside_minutes",
    "place_index",
    "travel_matrix",
]

# trips are kept in single precision: an hour's trip to within a millisecond (relative error
# at most 2**-24), for half the memory and cache of doubles in regions of thousands of zones;
# every computation with them (the engine's, the metrics', the siting models') is in doubles
TRIP_DTYPE = np.float32
COLUMN_COPY_MAX = 1 << 25  # bytes: a run copies its stations' columns compact, up to 32 MiB
_BLOCK_CELLS = 2**22  # derived trips computed ~4M at a time (32 MB per temporary array)


def distance_km(a: Location, b: Location) -> float:
    """Straight-line distance: Euclidean for x/y; for lat/lon, in the local km frame centred
    between the two points (as a scenario's places are)."""
    if a.x is not None and b.x is not None and a.y is not None and b.y is not None:
        return math.hypot(a.x - b.x, a.y - b.y)
    lon = np.array([a.lon, b.lon], dtype=np.float64)
    lat = np.array([a.lat, b.lat], dtype=np.float64)
    x, y = frame_centred(lon, lat).project(lon, lat, LONLAT)
    return math.hypot(float(x[0] - x[1]), float(y[0] - y[1]))


def place_index(s: Scenario, geo: Geography | None = None) -> dict[str, int]:
    """Place id -> index, for every id that names a place (stations and facilities at a zone
    map to the zone's place, those without a location to their community's; zones to their
    own)."""
    geo = geo if geo is not None else geography(s)
    index = {pid: i for i, pid in enumerate(geo.places)}
    for group in (s.stations, s.facilities):
        for pid, p in group.items():
            if pid not in index:
                home = site_zone(p) or p.community
                assert home is not None
                index[pid] = index[home]
    return index


def inside_minutes(s: Scenario, area_km2: float) -> float:
    """Mean travel inside an area when not given: from the centre of a disc of that area to a
    uniform point in it, 2/3 of the radius."""
    assert s.travel.speed_kmh is not None
    radius = math.sqrt(area_km2 / math.pi)
    return 2 * radius / 3 * s.travel.detour_factor / s.travel.speed_kmh * 60.0


def _diagonal(s: Scenario, geo: Geography) -> np.ndarray:
    n_zones = len(geo.zones.ids)
    diag = np.zeros(len(geo.places))
    for i, (cid, com) in enumerate(s.communities.items()):
        if cid in s.travel.inside:
            diag[i] = s.travel.inside[cid]
        elif com.area_km2 is not None and s.travel.speed_kmh is not None:
            diag[i] = inside_minutes(s, com.area_km2)
    if n_zones and s.travel.speed_kmh is not None:
        area = geo.zones.area_km2
        radius = np.sqrt(np.where(np.isnan(area), 0.0, area) / np.pi)
        zone_diag = 2 * radius / 3 * s.travel.detour_factor / s.travel.speed_kmh * 60.0
        diag[len(geo.places) - n_zones :] = zone_diag
    return diag


def _derived(s: Scenario, xy: np.ndarray) -> np.ndarray:
    """Locations x detour / speed, NaN where a place has no location (or without speed)."""
    n = len(xy)
    m = np.full((n, n), np.nan, dtype=TRIP_DTYPE)
    speed = s.travel.speed_kmh
    if speed is None:
        return m
    block = max(1, _BLOCK_CELLS // max(n, 1))
    for start in range(0, n, block):
        stop = min(start + block, n)
        dx = xy[start:stop, None, 0] - xy[None, :, 0]
        dy = xy[start:stop, None, 1] - xy[None, :, 1]
        m[start:stop] = np.hypot(dx, dy) * s.travel.detour_factor / speed * 60.0
    return m


def _lay(m: np.ndarray, src: np.ndarray, dst: np.ndarray, minutes: np.ndarray) -> None:
    """Write given times over ``m``: both directions where one is given, each its own where
    both are."""
    n = len(m)
    given = src * n + dst
    alone = ~np.isin(dst * n + src, given)
    m[dst[alone], src[alone]] = minutes[alone]
    m[src, dst] = minutes


def _inline(s: Scenario, index: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    entries = [
        (index[a], index[b], v) for a, row in s.travel.matrix.items() for b, v in row.items()
    ]
    src = np.array([e[0] for e in entries], dtype=np.int64)
    dst = np.array([e[1] for e in entries], dtype=np.int64)
    return src, dst, np.array([e[2] for e in entries], dtype=np.float64)


def _lay_network(m: np.ndarray, roads: RoadTravel) -> None:
    """Write the network's trips between located places over ``m``, as a matrix file giving
    every such pair in both directions would; the diagonal stays."""
    inside = np.diag(m).copy()
    m[np.ix_(roads.index, roads.index)] = roads.minutes
    m[roads.index, roads.index] = inside[roads.index]


def travel_matrix(
    s: Scenario, geo: Geography | None = None, service: str | None = None
) -> np.ndarray:
    """Minutes between every pair of places, shape (P, P) of :data:`TRIP_DTYPE`, in the order
    of ``geo.places``; road-network trips at the time factor of ``service`` (default: the
    shared one)."""
    geo = geo if geo is not None else geography(s)
    index = {pid: i for i, pid in enumerate(geo.places)}
    m = _derived(s, geo.xy)
    np.fill_diagonal(m, _diagonal(s, geo))
    if s.travel.matrix_file is not None:
        _lay(m, *read_matrix_file(s.travel.matrix_file).entries(index))
    if s.travel.road_network is not None:
        from .roads import road_travel  # scipy's graphs only for a scenario with a network

        _lay_network(m, road_travel(s, geo, service=service))
    _lay(m, *_inline(s, index))
    assert not np.isnan(m).any(), "validation leaves no pair without a time"
    return m


def service_matrices(s: Scenario, geo: Geography, travel: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per service, its trips where services drive the road network at different time
    factors: ``travel`` itself for a service at the shared factor, its own matrix otherwise
    (one per factor). () where every service drives alike, or without a road network."""
    if s.travel.road_network is None:
        return ()
    factors = service_factors(s)
    if len(set(factors.values())) == 1:
        return ()
    shared = shared_factor(s)
    made: dict[float, np.ndarray] = {shared: travel}
    for sid, factor in factors.items():
        if factor not in made:
            made[factor] = travel_matrix(s, geo, service=sid)
    return tuple(made[factors[sid]] for sid in s.services)
