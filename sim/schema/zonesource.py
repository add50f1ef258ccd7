"""Explicit zones as a scenario gives them: inline, or read from a zone file, before they
are projected, joined to their communities and grouped (:mod:`sim.schema.geography`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import Problem
from .geo import KM, LONLAT, Frame
from .scenario import Facility, Location, Scenario, Station, Zone

if TYPE_CHECKING:
    from .zonefile import ZoneRows

__all__ = [
    "Found",
    "ZoneSet",
    "ZoneSource",
    "file_zones",
    "inline_places",
    "inline_zones",
    "join_boundaries",
    "place_kind",
    "place_xy",
    "site_problems",
    "site_zone",
    "unknown",
]

Path = tuple[str | int, ...]
Found = Problem | tuple[Path, str]


def unknown(kind: str, name: str, known: Any) -> str:
    names = sorted(known)
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    return f"unknown {kind} '{name}' (known: {shown or 'none'})"


@dataclass(frozen=True)
class ZoneSet:
    """The explicit zones: community by community (in community order), each community's
    zones in the order given."""

    ids: tuple[str, ...]
    community: tuple[str, ...]
    xy: np.ndarray  # (n, 2) km in the scenario's frame
    weight: np.ndarray  # (n,)
    weights: dict[str, np.ndarray]  # type or service id -> (n,), NaN where not given
    area_km2: np.ndarray  # (n,), NaN without a polygon
    geometry: Any  # GeoSeries in the frame (polygons, else points), None without polygons


@dataclass
class ZoneSource:
    """Explicit zones as given (before grouping), with where each came from."""

    ids: list[str]
    community: list[str | None]
    x: np.ndarray
    y: np.ndarray
    crs: str
    weight: np.ndarray
    weights: dict[str, np.ndarray]
    geometry: Any  # GeoSeries in `crs` or None
    rows: ZoneRows | None  # the file, None for inline zones
    area_km2: np.ndarray | None = None  # set by `project`, like x, y and geometry (then km)

    def project(self, frame: Frame) -> None:
        """Coordinates and outlines into the frame; polygons of a file give their zone's
        location as their representative point (taken in the frame), and every polygon an
        area in km²."""
        x, y = frame.project(self.x, self.y, self.crs)
        self.x, self.y = np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)  # own copies
        self.area_km2 = np.full(len(self.ids), np.nan)
        if self.geometry is None:
            return
        import geopandas as gpd

        projected = frame.project_geometry(self.geometry, self.crs)
        polygon = projected.geom_type.isin(("Polygon", "MultiPolygon")).to_numpy()
        self.area_km2[polygon] = projected[polygon].area.to_numpy()
        if self.rows is not None:
            inner = projected[polygon].representative_point()
            self.x[polygon], self.y[polygon] = inner.x.to_numpy(), inner.y.to_numpy()
        points = np.asarray(gpd.points_from_xy(self.x, self.y))
        self.geometry = gpd.GeoSeries(
            np.where(polygon, projected.to_numpy(), points), crs=frame.crs
        )
        self.crs = frame.proj

    def flag(self, bad: Any, message: Any) -> list[Found]:
        """Problems of the zones in ``bad``: each inline zone, or a file's first bad row."""
        idx = np.flatnonzero(np.asarray(bad, dtype=bool))
        if not idx.size:
            return []
        if self.rows is None:
            return [(("zones", self.ids[i]), message(int(i))) for i in idx]
        more = f" (and {idx.size - 1} more row(s))" if idx.size > 1 else ""
        return [self.rows.problem(int(idx[0]), message(int(idx[0])) + more)]


def place_kind(loc: Location) -> str:
    return KM if loc.x is not None else LONLAT


def place_xy(loc: Location) -> tuple[float, float]:
    if loc.x is not None and loc.y is not None:
        return loc.x, loc.y
    assert loc.lon is not None
    assert loc.lat is not None
    return loc.lon, loc.lat


def inline_places(s: Scenario) -> list[tuple[str, Location | None, Path]]:
    """Communities, stations and facilities with the coordinates the scenario gives them
    (None for none, and for a site at a zone: it is the zone's place, not one of its own)."""
    out: list[tuple[str, Location | None, Path]] = [
        (c, com.location, ("communities", c, "location")) for c, com in s.communities.items()
    ]
    for section, group in (("stations", s.stations), ("facilities", s.facilities)):
        out += [
            (pid, None if site_zone(p) else p.location, (section, pid, "location"))
            for pid, p in group.items()
        ]
    return out


def site_zone(site: Station | Facility) -> str | None:
    """The zone a station or facility sits at (None when it has coordinates or none)."""
    return site.location.zone if site.location is not None else None


def site_problems(s: Scenario, zone_ids: tuple[str, ...]) -> list[Found]:
    """Stations and facilities at a zone the scenario does not have."""
    known = set(zone_ids)
    found: list[Found] = []
    for section, group in (("stations", s.stations), ("facilities", s.facilities)):
        for pid, p in group.items():
            zone = site_zone(p)
            if zone is not None and zone not in known:
                message = (
                    unknown("zone", zone, known)
                    if known
                    else f"unknown zone '{zone}': the scenario has no zones"
                )
                found.append(((section, pid, "location", "zone"), message))
    return found


def inline_zones(zones: dict[str, Zone]) -> ZoneSource:
    keys = sorted({k for z in zones.values() for k in z.weights})
    locs = [z.location for z in zones.values()]
    kinds = {place_kind(loc) for loc in locs}
    geometry = None
    if any(z.polygon for z in zones.values()):
        import geopandas as gpd
        import shapely

        shapes = [shapely.polygons(z.polygon) if z.polygon else None for z in zones.values()]
        geometry = gpd.GeoSeries(shapes)
    return ZoneSource(
        ids=list(zones),
        community=[z.community for z in zones.values()],
        x=np.array([place_xy(loc)[0] for loc in locs], dtype=np.float64),
        y=np.array([place_xy(loc)[1] for loc in locs], dtype=np.float64),
        crs=kinds.pop() if len(kinds) == 1 else "mixed",
        weight=np.array([z.weight for z in zones.values()], dtype=np.float64),
        weights={k: np.array([z.weights.get(k, np.nan) for z in zones.values()]) for k in keys},
        geometry=geometry,
        rows=None,
    )


def file_zones(rows: ZoneRows) -> ZoneSource:
    x, y, geometry = rows.x, rows.y, None
    if rows.geometry is not None:
        geometry = rows.geometry.reset_index(drop=True)
        points = geometry.representative_point()
        x, y = points.x.to_numpy(), points.y.to_numpy()
        if not geometry.geom_type.isin(("Polygon", "MultiPolygon")).any():
            geometry = None
    return ZoneSource(
        list(rows.ids),
        list(rows.community),
        x,
        y,
        rows.crs,
        rows.weight,
        rows.weights,
        geometry,
        rows,
    )


def join_boundaries(zones: ZoneSource, bounds: Any) -> list[Found]:
    """Give zones without a community the one whose boundary they lie in."""
    import shapely

    missing = np.array([c is None for c in zones.community])
    if not missing.any():
        return []
    if bounds is None:
        return zones.flag(
            missing, lambda i: "no community: give one, or `boundaries` to find it by location"
        )
    idx = np.flatnonzero(missing)
    points = shapely.points(zones.x[idx], zones.y[idx])
    hits = shapely.STRtree(bounds.to_numpy()).query(points, predicate="intersects")
    first = np.full(idx.size, len(bounds))
    np.minimum.at(first, hits[0], hits[1])  # on a shared border the first outline wins
    first[first == len(bounds)] = -1
    for j, i in enumerate(idx):
        if first[j] >= 0:
            zones.community[i] = str(bounds.index[first[j]])
    outside = np.zeros(len(zones.ids), dtype=bool)
    outside[idx[first < 0]] = True
    return zones.flag(outside, lambda i: f"zone '{zones.ids[i]}' lies in no community boundary")
