"""``intersim sweep``: vary fields of a scenario over a design and simulate every point.

Exit codes (:mod:`sim.cli.exits`): 0 when every task succeeded, 1 when any task failed (the
others are stored and the outputs written) or a worker died (rerun with ``--resume``), 2 for bad
input (one line per problem, before anything runs), 130 when interrupted (the finished tasks
are kept).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from ..sweeps.workers import start_sweep_workers
from .args import (
    add_executor_arguments,
    add_option,
    add_out,
    add_overwrite,
    add_quiet,
    add_replications,
    add_scenario,
    add_seed,
    positive_int,
)
from .command import Command
from .exits import EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK
from .outdirs import default_out_dir, finished

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COMMANDS"]

MAX_TABLE_POINTS = 30


def _arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Vary fields of a scenario over a design (grid, Latin hypercube, random) and simulate "
        "every design point x pooling option x replication. SCENARIO is a scenario file, or a "
        "sweep file with scenario:, params:, design:, samples:, replications:, seed:."
    )
    add_scenario(p, "scenario file or sweep file")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="PATH=VALUES",
        help="a field by dotted path (e.g. demand_scale, services.ambulance.units.0.count) and "
        "its values: 1,2,3 or separate,pooled; start:stop:steps; uniform(a,b) or int(a,b) for "
        "lhs/random; one value fixes the field. Repeat for more parameters",
    )
    p.add_argument("--design", choices=["grid", "lhs", "random"], help="default: grid")
    p.add_argument("--samples", type=positive_int, metavar="N", help="points of lhs / random")
    add_replications(p, "per point and option (default: the scenario's)")
    add_seed(p, "seed of the design and the simulation (default: the scenario's)")
    add_option(p, "only this pooling option (repeatable; default: all)", repeatable=True)
    add_executor_arguments(p)
    add_out(p, "output directory (default results/<scenario>-sweep-<time>)")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the same sweep in --out DIR: run only the missing tasks",
    )
    add_overwrite(p)
    add_quiet(p)


def _params(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        path, eq, values = item.partition("=")
        path = path.strip()
        if not eq or not path:
            raise InputError(f"--param {item!r}: expected PATH=VALUES, e.g. demand_scale=0.8:1.2:5")
        if path in out:
            raise InputError(f"--param {path}: given twice")
        out[path] = values
    return out


def _say(text: str = "", *, err: bool = False) -> None:
    print(text, file=sys.stderr if err else sys.stdout)


def _headline(summary: pd.DataFrame, varied: list[str]) -> str:
    """Mean response per point (rows) and option (columns), for each service."""
    s = summary[summary["metric"] == "mean_response"]
    if s.empty or s["point"].nunique() > MAX_TABLE_POINTS:
        return ""
    index = ["service", "point", *varied]
    wide = s.pivot_table(index=index, columns="option", values="mean", sort=False)
    wide.columns.name = None
    text = wide.reset_index().to_string(index=False, float_format=lambda v: f"{v:.3g}")
    return "mean response (min) per point and option:\n" + text


def _sweep(args: argparse.Namespace) -> int:
    """Run ``intersim sweep``; return the exit code (bad input raises InputError)."""
    begun = getattr(args, "clock", time.perf_counter())  # the command's start
    if args.resume and not args.out:
        raise InputError("sweep: --resume needs --out DIR (the directory of the sweep to continue)")
    start_sweep_workers(args.workers, args.dask, args.scenario)
    # imported only now, while the workers' fork server imports what they need (about a
    # second each, on separate cores): pandas, the design's scipy.stats, matplotlib, the engine
    from ..sweeps.definition import build_definition
    from ..sweeps.run import SweepIncomplete, run_sweep

    definition = build_definition(
        args.scenario,
        _params(args.param),
        design=args.design,
        samples=args.samples,
        replications=args.replications,
        seed=args.seed,
        options=args.option,
    )
    out = Path(args.out) if args.out else default_out_dir(Path(args.scenario), "sweep")

    def on_start(stored: int, todo: int) -> None:
        d = definition
        what = (
            f"{d.name}: {len(d.points)} point(s) x {len(d.options)} option(s) x "
            f"{d.replications} replication(s) = {d.n_tasks} task(s)"
        )
        if stored:
            what += f"; {stored} already stored, {todo} to run"
        _say(what, err=True)

    try:
        result = run_sweep(
            definition,
            out,
            workers=args.workers,
            dask=args.dask,
            resume=args.resume,
            overwrite=args.overwrite,
            progress=not args.quiet,
            command=args.command_line,
            on_start=on_start,
        )
    except SweepIncomplete as exc:
        _say(f"error: {exc}", err=True)
        return EXIT_FAIL
    except KeyboardInterrupt:
        _say(
            f"interrupted: the finished tasks are stored in {out}; to continue, run the "
            f"same command with --resume --out {out}",
            err=True,
        )
        return EXIT_INTERRUPTED
    table = _headline(result.summary, definition.varied)
    if table:
        _say(table + "\n")
    ran = result.report.ran
    _say(
        f"{ran} task(s) run in {result.seconds:.1f} s ({result.stored_before} stored before); "
        f"{finished(out, begun)}"
    )
    if result.failed:
        _say(
            f"error: {result.failed} of {result.tasks} task(s) failed (see "
            f"{out / 'failures.csv'}); first:",
            err=True,
        )
        for line in result.errors[:3]:
            _say(f"  {line}", err=True)
        return EXIT_FAIL
    return EXIT_OK


COMMANDS = {"sweep": Command(_arguments, _sweep)}
