"""``region.json``: what figures and the report need to know of the scenario.

A result directory holds tables, not the scenario; ``write_comparison`` adds this small record
(communities with populations and locations, stations, facilities, services, options with
their units and dispatch rules, response targets, surges and bursts, run settings) so that
figures and the report can be redrawn from the directory alone.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from ..model.compile import compile_region
from ..schema import Scenario
from ..schema.geo import to_lonlat
from ..schema.geography import geography
from ..schema.options import resolve_option
from ..schema.scenario import Duty, Facility, Location, Station
from ..schema.zonesource import site_zone

__all__ = ["REGION_FILE", "duty_text", "region_record", "surge_records"]

REGION_FILE = "region.json"
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _loc(loc: Location | None) -> dict[str, float] | None:
    if loc is None:
        return None
    if loc.x is not None and loc.y is not None:
        return {"x": loc.x, "y": loc.y}
    assert loc.lat is not None
    assert loc.lon is not None
    return {"lat": loc.lat, "lon": loc.lon}


def _site_locations(s: Scenario) -> dict[str, dict[str, float]]:
    """The location of every zone a station or facility sits at, in the scenario's kind of
    coordinates (x/y km, or lat/lon)."""
    zones = {z for g in (s.stations, s.facilities) for p in g.values() if (z := site_zone(p))}
    if not zones:
        return {}
    geo = geography(s)
    at = {pid: i for i, pid in enumerate(geo.places)}
    out = {}
    for z in sorted(zones):
        x, y = geo.xy[at[z]]
        if geo.frame.planar:
            out[z] = {"x": float(x), "y": float(y)}
        else:
            lon, lat = to_lonlat(np.array([x]), np.array([y]), geo.frame.proj)
            out[z] = {"lat": float(lat[0]), "lon": float(lon[0])}
    return out


def duty_text(duty: Duty | None) -> str:
    """'24/7', '10-22 h', '8-17 h mon-fri'."""
    if duty is None:
        return "24/7"
    h0, h1 = duty.hours
    hours = "24 h" if (h0, h1) == (0, 24) else f"{h0:g}-{h1:g} h"
    days = [d for d in _DAYS if d in set(duty.days)]
    if len(days) == 7:
        return "24/7" if hours == "24 h" else hours
    first, last = _DAYS.index(days[0]), _DAYS.index(days[-1])
    if days == list(_DAYS[first : last + 1]):  # consecutive days
        span = f"{days[0]}-{days[-1]}" if len(days) > 1 else days[0]
    else:
        span = ",".join(days)
    return f"{hours} {span}"


def _units(scenario: Scenario, option: str) -> list[dict[str, Any]]:
    units = resolve_option(scenario, option).units
    counts = Counter((u.service, u.station, u.owner, duty_text(u.duty)) for u in units)
    return [
        {"service": s, "station": st, "owner": o, "duty": d, "count": n}
        for (s, st, o, d), n in counts.items()
    ]


def _targets(scenario: Scenario) -> list[dict[str, Any]]:
    region = compile_region(scenario)
    rows = []
    for t in region.types:
        for c, com in enumerate(region.communities):
            m, q = float(t.target_minutes[c]), float(t.target_share[c])
            if np.isnan(m):
                continue
            rows.append(
                {
                    "type": t.id,
                    "service": region.services[t.service],
                    "priority": t.priority,
                    "community": com,
                    "minutes": m,
                    "share": q,
                }
            )
    return rows


def _zones(scenario: Scenario) -> list[dict[str, Any]]:
    """Every demand zone: its community, location, weight, and the community station closest to
    it by trip time, with that station's community: a zone whose closest station is a
    neighbour's lies on the border that automatic aid serves (regional stations of no community
    are left out of that question)."""
    region = compile_region(scenario)
    stations = {c: c for c in scenario.communities}
    stations.update({sid: st.community for sid, st in scenario.stations.items() if st.community})
    station_ids = list(stations)
    places = np.array([region.place_of[sid] for sid in station_ids], dtype=np.int64)
    trips = region.travel[np.ix_(places, region.zone_place)]
    closest = trips.argmin(axis=0)
    xy = region.place_xy[region.zone_place]
    return [
        {
            "id": zid,
            "community": region.communities[int(region.zone_community[z])],
            "x": None if not np.isfinite(xy[z, 0]) else float(xy[z, 0]),
            "y": None if not np.isfinite(xy[z, 1]) else float(xy[z, 1]),
            "weight": float(region.zone_weight[z]),
            "closest_station": station_ids[int(closest[z])],
            "closest_station_community": stations[station_ids[int(closest[z])]],
            "closest_minutes": float(trips[closest[z], z]),
        }
        for z, zid in enumerate(region.zone_ids)
    ]


def surge_records(scenario: Scenario) -> list[dict[str, Any]]:
    """The surges of ``scenario`` as ``region.json`` lists them (times in minutes)."""
    return [
        {
            "name": g.name,
            "start": g.start,
            "end": g.start + g.duration,
            "multiplier": g.multiplier,
            "services": g.services,
            "communities": g.communities,
            "types": g.types,
        }
        for g in scenario.surges
    ]


def region_record(scenario: Scenario) -> dict[str, Any]:
    """The JSON-ready record of ``scenario`` written as ``region.json``."""
    s = scenario
    stations = [
        {
            "id": c,
            "name": com.name or c,
            "community": c,
            "location": _loc(com.location),
            "home": True,
        }
        for c, com in s.communities.items()
    ]
    at_zone = _site_locations(s)

    def site(p: Station | Facility) -> dict[str, float] | None:
        zone = site_zone(p)
        if zone is not None:
            return at_zone[zone]
        return _loc(p.location or (s.communities[p.community].location if p.community else None))

    for sid, st in s.stations.items():
        stations.append(
            {
                "id": sid,
                "name": st.name or sid,
                "community": st.community,
                "location": site(st),
                "home": False,
            }
        )
    facilities = []
    for fid, f in s.facilities.items():
        facilities.append(
            {
                "id": fid,
                "name": f.name or fid,
                "kind": f.kind,
                "community": f.community,
                "location": site(f),
            }
        )
    types = {tid: t.service for tid, t in s.incident_types.items()}
    return {
        "name": s.name,
        "description": s.description,
        "communities": [
            {
                "id": c,
                "name": com.name or c,
                "population": com.population,
                "zone": com.zone,
                "location": _loc(com.location),
            }
            for c, com in s.communities.items()
        ],
        "stations": stations,
        "facilities": facilities,
        "zones": _zones(s),
        "services": [
            {"id": sid, "name": svc.name or sid, "cost_per_unit_hour": svc.cost_per_unit_hour}
            for sid, svc in s.services.items()
        ],
        "options": [
            {
                "id": name,
                "description": opt.description,
                "dispatch": {sid: d.policy for sid, d in _dispatch(s, name).items()},
                "units": _units(s, name),
            }
            for name, opt in s.options.items()
        ],
        "baseline": s.baseline_option,
        "targets": _targets(s),
        "surges": surge_records(s),
        "bursts": [
            {
                "name": b.name,
                "time": b.time,
                "spread": b.spread,
                "community": b.community,
                "type": b.type,
                "service": types[b.type],
                "count": b.count,
            }
            for b in s.bursts
        ],
        "run": {
            "horizon": s.run.horizon,
            "warmup": s.run.warmup,
            "replications": s.run.replications,
            "seed": s.run.seed,
        },
    }


def _dispatch(s: Scenario, option: str) -> dict[str, Any]:
    return resolve_option(s, option).dispatch
