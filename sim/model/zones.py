"""Demand zones, compiled: where in its community an incident happens.

Every community has zones: its explicit ones (inline or from a file), or one implicit zone
whose id is the community's and whose place is the community's centre (so a scenario without
zones has one zone per community, zone ``c`` at place ``c``). Zones are numbered community by
community, in community order, each community's zones in the order given.

:func:`zone_table` describes the zones for results and maps: ids, communities, km
coordinates, weights and, when polygons were given, their outlines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..schema.geography import Geography, geography
from ..schema.scenario import Scenario
from ..schema.zonechecks import zone_weights

__all__ = ["CompiledZones", "ZoneTable", "compile_zones", "nearest_facilities", "zone_table"]

Choice = tuple[np.ndarray, np.ndarray]  # zone indices of a community, their probabilities


@dataclass(frozen=True)
class CompiledZones:
    ids: tuple[str, ...]  # (Z,)
    community: np.ndarray  # (Z,) int64 community index
    place: np.ndarray  # (Z,) int64 place index
    weight: np.ndarray  # (Z,) float64 base weight (implicit zones: the population)
    choice: tuple[tuple[Choice, ...], ...]  # [c][k]
    explicit: bool  # any explicit zone


def _probabilities(w: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Weights scaled to sum 1; all-zero weights (a type without demand there) fall back to
    the base weights, then to equal shares, so that every row is a distribution."""
    for weights in (w, base):
        total = weights.sum()
        if total > 0:
            return np.asarray(weights / total, dtype=np.float64)
    return np.full(len(w), 1.0 / len(w))


def compile_zones(s: Scenario, geo: Geography | None = None) -> CompiledZones:
    """The zones of every community, and for each (community, incident type) the choice of
    zone: probabilities from the type's weight, else its service's, else the base weight."""
    geo = geo if geo is not None else geography(s)
    explicit = geo.zones
    first_zone_place = len(geo.places) - len(explicit.ids)
    ids: list[str] = []
    community: list[int] = []
    place: list[int] = []
    weight: list[float] = []
    by_type = {tid: zone_weights(explicit, s, tid) for tid in s.incident_types}
    choice: list[tuple[Choice, ...]] = []
    members = np.array(explicit.community)
    for c, (cid, com) in enumerate(s.communities.items()):
        own = np.flatnonzero(members == cid) if len(explicit.ids) else np.zeros(0, np.int64)
        start = len(ids)
        if own.size:
            ids += [explicit.ids[j] for j in own]
            place += [first_zone_place + int(j) for j in own]
            weight += explicit.weight[own].tolist()
        else:
            ids.append(cid)
            place.append(c)
            weight.append(float(com.population))
        community += [c] * (len(ids) - start)
        index = np.arange(start, len(ids), dtype=np.int64)
        base = np.asarray(weight[start:], dtype=np.float64)
        choice.append(
            tuple(
                (index, _probabilities(by_type[tid][own], base) if own.size else np.ones(1))
                for tid in s.incident_types
            )
        )
    return CompiledZones(
        ids=tuple(ids),
        community=np.asarray(community, dtype=np.int64),
        place=np.asarray(place, dtype=np.int64),
        weight=np.asarray(weight, dtype=np.float64),
        choice=tuple(choice),
        explicit=bool(len(explicit.ids)),
    )


def nearest_facilities(
    s: Scenario, travel: np.ndarray, zone_place: np.ndarray, place_of: dict[str, int]
) -> dict[str, np.ndarray]:
    """Kind -> (Z,) place of the facility of that kind with the shortest trip from each zone
    (the first facility in scenario order on a tie)."""
    kinds: dict[str, list[int]] = {}
    for fid, f in s.facilities.items():
        kinds.setdefault(f.kind, []).append(place_of[fid])
    out: dict[str, np.ndarray] = {}
    for kind, places in kinds.items():
        sites = np.asarray(places, dtype=np.int64)
        trips = travel[np.ix_(zone_place, sites)]
        out[kind] = sites[np.argmin(trips, axis=1)]
    return out


@dataclass(frozen=True)
class ZoneTable:
    """Every zone (explicit and implicit, in compiled order), for results and maps."""

    ids: tuple[str, ...]
    community: tuple[str, ...]
    x: np.ndarray  # km in the scenario's frame, NaN for an implicit zone without location
    y: np.ndarray
    weight: np.ndarray  # base weight (implicit zones: the population)
    weights: dict[str, np.ndarray]  # type or service id -> weight, NaN where not given
    explicit: np.ndarray  # bool
    geometry: Any  # GeoSeries in the km frame (polygons, else points), None without polygons
    crs: Any  # the km frame as a pyproj CRS (None when the scenario is planar)
    source_crs: str | None  # the CRS the coordinates were given in (None: planar km)

    def frame(self) -> Any:
        """The table as a pandas DataFrame: zone, community, x_km, y_km, weight, explicit,
        and weight_<key> per weight column."""
        import pandas as pd

        columns: dict[str, Any] = {
            "zone": list(self.ids),
            "community": list(self.community),
            "x_km": self.x,
            "y_km": self.y,
            "weight": self.weight,
            "explicit": self.explicit,
        }
        columns.update({f"weight_{k}": v for k, v in self.weights.items()})
        return pd.DataFrame(columns)


def zone_table(s: Scenario) -> ZoneTable:
    """The zones of ``s`` with their coordinates, weights and outlines."""
    geo = geography(s)
    zones = compile_zones(s, geo)
    explicit = np.array([z in set(geo.zones.ids) for z in zones.ids])
    at = {pid: i for i, pid in enumerate(geo.places)}
    xy = geo.xy[[at[z] for z in zones.ids]] if zones.ids else np.zeros((0, 2))
    slot = np.cumsum(explicit) - 1  # position among the explicit zones
    weights = {
        key: np.where(explicit, values[np.maximum(slot, 0)], np.nan) if len(values) else values
        for key, values in geo.zones.weights.items()
    }
    geometry = None
    if geo.zones.geometry is not None:
        import geopandas as gpd

        points = gpd.points_from_xy(xy[:, 0], xy[:, 1])
        shapes = [
            geo.zones.geometry.iloc[slot[i]]
            if explicit[i]
            else (points[i] if np.isfinite(xy[i]).all() else None)
            for i in range(len(zones.ids))
        ]
        geometry = gpd.GeoSeries(shapes, crs=geo.frame.crs)
    names = tuple(s.communities)
    return ZoneTable(
        ids=zones.ids,
        community=tuple(names[c] for c in zones.community),
        x=xy[:, 0].copy(),
        y=xy[:, 1].copy(),
        weight=zones.weight,
        weights=weights,
        explicit=explicit,
        geometry=geometry,
        crs=geo.frame.crs,
        source_crs=geo.source_crs,
    )
