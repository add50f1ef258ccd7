"""Synthetic regions for the scaling benchmarks: a grid of square communities, each with
40 zones on a jittered grid, two stations of its own and a share of a pooled fleet of one
service, loaded to about 60 % whatever its size, so that only the size of the region grows:
cost per incident should not.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

STATIONS_PER_COMMUNITY = 2
ZONES_PER_COMMUNITY = 40
SIDE_KM = 10.0  # a community is a SIDE_KM square
ON_SCENE_MIN = 30.0
UTILISATION = 0.6  # of the fleet, on scene and travelling (about)


def grid_region(communities: int, units: int, incidents: int, seed: int = 1) -> dict[str, Any]:
    """A pooled region of ``communities`` square towns, ``units`` units spread evenly over two
    stations in each, and about ``incidents`` calls."""
    n_com = communities
    cols = math.ceil(math.sqrt(n_com))
    rng = np.random.default_rng(seed)
    communities_, stations, zones, groups = {}, {}, {}, []
    side = math.ceil(math.sqrt(ZONES_PER_COMMUNITY))
    n_stations = n_com * STATIONS_PER_COMMUNITY
    for c in range(n_com):
        x0, y0 = (c % cols) * SIDE_KM, (c // cols) * SIDE_KM
        cid = f"c{c}"
        centre = {"x": x0 + SIDE_KM / 2, "y": y0 + SIDE_KM / 2}
        communities_[cid] = {"population": 20_000, "location": centre, "area_km2": SIDE_KM**2}
        for k in range(STATIONS_PER_COMMUNITY):
            sid = f"{cid}_s{k}"
            spot = {"x": x0 + SIDE_KM * (k + 1) / 3, "y": y0 + SIDE_KM / 2}
            stations[sid] = {"community": cid, "location": spot}
            number = c * STATIONS_PER_COMMUNITY + k
            count = units // n_stations + (number < units % n_stations)
            if count:
                groups.append({"station": sid, "count": count})
        for z in range(ZONES_PER_COMMUNITY):
            gx, gy = (z % side + 0.5) / side, (z // side + 0.5) / side
            jitter = rng.uniform(-0.3, 0.3, 2) / side
            zones[f"{cid}_z{z}"] = {
                "community": cid,
                "location": {
                    "x": x0 + SIDE_KM * (gx + jitter[0]),
                    "y": y0 + SIDE_KM * (gy + jitter[1]),
                },
                "weight": int(rng.integers(100, 2000)),
            }
    fleet = units
    busy_min = ON_SCENE_MIN + 12.0  # on scene plus a typical trip
    rate_per_min = UTILISATION * fleet / busy_min
    horizon_min = incidents / rate_per_min
    return {
        "name": f"grid region, {fleet} units",
        "communities": communities_,
        "stations": stations,
        "zones": zones,
        "travel": {"speed_kmh": 60, "detour_factor": 1.3},
        "services": {"amb": {"units": groups}},
        "incident_types": {
            "call": {
                "service": "amb",
                "rate_per_year": rate_per_min * 525_600 / n_com,
                "on_scene": {"dist": "exponential", "mean": ON_SCENE_MIN},
            }
        },
        "run": {"horizon": horizon_min, "warmup": 0, "replications": 1, "seed": seed},
        "options": {"pooled": {"dispatch": {"all": {"policy": "pooled"}}}},
    }


def grid_run(communities: int, units: int, incidents: int) -> dict[str, float]:
    """Compile and run one replication of :func:`grid_region`: seconds of each stage."""
    import sim
    from sim.engine.driver import compile_scenario, run_replication

    data = grid_region(communities, units, incidents)
    start = time.perf_counter()
    compiled = compile_scenario(sim.scenario_from_dict(data))
    compiled_s = time.perf_counter() - start
    start = time.perf_counter()
    tables = run_replication(compiled, 0, 1)
    run_s = time.perf_counter() - start
    return {
        "units": float(sum(g["count"] for g in data["services"]["amb"]["units"])),
        "zones": float(len(data["zones"])),
        "incidents": float(len(tables[0])),
        "compile_s": compiled_s,
        "run_s": run_s,
        "wait_share": float((tables[0]["wait"] > 0).mean()),
    }


def matrix_load(zones: int, folder: Path) -> dict[str, float]:
    """Write a long-form ``zones`` x ``zones`` Parquet matrix and time reading it back."""
    from sim.schema.matrixfile import read_matrix_file

    rng = np.random.default_rng(3)
    ids = np.array([f"z{i}" for i in range(zones)])
    src, dst = np.meshgrid(np.arange(zones), np.arange(zones), indexing="ij")
    table = pd.DataFrame(
        {
            "from": ids[src.ravel()],
            "to": ids[dst.ravel()],
            "minutes": rng.uniform(1, 60, zones * zones).astype(np.float32),
        }
    )
    path = folder / f"matrix_{zones}.parquet"
    table.to_parquet(path, index=False)
    start = time.perf_counter()
    rows = read_matrix_file(str(path))
    seconds = time.perf_counter() - start
    return {"pairs": float(zones * zones), "ids": float(len(rows.ids)), "seconds": seconds}


def zone_memory(communities: int, units: int, incidents: int) -> dict[str, float]:
    """In a fresh process: memory of the compiled region per zone, and the peak growth of one
    run per stored incident (incident and unit tables kept)."""
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    code = f"""
import json, sys
sys.path.insert(0, {str(root)!r})
import sim
from benchmarks.memory import peak_rss, rss_now as rss
from benchmarks.regions import grid_region
from sim.engine.driver import compile_scenario, run_replication
data = grid_region({communities}, {units}, {incidents})
scenario = sim.scenario_from_dict(data)
run_replication(compile_scenario(sim.scenario_from_dict(grid_region(1, 10, 2000))), 0, 1)
before = rss()
compiled = compile_scenario(scenario)
after = rss()
tables = run_replication(compiled, 0, 1)
peak = peak_rss()
print(json.dumps({{"zones": len(data["zones"]), "incidents": len(tables[0]),
                  "compiled": after - before, "run": peak - after}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    info: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    info["bytes_per_zone"] = info["compiled"] / info["zones"]
    info["bytes_per_incident"] = info["run"] / info["incidents"]
    return info


def engine_cost(scenario: Any) -> float:
    """CPU seconds per incident of the engine alone on a scenario's first option, its second
    run in the process (preference lists and ways back already sorted, as in every
    replication after the first)."""
    from sim.engine.demand import generate_incidents
    from sim.engine.driver import compile_scenario
    from sim.engine.loop import simulate

    compiled = compile_scenario(scenario)
    fleet = next(iter(compiled.fleets.values()))
    calls = generate_incidents(compiled.region, 1, 0)
    simulate(compiled.region, fleet, calls)
    start = time.process_time()
    simulate(compiled.region, fleet, calls)
    return (time.process_time() - start) / len(calls)
