"""``intersim compare``: the tables of one comparison, precision mode, the command line."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.analysis.costs import FORMULAS, cost_shares
from sim.analysis.metrics import ALL, incident_metrics
from sim.analysis.stats import with_ci
from sim.cli.main import main
from sim.comparison.compare import PRECISION_METRICS, Comparison, compare
from sim.engine.driver import compile_scenario
from sim.schema import scenario_from_dict
from tests.builders import TWO_TOWNS, mmc_region, shipped

# --- helpers -------------------------------------------------------------------------------------


def region_rows(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rows of ``metric`` over the whole region and all priorities."""
    return table[
        (table["metric"] == metric) & (table["community"] == ALL) & (table["priority"] == ALL)
    ]


KEYS = ["option", "service", "priority", "community", "metric"]


def test_compare_works_without_response_targets() -> None:
    """Targets are optional; without any, within-target metrics are simply empty (NaN)."""
    data = mmc_region(
        {"a": 1, "b": 1},
        {"a": 0.005, "b": 0.005},
        60.0,
        policies=("separate", "pooled"),
        horizon="10 d",
        warmup="1 d",
    )
    comp = compare(scenario_from_dict(data), replications=2)
    within = region_rows(comp.summary, "within_target")
    assert within["mean"].isna().all(), "no target: share within target is undefined (NaN)"
    assert region_rows(comp.summary, "mean_response")["mean"].notna().all()


# --- tables of one comparison ------------------------------------------------------------------

TT_REPS = 3


def short_two_towns(replications: int, horizon: str = "30 d") -> dict[str, Any]:
    """Two Towns as shipped, with a shorter horizon (7-day warm-up as shipped)."""
    return shipped(horizon=horizon, replications=replications)


@pytest.fixture(scope="module")
def two_towns() -> Comparison:
    return compare(scenario_from_dict(short_two_towns(TT_REPS, "90 d")), replications=TT_REPS)


def test_summary_has_every_option_service_priority_community_and_all(two_towns: Comparison) -> None:
    s = two_towns.summary
    for col in (
        "option",
        "service",
        "priority",
        "community",
        "metric",
        "mean",
        "n",
        "ci_low",
        "ci_high",
    ):
        assert col in s, f"summary should have column {col!r}"
    options = ["separate", "mutual_aid", "pooled"]
    expected = {
        (o, "ambulance", p, c)
        for o in options
        for p in ("1", "2", ALL)
        for c in ("northtown", "southvale", ALL)
    }
    for metric in ("incidents", "mean_response", "p90_response", "within_target", "waited"):
        rows = s[s["metric"] == metric]
        got = set(
            zip(
                rows["option"],
                rows["service"],
                rows["priority"].astype(str),
                rows["community"],
                strict=True,
            )
        )
        assert got == expected, (
            f"summary of {metric}: one row per option x service x priority x community plus 'all'"
        )
        assert len(rows) == len(expected), f"summary of {metric}: no duplicate rows"
    assert (s["n"] == TT_REPS).all(), "every row has one value per replication"
    finite = s.dropna(subset=["ci_low", "ci_high"])
    assert (finite["ci_low"] <= finite["mean"] + 1e-9).all(), "ci_low <= mean"
    assert (finite["mean"] <= finite["ci_high"] + 1e-9).all(), "mean <= ci_high"
    calls = region_rows(s, "incidents").set_index("option")["mean"]
    assert calls.nunique() == 1, "common random numbers: every option sees the same number of calls"


def test_headline_has_one_row_per_option_and_service(two_towns: Comparison) -> None:
    head = two_towns.headline
    head = head[head["priority"] == ALL]  # per-priority rows: tests/e2e/test_decision_grade_*
    assert list(zip(head["service"], head["option"], strict=True)) == [
        ("ambulance", "separate"),
        ("ambulance", "mutual_aid"),
        ("ambulance", "pooled"),
    ], "headline: one row per option x service, options in scenario order"
    assert head.set_index("option").loc["separate", "vs_baseline"] == "baseline"
    assert set(head["vs_baseline"]) <= {"baseline", "better", "worse", "no significant difference"}
    assert head["p_wait_erlang"].between(0, 1).all()


def test_comparison_leaves_out_the_baseline(two_towns: Comparison) -> None:
    c = two_towns.comparison
    assert two_towns.baseline == "separate"
    assert set(c["option"]) == {"mutual_aid", "pooled"}, "the baseline is the reference, not a row"
    assert {"diff", "ci_low", "ci_high", "verdict", "option_mean", "baseline_mean"} <= set(c)


def test_baseline_can_be_chosen() -> None:
    comp = compare(scenario_from_dict(short_two_towns(2)), baseline="pooled")
    assert comp.baseline == "pooled"
    assert set(comp.comparison["option"]) == {"separate", "mutual_aid"}
    head = comp.headline[comp.headline["priority"] == ALL]
    assert head.set_index("option").loc["pooled", "vs_baseline"] == "baseline"


def test_cost_shares_sum_to_total_cost(two_towns: Comparison) -> None:
    raw = two_towns.raw
    scenario = scenario_from_dict(short_two_towns(TT_REPS, "90 d"))
    region = compile_scenario(scenario).region
    mix = dict(scenario.cost_sharing.mix)
    shares = cost_shares(raw.units, raw.incidents, raw.help, region, mix)
    total = raw.units.groupby(["replication", "option"], observed=True)["cost"].sum()
    total.index = total.index.set_levels(total.index.levels[1].astype(str), level=1)
    split = shares.groupby(["replication", "option", "formula"])["cost"].sum()
    assert set(shares["formula"]) == set(FORMULAS)
    assert len(split) == len(total) * len(FORMULAS)
    for (rep, option, formula), cost in split.items():
        assert cost == pytest.approx(total[(rep, option)], rel=1e-9), (
            f"replication {rep}, option {option}: the {formula} split should sum to the total "
            f"cost {total[(rep, option)]:.2f}, got {cost:.2f}"
        )
    share_sum = shares.groupby(["replication", "option", "formula"])["share"].sum()
    assert np.allclose(share_sum, 1.0), "shares of every formula should sum to 1"
    # and in the reported means
    mean_split = two_towns.shares.groupby(["option", "formula"])["mean"].sum()
    costs = two_towns.costs
    mean_total = costs[costs["metric"] == "cost"].groupby("option")["mean"].sum()
    for (option, formula), cost in mean_split.items():
        assert cost == pytest.approx(mean_total[option], rel=1e-9), (
            f"option {option}: mean {formula} shares should sum to the mean total cost"
        )


def test_help_matrix_sums_to_busy_unit_hours(two_towns: Comparison) -> None:
    raw = two_towns.raw
    helped = raw.help.groupby(["replication", "option", "service", "owner"])["unit_hours"].sum()
    units = raw.units.assign(
        option=raw.units["option"].astype(str),
        service=raw.units["service"].astype(str),
        owner=raw.units["owner"].astype(str),
    )
    busy = units.groupby(["replication", "option", "service", "owner"])["busy_min"].sum() / 60.0
    pd.testing.assert_series_equal(
        helped.sort_index(),
        busy.sort_index(),
        check_names=False,
        check_index_type=False,
        rtol=1e-9,
        obj="help (unit-hours) per replication x option x owner vs units busy_min / 60",
    )
    total_help = two_towns.help.groupby("option")["mean"].sum()
    total_busy = busy.groupby(level="option").sum() / TT_REPS
    pd.testing.assert_series_equal(
        total_help.sort_index(),
        total_busy.sort_index(),
        check_names=False,
        rtol=1e-9,
        obj="mean help per option vs mean busy unit-hours per option",
    )
    across = raw.help[raw.help["owner"] != raw.help["community"]]
    by_option = across.groupby("option")["unit_hours"].sum()
    assert by_option["separate"] == 0, "separate dispatch: no unit works for another community"
    assert by_option["pooled"] > 0, "pooled dispatch: units do help the neighbour"


def test_balance_is_antisymmetric(two_towns: Comparison) -> None:
    b = two_towns.balance.set_index(["option", "service", "owner", "community"])
    assert len(b) == 3 * 2, "one row per option x ordered pair of different communities"
    for (option, service, owner, community), row in b.iterrows():
        back = b.loc[(option, service, community, owner)]
        assert row["net_unit_hours"] == pytest.approx(-back["net_unit_hours"], abs=1e-9), (
            f"{option}: net help {owner}->{community} should be minus {community}->{owner}"
        )
        assert row["given"] == pytest.approx(back["received"], abs=1e-9)
        assert row["net_unit_hours"] == pytest.approx(row["given"] - row["received"], abs=1e-9)


# --- precision -----------------------------------------------------------------------------------


def relative_half_widths(summary: pd.DataFrame) -> pd.Series:
    s = summary[
        (summary["community"] == ALL)
        & (summary["priority"] == ALL)
        & summary["metric"].isin(PRECISION_METRICS)
    ]
    return ((s["ci_high"] - s["ci_low"]) / 2 / s["mean"].abs()).set_axis(
        list(zip(s["option"], s["metric"], strict=True))
    )


@pytest.mark.slow
def test_precision_adds_replications_until_reached() -> None:
    """Starting from the scenario's 3 replications, which are not precise enough, compare adds
    replications until every headline half-width is within 5 % of its mean."""
    scenario = scenario_from_dict(short_two_towns(replications=3))
    comp = compare(scenario, precision=0.05, max_replications=40)
    print(f"\n--precision 0.05 on Two Towns (30 d): {comp.replications} replications")
    inc = comp.raw.incidents
    start = relative_half_widths(with_ci(incident_metrics(inc[inc["replication"] < 3]), KEYS))
    assert (start > 0.05).any(), "the test needs a case where 3 replications are not enough"
    assert comp.replications > 3, "replications should be added beyond the first 3"
    assert comp.precision_reached is True
    rel = relative_half_widths(comp.summary)
    assert (rel <= 0.05).all(), (
        f"every headline half-width should be within 5 % of its mean:\n{rel}"
    )
    assert len(rel) == 3 * len(PRECISION_METRICS), "3 options x the headline metrics are checked"
    assert not any("not reached" in w for w in comp.warnings)


@pytest.mark.slow
def test_cli_precision_cap_is_reported_and_baseline_is_chosen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A precision that cannot be reached stops at --max-replications with a warning and
    precision_reached false in the manifest; --baseline makes another option the reference.
    (One command line for both: writing the figures and report makes each run slow.)"""
    scenario_file = tmp_path / "short.yaml"
    scenario_file.write_text(yaml.safe_dump(short_two_towns(replications=3)), encoding="utf-8")
    out = tmp_path / "out"
    code = main(["compare", str(scenario_file), "--precision", "0.001", "--max-replications",
                 "5", "--baseline", "mutual_aid", "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["precision_reached"] is False
    assert manifest["replications"] == 5, "the cap of 5 replications should be used in full"
    assert "warning: precision 0.001 not reached within 5 replications" in err, err
    assert any("not reached within 5" in w for w in manifest["warnings"])
    assert manifest["baseline"] == "mutual_aid"
    comparison = pd.read_csv(out / "comparison.csv")
    assert set(comparison["option"]) == {"separate", "pooled"}, (
        "--baseline mutual_aid is the reference, so it has no comparison rows"
    )


def test_precision_never_exceeds_max_replications() -> None:
    """The cap holds even when the scenario asks for more replications (run.replications 10)."""
    scenario = scenario_from_dict(short_two_towns(replications=10, horizon="20 d"))
    comp = compare(scenario, precision=0.001, max_replications=4)
    assert comp.precision_reached is False
    assert comp.replications <= 4, (
        f"--max-replications 4 should cap the replications at 4, ran {comp.replications}"
    )


# --- command line -----------------------------------------------------------------------------

COMPARE_FILES = (
    "summary.csv",
    "comparison.csv",
    "unit_summary.csv",
    "help.csv",
    "costs.csv",
    "shares.csv",
    "equity.csv",
    "estimate.csv",
    "manifest.json",
    "response_histogram.parquet",
    "surge_timeline.csv",
    "units.parquet",
    "levels.parquet",
)


@pytest.mark.slow
def test_cli_compare_writes_every_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "result"
    code = main(["compare", str(TWO_TOWNS), "--replications", "2", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    for name in COMPARE_FILES:
        assert (out / name).is_file(), f"compare should write {name}"
        assert (out / name).stat().st_size > 0, f"{name} should not be empty"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["replications"] == 2
    assert manifest["baseline"] == "separate"
    assert manifest["options"] == ["separate", "mutual_aid", "pooled"]
    comparison = pd.read_csv(out / "comparison.csv")
    assert set(comparison["option"]) == {"mutual_aid", "pooled"}
    units = pd.read_parquet(out / "units.parquet")
    assert set(units["replication"]) == {0, 1}
    assert not (out / "incidents.parquet").exists(), "the incident table only with --records"
    assert "separate" in capsys.readouterr().out
    assert not list(tmp_path.glob(".*")), "no temporary directory should be left behind"


def test_cli_compare_unknown_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "result"
    code = main(
        ["compare", str(TWO_TOWNS), "--replications", "2", "--baseline", "nope", "--out", str(out)]
    )
    err = capsys.readouterr().err
    assert code == 2, "an unknown --baseline is an input error (exit 2)"
    assert "unknown option 'nope'" in err, err
    assert "known: separate, mutual_aid, pooled" in err, f"the message lists the options: {err}"
    assert len(err.strip().splitlines()) == 1, f"one clear line, no traceback: {err}"
    assert not out.exists(), "nothing is written"


def test_an_unknown_baseline_claims_no_default_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["compare", str(TWO_TOWNS), "--baseline", "nope"]) == 2
    assert "unknown option 'nope'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir()), "no results/ folder is made before the check"


def test_cli_compare_refuses_non_empty_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "result"
    out.mkdir()
    (out / "keep.txt").write_text("earlier work", encoding="utf-8")
    code = main(["compare", str(TWO_TOWNS), "--replications", "2", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, "a non-empty --out without --overwrite is an input error"
    assert "--overwrite" in err, err
    assert [p.name for p in out.iterdir()] == ["keep.txt"], "the directory is left untouched"
    assert (out / "keep.txt").read_text(encoding="utf-8") == "earlier work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result"], "nothing else is written"


def test_cli_estimate_is_instant(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    code = main(["estimate", str(TWO_TOWNS)])
    seconds = time.perf_counter() - started
    captured = capsys.readouterr()
    print(f"\nintersim estimate two_towns.yaml: {seconds * 1000:.0f} ms")
    assert code == 0
    assert seconds < 5.0, (
        f"estimate should be near-instant (sanity bound 5 s), took {seconds:.2f} s"
    )
    for word in ("separate", "pooled", "P(wait)", "utilisation", "mean wait"):
        assert word in captured.out
    assert "warning" not in captured.err, "two towns is not overloaded"


@pytest.mark.parametrize("utilisation", [1.0, 1.2])
def test_cli_estimate_warns_when_overloaded(
    utilisation: float, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rate = utilisation / 60.0  # per community: one unit each; pooled twice that on 2 units
    data = mmc_region(
        {"a": 1, "b": 1},
        {"a": rate, "b": rate},
        60.0,
        policies=("separate", "pooled"),
        horizon="30 d",
        warmup="1 d",
    )
    path = tmp_path / "overloaded.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    code = main(["estimate", str(path)])
    err = capsys.readouterr().err
    assert code == 0
    assert "overloaded" in err, f"an overloaded fleet should be warned about: {err!r}"
    assert "warning: option 'pooled'" in err, f"the pooled option is overloaded: {err!r}"
    assert "warning: option 'separate'" in err, f"the separate option is overloaded: {err!r}"
    assert f"utilisation {utilisation:.2f} >= 1" in err, err
