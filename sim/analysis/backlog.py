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

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..model.calendars import working_minutes
from ..model.compile import Region
from .grouping import Groups, flag_means
from .incidentview import IncidentTable, IncidentView
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
    "open_mean",
    "open_series",
    "weekly_levels",
    "weekly_services",
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


def _clipped(
    start: np.ndarray, end: np.ndarray, lo: float, hi: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intervals clipped to [lo, hi] (an end of NaN at ``hi``), and those left non-empty."""
    a = np.clip(start, lo, hi)
    b = np.clip(np.where(np.isnan(end), hi, end), lo, hi)
    return a, b, b > a


def open_mean(start: np.ndarray, end: np.ndarray, lo: float, hi: float) -> float:
    """Time-average number of intervals [start, end) open inside [lo, hi) (NaN if empty)."""
    if hi <= lo:
        return float("nan")
    a, b, keep = _clipped(start, end, lo, hi)
    return float((b[keep] - a[keep]).sum() / (hi - lo))


def _peak(a: np.ndarray, b: np.ndarray) -> float:
    """Peak number of the non-empty intervals [a, b) open at once: reached as one opens, when
    those opened by then (ties included) less those closed by then (one closing at that very
    time is closed) is largest. Over the openings in sorted order the first count is the rank
    (a tie's last rank gives it, and the earlier ranks are smaller)."""
    if not len(a):
        return 0.0
    opens, closes = np.sort(a), np.sort(b)
    closed = np.searchsorted(closes, opens, side="right")
    return float((np.arange(1, len(opens) + 1) - closed).max())


def open_level(start: np.ndarray, end: np.ndarray, lo: float, hi: float) -> tuple[float, float]:
    """Time-average and peak number of intervals [start, end) open inside [lo, hi) (an end of
    NaN is open beyond ``hi``)."""
    if hi <= lo:
        return float("nan"), float("nan")
    a, b, keep = _clipped(start, end, lo, hi)
    return open_mean(start, end, lo, hi), _peak(a[keep], b[keep])


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


def _working_days(region: Region, view: IncidentView) -> np.ndarray:
    """Working days from call to completion on each request's service calendar (NaN for
    services without one, and for requests not completed by the horizon)."""
    t_call, t_clear = view.floats("t_call"), view.floats("t_clear")
    out = np.full(len(view), np.nan)
    done = t_clear <= region.horizon
    service = view.key("service")
    for s, calendar in enumerate(region.calendars):
        code = np.flatnonzero(service.labels == region.services[s])
        if calendar is None or not len(code):
            continue
        mine = done & (service.codes == code[0])
        if not mine.any():
            continue
        took = working_minutes(calendar.intervals, t_call[mine], t_clear[mine])
        out[mine] = took / calendar.day_minutes
    return out


class _Runs:
    """The rows of each group where ``mask`` holds, in table order: each group's values as
    its own arrays would hold them (so that numpy's pairwise sums come out the same)."""

    def __init__(self, groups: Groups, mask: np.ndarray) -> None:
        self.order = groups.order[mask[groups.order]]
        self.ends = np.cumsum(np.bincount(groups.ids[mask], minlength=len(groups)))

    def of(self, values: np.ndarray) -> list[np.ndarray]:
        return np.split(values[self.order], self.ends[:-1])


def _each(
    runs: list[np.ndarray],
    f: Callable[[np.ndarray], float],
    on: np.ndarray | None = None,
    empty: float = np.nan,
) -> np.ndarray:
    """``f`` of each group's run where ``on`` (default: everywhere), ``empty`` for an empty
    run there, NaN elsewhere."""
    on = np.ones(len(runs), dtype=bool) if on is None else on
    return np.array(
        [(f(r) if len(r) else empty) if o else np.nan for r, o in zip(runs, on, strict=True)]
    )


def _scope(
    region: Region, groups: Groups, c: dict[str, np.ndarray], paused: np.ndarray
) -> dict[str, np.ndarray]:
    """The :data:`BACKLOG_METRICS` of every group (``paused``: which ones are of a service
    whose jobs pause). Counts and shares of 0/1 values are exact whatever the order; sums and
    fractiles of times are taken on each group's own run of values, as the group's own arrays
    gave them."""
    lo, hi = region.warmup, region.horizon
    counted = ~c["warmup"]
    nothing = np.full(len(groups), np.nan)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(groups.ids, weights=mask, minlength=len(groups))

    a, b, keep = _clipped(c["t_call"], c["t_clear"], lo, hi)
    kept = _Runs(groups, keep)
    spans = np.array([r.sum() for r in kept.of(b - a)])  # an empty sum is 0
    peak = np.array([_peak(x, y) for x, y in zip(kept.of(a), kept.of(b), strict=True)])
    requests = count(counted)
    days = _Runs(groups, counted & ~np.isnan(c["working_days"])).of(c["working_days"])
    overtime, jobs = nothing, nothing
    if "pauses" in c and paused.any():
        runs = _Runs(groups, counted).of(c["overtime"])
        overtime = _each(runs, lambda r: r.sum() / 60, paused, empty=0.0)
        jobs = np.where(paused, count(counted & (c["pauses"] > 0)), np.nan)
    return {
        "requests": requests,
        "mean_backlog": spans / (hi - lo) if hi > lo else nothing,
        "peak_backlog": peak if hi > lo else nothing,
        "end_backlog": count((c["t_call"] < hi) & ~(c["t_clear"] <= hi)),
        "mean_working_days": _each(days, np.mean),
        "p90_working_days": _each(days, lambda r: np.quantile(r, 0.9)),
        "within_target": flag_means(
            count(counted & c["met_known"] & (c["met_target"] > 0)),
            count(counted & c["met_known"]),
        ),
        "overtime_hours": overtime,
        "paused_jobs": jobs,
        "paused_share": np.where(paused & (requests > 0), jobs / np.maximum(requests, 1), np.nan),
    }


Rows = list[tuple[object, ...]]


def backlog_rows(incidents: IncidentTable, region: Region) -> tuple[Rows, Rows]:
    """The rows of :func:`backlog_metrics` (replication, option, service, community, metric,
    value): per community, and region-wide (``community`` 'all'), in the order groupby sorts
    them (options and services as text, communities in region order). Rows of replications
    computed apart are joined by :func:`backlog_long` in the order of the whole table."""
    view = IncidentView.of(incidents)
    met, known = view.flags("met_target")
    columns = {
        "t_call": view.floats("t_call"),
        "t_clear": view.floats("t_clear"),
        "warmup": view.table["warmup"].to_numpy(dtype=bool),
        "met_target": met,
        "met_known": known,
        "working_days": _working_days(region, view),
    }
    for c in ("pauses", "overtime"):
        if c in view.table:
            columns[c] = view.table[c].to_numpy()
    pausing = set(on_calendar(region))
    keys = [view.key("replication", "number"), view.key("option"), view.key("service")]
    scopes = [Groups([*keys, view.key("community", "category")]), Groups(keys)]
    scoped: list[Rows] = []
    for groups in scopes:
        labels = [groups.labels(i).tolist() for i in range(len(groups.keys))]
        paused = np.array([sv in pausing for sv in labels[2]], dtype=bool)
        values = _scope(region, groups, columns, paused)
        table = [values[m].tolist() for m in BACKLOG_METRICS]
        where = labels[3] if len(labels) == 4 else [ALL] * len(groups)
        scoped.append(
            [
                (int(labels[0][i]), labels[1][i], labels[2][i], where[i], m, float(table[j][i]))
                for i in range(len(groups))
                for j, m in enumerate(BACKLOG_METRICS)
            ]
        )
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


def weekly_services(region: Region) -> list[str]:
    """The services that :func:`weekly_levels` draws (on a calendar or with a caseload): their
    calls are the only ones it reads, and the only ones the caseload measures read."""
    return [sv for s, sv in enumerate(region.services) if _weekly_kind(region, s) is not None]


def _weekly_kind(region: Region, s: int) -> str | None:
    if region.max_cases and region.max_cases[s]:
        return "caseload"
    calendar = region.calendars[s] if region.calendars else None
    return None if calendar is None or calendar.always_open else "backlog"
