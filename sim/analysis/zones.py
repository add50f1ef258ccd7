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

from .grouping import Groups, flag_means, number_key, quantile_of, text_key
from .incidentview import IncidentTable, IncidentView
from .metrics import ALL
from .stats import BOUNDS, MARGINS, Margin, half_widths, margins_and_verdicts

__all__ = ["ZONE_METRICS", "zone_long", "zone_metrics", "zone_results", "zone_rows"]

ZONE_METRICS = ("calls", "mean_response", "p90_response", "within_target")
KEYS = ["replication", "option", "service", "priority", "zone", "community"]
GROUP_KEYS = KEYS[1:]  # a zone's rows across replications
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
    parts: list[tuple[pd.DataFrame, pd.DataFrame]],
    baseline: str,
    margins: dict[str, Margin] | None = None,
) -> pd.DataFrame:
    """The wide table of ``zones.csv`` from the :func:`zone_rows` of the replications in order:
    each metric with its CI, and for response and share within target the paired difference
    to the baseline with its CI and verdict. What :func:`with_ci` and
    :func:`paired_differences` give of :func:`zone_long`, bit for bit, grouped on integer codes
    of the wide rows (hundreds of thousands of long rows otherwise, keyed by text)."""
    frames = [p[0] for p in parts] + [p[1] for p in parts]
    wide = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    values = {
        m: wide[m].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
        for m in ZONE_METRICS
    }
    keys = [text_key(wide[k]) for k in GROUP_KEYS]
    groups = Groups(keys)
    mean, sd, n = _grouped(groups.ids, groups.count, values)
    out: dict[str, object] = {k: groups.text(i) for i, k in enumerate(GROUP_KEYS)}
    for m in ZONE_METRICS:
        out[m] = mean[m]
        if m != "calls":
            half = half_widths(sd[m], n[m])
            low, high = BOUNDS.get(m, (-np.inf, np.inf))
            out[f"{m}_ci_low"] = np.maximum(mean[m] - half, low)
            out[f"{m}_ci_high"] = np.minimum(mean[m] + half, high)
    table = pd.DataFrame(out)
    if (wide["option"] != baseline).any():
        pairs = Groups([*keys[1:], number_key(wide["replication"])])
        base = (keys[0].labels == baseline)[keys[0].codes]  # every row has an option
        table = table.assign(**_paired(groups, pairs, base, values, margins))
    table["calls"] = table["calls"].fillna(0.0)
    return table


def _grouped(
    ids: np.ndarray, count: int, values: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Mean, standard deviation and count (NaN left out) of each column per group: pandas'
    groupby on the group numbers (its compensated sums), the values in row order."""
    number = pd.Categorical.from_codes(ids, categories=pd.RangeIndex(count))
    grouped = pd.DataFrame(values).groupby(pd.CategoricalIndex(number), observed=False)
    mean, sd, n = grouped.mean(), grouped.std(), grouped.count()
    return (
        {c: mean[c].to_numpy() for c in values},
        {c: sd[c].to_numpy() for c in values},
        {c: n[c].to_numpy() for c in values},
    )


def _paired(
    groups: Groups,
    pairs: Groups,
    base: np.ndarray,
    values: dict[str, np.ndarray],
    margins: dict[str, Margin] | None,
) -> dict[str, np.ndarray]:
    """The diff, CI and verdict columns of :func:`zone_results`: each row of another option
    against the baseline's (``base``) row of the same replication, service, priority, zone and
    community (the same of ``pairs``) where it has one, per group of the other option."""
    partner = np.full(pairs.count, -1, dtype=np.int64)
    partner[pairs.ids[base]] = np.flatnonzero(base)
    rows = np.flatnonzero(~base)
    rows = rows[partner[pairs.ids[rows]] >= 0]
    if not len(rows):
        return {}
    matched = partner[pairs.ids[rows]]
    both = {f"base_{m}": values[m][matched] for m in COMPARED}
    both |= {f"diff_{m}": values[m][rows] - values[m][matched] for m in COMPARED}
    mean, sd, n = _grouped(groups.ids[rows], groups.count, both)
    paired = np.bincount(groups.ids[rows], minlength=groups.count) > 0
    margins = {**MARGINS, **(margins or {})}
    out: dict[str, np.ndarray] = {}
    for m in COMPARED:
        diff = mean[f"diff_{m}"]
        half = half_widths(sd[f"diff_{m}"], n[f"diff_{m}"])
        lo, hi = diff - half, diff + half
        _, verdict = margins_and_verdicts(m, lo, hi, mean[f"base_{m}"], margins)
        for column, v in (("", diff), ("_ci_low", lo), ("_ci_high", hi)):
            out[f"diff_{m}{column}"] = np.where(paired, v, np.nan)
        out[f"verdict_{m}"] = np.where(paired, verdict, np.nan)
    return out
