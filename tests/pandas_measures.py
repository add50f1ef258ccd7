"""Straightforward versions of what sim.analysis now computes more quickly, kept to check that
the quick ones equal them bit for bit: the per-replication measures as first written, with
pandas' groupby on the keys as text (tests/unit/test_grouped_measures.py), the backlog's peak by
a sorted running count, and the margins and verdicts of paired comparisons row by row, with the
bounds of each metric looked up per row (tests/unit/test_stats_vectorised.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.metrics import ALL, HEADLINE
from sim.analysis.metrics import KEYS as METRIC_KEYS


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
        waited=(df["wait"] > 1e-9).where(df["wait"].notna(), horizon_waiting).astype("float64"),
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
                for k in METRIC_KEYS
                if not (prio_all and k == "priority") and not (com_all and k == "community")
            ]
            part = _stats(df, keys)
            if prio_all:
                part["priority"] = ALL
            if com_all:
                part["community"] = ALL
            frames.append(part)
    wide = pd.concat(frames, ignore_index=True)[[*METRIC_KEYS, *HEADLINE]]
    long = wide.melt(id_vars=METRIC_KEYS, var_name="metric", value_name="value")
    long["value"] = long["value"].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    return long


ZONE_KEYS = ["replication", "option", "service", "priority", "zone", "community"]


def _zone_per_rep(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    g = df.groupby(keys, observed=True, sort=True)
    out = pd.DataFrame(
        {
            "calls": g.size(),
            "mean_response": g["response"].mean(),
            "p90_response": g["response"].quantile(0.9),
            "within_target": g["met_target"].mean(),
        }
    )
    return out.reset_index()


def zone_rows(incidents: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = incidents.loc[
        ~incidents["warmup"],
        ["replication", "option", "service", "priority", "zone", "community", "response"],
    ].assign(
        met_target=incidents.loc[~incidents["warmup"], "met_target"].astype("Float64"),
        priority=lambda d: d["priority"].astype(str),
        option=lambda d: d["option"].astype(str),
        service=lambda d: d["service"].astype(str),
        zone=lambda d: d["zone"].astype(str),
        community=lambda d: d["community"].astype(str),
    )
    by_priority = _zone_per_rep(df, ZONE_KEYS)
    every = _zone_per_rep(df, [k for k in ZONE_KEYS if k != "priority"]).assign(priority=ALL)
    return by_priority, every[by_priority.columns]


HISTOGRAM_KEYS = ["option", "service", "priority", "community"]


def response_counts(incidents: pd.DataFrame) -> pd.DataFrame:
    df = incidents.loc[~incidents["warmup"], [*HISTOGRAM_KEYS, "response"]]
    r = df["response"].to_numpy(dtype=np.float64)
    reached = np.isfinite(r)
    bins = np.full(len(r), -1, dtype=np.int64)
    bins[reached] = np.floor(r[reached] * 10).astype(np.int64)
    keyed = pd.DataFrame(
        {
            "option": df["option"].astype(str).to_numpy(),
            "service": df["service"].astype(str).to_numpy(),
            "priority": df["priority"].to_numpy(dtype=np.int64),
            "community": df["community"].astype(str).to_numpy(),
            "bin": bins,
        }
    )
    return keyed.groupby([*HISTOGRAM_KEYS, "bin"], sort=True).size().rename("calls").reset_index()


def unreached_counts(incidents: pd.DataFrame) -> pd.DataFrame:
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
    out = out.reindex(out.index.append(last.index[~last.index.isin(out.index)]))
    out[["calls", "unreached", "waiting"]] = out[["calls", "unreached", "waiting"]].fillna(0)
    out["last"] = last.reindex(out.index)
    return out.reset_index()


def _working_days(region, df: pd.DataFrame) -> np.ndarray:  # type: ignore[no-untyped-def]
    from sim.model.calendars import working_minutes

    out = np.full(len(df), np.nan)
    done = (df["t_clear"] <= region.horizon).to_numpy()
    service = df["service"].astype(str).to_numpy()
    for s, calendar in enumerate(region.calendars):
        mine = done & (service == region.services[s])
        if calendar is None or not mine.any():
            continue
        took = working_minutes(
            calendar.intervals, df["t_call"].to_numpy()[mine], df["t_clear"].to_numpy()[mine]
        )
        out[mine] = took / calendar.day_minutes
    return out


def _backlog_group(region, g: pd.DataFrame, pausing: bool) -> dict[str, float]:  # type: ignore[no-untyped-def]
    counted = g[~g["warmup"].to_numpy()]
    mean, peak = open_level(
        g["t_call"].to_numpy(), g["t_clear"].to_numpy(), region.warmup, region.horizon
    )
    days = counted["working_days"].to_numpy()
    days = days[~np.isnan(days)]
    paused = counted["pauses"].to_numpy() > 0 if pausing else None
    return {
        "requests": float(len(counted)),
        "mean_backlog": mean,
        "peak_backlog": peak,
        "end_backlog": float(
            ((g["t_call"] < region.horizon) & ~(g["t_clear"] <= region.horizon)).sum()
        ),
        "mean_working_days": float(days.mean()) if len(days) else np.nan,
        "p90_working_days": float(np.quantile(days, 0.9)) if len(days) else np.nan,
        "within_target": float(counted["met_target"].astype("Float64").mean())
        if counted["met_target"].notna().any()
        else np.nan,
        "overtime_hours": float(counted["overtime"].sum() / 60) if paused is not None else np.nan,
        "paused_jobs": float(paused.sum()) if paused is not None else np.nan,
        "paused_share": float(paused.mean()) if paused is not None and len(paused) else np.nan,
    }


def backlog_rows(incidents: pd.DataFrame, region) -> tuple[list, list]:  # type: ignore[no-untyped-def]
    from sim.analysis.backlog import BACKLOG_METRICS

    keys_all = ["replication", "option", "service", "community"]
    columns = [c for c in ("pauses", "overtime") if c in incidents]
    keep = ["replication", "option", "service", "community", "t_call", "t_clear", "warmup"]
    df = incidents[[*keep, "met_target", *columns]].copy()
    for k in ("option", "service"):
        df[k] = df[k].astype(str)
    df["working_days"] = _working_days(region, df)
    pausing = {sv for s, sv in enumerate(region.services) if region.calendars and region.pauses(s)}
    scoped = []
    for scope in ("community", ALL):
        keys = keys_all if scope == "community" else keys_all[:3]
        rows = []
        for key, g in df.groupby(keys, sort=True, observed=True):
            rep, option, service, *com = key
            values = _backlog_group(region, g, service in pausing)
            where = str(com[0]) if com else ALL
            rows += [(rep, option, service, where, m, values[m]) for m in BACKLOG_METRICS]
        scoped.append(rows)
    return scoped[0], scoped[1]


def open_level(start: np.ndarray, end: np.ndarray, lo: float, hi: float) -> tuple[float, float]:
    end = np.where(np.isnan(end), hi, end)
    a, b = np.clip(start, lo, hi), np.clip(end, lo, hi)
    keep = b > a
    if hi <= lo:
        return float("nan"), float("nan")
    mean = float((b[keep] - a[keep]).sum() / (hi - lo))
    if not keep.any():
        return mean, 0.0
    times = np.concatenate([a[keep], b[keep]])
    steps = np.concatenate([np.ones(keep.sum()), -np.ones(keep.sum())])
    order = np.lexsort((steps, times))  # at equal times, ends before starts
    return mean, float(np.cumsum(steps[order]).max())


def paired_verdicts(out: pd.DataFrame, margins=None) -> tuple[list, list, np.ndarray]:  # type: ignore[no-untyped-def]
    """The margin and the verdict of each row of ``paired_differences``, row by row from its
    own columns, and its interval's half-width with the t quantile of each row."""
    from sim.analysis.stats import MARGINS, Margin, t_quantile

    margins = {**MARGINS, **(margins or {})}
    margin = [
        margins.get(m, Margin()).of(b)
        for m, b in zip(out["metric"], out["baseline_mean"], strict=True)
    ]
    verdict = [
        _verdict(m, lo, hi, g)
        for m, lo, hi, g in zip(out["metric"], out["ci_low"], out["ci_high"], margin, strict=True)
    ]
    t = np.array([t_quantile(0.95, max(n - 1, 1)) for n in out["n"]])
    return margin, verdict, t


def _verdict(metric: str, lo: float, hi: float, margin: float = 0.0) -> str:
    from sim.analysis.stats import LOWER_IS_BETTER

    lower = LOWER_IS_BETTER.get(metric)
    if np.isnan(lo) or np.isnan(hi):
        return "no significant difference"
    if margin > 0 and -margin <= lo and hi <= margin:
        return "equivalent"
    if lo <= 0 <= hi:
        return "no significant difference"
    if lower is None:
        return "higher" if lo > 0 else "lower"
    improved = hi < 0 if lower else lo > 0
    return "better" if improved else "worse"


def bounds_of(metrics: pd.Series, default: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    from sim.analysis.stats import BOUNDS

    names = metrics.astype(str)
    low = names.map(lambda m: BOUNDS.get(m, default)[0]).to_numpy(dtype=np.float64)
    high = names.map(lambda m: BOUNDS.get(m, default)[1]).to_numpy(dtype=np.float64)
    return low, high


def zone_results(per_rep: pd.DataFrame, baseline: str, margins=None) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """``zones.csv`` from the long zone table by :func:`with_ci` and
    :func:`paired_differences` on the keys as text, unstacked per metric."""
    from sim.analysis.stats import paired_differences, with_ci
    from sim.analysis.zones import COMPARED, ZONE_METRICS

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
