"""From the stored rows to the sweep's tables: the summary with confidence intervals, the design.

``summary.csv`` is tidy: one row per design point x option x service x metric, with the
parameter values of the point, the mean across replications, ``n`` and the 95 % confidence
interval (Student's t, :func:`sim.stats.with_ci`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..analysis.stats import with_ci
from .task import METRICS

__all__ = ["points_table", "summarise"]


def points_table(points: Sequence[Mapping[str, Any]], paths: list[str]) -> pd.DataFrame:
    """The design: one row per point, one column per parameter path."""
    df = pd.DataFrame([{p: pt[p] for p in paths} for pt in points], columns=paths)
    df.insert(0, "point", range(len(df)))
    return df


def summarise(
    rows: pd.DataFrame, points: pd.DataFrame, options: list[str], services: list[str]
) -> pd.DataFrame:
    """Mean and 95 % CI across replications per point x option x service x metric."""
    params = [c for c in points.columns if c != "point"]
    cols = ["point", "option", "service", "metric", "mean", "n", "ci_low", "ci_high"]
    if rows.empty:
        return pd.DataFrame(columns=["point", *params, *cols[1:]])
    long = rows.melt(
        id_vars=["task", "point", "option", "replication", "service"],
        value_vars=list(METRICS),
        var_name="metric",
        value_name="value",
    )
    out = with_ci(long, ["point", "option", "service", "metric"])
    order = {
        "option": {o: i for i, o in enumerate(options)},
        "service": {s: i for i, s in enumerate(services)},
        "metric": {m: i for i, m in enumerate(METRICS)},
    }
    out = out.sort_values(
        ["point", "option", "service", "metric"],
        key=lambda col: col.map(order[str(col.name)]) if col.name in order else col,
        kind="stable",
    )
    out = out.merge(points, on="point", how="left", validate="many_to_one")
    return out[["point", *params, *cols[1:]]].reset_index(drop=True)
