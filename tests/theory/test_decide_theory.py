"""Decisions against Erlang C: fleet sizing and coalition games by simulation.

Sizing (sim.decide.sizing): the search returns the fleet Erlang C says is smallest, from any
start; pooling saves what theory says; answers are confirmed on fresh replications.

The known-answer case: no call handling, turnout or travel, exponential service, and a target
of 0.01 minutes, so that "within target" means "did not wait" and the share within target is
1 - C(c, a) (Erlang C). The loads are chosen so that one unit fewer than the answer misses the
target share by far more than the confidence interval's width: the search cannot be fooled by
noise, and must return exactly the Erlang C answer. Coalitions (sim.decide.coalition): games
computed from simulation on the same kind of case agree with Erlang C.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim.decide
from sim.analysis.queueing import erlang_c
from tests.builders import UNIT_COST, UNIT_YEAR, coalition_scenario, sizing_scenario


def erlang_answer(load: float, share: float) -> int:
    """The smallest c with 1 - C(c, a) >= share."""
    c = int(load) + 1
    while 1 - erlang_c(c, load) < share:
        c += 1
    return c


def test_the_case_can_tell_neighbours_apart() -> None:
    """One unit fewer misses by 7 pp, the answer clears by 4 pp: far beyond the noise of
    eight 4-week replications (their one-sided bound is within about 1.5 pp)."""
    c = erlang_answer(2.0, 0.9)
    assert c == 5
    assert 1 - erlang_c(c - 1, 2.0) < 0.9 - 0.07
    assert 1 - erlang_c(c, 2.0) > 0.9 + 0.04


@pytest.mark.parametrize("start", [None, [1], [9]])
def test_search_finds_the_erlang_c_answer(start: list[int] | None) -> None:
    """From the analytic start, from below (adding) and from above (removing)."""
    res = sim.decide.size(
        sizing_scenario([2.0]),
        "amb",
        options=["separate"],
        workers=1,
        start={"separate": start} if start else None,
    )
    row = res.summary.iloc[0]
    assert row["status"] == "met"
    assert row["units"] == erlang_answer(2.0, 0.9) == 5
    assert row["held"]
    assert row["cost_per_year"] == pytest.approx(5 * 8760 * UNIT_COST)
    trace = res.trace
    if start == [1]:
        assert list(trace["action"]) == ["start", "add", "add", "add", "add"]
    if start == [9]:
        assert list(trace["action"]) == ["start"] + ["remove"] * 4
    # the communities table: today, search and confirmation
    c = res.communities.set_index("phase")
    search, confirm = c.loc["search"], c.loc["confirm"]
    assert search["within_target"] == pytest.approx(1 - erlang_c(5, 2.0), abs=0.02)
    assert search["lower_bound"] >= 0.9
    assert search["ci_low"] < search["lower_bound"] < search["within_target"] < search["ci_high"]
    assert search["margin"] == pytest.approx(search["lower_bound"] - 0.9)
    # fresh replications: other random numbers, so other calls
    assert confirm["calls_per_replication"] != search["calls_per_replication"]
    assert not bool(c.loc["today", "met"])


@pytest.mark.slow
def test_pooling_saves_what_erlang_c_says() -> None:
    """Two communities of 1 Erlang, target 85 %: alone each needs 3 units (1 - C = 0.909;
    2 units give 0.667); pooled, 2 Erlangs need 5 (0.940; 4 give 0.826): one unit saved."""
    assert erlang_answer(1.0, 0.85) == 3
    assert erlang_answer(2.0, 0.85) == 5
    res = sim.decide.size(sizing_scenario([1.0, 1.0], share=0.85), "amb", workers=1)
    s = res.summary.set_index("option")
    assert s.loc["separate", "units"] == 6
    assert s.loc["pooled", "units"] == 5
    assert s.loc["pooled", "units_saved"] == 1
    assert s.loc["pooled", "cost_saved"] == pytest.approx(8760 * UNIT_COST)
    assert s.loc["separate", "baseline"]
    assert not s.loc["pooled", "baseline"]
    assert s["held"].all()
    st = res.stations[res.stations["option"] == "separate"]
    assert list(st["units"]) == [3, 3]
    assert list(st["units_today"]) == [1, 1]
    assert set(res.communities["community"]) == {"c0", "c1"}


@pytest.mark.slow
def test_simulated_game_two_communities() -> None:
    """By simulation: each community alone needs 3 units, together 5 (as Erlang C says, see
    test_sizing); each pays 2.5 under Shapley; the answers held on fresh replications."""
    res = sim.decide.coalitions(coalition_scenario([1.0, 1.0]), "amb", workers=1)
    v = res.values.set_index("coalition")
    assert (v["value"] / UNIT_YEAR).to_dict() == {"c0": 3, "c1": 3, "c0+c1": 5}
    assert v["status"].eq("met").all()
    assert v["held"].all()
    a = res.allocations[res.allocations["method"] == "shapley"]
    assert list(a["amount"] / UNIT_YEAR) == pytest.approx([2.5, 2.5])
    assert res.executor == "this process"


def test_service_value_game() -> None:
    """With --value service the game counts calls per year not within target with today's
    units (one each): pooling two loaded communities misses fewer calls."""
    data = coalition_scenario([0.5, 0.5], share=0.5)
    fast = sim.decide.coalitions(data, "amb", value="service", fast=True)
    v = fast.values.set_index("coalition")["value"]
    assert v["c0+c1"] < v["c0"] + v["c1"]
    # Erlang C: one unit at 0.5 Erlangs, P(wait) = 0.5; two at 1 Erlang: 1/3 (a wait of
    # more than 0.01 minutes is a hair less likely than any wait)
    calls = 0.5 * 525_600 / 60
    assert v["c0"] == pytest.approx(0.5 * calls, rel=1e-3)
    assert v["c0+c1"] == pytest.approx(2 * calls / 3, rel=1e-3)
    sim_res = sim.decide.coalitions(data, "amb", value="service", workers=1, replications=4)
    s = sim_res.values.set_index("coalition")["value"]
    assert s["c0"] == pytest.approx(0.5 * calls, rel=0.15)
    assert s["c0+c1"] == pytest.approx(2 * calls / 3, rel=0.15)
    assert set(sim_res.allocations["method"]) == {"shapley", "nucleolus"}
    assert sim_res.allocations.groupby("method")["amount"].sum().to_numpy() == pytest.approx(
        np.full(2, s["c0+c1"])
    )
