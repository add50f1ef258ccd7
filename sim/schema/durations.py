"""Durations in scenario files: a number of minutes, or a string with a unit.

Accepted forms: ``12`` (minutes), ``"90 s"``, ``"8:59"`` (minutes:seconds), ``"12 h"``,
``"365 d"``, ``"2 w"``, and sums such as ``"14 d 6 h"``. Everything inside intersim is in minutes.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

__all__ = ["Duration", "PositiveDuration", "parse_duration"]

_UNITS = {
    "s": 1 / 60,
    "sec": 1 / 60,
    "second": 1 / 60,
    "seconds": 1 / 60,
    "m": 1.0,
    "min": 1.0,
    "minute": 1.0,
    "minutes": 1.0,
    "h": 60.0,
    "hour": 60.0,
    "hours": 60.0,
    "d": 1440.0,
    "day": 1440.0,
    "days": 1440.0,
    "w": 10080.0,
    "week": 10080.0,
    "weeks": 10080.0,
}
_PART = re.compile(r"(-?[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z]+)")
_CLOCK = re.compile(r"^\s*([0-9]+):([0-5][0-9])\s*$")


def parse_duration(value: object) -> object:
    """Turn a duration written in a scenario into minutes (a float).

    Values that are not durations are returned unchanged so that pydantic reports them.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return value
    clock = _CLOCK.match(value)
    if clock:
        return int(clock.group(1)) + int(clock.group(2)) / 60
    parts = _PART.findall(value)
    if parts and _PART.sub("", value).strip() == "" and all(u.lower() in _UNITS for _, u in parts):
        return sum(float(n) * _UNITS[u.lower()] for n, u in parts)
    try:
        return float(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a duration: use minutes (12), a unit ('90 s', '12 h', '365 d') "
            "or minutes:seconds ('8:59')"
        ) from None


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite duration")
    return value


def _non_negative(value: float) -> float:
    if _finite(value) < 0:
        raise ValueError("must be >= 0 minutes")
    return value


def _positive(value: float) -> float:
    if _finite(value) <= 0:
        raise ValueError("must be > 0 minutes")
    return value


Duration = Annotated[float, BeforeValidator(parse_duration), AfterValidator(_non_negative)]
PositiveDuration = Annotated[float, BeforeValidator(parse_duration), AfterValidator(_positive)]
