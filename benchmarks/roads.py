"""(i) of ``python -m benchmarks``: the travel matrix of 2,000 zones and 50 stations on a
generated road network of 100,000 road segments (a 224 x 224 grid of two-way streets, every
fourth a primary road, one in seven one-way: about 200,000 directed arcs), built cold from the
OpenStreetMap XML file (read, graph, snapping, shortest paths), then read back from the cache.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

SPACING_M = 100.0
LAT0, LON0 = 60.0, 25.0
EARTH_RADIUS_M = 6_371_008.8


def _lonlat(x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    per_degree = EARTH_RADIUS_M * math.pi / 180.0
    return LON0 + x_m / (per_degree * math.cos(math.radians(LAT0))), LAT0 + y_m / per_degree


def write_grid(path: Path, n: int) -> int:
    """An n x n grid of junctions as OpenStreetMap XML; the number of road segments."""
    idx = np.arange(n * n).reshape(n, n)
    lon, lat = _lonlat((idx % n) * SPACING_M, (idx // n) * SPACING_M)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="bench">']
    lines += [
        f'<node id="{i + 1}" lat="{a:.7f}" lon="{o:.7f}"/>'
        for i, (a, o) in enumerate(zip(lat.ravel(), lon.ravel(), strict=True))
    ]
    way = 0
    for k in range(n):
        for refs in (idx[k, :], idx[:, k]):
            way += 1
            tags = {"highway": "primary" if k % 4 == 0 else "residential"}
            if k % 7 == 3:
                tags["oneway"] = "yes"
            if k % 4 == 0:
                tags["maxspeed"] = "50"
            nds = "".join(f'<nd ref="{r + 1}"/>' for r in refs)
            tg = "".join(f'<tag k="{a}" v="{b}"/>' for a, b in tags.items())
            lines.append(f'<way id="{way}">{nds}{tg}</way>')
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 2 * n * (n - 1)


def _scenario(extract: Path, n: int, zones: int, stations: int) -> dict[str, Any]:
    rng = np.random.default_rng(2)
    span = (n - 1) * SPACING_M

    def points(k: int) -> list[dict[str, float]]:
        lon, lat = _lonlat(rng.uniform(0, span, k), rng.uniform(0, span, k))
        return [{"lat": float(a), "lon": float(o)} for a, o in zip(lat, lon, strict=True)]

    centre = points(2)
    return {
        "name": "road benchmark",
        "communities": {
            c: {"population": 50_000, "location": centre[i], "area_km2": 200}
            for i, c in enumerate(("west", "east"))
        },
        "stations": {
            f"s{i}": {"community": "west" if i % 2 else "east", "location": p}
            for i, p in enumerate(points(stations))
        },
        "zones": {
            f"z{i}": {"community": "west" if i % 2 else "east", "location": p}
            for i, p in enumerate(points(zones))
        },
        "travel": {"road_network": {"file": str(extract)}, "speed_kmh": 40},
        "services": {"amb": {"units": [{"station": "s0"}, {"station": "s1"}]}},
        "incident_types": {"med": {"service": "amb", "rate_per_year": 10, "on_scene": 20}},
        "run": {"horizon": "1 d", "replications": 1, "seed": 1},
    }


def road_matrix(quick: bool) -> dict[str, float]:
    """Seconds to build the matrix cold (wall clock and CPU: on a shared machine the wall
    clock includes the time other processes took) and to read it from the cache; sizes."""
    import sim
    from sim.model.roads import road_travel

    n, zones, stations = (80, 400, 20) if quick else (224, 2000, 50)
    with tempfile.TemporaryDirectory(prefix="intersim-roads-") as tmp:
        extract = Path(tmp) / "grid.osm"
        segments = write_grid(extract, n)
        before = os.environ.get("INTERSIM_CACHE_DIR")
        os.environ["INTERSIM_CACHE_DIR"] = str(Path(tmp) / "cache")
        try:
            s = sim.scenario_from_dict(_scenario(extract, n, zones, stations))
            start, cpu = time.perf_counter(), time.process_time()
            cold = road_travel(s)
            built, built_cpu = time.perf_counter() - start, time.process_time() - cpu
            start = time.perf_counter()
            warm = road_travel(sim.scenario_from_dict(_scenario(extract, n, zones, stations)))
            cached = time.perf_counter() - start
        finally:
            if before is None:
                del os.environ["INTERSIM_CACHE_DIR"]
            else:
                os.environ["INTERSIM_CACHE_DIR"] = before
    assert warm.cached, "the second build reads the cache"
    assert not cold.cached, "the first build computes"
    return {
        "segments": segments,
        "arcs": cold.arcs,
        "places": len(cold.places),
        "built": built,
        "built_cpu": built_cpu,
        "cached": cached,
    }
