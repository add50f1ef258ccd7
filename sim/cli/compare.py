"""``intersim compare``: compare the pooling options of a scenario (the main job) and write the
result directory with its figures and report.

The worker processes start first: as soon as the command knows that it will use them (at once
with ``--workers N``; by default once the run's size is estimated from the scenario's shape,
before its data files are read), the fork server starts
importing what the workers run (:func:`sim.engine.execute.start_workers`) while this process
imports the comparison, reads and compiles the scenario. The comparison and its writers (which
load pandas) are imported only then, not with the parser.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from ..analysis.runsize import check_feasible, early_estimate
from ..engine.execute import start_workers, uses_processes
from ..engine.progress import Stages, progress_bar
from ..errors import InputError, printable
from ..schema import load_scenario
from ..schema.load import peek_scenario
from ..schema.scenario import Scenario
from .args import PARALLEL_SECONDS, fraction, positive_int, workers_for_run
from .command import Command
from .exits import EXIT_OK
from .outdirs import checked_out_dir, finished
from .replay import replay_source_for
from .run import add_run_arguments, size_of_run

__all__ = ["COMMANDS", "WORKER_MODULES"]

# what the workers of compare import before their first task: the measure of each replication
# (sim.comparison.measure) and the figure task (sim.plots; each kind of figure loads its own)
WORKER_MODULES = ("sim.comparison.measure", "sim.plots")


def _arguments(p: argparse.ArgumentParser) -> None:
    add_run_arguments(
        p,
        workers_default=f"all CPUs for a run estimated at over {PARALLEL_SECONDS:g} s, else 1: "
        "this process; the figures too",
    )
    p.add_argument(
        "--precision",
        type=fraction,
        metavar="F",
        help="add replications until headline CI half-widths are within F of the mean",
    )
    p.add_argument(
        "--max-replications",
        type=positive_int,
        default=100,
        metavar="N",
        help="cap for --precision (default 100)",
    )
    p.add_argument(
        "--baseline", metavar="NAME", help="option to compare against (default: the scenario's)"
    )
    p.add_argument(
        "--records",
        action="store_true",
        help="also write the per-incident table incidents.parquet (large: about 57 bytes per "
        "call per option and replication; the figures and the report do not need it)",
    )


def _compare(args: argparse.Namespace) -> int:
    started, t0 = datetime.now(UTC), time.perf_counter()
    begun = getattr(args, "clock", t0)  # when the command started, imports included
    if args.precision and args.replications:
        raise InputError("compare: give --replications or --precision, not both")
    if args.workers is not None and uses_processes(args.workers, args.dask):
        start_workers(WORKER_MODULES)  # --workers N: before the scenario is even read
    elif _long_at_first_sight(args):
        start_workers(WORKER_MODULES)  # by default: before its data files are read
    scenario = load_scenario(args.scenario)
    most = _most_replications(args, scenario)
    estimate = size_of_run(scenario, len(scenario.options), most)
    workers = workers_for_run(args, estimate.seconds)
    if uses_processes(workers, args.dask):
        start_workers(WORKER_MODULES)  # by default: once the run is known to be long enough
    from ..comparison.compare import checked_baseline, compare  # pandas, while they start
    from ..comparison.output import format_comparison, write_comparison, write_steps

    checked_baseline(scenario, args.baseline)  # before the output folder is claimed
    out = checked_out_dir(args.out, args.scenario, args.overwrite)
    check_feasible(estimate, args.force)
    source = replay_source_for(args, scenario)
    stages = Stages()
    stages.start("simulation")
    with progress_bar("replications", "rep", total=most) as bar:
        comp = compare(
            scenario,
            replications=args.replications,
            precision=args.precision,
            max_replications=args.max_replications,
            baseline=args.baseline,
            seed=args.seed,
            progress=bar.update,
            source=source,
            workers=workers,
            dask=args.dask,
            records=args.records,
        )
    seconds = time.perf_counter() - t0
    with progress_bar("writing results", "step", total=write_steps()) as bar:
        write_comparison(
            comp,
            out,
            scenario_file=Path(args.scenario),
            command=args.command_line,
            started=started,
            seconds=seconds,
            overwrite=args.overwrite,
            scenario=scenario,
            records=args.records,
            progress=bar,
            workers=workers if args.dask is None else None,
            stages=stages,
        )
    print(
        f"{scenario.name}: {len(comp.raw.options)} options x {comp.replications} replications, "
        f"baseline '{comp.baseline}'\n"
    )
    print(format_comparison(comp))
    for warning in comp.warnings:
        print(f"warning: {printable(warning)}", file=sys.stderr)
    print(f"\nstages: {stages.summary()}")
    print(f"{finished(out, begun)} (report: {out / 'report.html'})")
    return EXIT_OK


def _most_replications(args: argparse.Namespace, scenario: Scenario) -> int:
    most: int = args.replications or (
        args.max_replications if args.precision else scenario.run.replications
    )
    return most


def _long_at_first_sight(args: argparse.Namespace) -> bool:
    """Whether the default (no ``--workers``) will use worker processes, told from the
    scenario's shape alone (:func:`early_estimate`: the same estimate, before the zones and
    the travel matrix are read), so that the fork server's imports run beside that reading."""
    if args.workers is not None or args.dask:
        return False
    peeked = peek_scenario(args.scenario)
    if peeked is None:
        return False
    estimate = early_estimate(peeked, len(peeked.options), _most_replications(args, peeked))
    return uses_processes(workers_for_run(args, estimate.seconds), args.dask)


COMMANDS = {"compare": Command(_arguments, _compare)}
