"""``intersim size`` and ``intersim coalitions``: their arguments and commands (called from
:mod:`sim.cli`). Bad input is an :class:`~sim.errors.InputError` (exit code 2) before anything
runs; the output directory appears complete or not at all."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..cli.args import add_executor_arguments, non_negative_int, positive_int

__all__ = ["add_coalitions_arguments", "add_size_arguments", "run_coalitions", "run_size"]

EXIT_OK, EXIT_FAIL = 0, 1


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], e.g. 0.9: {text!r}")
    return value


def _confidence(text: str) -> float:
    value = _share(text)
    if not 0.5 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0.5, 1), e.g. 0.95: {text!r}")
    return value


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--service", required=True, metavar="NAME", help="the service to size")
    p.add_argument(
        "--target-share",
        type=_share,
        metavar="F",
        help="override every target share, e.g. 0.9 (default: the scenario's)",
    )
    p.add_argument(
        "--confidence",
        type=_confidence,
        default=0.95,
        metavar="F",
        help="one-sided confidence of the lower bound (default 0.95)",
    )
    p.add_argument(
        "--all-priorities",
        action="store_true",
        help="check every priority with a target (default: the most urgent)",
    )
    p.add_argument(
        "--replications",
        type=positive_int,
        metavar="N",
        help="replications of the search (default: the scenario's; at least 2)",
    )
    p.add_argument(
        "--confirm-replications",
        type=positive_int,
        metavar="N",
        help="fresh replications confirming the answer (default: as many)",
    )
    p.add_argument("--seed", type=non_negative_int, metavar="S")
    p.add_argument(
        "--placement",
        action="store_true",
        help="also use communities' own stations without a unit today (default: today's stations)",
    )
    p.add_argument(
        "--max-units",
        type=positive_int,
        metavar="N",
        help="largest fleet a search may reach (default: twice today's + 10)",
    )
    add_executor_arguments(p)
    p.add_argument("--out", metavar="DIR", help="output directory (default results/...)")
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty output directory")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_size_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "For each pooling option, the smallest fleet of one service that meets the response "
        "targets in every community: the one-sided lower confidence bound of each community's "
        "share within target must reach its target share. Starts from Erlang C, searches by "
        "simulation with common random numbers, confirms on fresh replications."
    )
    _common(p)
    p.add_argument(
        "--option",
        action="append",
        metavar="NAME",
        help="only this option (repeatable; default: all; the baseline is always sized)",
    )


def add_coalitions_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Every coalition of communities (up to 8) pooling one service among its members: its "
        "value (the cost of the fleet it needs, or with --value service the calls it misses "
        "with today's units), the pooling gain, the Shapley value and the nucleolus, whether "
        "the grand coalition is stable (the core), and the formulas agreements use against "
        "each community's stand-alone cost."
    )
    _common(p)
    p.add_argument(
        "--value",
        choices=["cost", "service"],
        default="cost",
        help="cost: yearly cost of the fleet meeting the targets (default); "
        "service: calls per year not within target with today's units",
    )
    p.add_argument(
        "--fast",
        action="store_true",
        help="Erlang C instead of simulation (instant; no travel between communities)",
    )
    p.add_argument(
        "--no-confirm",
        action="store_true",
        help="skip confirming each coalition's fleet on fresh replications",
    )


def _out(args: argparse.Namespace, what: str) -> Path:
    from ..results.files import claim_out_dir

    if args.out is not None:
        out = Path(args.out)
    else:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        out = Path("results") / f"{Path(args.scenario).stem}-{what}-{stamp}"
    claim_out_dir(out, args.overwrite)  # locked and reserved until the results are in place
    return out


def _write(text: str = "", *, err: bool = False) -> None:
    (sys.stderr if err else sys.stdout).write(text + "\n")


def _common_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "target_share": args.target_share,
        "confidence": args.confidence,
        "replications": args.replications,
        "confirm_replications": args.confirm_replications,
        "seed": args.seed,
        "placement": args.placement,
        "priorities": "all" if args.all_priorities else "first",
        "max_units": args.max_units,
        "workers": args.workers,
        "dask": args.dask,
        "progress": not args.quiet,
    }


def run_size(args: argparse.Namespace) -> int:
    from ..results.display import fmt_money
    from ..schema import load_scenario
    from .output import write_sizing
    from .sizing import size

    started = datetime.now(UTC)
    scenario = load_scenario(args.scenario)
    out = _out(args, "size")
    result = size(args.scenario, args.service, options=args.option, **_common_kwargs(args))
    path = write_sizing(
        result,
        scenario,
        out,
        command=getattr(args, "command_line", ""),
        started=started,
        overwrite=args.overwrite,
    )
    s = result.summary
    table = s.assign(
        cost_per_year=s["cost_per_year"].map(fmt_money),
        cost_today=s["cost_today"].map(fmt_money),
        cost_saved=s["cost_saved"].map(fmt_money),
    )[
        [
            "option",
            "policy",
            "status",
            "units_today",
            "units",
            "units_saved",
            "cost_today",
            "cost_per_year",
            "cost_saved",
            "held",
            "stations",
        ]
    ]
    _write(
        f"{scenario.name}: smallest {args.service} fleet per option ({result.replications} "
        f"replications, confirmed on {result.confirm_replications} fresh ones; "
        f"savings against '{result.baseline}'):\n"
    )
    _write(table.to_string(index=False))
    for w in result.warnings:
        _write(f"warning: {w}", err=True)
    not_held = list(s.loc[~s["held"].astype(bool), "option"])
    if not_held:
        _write(
            f"warning: the answer did not hold on fresh replications for: "
            f"{', '.join(not_held)} (more --replications narrow the bounds)",
            err=True,
        )
    _write(
        f"\ndone in {result.seconds:.1f} s on {result.executor}; results in {out} (page: {path})"
    )
    return EXIT_OK


def run_coalitions(args: argparse.Namespace) -> int:
    from ..results.display import fmt_money
    from ..schema import load_scenario
    from .coalition import METHOD_NAMES, coalitions
    from .output import write_coalitions

    started = datetime.now(UTC)
    scenario = load_scenario(args.scenario)
    out = _out(args, "coalitions")
    result = coalitions(
        args.scenario,
        args.service,
        value=args.value,
        fast=args.fast,
        confirm=not args.no_confirm,
        **_common_kwargs(args),
    )
    path = write_coalitions(
        result,
        scenario,
        out,
        command=getattr(args, "command_line", ""),
        started=started,
        overwrite=args.overwrite,
    )
    fmt = fmt_money if args.value == "cost" else (lambda v: f"{v:,.1f}")
    a = result.allocations
    wide = a.pivot(index="community", columns="method", values="amount").reindex(result.players)
    wide = wide[list(dict.fromkeys(a["method"]))]
    above = a.pivot(index="community", columns="method", values="above_stand_alone")
    shown = wide.copy().astype(object)
    for m in wide.columns:
        shown[m] = [
            fmt(float(v)) + (" *" if bool(above.loc[c, m]) else "") for c, v in wide[m].items()
        ]
    alone = a[a["method"] == "shapley"].set_index("community")["stand_alone"]
    shown.insert(0, "alone", [fmt(float(alone[c])) for c in shown.index])
    shown.columns = [METHOD_NAMES.get(c, c) for c in shown.columns]
    what = "cost per year" if args.value == "cost" else "missed calls per year"
    how = "Erlang C" if args.fast else f"simulation, {result.replications} replications"
    _write(
        f"{scenario.name}: {len(result.values)} coalitions of {args.service} ({what}, "
        f"{how}); grand coalition {fmt(result.grand_value)}\n"
    )
    _write(shown.to_string())
    _write("(* more than going alone would cost)\n")
    eps = result.least_core_epsilon
    eps = 0.0 if abs(eps) < 1e-6 * max(1.0, abs(result.grand_value)) else eps
    _write(
        f"core {'non-empty' if result.core_nonempty else 'EMPTY'} (least-core epsilon {fmt(eps)})"
    )
    for r in result.stability.itertuples():
        verdict = (
            "in the core"
            if r.in_core
            else (
                f"not in the core: {r.most_violated} would save {fmt(float(r.excess))} by leaving"
            )
        )
        _write(f"  {METHOD_NAMES.get(r.method, r.method)}: {verdict}")
    for w in result.warnings:
        _write(f"warning: {w}", err=True)
    _write(
        f"\ndone in {result.seconds:.1f} s on {result.executor}; results in {out} (page: {path})"
    )
    return EXIT_OK
