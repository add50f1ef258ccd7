"""The ``intersim`` command line.

Every subcommand turns bad input into one clear line per problem on stderr and exit code 2,
never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError, ScenarioError
from .args import fraction, non_negative_int, positive_int

if TYPE_CHECKING:
    from ..schema import Scenario

__all__ = ["main"]

EXIT_OK, EXIT_FAIL, EXIT_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as InputError (exit 2, one line)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{self.prog}: {message}")


def _cmd_validate(args: argparse.Namespace) -> int:
    from ..schema import load_scenario

    failed = False
    for path in args.files:
        try:
            load_scenario(path)
        except ScenarioError as exc:
            failed = True
            for problem in exc.problems:
                print(problem, file=sys.stderr)
        else:
            print(f"{path}: ok")
    return EXIT_INPUT if failed else EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    from ..schema.jsonschema import scenario_json_schema
    from ..schema.reference import format_reference

    if args.markdown:
        print(format_reference(), end="")
    else:
        print(json.dumps(scenario_json_schema(), indent=2))
    return EXIT_OK


def _command_line(argv: Sequence[str] | None) -> str:
    import shlex

    args = list(sys.argv[1:] if argv is None else argv)
    return shlex.join(["intersim", *args])


def _progress(total: int, what: str):  # type: ignore[no-untyped-def]
    from tqdm import tqdm

    return tqdm(total=total, desc=what, unit="rep", disable=None, file=sys.stderr, leave=False)


def _out_dir(args: argparse.Namespace) -> Path:
    from ..results.files import check_out_dir
    from .outdirs import default_out_dir

    out = Path(args.out) if args.out else default_out_dir(Path(args.scenario))
    check_out_dir(out, args.overwrite)
    return out


def _guard(scenario: Scenario, options: int, replications: int, force: bool) -> None:
    from ..analysis.runsize import check_feasible, estimate_run
    from ..model.compile import compile_region

    check_feasible(estimate_run(compile_region(scenario), options, replications), force)


def _cmd_run(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from ..runs.output import format_headline, write_run
    from ..runs.run import run
    from ..schema import load_scenario

    started = datetime.now(UTC)
    scenario = load_scenario(args.scenario)
    if args.option and args.option not in scenario.options:
        raise InputError(
            f"--option: unknown option '{args.option}' (known: {', '.join(scenario.options)})"
        )
    out = _out_dir(args)
    n = args.replications or scenario.run.replications
    _guard(scenario, 1 if args.option else len(scenario.options), n, args.force)
    with _progress(n, "replications") as bar:
        result = run(
            scenario,
            options=[args.option] if args.option else None,
            replications=n,
            seed=args.seed,
            progress=bar.update,
            source=_replay(args, scenario),  # --replay LOG.csv (sim.data)
        )
    summary = write_run(
        result,
        out,
        scenario_file=Path(args.scenario),
        command=args.command_line,
        started=started,
        overwrite=args.overwrite,
    )
    print(format_headline(summary, result.options))
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"\n{result.replications} replication(s) in {result.seconds:.1f} s; results in {out}")
    return EXIT_OK


def _cmd_compare(args: argparse.Namespace) -> int:
    import time
    from datetime import UTC, datetime

    from ..comparison.compare import compare
    from ..comparison.output import format_comparison, write_comparison
    from ..schema import load_scenario

    started, t0 = datetime.now(UTC), time.perf_counter()
    if args.precision and args.replications:
        raise InputError("compare: give --replications or --precision, not both")
    scenario = load_scenario(args.scenario)
    out = _out_dir(args)
    _guard(
        scenario,
        len(scenario.options),
        args.replications
        or (args.max_replications if args.precision else scenario.run.replications),
        args.force,
    )
    total = args.replications or (
        args.max_replications if args.precision else scenario.run.replications
    )
    with _progress(total, "replications") as bar:
        comp = compare(
            scenario,
            replications=args.replications,
            precision=args.precision,
            max_replications=args.max_replications,
            baseline=args.baseline,
            seed=args.seed,
            progress=bar.update,
            source=_replay(args, scenario),  # --replay LOG.csv (sim.data)
        )
    seconds = time.perf_counter() - t0
    write_comparison(
        comp,
        out,
        scenario_file=Path(args.scenario),
        command=args.command_line,
        started=started,
        seconds=seconds,
        overwrite=args.overwrite,
        scenario=scenario,
    )
    print(
        f"{scenario.name}: {len(comp.raw.options)} options x {comp.replications} replications, "
        f"baseline '{comp.baseline}'\n"
    )
    print(format_comparison(comp))
    for warning in comp.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"\ndone in {seconds:.1f} s; results in {out} (report: {out / 'report.html'})")
    return EXIT_OK


def _cmd_plot(args: argparse.Namespace) -> int:
    from ..plots import redraw_figures
    from ..sweeps.plots import draw_sweep_figures, is_sweep_dir

    if is_sweep_dir(args.dir):  # a sweep directory: metric-vs-parameter figures
        paths = draw_sweep_figures(Path(args.dir))
        print(f"{len(paths)} figure(s) in {Path(args.dir) / 'figures'}")
        return EXIT_OK
    try:
        infos = redraw_figures(Path(args.dir))
    except OSError as exc:
        raise InputError(f"{args.dir}: cannot write figures: {exc}") from None
    print(f"{len(infos)} figure(s) (PNG and SVG) in {Path(args.dir) / 'figures'}")
    print(f"the report embeds its own copies: run 'intersim report {args.dir}' to rebuild it")
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from ..report.page import build_report

    try:
        path = build_report(Path(args.dir))
    except OSError as exc:
        raise InputError(f"{args.dir}: cannot write the report: {exc}") from None
    print(f"report: {path}")
    return EXIT_OK


def _cmd_rerun(args: argparse.Namespace) -> int:
    from ..runs.rerun import rerun

    report = rerun(Path(args.dir), main)
    print(report.text)
    return EXIT_OK if report.identical else EXIT_FAIL


def _cmd_sweep(args: argparse.Namespace) -> int:
    from ..sweeps.cli import run_command

    return run_command(args)


def _cmd_estimate(args: argparse.Namespace) -> int:
    from ..analysis.erlang import estimate, overload_warnings
    from ..engine.driver import compile_scenario
    from ..schema import load_scenario

    scenario = load_scenario(args.scenario)
    compiled = compile_scenario(scenario)
    est = estimate(compiled.region, compiled.fleets)
    shown = est[(est["community"] != "all") | (est["fleet"] == "pooled")]
    cols = [
        "option",
        "service",
        "community",
        "fleet",
        "calls_per_day",
        "offered_load",
        "units",
        "utilisation",
        "p_wait",
        "mean_wait",
    ]
    print(shown[cols].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    for warning in overload_warnings(est):
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


# --- your own data: export-log, calibrate, backtest, --replay (sim.data) ---
def _cmd_export_log(args: argparse.Namespace) -> int:
    from ..data.cli import cmd_export_log

    return cmd_export_log(args)


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from ..data.cli import cmd_calibrate

    return cmd_calibrate(args)


def _cmd_backtest(args: argparse.Namespace) -> int:
    from ..data.cli import cmd_backtest

    return cmd_backtest(args)


def _add_replay_args(p: argparse.ArgumentParser) -> None:
    from ..data.cli import add_replay_args

    add_replay_args(p)


def _replay(args: argparse.Namespace, scenario: Scenario):  # type: ignore[no-untyped-def]
    """The incident source of ``--replay LOG.csv``, or None (sampled arrivals)."""
    from ..data.cli import replay_source_for

    return replay_source_for(args, scenario)


# --- end of your own data ---


# --- fleet sizing and coalitions (sim.decide) ---
def _cmd_size(args: argparse.Namespace) -> int:
    from ..decide.cli import run_size

    return run_size(args)


def _cmd_coalitions(args: argparse.Namespace) -> int:
    from ..decide.cli import run_coalitions

    return run_coalitions(args)


# --- end of fleet sizing and coalitions ---


def _add_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--replications", type=positive_int, metavar="N")
    p.add_argument("--seed", type=non_negative_int, metavar="S")
    p.add_argument(
        "--out", metavar="DIR", help="output directory (default results/<scenario>-<time>)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty output directory")
    p.add_argument("--force", action="store_true", help="run even when the estimate is huge")


def _build_parser() -> argparse.ArgumentParser:
    from ..version import __version__

    parser = _Parser(
        prog="intersim",
        description="Simulate shared emergency and public services between neighbouring "
        "communities, and compare pooling options.",
    )
    parser.add_argument("--version", action="version", version=f"intersim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("validate", help="check scenario files; print ok or every problem")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=_cmd_validate)
    p = sub.add_parser("schema", help="print the JSON Schema of the scenario format")
    p.add_argument("--markdown", action="store_true", help="print the format reference instead")
    p.set_defaults(func=_cmd_schema)
    p = sub.add_parser("run", help="simulate a scenario and write incident and unit tables")
    _add_run_args(p)
    _add_replay_args(p)
    p.add_argument("--option", metavar="NAME", help="only this pooling option (default: all)")
    p.set_defaults(func=_cmd_run)
    p = sub.add_parser("compare", help="compare the pooling options of a scenario (the main job)")
    _add_run_args(p)
    _add_replay_args(p)
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
    p.add_argument("--baseline", metavar="NAME", help="option to compare against")
    p.set_defaults(func=_cmd_compare)
    p = sub.add_parser("plot", help="redraw the figures of a compare result directory")
    p.add_argument("dir", metavar="DIR", help="result directory written by 'intersim compare'")
    p.set_defaults(func=_cmd_plot)
    p = sub.add_parser("report", help="rebuild report.html of a compare result directory")
    p.add_argument("dir", metavar="DIR", help="result directory written by 'intersim compare'")
    p.set_defaults(func=_cmd_report)
    p = sub.add_parser(
        "rerun", help="repeat the run of a result directory and check the tables match"
    )
    p.add_argument("dir", metavar="DIR")
    p.set_defaults(func=_cmd_rerun)
    p = sub.add_parser("estimate", help="instant Erlang C estimates per option and service")
    p.add_argument("scenario", metavar="SCENARIO")
    p.set_defaults(func=_cmd_estimate)
    from ..sweeps.cli import add_arguments as _add_sweep_arguments

    p = sub.add_parser("sweep", help="parameter sweep: design points x options x replications")
    _add_sweep_arguments(p)
    p.set_defaults(func=_cmd_sweep)
    # --- your own data: export-log, calibrate, backtest (sim.data) ---
    from ..data.cli import add_backtest_args, add_calibrate_args, add_export_log_args

    p = sub.add_parser("export-log", help="write a simulated run as a CAD-style incident log (CSV)")
    add_export_log_args(p)
    p.set_defaults(func=_cmd_export_log)
    p = sub.add_parser("calibrate", help="fit a commented scenario to an incident log")
    add_calibrate_args(p)
    p.set_defaults(func=_cmd_calibrate)
    p = sub.add_parser("backtest", help="replay a log and compare simulated with recorded response")
    add_backtest_args(p)
    p.set_defaults(func=_cmd_backtest)
    # --- end of your own data ---
    # --- fleet sizing and coalitions (sim.decide) ---
    from ..decide.cli import add_coalitions_arguments, add_size_arguments

    p = sub.add_parser("size", help="smallest fleet per option that meets every target")
    add_size_arguments(p)
    p.set_defaults(func=_cmd_size)
    p = sub.add_parser("coalitions", help="coalition game: pooling gains, Shapley, core")
    add_coalitions_arguments(p)
    p.set_defaults(func=_cmd_coalitions)
    # --- end of fleet sizing and coalitions ---
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    try:
        args = _build_parser().parse_args(argv)
        args.command_line = _command_line(argv)
        code: int = args.func(args)
        return code
    except ScenarioError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_INPUT
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
