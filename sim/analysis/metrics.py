"""Metrics as pure functions of the run tables, one value per replication.

Every function returns a long table with ``replication``, ``option``, grouping keys, ``metric``
and ``value``; :mod:`sim.stats` turns those into confidence intervals and paired differences.
Incidents that called during the warm-up are left out. "all" marks region-wide rows and rows
over all priorities. ``open_share`` is the share of calls never reached (no unit on scene by the
horizon): those calls are not in the mean, median or fractiles of response, so it is shown
beside them; ``open`` counts the calls not yet cleared at the horizon (reached or not).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .grouping import Groups, flag_means, median_of, quantile_of
from .incidentview import IncidentTable, IncidentView

__all__ = [
    "ALL",
    "BACKLOG_SHARE",
    "HEADLINE",
    "backlog_warnings",
    "equity_metrics",
    "gini",
    "incident_metrics",
    "unit_metrics",
    "unreached_counts",
    "unreached_warnings",
]

ALL = "all"
HEADLINE = (
    "incidents",
    "mean_response",
    "median_response",
    "p90_response",
    "p95_response",
    "within_target",
    "mean_wait",
    "waited",
    "open",
    "open_share",
)
KEYS = ["replication", "option", "service", "priority", "community"]


_COUNTS = ("incidents", "met", "met_known", "waited", "open", "unreached")


def _counts(view: IncidentView, groups: Groups) -> dict[str, np.ndarray]:
    """The integer sums per group that the shares and counts of :data:`HEADLINE` come from
    (exact, so those of coarser groups are added up from them)."""
    met, known = view.counted_flags("met_target")
    return {
        "incidents": groups.sizes.astype(np.float64),
        "met": groups.total(met * known),
        "met_known": groups.total(known.astype(np.float64)),
        "waited": groups.total(_waited(view)),
        "open": groups.total(view.counted_flags("open")[0]),
        "unreached": groups.total(np.isnan(view.counted_floats("response")).astype(np.float64)),
    }


def _stats(view: IncidentView, groups: Groups, counts: dict[str, np.ndarray]) -> dict:
    """The :data:`HEADLINE` values of each group."""
    response = view.counted_floats("response")
    ordered = groups.sorted_values(view.responses)
    means = groups.means({"response": response, "wait": view.counted_floats("wait")})
    n = counts["incidents"]
    return {
        "incidents": n,
        "mean_response": means["response"].to_numpy(),
        "median_response": median_of(ordered),
        "p90_response": quantile_of(ordered, 0.9),
        "p95_response": quantile_of(ordered, 0.95),
        "within_target": flag_means(counts["met"], counts["met_known"]),
        "mean_wait": means["wait"].to_numpy(),
        "waited": flag_means(counts["waited"], n),
        "open": counts["open"],
        "open_share": flag_means(counts["unreached"], n),
    }


def _waited(view: IncidentView) -> np.ndarray:
    """1.0 where a counted call waited for its unit: a wait above a nanosecond, or still
    waiting at the horizon (whose censored wait is not counted in ``mean_wait``)."""
    wait = view.counted_floats("wait")
    dispatch, ready = view.counted_floats("t_dispatch"), view.counted_floats("t_ready")
    horizon_waiting = np.isnan(dispatch) & ~np.isnan(ready)
    return np.where(np.isnan(wait), horizon_waiting, wait > 1e-9).astype(np.float64)


def incident_metrics(incidents: IncidentTable) -> pd.DataFrame:
    """Headline metrics per replication x option x service x priority x community, plus the
    region-wide and all-priority aggregates: groupby on the keys as text, computed on their
    codes (:mod:`sim.analysis.grouping`), the counts once per finest group. A call never
    reached (no unit on scene by the horizon) is not in the means or the fractiles;
    ``open_share`` counts it."""
    view = IncidentView.of(incidents)
    kinds = {"replication": "number"}
    finest = Groups([view.key(k, kinds.get(k, "text")) for k in KEYS], view.counted)
    counts = _counts(view, finest)
    parts = []
    for prio_all in (False, True):
        for com_all in (False, True):
            dropped = {"priority"} if prio_all else set()
            dropped |= {"community"} if com_all else set()
            kept = [i for i, k in enumerate(KEYS) if k not in dropped]
            groups = finest if not dropped else finest.coarser(kept)
            sums = counts if not dropped else {c: groups.roll_up(counts[c]) for c in _COUNTS}
            parts.append((groups, [KEYS[i] for i in kept], _stats(view, groups, sums)))
    return _long(parts, view.table["replication"].dtype)


def _long(parts: list[tuple[Groups, list[str], dict]], replication: np.dtype) -> pd.DataFrame:
    """The rows of every part, melted: each metric of :data:`HEADLINE` in turn over the rows
    of every part (``DataFrame.melt`` of the parts concatenated); keys a part does not group
    by are 'all'."""
    m = len(HEADLINE)
    columns: dict[str, object] = {}
    for k in KEYS:
        pieces = [
            groups.labels(keys.index(k)) if k in keys else np.full(len(groups), ALL, dtype=object)
            for groups, keys, _ in parts
        ]
        wide = np.concatenate(pieces) if pieces else np.zeros(0, dtype=object)
        if k == "replication":
            columns[k] = np.tile(wide.astype(replication), m)
        else:
            columns[k] = pd.array(wide, dtype="str").take(np.tile(np.arange(len(wide)), m))
    rows = len(columns["option"])  # type: ignore[arg-type]
    metric = pd.array(np.array(HEADLINE, dtype=object), dtype="str")
    columns["metric"] = metric.take(np.repeat(np.arange(m), rows // m))
    columns["value"] = np.concatenate(
        [np.concatenate([p[2][h] for p in parts]) for h in HEADLINE]
    ).astype(np.float64)
    return pd.DataFrame(columns)


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: all equal)."""
    v = np.sort(np.asarray(values, dtype=np.float64)[~np.isnan(values)])
    if len(v) == 0 or v.sum() == 0:
        return 0.0
    n = len(v)
    return float((2 * np.arange(1, n + 1) - n - 1) @ v / (n * v.sum()))


def equity_metrics(metrics: pd.DataFrame) -> pd.DataFrame:
    """Across communities, per replication x option x service x priority: the worst share
    within target, the spread (max - min) of that share, and the spread and Gini of p90."""
    per_com = metrics[(metrics["community"] != ALL)]
    wide = (
        per_com.pivot_table(
            index=["replication", "option", "service", "priority", "community"],
            columns="metric",
            values="value",
            observed=True,
            dropna=False,
        )
        .reindex(columns=list(HEADLINE))
        .reset_index()
    )  # keep all-NaN metrics (no targets)
    g = wide.groupby(["replication", "option", "service", "priority"], observed=True)
    out = pd.DataFrame(
        {
            "worst_within_target": g["within_target"].min(),
            "spread_within_target": g["within_target"].max() - g["within_target"].min(),
            "spread_p90": g["p90_response"].max() - g["p90_response"].min(),
            "gini_p90": g["p90_response"].agg(lambda s: gini(s.to_numpy())),
        }
    ).reset_index()
    long = out.melt(id_vars=["replication", "option", "service", "priority"], var_name="metric")
    long["community"] = ALL
    return long[[*KEYS, "metric", "value"]]


def unit_metrics(units: pd.DataFrame) -> pd.DataFrame:
    """Per replication x option x unit: busy fraction, dispatches, share of busy time spent on
    other communities' incidents, cost, and where some option moves units, the moves and the
    minutes driven on them (``moves``, ``move_min``)."""
    df = units.assign(
        share_for_others=np.where(
            units["busy_min"] > 0, units["busy_min_for_others"] / units["busy_min"], 0.0
        )
    )
    keys = ["replication", "option", "unit", "service", "station", "owner"]
    moved = [c for c in ("moves", "move_min") if c in df.columns]
    long = df[[*keys, "busy_fraction", "dispatches", "share_for_others", "cost", *moved]].melt(
        id_vars=keys, var_name="metric", value_name="value"
    )
    for k in ("option", "service", "owner"):
        long[k] = long[k].astype(str)
    long["value"] = long["value"].astype("float64")
    return long


BACKLOG_SHARE = 0.01


def unreached_counts(incidents: IncidentTable) -> pd.DataFrame:
    """What :func:`unreached_warnings` needs of incidents, per replication x option x service x
    priority (calls after the warm-up): ``calls``, ``unreached`` (never reached), ``waiting``
    (no unit dispatched by the horizon), ``oldest`` (the earliest call-ready time of those
    waiting) and ``last`` (the latest call-ready time of the group's calls, warm-up included).
    Groups come in the order their first counted call appears, then (with no calls counted, and
    the counts as floats) those of warm-up calls only, as groupby with ``sort=False`` and a
    reindex gave them. Counts of replications made apart can be concatenated."""
    view = IncidentView.of(incidents)
    names = ["replication", "option", "service", "priority"]
    kinds = ["number", "text", "text", "number"]
    groups = Groups([view.key(k, kind) for k, kind in zip(names, kinds, strict=True)])
    ready = view.floats("t_ready")
    last = np.full(len(groups), np.nan)
    np.fmax.at(last, groups.ids, ready)
    kept = view.counted
    ids = groups.ids[kept]
    waiting = np.isnan(view.counted_floats("t_dispatch"))
    oldest = np.full(len(groups), np.nan)
    np.fmin.at(oldest, ids[waiting], ready[kept][waiting])
    counts = {
        "calls": np.bincount(ids, minlength=len(groups)),
        "unreached": np.bincount(
            ids, np.isnan(view.counted_floats("response")), len(groups)
        ).astype(np.int64),
        "waiting": np.bincount(ids, waiting, len(groups)).astype(np.int64),
    }
    counted = counts["calls"] > 0
    seen = _first_rows(ids, len(groups), len(kept))
    order = np.concatenate(
        [
            np.flatnonzero(counted)[np.argsort(seen[counted], kind="stable")],
            np.flatnonzero(~counted)[
                np.argsort(_first_rows(groups.ids, len(groups), len(view))[~counted])
            ],
        ]
    )
    columns: dict[str, object] = {}
    for i, k in enumerate(names):
        columns[k] = groups.labels(i)[order] if kinds[i] == "number" else groups.text(i, order)
    warmup_only = not counted.all()
    for k, v in counts.items():
        columns[k] = v[order].astype(np.float64) if warmup_only else v[order]
    columns |= {"oldest": oldest[order], "last": last[order]}
    return pd.DataFrame(columns)


def _first_rows(ids: np.ndarray, groups: int, rows: int) -> np.ndarray:
    """The first row of each group (``rows`` where it has none)."""
    first = np.full(groups, rows, dtype=np.intp)
    np.minimum.at(first, ids, np.arange(len(ids)))
    return first


def backlog_warnings(incidents: pd.DataFrame) -> list[str]:
    """Plain warnings where more than 1 % of an option's calls of a service (or of one of its
    priorities) were never reached (see :func:`unreached_warnings`)."""
    return unreached_warnings(unreached_counts(incidents))


def unreached_warnings(counts: pd.DataFrame) -> list[str]:
    """Plain warnings where more than 1 % of an option's calls of a service (or of one of its
    priorities) were never reached: no unit on scene by the horizon. Those calls are left out
    of the mean and the fractiles of response, so these would look better than the service
    was. When calls were still waiting for a unit too, the fleet cannot keep up. ``counts``:
    :func:`unreached_counts` of the replications, in replication order.

    Shares are means over replications of each replication's share (as ``open_share`` in
    summary.csv); counts are per run."""
    end = float(counts["last"].max())
    counts = counts[counts["calls"] > 0]
    keys = ["option", "service"]
    per_rep = counts.groupby([*keys, "replication"], sort=False)[
        ["calls", "unreached", "waiting"]
    ].sum()
    share = (
        per_rep[["unreached", "waiting"]]
        .div(per_rep["calls"], axis=0)
        .groupby(level=keys, sort=False)
        .mean()
    )
    totals = per_rep.groupby(level=keys, sort=False)[["unreached", "calls"]].sum()
    prio = (
        counts.set_index([*keys, "priority", "replication"])
        .sort_index()
        .eval("unreached / calls")
        .groupby(level=[*keys, "priority"])
        .mean()
    )
    oldest = counts.groupby(keys, sort=False)["oldest"].min()
    reps = counts["replication"].nunique()
    out = []
    for (opt, svc), row in share.iterrows():
        per_prio = prio.loc[(opt, svc)]
        high = per_prio[per_prio > BACKLOG_SHARE]
        if row["unreached"] <= BACKLOG_SHARE and high.empty:
            continue
        n = totals.loc[(opt, svc)]
        where = "no unit on scene by the end of the run"
        if len(per_prio) > 1 and not high.empty:
            where += "; " + ", ".join(f"priority {p}: {v:.1%}" for p, v in high.items())
        text = (
            f"option '{opt}': {row['unreached']:.1%} of {svc} calls were never reached ({where}), "
            f"{int(n['unreached']):,} of {int(n['calls']):,} calls over {reps} replication(s): "
            "the mean and fractiles of response leave them out"
        )
        if row["waiting"] > BACKLOG_SHARE:
            text += (
                f"; {row['waiting']:.1%} still waited for a unit at the horizon, the "
                f"longest for {(end - float(oldest.loc[(opt, svc)])) / 60:.1f} h: the fleet "
                "cannot keep up"
            )
        out.append(text)
    return out
