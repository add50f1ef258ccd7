"""Durations in scenario files: a number of minutes, or a string with a unit.

Accepted forms: ``12`` (minutes), ``"90 s"``, ``"8:59"`` (minutes:seconds), ``"12 h"``,
``"365 d"``, ``"2 w"``, and sums such as ``"14 d 6 h"``. Everything inside intersim is in minutes.

A duration string is at most :data:`MAX_TEXT` characters and is read in one left-to-right pass
(no backtracking), and every duration is at most :data:`MAX_MINUTES` (50 years, the longest
horizon): whatever passes here is a finite number that the model can add and multiply.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

__all__ = [
    "MAX_MINUTES",
    "MAX_TEXT",
    "Duration",
    "PositiveDuration",
    "parse_duration",
    "shown",
]

MAX_MINUTES = 50 * 525_600.0  # 50 years of 365 days: the longest horizon
MAX_TEXT = 64
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
# One part "number unit": the number's alternatives cannot overlap, so matching is linear.
_PART = re.compile(r"\s*(-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z]+)")
_CLOCK = re.compile(r"\s*([0-9]+):([0-5][0-9])\s*")


def shown(value: object, width: int = 40) -> str:
    """``repr(value)`` cut to ``width`` characters, for messages."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 4] + "...'"


def _parts(text: str) -> list[tuple[str, str]] | None:
    """The (number, unit) parts of ``text``, or None unless the whole text is such parts."""
    parts: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _PART.match(text, pos)
        if m is None:
            return None if text[pos:].strip() else parts or None
        parts.append((m.group(1), m.group(2)))
        pos = m.end()
    return parts or None


def _from_int(value: int) -> float:
    """An integer as minutes; one too large for a float is infinitely long (refused later)."""
    try:
        return float(value)
    except OverflowError:
        return math.copysign(math.inf, value)


def parse_duration(value: object) -> object:
    """Turn a duration written in a scenario into minutes (a float).

    Values that are not durations are returned unchanged so that pydantic reports them.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _from_int(value)
    if isinstance(value, float):
        return value
    if not isinstance(value, str):
        return value
    if len(value) > MAX_TEXT:
        raise ValueError(
            f"{shown(value)} is not a duration: {len(value):,} characters (at most {MAX_TEXT})"
        )
    clock = _CLOCK.fullmatch(value)
    if clock:
        return int(clock.group(1)) + int(clock.group(2)) / 60
    parts = _parts(value)
    if parts and all(u.lower() in _UNITS for _, u in parts):
        return sum(float(n) * _UNITS[u.lower()] for n, u in parts)
    try:
        return float(value)
    except ValueError:
        raise ValueError(
            f"{shown(value)} is not a duration: use minutes (12), a unit ('90 s', '12 h', "
            "'365 d') or minutes:seconds ('8:59')"
        ) from None


def _bounded(value: float, positive: bool) -> float:
    """Refuse NaN, negative (or, if ``positive``, zero) durations and those beyond 50 years."""
    if math.isnan(value) or value == -math.inf:
        raise ValueError("must be a finite duration")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"must be {'>' if positive else '>='} 0 minutes")
    if value > MAX_MINUTES:
        raise ValueError("must be at most 50 years (26,280,000 minutes)")
    return value


def _non_negative(value: float) -> float:
    return _bounded(value, positive=False)


def _positive(value: float) -> float:
    return _bounded(value, positive=True)


Duration = Annotated[float, BeforeValidator(parse_duration), AfterValidator(_non_negative)]
PositiveDuration = Annotated[float, BeforeValidator(parse_duration), AfterValidator(_positive)]
