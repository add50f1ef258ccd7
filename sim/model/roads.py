"""Travel times from a road network: every located place snapped to its nearest road node,
shortest trips between all of them.

Each place (community centre, station or facility with a location of its own, zone) is snapped
to the nearest node of the kept network (:mod:`sim.model.roadgraph`) with a k-d tree
(scipy.spatial.cKDTree); the straight leg between the place and its node is driven at
``off_network_kmh`` at both ends of a trip. Trips between nodes are shortest paths on the
directed graph (scipy.sparse.csgraph.dijkstra, one call for a block of sources), so one-way
streets make the matrix asymmetric. A trip is (leg + network + leg) x the time factor. Places
on different pieces of the network cannot reach each other: an error names them. A place
farther than ``warn_snap_m`` from every road gets a warning (usually a place in the wrong
CRS). Results are cached on disk (:mod:`sim.model.roadcache`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from ..schema.geography import Geography, geography
from ..schema.load import scenario_error
from ..schema.roadcheck import node_xy, road_frame, service_factors, shared_factor
from ..schema.roadfile import read_road_file
from ..schema.scenario import RoadNetwork, Scenario
from . import roadcache
from .roadgraph import RoadGraph, build_graph

__all__ = [
    "BLOCK_CELLS",
    "PointTrips",
    "RoadTravel",
    "network_minutes",
    "point_trips",
    "road_lines",
    "road_travel",
    "snap",
]

BLOCK_CELLS = 2**23  # sources x nodes of one Dijkstra call (64 MB of float64)
SHOWN = 4
HERE = ("travel", "road_network")
Progress = Callable[[int, int], None]  # (sources done, sources in all)


@dataclass(frozen=True)
class RoadTravel:
    """Trips between the located places of a scenario on its road network."""

    places: tuple[str, ...]  # located places, in the order of the geography's places
    index: np.ndarray  # (L,) their index among the geography's places
    minutes: np.ndarray  # (L, L) trip minutes (diagonal 0: travel inside comes from elsewhere)
    snap_m: np.ndarray  # (L,) metres from each place to its node
    node: np.ndarray  # (L,) OSM id of each place's node
    factor: float  # the time factor applied
    warnings: tuple[str, ...]
    cached: bool  # read from the cache
    seconds: float  # to build (or read) it
    nodes: int  # of the kept network
    arcs: int
    dropped_nodes: int  # in pieces too small to keep
    pieces: int  # pieces kept

    def long_form(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(from, to, minutes) of every ordered pair of distinct places, row by row."""
        a, b = np.nonzero(~np.eye(len(self.places), dtype=bool))
        names = np.array(self.places, dtype=object)
        return names[a], names[b], self.minutes[a, b]


def snap(graph: RoadGraph, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The nearest kept node of each point (km) and the distance to it (km)."""
    distance, node = cKDTree(graph.xy).query(xy)
    return np.asarray(node, dtype=np.int64), np.asarray(distance, dtype=np.float64)


def network_minutes(
    graph: RoadGraph, nodes: np.ndarray, progress: Progress | None = None
) -> np.ndarray:
    """Shortest minutes between every pair of ``nodes`` (indices into the graph), shape
    (len(nodes), len(nodes)); each distinct node is a Dijkstra source once."""
    unique, inverse = np.unique(nodes, return_inverse=True)
    n = graph.graph.shape[0]
    block = max(1, min(len(unique), BLOCK_CELLS // max(n, 1)))
    between = np.empty((len(unique), len(unique)))
    for start in range(0, len(unique), block):
        stop = min(start + block, len(unique))
        rows = dijkstra(graph.graph, directed=True, indices=unique[start:stop])
        between[start:stop] = rows[:, unique]
        if progress is not None:
            progress(stop, len(unique))
    return between[np.ix_(inverse, inverse)]


def _pieces_problem(s: Scenario, graph: RoadGraph, nodes: np.ndarray, names: list[str]) -> None:
    """Refuse places on different pieces of the network: they cannot reach each other."""
    piece = graph.piece[nodes]
    if len(piece) == 0 or (piece == piece[0]).all():
        return
    main = np.bincount(piece).argmax()
    off = [names[i] for i in np.flatnonzero(piece != main)]
    shown = ", ".join(f"'{p}'" for p in off[:SHOWN]) + (" ..." if len(off) > SHOWN else "")
    raise scenario_error(
        s,
        [
            (
                (*HERE, "file"),
                f"{len(off)} place(s) cannot reach the others on the road network (they lie on "
                f"a separate piece of it: an island, or roads cut at the extract's edge): "
                f"{shown}; move them, or give their times in travel.matrix",
            )
        ],
    )


def _build(
    s: Scenario, net: RoadNetwork, geo: Geography, located: np.ndarray, progress: Progress | None
) -> tuple[roadcache.CachedTrips, bool]:
    frame = road_frame(net, geo)
    assert frame is not None, "validation requires an origin for x/y scenarios"
    xy = geo.xy[located]
    key = roadcache.cache_key(net, frame, xy)
    cached = roadcache.load(net.file, key)
    if cached is not None:
        return cached, True
    graph = build_graph(read_road_file(net.file), net, frame)
    nodes, distance = snap(graph, xy)
    _pieces_problem(s, graph, nodes, [geo.places[i] for i in located])
    between = network_minutes(graph, nodes, progress)
    assert np.isfinite(between).all(), "places on one strongly connected piece reach each other"
    stats = np.array([graph.graph.shape[0], graph.graph.nnz, graph.dropped_nodes, graph.pieces])
    trips = roadcache.CachedTrips(between, distance * 1000.0, graph.node_id[nodes], stats)
    roadcache.save(net.file, key, trips)
    return trips, False


def _far(net: RoadNetwork, names: tuple[str, ...], trips: roadcache.CachedTrips) -> list[str]:
    far = np.flatnonzero(trips.snap_m > net.warn_snap_m)
    return [
        f"'{names[i]}' lies {trips.snap_m[i]:,.0f} m from the nearest road (OSM node "
        f"{trips.node[i]}), beyond warn_snap_m {net.warn_snap_m:g}: is it in the right CRS?"
        for i in far
    ]


def road_travel(
    s: Scenario,
    geo: Geography | None = None,
    *,
    service: str | None = None,
    progress: Progress | None = None,
) -> RoadTravel:
    """The road-network trips of ``s`` (which has a ``travel.road_network``), at the time
    factor of ``service`` (default: the one every service shares)."""
    net = s.travel.road_network
    assert net is not None
    geo = geo if geo is not None else geography(s)
    started = time.perf_counter()
    located = np.flatnonzero(np.isfinite(geo.xy).all(axis=1))
    trips, cached = _build(s, net, geo, located, progress)
    factor = service_factors(s)[service] if service is not None else shared_factor(s)
    leg = trips.snap_m / 1000.0 / net.off_network_kmh * 60.0
    minutes = (leg[:, None] + trips.node_minutes + leg[None, :]) * factor
    np.fill_diagonal(minutes, 0.0)
    names = tuple(geo.places[i] for i in located)
    nodes, arcs, dropped, pieces = (int(v) for v in trips.stats)
    return RoadTravel(
        places=names,
        index=located,
        minutes=minutes,
        snap_m=trips.snap_m,
        node=trips.node,
        factor=factor,
        warnings=tuple(_far(net, names, trips)),
        cached=cached,
        seconds=time.perf_counter() - started,
        nodes=nodes,
        arcs=arcs,
        dropped_nodes=dropped,
        pieces=pieces,
    )


@dataclass(frozen=True)
class PointTrips:
    """Trips from some places to arbitrary points (the scenes of a log's incidents)."""

    minutes: np.ndarray  # (S, K) from each source place to each point; inf where cut off
    snap_m: np.ndarray  # (K,) metres from each point to its node
    road_class: np.ndarray  # (K,) class index of the highest road at each point's node
    factor: float


def _node_class(graph: RoadGraph) -> np.ndarray:
    """The highest class (lowest index of osmtags.CLASSES) of the arcs at each node."""
    n = graph.graph.shape[0]
    best = np.full(n, np.iinfo(np.int16).max, dtype=np.int16)
    rows = np.repeat(np.arange(n), np.diff(graph.graph.indptr))
    np.minimum.at(best, rows, graph.arc_class.astype(np.int16))
    np.minimum.at(best, graph.graph.indices, graph.arc_class.astype(np.int16))
    return best


def point_trips(
    s: Scenario, geo: Geography, sources: np.ndarray, xy: np.ndarray, service: str | None = None
) -> PointTrips:
    """Network trips from the places ``sources`` (indices into ``geo.places``, located) to
    the points ``xy`` (km in the scenario's frame), legs and the time factor of ``service``
    (default: the shared one) included."""
    net = s.travel.road_network
    assert net is not None
    frame = road_frame(net, geo)
    assert frame is not None, "validation requires an origin for x/y scenarios"
    graph = build_graph(read_road_file(net.file), net, frame)
    source_node, source_km = snap(graph, geo.xy[sources])
    point_node, point_km = snap(graph, xy)
    unique, inverse = np.unique(source_node, return_inverse=True)
    between = dijkstra(graph.graph, directed=True, indices=unique)[:, point_node][inverse]
    legs = source_km[:, None] + point_km[None, :]
    factor = service_factors(s)[service] if service is not None else shared_factor(s)
    minutes = (legs / net.off_network_kmh * 60.0 + between) * factor
    return PointTrips(minutes, point_km * 1000.0, _node_class(graph)[point_node], factor)


def road_lines(s: Scenario, geo: Geography | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The drivable road segments of the scenario's network for maps: (E, 2, 2) km in the
    scenario's frame (x/y scenarios: its own km) and the road class index of each."""
    net = s.travel.road_network
    assert net is not None
    geo = geo if geo is not None else geography(s)
    frame = road_frame(net, geo)
    assert frame is not None, "validation requires an origin for x/y scenarios"
    rows = read_road_file(net.file)
    xy = node_xy(rows, frame)
    return np.stack([xy[rows.u], xy[rows.v]], axis=1), rows.road_class
