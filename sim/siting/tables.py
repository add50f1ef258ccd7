"""The tables of ``intersim site``: one row per placement (``siting.csv``), the units per station
of each placement, each community's coverage and simulated share within target, and the
chosen placement's cost split between the communities."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .candidates import Site
from .game import LocationGame
from .instance import Instance, Scores, scores
from .placements import OBJECTIVES, Placement
from .simulate import Simulated

__all__ = [
    "SIMULATED",
    "chosen_placement",
    "community_table",
    "cost_table",
    "placement_table",
    "sites_table",
    "sites_text",
]

SIMULATED = ("mean_response", "p90_response", "within_target")
_MODEL_VALUE = {
    "mexclp": "expected",
    "mclp": "covered",
    "pmedian": "mean_trip",
    "p90": "p90_trip",
}


def sites_text(sites: list[Site], counts: np.ndarray) -> str:
    """'riverton 2; at_z017 1': the stations with units, and how many."""
    return "; ".join(f"{s.id} {int(c)}" for s, c in zip(sites, counts, strict=True) if c > 0)


def _value(sc: Scores, objective: str) -> float:
    return float(getattr(sc, _MODEL_VALUE[OBJECTIVES[objective]]))


def _simulated(sim: Simulated, option: str, priority: int, community: str = "all") -> dict:
    s = sim.summary
    rows = s[
        (s["option"] == option) & (s["priority"] == str(priority)) & (s["community"] == community)
    ].set_index("metric")
    out: dict[str, float] = {}
    for m in SIMULATED:
        for col, name in (("mean", m), ("ci_low", f"{m}_ci_low"), ("ci_high", f"{m}_ci_high")):
            out[name] = float(rows.loc[m, col]) if m in rows.index else math.nan
    return out


def _paired(sim: Simulated, option: str, priority: int) -> dict:
    c = sim.comparison
    rows = c[
        (c["option"] == option) & (c["priority"] == str(priority)) & (c["community"] == "all")
    ].set_index("metric")
    out: dict[str, object] = {}
    for m in SIMULATED:
        have = m in rows.index
        out[f"{m}_diff"] = float(rows.loc[m, "diff"]) if have else math.nan
        out[f"{m}_diff_ci_low"] = float(rows.loc[m, "ci_low"]) if have else math.nan
        out[f"{m}_diff_ci_high"] = float(rows.loc[m, "ci_high"]) if have else math.nan
        out[f"{m}_vs_today"] = str(rows.loc[m, "verdict"]) if have else "today"
    return out


def placement_table(
    inst: Instance,
    placements: list[Placement],
    sites: list[Site],
    sim: Simulated,
    objective: str,
    priority: int,
) -> pd.DataFrame:
    """``siting.csv``: per placement its sites and units, its value in the objective's model
    (``model_objective``) and in every model, and the simulated metrics with CIs and paired
    verdicts against today."""
    cost = sim.cost.set_index("option")
    rows = []
    for p in placements:
        sc = scores(inst, p.counts)
        rows.append(
            {
                "placement": p.name,
                "model": p.model,
                "sites": sites_text(sites, p.counts),
                "units": int(p.counts.sum()),
                "stations": int((p.counts > 0).sum()),
                "model_objective": _value(sc, objective),
                "status": p.status or "today",
                "gap": p.gap if p.model != "today" else math.nan,
                "solve_seconds": p.seconds,
                "covered": sc.covered,
                "expected_covered": sc.expected,
                "mean_trip": sc.mean_trip,
                "p90_trip": sc.p90_trip,
                **_simulated(sim, p.name, priority),
                **_paired(sim, p.name, priority),
                "cost_per_year": float(cost.loc[p.name, "mean"]),
                "cost_ci_low": float(cost.loc[p.name, "ci_low"]),
                "cost_ci_high": float(cost.loc[p.name, "ci_high"]),
            }
        )
    return pd.DataFrame(rows)


def chosen_placement(table: pd.DataFrame, metric: str, lower: bool, today: str) -> str:
    """The placement (not today's) with the best simulated ``metric``; today's when there is
    no other."""
    others = table[(table["placement"] != today) & table[metric].notna()]
    if others.empty:
        return today
    best = others[metric].idxmin() if lower else others[metric].idxmax()
    return str(table.loc[best, "placement"])


def sites_table(placements: list[Placement], sites: list[Site]) -> pd.DataFrame:
    """Units per station of every placement (stations with units), against today's."""
    today = placements[0].counts
    rows = []
    for p in placements:
        for i, s in enumerate(sites):
            if p.counts[i] <= 0 and today[i] <= 0:
                continue
            rows.append(
                {
                    "placement": p.name,
                    "station": s.id,
                    "name": s.label,
                    "kind": s.kind,
                    "community": s.community or "",
                    "new": s.entry is not None,
                    "units": int(p.counts[i]),
                    "change": int(p.counts[i] - today[i]),
                }
            )
    return pd.DataFrame(rows)


def community_table(
    inst: Instance, placements: list[Placement], sim: Simulated, priority: int
) -> pd.DataFrame:
    """Per placement and community: calls a year (of the checked priority), the covered share
    the models see, and the simulated share within target with its CI."""
    demand = inst.community_demand()
    rows = []
    for p in placements:
        covered = scores(inst, p.counts).by_community
        for c, name in enumerate(inst.communities):
            if demand[c] <= 0:
                continue
            got = _simulated(sim, p.name, priority, name)
            rows.append(
                {
                    "placement": p.name,
                    "community": name,
                    "calls_per_year": float(demand[c]),
                    "covered": covered[name],
                    "within_target": got["within_target"],
                    "within_target_ci_low": got["within_target_ci_low"],
                    "within_target_ci_high": got["within_target_ci_high"],
                }
            )
    return pd.DataFrame(rows)


def cost_table(sim: Simulated, chosen: str, today: str, game: LocationGame | None) -> pd.DataFrame:
    """The yearly cost of the service's units under the chosen placement and today's, split
    by each formula (with CIs over the replications) and, for the chosen one, by the Shapley
    value of its location game."""
    s = sim.shares
    rows = s[s["option"].isin([chosen, today])].rename(
        columns={"option": "placement", "formula": "method", "mean": "amount"}
    )
    rows = rows[["placement", "method", "community", "amount", "ci_low", "ci_high"]].copy()
    if game is not None:
        total = sim.cost.set_index("option").loc[chosen]
        extra = pd.DataFrame(
            {
                "placement": chosen,
                "method": "shapley",
                "community": list(game.shares),
                "amount": [float(total["mean"]) * v for v in game.shares.values()],
                "ci_low": [float(total["ci_low"]) * v for v in game.shares.values()],
                "ci_high": [float(total["ci_high"]) * v for v in game.shares.values()],
            }
        )
        rows = pd.concat([rows, extra], ignore_index=True)
    totals = rows.groupby(["placement", "method"])["amount"].transform("sum")
    rows["share"] = np.where(totals > 0, rows["amount"] / totals, math.nan)
    return rows.reset_index(drop=True)
