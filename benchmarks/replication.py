"""(n) one replication of ``compare scenarios/five_valleys.yaml`` as a worker runs it, stage by
stage: the engine (every option against the replication's incidents), the tables of the
replication (sim.engine.driver's table makers for every option, joined), the measure of compare
(sim.comparison.measure, in the worker) and the size of the pickled result sent to the parent.

CPU time of this process, best of ``repeat`` on replication 1, after replication 0 has run once
(it fills the memos of the process, as the worker's first task does).
``python -m benchmarks.replication [--scenario FILE] [--repeat N] [--profile]`` prints the same,
and with ``--profile`` where the tables and the measure spend their time.
"""

from __future__ import annotations

import argparse
import cProfile
import pickle
import pstats
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "five_valleys.yaml"


def _best(work: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The least CPU time of ``repeat`` runs of ``work``, and what the last one returned."""
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.process_time()
        out = work()
        best = min(best, time.process_time() - start)
    return best, out


def replication_stages(repeat: int, scenario_file: Path = SCENARIO) -> dict[str, Any]:
    """Seconds of CPU of each stage of replication 1, and the pickled result's bytes."""
    from sim.comparison.compare import REPLICATION_TABLES
    from sim.comparison.measure import ReplicationMeasure
    from sim.engine.driver import (
        Replicated,
        compile_scenario,
        concat_tables,
        records_tables,
        replicate,
        replication_task,
    )
    from sim.engine.reuse import simulate_fleets
    from sim.schema import load_scenario

    scenario = load_scenario(scenario_file)
    compiled = compile_scenario(scenario)
    region, seed = compiled.region, scenario.run.seed
    measure = ReplicationMeasure.of(scenario)
    replication_task(compiled, 0, seed, REPLICATION_TABLES, measure)  # the worker's first task
    rep = replicate(compiled, 1, seed)
    fleets = compiled.fleets.items()

    def engine() -> None:  # as the driver runs the fleets (services shared between options)
        list(simulate_fleets(region, list(compiled.fleets.values()), rep.incidents))

    def tables() -> tuple[Any, ...]:
        per_fleet = [
            records_tables(region, f, rep.incidents, rep.records[o], 1, REPLICATION_TABLES)
            for o, f in fleets
        ]
        return tuple(concat_tables(list(t)) for t in zip(*per_fleet, strict=True))

    seconds_engine, _ = _best(engine, max(1, repeat - 1))
    seconds_tables, made = _best(tables, repeat)
    seconds_measure, measured = _best(lambda: measure(made, region), repeat)
    result = pickle.dumps(Replicated(1, made, measured), protocol=pickle.HIGHEST_PROTOCOL)
    return {
        "engine": seconds_engine,
        "tables": seconds_tables,
        "measure": seconds_measure,
        "pickled": len(result),
        "incidents": len(rep.incidents),
        "profile": lambda: measure(tables(), region),
    }


def replication_rows(repeat: int) -> list[tuple[str, str]]:
    """(n): rows of the benchmark table."""
    s = replication_stages(repeat)
    both = s["tables"] + s["measure"]
    return [
        (
            "(n) Five Valleys replication, worker",
            f"engine {s['engine']:.2f} s, tables {s['tables']:.3f} s, measure "
            f"{s['measure']:.3f} s (CPU, best of {repeat}; {s['incidents']:,} incidents)",
        ),
        ("    tables + measure", f"{both:.3f} s   (target <= 0.35 s)"),
        ("    result sent to the parent", f"{s['pickled'] / 1e6:.1f} MB pickled"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.replication")
    parser.add_argument("--scenario", type=Path, default=SCENARIO)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="profile tables and measure")
    args = parser.parse_args(argv)
    s = replication_stages(args.repeat, args.scenario)
    print(
        f"engine {s['engine']:.3f} s, tables {s['tables']:.3f} s, measure {s['measure']:.3f} s, "
        f"tables + measure {s['tables'] + s['measure']:.3f} s (CPU, best of {args.repeat}); "
        f"result {s['pickled'] / 1e6:.1f} MB pickled"
    )
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(s["profile"])
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
