"""The level table's hour-of-day sums: the sparse arithmetic of :mod:`sim.engine.hours` gives
the dense definition's sums bit for bit, on intervals of every length, on hour edges, empty,
clipped to the window, and (the dense way) ends before starts."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.hours import HOURS_CHUNK, day_and_minute, hour_times, level_sums


def dense(starts: np.ndarray, ends: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """The definition: a row per interval, a column per hour, column sums chunk by chunk."""
    a, b = np.clip(starts, lo, hi), np.clip(ends, lo, hi)
    out = np.zeros(25)
    out[0] = (b - a).sum()
    for i in range(0, len(a), HOURS_CHUNK):
        rows = slice(i, i + HOURS_CHUNK)
        out[1:] += (hour_times(b[rows]) - hour_times(a[rows])).sum(axis=0)
    return out


def intervals(kind: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    a = np.sort(rng.uniform(0, 1e5, n))
    if kind == "minutes":
        d = rng.exponential(1, n)
    elif kind == "hours":
        d = rng.exponential(60, n)
    elif kind == "days":
        d = rng.exponential(3000, n)
    elif kind == "edges":  # starts and ends on the hour and half hour
        a = np.round(a / 60) * 60
        d = np.round(rng.exponential(60, n) / 30) * 30
    elif kind == "empty":  # most calls are answered at once: no wait at all
        a = np.round(a)
        d = np.where(rng.uniform(size=n) < 0.6, 0.0, rng.exponential(2, n))
    else:  # some ends before their starts
        d = rng.exponential(30, n)
        d[::7] = -1.0
    return a, a + d


@pytest.mark.parametrize("kind", ["minutes", "hours", "days", "edges", "empty", "backwards"])
def test_level_sums_are_the_dense_sums_bit_for_bit(kind: str) -> None:
    rng = np.random.default_rng(sum(map(ord, kind)))
    for trial in range(12):
        n = int(rng.integers(0, 3 * HOURS_CHUNK))
        a, b = intervals(kind, n, rng)
        lo = 0.0 if trial % 3 == 0 else float(rng.uniform(0, 1e4))
        hi = float(rng.uniform(5e4, 1.1e5))
        expected, got = dense(a, b, lo, hi), level_sums(a, b, lo, hi)
        assert np.array_equal(got, expected), (kind, trial, n, got - expected)


def test_day_and_minute_is_divmod_bit_for_bit() -> None:
    """Around every midnight and hour of a long run, at 0 and -0, and at random."""
    edges = np.concatenate([np.arange(0, 2e6, 1440.0), np.arange(0, 2e5, 60.0)])
    t = np.concatenate(
        [
            edges,
            np.nextafter(edges, np.inf),
            np.nextafter(edges[1:], -np.inf),
            np.random.default_rng(5).uniform(0, 1e8, 100_000),
            [0.0, -0.0, 2.0**52],
        ]
    )
    days, minutes = day_and_minute(t)
    want_days, want_minutes = np.divmod(t, 1440.0)
    assert np.array_equal(days, want_days)
    assert np.array_equal(minutes, want_minutes)
    assert np.array_equal(np.signbit(days), np.signbit(want_days))
    assert np.array_equal(np.signbit(minutes), np.signbit(want_minutes))
