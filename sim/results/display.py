"""Numbers as people read them: minutes as '8:59', shares as '96 %', money as '2.37 M'.

Used by the figures, the reports, the console tables and every experiment's output, so that a
number reads the same wherever it appears.
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = [
    "METHOD_NAMES",
    "console_table",
    "fmt_duration",
    "fmt_durations",
    "fmt_minutes",
    "fmt_money",
    "fmt_pct",
    "fmt_size",
]


def fmt_minutes(m: float) -> str:
    """Minutes as a planner reads them: '8:59', '12 min', '2 h', '3 d'."""
    if m is None or not math.isfinite(m):
        return "-"
    if m >= 2880 and abs(m / 1440 - round(m / 1440)) < 1e-6:
        return f"{m / 1440:.0f} d"
    if m >= 120:
        h = m / 60
        return f"{h:.0f} h" if abs(h - round(h)) < 1e-6 else f"{h:.1f} h"
    if abs(m - round(m)) < 1e-6:
        return f"{m:.0f} min"
    whole = math.floor(m)
    sec = round((m - whole) * 60)
    if sec == 60:
        whole, sec = whole + 1, 0
    return f"{whole}:{sec:02d}"


def fmt_duration(m: float) -> str:
    """A measured time: '12.9 min', '3.4 h', '2.5 d'."""
    if m is None or not math.isfinite(m):
        return "-"
    return _in_unit(m, _unit(m))


def fmt_durations(*minutes: float) -> list[str]:
    """Times set side by side in one sentence, in one unit: that of the largest
    ('18.8 h' and '2.0 h', not '18.8 h' and '119.3 min')."""
    finite = [abs(m) for m in minutes if m is not None and math.isfinite(m)]
    unit = _unit(max(finite, default=0.0))
    return ["-" if m is None or not math.isfinite(m) else _in_unit(m, unit) for m in minutes]


def _unit(m: float) -> tuple[str, float]:
    if m >= 2880:
        return "d", 1440.0
    if m >= 120:
        return "h", 60.0
    return "min", 1.0


def _in_unit(m: float, unit: tuple[str, float]) -> str:
    return f"{m / unit[1]:.1f} {unit[0]}"


def fmt_size(n: int) -> str:
    """Bytes as '3.1 MB', '820 kB', '120 B' (decimal units)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}" if n < 100 * scale else f"{n / scale:.0f} {unit}"
    return f"{n} B"


def fmt_pct(v: float, digits: int = 0) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    return f"{100 * v:.{digits}f} %"


def fmt_money(v: float) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.2f} M"
    if a >= 1e4:
        return f"{v / 1e3:.0f} k"
    return f"{v:,.0f}"


# cost-sharing methods of the coalition game and of the agreements' formulas
METHOD_NAMES = {
    "shapley": "Shapley value",
    "per_capita": "per capita",
    "per_call": "per call",
    "per_unit_hour": "per unit-hour used",
    "mix": "weighted mix",
    "nucleolus": "nucleolus",
}
CONSOLE_FORMATS = {
    "calls": "{:,.0f}".format,
    "mean resp": "{:.1f} min".format,
    "p90 resp": "{:.1f} min".format,
    "in target": "{:.1%}".format,
    "never reached": "{:.1%}".format,
    "waited": "{:.1%}".format,
    "P(wait) Erlang": "{:.1%}".format,
}


def console_table(table: pd.DataFrame) -> str:
    """A table for the terminal, its known columns formatted (minutes, shares, counts)."""
    formats = {k: v for k, v in CONSOLE_FORMATS.items() if k in table}
    return table.to_string(formatters=formats, na_rep="-")
