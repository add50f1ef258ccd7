"""The zone and backlog tables and the unreached-call warnings of ``compare`` are computed per
replication where each replication runs, and joined afterwards: joined, they equal what the
whole incident table gives, row for row and bit for bit (the tables of a compare are the same
bytes as before this split), on a scenario with calendars, pauses, zones and a warm-up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from sim.analysis.backlog import backlog_long, backlog_metrics, backlog_rows
from sim.analysis.metrics import backlog_warnings, unreached_counts, unreached_warnings
from sim.analysis.zones import zone_long, zone_metrics, zone_rows
from sim.engine.driver import compile_scenario, run_replication
from sim.model.compile import Region
from sim.schema import scenario_from_dict
from tests.builders import shipped


@pytest.fixture(scope="module")
def run() -> tuple[pd.DataFrame, Region]:
    data = shipped("five_valleys_services", horizon="70 d", warmup="14 d", replications=3)
    compiled = compile_scenario(scenario_from_dict(data))
    reps = [run_replication(compiled, r, 11, ("incidents",))[0] for r in range(3)]
    return pd.concat(reps, ignore_index=True), compiled.region


def _by_replication(incidents: pd.DataFrame) -> list[pd.DataFrame]:
    return [g.reset_index(drop=True) for _, g in incidents.groupby("replication", sort=True)]


def test_zone_rows_joined_equal_the_whole_table(run: tuple[pd.DataFrame, Region]) -> None:
    inc, _ = run
    whole = zone_metrics(inc)
    joined = zone_long([zone_rows(r) for r in _by_replication(inc)])
    assert whole["replication"].nunique() == 3
    assert_frame_equal(joined, whole, check_exact=True)


def test_backlog_rows_joined_equal_the_whole_table(run: tuple[pd.DataFrame, Region]) -> None:
    inc, region = run
    whole = backlog_metrics(inc, region)
    joined = backlog_long([backlog_rows(r, region) for r in _by_replication(inc)])
    paused = whole.loc[whole["metric"] == "paused_jobs", "value"]
    assert (paused > 0).any(), "the calendars should pause jobs"
    assert_frame_equal(joined, whole, check_exact=True)


def _struggling(inc: pd.DataFrame) -> pd.DataFrame:
    """Every 5th call never reached, every 10th still waiting for a unit at the end."""
    out = inc.copy()
    every = out["incident"].to_numpy()
    out.loc[every % 5 == 0, "response"] = np.nan
    out.loc[every % 10 == 0, "t_dispatch"] = np.nan
    return out


def test_unreached_counts_joined_give_the_same_warnings(run: tuple[pd.DataFrame, Region]) -> None:
    inc = _struggling(run[0])
    whole = backlog_warnings(inc)
    assert len(whole) >= 2, "the struggling run should warn"
    assert "the fleet cannot keep up" in whole[0]
    counts = pd.concat([unreached_counts(r) for r in _by_replication(inc)], ignore_index=True)
    assert unreached_warnings(counts) == whole


def test_a_service_called_only_in_the_warmup_still_sets_the_end() -> None:
    """The longest wait is measured to the last call-ready time of every call, warm-up
    included, as before: a group of warm-up calls only is kept, with no calls counted."""
    inc = pd.DataFrame(
        {
            "replication": [0, 0, 0],
            "option": pd.Categorical(["a", "a", "a"]),
            "service": pd.Categorical(["late", "late", "early"]),
            "priority": np.array([1, 1, 1], dtype=np.int8),
            "t_ready": [100.0, 160.0, 400.0],
            "t_dispatch": [np.nan, np.nan, 1.0],
            "response": [np.nan, np.nan, 1.0],
            "warmup": [False, False, True],
        }
    )
    counts = unreached_counts(inc)
    assert counts["calls"].tolist() == [2, 0]
    (text,) = unreached_warnings(counts)
    assert "the longest for 5.0 h" in text, "(400 - 100) minutes: the warm-up call's time"
