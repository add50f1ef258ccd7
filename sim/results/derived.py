"""Tables derived from a result directory for people: what the figures draw and the report
quotes (who helped whom, within-target shares by community, the differences against the
baseline), computed once here so that a figure and a report sentence can never disagree."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .read import ALL, ResultData

__all__ = [
    "FOREST_METRICS",
    "FORMULA_NAMES",
    "biggest_gain",
    "cross_border",
    "forest_table",
    "help_matrix",
    "within_target_table",
]


FORMULA_NAMES = {
    "per_capita": "per capita",
    "per_call": "per call",
    "per_unit_hour": "per unit-hour used",
    "mix": "weighted mix",
}


FOREST_METRICS = {
    "mean_response": ("Mean response", "change, % of baseline", True),
    "p90_response": ("90th percentile response", "change, % of baseline", True),
    "within_target": ("Within target", "change, percentage points", False),
}


def forest_table(data: ResultData) -> pd.DataFrame:
    """Rows of comparison.csv drawn, with the drawn values: ``x``, ``x_low``, ``x_high``."""
    c = data.table("comparison")
    c = c[
        (c["community"] == ALL) & (c["priority"] == ALL) & c["metric"].isin(FOREST_METRICS)
    ].copy()
    relative = c["metric"].map(lambda m: FOREST_METRICS[m][2]).astype(bool)
    base = c["baseline_mean"].abs().where(c["baseline_mean"].abs() > 0)
    scale = np.where(relative, 100.0 / base, 100.0)
    for col, src in (("x", "diff"), ("x_low", "ci_low"), ("x_high", "ci_high")):
        c[col] = c[src] * scale
    return c.reset_index(drop=True)


def biggest_gain(data: ResultData, metric: str = "p90_response") -> pd.Series | None:
    """The significant improvement with the largest relative change, if any."""
    t = forest_table(data)
    t = t[(t["metric"] == metric) & (t["verdict"] == "better") & (t["baseline_mean"].abs() > 0)]
    if t.empty:
        return None
    rel = (t["diff"] / t["baseline_mean"]).abs()
    return t.loc[rel.idxmax()]


def help_matrix(data: ResultData, option: str, service: str | None = None) -> pd.DataFrame:
    """Unit-hours per run, owner (index) x incident community (columns)."""
    h = data.table("help")
    h = h[h["option"] == option]
    if service is not None:
        h = h[h["service"] == service]
    m = h.groupby(["owner", "community"], sort=False)["mean"].sum().unstack(fill_value=0.0)
    coms = data.communities
    return m.reindex(index=coms, columns=coms, fill_value=0.0).fillna(0.0)


def cross_border(m: pd.DataFrame) -> float:
    v = m.to_numpy(dtype=np.float64)
    return float(v.sum() - np.trace(v))


def within_target_table(data: ResultData) -> pd.DataFrame:
    """Rows of summary.csv drawn: within_target per service (urgent priority), community, option."""
    s = data.table("summary")
    rows = []
    for service in data.services:
        prio = data.urgent_priority(service)
        if prio is None:
            continue
        sub = s[
            (s["service"] == service)
            & (s["priority"] == prio)
            & (s["metric"] == "within_target")
            & (s["community"] != "all")
        ]
        rows.append(sub)
    if not rows:
        return s.iloc[0:0]
    return pd.concat(rows, ignore_index=True)
