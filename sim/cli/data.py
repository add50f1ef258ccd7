"""Your own data: ``export-log`` (a simulated run as a CAD-style log), ``calibrate`` (a scenario
fitted to a log) and ``backtest`` (a log replayed, simulated against recorded response). Bad
input raises InputError (exit 2, one line)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..data.backtest import backtest, format_backtest
from ..data.calibrate import calibrate, write_calibration
from ..data.export import DEFAULT_START, export_log, write_log
from ..data.replay import load_replay
from ..data.zonecounts import ZONE_WEIGHTS
from ..errors import InputError, printable
from ..results.files import write_csv
from ..schema import load_scenario
from .args import add_option, add_out, add_overwrite, add_replications, add_scenario, add_seed
from .command import Command
from .exits import EXIT_OK
from .outdirs import default_out_dir
from .replay import add_log_arguments, log_mapping

__all__ = ["COMMANDS"]


def _say(text: str, err: bool = False) -> None:
    """Lines for the user: results on stdout, warnings and what was read on stderr (control
    characters of a log's values or file name escaped)."""
    lines = "\n".join(printable(line) for line in text.split("\n"))
    print(lines, file=sys.stderr if err else sys.stdout)


def _free(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise InputError(f"--out: {path} exists (use --overwrite to replace it)")


# --- export-log -------------------------------------------------------------------------------
def _export_log_arguments(p: argparse.ArgumentParser) -> None:
    add_scenario(p)
    add_option(p, "pooling option (default: the baseline)")
    add_replications(p, "replications, laid end to end (default 1)", default=1)
    add_seed(p)
    p.add_argument(
        "--start",
        default=DEFAULT_START,
        metavar="WHEN",
        help=f"date and time of simulated time 0, a Monday 00:00 (default {DEFAULT_START})",
    )
    p.add_argument(
        "--tz",
        metavar="ZONE",
        help="time zone of the timestamps (default: UTC, or the offset given with --start)",
    )
    add_out(p, "the log file to write", metavar="LOG.csv", required=True)
    add_overwrite(p, "replace an existing file")


def _export_log(args: argparse.Namespace) -> int:
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
    return EXIT_OK


# --- calibrate --------------------------------------------------------------------------------
def _calibrate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("log", metavar="LOG.csv", help="incident log (CSV) to fit the scenario to")
    p.add_argument(
        "--communities",
        metavar="FILE",
        help="communities with populations and locations (YAML or CSV)",
    )
    p.add_argument(
        "--zones",
        metavar="FILE",
        help="demand zones (CSV, GeoJSON, GeoPackage, Shapefile: id, community, location, "
        "weight; or a scenario with zones): incidents are placed at them",
    )
    p.add_argument(
        "--zone-weights",
        choices=ZONE_WEIGHTS,
        default="file",
        help="weights of the zones written: the zone file's (default) or the calls logged "
        "in each zone",
    )
    add_log_arguments(p)
    p.add_argument("--name", metavar="TEXT", help="scenario name")
    add_out(p, "the scenario file to write", metavar="SCENARIO.yaml", required=True)
    p.add_argument("--no-report", action="store_true", help="do not write the HTML report")
    add_overwrite(p, "replace existing files")


def _calibrate(args: argparse.Namespace) -> int:
    out = Path(args.out)
    _free(out, args.overwrite)
    if not args.no_report:
        _free(out.with_suffix(".report.html"), args.overwrite)
    if args.zones:
        for suffix in (".csv", ".gpkg"):
            _free(out.with_name(f"{out.stem}.zones{suffix}"), args.overwrite)
    mapping = log_mapping(args.map, args.mapping, args.tz)
    cal = calibrate(
        args.log,
        communities=args.communities,
        mapping=mapping,
        tz=mapping.tz,
        name=args.name,
        zones=args.zones,
        zone_weights=args.zone_weights,
    )
    written = write_calibration(cal, out, report=not args.no_report)
    _say(cal.log.summary())
    for problem in cal.problems:
        _say(f"  not fitted: {problem}")
    _say(f"scenario: {written[0]} (valid)")
    for path in written[1:]:
        _say(f"{'report' if path.suffix == '.html' else 'zones'}: {path}")
    return EXIT_OK


# --- backtest ---------------------------------------------------------------------------------
def _backtest_arguments(p: argparse.ArgumentParser) -> None:
    add_scenario(p)
    p.add_argument("log", metavar="LOG.csv", help="incident log (CSV) to replay and compare with")
    add_option(p, "the current arrangement (default: baseline)")
    add_replications(p)
    add_seed(p)
    p.add_argument(
        "--start",
        metavar="WHEN",
        help="date and time of simulated time 0 (default: the Monday 00:00 before the first call)",
    )
    add_log_arguments(p)
    add_out(
        p,
        "table file (default results/<scenario>-backtest-<time>.csv)",
        metavar="FILE.csv",
    )
    add_overwrite(p, "replace an existing file")


def _backtest(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    out = Path(args.out) if args.out else default_out_dir(Path(args.scenario), "backtest", ".csv")
    _free(out, args.overwrite)
    mapping = log_mapping(args.map, args.mapping, args.tz)
    replay = load_replay(args.log, scenario, start=args.start, tz=mapping.tz, mapping=mapping)
    _say(replay.summary(), err=True)
    table = backtest(
        scenario, replay, option=args.option, replications=args.replications, seed=args.seed
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(table, out)
    _say(format_backtest(table))
    _say(f"\nbacktest of option '{table['option'].iloc[0]}': {out}")
    return EXIT_OK


COMMANDS = {
    "export-log": Command(_export_log_arguments, _export_log),
    "calibrate": Command(_calibrate_arguments, _calibrate),
    "backtest": Command(_backtest_arguments, _backtest),
}
