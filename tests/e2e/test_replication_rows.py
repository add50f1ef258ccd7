"""The zone and backlog tables, the unreached-call warnings, the calls that cost shares are split
by and the calls drawn week by week of ``compare`` are computed per replication where each
replication runs, and joined afterwards: joined, they equal what the whole incident table gives,
row for row and bit for bit (the tables of a compare are the same bytes as before this split),
on a scenario with calendars, pauses, caseloads, zones and a warm-up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from sim.analysis.backlog import backlog_long, backlog_metrics, backlog_rows, weekly_levels
from sim.analysis.caseload import caseload_metrics
from sim.analysis.costs import cost_shares, shares_of_cost
from sim.analysis.metrics import backlog_warnings, unreached_counts, unreached_warnings
from sim.analysis.zones import zone_long, zone_metrics, zone_rows
from sim.comparison.measure import Measured, ReplicationMeasure
from sim.engine.driver import Compiled, compile_scenario, concat_tables, run_replication
from sim.model.compile import Region
from sim.schema import scenario_from_dict
from tests.builders import shipped

Tables = tuple[pd.DataFrame, ...]  # incidents, units, help of one replication


@pytest.fixture(scope="module")
def compiled() -> Compiled:
    data = shipped("five_valleys_services", horizon="70 d", warmup="14 d", replications=3)
    return compile_scenario(scenario_from_dict(data))


@pytest.fixture(scope="module")
def reps(compiled: Compiled) -> list[Tables]:
    return [run_replication(compiled, r, 11, ("incidents", "units", "help")) for r in range(3)]


@pytest.fixture(scope="module")
def run(reps: list[Tables], compiled: Compiled) -> tuple[pd.DataFrame, Region]:
    return pd.concat([r[0] for r in reps], ignore_index=True), compiled.region


@pytest.fixture(scope="module")
def measured(reps: list[Tables], compiled: Compiled) -> list[Measured]:
    measure = ReplicationMeasure.of(compiled.scenario)
    return [measure(r, compiled.region) for r in reps]


def _whole(reps: list[Tables], i: int) -> pd.DataFrame:
    return concat_tables([r[i].copy() for r in reps])


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


def test_call_counts_joined_give_the_same_cost_shares(
    reps: list[Tables], compiled: Compiled, measured: list[Measured]
) -> None:
    inc, units, helped = (_whole(reps, i) for i in range(3))
    mix = {str(k): v for k, v in compiled.scenario.cost_sharing.mix.items()}
    whole = cost_shares(units, inc, helped, compiled.region, mix)
    calls = pd.concat([m.calls for m in measured])
    joined = shares_of_cost(units, calls, helped, compiled.region, mix)
    assert set(whole["replication"]) == {0, 1, 2}
    assert_frame_equal(joined, whole, check_exact=True)


def test_weekly_calls_joined_give_the_same_weekly_levels_and_caseloads(
    reps: list[Tables], compiled: Compiled, measured: list[Measured]
) -> None:
    inc, region = _whole(reps, 0), compiled.region
    weekly = concat_tables([m.weekly for m in measured])
    assert 0 < len(weekly) < len(inc), "the calls of some services only"
    options = list(compiled.fleets)
    levels = weekly_levels(inc, region, options)
    assert set(levels["kind"]) == {"backlog", "caseload"}
    assert_frame_equal(weekly_levels(weekly, region, options), levels, check_exact=True)
    cases = caseload_metrics(inc, region, compiled.fleets)
    assert len(cases) > 0
    assert_frame_equal(caseload_metrics(weekly, region, compiled.fleets), cases, check_exact=True)


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
