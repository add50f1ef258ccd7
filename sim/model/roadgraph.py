"""The drivable road network as a sparse directed graph whose weights are minutes.

Every segment of :class:`~sim.schema.roadfile.RoadRows` becomes one arc (one-way) or two (two
ways). Its time is its length (great-circle between its nodes, or the length a GraphML file
gives) over its speed: ``maxspeed`` where tagged (and ``use_maxspeed``), else the scenario's
``speeds_kmh`` for its class, else the default of the class
(:data:`~sim.schema.osmtags.DEFAULT_SPEEDS_KMH`). Of parallel arcs the fastest is kept. The
time factor and the legs off the network are applied later (:mod:`sim.model.roads`): a uniform
factor does not change which path is shortest.

Pieces of the network that are not strongly connected to the rest (a one-way street cut at the
edge of the extract, a parking lot) are dropped when smaller than ``min_component_nodes``, so
that no place snaps onto a dead end it cannot leave; the largest piece is always kept. All of
it is whole-array work: no Python loop over edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from ..schema.geo import Frame
from ..schema.osmtags import BACKWARD, BOTH, DEFAULT_SPEEDS_KMH, FORWARD
from ..schema.roadcheck import node_xy
from ..schema.roadfile import RoadRows
from ..schema.scenario import RoadNetwork

__all__ = ["EARTH_RADIUS_M", "MIN_ARC_MINUTES", "RoadGraph", "build_graph", "segment_minutes"]

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
MIN_ARC_MINUTES = 1e-9  # a segment of length 0 (two nodes at one point) still is an arc


@dataclass(frozen=True)
class RoadGraph:
    """The kept nodes and arcs; arrays of arcs are in the order of ``graph``'s entries."""

    graph: csr_matrix  # (N, N) minutes from row node to column node
    xy: np.ndarray  # (N, 2) km in the scenario's frame
    node_id: np.ndarray  # (N,) OSM node ids
    piece: np.ndarray  # (N,) strongly connected piece of each node (0 = the largest)
    arc_class: np.ndarray  # (A,) road class index of each arc
    dropped_nodes: int  # nodes in pieces too small to keep

    @property
    def pieces(self) -> int:
        return int(self.piece.max()) + 1 if len(self.piece) else 0


def _length_m(rows: RoadRows) -> np.ndarray:
    """Segment lengths: as the file gives them, else great-circle (haversine)."""
    lon1, lat1, lon2, lat2 = (
        np.radians(a)
        for a in (rows.lon[rows.u], rows.lat[rows.u], rows.lon[rows.v], rows.lat[rows.v])
    )
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    arc = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return np.where(np.isfinite(rows.length_m), rows.length_m, arc)


def segment_minutes(rows: RoadRows, net: RoadNetwork) -> np.ndarray:
    """Minutes to drive each segment (before the time factor)."""
    speeds = dict(DEFAULT_SPEEDS_KMH)
    speeds.update({str(c): float(v) for c, v in net.speeds_kmh.items()})
    classes = np.array([speeds[c] for c in DEFAULT_SPEEDS_KMH], dtype=np.float64)
    speed = classes[rows.road_class]
    if net.use_maxspeed:
        speed = np.where(np.isfinite(rows.maxspeed), rows.maxspeed, speed)
    return np.maximum(_length_m(rows) / 1000.0 / speed * 60.0, MIN_ARC_MINUTES)


def _arcs(rows: RoadRows, minutes: np.ndarray) -> tuple[np.ndarray, ...]:
    """(from, to, minutes, class) of every arc, the fastest of parallel ones only."""
    d = rows.direction
    ahead = (d == BOTH) | (d == FORWARD)
    back = (d == BOTH) | (d == BACKWARD)
    src = np.concatenate([rows.u[ahead], rows.v[back]])
    dst = np.concatenate([rows.v[ahead], rows.u[back]])
    mins = np.concatenate([minutes[ahead], minutes[back]])
    cls = np.concatenate([rows.road_class[ahead], rows.road_class[back]])
    order = np.lexsort((mins, dst, src))
    src, dst, mins, cls = src[order], dst[order], mins[order], cls[order]
    first = np.ones(len(src), dtype=bool)
    first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    return src[first], dst[first], mins[first], cls[first]


def _kept_pieces(graph: csr_matrix, min_nodes: int) -> np.ndarray:
    """Each node's piece, renumbered by size (0 = the largest), -1 where dropped."""
    _, labels = connected_components(graph, directed=True, connection="strong")
    sizes = np.bincount(labels)
    by_size = np.argsort(-sizes, kind="stable")
    rank = np.empty_like(by_size)
    rank[by_size] = np.arange(len(by_size))
    keep = (sizes >= min_nodes) | (rank == 0)
    kept_rank = np.cumsum(keep[by_size]) - 1  # kept pieces numbered by size
    new = np.where(keep, kept_rank[rank], -1)
    return np.asarray(new[labels])


def build_graph(rows: RoadRows, net: RoadNetwork, frame: Frame) -> RoadGraph:
    """The road graph of ``rows`` with the scenario's speed settings, placed in ``frame``."""
    n = len(rows.node_id)
    src, dst, mins, cls = _arcs(rows, segment_minutes(rows, net))
    full = csr_matrix((mins, (src, dst)), shape=(n, n))
    piece = _kept_pieces(full, net.min_component_nodes)
    kept = np.flatnonzero(piece >= 0)
    new_index = np.full(n, -1)
    new_index[kept] = np.arange(len(kept))
    on = (piece[src] >= 0) & (piece[dst] >= 0) & (piece[src] == piece[dst])
    a, b = new_index[src[on]], new_index[dst[on]]
    graph = csr_matrix((mins[on], (a, b)), shape=(len(kept), len(kept)))
    graph.sort_indices()
    order = np.lexsort((b, a))  # csr order of the entries (no duplicates are left)
    return RoadGraph(
        graph=graph,
        xy=node_xy(rows, frame)[kept],
        node_id=rows.node_id[kept],
        piece=piece[kept],
        arc_class=cls[on][order],
        dropped_nodes=int(n - len(kept)),
    )
