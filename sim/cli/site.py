"""``intersim site``: where to put a service's stations and units, by an exact location model
(MEXCLP, maximal covering, p-median, 90th-percentile centre) confirmed by a paired simulation.
Bad input, and rules no placement can meet, are an :class:`~sim.errors.InputError` (exit
code 2) before anything is simulated; the output directory appears complete or not at all."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from ..results.display import fmt_minutes, fmt_pct
from ..siting import OBJECTIVES, site
from ..siting.output import write_siting
from .args import (
    add_executor_arguments,
    add_out,
    add_overwrite,
    add_quiet,
    add_replications,
    add_scenario,
    add_seed,
    non_negative_int,
    positive_int,
)
from .command import Command
from .exits import EXIT_OK
from .outdirs import checked_out_dir

__all__ = ["COMMANDS", "min_coverage"]


def _coverage(text: str) -> tuple[str, float]:
    """``COMMUNITY=SHARE`` or ``SHARE`` (every community)."""
    name, _, value = text.rpartition("=")
    try:
        share = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected COMMUNITY=SHARE or SHARE, e.g. pine_ridge=0.8: {text!r}"
        ) from None
    if not 0 <= share <= 1:
        raise argparse.ArgumentTypeError(f"a share must be in [0, 1], e.g. 0.8: {text!r}")
    return (name or "all"), share


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds: {text!r}")
    return value


def min_coverage(pairs: list[tuple[str, float]] | None) -> dict[str, float]:
    """The ``--min-coverage`` values by community ('all': every community)."""
    return dict(pairs or [])


def _arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Where to put one service's stations and units. Stage 1 solves an exact location model "
        "(HiGHS) on the zone travel matrix: MEXCLP (--objective within_target), maximal "
        "covering (coverage), p-median (mean) or the 90th-percentile centre (p90), under the "
        "rules given. Stage 2 simulates today's placement and the model's best ones as the "
        "options of one comparison with common random numbers, and splits the chosen "
        "placement's cost between the communities."
    )
    add_scenario(p)
    p.add_argument("--service", required=True, metavar="NAME", help="the service to place")
    p.add_argument(
        "--candidates",
        default="stations",
        metavar="FILE|zones|stations",
        help="candidate sites: the scenario's stations (default), a new station in every "
        "demand zone, or a file of points (CSV, GeoJSON, GeoPackage, Shapefile; columns id, "
        "x/y or lon/lat, optional community); today's stations are always candidates",
    )
    p.add_argument(
        "--units", type=positive_int, metavar="N", help="units to place (default: today's)"
    )
    p.add_argument(
        "--stations", type=positive_int, metavar="K", help="open at most K stations (default: any)"
    )
    p.add_argument(
        "--objective",
        choices=list(OBJECTIVES),
        default="within_target",
        help="within_target: MEXCLP, expected calls within target with busy units (default); "
        "coverage: maximal covering; mean: p-median; p90: 90th-percentile centre",
    )
    p.add_argument(
        "--keep",
        nargs="+",
        action="extend",
        default=[],
        metavar="STATION",
        help="stations that must stay open",
    )
    p.add_argument(
        "--close-at-most",
        type=non_negative_int,
        metavar="M",
        help="close at most M of today's stations",
    )
    p.add_argument(
        "--max-per-station", type=positive_int, metavar="U", help="at most U units at a station"
    )
    p.add_argument(
        "--min-coverage",
        type=_coverage,
        action="append",
        metavar="[COMMUNITY=]SHARE",
        help="cover at least SHARE of a community's calls within target (repeatable; a bare "
        "SHARE: every community)",
    )
    p.add_argument(
        "--option",
        metavar="NAME",
        help="the option placements start from, today's placement (default: the first that "
        "pools the service, else the baseline)",
    )
    p.add_argument(
        "--placements",
        type=positive_int,
        default=3,
        metavar="N",
        help="the model's best N placements to simulate (default 3)",
    )
    p.add_argument(
        "--time-limit",
        type=_seconds,
        default=60.0,
        metavar="SECONDS",
        help="solver time per model program (default 60); on reaching it the best placement "
        "found is used and its gap to the optimum stated",
    )
    add_replications(p, "replications of the simulation (default: the scenario's; at least 2)")
    add_seed(p)
    add_executor_arguments(p, "replications", serial=True)
    add_out(p, "output directory", required=True)
    add_overwrite(p)
    add_quiet(p)


def _say(text: str = "", *, err: bool = False) -> None:
    print(text, file=sys.stderr if err else sys.stdout)


def _run(args: argparse.Namespace) -> int:
    started = datetime.now(UTC)
    out = checked_out_dir(args.out, args.scenario, args.overwrite, "site")
    result = site(
        args.scenario,
        args.service,
        candidates=args.candidates,
        units=args.units,
        stations=args.stations,
        objective=args.objective,
        keep=args.keep,
        close_at_most=args.close_at_most,
        max_per_station=args.max_per_station,
        min_coverage=min_coverage(args.min_coverage),
        option=args.option,
        placements=args.placements,
        replications=args.replications,
        seed=args.seed,
        time_limit=args.time_limit,
        workers=args.workers if args.workers is not None or args.dask else 1,
        dask=args.dask,
        progress=not args.quiet,
    )
    path = write_siting(
        result, out, command=args.command_line, started=started, overwrite=args.overwrite
    )
    t = result.siting
    shown = t.assign(
        within_target=[
            f"{fmt_pct(v, 1)} ({d})"
            for v, d in zip(t["within_target"], t["within_target_vs_today"], strict=True)
        ],
        mean_response=t["mean_response"].map(fmt_minutes),
        p90_response=t["p90_response"].map(fmt_minutes),
        covered=t["covered"].map(lambda v: fmt_pct(v, 1)),
        model_objective=t["model_objective"].map(lambda v: f"{v:.4g}"),
        chosen=t["chosen"].map(lambda c: "<- chosen" if c else ""),
    )[
        [
            "placement",
            "model",
            "stations",
            "model_objective",
            "status",
            "covered",
            "within_target",
            "mean_response",
            "p90_response",
            "chosen",
        ]
    ]
    svc = result.scenario.services[result.service].name or result.service
    _say(
        f"{result.scenario.name}: {result.instance.units} {svc} units on {len(result.sites)} "
        f"candidate sites, objective {result.objective} (models {result.model_seconds:.2f} s), "
        f"simulated over {result.replications} replications against today's "
        f"'{result.base_option}' (common random numbers, paired verdicts):\n"
    )
    _say(shown.to_string(index=False))
    for w in result.warnings:
        _say(f"warning: {w}", err=True)
    _say(f"\ndone in {result.seconds:.1f} s; results in {out} (page: {path})")
    return EXIT_OK


COMMANDS = {"site": Command(_arguments, _run)}
