"""``coverage.csv``: how often each community is left uncovered, and the cover it gives and gets.

From the per-replication coverage rows of :mod:`sim.engine.coverage`: per option, service and
community, the share of the statistics window during which it was uncovered, the moves of
other communities' units to posts inside it (``moves_in``, cover received) and of its own
units out of it (``moves_out``, cover given), the unit-hours its units drove on moves
(``move_unit_hours``) and the unit-hours of cover received and given (``cover_hours_in``,
``cover_hours_out``: free units of another community standing at, or driving to, a post
inside it), each per replication with its mean and 95 % interval (``*_low``, ``*_high``);
and against the baseline, paired by replication, the difference in uncovered share and in the
share of calls within target (all priorities) with their intervals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import ALL
from .stats import NON_NEGATIVE, SHARE, paired_differences, with_ci

__all__ = ["COVERAGE_METRICS", "coverage_results", "free_units_mean"]

COVERAGE_METRICS = (
    "uncovered_share",
    "moves_in",
    "moves_out",
    "move_unit_hours",
    "cover_hours_in",
    "cover_hours_out",
)
KEYS = ["option", "service", "community"]
COLUMNS = [*KEYS, *(f"{m}{x}" for m in COVERAGE_METRICS for x in ("", "_low", "_high"))]
DIFFS = ("uncovered_share", "within_target")


def _long(rows: pd.DataFrame) -> pd.DataFrame:
    wide = rows.assign(
        uncovered_share=rows["uncovered_min"] / rows["window_min"],
        move_unit_hours=rows["move_min"] / 60.0,
        cover_hours_in=rows["cover_min_in"] / 60.0,
        cover_hours_out=rows["cover_min_out"] / 60.0,
    )
    return wide.melt(
        id_vars=["replication", *KEYS], value_vars=list(COVERAGE_METRICS), var_name="metric"
    )


def coverage_results(
    rows: pd.DataFrame, metrics: pd.DataFrame, baseline: str, options: list[str]
) -> pd.DataFrame:
    """The wide table of ``coverage.csv`` (``metrics``: the per-replication metrics of
    ``compare``, for the share within target)."""
    extra = [f"{m}_diff{x}" for m in DIFFS for x in ("", "_low", "_high")]
    if rows.empty:
        return pd.DataFrame(columns=[*COLUMNS, "within_target", *extra])
    long = _long(rows)
    out = None
    for metric in COVERAGE_METRICS:
        part = long[long["metric"] == metric]
        bounds = SHARE if metric == "uncovered_share" else NON_NEGATIVE
        ci = with_ci(part, KEYS, bounds=bounds).set_index(KEYS)
        ci = ci[["mean", "ci_low", "ci_high"]].set_axis(
            [metric, f"{metric}_low", f"{metric}_high"], axis=1
        )
        out = ci if out is None else out.join(ci)
    assert out is not None
    target = _within_target(metrics)
    both = pd.concat([long[long["metric"] == "uncovered_share"], target], ignore_index=True)
    out = out.join(with_ci(target, KEYS).set_index(KEYS)["mean"].rename("within_target"))
    diffs = paired_differences(both, [*KEYS, "metric"], baseline)
    for metric in DIFFS:
        d = diffs[diffs["metric"] == metric].set_index(KEYS)[["diff", "ci_low", "ci_high"]]
        out = out.join(d.set_axis([f"{metric}_diff{x}" for x in ("", "_low", "_high")], axis=1))
    out = out.reset_index()
    order = {o: i for i, o in enumerate(options)}
    out = out.sort_values(["service", "option", "community"], key=_order(order))
    return out.reset_index(drop=True).reindex(columns=[*COLUMNS, "within_target", *extra])


def _order(order: dict[str, int]):  # type: ignore[no-untyped-def]
    def key(col: pd.Series) -> pd.Series:
        return col.map(order) if col.name == "option" else col

    return key


def _within_target(metrics: pd.DataFrame) -> pd.DataFrame:
    m = metrics[
        (metrics["metric"] == "within_target")
        & (metrics["priority"] == ALL)
        & (metrics["community"] != ALL)
    ]
    return m[["replication", *KEYS, "metric", "value"]].astype(
        {"option": str, "service": str, "community": str}
    )


def free_units_mean(free: pd.DataFrame) -> pd.DataFrame:
    """The free-units timeline of the first replication (one row per option, service,
    community and hour)."""
    if free.empty:
        return free.drop(columns="replication", errors="ignore")
    first = free[free["replication"] == free["replication"].min()]
    out = first.drop(columns="replication").reset_index(drop=True)
    out["free_units"] = np.round(out["free_units"].to_numpy(dtype=np.float64), 6)
    return out
