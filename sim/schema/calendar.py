"""Working time and caseloads in the scenario format: calendars, case slots and visits.

A calendar names the hours a service works (``calendars: {office: {hours: [7, 15.5], days:
[mon, tue, wed, thu, fri], holidays: [2027-01-01]}}``); a service on a calendar works only
inside it. A caseload service holds cases in its workers' case slots (``caseload: {max_cases:
20}``), and a case may need recurring visits (``visits: {every: 7 d, duration: 90}``).
Checks across the scenario (unknown calendar, working-time targets without one) are in
:mod:`sim.schema.references`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from .durations import PositiveDuration

__all__ = ["Calendar", "Caseload", "Date", "Visits", "as_date"]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WORKING_WEEK: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
MAX_HOLIDAYS = 10_000
Hour = Annotated[float, Field(ge=0, le=24, allow_inf_nan=False)]
Span = Annotated[list[Hour], Field(min_length=2, max_length=2)]


def as_date(value: Any) -> Any:
    """A date written ``2027-01-01`` (YAML reads it as a date) or quoted; never a time."""
    if isinstance(value, dt.datetime):
        raise ValueError(f"a date such as 2027-01-01, not a time ({value.isoformat()})")
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"a date such as 2027-01-01, got {value!r}") from None
    return value


Date = Annotated[dt.date, BeforeValidator(as_date)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _spans(hours: list[float | list[float]]) -> list[tuple[float, float]]:
    """``[7, 15.5]`` or ``[[7, 12], [13, 15.5]]`` as (start, end) pairs."""
    pairs = [h for h in hours if isinstance(h, list)]
    if hours and len(pairs) == len(hours):
        return [(float(p[0]), float(p[1])) for p in pairs]
    if len(hours) == 2 and not pairs:
        return [(float(hours[0]), float(hours[1]))]  # type: ignore[arg-type]
    raise ValueError(
        "give the hours as [start, end], e.g. [7, 15.5], or as a list of such spans, "
        "e.g. [[7, 12], [13, 15.5]]"
    )


class Calendar(_Model):
    """Working hours of a service: the same hours on every working day, none on holidays.

    ``hours`` is one span ``[start, end)`` of the day in hours (``[7, 15.5]``: 07:00-15:30) or
    several (``[[7, 12], [13, 15.5]]``: a lunch break); spans do not cross midnight."""

    hours: list[Hour | Span] = Field(
        max_length=24, description="[start, end) hours of the day, or a list of such spans"
    )
    days: list[Weekday] = Field(
        default_factory=lambda: list(WORKING_WEEK),
        description="Working days (default Monday to Friday)",
    )
    holidays: list[Date] = Field(
        default_factory=list,
        max_length=MAX_HOLIDAYS,
        description="Dates without work, e.g. 2027-01-01 (needs run.start)",
    )

    @field_validator("hours")
    @classmethod
    def _open_hours(cls, hours: list[float | list[float]]) -> list[float | list[float]]:
        spans = sorted(_spans(hours))
        for a, b in spans:
            if b < a:
                raise ValueError(
                    f"hours {a:g}-{b:g} are inverted: a span runs from its start to a later "
                    "end within one day"
                )
            if b == a:
                raise ValueError(f"hours {a:g}-{b:g} are empty: a calendar needs open hours")
        for (a0, b0), (a1, b1) in itertools.pairwise(spans):
            if a1 < b0:
                raise ValueError(f"hours {a0:g}-{b0:g} and {a1:g}-{b1:g} overlap")
        return hours

    @field_validator("days")
    @classmethod
    def _some_day(cls, days: list[str]) -> list[str]:
        if not days:
            raise ValueError("a calendar needs at least one working day")
        return days

    @property
    def spans(self) -> list[tuple[float, float]]:
        """The open spans of a working day, as (start, end) hours."""
        return _spans(self.hours)


class Visits(_Model):
    """Recurring visits of a case: one in every period of ``every`` from allocation, taking
    ``duration`` of the worker's time inside the service's calendar, with travel from the
    worker's office and back."""

    every: PositiveDuration = Field(description="Period of the visits, e.g. '7 d'")
    duration: PositiveDuration = Field(description="Time of one visit at the client, minutes")


class Caseload(_Model):
    """A caseload service: each worker holds up to ``max_cases`` cases at once."""

    max_cases: int = Field(ge=1, le=1000, description="Case slots of one worker")
