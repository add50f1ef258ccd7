"""Results per demand zone: where, inside each community, an option helps and where it hurts.

Per replication x option x service x priority (each, and ``all``) x zone: calls, mean and 90th
percentile response, share within target; then the mean and 95 % confidence interval of each
across replications and the paired difference to the baseline (common random numbers: every
option saw the same incidents in the same zones). :func:`zone_results` gives the wide table of
``zones.csv``: one row per option x service x priority x zone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .grouping import Groups, flag_means, quantile_of
from .incidentview import IncidentTable, IncidentView
from .metrics import ALL
from .stats import Margin, paired_differences, with_ci

__all__ = ["ZONE_METRICS", "zone_long", "zone_metrics", "zone_results", "zone_rows"]

ZONE_METRICS = ("calls", "mean_response", "p90_response", "within_target")
KEYS = ["replication", "option", "service", "priority", "zone", "community"]
COMPARED = ("mean_response", "p90_response", "within_target")


def _per_rep(view: IncidentView, groups: Groups, keys: list[str], counts: tuple) -> pd.DataFrame:
    """The wide rows of ``groups`` (by ``keys``); ``counts``: their calls, calls meeting the
    target and calls with a verdict on it."""
    response = view.counted_floats("response")
    columns: dict[str, object] = {
        k: groups.labels(i).astype(view.table[k].dtype) if k == "replication" else groups.text(i)
        for i, k in enumerate(keys)
    }
    calls, met, known = counts
    columns |= {
        "calls": calls.astype(np.int64),
        "mean_response": groups.means({"response": response})["response"].to_numpy(),
        "p90_response": quantile_of(groups.sorted_values(view.responses), 0.9),
        "within_target": pd.array(flag_means(met, known), dtype="Float64"),
    }
    return pd.DataFrame(columns)


def zone_rows(incidents: IncidentTable) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The wide per-replication rows of :func:`zone_metrics` (calls and the three measures as
    columns): by priority, and over every priority (``priority`` 'all'). Rows of replications
    computed apart are joined by :func:`zone_long` in the order of the whole table. Grouped as
    pandas groups the keys as text, on their codes (:mod:`sim.analysis.grouping`)."""
    view = IncidentView.of(incidents)
    kinds = {"replication": "number"}
    finest = Groups([view.key(k, kinds.get(k, "text")) for k in KEYS], view.counted)
    met, known = view.counted_flags("met_target")
    counts = (finest.sizes, finest.total(met * known), finest.total(known.astype(np.float64)))
    by_priority = _per_rep(view, finest, KEYS, counts)
    kept = [i for i, k in enumerate(KEYS) if k != "priority"]
    coarse = finest.coarser(kept)
    every = _per_rep(
        view, coarse, [KEYS[i] for i in kept], tuple(coarse.roll_up(c) for c in counts)
    )
    every.insert(3, "priority", pd.array(np.full(len(every), ALL, dtype=object), dtype="str"))
    return by_priority, every


def zone_long(parts: list[tuple[pd.DataFrame, pd.DataFrame]]) -> pd.DataFrame:
    """The long table of :func:`zone_metrics` from the :func:`zone_rows` of replications in
    order: every replication by priority, then every replication over all priorities."""
    frames = [p[0] for p in parts] + [p[1] for p in parts]
    wide = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    long = wide.melt(id_vars=KEYS, var_name="metric", value_name="value")
    long["value"] = long["value"].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    return long


def zone_metrics(incidents: pd.DataFrame) -> pd.DataFrame:
    """Long table: replication, option, service, priority, zone, community, metric, value."""
    return zone_long([zone_rows(incidents)])


def zone_results(
    per_rep: pd.DataFrame, baseline: str, margins: dict[str, Margin] | None = None
) -> pd.DataFrame:
    """The wide table of ``zones.csv``: each metric with its CI, and for response and share
    within target the paired difference to the baseline with its CI and verdict."""
    keys = ["option", "service", "priority", "zone", "community"]
    ci = with_ci(per_rep, [*keys, "metric"])
    wide = ci.set_index([*keys, "metric"])[["mean", "ci_low", "ci_high"]].unstack("metric")
    out = pd.DataFrame(index=wide.index)
    for m in ZONE_METRICS:
        if ("mean", m) not in wide:
            continue
        out[m] = wide[("mean", m)]
        if m != "calls":
            out[f"{m}_ci_low"] = wide[("ci_low", m)]
            out[f"{m}_ci_high"] = wide[("ci_high", m)]
    out = out.reset_index()
    compared = per_rep[per_rep["metric"].isin(COMPARED)]
    if (compared["option"] != baseline).any():
        diff = paired_differences(compared, [*keys, "metric"], baseline, margins=margins)
        by = diff.set_index([*keys, "metric"])
        d = by[["diff", "ci_low", "ci_high"]].unstack("metric")
        verdicts = by["verdict"].unstack("metric")
        extra = pd.DataFrame(index=d.index)
        for m in COMPARED:
            if ("diff", m) in d:
                extra[f"diff_{m}"] = d[("diff", m)]
                extra[f"diff_{m}_ci_low"] = d[("ci_low", m)]
                extra[f"diff_{m}_ci_high"] = d[("ci_high", m)]
                extra[f"verdict_{m}"] = verdicts[m]
        out = out.merge(extra.reset_index(), on=keys, how="left")
    out["calls"] = out["calls"].fillna(0.0)
    return out.sort_values(keys, kind="stable").reset_index(drop=True)
