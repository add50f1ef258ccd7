"""``intersim estimate``: instant Erlang C estimates per option and service (no simulation).

One block per option: what it changes against the baseline (dispatch policies, units), then per
service each community's own units and the pooled region, with which rows predict the waiting and
the load under that option's policy. An option whose units are the baseline's has the same
Erlang C figures (the estimate sees units, not dispatch rules), so its block says so instead of
repeating them.
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np
import pandas as pd

from ..analysis.erlang import caveat_lines, estimate, overload_warnings, queue_model
from ..engine.driver import Compiled, compile_scenario
from ..errors import printable
from ..results.display import fmt_duration
from ..schema import load_scenario
from .args import add_scenario
from .command import Command
from .exits import EXIT_OK

__all__ = ["COMMANDS"]

HEADERS = {
    "service": "service",
    "community": "community",
    "fleet": "units of",
    "calls_per_day": "calls/day",
    "offered_load": "load (Erlang)",
    "unit_count": "units",
    "on_duty": "on duty (mean)",
    "utilisation": "utilisation",
    "p_wait": "P(wait)",
    "mean_wait": "mean wait",
    "predicts": "predicts",
}
NUMBERS = ["calls_per_day", "offered_load", "unit_count", "on_duty", "utilisation"]


def _unit_counts(compiled: Compiled) -> dict[tuple[str, str, str], int]:
    """Units per (option, service, community), and per (option, service, 'all')."""
    region = compiled.region
    out: dict[tuple[str, str, str], int] = {}
    for option, fleet in compiled.fleets.items():
        for s, service in enumerate(region.services):
            mine = fleet.service == s
            for c, com in enumerate(region.communities):
                out[(option, service, com)] = int(np.sum(mine & (fleet.owner == c)))
            out[(option, service, "all")] = int(np.sum(mine))
    return out


def _station_counts(compiled: Compiled) -> dict[tuple[str, str, str], int]:
    """Units per (option, service, station)."""
    services = compiled.region.services
    out: dict[tuple[str, str, str], int] = {}
    for option, fleet in compiled.fleets.items():
        for s, station in zip(fleet.service, fleet.station_ids, strict=True):
            key = (option, services[int(s)], station)
            out[key] = out.get(key, 0) + 1
    return out


def _share(p: float) -> str:
    if not math.isfinite(p):
        return "-"
    return "< 0.1 %" if 0 < p < 0.0005 else f"{100 * p:.1f} %"


def _wait(minutes: float) -> str:
    if math.isinf(minutes):
        return "unbounded"
    return "< 0.1 min" if 0 < minutes < 0.05 else fmt_duration(minutes)


def _number(v: float) -> str:
    if not math.isfinite(v):
        return "-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _predicts(policy: str, fleet: str) -> str:
    model = queue_model(policy)
    roles = [
        what for what, pool in (("waiting", model.wait), ("load", model.load)) if pool == fleet
    ]
    return " and ".join(roles)


def _rows(est: pd.DataFrame, counts: dict[tuple[str, str, str], int]) -> pd.DataFrame:
    """The rows shown: each community's own units and the pooled region, formatted."""
    shown = est[(est["community"] != "all") | (est["fleet"] == "pooled")].copy()
    shown["unit_count"] = [
        counts[(o, s, c)]
        for o, s, c in zip(shown["option"], shown["service"], shown["community"], strict=True)
    ]
    part_time = ~np.isclose(shown["units"], shown["unit_count"])
    shown["on_duty"] = np.where(part_time, shown["units"], np.nan)
    shown["predicts"] = [
        _predicts(str(p), str(f)) for p, f in zip(shown["policy"], shown["fleet"], strict=True)
    ]
    out = shown.assign(
        fleet=np.where(shown["community"] == "all", "region", "own"),
        utilisation=[_share(u) for u in shown["utilisation"]],
        p_wait=[_share(p) for p in shown["p_wait"]],
        mean_wait=[_wait(m) for m in shown["mean_wait"]],
        calls_per_day=[_number(v) for v in shown["calls_per_day"]],
        offered_load=[_number(v) for v in shown["offered_load"]],
        on_duty=["" if math.isnan(v) else f"{v:.2f}" for v in shown["on_duty"]],
    )
    return out


def _differences(
    counts: dict[tuple[str, str, str], int], option: str, base: str, where: str
) -> list[str]:
    """'ambulance at hub: 0 -> 2' for every (service, place) whose units differ."""
    places = sorted({(s, p) for (o, s, p) in counts if o in (option, base) and p != "all"})
    out = []
    for s, p in places:
        before, after = counts.get((base, s, p), 0), counts.get((option, s, p), 0)
        if before != after:
            out.append(f"{s} {where} {p}: {before} -> {after}")
    return out


def _changes(
    est: pd.DataFrame,
    counts: dict[tuple[str, str, str], int],
    stations: dict[tuple[str, str, str], int],
    option: str,
    base: str,
) -> str:
    """What ``option`` changes against ``base``: dispatch per service, units per station and
    per owning community."""
    policies = est.drop_duplicates(["option", "service"]).set_index(["option", "service"])["policy"]
    services = list(dict.fromkeys(est["service"]))
    if option == base:
        used = {str(policies[(option, s)]) for s in services}
        if len(used) == 1:
            return f"dispatch {used.pop()} for every service"
        return "dispatch " + ", ".join(f"{s} {policies[(option, s)]}" for s in services)
    changed = [
        f"{s} {policies[(option, s)]}"
        for s in services
        if policies[(option, s)] != policies[(base, s)]
    ]
    moved = _differences(stations, option, base, "at") + _differences(
        counts, option, base, "owned by"
    )
    parts = ["dispatch " + ", ".join(changed) if changed else "the same dispatch"]
    parts.append("units " + "; ".join(moved) if moved else "the same units")
    return f"against {base}: " + "; ".join(parts)


def _same_figures(rows: pd.DataFrame, option: str, earlier: list[str]) -> str | None:
    """The earlier option whose figures (everything but the policy) equal ``option``'s."""
    cols = [c for c in HEADERS if c != "predicts"]
    mine = rows[rows["option"] == option][cols].reset_index(drop=True)
    for other in earlier:
        if mine.equals(rows[rows["option"] == other][cols].reset_index(drop=True)):
            return other
    return None


def _rows_of(pool: str) -> str:
    return "the region row" if pool == "pooled" else "the own rows"


def _predicted_by(est: pd.DataFrame, option: str) -> str:
    """Which rows predict what under ``option``, per dispatch policy of its services."""
    policies = est[est["option"] == option].drop_duplicates("service")
    parts = []
    for policy, group in policies.groupby("policy", sort=False):
        model = queue_model(str(policy))
        roles = (
            f"waiting and load {_rows_of(model.wait)}"
            if model.wait == model.load
            else f"waiting {_rows_of(model.wait)}, load {_rows_of(model.load)}"
        )
        parts.append(f"{', '.join(group['service'])} ({policy}): {roles}")
    return "; ".join(parts)


def format_estimate(
    est: pd.DataFrame,
    counts: dict[tuple[str, str, str], int],
    stations: dict[tuple[str, str, str], int],
    base: str,
) -> str:
    """The console report of ``estimate``: a block per option."""
    rows = _rows(est, counts)
    blocks = []
    options = list(dict.fromkeys(est["option"]))
    for i, option in enumerate(options):
        mine = rows[rows["option"] == option]
        head = f"{option}" + (" (baseline)" if option == base else "")
        lines = [f"{head}: {_changes(est, counts, stations, option, base)}"]
        same = _same_figures(rows, option, options[:i])
        if same is not None:
            lines.append(
                f"  the Erlang C figures of {same} (the same units per community; Erlang C sees "
                f"neither dispatch rules nor stations); they predict: {_predicted_by(est, option)}"
            )
        else:
            table = mine[list(HEADERS)].rename(columns=HEADERS)
            text = table.to_string(index=False)
            lines += ["  " + line for line in text.splitlines()]
        blocks.append("\n".join(lines))
    legend = (
        "Erlang C estimates, no simulation. units: units of the service (on duty (mean): the "
        "time-average number on duty, shown for part-time units); load: calls per minute x busy "
        "minutes per call; predicts: which rows describe the option's dispatch policy."
    )
    return legend + "\n\n" + "\n\n".join(blocks)


def _estimate(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    compiled = compile_scenario(scenario)
    est = estimate(compiled.region, compiled.fleets)
    counts, stations = _unit_counts(compiled), _station_counts(compiled)
    print(format_estimate(est, counts, stations, scenario.baseline_option))
    for line in caveat_lines(est):
        print(f"note: Erlang C may mislead for {line}")
    for warning in overload_warnings(est):
        print(f"warning: {printable(warning)}", file=sys.stderr)
    return EXIT_OK


COMMANDS = {"estimate": Command(add_scenario, _estimate)}
