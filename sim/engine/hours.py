"""Minutes of many intervals inside each hour of day, summed: the arithmetic of the level table.

The definition is dense: a row per interval [a, b), a column per hour of day, the minutes of
[0, b) in that hour less those of [0, a) (:func:`hour_times`), summed down the columns
HOURS_CHUNK rows at a time and the chunks added in order. :func:`level_sums` gives those sums
bit for bit at a fraction of the work, because most entries are exactly 0:

- an interval of length 0 is 0 in every hour;
- an hour that both ends have whole, or both lack, is 0 (and a whole day cancels too);
- adding 0 changes no sum, and a column sum of a C-ordered block adds its rows in order, as
  ``bincount`` does.

So only the hours from an interval's first to its last are worked out, one more on each side
against rounding at an hour's edge, and the day and minute of day of each end come from a
multiplication checked against the exact remainder (the division ``np.divmod`` does is slow).
Anything else (a negative or non-finite time, an end before its start) takes the dense way.
"""

from __future__ import annotations

import numpy as np

__all__ = ["HOURS_CHUNK", "day_and_minute", "hour_times", "level_sums"]

HOURS_CHUNK = 4096  # rows summed at a time: (rows x 24) temporaries stay small
CHUNKS_AT_ONCE = 2  # chunks worked out together by the sparse way
MINUTES_PER_DAY = 1440.0
_HOUR_STARTS = 60.0 * np.arange(24)
_WRAP = (np.arange(48) - 1) % 24  # _WRAP[k]: the hour of day k - 1 (from 23 past midnight)
_STEPS = np.arange(24)


def hour_times(t: np.ndarray) -> np.ndarray:
    """Minutes of each hour of day within [0, t): shape (len(t), 24)."""
    days, rest = np.divmod(t, MINUTES_PER_DAY)
    return days[:, None] * 60.0 + np.clip(rest[:, None] - _HOUR_STARTS, 0.0, 60.0)


def day_and_minute(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.divmod(t, 1440.0)`` for times t >= 0, bit for bit: the day from a product (off by
    one at most), the minute of day then exact (a remainder is exact), the day corrected."""
    days = np.floor(t * (1.0 / MINUTES_PER_DAY))
    rest = t - days * MINUTES_PER_DAY
    over = rest >= MINUTES_PER_DAY
    if over.any():
        days[over] += 1.0
        rest[over] -= MINUTES_PER_DAY
    under = rest < 0.0
    if under.any():
        days[under] -= 1.0
        rest[under] += MINUTES_PER_DAY
    return days, rest


def level_sums(starts: np.ndarray, ends: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Total time of intervals inside [lo, hi): overall, then inside each hour of day."""
    a, b = np.clip(starts, lo, hi), np.clip(ends, lo, hi)
    out = np.zeros(25)
    out[0] = (b - a).sum()
    parts = _chunk_sums(a, b) if (a >= 0.0).all() and (b >= a).all() else _dense_sums(a, b)
    for part in parts:  # a sum per HOURS_CHUNK rows, added in their order
        out[1:] += part
    return out


def _dense_sums(a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    return [
        (hour_times(b[i : i + HOURS_CHUNK]) - hour_times(a[i : i + HOURS_CHUNK])).sum(axis=0)
        for i in range(0, len(a), HOURS_CHUNK)
    ]


def _chunk_sums(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`_dense_sums` of intervals with 0 <= a <= b, from the entries that can be other
    than 0: a few chunks at a time (temporaries stay in cache), as many hours per row as the
    widest row among them needs (a chunk's entries stay in row order)."""
    chunks = -(-len(a) // HOURS_CHUNK)
    out = np.zeros((chunks, 24))
    rows = np.flatnonzero(a != b)
    if len(rows) < len(a):
        a, b = a[rows], b[rows]
    day_a, rest_a = day_and_minute(a)
    day_b, rest_b = day_and_minute(b)
    hour_a = (rest_a * (1 / 60)).astype(np.intp)  # the hour of day, give or take one
    hour_b = (rest_b * (1 / 60)).astype(np.intp)
    needed = (hour_b - hour_a) + 24 * (day_b - day_a).astype(np.intp) + 3  # hours per row
    chunk = rows // HOURS_CHUNK
    bounds = np.searchsorted(chunk, np.arange(0, chunks + CHUNKS_AT_ONCE, CHUNKS_AT_ONCE))
    for g, (lo, hi) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)):
        if lo == hi:
            continue
        # an hour per row of the arrays (long rows for numpy), each added up in row order
        width = min(int(needed[lo:hi].max()), 24)
        hour = _WRAP[hour_a[lo:hi] + _STEPS[:width, None]]  # from the hour before the first
        start = hour * 60.0  # as _HOUR_STARTS[hour]
        minutes = day_b[lo:hi] * 60.0 + np.clip(rest_b[lo:hi] - start, 0.0, 60.0)
        minutes -= day_a[lo:hi] * 60.0 + np.clip(rest_a[lo:hi] - start, 0.0, 60.0)
        first = g * CHUNKS_AT_ONCE
        key = (chunk[lo:hi] - first) * 24 + hour
        sums = np.bincount(key.T.ravel(), minutes.T.ravel(), CHUNKS_AT_ONCE * 24)
        last = min(first + CHUNKS_AT_ONCE, chunks)
        out[first:last] = sums.reshape(CHUNKS_AT_ONCE, 24)[: last - first]
    return out
