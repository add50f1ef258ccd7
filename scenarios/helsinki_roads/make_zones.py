"""Make the zones of the Helsinki road-network example.

    python scenarios/helsinki_roads/make_zones.py

The roads are real (``roads.osm.pbf``, see ``SOURCE.md``); everything else in the example is
made up to show the road network at work, and marked [assumption]:

- Zones: the points of a 150 m grid over the extent of the extract's drivable roads, inset by
  75 m [assumption: a grid, the usual stand-in where postcode data are missing].
- Two districts: west and east of longitude 24.944 E [assumption: not Helsinki's real district
  boundaries].
- Residents per zone: 100 [assumption: even demand, so that the maps show travel alone].

Writes ``zones.csv`` (id, community, lon, lat, weight) beside this file. The output is
deterministic.
"""

from __future__ import annotations

import math
from pathlib import Path

HERE = Path(__file__).resolve().parent
LON0, LAT0 = 24.9436, 60.1716  # centre of the extract's roads
SPACING_M = 150.0
HALF_X_M, HALF_Y_M = 420.0, 750.0  # the roads span about 1.0 km x 1.66 km
BORDER_LON = 24.944
WEIGHT = 100
EARTH_RADIUS_M = 6_371_008.8


def lonlat(x_m: float, y_m: float) -> tuple[float, float]:
    per_degree = EARTH_RADIUS_M * math.pi / 180.0
    return LON0 + x_m / (per_degree * math.cos(math.radians(LAT0))), LAT0 + y_m / per_degree


def main() -> None:
    rows = ["id,community,lon,lat,weight"]
    nx, ny = int(2 * HALF_X_M // SPACING_M) + 1, int(2 * HALF_Y_M // SPACING_M) + 1
    for j in range(ny):
        for i in range(nx):
            lon, lat = lonlat(-HALF_X_M + i * SPACING_M, -HALF_Y_M + j * SPACING_M)
            side = "west_side" if lon < BORDER_LON else "east_side"
            rows.append(f"z{j:02d}{i:02d},{side},{lon:.6f},{lat:.6f},{WEIGHT}")
    (HERE / "zones.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
