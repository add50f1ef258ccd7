"""Coalitions (sim.decide.coalition): a coalition's scenario variant is exactly pooling within
it; games computed from Erlang C agree with values worked by hand; the formulas real agreements
use are checked against stand-alone costs; bad input is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

import sim.decide
from sim.analysis import shapley as g
from sim.decide.common import Problem
from sim.decide.evaluate import evaluate_task
from sim.decide.fleet import coalition_context
from sim.errors import InputError
from sim.runs.run import run
from sim.schema import scenario_from_dict
from tests.builders import UNIT_YEAR, coalition_scenario


def travelled() -> dict[str, Any]:
    """Three towns with travel, two priorities, lognormal times: the general case."""
    coms = {"a": {"population": 30000}, "b": {"population": 12000}, "c": {"population": 5000}}
    return {
        "name": "Three towns",
        "communities": coms,
        "travel": {
            "matrix": {"a": {"a": 4, "b": 9, "c": 15}, "b": {"b": 5, "c": 8}, "c": {"c": 6}},
            "noise": {"log_sd": 0.2},
        },
        "services": {
            "amb": {
                "cost_per_unit_hour": 150,
                "units": [
                    {"station": "a", "count": 2},
                    {"station": "b", "count": 1},
                    {"station": "c", "count": 1},
                ],
            }
        },
        "incident_types": {
            "p1": {
                "service": "amb",
                "priority": 1,
                "rate_per_1000": 100,
                "turnout": 1,
                "on_scene": {"dist": "lognormal", "median": 30, "log_sd": 0.5},
                "target": {"minutes": 12, "share": 0.9},
            },
            "p2": {
                "service": "amb",
                "priority": 2,
                "rate_per_1000": 60,
                "on_scene": {"dist": "lognormal", "median": 30, "log_sd": 0.5},
            },
        },
        "run": {"horizon": "21 d", "warmup": "1 d", "replications": 2, "seed": 5},
        "options": {
            "separate": {"dispatch": {"amb": {"policy": "separate"}}},
            "pooled": {"dispatch": {"amb": {"policy": "pooled"}}},
        },
    }


def _counts_from_run(
    data: dict[str, Any], option: str, community: str, replication: int
) -> tuple[float, float]:
    """Calls of priority 1 within target, and decided, in one replication of ``option``."""
    res = run(scenario_from_dict(data), options=[option], replications=replication + 1)
    inc = res.incidents
    sel = (
        (inc["replication"] == replication)
        & ~inc["warmup"]
        & (inc["priority"] == 1)
        & (inc["community"] == community)
        & inc["met_target"].notna()
    )
    met = inc.loc[sel, "met_target"].astype(bool)
    return float(met.sum()), float(len(met))


@pytest.mark.parametrize(("members", "option"), [(("a", "b", "c"), "pooled"), (("b",), "separate")])
def test_coalition_variant_is_exactly_pooling_within(members: tuple[str, ...], option: str) -> None:
    """The grand coalition's variant gives call for call the scenario's pooled option, and a
    single community's the separate option: non-members neither lend nor borrow."""
    data = travelled()
    sc = scenario_from_dict(data)
    problem = Problem.build(
        sc,
        "amb",
        replications=2,
        confirm_replications=None,
        seed=None,
        confidence=0.95,
        priorities="first",
        target_share=None,
    )
    ctx = coalition_context(sc, members, "amb")
    assert ctx.policy == "pooled"
    assert ctx.members == members
    out = evaluate_task(problem.base_json, ctx.to_json(), json.dumps([ctx.today]), 1)[0]
    for i, com in enumerate(members):
        met, n = _counts_from_run(data, option, com, 1)
        assert n > 15
        assert out["met"][i][0] == met
        assert out["n"][i][0] == n


def test_fast_game_matches_erlang_c_by_hand() -> None:
    """Loads 1, 1 and 0.5 Erlangs, 85 % must not wait. Erlang C: alone 3, 3 and 2 units;
    pairs 5, 4 and 4; all three 5 (2.5 Erlangs: 1 - C(4) = 0.70, 1 - C(5) = 0.87). Shapley,
    over the six orders: c2 pays 1 unit (2 when first, 1 when second, 0 when last), c0 and c1
    2 each. It is in the core."""
    res = sim.decide.coalitions(coalition_scenario([1.0, 1.0, 0.5]), "amb", fast=True)
    v = res.values.set_index("coalition")["value"] / UNIT_YEAR
    expect = {"c0": 3, "c1": 3, "c2": 2, "c0+c1": 5, "c0+c2": 4, "c1+c2": 4, "c0+c1+c2": 5}
    assert v.round(9).to_dict() == expect
    a = res.allocations[res.allocations["method"] == "shapley"].set_index("community")
    assert (a["amount"] / UNIT_YEAR).to_dict() == pytest.approx({"c0": 2, "c1": 2, "c2": 1})
    assert a["amount"].sum() == pytest.approx(res.grand_value)
    st = res.stability.set_index("method")
    assert st.loc["shapley", "in_core"]
    assert st.loc["nucleolus", "in_core"]
    assert res.core_nonempty
    assert res.subadditive
    gains = res.values.set_index("coalition")["gain"] / UNIT_YEAR
    assert gains["c0+c1+c2"] == pytest.approx(3.0)
    game = res.game()
    assert g.shapley(game) == pytest.approx(a["amount"].to_dict())


def test_a_formula_can_charge_more_than_going_alone() -> None:
    """A big quiet town (load 0.5) and a small busy one (load 2): per capita, the big town
    pays almost everything, more than its own 2 units would cost: it would leave. Shapley:
    the big town pays (2 + 0) / 2 = 1 unit, the small one (5 + 3) / 2 = 4."""
    res = sim.decide.coalitions(
        coalition_scenario([0.5, 2.0], populations=[100_000, 1000]), "amb", fast=True
    )
    a = res.allocations.set_index(["method", "community"])
    assert a.loc[("per_capita", "c0"), "above_stand_alone"]
    assert not a.loc[("per_capita", "c1"), "above_stand_alone"]
    assert not a.loc[("shapley", "c0"), "above_stand_alone"]
    assert a.loc[("shapley", "c0"), "amount"] == pytest.approx(1 * UNIT_YEAR)
    assert a.loc[("shapley", "c1"), "amount"] == pytest.approx(4 * UNIT_YEAR)
    st = res.stability.set_index("method")
    assert not st.loc["per_capita", "in_core"]
    assert st.loc["per_capita", "most_violated"] == "c0"
    assert st.loc["per_capita", "above_stand_alone"] == "c0"
    assert st.loc["per_capita", "excess"] > 0
    # the mix is the scenario's weights over the bases
    mix = a.loc[("mix", "c0"), "amount"]
    assert mix == pytest.approx(
        0.5 * a.loc[("per_capita", "c0"), "amount"] + 0.5 * a.loc[("per_call", "c0"), "amount"]
    )


def test_more_than_eight_communities_is_an_input_error() -> None:
    with pytest.raises(InputError, match="at most 8"):
        sim.decide.coalitions(coalition_scenario([0.1] * 9), "amb", fast=True)
    with pytest.raises(InputError, match="--value"):
        sim.decide.coalitions(coalition_scenario([0.1]), "amb", value="nope", fast=True)
