"""Fleet sizing (sim.decide.sizing): unreachable targets are reported, placement moves units,
removal keeps today's units in order, bad input is refused."""

from __future__ import annotations

import pytest

import sim.decide
from sim.decide.fleet import option_context
from sim.errors import InputError
from sim.schema import scenario_from_dict
from tests.builders import UNIT_COST, sizing_scenario


def test_unreachable_target_is_reported() -> None:
    """Travel of 10 minutes inside the community and a 5-minute target: no number of units
    helps; the search gives up, keeps the smallest fleet, and names the community."""
    data = sizing_scenario([0.2, 0.2])
    data["travel"]["matrix"]["c1"]["c1"] = 10
    data["incident_types"]["call"]["target"] = {"minutes": 5, "share": 0.9}
    res = sim.decide.size(data, "amb", options=["separate"], workers=1)
    row = res.summary.iloc[0]
    assert row["status"] == "infeasible"
    assert row["unmet"] == "c1"
    st = res.stations.set_index("station")["units"]
    assert st["c1"] == 1  # back to the fewest units: more did not help
    assert st["c0"] >= 1
    assert "back" in set(res.trace["action"])


def test_placement_moves_a_unit_to_where_it_covers_everyone() -> None:
    """Three places on a line, 6 minutes apart, target 7 minutes: pooled, one unit in the
    middle (b) covers all three. Today a has the only unit: without moving units the search
    needs units at a and c; with placement it moves one to b."""
    data = sizing_scenario([0.0, 0.0, 0.0])
    trips = {("c0", "c1"): 6, ("c1", "c2"): 6, ("c0", "c2"): 12}
    data["travel"]["matrix"] = {
        a: {b: trips.get((a, b), 0) for b in ("c0", "c1", "c2") if (a, b) in trips or a == b}
        for a in ("c0", "c1", "c2")
    }
    call = data["incident_types"]["call"]
    call["target"] = {"minutes": 7, "share": 0.9}
    call["on_scene"] = 1  # short jobs: about 2 % of calls wait, enough calls to judge
    call["rate_per_year"] = 500
    data["services"]["amb"]["units"] = [{"station": "c0", "count": 1}]
    data["options"] = {"pooled": {"dispatch": {"amb": {"policy": "pooled"}}}}
    del data["baseline"]
    fixed = sim.decide.size(data, "amb", workers=1, replications=4)
    moved = sim.decide.size(data, "amb", workers=1, replications=4, placement=True)
    assert fixed.summary.iloc[0]["units"] == 2
    assert moved.summary.iloc[0]["units"] == 1
    st = moved.stations.set_index("station")["units"]
    assert st["c1"] == 1
    assert st["c0"] == 0
    assert st["c2"] == 0
    assert moved.summary.iloc[0]["held"]


def test_slots_keep_todays_units_in_order() -> None:
    """Removing at a station drops its last-listed unit first (the day car)."""
    data = sizing_scenario([1.0])
    data["services"]["amb"]["units"] = [
        {"station": "c0", "count": 2},
        {"station": "c0", "count": 1, "duty": {"hours": [10, 22]}},
    ]
    ctx = option_context(scenario_from_dict(data), "separate", "amb")
    assert ctx.today == (3,)
    assert ctx.cost_per_year((3,)) == pytest.approx((2 + 0.5) * 8760 * UNIT_COST)
    assert ctx.cost_per_year((2,)) == pytest.approx(2 * 8760 * UNIT_COST)
    assert ctx.cost_per_year((4,)) == pytest.approx(3.5 * 8760 * UNIT_COST)


def test_bad_input() -> None:
    data = sizing_scenario([1.0])
    with pytest.raises(InputError, match="unknown service"):
        sim.decide.size(data, "fire")
    with pytest.raises(InputError, match="at least 2 replications"):
        sim.decide.size(data, "amb", replications=1)
    with pytest.raises(InputError, match="unknown option"):
        sim.decide.size(data, "amb", options=["nope"])
