"""Where the places of a scenario are: communities, stations and facilities with a location
of their own, and zones (inline or from a file, their community given or found in the
boundaries), all in one km frame (:mod:`sim.schema.geo`).

:func:`geography` is what the model compiles; :func:`survey` also returns what validation
reports: mixed coordinate kinds, problems of the zone and boundary files, zones outside every
boundary, and the checks of :mod:`sim.schema.zonechecks`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import Problem, ScenarioError
from .geo import KM, LONLAT, Frame, frame_centred, to_lonlat
from .scenario import Location, Scenario, ZoneFile
from .zonechecks import burst_problems, weight_problems, zone_problems
from .zonesource import (
    Found,
    ZoneSet,
    ZoneSource,
    file_zones,
    inline_places,
    inline_zones,
    join_boundaries,
    place_kind,
    place_xy,
    site_problems,
    unknown,
)

if TYPE_CHECKING:
    from .zonefile import BoundaryRows

__all__ = [
    "MAX_PLACES",
    "Found",
    "Geography",
    "ZoneSet",
    "geography",
    "geography_problems",
    "survey",
    "unknown",
]

MAX_PLACES = 20_000
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Geography:
    frame: Frame
    places: tuple[str, ...]  # communities, own-located stations and facilities, zones
    xy: np.ndarray  # (P, 2) km, NaN where a place has no location
    zones: ZoneSet
    boundaries: Any  # GeoSeries of community outlines in the frame (index: community), or None
    source_crs: str | None  # CRS of the coordinates as given (None: planar km)


# --------------------------------------------------------------------------- frame


def _frame(
    s: Scenario, zones: ZoneSource | None, bounds: BoundaryRows | None
) -> tuple[Frame | None, list[Found]]:
    """The one frame of every coordinate; an error at the first place of another kind."""
    items: list[tuple[bool, Path]] = [
        (loc.x is not None, path) for _, loc, path in inline_places(s) if loc is not None
    ]
    if zones is not None and zones.rows is None:
        items += [
            (z.location.x is not None, ("zones", zid, "location"))
            for zid, z in (s.zones or {}).items()  # type: ignore[union-attr]
        ]
    elif zones is not None:
        items.append((zones.crs == KM, ("zones", "file")))
    if bounds is not None:
        items.append((bounds.crs == KM, ("boundaries", "file")))
    planar = {p for p, _ in items}
    if len(planar) > 1:
        first = items[0][0]
        path = next(path for p, path in items if p != first)
        if path[-1] == "file":
            kind = "km" if not first else "lon/lat or a CRS"
            return None, [
                (
                    path,
                    f"the file's coordinates are {kind}, unlike the other places; "
                    "use one kind of coordinates for every place",
                )
            ]
        return None, [(path, "mix of x/y and lat/lon locations; use one kind for every place")]
    if not items or items[0][0]:
        return Frame(), []
    lon: list[np.ndarray] = []
    lat: list[np.ndarray] = []
    for _, loc, _path in inline_places(s):
        if loc is not None and loc.lon is not None and loc.lat is not None:
            lon.append(np.array([loc.lon]))
            lat.append(np.array([loc.lat]))
    if zones is not None:
        a, b = to_lonlat(zones.x, zones.y, zones.crs)
        lon.append(a)
        lat.append(b)
    if not lon and bounds is not None:
        points = bounds.geometry.representative_point()
        a, b = to_lonlat(points.x.to_numpy(), points.y.to_numpy(), bounds.crs)
        lon.append(a)
        lat.append(b)
    return frame_centred(np.concatenate(lon), np.concatenate(lat)), []


# --------------------------------------------------------------------------- assembly


def _read(s: Scenario) -> tuple[ZoneSource | None, BoundaryRows | None, list[Found]]:
    found: list[Found] = []
    zones = bounds = None
    if isinstance(s.zones, ZoneFile):
        from .zonefile import read_zone_file  # pandas and GDAL only for data files

        try:
            zones = file_zones(read_zone_file(s.zones))
        except ScenarioError as exc:
            found += exc.problems
    elif s.zones:
        zones = inline_zones(s.zones)
    if s.boundaries is not None:
        from .zonefile import read_boundary_file

        try:
            bounds = read_boundary_file(s.boundaries)
        except ScenarioError as exc:
            found += exc.problems
    if bounds is not None:
        for i, cid in enumerate(bounds.ids):
            if cid not in s.communities:
                found.append(bounds.problem(i, unknown("community", cid, s.communities)))
    return zones, bounds, found


def _zone_set(s: Scenario, zones: ZoneSource | None) -> ZoneSet:
    if zones is None or not zones.ids:
        empty = np.zeros(0)
        return ZoneSet((), (), np.zeros((0, 2)), empty, {}, empty, None)
    rank = {c: i for i, c in enumerate(s.communities)}
    order = np.array(sorted(range(len(zones.ids)), key=lambda i: rank[str(zones.community[i])]))
    assert zones.area_km2 is not None, "zones are projected first"
    geometry = None
    if zones.geometry is not None:
        geometry = zones.geometry.iloc[order].reset_index(drop=True)
    return ZoneSet(
        ids=tuple(zones.ids[i] for i in order),
        community=tuple(str(zones.community[i]) for i in order),
        xy=np.column_stack([zones.x, zones.y])[order],
        weight=zones.weight[order],
        weights={k: v[order] for k, v in zones.weights.items()},
        area_km2=zones.area_km2[order],
        geometry=geometry,
    )


def survey(s: Scenario) -> tuple[Geography | None, list[Found]]:
    """The geography of ``s`` and its problems (None when there are any)."""
    zones, bounds, found = _read(s)
    frame, mixed = _frame(s, zones, bounds)
    if mixed or frame is None:
        return None, found + mixed
    outlines = None
    if bounds is not None and not found:
        outlines = frame.project_geometry(bounds.geometry, bounds.crs)
        outlines.index = list(bounds.ids)
    zones_crs = zones.crs if zones is not None else None
    if zones is not None:
        found += zone_problems(s, zones)
        if not found:
            zones.project(frame)
            found += join_boundaries(zones, outlines)
    if found:
        return None, found
    zone_set = _zone_set(s, zones)
    found += site_problems(s, zone_set.ids)
    found += weight_problems(s, zone_set, zones) if zones is not None else []
    found += burst_problems(s, zone_set)
    located: dict[str, Location | None] = {}
    for pid, loc, _ in inline_places(s):  # a name given twice is reported by the references
        if pid not in located and (loc is not None or pid in s.communities):
            located[pid] = loc
    places = list(located)
    if len(places) + len(zone_set.ids) > MAX_PLACES:
        n = len(places) + len(zone_set.ids)
        found.append((("zones",), f"{n:,} places (over {MAX_PLACES:,}); merge zones"))
    if found:
        return None, found
    xy = np.full((len(places), 2), np.nan)
    for i, pid in enumerate(places):
        loc = located[pid]
        if loc is not None:
            x, y = frame.project(*place_xy(loc), place_kind(loc))
            xy[i] = float(x), float(y)
    source = None if frame.planar else (zones_crs if zones is not None else LONLAT)
    return (
        Geography(
            frame,
            (*places, *zone_set.ids),
            np.vstack([xy, zone_set.xy]),
            zone_set,
            outlines,
            source,
        ),
        [],
    )


def geography_problems(s: Scenario) -> list[Found]:
    """Every problem of the scenario's geography (files included)."""
    return survey(s)[1]


def geography(s: Scenario) -> Geography:
    """The places of a valid scenario and their coordinates; ScenarioError otherwise."""
    geo, found = survey(s)
    if geo is None:
        problems = [
            f
            if isinstance(f, Problem)
            else Problem("<scenario>", None, None, ".".join(map(str, f[0])), f[1])
            for f in found
        ]
        raise ScenarioError(problems)
    return geo
