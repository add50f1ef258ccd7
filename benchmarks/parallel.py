"""(d) parallel efficiency: ``intersim sweep`` of Five Valleys (5 demand levels x 4 options x
2 replications, 40 tasks of a simulated year) run as a user runs it, in a fresh process each
time, on 1 worker and on every core.

Each repeat runs the two one after the other, so that both see the same state of the machine;
the efficiency of a repeat is the 1-worker time over ``cores`` times the all-core time, and the
benchmark shows the median over repeats with the smallest and largest. A fresh process per run
means that every all-core run pays its workers' start (the fork server's imports, the first
compile in each worker) as a command does; a second sweep in one Python session would not.

Two times per run: running the tasks (the sweep's manifest, ``runtime_s``: from opening the
store to the last task recorded), and the whole command from outside (its imports, the summary
and the figures, drawn in the parent, included).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "five_valleys.yaml"
LEVELS = "0.8,0.9,1.0,1.1,1.2"


def run_sweep(
    out: Path, workers: int, replications: int, horizon: str | None
) -> tuple[float, float]:
    """One ``intersim sweep`` into ``out``: (seconds running the tasks, wall seconds)."""
    cmd = [sys.executable, "-m", "sim", "sweep", str(SCENARIO), "--param", f"demand_scale={LEVELS}"]
    if horizon is not None:
        cmd += ["--param", f"run.horizon={horizon}"]
    cmd += ["--replications", str(replications), "--workers", str(workers)]
    cmd += ["--out", str(out), "--quiet"]
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return float(manifest["runtime_s"]), wall


def sweep_efficiency(tasks: int, horizon: str | None, repeat: int) -> dict[str, list[float]]:
    """``repeat`` pairs of sweeps of ``tasks`` tasks (1 worker, then every core): per run the
    task and wall seconds, per pair the two efficiencies."""
    cores = os.cpu_count() or 1
    keys = ("tasks_1", "wall_1", "tasks_n", "wall_n", "efficiency", "efficiency_wall")
    out: dict[str, list[float]] = {key: [] for key in keys}
    with tempfile.TemporaryDirectory(prefix="intersim-bench-") as tmp:
        for r in range(repeat):
            for workers, tag in ((1, "1"), (cores, "n")):
                target = Path(tmp) / f"r{r}w{workers}"
                seconds, wall = run_sweep(target, workers, tasks // 20, horizon)
                out[f"tasks_{tag}"].append(seconds)
                out[f"wall_{tag}"].append(wall)
            out["efficiency"].append(out["tasks_1"][-1] / (cores * out["tasks_n"][-1]))
            out["efficiency_wall"].append(out["wall_1"][-1] / (cores * out["wall_n"][-1]))
    return out


def efficiency_rows(tasks: int, horizon: str | None, repeat: int) -> list[tuple[str, str]]:
    """The (d) rows of the benchmark table."""
    from benchmarks.mainjob import spread

    d = sweep_efficiency(tasks, horizon, repeat)
    cores = os.cpu_count() or 1
    pct = "{:.0%}"
    return [
        (
            f"(d) sweep of {tasks} tasks, running them",
            f"1 worker {spread(d['tasks_1'])} s, {cores} workers {spread(d['tasks_n'])} s",
        ),
        ("    parallel efficiency", f"{spread(d['efficiency'], pct)}   (target >= 85 %)"),
        (
            "    whole command (+ imports, summary, figures)",
            f"1 worker {spread(d['wall_1'])} s, {cores} workers {spread(d['wall_n'])} s: "
            f"{spread(d['efficiency_wall'], pct)}",
        ),
    ]
