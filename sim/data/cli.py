"""Command-line parts of ``export-log``, ``calibrate``, ``backtest`` and ``--replay``.

:mod:`sim.cli` registers the subcommands with these argument builders and delegates to the
``cmd_*`` functions; bad input raises InputError (exit 2, one line).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..cli.args import non_negative_int, positive_int
from ..errors import InputError

if TYPE_CHECKING:
    from ..engine.driver import IncidentSource
    from ..schema import Scenario

__all__ = [
    "add_backtest_args",
    "add_calibrate_args",
    "add_export_log_args",
    "add_replay_args",
    "cmd_backtest",
    "cmd_calibrate",
    "cmd_export_log",
    "replay_source_for",
]


def _say(text: str, err: bool = False) -> None:
    """Lines for the user: results on stdout, warnings and what was read on stderr (control
    characters of a log's values or file name escaped)."""
    from ..errors import printable

    lines = "\n".join(printable(line) for line in text.split("\n"))
    (sys.stderr if err else sys.stdout).write(f"{lines}\n")


def _mapping(items: list[str] | None, file: str | None, tz: str | None = None):  # type: ignore[no-untyped-def]
    from .columns import Mapping, load_mapping, parse_map_options

    given = Mapping(columns=parse_map_options(items), tz=tz)
    return load_mapping(file).merged(given) if file else given


def _free(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise InputError(f"--out: {path} exists (use --overwrite to replace it)")


def _log_args(p: argparse.ArgumentParser, prefix: str = "") -> None:
    p.add_argument(
        f"--{prefix}tz",
        metavar="ZONE",
        help="time zone of timestamps without an offset, and of local hours "
        "(e.g. Europe/Oslo; default UTC)",
    )
    p.add_argument(
        f"--{prefix}map",
        action="append",
        metavar="COLUMN=FIELD",
        help="the log's COLUMN holds FIELD (call_time, community, incident_type, "
        "on_scene, ...); repeatable",
    )
    p.add_argument(
        f"--{prefix}mapping",
        metavar="FILE",
        help="YAML mapping file: columns, value recodes, time_format, tz",
    )


def add_export_log_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--option", metavar="NAME", help="pooling option (default: the baseline)")
    p.add_argument(
        "--replications",
        type=positive_int,
        default=1,
        metavar="N",
        help="replications, laid end to end (default 1)",
    )
    p.add_argument("--seed", type=non_negative_int, metavar="S")
    p.add_argument(
        "--start",
        default="2025-01-06T00:00",
        metavar="WHEN",
        help="date and time of simulated time 0, a Monday 00:00 (default 2025-01-06T00:00)",
    )
    p.add_argument(
        "--tz",
        metavar="ZONE",
        help="time zone of the timestamps (default: UTC, or the offset given with --start)",
    )
    p.add_argument("--out", required=True, metavar="LOG.csv")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")


def add_calibrate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("log", metavar="LOG.csv")
    p.add_argument(
        "--communities",
        metavar="FILE",
        help="communities with populations and locations (YAML or CSV)",
    )
    _log_args(p)
    p.add_argument("--name", metavar="TEXT", help="scenario name")
    p.add_argument("--out", required=True, metavar="SCENARIO.yaml")
    p.add_argument("--no-report", action="store_true", help="do not write the HTML report")
    p.add_argument("--overwrite", action="store_true", help="replace existing files")


def add_backtest_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("log", metavar="LOG.csv")
    p.add_argument("--option", metavar="NAME", help="the current arrangement (default: baseline)")
    p.add_argument("--replications", type=positive_int, metavar="N")
    p.add_argument("--seed", type=non_negative_int, metavar="S")
    p.add_argument(
        "--start",
        metavar="WHEN",
        help="date and time of simulated time 0 (default: the Monday 00:00 before the first call)",
    )
    _log_args(p)
    p.add_argument(
        "--out",
        metavar="FILE.csv",
        help="table file (default results/<scenario>-backtest-<time>.csv)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")


def add_replay_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("replay (trace-driven simulation)")
    g.add_argument(
        "--replay",
        metavar="LOG.csv",
        help="the incidents of this log drive the simulation instead of sampled arrivals",
    )
    g.add_argument(
        "--replay-start",
        metavar="WHEN",
        help="date and time of simulated time 0 (default: the Monday 00:00 before the first call)",
    )
    _log_args(g, "replay-")  # type: ignore[arg-type]


def replay_source_for(args: argparse.Namespace, scenario: Scenario) -> IncidentSource | None:
    """The replay source asked for with ``--replay`` (None without it); prints what was read."""
    if not getattr(args, "replay", None):
        return None
    from .replay import load_replay, replay_source

    mapping = _mapping(args.replay_map, args.replay_mapping, args.replay_tz)
    replay = load_replay(
        args.replay, scenario, start=args.replay_start, tz=mapping.tz, mapping=mapping
    )
    _say(replay.summary(), err=True)
    return replay_source(replay)


def cmd_export_log(args: argparse.Namespace) -> int:
    from ..schema import load_scenario
    from .export import export_log, write_log

    scenario = load_scenario(args.scenario)
    out = Path(args.out)
    _free(out, args.overwrite)
    frame, warnings = export_log(
        scenario,
        option=args.option,
        replications=args.replications,
        seed=args.seed,
        start=args.start,
        tz=args.tz,
    )
    write_log(frame, out)
    for w in warnings:
        _say(f"warning: {w}", err=True)
    _say(f"{len(frame)} incident(s) written to {out}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from .calibrate import calibrate, write_calibration

    out = Path(args.out)
    _free(out, args.overwrite)
    if not args.no_report:
        _free(out.with_suffix(".report.html"), args.overwrite)
    mapping = _mapping(args.map, args.mapping, args.tz)
    cal = calibrate(
        args.log, communities=args.communities, mapping=mapping, tz=mapping.tz, name=args.name
    )
    written = write_calibration(cal, out, report=not args.no_report)
    _say(cal.log.summary())
    for problem in cal.problems:
        _say(f"  not fitted: {problem}")
    _say(f"scenario: {written[0]} (valid)")
    if len(written) > 1:
        _say(f"report: {written[1]}")
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from ..results.files import write_csv
    from ..schema import load_scenario
    from .backtest import backtest, format_backtest
    from .replay import load_replay

    scenario = load_scenario(args.scenario)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = Path(args.out or Path("results") / f"{Path(args.scenario).stem}-backtest-{stamp}.csv")
    _free(out, args.overwrite)
    mapping = _mapping(args.map, args.mapping, args.tz)
    replay = load_replay(args.log, scenario, start=args.start, tz=mapping.tz, mapping=mapping)
    _say(replay.summary(), err=True)
    table = backtest(
        scenario, replay, option=args.option, replications=args.replications, seed=args.seed
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(table, out)
    _say(format_backtest(table))
    _say(f"\nbacktest of option '{table['option'].iloc[0]}': {out}")
    return 0
