"""(m) the main job: ``intersim compare scenarios/five_valleys.yaml`` as a user runs it, in a
subprocess (its default replications and workers), timed from outside (wall time, every
import included) and by its own stage clock (the manifest's ``stages``: wall and CPU time of
the simulation, tables, figures and report; CPU of the command and of its worker processes).
Also Five Valleys' simulated incidents per year and the size of the result directory.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "five_valleys.yaml"
STAGES = ("simulation", "tables", "figures", "report")
YEAR_MIN = 525_600.0


def spread(values: list[float], fmt: str = "{:.1f}") -> str:
    """'12.3 (min 12.1, max 13.0 over 3)': the median of repeated measurements, with the
    smallest and the largest; a single run says so."""
    if len(values) == 1:
        return f"{fmt.format(values[0])} (1 run)"
    med = statistics.median(values)
    lo, hi = min(values), max(values)
    return f"{fmt.format(med)} (min {fmt.format(lo)}, max {fmt.format(hi)} over {len(values)})"


def run_command(out: Path, extra: list[str]) -> dict[str, Any]:
    """One ``compare`` of Five Valleys into ``out``: wall time and the manifest's stages."""
    cmd = [sys.executable, "-m", "sim", "compare", str(SCENARIO), "--out", str(out), *extra]
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {"wall": wall, "stages": manifest["stages"], "replications": manifest["replications"]}


def incidents_per_year(out: Path) -> float:
    """Calls simulated per year after the warm-up (the baseline's, every service)."""
    from sim.schema import load_scenario

    run = load_scenario(SCENARIO).run
    summary = pd.read_csv(out / "summary.csv")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    rows = summary[
        (summary["metric"] == "incidents")
        & (summary["community"] == "all")
        & (summary["priority"] == "all")
        & (summary["option"] == manifest["baseline"])
    ]
    return float(rows["mean"].sum()) / ((run.horizon - run.warmup) / YEAR_MIN)


def main_job(quick: bool, repeat: int) -> list[tuple[str, str]]:
    """(m): rows of the benchmark's table."""
    from sim.results.display import fmt_size
    from sim.results.files import directory_size

    extra = ["--replications", "2"] if quick else []
    with tempfile.TemporaryDirectory(prefix="intersim-bench-") as tmp:
        runs = [run_command(Path(tmp) / f"r{i}", extra) for i in range(repeat)]
        last = Path(tmp) / f"r{repeat - 1}"
        per_year = incidents_per_year(last)
        size = fmt_size(directory_size(last))
    reps = runs[0]["replications"]
    walls = [r["wall"] for r in runs]
    rows = [
        (
            f"(m) compare Five Valleys, {reps} reps",
            f"{spread(walls)} s wall, whole command   (target <= 15 s on 2 cores)",
        ),
        (
            "    Five Valleys",
            f"{per_year:,.0f} incidents per year simulated; result directory {size}",
        ),
    ]
    for stage in STAGES:
        wall = [r["stages"][stage]["wall_s"] for r in runs]
        cpu = [r["stages"][stage]["cpu_s"] for r in runs]
        rows.append((f"    {stage}", f"{spread(wall)} s wall, {spread(cpu)} s CPU"))
    start = [r["wall"] - sum(s["wall_s"] for s in r["stages"].values()) for r in runs]
    rows.append(("    start (imports, scenario)", f"{spread(start)} s wall"))
    return rows
