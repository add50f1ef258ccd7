"""Make the zone geometry and travel matrix of the Five Valleys example region.

    python scenarios/five_valleys/make_zones.py

Five Valleys is fictional, so its zones are derived from the geometry the scenario already
states, and every figure below that is not in the scenario is marked [assumption]:

- Region: the five community centres' convex hull (the scenario's locations, km) widened by
  7 km [assumption].
- Zones: the 1.5 km x 1.5 km grid cells of the region (cut at its edge) [assumption: a grid, the
  usual stand-in where postcode data are missing].
- Community territories: each cell belongs to the community minimising distance / weight, the
  weight growing with the fourth root of the population [assumption: a weighted Voronoi
  diagram; towns grew out from their centres, and larger towns reach further], so that, as in
  real regions, some cells at the edge of a large town lie closer to a neighbour's centre.
- Residents per zone: each community's population spread with a density falling exponentially
  with distance from its centre, scale 1.5 km (urban), 2 km (suburban), 3 km (rural), 4 km
  (remote) [assumption], in whole residents that add up to the population.
- Travel minutes between every pair of places (community centres, the hub, zones): straight
  line x 1.3 road detour at 60 km/h, plus 0.5 min to reach the road network at each end
  [assumption]; the same rule the scenario's map locations were placed by, so centre-to-centre
  times stay within about 2 minutes of the scenario's community table. Inside a zone: the mean
  trip from its centre to a uniform point of a disc of its area.

Writes ``zones.gpkg`` (layers ``zones`` and ``communities``; coordinates in the scenario's own
planar km, declared ``crs: local_km`` in the scenario) and ``travel.parquet`` (long form: from,
to, minutes) beside this file. The output is deterministic: running it again gives the same zones,
residents and minutes (the GeoPackage's own timestamps aside).
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import MultiPoint, box

HERE = Path(__file__).resolve().parent
CELL_KM = 1.5
MARGIN_KM = 7.0
DETOUR, SPEED_KMH, ACCESS_MIN = 1.3, 60.0, 0.5
SCALE_KM = {"urban": 1.5, "suburban": 2.0, "rural": 3.0, "remote": 4.0}
COMMUNITIES = {  # the scenario's communities: centre (km), population, settlement kind
    "riverton": ((0.0, 0.0), 60000, "urban"),
    "millbrook": ((2.0, -5.0), 25000, "suburban"),
    "eastfield": ((8.0, -6.5), 15000, "suburban"),
    "hollow_creek": ((14.0, 3.0), 6000, "rural"),
    "pine_ridge": ((24.0, 0.0), 3000, "remote"),
}
OTHER_PLACES = {"hub": (5.0, -6.0)}  # the regional hub station of the scenario


def zones() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The zones (cells with their community and residents) and the territories."""
    centres = np.array([c for c, _, _ in COMMUNITIES.values()])
    ids = list(COMMUNITIES)
    pops = np.array([p for _, p, _ in COMMUNITIES.values()], dtype=float)
    reach = (pops / pops.min()) ** 0.25
    region = MultiPoint([tuple(c) for c in centres]).convex_hull.buffer(MARGIN_KM)
    x0, y0, x1, y1 = region.bounds
    xs = np.arange(math.floor(x0 / CELL_KM) * CELL_KM, x1, CELL_KM)
    ys = np.arange(math.floor(y0 / CELL_KM) * CELL_KM, y1, CELL_KM)
    cells = [box(x, y, x + CELL_KM, y + CELL_KM).intersection(region) for y in ys for x in xs]
    cells = [g for g in cells if g.area > 0.05]  # slivers under 5 ha are left out
    mid = np.array([(g.centroid.x, g.centroid.y) for g in cells])
    dist = np.hypot(mid[:, None, 0] - centres[None, :, 0], mid[:, None, 1] - centres[None, :, 1])
    owner = np.argmin(dist / reach[None, :], axis=1)
    rows = []
    for c, cid in enumerate(ids):
        _, population, kind = COMMUNITIES[cid]
        own = np.flatnonzero(owner == c)
        density = np.exp(-dist[own, c] / SCALE_KM[kind]) * np.array([cells[i].area for i in own])
        share = density / density.sum()
        residents = np.floor(share * population).astype(int)
        rest = population - residents.sum()  # largest remainders get the last residents
        residents[np.argsort(-(share * population - residents), kind="stable")[:rest]] += 1
        for n, (i, count) in enumerate(zip(own, residents, strict=True)):
            rows.append(
                {"id": f"{cid}_{n + 1:03d}", "community": cid, "population": int(count),
                 "geometry": cells[i]}
            )  # fmt: skip
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=None)
    bounds = frame.dissolve(by="community").reset_index()[["community", "geometry"]]
    bounds = bounds.rename(columns={"community": "id"})
    return frame, gpd.GeoDataFrame(bounds, geometry="geometry", crs=None)


def travel(zone_frame: gpd.GeoDataFrame) -> pd.DataFrame:
    ids = list(COMMUNITIES) + list(OTHER_PLACES) + list(zone_frame["id"])
    pts = [c for c, _, _ in COMMUNITIES.values()] + list(OTHER_PLACES.values())
    reps = zone_frame.geometry.representative_point()
    pts += list(zip(reps.x, reps.y, strict=True))
    xy = np.array(pts)
    dist = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    minutes = dist * DETOUR / SPEED_KMH * 60.0 + 2 * ACCESS_MIN
    areas = np.r_[np.full(len(COMMUNITIES) + len(OTHER_PLACES), np.nan), zone_frame.area]
    inside = 2 * np.sqrt(areas / math.pi) / 3 * DETOUR / SPEED_KMH * 60.0 + 2 * ACCESS_MIN
    n = len(ids)
    frm, to = np.repeat(np.arange(n), n), np.tile(np.arange(n), n)
    values = minutes.ravel()
    diag = frm == to
    values[diag] = np.where(np.isnan(inside), 0.0, inside)[frm[diag]]
    keep = ~(diag & np.isnan(inside)[frm])  # community centres and the hub: inline table
    return pd.DataFrame(
        {
            "from": np.array(ids)[frm[keep]],
            "to": np.array(ids)[to[keep]],
            "minutes": np.round(values[keep], 2),
        }
    )


def main() -> None:
    import warnings

    warnings.filterwarnings("ignore", message="'crs' was not provided")  # planar km, on purpose
    zone_frame, bounds = zones()
    out = HERE / "zones.gpkg"
    out.unlink(missing_ok=True)
    zone_frame.to_file(out, layer="zones", driver="GPKG")
    bounds.to_file(out, layer="communities", driver="GPKG")
    travel(zone_frame).to_parquet(HERE / "travel.parquet", index=False)
    print(f"{len(zone_frame)} zones, {len(zone_frame) + 6} places: {out.name}, travel.parquet")  # noqa: T201


if __name__ == "__main__":
    main()
