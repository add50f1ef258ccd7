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


def _stats(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    g = df.groupby(keys, observed=True, sort=True)
    resp = g["response"]
    out = pd.DataFrame(
        {
            "incidents": g.size(),
            "mean_response": resp.mean(),
            "median_response": resp.median(),
            "p90_response": resp.quantile(0.9),
            "p95_response": resp.quantile(0.95),
            "within_target": g["met_target"].mean(),
            "mean_wait": g["wait"].mean(),
            "waited": g["waited"].mean(),
            "open": g["open"].sum(),
            "open_share": g["unreached"].mean(),
        }
    )
    return out.reset_index()


def incident_metrics(incidents: pd.DataFrame) -> pd.DataFrame:
    """Headline metrics per replication x option x service x priority x community, plus the
    region-wide and all-priority aggregates."""
    df = incidents.loc[
        ~incidents["warmup"],
        [
            "replication",
            "option",
            "service",
            "priority",
            "community",
            "response",
            "met_target",
            "wait",
            "open",
            "t_dispatch",
            "t_ready",
        ],
    ]
    horizon_waiting = df["t_dispatch"].isna() & df["t_ready"].notna()
    df = df.assign(
        # a call still waiting at the horizon certainly waited; its (censored) wait is not
        # counted in mean_wait
        waited=(df["wait"] > 1e-9).where(df["wait"].notna(), horizon_waiting).astype("float64"),
        # never reached: no unit on scene by the horizon (not in the means or the fractiles)
        unreached=df["response"].isna().astype("float64"),
        priority=df["priority"].astype(str),
        community=df["community"].astype(str),
        option=df["option"].astype(str),
        service=df["service"].astype(str),
        met_target=df["met_target"].astype("Float64"),
    )
    frames = []
    for prio_all in (False, True):
        for com_all in (False, True):
            keys = [
                k
                for k in KEYS
                if not (prio_all and k == "priority") and not (com_all and k == "community")
            ]
            part = _stats(df, keys)
            if prio_all:
                part["priority"] = ALL
            if com_all:
                part["community"] = ALL
            frames.append(part)
    wide = pd.concat(frames, ignore_index=True)[[*KEYS, *HEADLINE]]
    long = wide.melt(id_vars=KEYS, var_name="metric", value_name="value")
    long["value"] = long["value"].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    return long


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


def unreached_counts(incidents: pd.DataFrame) -> pd.DataFrame:
    """What :func:`unreached_warnings` needs of incidents, per replication x option x service x
    priority (calls after the warm-up): ``calls``, ``unreached`` (never reached), ``waiting``
    (no unit dispatched by the horizon), ``oldest`` (the earliest call-ready time of those
    waiting) and ``last`` (the latest call-ready time of the group's calls, warm-up included).
    Counts of replications made apart can be concatenated."""
    keys = ["replication", "option", "service", "priority"]
    every = incidents[[*keys, "t_ready"]].assign(
        option=incidents["option"].astype(str), service=incidents["service"].astype(str)
    )
    last = every.groupby(keys, sort=False, observed=True)["t_ready"].max()
    kept = ~incidents["warmup"].to_numpy()
    df = every[kept].assign(
        unreached=incidents["response"].isna().to_numpy()[kept],
        waiting=incidents["t_dispatch"].isna().to_numpy()[kept],
    )
    df["held"] = df["t_ready"].where(df["waiting"])
    out = df.groupby(keys, sort=False, observed=True).agg(
        calls=("unreached", "size"),
        unreached=("unreached", "sum"),
        waiting=("waiting", "sum"),
        oldest=("held", "min"),
    )
    # groups of warm-up calls only come last, with no calls counted
    out = out.reindex(out.index.append(last.index[~last.index.isin(out.index)]))
    out[["calls", "unreached", "waiting"]] = out[["calls", "unreached", "waiting"]].fillna(0)
    out["last"] = last.reindex(out.index)
    return out.reset_index()


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
