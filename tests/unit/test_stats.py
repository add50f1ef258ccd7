"""Paired differences and confidence intervals on tables with known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis.metrics import ALL
from sim.analysis.stats import paired_differences, with_ci


def per_rep_table(values: dict[str, list[float]], metric: str) -> pd.DataFrame:
    rows = [
        ("ambulance", ALL, ALL, option, metric, r, v)
        for option, vs in values.items()
        for r, v in enumerate(vs)
    ]
    return pd.DataFrame(
        rows,
        columns=["service", "priority", "community", "option", "metric", "replication", "value"],
    )


KEYS = ["option", "service", "priority", "community", "metric"]


def verdicts(values: dict[str, list[float]], metric: str, baseline: str = "base") -> pd.Series:
    out = paired_differences(per_rep_table(values, metric), KEYS, baseline)
    return out.set_index("option")["verdict"]


BASE = [10.0, 14.0, 8.0, 20.0, 12.0, 16.0]  # large replication-to-replication spread


def test_paired_differences_lower_is_better() -> None:
    v = verdicts(
        {
            "base": BASE,
            "faster": [
                b - 1.0 + e for b, e in zip(BASE, [0.1, -0.1, 0.05, 0.0, -0.05, 0.02], strict=True)
            ],
            "slower": [
                b + 2.0 + e for b, e in zip(BASE, [0.3, -0.2, 0.1, 0.0, -0.1, 0.2], strict=True)
            ],
            "same": [b + e for b, e in zip(BASE, [0.5, -0.5, 0.3, -0.3, 0.1, -0.1], strict=True)],
        },
        "mean_response",
    )
    assert v.to_dict() == {
        "faster": "better",
        "slower": "worse",
        "same": "no significant difference",
    }, "mean response: lower is better; a symmetric zero-mean difference is not significant"


def test_paired_differences_higher_is_better_and_neutral_metrics() -> None:
    up = [b + 0.05 for b in [0.8, 0.9, 0.7, 0.85]]
    ups = {
        "base": [0.8, 0.9, 0.7, 0.85],
        "up": [u + e for u, e in zip(up, [0.01, -0.01, 0.0, 0.005], strict=True)],
    }
    assert verdicts(ups, "within_target")["up"] == "better", "more within target is better"
    assert verdicts({"base": up, "down": ups["base"]}, "within_target")["down"] == "worse"
    neutral = {
        "base": [100.0, 120.0, 90.0],
        "more": [110.0, 131.0, 99.0],
        "fewer": [90.0, 109.0, 81.0],
    }
    v = verdicts(neutral, "incidents")
    assert v.to_dict() == {"more": "higher", "fewer": "lower"}, (
        "a metric with no better direction gets 'higher'/'lower', never better/worse"
    )


def test_paired_differences_pair_by_replication() -> None:
    """A constant +0.5 difference under huge common noise is significant only when paired."""
    slower = [b + 0.5 for b in BASE]
    out = paired_differences(
        per_rep_table({"base": BASE, "slower": slower}, "mean_response"), KEYS, "base"
    )
    row = out.iloc[0]
    assert row["verdict"] == "worse", "a constant paired difference of +0.5 min is significant"
    assert row["diff"] == pytest.approx(0.5)
    assert row["ci_low"] == pytest.approx(0.5)
    assert row["ci_high"] == pytest.approx(0.5), "zero-variance differences give a zero-width CI"
    assert row["option_mean"] == pytest.approx(np.mean(slower))
    assert row["baseline_mean"] == pytest.approx(np.mean(BASE))
    # an unpaired analysis of the same numbers would see nothing
    welch = stats.ttest_ind(slower, BASE, equal_var=False)
    assert welch.pvalue > 0.5


def test_paired_differences_interval_is_student_t() -> None:
    diffs = np.array([1.0, 3.0, -0.5, 2.0, 0.5])
    out = paired_differences(
        per_rep_table(
            {"base": BASE[:5], "other": list(np.array(BASE[:5]) + diffs)}, "p90_response"
        ),
        KEYS,
        "base",
    )
    half = stats.t.ppf(0.975, 4) * diffs.std(ddof=1) / math.sqrt(5)
    row = out.iloc[0]
    assert row["n"] == 5
    assert row["ci_low"] == pytest.approx(diffs.mean() - half)
    assert row["ci_high"] == pytest.approx(diffs.mean() + half)
    assert row["verdict"] == ("worse" if diffs.mean() - half > 0 else "no significant difference")


def test_paired_differences_single_replication_is_never_significant() -> None:
    v = verdicts({"base": [10.0], "other": [30.0]}, "mean_response")
    assert v["other"] == "no significant difference", "one replication gives no interval"


def test_with_ci_matches_student_t() -> None:
    values = [3.0, 5.0, 4.0, 8.0]
    out = with_ci(per_rep_table({"x": values}, "mean_wait"), KEYS)
    half = stats.t.ppf(0.975, 3) * np.std(values, ddof=1) / 2
    assert out.loc[0, "mean"] == pytest.approx(5.0)
    assert out.loc[0, "n"] == 4
    assert out.loc[0, "ci_low"] == pytest.approx(5.0 - half)
    assert out.loc[0, "ci_high"] == pytest.approx(5.0 + half)
