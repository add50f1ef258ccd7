"""The per-replication measures computed on integer keys (sim.analysis.grouping) equal, bit for
bit and dtype for dtype, what pandas' groupby on the keys as text gives (tests/pandas_measures.py):
on random incident tables with categories out of alphabetical order, priorities that sort
differently as text (10 before 2), unused categories, single calls, calls never reached, targets
without a verdict, warm-up calls only, and on no counted call at all."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from sim.analysis.backlog import backlog_rows, open_level
from sim.analysis.grouping import Groups, median_of, quantile_of, text_key
from sim.analysis.incidentview import IncidentView
from sim.analysis.metrics import incident_metrics, unreached_counts
from sim.analysis.responses import response_counts
from sim.analysis.stats import Margin
from sim.analysis.zones import zone_long, zone_results, zone_rows
from sim.engine.driver import compile_scenario
from sim.model.compile import Region
from sim.schema import scenario_from_dict
from tests import pandas_measures as straightforward
from tests.builders import shipped

OPTIONS = ["pooled", "separate", "mutual_aid", "never_used"]
PRIORITIES = np.array([1, 2, 10], dtype=np.int8)


def random_incidents(
    rng: np.random.Generator, n: int, services: list[str], communities: list[str], horizon: float
) -> pd.DataFrame:
    """An incident table with the columns and dtypes of sim.engine.records.incident_table."""
    zones = [f"{c}_{i:03d}" for c in communities for i in (10, 2, 1)]
    community = rng.integers(0, len(communities), n)
    zone = community * 3 + rng.integers(0, 3, n)
    t_call = np.sort(rng.uniform(0, horizon, n))
    ready = t_call + rng.exponential(1.0, n)
    dispatch = np.where(
        rng.random(n) < 0.1, np.nan, ready + rng.exponential(5, n) * (rng.random(n) < 0.3)
    )
    response = np.round(dispatch - t_call + rng.exponential(10, n), 1)  # ties on a 0.1 grid
    response[rng.random(n) < 0.1] = np.nan
    clear = np.where(rng.random(n) < 0.1, np.nan, t_call + rng.exponential(3000, n))
    met = pd.array(rng.random(n) < 0.7, dtype="boolean")
    met[rng.random(n) < 0.2] = pd.NA
    return pd.DataFrame(
        {
            "replication": rng.choice(np.array([2, 0, 1], dtype=np.int32), n),
            "option": pd.Categorical.from_codes(rng.integers(0, 3, n), categories=OPTIONS),
            "incident": np.arange(n, dtype=np.int32),
            "service": pd.Categorical.from_codes(rng.integers(0, len(services), n), services),
            "priority": rng.choice(PRIORITIES, n),
            "community": pd.Categorical.from_codes(community, categories=communities),
            "zone": pd.Categorical.from_codes(zone, categories=zones),
            "t_call": t_call,
            "t_ready": ready,
            "t_dispatch": dispatch,
            "t_clear": clear,
            "wait": dispatch - ready,
            "response": response,
            "met_target": met,
            "open": ~(clear <= horizon),
            "warmup": t_call < horizon * 0.1,
            "pauses": rng.integers(0, 3, n).astype(np.int32),
            "overtime": rng.exponential(20, n) * (rng.random(n) < 0.3),
        }
    )


@pytest.fixture(scope="module")
def region() -> Region:
    data = shipped("five_valleys_services", horizon="70 d", warmup="14 d", replications=1)
    return compile_scenario(scenario_from_dict(data)).region


def _tables(region: Region) -> list[pd.DataFrame]:
    services, communities = list(region.services), list(region.communities)
    out = []
    for seed, n in [(1, 3000), (2, 200), (3, 7), (4, 1)]:
        rng = np.random.default_rng(seed)
        out.append(random_incidents(rng, n, services, communities, region.horizon))
    whole = out[0]
    out.append(whole.assign(warmup=True))  # no counted call
    out.append(whole[whole["service"] != region.services[0]].reset_index(drop=True))
    return out


def _same(a: object, b: object) -> None:
    if isinstance(a, tuple):
        assert isinstance(b, tuple)
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    elif isinstance(a, list):
        assert isinstance(b, list)
        assert [tuple(map(type, r)) for r in a] == [tuple(map(type, r)) for r in b]
        assert pd.DataFrame(a).equals(pd.DataFrame(b))
    else:
        assert isinstance(a, pd.DataFrame)
        assert isinstance(b, pd.DataFrame)
        assert_frame_equal(a, b, check_exact=True)
        assert list(a.dtypes) == list(b.dtypes)


@pytest.mark.parametrize(
    "name", ["incident_metrics", "zone_rows", "response_counts", "unreached_counts"]
)
def test_measures_equal_groupby_on_text(region: Region, name: str) -> None:
    fast = {
        "incident_metrics": incident_metrics,
        "zone_rows": zone_rows,
        "response_counts": response_counts,
        "unreached_counts": unreached_counts,
    }[name]
    for table in _tables(region):
        expected = getattr(straightforward, name)(table)
        _same(expected, fast(table))
        _same(expected, fast(IncidentView(table)))


@pytest.mark.parametrize("baseline", ["separate", "pooled", "never_used"])
def test_zone_results_equal_the_long_table_by_text(region: Region, baseline: str) -> None:
    """``zones.csv`` from the wide rows of each replication, grouped on codes, equals the
    long table grouped by text: zones missing from some replications or from the baseline,
    missing values, single replications, and a baseline that never ran (no pairs)."""
    margins = {"within_target": Margin(absolute=0.02), "p90_response": Margin(relative=0.05)}
    for table in _tables(region):
        parts = [zone_rows(g.reset_index(drop=True)) for _, g in table.groupby("replication")]
        if not any(len(p[0]) for p in parts):
            continue  # no counted call: no zone rows (the long table has no metric to unstack)
        expected = straightforward.zone_results(zone_long(parts), baseline, margins)
        _same(expected, zone_results(parts, baseline, margins))


def test_backlog_rows_equal_groupby_on_text(region: Region) -> None:
    assert any(region.pauses(s) for s in range(len(region.services))), "calendars should pause"
    for table in _tables(region):
        _same(straightforward.backlog_rows(table, region), backlog_rows(table, region))


def test_warmup_only_groups_come_last_with_float_counts(region: Region) -> None:
    table = _tables(region)[0]
    late = table["service"] == region.services[1]
    table.loc[late, "warmup"] = True  # a service called in the warm-up only
    expected = straightforward.unreached_counts(table)
    assert expected["calls"].dtype == np.float64
    _same(expected, unreached_counts(table))


def test_one_view_serves_every_measure(region: Region) -> None:
    table = _tables(region)[1]
    view = IncidentView(table)
    for measure in (incident_metrics, zone_rows, response_counts, unreached_counts):
        _same(measure(table), measure(view))
    _same(backlog_rows(table, region), backlog_rows(view, region))


def test_fractiles_equal_pandas_groupby() -> None:
    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 50, 5000):
        key = rng.integers(0, 40, n)
        values = np.round(rng.exponential(5, n), 1)
        values[rng.random(n) < 0.2] = np.nan
        values[key == 3] = np.nan  # a group of missing values only
        frame = pd.DataFrame({"k": key, "v": values})
        grouped = frame.groupby("k", sort=True)["v"]
        groups = Groups([text_key(pd.Series(key))])
        ordered = groups.sorted_values(values)
        # the key as text: its groups come in text order (10 before 2)
        by_text = np.argsort([str(k) for k in grouped.size().index], kind="stable")
        for q in (0.5, 0.9, 0.95, 0.0, 1.0):
            np.testing.assert_array_equal(
                quantile_of(ordered, q), grouped.quantile(q).to_numpy()[by_text]
            )
        np.testing.assert_array_equal(median_of(ordered), grouped.median().to_numpy()[by_text])


def test_groups_leave_out_missing_keys_and_sort_like_text() -> None:
    column = pd.Series(pd.Categorical(["b", None, "a", "b", "c", None], categories=["c", "b", "a"]))
    values = np.arange(6, dtype=np.float64)
    groups = Groups([text_key(column)])
    expected = pd.Series(values).groupby(column.astype(str), sort=True).mean()
    assert list(groups.labels(0)) == list(expected.index)
    np.testing.assert_array_equal(groups.means({"v": values})["v"].to_numpy(), expected)


def test_coarser_groups_add_up_the_finer_counts() -> None:
    rng = np.random.default_rng(3)
    a = pd.Series(pd.Categorical.from_codes(rng.integers(0, 3, 400), ["z", "y", "x"]))
    b = pd.Series(rng.choice(np.array([10, 2, 1], dtype=np.int8), 400))
    fine = Groups([text_key(a), text_key(b)])
    coarse = fine.coarser([0])
    direct = Groups([text_key(a)])
    np.testing.assert_array_equal(coarse.ids, direct.ids)
    np.testing.assert_array_equal(coarse.roll_up(fine.sizes.astype(float)), direct.sizes)


def test_backlog_peak_equals_the_sorted_running_count() -> None:
    rng = np.random.default_rng(5)
    for n in (0, 1, 2, 30, 2000):
        start = np.round(rng.uniform(0, 100, n))  # many ties, starts at closings' times too
        end = start + np.round(rng.exponential(5, n))
        end[rng.random(n) < 0.1] = np.nan
        for lo, hi in ((0.0, 100.0), (20.0, 60.0), (50.0, 50.0)):
            got, expected = (
                open_level(start, end, lo, hi),
                straightforward.open_level(start, end, lo, hi),
            )
            np.testing.assert_array_equal(np.array(got), np.array(expected))


def test_a_replication_column_of_floats_still_sorts_as_numbers(region: Region) -> None:
    table = _tables(region)[0]
    table["replication"] = table["replication"].astype(np.float64) * 5  # 0, 5, 10
    _same(straightforward.incident_metrics(table), incident_metrics(table))
