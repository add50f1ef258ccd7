"""Backlogs and completion in working time: pure functions of the incident table.

A request is open from its call until its job is done (``t_clear``; still open at the horizon
when it has none). The backlog is the number of open requests: its time average over the
statistics window [warm-up, horizon] and its peak there, whatever the request's call time.
Completion times are counted in working days of the service's calendar (working minutes from
call to completion over the minutes of one working day), for requests called after the warm-up
and completed by the horizon. Overtime and pauses come from the incident table's ``overtime``
and ``pauses`` columns, which runs with a calendar that closes have.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model.calendars import working_minutes
from ..model.compile import Region
from .metrics import ALL
from .stats import with_ci

__all__ = [
    "BACKLOG_METRICS",
    "backlog_long",
    "backlog_metrics",
    "backlog_rows",
    "backlog_table",
    "on_calendar",
    "open_level",
    "open_series",
    "weekly_levels",
    "wide_table",
]

BACKLOG_METRICS = (
    "requests",
    "mean_backlog",
    "peak_backlog",
    "end_backlog",
    "mean_working_days",
    "p90_working_days",
    "within_target",
    "overtime_hours",
    "paused_jobs",
    "paused_share",
)
_KEYS = ["replication", "option", "service", "community"]
_WITH_CI = ("mean_backlog", "peak_backlog", "p90_working_days", "within_target")


def open_level(start: np.ndarray, end: np.ndarray, lo: float, hi: float) -> tuple[float, float]:
    """Time-average and peak number of intervals [start, end) open inside [lo, hi) (an end of
    NaN is open beyond ``hi``)."""
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


def open_series(start: np.ndarray, end: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Time-average number of intervals [start, end) open in each bin between ``edges`` (an
    end of NaN is open beyond the last edge)."""
    a = np.sort(np.asarray(start, dtype=np.float64))
    b = np.sort(np.where(np.isnan(end), np.inf, end))
    ca, cb = (
        np.concatenate([[0.0], np.cumsum(a)]),
        np.concatenate([[0.0], np.cumsum(b[np.isfinite(b)])]),
    )

    def area(t: np.ndarray) -> np.ndarray:  # integral of the open count over [-inf, t)
        na, nb = np.searchsorted(a, t, side="right"), np.searchsorted(b, t, side="right")
        return (na * t - ca[na]) - (nb * t - cb[nb])

    return np.diff(area(np.asarray(edges, dtype=np.float64))) / np.diff(edges)


def _working_days(region: Region, df: pd.DataFrame) -> np.ndarray:
    """Working days from call to completion on each request's service calendar (NaN for
    services without one, and for requests not completed by the horizon)."""
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


def _group(region: Region, g: pd.DataFrame, pausing: bool) -> dict[str, float]:
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


Rows = list[tuple[object, ...]]


def backlog_rows(incidents: pd.DataFrame, region: Region) -> tuple[Rows, Rows]:
    """The rows of :func:`backlog_metrics` (replication, option, service, community, metric,
    value): per community, and region-wide (``community`` 'all'). Rows of replications
    computed apart are joined by :func:`backlog_long` in the order of the whole table."""
    columns = [c for c in ("pauses", "overtime") if c in incidents]
    keep = ["replication", "option", "service", "community", "t_call", "t_clear", "warmup"]
    df = incidents[[*keep, "met_target", *columns]].copy()
    for k in ("option", "service"):  # communities stay categorical: their rows in region order
        df[k] = df[k].astype(str)
    df["working_days"] = _working_days(region, df)
    pausing = {sv for s, sv in enumerate(region.services) if region.calendars and region.pauses(s)}
    scoped: list[Rows] = []
    for scope in ("community", ALL):
        keys = _KEYS if scope == "community" else _KEYS[:3]
        rows: Rows = []
        for key, g in df.groupby(keys, sort=True, observed=True):
            rep, option, service, *com = key
            values = _group(region, g, service in pausing)
            where = str(com[0]) if com else ALL
            rows += [(rep, option, service, where, m, values[m]) for m in BACKLOG_METRICS]
        scoped.append(rows)
    return scoped[0], scoped[1]


def backlog_long(parts: list[tuple[Rows, Rows]]) -> pd.DataFrame:
    """The table of :func:`backlog_metrics` from the :func:`backlog_rows` of replications in
    order: every replication per community, then every replication region-wide."""
    rows = [r for p in parts for r in p[0]] + [r for p in parts for r in p[1]]
    return pd.DataFrame(rows, columns=[*_KEYS, "metric", "value"])


def backlog_metrics(incidents: pd.DataFrame, region: Region) -> pd.DataFrame:
    """Per replication x option x service x community (and ``all``): the backlog and the
    completion measures, long (``metric``, ``value``)."""
    return backlog_long([backlog_rows(incidents, region)])


def wide_table(
    long: pd.DataFrame, options: list[str], metrics: tuple[str, ...], intervals: tuple[str, ...]
) -> pd.DataFrame:
    """One row per option x service x community: the mean over replications of each of
    ``metrics``, ``n`` (replications), and the 95 % interval (``<metric>_low``,
    ``<metric>_high``) of each of ``intervals``; options in ``options`` order, ``all`` last."""
    keys = ["option", "service", "community"]
    if long.empty:
        extra = [f"{m}_{end}" for m in intervals for end in ("low", "high")]
        return pd.DataFrame(columns=[*keys, "n", *metrics, *extra])
    ci = with_ci(long, [*keys, "metric"], bounds=(0.0, float("inf")))
    wide = ci.pivot_table(index=keys, columns="metric", values="mean", sort=False, dropna=False)
    wide = wide.reindex(columns=list(metrics))
    for m in intervals:
        part = ci[ci["metric"] == m].set_index(keys)
        wide[f"{m}_low"] = part["ci_low"].reindex(wide.index)
        wide[f"{m}_high"] = part["ci_high"].reindex(wide.index)
    wide.insert(0, "n", ci.groupby(keys, sort=False)["n"].max().reindex(wide.index))
    out = wide.reset_index()
    order = {o: i for i, o in enumerate(options)}
    out["_o"] = out["option"].map(order)
    out["_c"] = out["community"] == ALL
    out = out.sort_values(["_o", "service", "_c"], kind="stable").drop(columns=["_o", "_c"])
    out.columns.name = None
    return out.reset_index(drop=True)


def backlog_table(long: pd.DataFrame, options: list[str]) -> pd.DataFrame:
    """``backlog.csv``: per option x service x community the means of :data:`BACKLOG_METRICS`,
    with 95 % intervals of the backlog, the p90 in working days and the share within target."""
    return wide_table(long, options, BACKLOG_METRICS, _WITH_CI)


def on_calendar(region: Region) -> list[str]:
    """The services whose units work on a calendar that closes (their requests wait overnight
    by design, so a share still open at the horizon says little)."""
    return [sv for s, sv in enumerate(region.services) if region.calendars and region.pauses(s)]


WEEK = 7 * 1440.0
# per kind of service: the levels drawn week by week (label, the columns an interval spans)
WEEKLY_PANELS = {
    "backlog": (("open requests", ("t_call", "t_clear")),),
    "caseload": (
        ("cases per worker", ("t_dispatch", "t_clear")),
        ("cases waiting for a worker", ("t_ready", "t_dispatch")),
    ),
}
WEEKLY_COLUMNS = ["option", "service", "kind", "panel", "day", "level"]


def weekly_levels(inc: pd.DataFrame, region: Region, options: list[str]) -> pd.DataFrame:
    """Week by week, per option and service on a calendar or with a caseload: the mean over
    replications of the time-average number of requests open (or cases held, or waiting),
    for the figures of work orders and caseloads (``service_weekly.csv``). ``day``: the week's
    first day of the run; cases held are not yet divided by the workers."""
    horizon = region.horizon
    edges = np.arange(0.0, horizon + 1e-9, WEEK)
    if len(edges) < 2:
        edges = np.array([0.0, horizon])
    out = []
    for s, service in enumerate(region.services):
        kind = _weekly_kind(region, s)
        if kind is None:
            continue
        for option in options:
            rows = inc[(inc["service"] == service) & (inc["option"] == option)]
            reps = max(1, rows["replication"].nunique())
            for panel, (a_col, b_col) in WEEKLY_PANELS[kind]:
                a = rows[a_col].to_numpy(dtype=np.float64)
                b = rows[b_col].to_numpy(dtype=np.float64)
                b = np.where(b <= horizon, b, np.nan)
                a, b = a[~np.isnan(a)], b[~np.isnan(a)]
                level = open_series(a, b, edges) / reps
                out.append(
                    pd.DataFrame(
                        {
                            "option": option,
                            "service": service,
                            "kind": kind,
                            "panel": panel,
                            "day": edges[:-1] / 1440.0,
                            "level": level,
                        }
                    )
                )
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=WEEKLY_COLUMNS)


def _weekly_kind(region: Region, s: int) -> str | None:
    if region.max_cases and region.max_cases[s]:
        return "caseload"
    calendar = region.calendars[s] if region.calendars else None
    return None if calendar is None or calendar.always_open else "backlog"
