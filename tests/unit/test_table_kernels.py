"""The quicker kernels of the replication tables equal the straightforward ones they replace,
bit for bit: the hours of day of the level table (and the day and minute of a time), the
distinct patterns of occupied slots of the coverage table, and the rows of each unit."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.coverage import _patterns, _stable_order
from sim.engine.hours import HOURS_CHUNK, day_and_minute, level_sums
from sim.engine.standing import unit_rows

_HOUR_STARTS = 60.0 * np.arange(24)


def _hour_times(t: np.ndarray) -> np.ndarray:
    days, rest = np.divmod(t, 1440.0)
    return days[:, None] * 60.0 + np.clip(rest[:, None] - _HOUR_STARTS, 0.0, 60.0)


def dense_level_sums(starts: np.ndarray, ends: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """The level table's sums as first written: every interval over all 24 hours."""
    a, b = np.clip(starts, lo, hi), np.clip(ends, lo, hi)
    out = np.zeros(25)
    out[0] = (b - a).sum()
    for i in range(0, len(a), HOURS_CHUNK):
        sl = slice(i, i + HOURS_CHUNK)
        out[1:] += (_hour_times(b[sl]) - _hour_times(a[sl])).sum(axis=0)
    return out


@pytest.mark.parametrize("n", [0, 1, 5, HOURS_CHUNK + 17, 3 * HOURS_CHUNK])
def test_level_sums_equal_the_dense_hours(n: int) -> None:
    rng = np.random.default_rng(n)
    starts = rng.uniform(0, 30 * 1440.0, n)
    starts[::7] = np.round(starts[::7] / 60.0) * 60.0  # on the hour
    starts[::11] = np.nextafter(np.round(starts[::11] / 60.0) * 60.0, 0)  # just before it
    length = rng.exponential(90.0, n)
    length[::5] = 0.0  # calls that waited for no time at all
    length[::13] = rng.uniform(1440.0, 5000.0, len(length[::13]))  # over several days
    ends = starts + length
    ends[::17] = np.nan
    for lo, hi in ((0.0, 30 * 1440.0), (1440.0, 10 * 1440.0 + 30.0)):
        np.testing.assert_array_equal(
            level_sums(starts, ends, lo, hi), dense_level_sums(starts, ends, lo, hi)
        )


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
def test_level_sums_equal_the_dense_hours_of_every_kind(kind: str) -> None:
    rng = np.random.default_rng(sum(map(ord, kind)))
    for trial in range(12):
        n = int(rng.integers(0, 3 * HOURS_CHUNK))
        a, b = intervals(kind, n, rng)
        lo = 0.0 if trial % 3 == 0 else float(rng.uniform(0, 1e4))
        hi = float(rng.uniform(5e4, 1.1e5))
        expected, got = dense_level_sums(a, b, lo, hi), level_sums(a, b, lo, hi)
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


@pytest.mark.parametrize("slots", [1, 5, 8, 9, 64, 65, 100])
def test_patterns_equal_the_distinct_packed_rows(slots: int) -> None:
    rng = np.random.default_rng(slots)
    occupied = rng.random((slots, 3000)) < 0.3
    occupied[:, 100:200] = occupied[:, :1][:, [0] * 100]  # repeated patterns
    bits, inverse = _patterns(occupied)
    packed = np.packbits(occupied.T, axis=1)
    patterns, expected = np.unique(packed, axis=0, return_inverse=True)
    np.testing.assert_array_equal(bits, np.unpackbits(patterns, axis=1, count=slots).astype(bool))
    np.testing.assert_array_equal(inverse, expected.ravel())


def test_unit_rows_are_each_units_rows_in_order() -> None:
    rng = np.random.default_rng(1)
    units = rng.integers(0, 9, 500).astype(np.int32)
    rows = unit_rows(units, 12)
    assert len(rows) == 12
    for u, mine in enumerate(rows):
        np.testing.assert_array_equal(mine, np.flatnonzero(units == u))


@pytest.mark.parametrize("n", [0, 1, 2, 50, 5000])
def test_time_order_is_the_stable_argsort(n: int) -> None:
    rng = np.random.default_rng(n)
    times = np.round(rng.uniform(0, 100, n))  # many ties
    times[: n // 3] = 0.0  # a long run of them
    np.testing.assert_array_equal(_stable_order(times), np.argsort(times, kind="stable"))
