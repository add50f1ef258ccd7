"""``intersim sweep``: its arguments and the command (called from :mod:`sim.cli`).

Exit codes: 0 when every task succeeded, 1 when any task failed (the others are stored and the
outputs written) or a worker died (rerun with ``--resume``), 2 for bad input (one line per
problem, before anything runs), 130 when interrupted (the finished tasks are kept).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..cli.args import add_executor_arguments, non_negative_int, positive_int

__all__ = ["add_arguments", "run_command"]

EXIT_OK, EXIT_FAIL, EXIT_INTERRUPTED = 0, 1, 130
MAX_TABLE_POINTS = 30


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``intersim sweep``."""
    p.description = (
        "Vary fields of a scenario over a design (grid, Latin hypercube, random) and simulate "
        "every design point x pooling option x replication. SCENARIO is a scenario file, or a "
        "sweep file with scenario:, params:, design:, samples:, replications:, seed:."
    )
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or sweep file")
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
    p.add_argument(
        "--replications",
        type=positive_int,
        metavar="N",
        help="per point and option (default: the scenario's)",
    )
    p.add_argument(
        "--seed",
        type=non_negative_int,
        metavar="S",
        help="seed of the design and the simulation (default: the scenario's)",
    )
    p.add_argument(
        "--option",
        action="append",
        metavar="NAME",
        help="only this pooling option (repeatable; default: all)",
    )
    add_executor_arguments(p)
    p.add_argument(
        "--out", metavar="DIR", help="output directory (default results/<scenario>-sweep-<time>)"
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the same sweep in --out DIR: run only the missing tasks",
    )
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty output directory")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _params(items: list[str]) -> dict[str, str]:
    from ..errors import InputError

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


def _default_out(scenario: Path) -> Path:
    from datetime import UTC, datetime

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Path("results") / f"{scenario.stem}-sweep-{stamp}"


def _write(text: str = "", *, err: bool = False) -> None:
    (sys.stderr if err else sys.stdout).write(text + "\n")


def _headline(summary: Any, varied: list[str]) -> str:
    """Mean response per point (rows) and option (columns), for each service."""
    s = summary[summary["metric"] == "mean_response"]
    if s.empty or s["point"].nunique() > MAX_TABLE_POINTS:
        return ""
    index = ["service", "point", *varied]
    wide = s.pivot_table(index=index, columns="option", values="mean", sort=False)
    wide.columns.name = None
    text = wide.reset_index().to_string(index=False, float_format=lambda v: f"{v:.3g}")
    return "mean response (min) per point and option:\n" + text


def run_command(args: argparse.Namespace) -> int:
    """Run ``intersim sweep``; return the exit code (bad input raises InputError)."""
    from ..errors import InputError
    from .definition import build_definition
    from .run import SweepIncomplete, run_sweep

    if args.resume and not args.out:
        raise InputError("sweep: --resume needs --out DIR (the directory of the sweep to continue)")
    definition = build_definition(
        args.scenario,
        _params(args.param),
        design=args.design,
        samples=args.samples,
        replications=args.replications,
        seed=args.seed,
        options=args.option,
    )
    out = Path(args.out) if args.out else _default_out(Path(args.scenario))

    def on_start(stored: int, todo: int) -> None:
        d = definition
        what = (
            f"{d.name}: {len(d.points)} point(s) x {len(d.options)} option(s) x "
            f"{d.replications} replication(s) = {d.n_tasks} task(s)"
        )
        if stored:
            what += f"; {stored} already stored, {todo} to run"
        _write(what, err=True)

    try:
        result = run_sweep(
            definition,
            out,
            workers=args.workers,
            dask=args.dask,
            resume=args.resume,
            overwrite=args.overwrite,
            progress=not args.quiet,
            command=getattr(args, "command_line", "intersim sweep"),
            on_start=on_start,
        )
    except SweepIncomplete as exc:
        _write(f"error: {exc}", err=True)
        return EXIT_FAIL
    except KeyboardInterrupt:
        _write(
            f"interrupted: the finished tasks are stored in {out}; to continue, run the "
            f"same command with --resume --out {out}",
            err=True,
        )
        return EXIT_INTERRUPTED
    table = _headline(result.summary, definition.varied)
    if table:
        _write(table + "\n")
    ran = result.report.ran
    _write(
        f"{ran} task(s) run in {result.seconds:.1f} s ({result.stored_before} stored before); "
        f"results in {out}"
    )
    if result.failed:
        _write(
            f"error: {result.failed} of {result.tasks} task(s) failed (see "
            f"{out / 'failures.csv'}); first:",
            err=True,
        )
        for line in result.errors[:3]:
            _write(f"  {line}", err=True)
        return EXIT_FAIL
    return EXIT_OK
