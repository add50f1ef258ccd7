"""Working time compiled from a scenario: calendars, targets in working time, seasonality.

The date of time 0 is ``run.start`` (a Monday; default :data:`DEFAULT_START`, Monday
1 January 2024): holidays are days counted from it, and the month of each simulated day is
the month of its date. Month-of-year factors are scaled so that a year of 365 days keeps its
rate (each month weighted by its days).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from ..schema.scenario import Profile, Scenario
from .calendars import DAY, SLACK, Calendar, calendar_intervals, month_of_day

__all__ = [
    "DEFAULT_START",
    "MONTH_DAYS",
    "compile_calendars",
    "month_factors",
    "run_months",
    "service_calendars",
]

DEFAULT_START = dt.date(2024, 1, 1)  # a Monday, 1 January
MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.float64)
_WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def compile_calendars(s: Scenario, horizon: float) -> dict[str, Calendar]:
    """Every named calendar, its openings from time 0 to :data:`SLACK` beyond ``horizon``."""
    start = s.run.start or DEFAULT_START
    out = {}
    for name, cal in s.calendars.items():
        weekdays = sorted({_WEEK.index(d) for d in cal.days})
        closed = sorted({(h - start).days for h in cal.holidays})
        intervals = calendar_intervals(cal.spans, weekdays, closed, horizon + SLACK)
        day = sum(b - a for a, b in cal.spans) * 60.0
        always = day == DAY and len(weekdays) == 7 and not [c for c in closed if c >= 0]
        out[name] = Calendar(name, intervals, day, always)
    return out


def service_calendars(s: Scenario, calendars: dict[str, Calendar]) -> tuple[Calendar | None, ...]:
    """The calendar of each service, in service order (None: round the clock)."""
    return tuple(
        calendars[svc.calendar] if svc.calendar is not None else None for svc in s.services.values()
    )


def month_factors(profile: Profile | None) -> np.ndarray:
    """The 12 month factors of a profile, scaled to mean 1 over a year (ones without one)."""
    if profile is None:
        return np.ones(12)
    f = np.asarray(profile.month_of_year, dtype=np.float64)
    return f / (f @ MONTH_DAYS / MONTH_DAYS.sum())


def run_months(s: Scenario, horizon: float) -> np.ndarray:
    """The month (0 = January) of every day from time 0 to the horizon."""
    return month_of_day(s.run.start or DEFAULT_START, int(np.ceil(horizon / DAY)) + 1)
