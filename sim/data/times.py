"""Timestamps of incident logs: common formats, time zones, daylight saving.

Every time column is parsed into two views: the absolute instant (UTC), used for durations and
for replay, and the local wall-clock time, used for hour-of-day and day-of-week profiles (people
call by the local clock). Timestamps with an offset (``+01:00``, ``Z``) are exact instants;
naive ones are wall-clock times in ``tz`` (default UTC). With ``tz`` every instant is also shown
in that zone; without it, an offset-carrying timestamp keeps the wall clock it was written in.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["Times", "check_tz", "parse_times", "to_timestamp"]

ISO = "ISO8601"
_DAYFIRST = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
)
_MONTHFIRST = (
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
)
_OTHER = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%d %b %Y %H:%M:%S",
    "%d %b %Y %H:%M",
    "%d-%b-%Y %H:%M:%S",
    "%d-%b-%Y %H:%M",
    "%Y%m%d%H%M%S",
    "%Y%m%dT%H%M%S",
    "%d.%m.%y %H:%M",
    "%d/%m/%y %H:%M",
)
_OFFSET = r"\s*([Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"  # only applied where _HAS_OFFSET
_HAS_OFFSET = r"\d\s*(?:[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"  # RE2-friendly: fast in pyarrow
_HAS_TIME = re.compile(r"\d{1,2}:\d{2}")
_EPOCH = re.compile(r"^\d{9,13}(\.\d+)?$")
SAMPLE = 1000


@dataclass
class Times:
    """One time column parsed: instants (UTC), local wall-clock times, and what went wrong."""

    utc: pd.Series  # datetime64 UTC; NaT where missing or unparseable
    local: pd.Series  # naive wall-clock datetime64
    missing: pd.Series  # bool: the cell was empty
    bad: pd.Series  # bool: the cell held text that is not a time
    format: str
    notes: Counter[str] = field(default_factory=Counter)
    offsets: Counter[str] = field(default_factory=Counter)  # written UTC offsets (without tz)


def check_tz(tz: str | None, what: str = "--tz") -> str | None:
    """``tz`` if pandas knows the zone (Europe/Oslo, UTC, +01:00); else InputError."""
    if tz is None:
        return None
    try:
        pd.Timestamp("2025-01-06").tz_localize(tz)
    except Exception:  # pytz/zoneinfo/dateutil raise different errors for unknown zones
        raise InputError(
            f"{what}: unknown time zone {tz!r} (use a name such as Europe/Oslo or UTC, or an "
            "offset such as +01:00)"
        ) from None
    return tz


def _candidates(dayfirst: bool | None) -> tuple[str, ...]:
    order = _MONTHFIRST + _DAYFIRST if dayfirst is False else _DAYFIRST + _MONTHFIRST
    return (ISO, *order, *_OTHER)


def _parse(values: pd.Series, fmt: str) -> pd.Series:
    """Parse with one format; NaT where it does not fit. ISO keeps offsets (as UTC)."""
    if fmt == ISO:
        return pd.to_datetime(values, format=ISO, utc=True, errors="coerce")
    out = pd.to_datetime(values, format=fmt, errors="coerce")
    return out.dt.tz_localize("UTC")


def _choose(sample: pd.Series, dayfirst: bool | None) -> list[tuple[str, int]]:
    """Candidate formats that read any of ``sample``, most successes first (stable order)."""
    scores = []
    for i, fmt in enumerate(_candidates(dayfirst)):
        ok = int(_parse(sample, fmt).notna().sum())
        if fmt == ISO:  # ISO reads bare dates too; a time-less reading must not win
            ok = int((_parse(sample, fmt).notna() & sample.str.contains(_HAS_TIME)).sum()) or ok
        if ok:
            scores.append((fmt, ok, i))
    scores.sort(key=lambda s: (-s[1], s[2]))
    return [(f, n) for f, n, _ in scores]


def parse_times(
    values: pd.Series,
    *,
    tz: str | None = None,
    fmt: str | None = None,
    dayfirst: bool | None = None,
    wall_clock: bool = True,
) -> Times:
    """Parse a column of timestamps written as text (see the module docstring). Without
    ``wall_clock`` the local times are not worked out (``local`` is all NaT)."""
    text = values.astype("string").str.strip()
    missing = pd.Series((text.isna() | (text == "")).to_numpy(dtype=bool), index=values.index)
    present = text[~missing]
    notes: Counter[str] = Counter()
    offsets_seen: Counter[str] = Counter()
    utc = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    aware = pd.Series(False, index=values.index)
    used = fmt or ISO
    if len(present) and fmt is None and present.iloc[:SAMPLE].str.fullmatch(_EPOCH).all():
        number = pd.to_numeric(present, errors="coerce")
        unit = "ms" if number.median() > 1e11 else "s"
        utc[present.index] = pd.to_datetime(number, unit=unit, utc=True, errors="coerce")
        aware[present.index] = True
        used = f"seconds since 1970 (epoch, {unit})"
    elif len(present):
        formats = [(fmt, 1)] if fmt else _choose(present.iloc[:SAMPLE], dayfirst)
        if fmt is None:
            formats += [(f, 0) for f in _candidates(dayfirst) if f not in dict(formats)]
        todo = present
        for i, (f, _) in enumerate(formats):
            if todo.empty:
                break
            parsed = _parse(todo, f).dropna()
            if parsed.empty:
                continue
            if i == 0:
                used = f
            else:
                notes[f"{len(parsed)} value(s) written in another format ({f})"] += len(parsed)
            utc[parsed.index] = parsed
            if f == ISO:
                aware[parsed.index] = todo[parsed.index].str.contains(_HAS_OFFSET)
            todo = todo.drop(parsed.index)
        best, score = formats[0]
        if fmt is None and best in _DAYFIRST + _MONTHFIRST:
            twin = best.replace("%d", "%D").replace("%m", "%d").replace("%D", "%m")
            if dict(formats).get(twin) == score:
                side = "day" if best in _DAYFIRST else "month"
                notes[
                    f"dates such as 05/06 could be read either way: read {side} first "
                    "(set dayfirst in a mapping file to change)"
                ] += len(present)
    bad = pd.Series((~missing & utc.isna()).to_numpy(dtype=bool), index=values.index)
    naive = utc.notna() & ~aware
    local = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if naive.any():
        wall = utc[naive].dt.tz_localize(None)
        local[naive] = wall
        utc[naive] = _localize(wall, tz or "UTC", notes)
    if aware.any() and wall_clock:
        if tz is None:
            offsets = text[aware].str.extract(_OFFSET, expand=False).str.upper()
            offsets = offsets.replace({"Z": "+00:00", "UTC": "+00:00", "GMT": "+00:00"})
            offsets = offsets.str.replace(r"^([+-]\d{2})$", r"\1:00", regex=True)
            offsets_seen.update({str(k): int(v) for k, v in offsets.value_counts().items()})
            written = text[aware].str.replace(_OFFSET, "", regex=True)
            local[aware] = pd.to_datetime(written, format=ISO, errors="coerce")
            epoch = local[aware].isna()
            if epoch.any():  # epoch seconds carry no wall clock: show them in UTC
                idx = epoch[epoch].index
                local[idx] = utc[idx].dt.tz_localize(None)
        else:
            local[aware] = utc[aware].dt.tz_convert(tz).dt.tz_localize(None)
    if tz is not None and naive.any() and wall_clock:
        local[naive] = utc[naive].dt.tz_convert(tz).dt.tz_localize(None)
    return Times(utc, local, missing, bad, used, notes, offsets_seen)


def _localize(wall: pd.Series, tz: str, notes: Counter[str]) -> pd.Series:
    """Wall-clock times in ``tz`` as instants. Times in the hour skipped when clocks go forward
    are moved forward; times in the hour repeated when they go back are taken as summer time.
    Both are counted."""
    strict = wall.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    if strict.notna().all():
        return strict.dt.tz_convert("UTC")
    skipped = wall.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward").isna()
    gap = int(strict.isna().sum() - skipped.sum())
    fixed = wall.dt.tz_localize(
        tz, ambiguous=np.ones(len(wall), dtype=bool), nonexistent="shift_forward"
    )
    if gap:
        notes["local times that do not exist (clocks went forward): moved forward"] += gap
    if int(skipped.sum()):
        notes["local times that happen twice (clocks went back): read as summer time"] += int(
            skipped.sum()
        )
    return fixed.dt.tz_convert("UTC")


def to_timestamp(text: str, tz: str | None, what: str) -> pd.Timestamp:
    """A single time given on the command line (e.g. ``--start``), as an aware instant."""
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise InputError(f"{what}: not a date and time: {text!r} (e.g. 2025-01-06T00:00)") from None
    if ts is pd.NaT:
        raise InputError(f"{what}: not a date and time: {text!r}")
    if ts.tzinfo is None:
        return ts.tz_localize(tz or "UTC")
    return ts.tz_convert(tz) if tz else ts
