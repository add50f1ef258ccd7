"""Candidate sites: where ``intersim site`` may put stations.

* ``stations``: every station of the scenario (each community's own, and the extra ones);
* ``zones``: a new station in every demand zone (``location: {zone: ID}`` in the scenario
  format: it stands at the zone's point and has the zone's travel times, from the matrix file
  when there is one);
* a file of points (CSV, GeoJSON, GeoPackage, Shapefile: read like a zone file, an ``id``
  column naming the sites and an optional ``community``): a new station at each point, its
  travel times derived from the coordinates as the model derives any missing trip (straight
  line x ``travel.detour_factor`` / ``travel.speed_kmh``), which the scenario must give.

Today's stations (those with units of the service under the base option) are always
candidates, so that a placement can keep them. :func:`candidate_scenario` adds the new
stations to the scenario: the optimisation and the simulation then read every trip from the
same compiled model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, ScenarioError
from ..schema import Scenario, scenario_from_dict
from ..schema.geo import KM, to_lonlat
from ..schema.geography import geography
from ..schema.scenario import ZoneFile
from ..schema.zonefile import read_zone_file
from ..schema.zonesource import file_zones

__all__ = ["KINDS", "Site", "candidate_scenario", "candidate_sites", "station_ids"]

KINDS = ("stations", "zones")  # any other --candidates value names a file
MAX_ID = 64


@dataclass(frozen=True)
class Site:
    """A candidate: an existing station (``entry`` None) or a new one to add."""

    id: str
    kind: str  # "station", "zone" or "point"
    community: str | None  # where it lies, when known
    label: str
    entry: dict[str, Any] | None = None  # the station as scenario data, for a new site


def station_ids(scenario: Scenario) -> dict[str, str | None]:
    """Every station id (each community's own first) and its community."""
    out: dict[str, str | None] = {c: c for c in scenario.communities}
    out.update({sid: st.community for sid, st in scenario.stations.items()})
    return out


def _existing(scenario: Scenario, ids: list[str]) -> list[Site]:
    known = station_ids(scenario)
    out = []
    for sid in ids:
        place = scenario.stations.get(sid) or scenario.communities[sid]
        name = place.name or sid
        out.append(Site(sid, "station", known[sid], name))
    return out


def _taken(scenario: Scenario) -> set[str]:
    geo = geography(scenario)
    return {*geo.places, *scenario.stations, *scenario.facilities}


def _zone_sites(scenario: Scenario) -> list[Site]:
    zones = geography(scenario).zones
    taken = _taken(scenario)
    out: list[Site] = []
    for z, c in zip(zones.ids, zones.community, strict=True):
        sid = f"at_{z}" if len(z) <= MAX_ID - 3 else f"at_zone_{len(out) + 1}"
        while sid in taken:
            sid = f"{sid[: MAX_ID - 1]}_"
        taken.add(sid)
        name = f"Station in zone {z}"
        out.append(
            Site(sid, "zone", c, name, {"name": name, "community": c, "location": {"zone": z}})
        )
    return out


def _point_sites(scenario: Scenario, path: str) -> list[Site]:
    if scenario.travel.speed_kmh is None:
        raise InputError(
            f"--candidates {path}: trips from candidate points are derived from their "
            "coordinates, and the scenario gives no travel.speed_kmh; add it (and "
            "travel.detour_factor), or use --candidates zones or stations"
        )
    file = str(Path(path).expanduser().resolve())
    rows = read_zone_file(ZoneFile(file=file))
    points = file_zones(rows)
    frame = geography(scenario).frame
    if frame.planar != (rows.crs == KM):
        kind = "planar km" if frame.planar else "lon/lat"
        raise InputError(
            f"--candidates {path}: the file's coordinates are "
            f"{'km' if rows.crs == KM else rows.crs}, the scenario's places {kind}; use one kind"
        )
    if frame.planar:
        locations = [
            {"x": float(x), "y": float(y)} for x, y in zip(points.x, points.y, strict=True)
        ]
    else:
        lon, lat = to_lonlat(points.x, points.y, rows.crs)
        locations = [{"lat": float(b), "lon": float(a)} for a, b in zip(lon, lat, strict=True)]
    taken = _taken(scenario)
    clash = [i for i, sid in enumerate(rows.ids) if sid in taken]
    if clash:
        i = clash[0]
        raise ScenarioError(
            [rows.problem(i, f"site '{rows.ids[i]}' is already a place of the scenario; rename it")]
        )
    communities = set(scenario.communities)
    out = []
    for sid, com, loc in zip(rows.ids, rows.community, locations, strict=True):
        c = com if com in communities else None
        entry: dict[str, Any] = {"name": f"Candidate site {sid}", "location": loc}
        if c is not None:
            entry["community"] = c
        out.append(Site(sid, "point", c, str(entry["name"]), entry))
    return out


def candidate_sites(scenario: Scenario, candidates: str, today: list[str]) -> list[Site]:
    """Today's stations, then the candidates asked for (see the module docstring)."""
    sites = _existing(scenario, today)
    if candidates == "stations":
        sites += _existing(scenario, [s for s in station_ids(scenario) if s not in today])
    elif candidates == "zones":
        found = _zone_sites(scenario)
        if not found:  # one zone per community: the zones are the communities' own stations
            found = _existing(scenario, [c for c in scenario.communities if c not in today])
        sites += found
    else:
        sites += _point_sites(scenario, candidates)
    return sites


def candidate_scenario(scenario: Scenario, sites: list[Site]) -> Scenario:
    """``scenario`` with the new sites added as stations (no units: nothing else changes)."""
    data = scenario.model_dump(mode="json")
    data["stations"] = {
        **data.get("stations", {}),
        **{s.id: s.entry for s in sites if s.entry is not None},
    }
    return scenario_from_dict(data)
