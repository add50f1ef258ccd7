"""Cost of each option and how it is shared between communities.

Cost is on-duty unit-hours times the unit's hourly cost (from the units table). A community's
share is computed under the formulas real agreements use: per capita, per call, per unit-hour
used, and a weighted mix set in the scenario (``cost_sharing.mix``). Each formula's shares sum
to the total cost of the option.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model.compile import Region

__all__ = ["FORMULAS", "call_counts", "cost_metrics", "cost_shares", "shares_of_cost"]

FORMULAS = ("per_capita", "per_call", "per_unit_hour", "mix")


def cost_metrics(units: pd.DataFrame, metrics: pd.DataFrame, region: Region) -> pd.DataFrame:
    """Per replication x option x service: total cost, cost per incident and per resident
    (long format, community 'all', priority 'all')."""
    cost = units.groupby(["replication", "option", "service"], observed=True)["cost"].sum()
    n = metrics[
        (metrics["metric"] == "incidents")
        & (metrics["community"] == "all")
        & (metrics["priority"] == "all")
    ].set_index(["replication", "option", "service"])["value"]
    cost.index = cost.index.set_levels(
        [cost.index.levels[1].astype(str), cost.index.levels[2].astype(str)], level=[1, 2]
    )
    df = pd.DataFrame({"cost": cost})
    df["cost_per_incident"] = df["cost"] / n.reindex(df.index)
    df["cost_per_resident"] = df["cost"] / region.population.sum()
    long = df.reset_index().melt(id_vars=["replication", "option", "service"], var_name="metric")
    long["priority"] = "all"
    long["community"] = "all"
    return long[["replication", "option", "service", "priority", "community", "metric", "value"]]


def call_counts(incidents: pd.DataFrame) -> pd.Series:
    """Calls after the warm-up per replication x option x community, every option and
    community of the table's categories included (zero where none called): what the per-call
    formula shares by. Counts of replications made apart can be concatenated."""
    keys = ["replication", "option", "community"]
    counted = incidents.loc[~incidents["warmup"].to_numpy(), keys]  # not every column: a copy
    return counted.groupby(keys, observed=False).size()


def cost_shares(
    units: pd.DataFrame,
    incidents: pd.DataFrame,
    helped: pd.DataFrame,
    region: Region,
    mix: dict[str, float],
) -> pd.DataFrame:
    """Each community's share of each option's total cost (all services), per formula and
    replication: columns replication, option, formula, community, share, cost."""
    return shares_of_cost(units, call_counts(incidents), helped, region, mix)


def shares_of_cost(
    units: pd.DataFrame,
    calls: pd.Series,
    helped: pd.DataFrame,
    region: Region,
    mix: dict[str, float],
) -> pd.DataFrame:
    """:func:`cost_shares` from the :func:`call_counts` of the replications."""
    total = units.groupby(["replication", "option"], observed=True)["cost"].sum()
    used = helped.groupby(["replication", "option", "community"], observed=True)["unit_hours"].sum()
    communities = list(region.communities)
    pop = pd.Series(region.population, index=communities)
    runs = [(rep, str(opt)) for rep, opt in total.index]
    by_call, by_hour = _shares(calls, runs, communities), _shares(used, runs, communities)
    weights = {k: v / sum(mix.values()) for k, v in mix.items()}
    rows = []
    for i, ((rep, opt), cost) in enumerate(zip(runs, total.to_numpy(), strict=True)):
        basis = {
            "population": (pop / pop.sum()).to_numpy(),
            "calls": by_call[i],
            "unit_hours": by_hour[i],
        }
        formulas = {
            "per_capita": basis["population"],
            "per_call": basis["calls"],
            "per_unit_hour": basis["unit_hours"],
            "mix": sum(w * basis[k] for k, w in weights.items()),
        }
        for name, share in formulas.items():
            for j, com in enumerate(communities):
                rows.append((rep, opt, name, com, float(share[j]), float(share[j]) * cost))
    return pd.DataFrame(
        rows, columns=["replication", "option", "formula", "community", "share", "cost"]
    )


def _shares(counts: pd.Series, runs: list[tuple[int, str]], communities: list[str]) -> np.ndarray:
    """Each run's (replication, option) share of ``counts`` per community, one row per run: a
    community without any counts has 0, a run without any an equal share everywhere."""
    values = np.zeros((len(runs), len(communities)), dtype=np.float64)
    row = {run: i for i, run in enumerate(runs)}
    column = {c: j for j, c in enumerate(communities)}
    index = counts.index
    keys = zip(
        index.get_level_values("replication"),
        index.get_level_values("option").astype(str),
        index.get_level_values("community").astype(str),
        strict=True,
    )
    for (rep, option, community), n in zip(keys, counts.to_numpy(np.float64), strict=True):
        i, j = row.get((rep, option)), column.get(community)
        if i is not None and j is not None:
            values[i, j] = n
    out = np.empty_like(values)
    for i, v in enumerate(values):
        total = v.sum()
        out[i] = v / total if total > 0 else 1.0 / len(v)
    return out
