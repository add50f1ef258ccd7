"""Road network files: an OpenStreetMap extract (``.osm``, ``.osm.pbf``, ``.osm.gz``,
``.osm.bz2``) read with pyosmium, or a GraphML file (as osmnx saves one) read with networkx.

The reader keeps the drivable roads (:mod:`sim.schema.osmtags`) as segments between
consecutive nodes of a way, each with its road class, posted speed and direction; nodes keep
their OSM id and longitude/latitude. Segments that leave the extract (a node without a
location, as at the edge of a cut extract) are dropped. A file is untrusted input: it has a
size cap (:data:`MAX_BYTES`), and a file that is truncated, malformed (the XML line and column
are named) or not OpenStreetMap at all, or that holds no drivable road, is one problem naming
the file. Results are cached by path, modification time and size (validation and compilation
read a file once).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ..errors import Problem, ScenarioError
from .datapaths import checked_file_key, shown_path
from .geo import LONLAT, check_crs, to_lonlat
from .osmtags import BOTH, CLASSES, FORWARD, direction, drivable_class, maxspeed_kmh

__all__ = ["MAX_BYTES", "OSM_SUFFIXES", "RoadRows", "read_road_file"]

MAX_BYTES = 1 * 2**30  # a city or a county; cut a larger extract to the region first
OSM_SUFFIXES = (".osm", ".osm.pbf", ".pbf", ".osm.gz", ".osm.bz2")
GRAPHML = ".graphml"
_AT = re.compile(r"at line (\d+), column (\d+)")


@dataclass(frozen=True)
class RoadRows:
    """The drivable roads of a file: nodes, and directed or two-way segments between them."""

    source: str  # the file as messages name it
    node_id: np.ndarray  # (N,) int64 OSM node ids
    lon: np.ndarray  # (N,) degrees
    lat: np.ndarray  # (N,)
    u: np.ndarray  # (E,) index into the nodes: segment start
    v: np.ndarray  # (E,) segment end
    road_class: np.ndarray  # (E,) int8 index into osmtags.CLASSES
    maxspeed: np.ndarray  # (E,) km/h, NaN where not tagged
    direction: np.ndarray  # (E,) int8: osmtags.BOTH, FORWARD (u -> v) or BACKWARD
    length_m: np.ndarray  # (E,) metres given by the file, NaN where not (OSM: all NaN)
    line: np.ndarray  # (E,) the polyline a segment belongs to (a way, or a GraphML edge)


def _fail(path: str, message: str, line: int | None = None, column: int | None = None) -> Any:
    return ScenarioError([Problem(shown_path(path), line, column, "", message)])


def read_road_file(path: str) -> RoadRows:
    """The drivable roads of ``path``; ScenarioError naming the file (and line) otherwise."""
    lower = path.lower()
    if not lower.endswith((*OSM_SUFFIXES, GRAPHML)):
        formats = ", ".join((*OSM_SUFFIXES, GRAPHML))
        raise _fail(path, f"unknown road network format: expected a file ending in {formats}")
    key = checked_file_key(path, MAX_BYTES, "; cut the extract to the region")
    if key[2] == 0:
        raise _fail(path, "empty file")
    return _cached(*key)


@lru_cache(maxsize=4)
def _cached(path: str, _mtime: int, _size: int) -> RoadRows:
    rows = _read_graphml(path) if path.lower().endswith(GRAPHML) else _read_osm(path)
    if len(rows.u) == 0:
        kinds = ", ".join(CLASSES[:-1])
        raise _fail(path, f"no drivable road in the file (highway={kinds} or road)")
    return rows


# --------------------------------------------------------------------------- OpenStreetMap


def _osm_error(path: str, exc: Exception) -> ScenarioError:
    text = str(exc).strip()
    found = _AT.search(text)
    if found:
        line, column = int(found.group(1)), int(found.group(2))
        why = text[found.end() :].lstrip(": ") or "malformed"
        return _fail(path, f"not OpenStreetMap XML: {why}", line, column + 1)
    if "PBF" in text or "EOF" in text.upper():
        return _fail(path, f"not a complete OpenStreetMap file ({text}); truncated?")
    return _fail(path, f"cannot read as OpenStreetMap: {text}")


def _read_osm(path: str) -> RoadRows:
    import osmium

    ids: list[int] = []
    lon: list[float] = []
    lat: list[float] = []
    way_of_ref: list[int] = []
    ways: list[tuple[int, float, int]] = []
    processor = (
        osmium.FileProcessor(path, osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    nan = math.nan
    try:
        for way in processor:
            assert isinstance(way, osmium.osm.Way), "the filter passes ways only"
            tags = way.tags
            code = drivable_class(tags.get)
            if code < 0:
                continue
            w = len(ways)
            ways.append((code, maxspeed_kmh(tags.get("maxspeed")), direction(tags.get)))
            for ref in way.nodes:
                loc = ref.location
                ids.append(ref.ref)
                way_of_ref.append(w)
                if loc.valid():
                    lon.append(loc.lon)
                    lat.append(loc.lat)
                else:
                    lon.append(nan)
                    lat.append(nan)
    except (RuntimeError, ValueError) as exc:
        raise _osm_error(path, exc) from None
    return _segments(path, ids, lon, lat, way_of_ref, ways)


def _segments(
    path: str,
    ids: list[int],
    lon: list[float],
    lat: list[float],
    way_of_ref: list[int],
    ways: list[tuple[int, float, int]],
) -> RoadRows:
    """Segments between consecutive located nodes of each way, nodes numbered once."""
    ref_id = np.asarray(ids, dtype=np.int64)
    ref_lon, ref_lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    ref_way = np.asarray(way_of_ref, dtype=np.int64)
    located = np.isfinite(ref_lon) & np.isfinite(ref_lat)
    node_id, first, node_of_ref = np.unique(ref_id, return_index=True, return_inverse=True)
    keep = (ref_way[:-1] == ref_way[1:]) & located[:-1] & located[1:]
    keep &= node_of_ref[:-1] != node_of_ref[1:]  # a node repeated in a row: no segment
    start = np.flatnonzero(keep)
    attrs = np.array(ways, dtype=np.float64).reshape(-1, 3)
    seg_way = ref_way[start]
    # a way cut at a missing node is two lines on the map
    line = np.cumsum(np.concatenate([[0], ~keep]))[start] if len(start) else start
    used, ends = np.unique(
        np.concatenate([node_of_ref[start], node_of_ref[start + 1]]), return_inverse=True
    )  # only the nodes of kept segments
    return RoadRows(
        source=shown_path(path),
        node_id=node_id[used],
        lon=ref_lon[first[used]],
        lat=ref_lat[first[used]],
        u=ends[: len(start)],
        v=ends[len(start) :],
        road_class=attrs[seg_way, 0].astype(np.int8),
        maxspeed=attrs[seg_way, 1],
        direction=attrs[seg_way, 2].astype(np.int8),
        length_m=np.full(len(start), np.nan),
        line=line,
    )


# --------------------------------------------------------------------------- GraphML


def _first(value: Any) -> str | None:
    """One value of a GraphML attribute that osmnx may have written as a list ("['a', 'b']")."""
    if value is None:
        return None
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        parts = [p.strip().strip("'\"") for p in text[1:-1].split(",") if p.strip()]
        return parts[0] if parts else None
    return text


def _number(value: Any) -> float:
    try:
        out = float(_first(value) or "nan")
    except ValueError:
        return math.nan
    return out if math.isfinite(out) and out >= 0 else math.nan


def _read_graph(path: str) -> Any:
    import xml.etree.ElementTree as ET

    import networkx as nx

    try:
        return nx.read_graphml(path, node_type=str, force_multigraph=True)
    except ET.ParseError as exc:
        line, column = exc.position
        why = str(exc).split(":", 1)[0]
        raise _fail(path, f"not GraphML: {why}", line, column + 1) from None
    except (nx.NetworkXError, ValueError, KeyError, TypeError) as exc:
        raise _fail(path, f"cannot read as GraphML: {exc}") from None


def _node_lonlat(path: str, graph: Any, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    xy = np.array([[_number(graph.nodes[n].get(k)) for k in ("x", "y")] for n in names])
    xy = xy.reshape(-1, 2)
    missing = np.flatnonzero(~np.isfinite(xy).all(axis=1))
    if missing.size:
        raise _fail(path, f"node '{names[missing[0]]}' has no x/y coordinates")
    crs = str(graph.graph.get("crs") or LONLAT)
    why = check_crs(crs)
    if why is not None:
        raise _fail(path, f"graph crs: {why}")
    return to_lonlat(xy[:, 0], xy[:, 1], crs)


def _highway_only(value: str) -> Callable[[str], str | None]:
    """Tags of a GraphML edge: its class alone (its access was settled when it was made)."""
    return lambda key: value if key == "highway" else None


def _read_graphml(path: str) -> RoadRows:
    graph = _read_graph(path)
    names = [str(n) for n in graph.nodes]
    at = {n: i for i, n in enumerate(names)}
    lon, lat = _node_lonlat(path, graph, names)
    rows: list[tuple[int, int, int, float, float]] = []
    for a, b, data in graph.edges(data=True):
        code = drivable_class(_highway_only(_first(data.get("highway")) or "road"))
        if code >= 0 and a != b:
            speed = maxspeed_kmh(_first(data.get("maxspeed")))
            rows.append((at[str(a)], at[str(b)], code, speed, _number(data.get("length"))))
    table = np.array(rows, dtype=np.float64).reshape(-1, 5)
    two_way = not graph.is_directed()
    node_id = np.array([int(n) if n.lstrip("-").isdigit() else i for i, n in enumerate(names)])
    return RoadRows(
        source=shown_path(path),
        node_id=node_id.astype(np.int64),
        lon=lon,
        lat=lat,
        u=table[:, 0].astype(np.int64),
        v=table[:, 1].astype(np.int64),
        road_class=table[:, 2].astype(np.int8),
        maxspeed=table[:, 3],
        direction=np.full(len(table), BOTH if two_way else FORWARD, dtype=np.int8),
        length_m=table[:, 4],
        line=np.arange(len(table)),
    )
