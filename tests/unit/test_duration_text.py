"""Times in sentences: one unit for the times a sentence sets side by side."""

from __future__ import annotations

import math

from sim.results.display import fmt_duration, fmt_durations


def test_a_time_alone_takes_its_own_unit() -> None:
    assert [fmt_duration(m) for m in (12.94, 119.3, 120, 1128, 2880, math.nan)] == [
        "12.9 min",
        "119.3 min",
        "2.0 h",
        "18.8 h",
        "2.0 d",
        "-",
    ]


def test_times_side_by_side_share_the_unit_of_the_largest() -> None:
    assert fmt_durations(1128, 119.3) == ["18.8 h", "2.0 h"]
    assert fmt_durations(78.4, 375.0) == ["1.3 h", "6.2 h"]
    assert fmt_durations(7.2, 10.4) == ["7.2 min", "10.4 min"]
    assert fmt_durations(3000, 60) == ["2.1 d", "0.0 d"]
    assert fmt_durations(math.nan, 130) == ["-", "2.2 h"]
    assert fmt_durations(math.nan) == ["-"]
