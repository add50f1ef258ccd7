"""Statistics across replications: confidence intervals and paired comparisons.

Each replication gives one observation of a metric; intervals use Student's t across
replications, intersected with the metric's possible range (a share lies in [0, 1], a time, a
count or a cost is never negative). The intersection keeps the interval's coverage: the true
mean lies in that range, so whenever the t interval holds it, the intersection does too.

Paired differences use common random numbers: replication ``r`` of every option saw the same
incidents, so differences are taken replication by replication. A verdict is ``better`` or
``worse`` when the paired interval excludes zero, ``equivalent`` when it lies inside the
metric's practical margin (a difference too small to matter, see :data:`MARGINS`), and ``no
significant difference`` otherwise. Metrics that are identical under every option by design
(the incident count, with common random numbers) are not compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import stdtrit

__all__ = [
    "BOUNDS",
    "IDENTICAL_BY_DESIGN",
    "LOWER_IS_BETTER",
    "MARGINS",
    "NON_NEGATIVE",
    "SHARE",
    "Margin",
    "bounds_of",
    "half_width",
    "half_widths",
    "margins_and_verdicts",
    "paired_differences",
    "with_ci",
]

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
    "open_share": True,
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


SHARE = (0.0, 1.0)
NON_NEGATIVE = (0.0, float("inf"))
UNBOUNDED = (-float("inf"), float("inf"))
# the possible range of each metric's value (per replication, hence of its mean)
BOUNDS: dict[str, tuple[float, float]] = {
    **{m: NON_NEGATIVE for m in ("mean_response", "median_response", "p90_response")},
    **{m: NON_NEGATIVE for m in ("p95_response", "mean_wait", "open", "incidents", "cost")},
    **{m: NON_NEGATIVE for m in ("cost_per_incident", "cost_per_resident", "dispatches")},
    **{m: NON_NEGATIVE for m in ("spread_p90", "unit_hours", "moves", "move_min")},
    **{m: SHARE for m in ("within_target", "waited", "worst_within_target", "busy_fraction")},
    **{m: SHARE for m in ("spread_within_target", "gini_p90", "share_for_others", "open_share")},
}
IDENTICAL_BY_DESIGN = frozenset({"incidents"})


@dataclass(frozen=True)
class Margin:
    """A practical-difference margin: differences within ``absolute`` (in the metric's unit) or
    within ``relative`` x the baseline mean are too small to matter."""

    absolute: float = 0.0
    relative: float = 0.0

    def of(self, baseline_mean: float) -> float:
        return max(self.absolute, self.relative * abs(baseline_mean))


# Defaults: a quarter of a minute for times (below what a dispatch log records reliably),
# half a percentage point for shares, 0.1 % of the baseline for costs, nothing for the rest.
MARGINS: dict[str, Margin] = {
    **{m: Margin(absolute=0.25) for m in ("mean_response", "median_response", "p90_response")},
    **{m: Margin(absolute=0.25) for m in ("p95_response", "mean_wait", "spread_p90")},
    **{m: Margin(absolute=0.005) for m in ("within_target", "waited", "worst_within_target")},
    **{m: Margin(absolute=0.005) for m in ("spread_within_target", "gini_p90", "open_share")},
    **{m: Margin(relative=0.001) for m in ("cost", "cost_per_incident", "cost_per_resident")},
}


def bounds_of(
    metrics: pd.Series | None, default: tuple[float, float] = UNBOUNDED
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds for each row: by its metric name, else ``default``."""
    if metrics is None:
        return np.array(default[0]), np.array(default[1])
    codes, names = pd.factorize(metrics.astype(str))  # each metric name looked up once
    low = np.array([BOUNDS.get(m, default)[0] for m in names], dtype=np.float64)
    high = np.array([BOUNDS.get(m, default)[1] for m in names], dtype=np.float64)
    return low[codes], high[codes]


def t_quantile(level: float, df: Any) -> Any:
    """Student's t quantile of a two-sided ``level`` interval with ``df`` degrees of freedom:
    ``scipy.stats.t.ppf(0.5 + level / 2, df)``, by the function it calls (scipy.special loads in
    a fraction of the time scipy.stats takes, which every command would pay)."""
    return stdtrit(df, 0.5 + level / 2)


def _t_of(n: np.ndarray, level: float) -> np.ndarray:
    """:func:`t_quantile` for groups of ``n`` replications (at least 1 degree of freedom),
    worked out once per distinct ``n``."""
    df, each = np.unique(np.maximum(n - 1, 1), return_inverse=True)
    return np.asarray(t_quantile(level, df))[each.ravel()]


def half_width(values: np.ndarray, level: float = LEVEL) -> float:
    """Half-width of the t confidence interval of the mean of ``values`` (NaN if n < 2)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if len(v) < 2:
        return float("nan")
    return float(t_quantile(level, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))


def half_widths(sd: np.ndarray, n: np.ndarray, level: float = LEVEL) -> np.ndarray:
    """The t interval's half-width of each group's mean, from its standard deviation and
    count of values (NaN under 2 values)."""
    t = _t_of(n, level)
    return np.where(n >= 2, t * sd / np.sqrt(n), np.nan)


def with_ci(
    per_rep: pd.DataFrame,
    keys: Sequence[str],
    level: float = LEVEL,
    bounds: tuple[float, float] = UNBOUNDED,
) -> pd.DataFrame:
    """Mean and confidence interval of ``value`` across replications, per ``keys``; the
    interval lies within the range of the row's metric (:data:`BOUNDS`; ``bounds`` for rows
    without a known metric)."""
    grouped = per_rep.groupby(list(keys), observed=True, sort=False)["value"]
    out = grouped.agg(mean="mean", sd="std", n="count").reset_index()
    half = half_widths(out["sd"].to_numpy(), out["n"].to_numpy(), level)
    low, high = bounds_of(out.get("metric"), bounds)
    out["ci_low"] = np.maximum(out["mean"] - half, low)
    out["ci_high"] = np.minimum(out["mean"] + half, high)
    return out.drop(columns="sd")


def paired_differences(
    per_rep: pd.DataFrame,
    keys: Sequence[str],
    baseline: str,
    level: float = LEVEL,
    margins: dict[str, Margin] | None = None,
) -> pd.DataFrame:
    """Each option minus the baseline, replication by replication, with a paired CI, the
    practical margin and a verdict per metric: better, worse, equivalent, or no significant
    difference (``margins`` override :data:`MARGINS` per metric)."""
    keys = [k for k in keys if k != "option"]
    margins = {**MARGINS, **(margins or {})}
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
    half = half_widths(out["sd"].to_numpy(), out["n"].to_numpy(), level)
    out["ci_low"], out["ci_high"] = out["diff"] - half, out["diff"] + half
    out["margin"], out["verdict"] = margins_and_verdicts(
        out["metric"],
        out["ci_low"].to_numpy(dtype=np.float64),
        out["ci_high"].to_numpy(dtype=np.float64),
        out["baseline_mean"].to_numpy(dtype=np.float64),
        margins,
    )
    return out.drop(columns="sd")


def margins_and_verdicts(
    metric: pd.Series | str,
    lo: np.ndarray,
    hi: np.ndarray,
    baseline_mean: np.ndarray,
    margins: dict[str, Margin],
) -> tuple[np.ndarray, np.ndarray]:
    """Each paired difference's practical margin (by its ``metric``, of its baseline mean) and
    verdict from its interval ``lo``..``hi``, worked out once per metric name (``metric``:
    the name of every row's, or each row's)."""
    if isinstance(metric, str):
        codes, names = np.zeros(len(lo), dtype=np.intp), [metric]
    else:
        codes, names = pd.factorize(metric.astype(str))
    margin = _margins([margins.get(m, Margin()) for m in names], codes, baseline_mean)
    lower = [LOWER_IS_BETTER.get(m) for m in names]
    verdict = _verdicts(
        np.array([m is True for m in lower], dtype=bool)[codes],
        np.array([m is None for m in lower], dtype=bool)[codes],
        lo,
        hi,
        margin,
    )
    return margin, verdict


def _margins(of: list[Margin], codes: np.ndarray, baseline_mean: np.ndarray) -> np.ndarray:
    """Each row's :meth:`Margin.of` its baseline mean (a NaN mean leaves the absolute
    margin, as ``max`` does)."""
    absolute = np.array([m.absolute for m in of], dtype=np.float64)[codes]
    relative = np.array([m.relative for m in of], dtype=np.float64)[codes]
    return np.fmax(absolute, relative * np.abs(baseline_mean))


def _verdicts(
    lower: np.ndarray, unsigned: np.ndarray, lo: np.ndarray, hi: np.ndarray, margin: np.ndarray
) -> np.ndarray:
    """The verdict of each row (``lower``: lower is better; ``unsigned``: neither is)."""
    with np.errstate(invalid="ignore"):
        improved = np.where(lower, hi < 0, lo > 0)
        return np.select(
            [
                np.isnan(lo) | np.isnan(hi),
                (margin > 0) & (-margin <= lo) & (hi <= margin),
                (lo <= 0) & (hi >= 0),
                unsigned,
            ],
            [
                "no significant difference",
                "equivalent",
                "no significant difference",
                np.where(lo > 0, "higher", "lower"),
            ],
            np.where(improved, "better", "worse"),
        ).astype(object)
