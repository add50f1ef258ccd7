"""Statistics across replications: confidence intervals and paired comparisons.

Each replication gives one observation of a metric; intervals use Student's t across
replications. Paired differences use common random numbers: replication ``r`` of every option
saw the same incidents, so differences are taken replication by replication.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["LOWER_IS_BETTER", "half_width", "paired_differences", "with_ci"]

LEVEL = 0.95

LOWER_IS_BETTER = {
    "mean_response": True,
    "median_response": True,
    "p90_response": True,
    "p95_response": True,
    "within_target": False,
    "mean_wait": True,
    "waited": True,
    "open": True,
    "incidents": None,
    "busy_fraction": None,
    "cost": True,
    "cost_per_incident": True,
    "cost_per_resident": True,
    "worst_within_target": False,
    "spread_within_target": True,
    "gini_p90": True,
    "spread_p90": True,
}


def half_width(values: np.ndarray, level: float = LEVEL) -> float:
    """Half-width of the t confidence interval of the mean of ``values`` (NaN if n < 2)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if len(v) < 2:
        return float("nan")
    return float(stats.t.ppf(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))


def with_ci(per_rep: pd.DataFrame, keys: Sequence[str], level: float = LEVEL) -> pd.DataFrame:
    """Mean and confidence interval of ``value`` across replications, per ``keys``."""
    grouped = per_rep.groupby(list(keys), observed=True, sort=False)["value"]
    out = grouped.agg(mean="mean", sd="std", n="count").reset_index()
    t = stats.t.ppf(0.5 + level / 2, np.maximum(out["n"] - 1, 1))
    half = np.where(out["n"] >= 2, t * out["sd"] / np.sqrt(out["n"]), np.nan)
    out["ci_low"] = out["mean"] - half
    out["ci_high"] = out["mean"] + half
    return out.drop(columns="sd")


def paired_differences(
    per_rep: pd.DataFrame, keys: Sequence[str], baseline: str, level: float = LEVEL
) -> pd.DataFrame:
    """Each option minus the baseline, replication by replication, with a paired CI and a
    verdict per metric: better, worse, or no significant difference."""
    keys = [k for k in keys if k != "option"]
    base = per_rep[per_rep["option"] == baseline].drop(columns="option")
    others = per_rep[per_rep["option"] != baseline]
    merged = others.merge(base, on=[*keys, "replication"], suffixes=("", "_base"))
    merged["diff"] = merged["value"] - merged["value_base"]
    grouped = merged.groupby(["option", *keys], observed=True, sort=False)
    out = grouped.agg(
        option_mean=("value", "mean"),
        baseline_mean=("value_base", "mean"),
        diff=("diff", "mean"),
        sd=("diff", "std"),
        n=("diff", "count"),
    ).reset_index()
    t = stats.t.ppf(0.5 + level / 2, np.maximum(out["n"] - 1, 1))
    half = np.where(out["n"] >= 2, t * out["sd"] / np.sqrt(out["n"]), np.nan)
    out["ci_low"], out["ci_high"] = out["diff"] - half, out["diff"] + half
    out["verdict"] = [
        _verdict(m, lo, hi)
        for m, lo, hi in zip(out["metric"], out["ci_low"], out["ci_high"], strict=True)
    ]
    return out.drop(columns="sd")


def _verdict(metric: str, lo: float, hi: float) -> str:
    lower = LOWER_IS_BETTER.get(metric)
    if np.isnan(lo) or np.isnan(hi) or (lo <= 0 <= hi):
        return "no significant difference"
    if lower is None:
        return "higher" if lo > 0 else "lower"
    improved = hi < 0 if lower else lo > 0
    return "better" if improved else "worse"
