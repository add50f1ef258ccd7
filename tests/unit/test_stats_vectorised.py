"""The paired comparisons' margins and verdicts, and the metrics' bounds, worked out per metric
name rather than row by row, equal the row-by-row versions (tests/pandas_measures.py): on random
replications with metrics of every kind (lower is better, higher is better, neither, unknown),
relative and absolute margins, missing values and single replications."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.stats import (
    NON_NEGATIVE,
    UNBOUNDED,
    Margin,
    _t_of,
    bounds_of,
    paired_differences,
)
from tests import pandas_measures as straightforward

METRICS = ["mean_response", "within_target", "incidents", "cost", "made_up", "busy_fraction"]


def _per_rep(rng: np.random.Generator, replications: int) -> pd.DataFrame:
    rows = []
    for option in ("base", "a", "b"):
        shift = {"base": 0.0, "a": -1.0, "b": 0.001}[option]
        for metric in METRICS:
            for community in ("x", "y", "z"):
                for r in range(replications):
                    value = 10 + shift + rng.normal(0, 0.5 if community != "z" else 1e-4)
                    rows.append((r, option, metric, community, value))
    df = pd.DataFrame(rows, columns=["replication", "option", "metric", "community", "value"])
    df.loc[rng.random(len(df)) < 0.05, "value"] = np.nan
    return df


@pytest.mark.parametrize("replications", [1, 2, 5])
def test_paired_differences_equal_the_row_by_row_verdicts(replications: int) -> None:
    per_rep = _per_rep(np.random.default_rng(replications), replications)
    margins = {"made_up": Margin(absolute=0.3), "cost": Margin(relative=0.01)}
    keys = ["option", "metric", "community"]
    for m in (None, margins):
        got = paired_differences(per_rep, keys, "base", margins=m)
        margin, verdict, t = straightforward.paired_verdicts(got, m)
        np.testing.assert_array_equal(_t_of(got["n"].to_numpy(), 0.95), t)
        assert got["margin"].tolist() == margin
        assert got["verdict"].tolist() == verdict
        assert got["verdict"].dtype == pd.Series(verdict).dtype
    if replications == 5:  # every kind of verdict is there
        kinds = {"better", "worse", "higher", "lower", "equivalent", "no significant difference"}
        assert set(got["verdict"]) == kinds


def test_bounds_are_looked_up_once_per_metric() -> None:
    names = pd.Series(["within_target", "made_up", "cost", "made_up", "open_share"] * 3)
    for default in (UNBOUNDED, NON_NEGATIVE):
        got, expected = bounds_of(names, default), straightforward.bounds_of(names, default)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])
