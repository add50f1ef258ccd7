"""Intervals that respect each metric's range, practical margins and the `equivalent` verdict."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.analysis.stats import MARGINS, Margin, paired_differences, with_ci

ROOT = Path(__file__).resolve().parents[2]


def _per_rep(metric: str, values: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {"option": o, "replication": r, "metric": metric, "value": v}
        for o, vs in values.items()
        for r, v in enumerate(vs)
    ]
    return pd.DataFrame(rows)


def test_share_interval_stays_within_zero_and_one() -> None:
    ci = with_ci(_per_rep("within_target", {"a": [1.0, 1.0, 1.0, 0.99]}), ["option", "metric"])
    assert float(ci["ci_high"].iloc[0]) <= 1.0, "a share's interval ends at 100 % at most"
    assert float(ci["ci_low"].iloc[0]) < float(ci["mean"].iloc[0])


def test_times_and_counts_are_never_negative() -> None:
    for metric in ("mean_wait", "open", "cost", "p90_response"):
        ci = with_ci(_per_rep(metric, {"a": [0.0, 0.0, 0.0, 0.4]}), ["option", "metric"])
        assert float(ci["ci_low"].iloc[0]) == 0.0, f"{metric}: the interval starts at 0"


def test_unbounded_metrics_keep_the_plain_t_interval() -> None:
    ci = with_ci(_per_rep("diff_of_something", {"a": [0.0, 0.0, 0.0, 0.4]}), ["option", "metric"])
    assert float(ci["ci_low"].iloc[0]) < 0.0, "no range known: the t interval is unchanged"


def test_rows_without_a_metric_take_the_given_bounds() -> None:
    frame = pd.DataFrame({"option": ["a"] * 3, "value": [0.0, 0.0, 1.0]})
    ci = with_ci(frame, ["option"], bounds=(0.0, float("inf")))
    assert float(ci["ci_low"].iloc[0]) == 0.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=2, max_size=12),
    st.sampled_from(["within_target", "waited", "mean_response", "gini_p90"]),
)
def test_bounded_interval_always_holds_the_mean_and_the_range(
    values: list[float], metric: str
) -> None:
    ci = with_ci(_per_rep(metric, {"a": values}), ["option", "metric"]).iloc[0]
    low, high = (0.0, 1.0) if metric != "mean_response" else (0.0, np.inf)
    assert low <= ci["ci_low"] <= ci["mean"] + 1e-12
    assert ci["mean"] - 1e-12 <= ci["ci_high"] <= high


def _verdicts(metric: str, values: dict[str, list[float]], **kw: object) -> dict[str, str]:
    out = paired_differences(_per_rep(metric, values), ["option", "metric"], "base", **kw)  # type: ignore[arg-type]
    return dict(zip(out["option"], out["verdict"], strict=True))


def test_a_tiny_but_significant_difference_is_equivalent() -> None:
    base = [10_050_000.0, 10_040_000.0, 10_060_000.0, 10_055_000.0]
    more = [b + 404 + e for b, e in zip(base, [1.0, -1.0, 2.0, 0.0], strict=True)]
    assert _verdicts("cost", {"base": base, "more": more}) == {"more": "equivalent"}, (
        "+404 on 10 M (0.004 %) lies inside the default 0.1 % margin: equivalent, not worse"
    )
    assert _verdicts("cost", {"base": base, "more": more}, margins={"cost": Margin()}) == {
        "more": "worse"
    }, "without a margin the same difference is significant"


def test_a_real_improvement_stays_better() -> None:
    base = [12.0, 12.5, 11.8, 12.2]
    fast = [b - 1.0 + e for b, e in zip(base, [0.05, -0.05, 0.02, 0.0], strict=True)]
    assert _verdicts("mean_response", {"base": base, "fast": fast}) == {"fast": "better"}
    assert MARGINS["mean_response"].absolute < 1.0


def test_an_interval_reaching_beyond_the_margin_is_not_equivalent() -> None:
    base = [12.0, 12.5, 11.8, 12.2]
    noisy = [b + e for b, e in zip(base, [0.6, -0.6, 0.5, -0.5], strict=True)]
    assert _verdicts("mean_response", {"base": base, "noisy": noisy}) == {
        "noisy": "no significant difference"
    }


@pytest.fixture(scope="module")
def small() -> dict[str, object]:
    data = sim.load_scenario(ROOT / "scenarios" / "two_towns.yaml").model_dump(mode="json")
    data["run"].update(horizon=14 * 1440.0, warmup=1440.0, replications=3)
    return data


def test_scenario_margins_reach_the_verdicts(small: dict[str, object]) -> None:
    wide = dict(small, margins={"mean_response": {"absolute": 1000.0}})
    comp = sim.compare(sim.scenario_from_dict(wide), replications=3)
    c = comp.comparison
    verdicts = set(c.loc[c["metric"] == "mean_response", "verdict"])
    assert verdicts <= {"equivalent", "no significant difference"}, verdicts
    assert "equivalent" in verdicts, "a 1000-minute margin makes every difference equivalent"
    assert (c.loc[c["metric"] == "mean_response", "margin"] == 1000.0).all()


def test_metrics_identical_by_design_are_not_compared(small: dict[str, object]) -> None:
    comp = sim.compare(sim.scenario_from_dict(small), replications=3)
    assert "incidents" not in set(comp.comparison["metric"]), (
        "with common random numbers every option has the same incidents: no comparison row"
    )
    summary = comp.summary
    shares = summary[summary["metric"].isin(["within_target", "waited"])]
    assert (shares["ci_high"].dropna() <= 1.0).all()
    assert (summary.loc[summary["metric"] == "mean_wait", "ci_low"].dropna() >= 0.0).all()


def test_bad_margins_are_refused(small: dict[str, object]) -> None:
    with pytest.raises(sim.ScenarioError, match="margins"):
        sim.scenario_from_dict(dict(small, margins={"nonsense": {"absolute": 1.0}}))
    with pytest.raises(sim.ScenarioError, match="margins"):
        sim.scenario_from_dict(dict(small, margins={"cost": {"relative": 2.0}}))
