"""Working calendars: opening intervals on the run's clock, and arithmetic in working time.

A calendar opens the same hours (one or several ``[start, end)`` spans of a day) on its working
days, and not on its holidays. Compiled, it is a sorted array of disjoint opening intervals in
minutes since time 0 (a Monday, 00:00, the date ``run.start``); intervals that touch are merged,
so that a calendar open round the clock is one interval and never pauses anything.

Everything here is a pure function of such intervals:

- :func:`working_minutes`: working time between two instants (vectorised), for targets and
  completion times in working days or hours;
- :func:`finish_job`: the wall-clock times of a job of a unit that works only inside its
  intervals: it pauses at closing and resumes at the next opening with the trip back to the
  site, unless the rest of the job fits into ``overtime`` minutes after closing;
- :func:`job_pauses`: how often a job that ran from ``start`` to ``end`` paused, and its
  overtime, read back from the same intervals (vectorised, for the records);
- :func:`intersect`: the working time of a unit: its duty intervals inside the calendar.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DAY",
    "SLACK",
    "Calendar",
    "calendar_intervals",
    "finish_job",
    "intersect",
    "job_pauses",
    "merge",
    "month_of_day",
    "pieces",
    "work_intervals",
    "working_minutes",
]

DAY = 1440.0
SLACK = 365 * DAY  # calendars reach this far beyond the horizon: jobs still open go on there
_WEEK_DAYS = 7


@dataclass(frozen=True)
class Calendar:
    """A compiled working calendar: ``intervals`` (m, 2) minutes, sorted, disjoint, not
    touching, beyond the horizon by :data:`SLACK`; ``day_minutes``: the working minutes of one
    working day (for working days); ``always_open``: round the clock, every day, no holidays
    (units of its services never pause)."""

    name: str
    intervals: np.ndarray
    day_minutes: float
    always_open: bool


def merge(intervals: np.ndarray) -> np.ndarray:
    """Sorted intervals with overlapping or touching ones merged, shape (m, 2)."""
    iv = np.asarray(intervals, dtype=np.float64).reshape(-1, 2)
    iv = iv[iv[:, 1] > iv[:, 0]]
    if len(iv) == 0:
        return iv
    iv = iv[np.argsort(iv[:, 0], kind="stable")]
    reach = np.maximum.accumulate(iv[:, 1])
    first = np.flatnonzero(np.r_[True, iv[1:, 0] > reach[:-1]])  # a gap before it
    return np.stack([iv[first, 0], np.maximum.reduceat(iv[:, 1], first)], axis=1)


def pieces(
    intervals: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The parts of spans [a, b) inside sorted disjoint ``intervals``: (span index, start,
    end) arrays, in span order."""
    first = np.searchsorted(intervals[:, 1], a, side="right")
    last = np.searchsorted(intervals[:, 0], b, side="left")
    count = np.maximum(last - first, 0)
    span = np.repeat(np.arange(len(a)), count)
    offset = np.arange(len(span)) - np.repeat(np.cumsum(count) - count, count)
    idx = np.repeat(first, count) + offset
    start = np.maximum(intervals[idx, 0], a[span])
    end = np.minimum(intervals[idx, 1], b[span])
    keep = end > start
    return span[keep], start[keep], end[keep]


def calendar_intervals(
    hours: Sequence[tuple[float, float]],
    weekdays: Sequence[int],
    closed_days: Sequence[int],
    span: float,
) -> np.ndarray:
    """Opening intervals in [0, ``span``) minutes: the ``hours`` spans (hours of the day) of
    every day whose weekday (0 = Monday; day 0 is a Monday) is in ``weekdays`` and whose day
    number is not in ``closed_days``."""
    days = np.arange(int(np.ceil(span / DAY)) + 1)
    open_day = np.isin(days % _WEEK_DAYS, list(weekdays)) & ~np.isin(days, list(closed_days))
    starts = days[open_day][:, None] * DAY
    spans = np.asarray(hours, dtype=np.float64).reshape(-1, 2) * 60.0
    raw = np.stack(
        [(starts + spans[None, :, 0]).ravel(), (starts + spans[None, :, 1]).ravel()], axis=1
    )
    raw = raw[raw[:, 0] < span]
    return merge(raw)


def month_of_day(start: dt.date, days: int) -> np.ndarray:
    """The month (0 = January) of each of ``days`` days from ``start``."""
    first = np.datetime64(start, "D")
    dates = first + np.arange(days)
    return (dates.astype("datetime64[M]").astype(np.int64) % 12).astype(np.int8)


def intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The intervals of ``a`` inside ``b`` (both sorted and disjoint), shape (m, 2)."""
    _, start, end = pieces(b, a[:, 0], a[:, 1])
    return merge(np.stack([start, end], axis=1))


def work_intervals(duty: np.ndarray, calendar: Calendar, horizon: float) -> np.ndarray:
    """When a unit works: its duty intervals (calendar hours within the horizon), then the
    calendar's own openings after the horizon, where jobs still open at the horizon go on."""
    later = calendar.intervals[calendar.intervals[:, 1] > horizon].copy()
    later[:, 0] = np.maximum(later[:, 0], horizon)
    return merge(np.concatenate([duty, later]))


def _cumulative(intervals: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Working minutes in [0, t) for each ``t``; after the last interval time counts fully."""
    if len(intervals) == 0:
        return np.zeros(np.shape(t))
    xs = intervals.ravel()
    covered = np.concatenate([[0.0], np.cumsum(intervals[:, 1] - intervals[:, 0])])
    ys = np.empty(len(xs))
    ys[0::2], ys[1::2] = covered[:-1], covered[1:]
    t = np.asarray(t, dtype=np.float64)
    inside = np.interp(t, xs, ys)
    return np.where(t > xs[-1], ys[-1] + (t - xs[-1]), inside)


def working_minutes(intervals: np.ndarray, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
    """Working minutes between ``t0`` and ``t1`` (element-wise; NaN stays NaN)."""
    return _cumulative(intervals, t1) - _cumulative(intervals, t0)


def finish_job(
    starts: Sequence[float],
    ends: Sequence[float],
    t: float,
    pre: float,
    site: float,
    trip: float,
    overtime: float,
) -> tuple[float, float, int, float]:
    """A job that works only inside the intervals ``[starts[i], ends[i])``: ``pre`` minutes to
    reach the site (turnout and trip), then ``site`` minutes there. It starts at ``t`` (or at
    the next opening). At a closing, the job goes on into ``overtime`` if all that is left fits
    into it; otherwise it pauses, and at the next opening the crew first drives ``trip`` minutes
    back to the site (a crew still on its way starts that trip again). Overtime ends before the
    next opening: after a short break (lunch) the job pauses instead. After the last interval
    time runs without closings.

    Returns (first arrival at the site, end of the job, pauses, overtime minutes worked)."""
    n = len(starts)
    i = bisect_right(starts, t) - 1
    if i < 0 or t >= ends[i]:  # closed: the job waits for the next opening
        i += 1
        if i < n:
            t = starts[i]
    arrive = -1.0
    pauses = 0
    pre_left, site_left = pre, site
    while True:
        need = pre_left + site_left
        if i >= n:  # beyond the calendar: no more closings
            return (t + pre_left if arrive < 0 else arrive), t + need, pauses, 0.0
        avail = ends[i] - t
        reopens = starts[i + 1] if i + 1 < n else float("inf")
        if need <= avail or (need - avail <= overtime and t + need < reopens):
            arrived = t + pre_left if arrive < 0 else arrive
            return arrived, t + need, pauses, max(0.0, need - avail)
        if pre_left <= avail:  # on site before closing: part of the work is done
            if arrive < 0:
                arrive = t + pre_left
            site_left -= avail - pre_left
        pre_left = trip  # back at the next opening: the trip to the site again
        pauses += 1
        i += 1
        t = starts[i] if i < n else ends[i - 1]


def job_pauses(
    intervals: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For jobs that worked from ``start`` to ``end`` by :func:`finish_job`'s rule on
    ``intervals``: how many times each paused, and its overtime minutes (worked after the last
    closing before its end). Vectorised; a job ending inside an interval (or at its closing)
    has no overtime."""
    start, end = np.asarray(start, dtype=np.float64), np.asarray(end, dtype=np.float64)
    if len(intervals) == 0:
        return np.zeros(len(start), dtype=np.int64), np.zeros(len(start))
    opens, closes = intervals[:, 0], intervals[:, 1]
    j = np.searchsorted(opens, end, side="right") - 1  # the last opening by the end
    last_close = closes[np.maximum(j, 0)]
    past = (j >= 0) & (end > last_close)  # finished after a closing: in overtime
    closings = np.searchsorted(closes, end, side="left") - np.searchsorted(
        closes, start, side="right"
    )
    overtime = np.where(past, end - last_close, 0.0)
    pauses = np.maximum(closings - past.astype(np.int64), 0)
    return pauses.astype(np.int64), overtime
