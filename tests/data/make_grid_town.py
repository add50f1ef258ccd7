"""Write ``grid_town.osm``: a small synthetic OpenStreetMap extract for the tests.

Grid Town is fictional: 7 x 7 junctions 200 m apart (north-south streets and east-west
streets), near 46.95 N, 7.45 E. It has what a real extract has, on purpose:

- a primary road (row 3, ``maxspeed=50``) across the residential streets (some ``maxspeed=30``,
  the rest untagged, so the default speed of their class applies);
- a one-way street (column 2, ``oneway=yes`` northward) and one tagged against its node order
  (column 5, ``oneway=-1``), so that trips are not symmetric;
- a service road, a living street, a ``maxspeed`` given in mph;
- roads that are not drivable: a footway, a cycleway, a road under construction and a street
  with ``access=no``;
- a dead-end one-way piece east of the grid (a strongly connected piece of its own, dropped);
- a node referenced by a way but missing from the file (as at the edge of a cut extract).

Run ``python tests/data/make_grid_town.py`` to write the file again; the output is
deterministic.
"""

from __future__ import annotations

import math
from pathlib import Path

LAT0, LON0 = 46.95, 7.45
SPACING_M = 200.0
N = 7
EARTH_RADIUS_M = 6_371_008.8
OUT = Path(__file__).with_name("grid_town.osm")


def lonlat(x_m: float, y_m: float) -> tuple[float, float]:
    """Longitude and latitude of a point ``x_m`` east and ``y_m`` north of the origin."""
    per_degree = EARTH_RADIUS_M * math.pi / 180.0
    return LON0 + x_m / (per_degree * math.cos(math.radians(LAT0))), LAT0 + y_m / per_degree


def node_id(col: int, row: int) -> int:
    return 1000 + row * N + col


def main() -> None:
    nodes: dict[int, tuple[float, float]] = {}
    for row in range(N):
        for col in range(N):
            nodes[node_id(col, row)] = lonlat(col * SPACING_M, row * SPACING_M)
    # the dead-end one-way piece east of the grid: 2 nodes, reachable but not leaving
    nodes[5001] = lonlat((N - 1) * SPACING_M + 150.0, 3 * SPACING_M + 60.0)
    nodes[5002] = lonlat((N - 1) * SPACING_M + 300.0, 3 * SPACING_M + 120.0)
    ways: list[tuple[list[int], dict[str, str]]] = []
    for row in range(N):
        refs = [node_id(c, row) for c in range(N)]
        if row == 3:
            tags = {"highway": "primary", "maxspeed": "50", "name": "Main Road"}
        elif row == 0:
            tags = {"highway": "residential", "maxspeed": "20 mph"}
        elif row == 6:
            tags = {"highway": "service"}
        else:
            tags = {"highway": "residential", **({"maxspeed": "30"} if row % 2 else {})}
        ways.append((refs, tags))
    for col in range(N):
        refs = [node_id(col, r) for r in range(N)]
        if col == 2:
            tags = {"highway": "residential", "oneway": "yes", "name": "North Street"}
        elif col == 5:
            tags = {"highway": "residential", "oneway": "-1", "name": "South Street"}
        elif col == 6:
            tags = {"highway": "living_street"}
        else:
            tags = {"highway": "residential"}
        ways.append((refs, tags))
    # not drivable
    ways.append(([node_id(0, 0), node_id(1, 1), node_id(2, 2)], {"highway": "footway"}))
    ways.append(([node_id(4, 4), node_id(5, 5)], {"highway": "cycleway"}))
    ways.append(([node_id(1, 5), node_id(2, 4)], {"highway": "construction"}))
    ways.append(([node_id(4, 1), node_id(5, 2)], {"highway": "residential", "access": "no"}))
    # drivable but a dead end: the grid reaches it, it reaches nothing
    ways.append(([node_id(6, 3), 5001, 5002], {"highway": "tertiary", "oneway": "yes"}))
    # a way leaving the extract: its last node is not in the file
    ways.append(([node_id(0, 6), 9999], {"highway": "residential"}))
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<osm version="0.6" generator="tests/data/make_grid_town.py">',
    ]
    for nid, (lon, lat) in nodes.items():
        lines.append(f'  <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for k, (refs, tags) in enumerate(ways):
        lines.append(f'  <way id="{100 + k}" version="1">')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f'    <tag k="{key}" v="{value}"/>' for key, value in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
