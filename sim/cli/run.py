"""``intersim run``: simulate a scenario and write its incident, unit and level tables."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from ..analysis.runsize import RunEstimate, check_feasible, estimate_run, largest_fleet
from ..engine.progress import progress_bar
from ..errors import InputError, printable
from ..model.compile import compile_region
from ..schema import Scenario, load_scenario
from .args import (
    add_executor_arguments,
    add_force,
    add_option,
    add_out,
    add_overwrite,
    add_replications,
    add_scenario,
    add_seed,
    serial_unless_asked,
)
from .command import Command
from .exits import EXIT_OK
from .outdirs import checked_out_dir, finished
from .replay import add_replay_arguments, replay_source_for

__all__ = ["COMMANDS", "add_run_arguments", "guard", "size_of_run"]


def add_run_arguments(p: argparse.ArgumentParser, workers_default: str = "") -> None:
    """What ``run`` and ``compare`` share (``workers_default``: the help's default of
    ``--workers``, if not this process)."""
    add_scenario(p)
    add_replications(p)
    add_seed(p)
    add_out(p, "output directory (default results/<scenario>-<time>)")
    add_overwrite(p)
    add_force(p)
    add_executor_arguments(p, "replications", serial=True, default=workers_default)
    add_replay_arguments(p)


def size_of_run(scenario: Scenario, options: int, replications: int) -> RunEstimate:
    """The estimated time and memory of simulating ``options`` x ``replications``."""
    region = compile_region(scenario)
    return estimate_run(region, options, replications, largest_fleet(scenario))


def guard(scenario: Scenario, options: int, replications: int, force: bool) -> RunEstimate:
    """Refuse, before any work, a run far beyond this machine (unless ``--force``); the
    estimate of the run."""
    estimate = size_of_run(scenario, options, replications)
    check_feasible(estimate, force)
    return estimate


def _arguments(p: argparse.ArgumentParser) -> None:
    add_run_arguments(p)
    add_option(p)


def _run(args: argparse.Namespace) -> int:
    # the simulation and its writers load pandas: imported here, not with the parser
    from ..runs.output import WRITE_STEPS, format_headline, write_run
    from ..runs.run import run

    started = datetime.now(UTC)
    begun = getattr(args, "clock", time.perf_counter())  # the command's start
    scenario = load_scenario(args.scenario)
    if args.option is not None and args.option not in scenario.options:
        raise InputError(
            f"--option: unknown option '{args.option}' (known: {', '.join(scenario.options)})"
        )
    out = checked_out_dir(args.out, args.scenario, args.overwrite)
    n = args.replications or scenario.run.replications
    guard(scenario, 1 if args.option is not None else len(scenario.options), n, args.force)
    source = replay_source_for(args, scenario)
    with progress_bar("replications", "rep", total=n) as bar:
        result = run(
            scenario,
            options=[args.option] if args.option is not None else None,
            replications=n,
            seed=args.seed,
            progress=bar.update,
            source=source,
            workers=serial_unless_asked(args),
            dask=args.dask,
        )
    with progress_bar("writing results", "step", total=len(WRITE_STEPS)) as bar:
        summary = write_run(
            result,
            out,
            scenario_file=Path(args.scenario),
            command=args.command_line,
            started=started,
            overwrite=args.overwrite,
            progress=bar,
        )
    print(format_headline(summary, result.options))
    for warning in result.warnings:
        print(f"warning: {printable(warning)}", file=sys.stderr)
    print(
        f"\n{result.replications} replication(s) simulated in {result.seconds:.1f} s; "
        f"{finished(out, begun)}"
    )
    return EXIT_OK


COMMANDS = {"run": Command(_arguments, _run)}
