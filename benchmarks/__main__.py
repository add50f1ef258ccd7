"""``python -m benchmarks [--quick]``: throughput, memory and parallel efficiency, as ratios
measured side by side in one run on this machine.

(a) textbook SimPy M/M/c: a generator process per customer and ``simpy.Resource``;
    c = 10, lambda = 8, mu = 1, 200,000 customers, waits recorded.
(b) intersim on the same workload: pooled, 10 units, zero travel, exponential on-scene time,
    200,000 incidents, all records kept (incident and unit tables).
(c) intersim on Five Valleys, every service and feature on, one simulated year, all options.
(d) a sweep of 40 tasks (Five Valleys: 5 demand levels x 4 options x 2 replications of a
    simulated year) on 1 worker and on all cores, each a fresh ``intersim sweep`` command,
    the pair repeated: parallel efficiency (benchmarks/parallel.py).
(e) peak memory of a 1,000,000-incident run, in bytes per stored incident.
(f) pooled grid regions of 10, 400 and 1,000 units (1, 50 and 125 towns of 40 zones, about 60 %
    busy): engine cost per incident, against the 10-unit region and against (b)'s workload,
    each in a fresh process.
(g) zones at scale: compiling the 400-unit, 2,000-zone region; loading a 1,000-zone matrix
    file (1,000,000 pairs, Parquet); memory per zone and per incident of that region.
(h) the figure stage of a 200-community, 1,000-zone comparison: seconds, largest SVG.
(i) the road-network travel matrix of 2,000 zones and 50 stations on 100,000 road segments
    (benchmarks/roads.py), built cold and read from the cache.
(j) the MILP stage of ``intersim site``: 500 candidate sites, 2,000 zones, 30 units (a
    synthetic region of 12 towns, benchmarks/siting.py), the default objective's three best
    placements, and one solve of each other model; 60 s solver time limit per program.
(k) move-up: the engine's time per incident on Five Valleys ambulance with the compliance
    table and the coverage policy, against no relocation (benchmarks/moveup.py).
(m) the main job: ``intersim compare scenarios/five_valleys.yaml`` run as a command
    (benchmarks/mainjob.py), its wall time and each stage's wall and CPU time.
(n) one replication of that job as its worker runs it (benchmarks/replication.py): CPU time of
    the engine, of the replication's tables and of compare's measure of them, and the size of
    the result sent back.

Every measurement but (j)'s solves is repeated ``--repeat`` times and shown as its median (or
best, where said) with the smallest and largest; the first line names the machine and its
load. ``--readme`` writes the output into README.md between the benchmark markers.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import subprocess
import sys
import time
from contextlib import redirect_stdout
from datetime import date
from pathlib import Path

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
import json, sys
sys.path.insert(0, {str(ROOT)!r})
import sim
from benchmarks.__main__ import mmc_scenario
from benchmarks.memory import peak_rss, rss_now
from sim.engine.driver import compile_scenario, run_replication
compiled = compile_scenario(sim.scenario_from_dict(mmc_scenario({n})))
run_replication(compile_scenario(sim.scenario_from_dict(mmc_scenario(2000))), 0, 1)  # warm up
base = rss_now()
tables = run_replication(compiled, 0, 1)
peak = peak_rss()
print(json.dumps({{"incidents": len(tables[0]), "base": base, "peak": peak}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    info = json.loads(out.stdout.strip().splitlines()[-1])
    info["bytes_per_incident"] = (info["peak"] - info["base"]) / info["incidents"]
    return info


def fresh_engine_cost(towns: int, units: int, incidents: int) -> float:
    """:func:`~benchmarks.regions.engine_cost` in a fresh process, as a replication runs in a
    worker, of the grid region of ``towns`` and ``units`` (0 towns: the M/M/10 workload)."""
    code = f"""
import json, sys
sys.path.insert(0, {str(ROOT)!r})
import sim
from benchmarks.__main__ import mmc_scenario
from benchmarks.regions import engine_cost, grid_region
data = grid_region({towns}, {units}, {incidents}) if {towns} else mmc_scenario({incidents})
print(json.dumps(engine_cost(sim.scenario_from_dict(data))))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(json.loads(out.stdout.strip().splitlines()[-1]))


def grid_rows(incidents: int, repeat: int) -> list[tuple[str, str]]:
    """(f): engine cost per incident of pooled grid regions and of the M/M/10 workload of (b),
    each its second run in a fresh process (CPU time, the best of ``repeat``): what a
    replication costs in a worker, not what is left of the benchmarks run before it in this
    one. The workloads take turns, a run of each per round, so that a busy moment of the
    machine falls on all of them rather than on one ratio."""
    sizes = ((1, 10), (50, 400), (125, 1000))
    workloads = [(0, 10), *sizes]
    us: list[list[float]] = [[] for _ in workloads]
    for _ in range(repeat):
        for runs, (towns, units) in zip(us, workloads, strict=True):
            runs.append(fresh_engine_cost(towns, units, incidents) * 1e6)

    def shown(runs: list[float]) -> str:
        return f"{min(runs):.1f} us/incident (best of {len(runs)}, max {max(runs):.1f})"

    mmc, base = min(us[0]), min(us[1])
    rows: list[tuple[str, str]] = [("(f) engine alone, M/M/10 of (b)", shown(us[0]))]
    for (towns, units), runs in zip(sizes, us[1:], strict=True):
        cost = min(runs)
        rows.append(
            (
                f"    grid, {units:,} units, {towns * 40:,} zones",
                f"{shown(runs)}: {cost / base:.2f}x the 10-unit region"
                f" (target <= 2), {cost / mmc:.2f}x M/M/10"
                + (" (target <= 2)" if units == 400 else ""),
            )
        )
    return rows


def zone_rows(incidents: int, repeat: int) -> list[tuple[str, str]]:
    """(g): compile time, matrix file load time, memory per zone and per incident, each
    measured ``repeat`` times."""
    import tempfile

    from benchmarks.mainjob import spread
    from benchmarks.regions import grid_run, matrix_load, zone_memory

    compile_s = [grid_run(50, 400, 2_000)["compile_s"] for _ in range(repeat)]
    with tempfile.TemporaryDirectory(prefix="intersim-bench-") as tmp:
        loads = [matrix_load(1000, Path(tmp)) for _ in range(repeat)]
    mems = [zone_memory(50, 400, incidents) for _ in range(repeat)]
    per_zone = spread([m["bytes_per_zone"] / 1024 for m in mems])
    per_incident = spread([m["bytes_per_incident"] for m in mems], "{:.0f}")
    return [
        ("(g) compile 2,000 zones, 400 units", f"{spread(compile_s, '{:.2f}')} s   (target < 5 s)"),
        (
            "    1,000-zone matrix file",
            f"{spread([x['seconds'] for x in loads], '{:.2f}')} s for "
            f"{loads[0]['pairs']:,.0f} pairs   (target < 1 s)",
        ),
        (
            "    memory, 2,000-zone region",
            f"{per_zone} KiB/zone compiled, {per_incident} bytes/incident run "
            f"({mems[0]['incidents']:,.0f})",
        ),
    ]


def figures_at_scale() -> tuple[float, int, float]:
    """(h): seconds to draw every figure of the 200-community, 1,000-zone grid region (the
    tests' ``grid_region``: tables written first, without workbook and report), the figures
    drawn and the largest SVG in MB."""
    import tempfile
    from datetime import UTC, datetime
    from unittest import mock

    import yaml

    import sim
    from sim.comparison import output
    from sim.plots import draw_figures
    from tests.builders import grid_region

    with tempfile.TemporaryDirectory(prefix="intersim-bench-") as tmp:
        path = Path(tmp) / "grid.yaml"
        path.write_text(yaml.safe_dump(grid_region(), sort_keys=False), encoding="utf-8")
        scenario = sim.load_scenario(path)
        skip = {n: mock.DEFAULT for n in ("write_workbook", "draw_figures", "build_report")}
        with mock.patch.multiple(output, **skip):
            output.write_comparison(
                sim.compare(scenario),
                Path(tmp) / "r",
                scenario_file=path,
                command="bench",
                started=datetime.now(UTC),
                seconds=0.0,
                scenario=scenario,
            )
        start = time.perf_counter()
        infos = draw_figures(Path(tmp) / "r")
        seconds = time.perf_counter() - start
        return seconds, len(infos), max(i.svg.stat().st_size for i in infos) / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="smaller workloads (a smoke test)")
    parser.add_argument("--skip", default="", help="comma list of parts to skip, e.g. d,e")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of every measurement but (j)'s solves (default 3)",
    )
    parser.add_argument(
        "--readme", action="store_true", help="also write the output into README.md's table"
    )
    args = parser.parse_args(argv)
    if args.readme:
        text = io.StringIO()
        with redirect_stdout(text):
            code = run_all(args)
        print(text.getvalue(), end="")
        write_readme(text.getvalue())
        return code
    return run_all(args)


def run_all(args: argparse.Namespace) -> int:
    from benchmarks.mainjob import spread

    load_before = os.getloadavg()
    from sim.analysis.queueing import mmc_mean_wait

    n = 20_000 if args.quick else 200_000
    skip = set(args.skip.split(",")) - {""}
    rows: list[tuple[str, str]] = []
    theory = mmc_mean_wait(C, LAMBDA, 1 / MU)
    # (a) and (b) alternate, best of --repeat runs each: the least disturbed measurement
    times_a: list[float] = []
    times_b: list[float] = []
    for _ in range(args.repeat):
        seconds, wait_a = textbook_mmc(n)
        times_a.append(seconds)
        seconds, nb, wait_b = intersim_mmc(n)
        times_b.append(seconds)
    ta, tb = min(times_a), min(times_b)
    rate_a, rate_b = n / ta, nb / tb
    rows += [
        (
            "(a) textbook SimPy M/M/10",
            f"{rate_a:,.0f} customers/s (best {ta:.2f} s; {spread(times_a, '{:.2f}')} s), "
            f"mean wait {wait_a:.4f}",
        ),
        (
            "(b) intersim, same workload",
            f"{rate_b:,.0f} incidents/s (best {tb:.2f} s; {spread(times_b, '{:.2f}')} s), "
            f"mean wait {wait_b:.4f}",
        ),
        ("    Erlang C mean wait", f"{theory:.4f}"),
        ("    (b)/(a) throughput", f"{rate_b / rate_a:.2f}x   (target >= 3)"),
    ]
    if "c" not in skip:
        runs_c = [five_valleys() for _ in range(args.repeat)]
        tc, nc = min(runs_c)
        rows += [
            (
                "(c) Five Valleys, 1 year, 4 options",
                f"{nc / tc:,.0f} incidents/s ({nc:,} incident-runs, best {tc:.1f} s; "
                f"{spread([t for t, _ in runs_c])} s)",
            ),
            ("    (c)/(a) per incident", f"{nc / tc / rate_a:.2f}x   (target >= 0.5)"),
        ]
    if "d" not in skip:
        from benchmarks.parallel import efficiency_rows

        # a task: one simulated year; --repeat pairs of fresh commands, 1 worker then all cores
        rows += efficiency_rows(40, "30 d" if args.quick else None, args.repeat)
    if "e" not in skip:
        es = [peak_memory(100_000 if args.quick else 1_000_000) for _ in range(args.repeat)]
        per_incident = spread([e["bytes_per_incident"] for e in es], "{:.0f}")
        rows += [
            (
                f"(e) peak memory, {es[0]['incidents']:,} incidents",
                f"{per_incident} bytes/incident   (target <= 200)",
            ),
        ]
    if "f" not in skip:
        rows += grid_rows(20_000 if args.quick else 200_000, args.repeat)
    if "g" not in skip:
        rows += zone_rows(20_000 if args.quick else 100_000, args.repeat)
    if "h" not in skip:
        hs = [figures_at_scale() for _ in range(args.repeat)]
        rows.append(
            (
                "(h) figures, 200 towns, 1,000 zones",
                f"{hs[0][1]} figures in {spread([h[0] for h in hs])} s, "
                f"largest SVG {hs[0][2]:.2f} MB",
            )
        )
    if "i" not in skip:
        from benchmarks.roads import road_matrix

        fs = [road_matrix(args.quick) for _ in range(args.repeat)]
        f = fs[0]
        rows += [
            (
                f"(i) road matrix, {f['places']:,.0f} places",
                f"{spread([x['built'] for x in fs])} s cold, "
                f"{spread([x['built_cpu'] for x in fs])} s CPU   (target < 30 s)",
            ),
            (
                "",
                f"{f['segments']:,.0f} segments, {f['arcs']:,.0f} arcs; "
                f"{spread([x['cached'] for x in fs], '{:.2f}')} s from the cache",
            ),
        ]
    if "j" not in skip:
        from benchmarks.siting import siting_stage

        size = "100 x 400 x 12" if args.quick else "500 x 2,000 x 30"
        # one run: the solves that stop at their 60 s limit would take minutes to repeat
        for i, (what, seconds, status) in enumerate(siting_stage(args.quick)):
            rows.append(
                (
                    f"(j) site MILP, {size}" if i == 0 else "",
                    f"{what}: {seconds:.1f} s ({status}; 1 run)"
                    + ("   (target < 60 s)" if i == 0 else ""),
                )
            )
    if "k" not in skip:
        from benchmarks.moveup import moveup_rows

        rows += moveup_rows(args.repeat, "60 d" if args.quick else None)
    if "m" not in skip:
        from benchmarks.mainjob import main_job

        rows += main_job(args.quick, args.repeat)
    if "n" not in skip:
        from benchmarks.replication import replication_rows

        rows += replication_rows(max(3, args.repeat))
    width = max(len(k) for k, _ in rows)
    print(machine_line())
    print(f"load average {load_before[0]:.2f} at the start, {os.getloadavg()[0]:.2f} at the end")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


def cpu_model() -> str:
    """The CPU's model name (Linux), else what the platform says."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line() -> str:
    """'intersim benchmarks on <CPU>, 2 cores, Python 3.11.7, numpy 2.1, SimPy 4.1 ...'."""
    from importlib.metadata import version

    libs = ", ".join(
        f"{name} {version(dist)}"
        for name, dist in (
            ("numpy", "numpy"),
            ("pandas", "pandas"),
            ("SimPy", "simpy"),
            ("matplotlib", "matplotlib"),
        )
    )
    return (
        f"intersim benchmarks on {cpu_model()} ({platform.machine()}), {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {libs}"
    )


START, END = "<!-- benchmarks: start -->", "<!-- benchmarks: end -->"


def write_readme(output: str, readme: Path = ROOT / "README.md") -> None:
    """Replace what README.md holds between the benchmark markers by ``output`` (a fenced
    block, dated)."""
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{readme}: no {START} ... {END} markers")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    block = f"{START}\nOn {date.today().isoformat()}:\n\n```\n{output.rstrip()}\n```\n{END}"
    readme.write_text(head + block + tail, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
