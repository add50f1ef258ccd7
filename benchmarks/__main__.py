"""``python -m benchmarks [--quick]``: throughput, memory and parallel efficiency, as ratios
measured side by side in one run on this machine.

(a) textbook SimPy M/M/c: a generator process per customer and ``simpy.Resource``;
    c = 10, lambda = 8, mu = 1, 200,000 customers, waits recorded.
(b) intersim on the same workload: pooled, 10 units, zero travel, exponential on-scene time,
    200,000 incidents, all records kept (incident and unit tables).
(c) intersim on Five Valleys, every service and feature on, one simulated year, all options.
(d) a sweep of 40 tasks (Five Valleys: 5 demand levels x 4 options x 2 replications of a
    simulated year) on 1 worker and on all cores: parallel efficiency.
(e) peak memory of a 1,000,000-incident run, in bytes per stored incident.
(f) the MILP stage of ``intersim site``: 500 candidate sites, 2,000 zones, 30 units (a
    synthetic region of 12 towns), the default objective's three best placements, and one
    solve of each other model; 60 s solver time limit per program.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import simpy

ROOT = Path(__file__).resolve().parent.parent
LAMBDA, C, MU = 8.0, 10, 1.0


def textbook_mmc(n: int, seed: int = 1) -> tuple[float, float]:
    """(a): seconds and mean wait of the classic SimPy M/M/c model."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=C)
    waits: list[float] = []

    def customer(env: simpy.Environment):  # type: ignore[no-untyped-def]
        arrived = env.now
        with server.request() as req:
            yield req
            waits.append(env.now - arrived)
            yield env.timeout(rng.exponential(1 / MU))

    def source(env: simpy.Environment):  # type: ignore[no-untyped-def]
        for _ in range(n):
            yield env.timeout(rng.exponential(1 / LAMBDA))
            env.process(customer(env))

    start = time.perf_counter()
    env.process(source(env))
    env.run()
    return time.perf_counter() - start, float(np.mean(waits))


def mmc_scenario(n: int) -> dict[str, object]:
    return {
        "name": "M/M/10 benchmark",
        "communities": {"a": {"population": 1000}},
        "travel": {"matrix": {"a": {"a": 0}}},
        "services": {"s": {"units": [{"station": "a", "count": C}]}},
        "incident_types": {
            "k": {
                "service": "s",
                "rate_per_year": LAMBDA * 525_600,
                "on_scene": {"dist": "exponential", "mean": 1 / MU},
            }
        },
        "run": {"horizon": n / LAMBDA, "replications": 1, "seed": 1},
        "options": {"pooled": {"dispatch": {"all": {"policy": "pooled"}}}},
    }


def intersim_mmc(n: int) -> tuple[float, int, float]:
    """(b): seconds, incidents and mean wait of intersim on the same workload."""
    import sim
    from sim.engine.driver import compile_scenario, run_replication

    compiled = compile_scenario(sim.scenario_from_dict(mmc_scenario(n)))
    start = time.perf_counter()
    incidents, _units, _levels, _help = run_replication(compiled, 0, 1)
    seconds = time.perf_counter() - start
    return seconds, len(incidents), float(incidents["wait"].mean())


def five_valleys() -> tuple[float, int]:
    """(c): seconds and incident-runs (incidents x options) of one simulated year."""
    import sim
    from sim.engine.driver import compile_scenario, run_replication

    compiled = compile_scenario(sim.load_scenario(ROOT / "scenarios" / "five_valleys.yaml"))
    start = time.perf_counter()
    incidents = run_replication(compiled, 0, 1)[0]
    return time.perf_counter() - start, len(incidents)


def peak_memory(n: int) -> dict[str, float]:
    """(e): run in a fresh process; peak RSS growth during the run per stored incident."""
    code = f"""
import json, resource, sys
sys.path.insert(0, {str(ROOT)!r})
import sim
from benchmarks.__main__ import mmc_scenario
from sim.engine.driver import compile_scenario, run_replication
def rss_now():
    with open('/proc/self/statm') as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()
compiled = compile_scenario(sim.scenario_from_dict(mmc_scenario({n})))
run_replication(compile_scenario(sim.scenario_from_dict(mmc_scenario(2000))), 0, 1)  # warm up
base = rss_now()
tables = run_replication(compiled, 0, 1)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({{"incidents": len(tables[0]), "base": base, "peak": peak}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    info = json.loads(out.stdout.strip().splitlines()[-1])
    info["bytes_per_incident"] = (info["peak"] - info["base"]) / info["incidents"]
    return info


def sweep_efficiency(tasks: int, horizon: str | None) -> dict[str, float]:
    """(d): the same sweep of ``tasks`` tasks on 1 worker and on every core. Reports the
    efficiency of running the tasks (the sweep's manifest times them) and of the whole command,
    which also writes the summary and draws the figures in one process."""
    import tempfile

    from sim.sweeps import sweep

    base = ROOT / "scenarios" / "five_valleys.yaml"  # 4 options x 5 points x 2 replications
    params: dict[str, list[object]] = {"demand_scale": [0.8, 0.9, 1.0, 1.1, 1.2]}
    if horizon is not None:
        params["run.horizon"] = [horizon]
    cores = os.cpu_count() or 1
    out: dict[str, float] = {"cores": cores}
    with tempfile.TemporaryDirectory(prefix="intersim-bench-") as tmp:
        for workers in (1, cores):
            target = Path(tmp) / f"w{workers}"
            start = time.perf_counter()
            sweep(
                base, params, replications=tasks // 20, workers=workers, progress=False, out=target
            )
            out[f"wall_{workers}"] = time.perf_counter() - start
            manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
            out[f"tasks_{workers}"] = float(manifest["runtime_s"])
    out["efficiency"] = out["tasks_1"] / (cores * out[f"tasks_{cores}"])
    out["efficiency_wall"] = out["wall_1"] / (cores * out[f"wall_{cores}"])
    return out


def siting_region(seed: int = 1, zones: int = 2000, sites: int = 500, units: int = 30) -> Any:
    """(f): a location problem shaped like a real one: zones on a 1.25 km grid over 70 x 45 km,
    residents around 12 towns of Pareto-distributed sizes, urban zones (within 3 km of a town)
    with an 8-minute target, the rest 18 minutes (reach: 7 and 18 minutes of trip); candidate
    sites drawn by the square root of the residents, today's units at the town centres."""
    from sim.siting.instance import Instance

    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(56) * 1.25, np.arange(36) * 1.25)
    xy = np.column_stack([gx.ravel(), gy.ravel()])[:zones] + rng.uniform(-0.3, 0.3, (zones, 2))
    towns = rng.uniform([5, 5], [65, 40], (12, 2))
    size = rng.pareto(1.2, 12) * 3000 + 1500
    d2 = ((xy[:, None, :] - towns[None, :, :]) ** 2).sum(-1)
    residents = (size[None, :] * np.exp(-np.sqrt(d2) / 2.0)).sum(1) + 20
    centres = np.argmin(d2, axis=0)
    weights = np.sqrt(residents) / np.sqrt(residents).sum()
    drawn = rng.choice(zones, sites, replace=False, p=weights)
    cand = np.concatenate([centres, [z for z in drawn if z not in set(centres)]])[:sites]
    dist = np.sqrt(((xy[cand][:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    share = size / size.sum()
    per_town = np.maximum(1, np.round(share * units)).astype(int)
    while per_town.sum() > units:
        per_town[np.argmax(per_town)] -= 1
    per_town[np.argmax(share)] += units - per_town.sum()
    today = np.zeros(len(cand), dtype=np.int64)
    today[: len(centres)] = per_town
    return Instance(
        sites=tuple(f"s{i}" for i in range(len(cand))),
        zones=tuple(f"z{j}" for j in range(zones)),
        communities=tuple(f"c{k}" for k in range(12)),
        trip=dist * 1.3 + 1.0,  # km x detour at 60 km/h, plus a minute to the road
        demand=residents * 0.01,
        reach=np.where(np.sqrt(d2.min(1)) < 3.0, 7.0, 18.0),
        community=np.argmin(d2, axis=1),
        units=units,
        busy=0.25,
        today=today,
    )


def siting_stage(quick: bool = False) -> list[tuple[str, float, str]]:
    """(f): seconds of the default stage (3 placements) and of one solve of each other model
    (``quick``: 100 sites, 400 zones, 10 units)."""
    from sim.siting.models import Rules, solve_model
    from sim.siting.placements import OBJECTIVES, best_placements

    inst = siting_region(zones=400, sites=100, units=12) if quick else siting_region()
    out = []
    start = time.perf_counter()
    found = best_placements(inst, Rules(), "within_target", 3, service="s", time_limit=60)
    status = ", ".join(f"{p.status}" + (f" gap {p.gap:.2%}" if p.gap > 1e-4 else "") for p in found)
    out.append(("within_target (MEXCLP), 3 placements", time.perf_counter() - start, status))
    for objective in ("coverage", "mean", "p90"):
        start = time.perf_counter()
        f = solve_model(inst, Rules(), OBJECTIVES[objective], time_limit=60)
        status = f.status + (f", gap {f.gap:.2%}" if f.gap > 1e-4 else "")
        out.append(
            (
                f"{objective} ({OBJECTIVES[objective]}), 1 placement",
                time.perf_counter() - start,
                status,
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="smaller workloads (a smoke test)")
    parser.add_argument("--skip", default="", help="comma list of parts to skip, e.g. d,e")
    parser.add_argument("--repeat", type=int, default=3, help="runs of (a) and (b); best kept")
    args = parser.parse_args(argv)
    from sim.analysis.queueing import mmc_mean_wait

    n = 20_000 if args.quick else 200_000
    skip = set(args.skip.split(",")) - {""}
    rows: list[tuple[str, str]] = []
    theory = mmc_mean_wait(C, LAMBDA, 1 / MU)
    # (a) and (b) alternate, best of --repeat runs each: the least disturbed measurement
    ta = tb = float("inf")
    for _ in range(args.repeat):
        seconds, wait_a = textbook_mmc(n)
        ta = min(ta, seconds)
        seconds, nb, wait_b = intersim_mmc(n)
        tb = min(tb, seconds)
    rate_a, rate_b = n / ta, nb / tb
    rows += [
        (
            "(a) textbook SimPy M/M/10",
            f"{rate_a:,.0f} customers/s ({ta:.2f} s), mean wait {wait_a:.4f}",
        ),
        (
            "(b) intersim, same workload",
            f"{rate_b:,.0f} incidents/s ({tb:.2f} s), mean wait {wait_b:.4f}",
        ),
        ("    Erlang C mean wait", f"{theory:.4f}"),
        ("    (b)/(a) throughput", f"{rate_b / rate_a:.2f}x   (target >= 1.5)"),
    ]
    if "c" not in skip:
        tc, nc = min(five_valleys() for _ in range(args.repeat))
        rows += [
            (
                "(c) Five Valleys, 1 year, 4 options",
                f"{nc / tc:,.0f} incidents/s ({nc:,} incident-runs, {tc:.1f} s)",
            ),
            ("    (c)/(a) per incident", f"{nc / tc / rate_a:.2f}x   (target >= 0.5)"),
        ]
    if "d" not in skip:
        d = sweep_efficiency(40, "30 d" if args.quick else None)  # a task: one simulated year
        cores = int(d["cores"])
        rows += [
            (
                "(d) sweep of 40 tasks, running them",
                f"1 worker {d['tasks_1']:.1f} s, {cores} workers {d[f'tasks_{cores}']:.1f} s",
            ),
            ("    parallel efficiency", f"{d['efficiency']:.0%}   (target >= 85 %)"),
            (
                "    whole command (+ summary, figures)",
                f"1 worker {d['wall_1']:.1f} s, {cores} workers {d[f'wall_{cores}']:.1f} s: "
                f"{d['efficiency_wall']:.0%}",
            ),
        ]
    if "e" not in skip:
        e = peak_memory(100_000 if args.quick else 1_000_000)
        rows += [
            (
                f"(e) peak memory, {e['incidents']:,} incidents",
                f"{e['bytes_per_incident']:.0f} bytes/incident   (target <= 200)",
            ),
        ]
    if "f" not in skip:
        size = "100 x 400 x 12" if args.quick else "500 x 2,000 x 30"
        for i, (what, seconds, status) in enumerate(siting_stage(args.quick)):
            label = f"(f) site MILP, {size}" if i == 0 else ""
            rows.append(
                (
                    label or "",
                    f"{what}: {seconds:.1f} s ({status})"
                    + ("   (target < 60 s)" if i == 0 else ""),
                )
            )
    width = max(len(k) for k, _ in rows)
    machine = platform.processor() or platform.machine()
    version = platform.python_version()
    print(f"intersim benchmarks on {machine}, {os.cpu_count()} cores, Python {version}")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
