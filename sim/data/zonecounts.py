"""Zones in ``calibrate``: calls per zone, how well the zones' weights fit them, the speed of
trips to the zones, and the zone file written beside the calibrated scenario.

``calibrate --zones FILE`` places every incident of the log at a zone (the one it names, or
the nearest to its coordinates: :mod:`sim.data.zones`). The calibrated scenario gets these
zones in a file of its own (``SCENARIO.zones.csv``, or ``.gpkg`` when the zones have
polygons) with the calls counted in each zone, in all and per service. Their weights are the
zone file's (``--zone-weights file``, the default: residents are a steadier guide to where
calls happen than a short log), or the log's counts (``--zone-weights calls``): then every
service's calls are spread like its own logged calls, and a zone without a call gets none. A
community none of whose calls has a zone keeps the file's weights, and says so.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from ..schema.geo import LONLAT, to_lonlat
from .communities import Community, Resolver
from .log import Log, minutes_between
from .travel import DETOUR, MIN_TRIPS
from .zones import ZonePoints

__all__ = [
    "ZONE_WEIGHTS",
    "ZoneCounts",
    "community_fit",
    "count_zones",
    "located_communities",
    "write_zone_file",
    "zone_file_path",
    "zone_frame",
]

ZONE_WEIGHTS = ("file", "calls")
MIN_EXPECTED = 5.0  # a chi-square test needs about this many expected calls in most zones


@dataclass(frozen=True)
class ZoneCounts:
    """The zones of a calibration (communities as calibrated ids) and the log's calls in
    them; ``speed`` is the km/h fitted to trips from a unit's home to an incident's zone,
    with the number of trips (None without such trips)."""

    zones: ZonePoints
    calls: np.ndarray  # (Z,) calls per zone
    by_service: dict[str, np.ndarray]  # calibrated service id -> (Z,) calls
    unplaced: int  # incidents without a zone
    mode: str  # "file" or "calls": where the written weights come from
    speed: tuple[float, int] | None

    def weights(self) -> tuple[np.ndarray, dict[str, np.ndarray], list[str]]:
        """The zone weights written (base, per service: NaN falls back to the base), and the
        communities that keep the file's weights for want of calls with a zone."""
        base = np.asarray(self.zones.weight, dtype=np.float64)
        if self.mode == "file":
            return base, {}, []
        members = np.array(self.zones.community, dtype=object)
        kept: list[str] = []
        out = self.calls.astype(np.float64)
        for c in dict.fromkeys(self.zones.community):
            mine = members == c
            if out[mine].sum() == 0:
                out[mine] = base[mine]
                kept.append(c)
        per_service = {}
        for sid, calls in self.by_service.items():
            w = calls.astype(np.float64)
            for c in dict.fromkeys(self.zones.community):
                mine = members == c
                if w[mine].sum() == 0:
                    w[mine] = np.nan  # the zone's weight, in proportion
            per_service[sid] = w
        return out, per_service, kept


def count_zones(
    log: Log, kinds: pd.DataFrame, mode: str, communities: list[Community]
) -> ZoneCounts:
    """Calls per zone of ``log`` (read with zones), in all and per service of ``kinds``, and
    the speed of trips to them from the ``communities``' locations."""
    assert log.zones is not None, "the log was read with zones"
    zones = log.zones
    index = {z: i for i, z in enumerate(zones.ids)}
    inc = log.incidents
    at = np.array([index.get(z, -1) if isinstance(z, str) else -1 for z in inc["zone"]])
    placed = at >= 0
    calls = np.bincount(at[placed], minlength=len(zones))
    by_service = {
        str(sid): np.bincount(
            at[placed & (kinds["service"] == sid).to_numpy()], minlength=len(zones)
        )
        for sid in sorted(kinds["service"].unique())
    }
    return ZoneCounts(
        zones, calls, by_service, int((~placed).sum()), mode, _speed(log, communities, at)
    )


def _speed(log: Log, communities: list[Community], at: np.ndarray) -> tuple[float, int] | None:
    """Median km/h (straight line x detour) of the first units' trips from their home
    community's location to the incident's zone."""
    inc = log.incidents
    zones = log.zones
    assert zones is not None
    if "unit_home" not in inc or not {"en_route", "on_scene"} <= set(log.stages):
        return None
    home = Resolver(communities).names(inc["unit_home"]).to_numpy(dtype=object)
    xy = _community_xy(communities, zones)
    start = np.array([xy.get(h, (np.nan, np.nan)) for h in home], dtype=np.float64).reshape(-1, 2)
    end = np.where((at >= 0)[:, None], zones.xy[np.maximum(at, 0)], np.nan)
    km = np.hypot(*(end - start).T) * DETOUR
    minutes = minutes_between(inc["on_scene"], inc["en_route"])
    ok = np.isfinite(km) & (km > 0) & np.isfinite(minutes) & (minutes > 0)
    if ok.sum() < MIN_TRIPS:
        return None
    return float(np.median(km[ok] / minutes[ok] * 60.0)), int(ok.sum())


def _community_xy(
    communities: list[Community], zones: ZonePoints
) -> dict[str, tuple[float, float]]:
    """Located communities in the zones' frame."""
    out = {}
    for c in communities:
        if c.x is not None and c.y is not None and zones.frame.planar:
            out[c.id] = (c.x, c.y)
        elif c.lat is not None and c.lon is not None and not zones.frame.planar:
            x, y = zones.frame.project([c.lon], [c.lat], LONLAT)
            out[c.id] = (float(x[0]), float(y[0]))
    return out


def located_communities(
    communities: list[Community], zones: ZonePoints, notes: list[str]
) -> tuple[list[Community], dict[str, str]]:
    """The communities, each without a location placed at the demand-weighted centre of its
    zones (its station's place), and a comment per community so placed. InputError when the
    communities' coordinates are of the other kind than the zones'."""
    geo = not zones.frame.planar
    wrong = [c for c in communities if c.located and ((c.lat is not None) != geo)]
    if wrong:
        kinds = ("lon/lat", "x/y km") if geo else ("x/y km", "lon/lat")
        raise InputError(
            f"--zones: the zones of {zones.source} are in {kinds[0]}, but community "
            f"'{wrong[0].id}' is located by {kinds[1]}: use one kind of coordinates"
        )
    members = np.array(zones.community, dtype=object)
    weight = np.asarray(zones.weight, dtype=np.float64)
    out, comments = [], {}
    for c in communities:
        mine = (members == c.id) & np.isfinite(zones.xy).all(axis=1)
        if c.located:
            out.append(c)
            continue
        if not mine.any():
            raise InputError(
                f"--zones: community '{c.name}' has no zone in {zones.source} and no location: "
                "give its location in --communities (its units' trips to the zones need one)"
            )
        w = weight[mine] if weight[mine].sum() > 0 else np.ones(int(mine.sum()))
        x, y = np.average(zones.xy[mine], axis=0, weights=w)
        if geo:
            lon, lat = to_lonlat(np.array([x]), np.array([y]), zones.frame.proj)
            out.append(replace(c, lat=round(float(lat[0]), 7), lon=round(float(lon[0]), 7)))
        else:
            out.append(replace(c, x=round(float(x), 4), y=round(float(y), 4)))
        comments[c.id] = (
            "location unknown: the demand-weighted centre of its zones, where its units are "
            "based [assumption]; FILL IN"
        )
    if comments:
        notes.append(
            f"{len(comments)} community(ies) without a location placed at the centre of their "
            "zones [assumption]"
        )
    return out, comments


def community_fit(counts: ZoneCounts) -> pd.DataFrame:
    """Per community: zones, calls, zones with calls, and whether the calls are spread like
    the zone file's weights (chi-square test; too few calls to say when fewer than 80 % of
    its zones expect :data:`MIN_EXPECTED` calls)."""
    z = counts.zones
    members = np.array(z.community, dtype=object)
    weight = np.asarray(z.weight, dtype=np.float64)
    rows = []
    for c in dict.fromkeys(z.community):
        mine = members == c
        n, w = counts.calls[mine], weight[mine]
        total = int(n.sum())
        p: float | None = None
        if total and mine.sum() > 1 and w.sum() > 0:
            expected = total * w / w.sum()
            positive = expected > 0
            enough = (expected[positive] >= MIN_EXPECTED).mean() >= 0.8
            if enough and not (n[~positive] > 0).any():
                p = float(stats.chisquare(n[positive], expected[positive]).pvalue)
        rows.append(
            {
                "community": c,
                "zones": int(mine.sum()),
                "calls": total,
                "zones with calls": int((n > 0).sum()),
                "spread like the weights (chi-square p)": p,
            }
        )
    return pd.DataFrame(rows)


def zone_frame(counts: ZoneCounts) -> pd.DataFrame:
    """The zone table written beside the scenario: id, community, coordinates (x/y km, or
    lon/lat), weight, calls and calls per service."""
    z = counts.zones
    weight, per_service, _ = counts.weights()
    table: dict[str, Any] = {"id": list(z.ids), "community": list(z.community)}
    lonlat = z.lonlat()
    if lonlat is None:
        table["x"], table["y"] = np.round(z.xy[:, 0], 4), np.round(z.xy[:, 1], 4)
    else:
        table["lon"], table["lat"] = np.round(lonlat[0], 7), np.round(lonlat[1], 7)
    table["weight"] = weight
    table["calls"] = counts.calls
    for sid, calls in counts.by_service.items():
        table[f"calls_{sid}"] = calls
        if sid in per_service:
            table[f"weight_{sid}"] = per_service[sid]
    return pd.DataFrame(table)


def zone_file_path(out: Path, counts: ZoneCounts) -> Path:
    """``SCENARIO.zones.csv`` beside the scenario, ``.gpkg`` when the zones have polygons."""
    suffix = ".gpkg" if _polygons(counts.zones) is not None else ".csv"
    return out.with_name(f"{out.stem}.zones{suffix}")


def _polygons(zones: ZonePoints) -> Any:
    g = zones.geometry
    if g is None or not g.geom_type.isin(("Polygon", "MultiPolygon")).any():
        return None
    return g


def write_zone_file(counts: ZoneCounts, path: Path) -> None:
    """Write the zone table (atomically): CSV, or a GeoPackage with the zones' outlines (in
    EPSG:4326 for geographic zones, planar km otherwise)."""
    frame = zone_frame(counts)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")
    try:
        if path.suffix == ".gpkg":
            import geopandas as gpd

            geometry = _polygons(counts.zones).reset_index(drop=True)
            if counts.zones.frame.planar:  # km, which no CRS names: the scenario says crs: km
                layer = gpd.GeoDataFrame(
                    frame, geometry=geometry.set_crs(None, allow_override=True)
                )
            else:
                layer = gpd.GeoDataFrame(frame, geometry=geometry).to_crs(LONLAT)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
                layer.to_file(tmp, layer="zones", driver="GPKG", engine="pyogrio")
        else:
            frame.to_csv(tmp, index=False, lineterminator="\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(f"--out: cannot write {path}: {exc.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)
