"""``intersim size`` and ``intersim coalitions``: the smallest fleet per option, and the
coalition game with its cost sharing. Bad input is an :class:`~sim.errors.InputError` (exit
code 2) before anything runs; the output directory appears complete or not at all."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ..decide.coalition import METHOD_NAMES, coalitions
from ..decide.output import write_coalitions, write_sizing
from ..decide.sizing import size
from ..results.display import fmt_money
from ..schema import load_scenario
from .args import (
    add_executor_arguments,
    add_option,
    add_out,
    add_overwrite,
    add_quiet,
    add_replications,
    add_scenario,
    add_seed,
    confidence,
    positive_int,
    share,
)
from .command import Command
from .exits import EXIT_OK
from .outdirs import checked_out_dir

__all__ = ["COMMANDS"]


def _common(p: argparse.ArgumentParser) -> None:
    add_scenario(p)
    p.add_argument("--service", required=True, metavar="NAME", help="the service to size")
    p.add_argument(
        "--target-share",
        type=share,
        metavar="F",
        help="override every target share, e.g. 0.9 (default: the scenario's)",
    )
    p.add_argument(
        "--confidence",
        type=confidence,
        default=0.95,
        metavar="F",
        help="one-sided confidence of the lower bound (default 0.95)",
    )
    p.add_argument(
        "--all-priorities",
        action="store_true",
        help="check every priority with a target (default: the most urgent)",
    )
    add_replications(p, "replications of the search (default: the scenario's; at least 2)")
    p.add_argument(
        "--confirm-replications",
        type=positive_int,
        metavar="N",
        help="fresh replications confirming the answer (default: as many)",
    )
    add_seed(p)
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
    add_out(p, "output directory (default results/<scenario>-<command>-<time>)")
    add_overwrite(p)
    add_quiet(p)


def _size_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "For each pooling option, the smallest fleet of one service that meets the response "
        "targets in every community: the one-sided lower confidence bound of each community's "
        "share within target must reach its target share. Starts from Erlang C, searches by "
        "simulation with common random numbers, confirms on fresh replications."
    )
    _common(p)
    add_option(p, "only this option (repeatable; default: all; the baseline is always sized)", True)


def _coalitions_arguments(p: argparse.ArgumentParser) -> None:
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


def _say(text: str = "", *, err: bool = False) -> None:
    print(text, file=sys.stderr if err else sys.stdout)


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


def _size(args: argparse.Namespace) -> int:
    started = datetime.now(UTC)
    scenario = load_scenario(args.scenario)
    out = checked_out_dir(args.out, args.scenario, args.overwrite, "size")
    result = size(args.scenario, args.service, options=args.option, **_common_kwargs(args))
    path = write_sizing(
        result,
        scenario,
        out,
        command=args.command_line,
        started=started,
        overwrite=args.overwrite,
    )
    s = result.summary
    base = result.baseline
    b = s[s["option"] == base].iloc[0]
    vs_today, vs_sized = f"saved vs today's {base}", f"saved vs {base} meeting targets"

    def saved(units: pd.Series, cost: pd.Series) -> list[str]:
        return [
            f"{int(u)} unit{'' if abs(int(u)) == 1 else 's'}, {fmt_money(float(c))}"
            for u, c in zip(units, cost, strict=True)
        ]

    table = s.assign(
        cost_per_year=s["cost_per_year"].map(fmt_money),
        cost_today=s["cost_today"].map(fmt_money),
        **{
            vs_today: saved(s["units_saved_vs_today"], s["cost_saved_vs_today"]),
            vs_sized: saved(s["units_saved"], s["cost_saved"]),
        },
    )[
        [
            "option",
            "policy",
            "status",
            "units_today",
            "units",
            "cost_today",
            "cost_per_year",
            vs_today,
            vs_sized,
            "held",
            "stations",
        ]
    ]
    _say(
        f"{scenario.name}: smallest {args.service} fleet per option ({result.replications} "
        f"replications, confirmed on {result.confirm_replications} fresh ones).\n"
        f"Savings against today's fleet ('{base}' as the scenario gives it: "
        f"{int(b['units_today'])} units, {fmt_money(float(b['cost_today']))} a year) and against "
        f"the '{base}' fleet sized to meet the targets ({int(b['units'])} units, "
        f"{fmt_money(float(b['cost_per_year']))} a year"
        + ("" if b["status"] == "met" else "; it comes closest but does not meet them all")
        + "):\n"
    )
    _say(table.to_string(index=False))
    for w in result.warnings:
        _say(f"warning: {w}", err=True)
    not_held = list(s.loc[~s["held"].astype(bool), "option"])
    if not_held:
        _say(
            f"warning: the answer did not hold on fresh replications for: "
            f"{', '.join(not_held)} (more --replications narrow the bounds)",
            err=True,
        )
    _say(f"\ndone in {result.seconds:.1f} s on {result.executor}; results in {out} (page: {path})")
    return EXIT_OK


def _coalitions(args: argparse.Namespace) -> int:
    started = datetime.now(UTC)
    scenario = load_scenario(args.scenario)
    out = checked_out_dir(args.out, args.scenario, args.overwrite, "coalitions")
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
        command=args.command_line,
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
    if not args.fast:  # the screening estimate beside the simulation
        screen = a[a["method"] == "shapley"].set_index("community")["amount_analytic"]
        shown["Shapley, Erlang C screening"] = [fmt(float(screen[c])) for c in shown.index]
    what = "cost per year" if args.value == "cost" else "missed calls per year"
    v = result.values
    grand = v[v["size"] == v["size"].max()].iloc[0]
    if args.fast:
        _say(
            f"{scenario.name}: {len(result.values)} coalitions of {args.service} ({what}): "
            f"SCREENING ESTIMATE by Erlang C (--fast), not a simulation: no travel between "
            f"communities, so fleets and values can differ widely from a simulated run; "
            f"grand coalition {fmt(result.grand_value)} with {int(grand['units'])} units\n"
        )
    else:
        _say(
            f"{scenario.name}: {len(result.values)} coalitions of {args.service} ({what}, "
            f"simulation, {result.replications} replications); grand coalition "
            f"{fmt(result.grand_value)} with {int(grand['units'])} units (Erlang C screening "
            f"estimate: {fmt(float(grand['value_analytic']))} with "
            f"{int(grand['units_analytic'])} units)\n"
        )
    _say(shown.to_string())
    if bool(above.to_numpy(dtype=bool).any()):
        _say("(* more than going alone would cost)")
    _say("")
    eps = result.least_core_epsilon
    eps = 0.0 if abs(eps) < 1e-6 * max(1.0, abs(result.grand_value)) else eps
    _say(f"core {'non-empty' if result.core_nonempty else 'EMPTY'} (least-core epsilon {fmt(eps)})")
    for r in result.stability.itertuples():
        verdict = (
            "in the core"
            if r.in_core
            else (
                f"not in the core: {r.most_violated} would save {fmt(float(r.excess))} by leaving"
            )
        )
        _say(f"  {METHOD_NAMES.get(r.method, r.method)}: {verdict}")
    for w in result.warnings:
        _say(f"warning: {w}", err=True)
    _say(f"\ndone in {result.seconds:.1f} s on {result.executor}; results in {out} (page: {path})")
    return EXIT_OK


COMMANDS = {
    "size": Command(_size_arguments, _size),
    "coalitions": Command(_coalitions_arguments, _coalitions),
}
