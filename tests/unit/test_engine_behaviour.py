"""Functional and monotone behaviour of the engine, with common random numbers.

Every pooling option of a replication sees the same incidents, so options can be compared call
by call. Small deterministic scenarios (fixed durations, bursts at exact times, no random
demand) check exact values; random demand checks properties that must hold on every path.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.engine.demand import Incidents, generate_incidents
from sim.engine.driver import Compiled, RunResult, compile_scenario
from sim.engine.loop import EngineRecords, simulate
from sim.engine.records import unit_table
from sim.runs.run import run
from sim.schema import scenario_from_dict
from tests.builders import one_town

EPS = 1e-9


# --- helpers ---------------------------------------------------------------------------------


def simulate_option(
    data: dict[str, Any], option: str, replication: int = 0
) -> tuple[Compiled, Incidents, EngineRecords]:
    """Compile, generate the incidents of one replication and run one option on them."""
    scenario = scenario_from_dict(data)
    compiled = compile_scenario(scenario, [option])
    incidents = generate_incidents(compiled.region, scenario.run.seed, replication)
    return compiled, incidents, simulate(compiled.region, compiled.fleets[option], incidents)


def jobs_of(rec: EngineRecords) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "incident": rec.job_incident,
            "unit": rec.job_unit,
            "assigned": rec.job_assigned,
            "dispatch": rec.job_dispatch,
            "arrive": rec.job_arrive,
            "free": rec.job_free,
        }
    )


def by_option(result: RunResult, option: str) -> pd.DataFrame:
    inc = result.incidents
    return inc[inc["option"] == option].drop(columns="option").reset_index(drop=True)


def mean_wait(result: RunResult, community: str | None = None) -> pd.DataFrame:
    """Mean wait of the non-warm-up calls, replication x option."""
    inc = result.incidents[~result.incidents["warmup"]]
    if community is not None:
        inc = inc[inc["community"] == community]
    return inc.pivot_table(
        index="replication", columns="option", values="wait", aggfunc="mean", observed=True
    )


def two_towns(policy: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Two towns 20 minutes apart, each with its own ambulance, busy enough to need help."""
    data = one_town(
        communities={"a": {"population": 10_000}, "b": {"population": 10_000}},
        travel={"matrix": {"a": {"a": 5, "b": 20}, "b": {"b": 6}}},
        services={"amb": {"units": [{"station": "a"}, {"station": "b"}]}},
        incident_types={
            "med": {
                "service": "amb",
                "rate_per_year": {"a": 9000, "b": 6000},
                "call_handling": {"dist": "uniform", "low": 0.5, "high": 2},
                "turnout": 1,
                "on_scene": {"dist": "exponential", "mean": 35},
            }
        },
        dispatch={"all": policy},
    )
    data.update(copy.deepcopy(extra))
    return data


# --- monotone checks ---------------------------------------------------------------------------


def test_third_unit_never_increases_any_wait() -> None:
    """Zero travel, first come first served: with customer-attached service times the wait of
    every single call is non-increasing in the number of servers (Kiefer-Wolfowitz)."""
    data = one_town(
        communities={"a": {"population": 1}, "b": {"population": 1}},
        travel={"matrix": {"a": {"a": 0, "b": 0}, "b": {"b": 0}}},
        services={"amb": {"units": [{"station": "a"}, {"station": "b"}]}},
        incident_types={
            "med": {
                "service": "amb",
                "rate_per_year": 6000,
                "on_scene": {"dist": "exponential", "mean": 30},
            }
        },
        dispatch={"all": {"policy": "pooled"}},
        options={"two": {}, "three": {"add_units": [{"service": "amb", "station": "a"}]}},
    )
    result = run(scenario_from_dict(data))
    two, three = by_option(result, "two"), by_option(result, "three")
    pd.testing.assert_series_equal(two["t_call"], three["t_call"])
    assert (three["wait"] <= two["wait"] + EPS).all(), (
        "no call should wait longer with 3 units than with 2"
    )
    waits = mean_wait(result)
    assert (waits["three"] < waits["two"]).all(), (
        f"mean wait should drop with a third unit:\n{waits}"
    )


@pytest.mark.parametrize("policy", ["pooled", "separate", "mutual_aid"])
def test_more_units_never_increase_mean_wait(policy: str) -> None:
    """With travel the closest-unit rule is not first-come-first-served per unit, so only the
    mean is compared (per replication, same calls)."""
    data = two_towns(
        {"policy": policy},
        options={"two": {}, "three": {"add_units": [{"service": "amb", "station": "a"}]}},
    )
    waits = mean_wait(run(scenario_from_dict(data)))
    assert (waits["three"] <= waits["two"]).all(), (
        f"{policy}: 3 units should not wait longer than 2:\n{waits}"
    )


def test_larger_reserve_never_increases_lenders_own_wait() -> None:
    """'lender' lends to 'borrower' (one way) but keeps ``reserve`` free units: the more it
    keeps, the less it lends and the less its own calls wait."""
    reserves = [0, 1, 2, 3]
    data = one_town(
        communities={"lender": {"population": 1}, "borrower": {"population": 1}},
        travel={"matrix": {"lender": {"lender": 5, "borrower": 10}, "borrower": {"borrower": 5}}},
        services={"amb": {"units": [{"station": "lender", "count": 3}, {"station": "borrower"}]}},
        incident_types={
            "med": {
                "service": "amb",
                "rate_per_year": {"lender": 10_000, "borrower": 8000},
                "turnout": 1,
                "on_scene": {"dist": "exponential", "mean": 45},
            }
        },
        run={"horizon": "40 d", "warmup": "2 d", "replications": 4, "seed": 9},
        options={
            f"reserve{k}": {
                "dispatch": {
                    "all": {
                        "policy": "mutual_aid",
                        "reserve": k,
                        "partners": {"borrower": ["lender"]},
                    }
                }
            }
            for k in reserves
        },
    )
    result = run(scenario_from_dict(data))
    waits = mean_wait(result, "lender")[[f"reserve{k}" for k in reserves]]
    steps = waits.diff(axis=1).iloc[:, 1:]
    assert (steps <= EPS).all().all(), (
        f"lender's mean wait should not grow with the reserve:\n{waits}"
    )
    lent = result.units.groupby("option", observed=True)["busy_min_for_others"].sum()
    lent = lent[[f"reserve{k}" for k in reserves]]
    assert (np.diff(lent.to_numpy()) <= EPS).all(), f"a larger reserve should lend less:\n{lent}"
    assert lent["reserve3"] == 0, "with 3 units and reserve 3 the lender can never lend"


# --- mutual aid --------------------------------------------------------------------------------


def test_mutual_aid_beyond_max_travel_is_separate() -> None:
    options = {
        "separate": {"dispatch": {"all": {"policy": "separate"}}},
        "short_aid": {"dispatch": {"all": {"policy": "mutual_aid", "max_travel": 19.5}}},
        "aid": {"dispatch": {"all": {"policy": "mutual_aid"}}},
    }
    result = run(scenario_from_dict(two_towns({"policy": "separate"}, options=options)))
    separate = by_option(result, "separate")
    pd.testing.assert_frame_equal(by_option(result, "short_aid"), separate)
    for table in (result.units, result.levels):
        left = table[table["option"] == "short_aid"].drop(columns="option").reset_index(drop=True)
        right = table[table["option"] == "separate"].drop(columns="option").reset_index(drop=True)
        pd.testing.assert_frame_equal(left, right)
    aid = by_option(result, "aid")  # the check has teeth: without the limit units are lent
    assert not bool(aid["own_unit"].dropna().all()), "unlimited mutual aid should lend some units"


def request_delay_scenario(delay: float) -> dict[str, Any]:
    """Deterministic: each town has one unit; two calls at once in a town, so the second one
    borrows the other town's unit."""
    return one_town(
        communities={"a": {"population": 1}, "b": {"population": 1}},
        travel={"matrix": {"a": {"a": 5, "b": 10}, "b": {"b": 5}}},
        services={"amb": {"units": [{"station": "a"}, {"station": "b"}]}},
        incident_types={
            "med": {"service": "amb", "rate_per_year": 0, "turnout": 1, "on_scene": 60}
        },
        bursts=[
            {"name": "a2", "time": 100, "community": "a", "type": "med", "count": 2},
            {"name": "b2", "time": 1000, "community": "b", "type": "med", "count": 2},
        ],
        run={"horizon": "2 d", "replications": 1, "seed": 1},
        options={
            f"delay{delay:g}": {
                "dispatch": {"all": {"policy": "mutual_aid", "request_delay": delay}}
            },
            "no_delay": {"dispatch": {"all": {"policy": "mutual_aid"}}},
        },
    )


def test_request_delay_adds_exactly_to_lent_calls() -> None:
    delay = 7.0
    result = run(scenario_from_dict(request_delay_scenario(delay)))
    with_delay, without = by_option(result, f"delay{delay:g}"), by_option(result, "no_delay")
    lent = ~with_delay["own_unit"].astype(bool)
    assert lent.sum() == 2, "one call of each pair should be served by the other town's unit"
    pd.testing.assert_series_equal(with_delay["own_unit"], without["own_unit"])
    added = with_delay["response"] - without["response"]
    np.testing.assert_allclose(
        added[lent], delay, atol=EPS, err_msg="lent calls arrive request_delay later"
    )
    np.testing.assert_allclose(added[~lent], 0.0, atol=EPS, err_msg="own calls are not delayed")
    # exact response of a lent call: request delay + turnout + the 10-minute trip
    np.testing.assert_allclose(with_delay.loc[lent, "response"], delay + 1 + 10, atol=EPS)


def test_request_delay_only_on_lent_jobs() -> None:
    delay = 4.0
    data = two_towns(
        {"policy": "separate"},
        options={"aid": {"dispatch": {"all": {"policy": "mutual_aid", "request_delay": delay}}}},
    )
    compiled, inc, rec = simulate_option(data, "aid")
    jobs = jobs_of(rec)
    fleet = compiled.fleets["aid"]
    lent = fleet.owner[jobs["unit"]] != inc.community[jobs["incident"]]
    assert lent.sum() > 10, "the scenario should lend often enough to test the delay"
    np.testing.assert_allclose((jobs["dispatch"] - jobs["assigned"])[lent], delay, atol=EPS)
    np.testing.assert_allclose((jobs["dispatch"] - jobs["assigned"])[~lent], 0.0, atol=EPS)


def test_separate_always_uses_own_units() -> None:
    data = one_town(
        communities={c: {"population": 5000} for c in "abc"},
        travel={"matrix": {"a": {"a": 4, "b": 8, "c": 15}, "b": {"b": 5, "c": 9}, "c": {"c": 6}}},
        services={
            "amb": {"units": [{"station": "a", "count": 2}, {"station": "b"}, {"station": "c"}]}
        },
        incident_types={
            "med": {
                "service": "amb",
                "rate_per_year": 7000,
                "turnout": 1,
                "on_scene": {"dist": "exponential", "mean": 40},
            }
        },
        dispatch={"all": {"policy": "separate"}},
    )
    result = run(scenario_from_dict(data))
    inc = result.incidents
    sent = inc[inc["units_sent"] > 0]
    assert bool(sent["own_unit"].all()), (
        "under separate every incident gets its own community's unit"
    )
    assert (sent["first_unit_owner"].astype(str) == sent["community"].astype(str)).all()
    assert (result.units["busy_min_for_others"] == 0).all(), "no unit works for another community"


# --- pooled: the closest unit ------------------------------------------------------------------


def test_pooled_sends_the_closest_free_unit() -> None:
    """Three towns in a row; units in a and c only. Units return to their station before they
    are free again (from_road false), so a free unit is always at its station and the closest
    one is known from the travel matrix."""
    travel = {"a": {"a": 5, "b": 10, "c": 40}, "b": {"b": 5, "c": 30}, "c": {"c": 5}}
    data = one_town(
        communities={c: {"population": 5000} for c in "abc"},
        travel={"matrix": travel},
        services={"amb": {"units": [{"station": "a"}, {"station": "c"}]}},
        incident_types={
            "med": {
                "service": "amb",
                "rate_per_year": 4000,
                "turnout": 1,
                "on_scene": {"dist": "exponential", "mean": 30},
            }
        },
        dispatch={"all": {"policy": "pooled", "from_road": False}},
    )
    compiled, inc, rec = simulate_option(data, "base")
    region, fleet = compiled.region, compiled.fleets["base"]
    jobs = jobs_of(rec)
    immediate = np.flatnonzero(rec.t_dispatch == rec.t_ready)
    assert len(immediate) > 100
    checked = {"own": 0, "other": 0}
    for i in immediate:
        t, c = rec.t_ready[i], inc.community[i]
        busy = jobs[(jobs["assigned"] < t) & (jobs["free"] > t)]["unit"].to_numpy()
        free = [u for u in range(fleet.size) if u not in busy]
        best = min(free, key=lambda u: (region.travel[fleet.station[u], c], u))
        assert rec.first_unit[i] == best, (
            f"call {i} in {region.communities[c]} at t={t:.1f} should get the closest free unit "
            f"{fleet.labels[best]}, got {fleet.labels[rec.first_unit[i]]}"
        )
        checked["own" if fleet.owner[best] == c else "other"] += 1
    assert checked["other"] > 50, "calls in b (no own unit) should often be checked"
    # b's calls go to a's unit whenever it is free (10 minutes against 30)
    inc_b = inc.community[immediate] == 1
    from_a = rec.first_unit[immediate][inc_b] == 0
    assert from_a.mean() > 0.5, "most of b's calls should be answered from a, the nearer station"


# --- several units per incident ----------------------------------------------------------------


def two_unit_scenario() -> dict[str, Any]:
    return one_town(
        services={"amb": {"units": [{"station": "a", "count": 3}]}},
        incident_types={
            "fire": {
                "service": "amb",
                "rate_per_year": 5000,
                "units_needed": 2,
                "turnout": 1,
                "on_scene": {"dist": "exponential", "mean": 30},
            },
            "med": {
                "service": "amb",
                "rate_per_year": 10_000,
                "turnout": 1,
                "on_scene": {"dist": "exponential", "mean": 60},
            },
        },
        dispatch={"all": {"policy": "pooled"}},
    )


def test_units_needed_two_get_two_distinct_units() -> None:
    _, _, rec = simulate_option(two_unit_scenario(), "base")
    jobs = jobs_of(rec)
    per_incident = jobs.groupby("incident")["unit"].agg(["size", "nunique"])
    doubles = per_incident[per_incident["size"] == 2]
    assert len(doubles) > 50
    same = doubles[doubles["nunique"] < 2]
    example = jobs[jobs["incident"] == same.index[0]] if len(same) else None
    assert len(same) == 0, (
        f"an incident needing 2 units should get 2 distinct units; {len(same)} of {len(doubles)} "
        f"got the same unit twice, e.g.\n{example}"
    )


def test_units_needed_two_arrival_times() -> None:
    result = run(scenario_from_dict(two_unit_scenario()))
    inc = result.incidents
    fire = inc[(inc["type"] == "fire") & ~inc["open"]]
    assert len(fire) > 100
    assert (fire["units_sent"] == 2).all(), "a cleared fire had both its units"
    assert (fire["t_full_arrival"] >= fire["t_first_arrival"]).all(), "full arrival is after first"
    med = inc[(inc["type"] == "med") & ~inc["open"]]
    pd.testing.assert_series_equal(med["t_full_arrival"], med["t_first_arrival"], check_names=False)


def test_partly_served_call_does_not_block_the_queue() -> None:
    """Pooled, two units, zero travel and turnout, fixed times. At 0 a long job (100 min) takes
    unit 0. At 10 call B (needs 2) gets unit 1 and waits for a second unit; at 12 call C (needs
    2) queues behind it. At 15 unit 1 is free again; it cannot serve B twice, so it should take
    C rather than idle. At 100 unit 0 completes B (the older call), at 105 it completes C.
    Whatever the order, a call needing a unit must not wait while a unit it may use idles, and
    both calls must be completed long before the horizon."""
    data = one_town(
        travel={"matrix": {"a": {"a": 0}}},
        services={"amb": {"units": [{"station": "a", "count": 2}]}},
        incident_types={
            "long": {"service": "amb", "rate_per_year": 0, "on_scene": 100},
            "pair": {"service": "amb", "rate_per_year": 0, "units_needed": 2, "on_scene": 5},
        },
        bursts=[
            {"name": "A", "time": 0, "community": "a", "type": "long", "count": 1},
            {"name": "B", "time": 10, "community": "a", "type": "pair", "count": 1},
            {"name": "C", "time": 12, "community": "a", "type": "pair", "count": 1},
        ],
        run={"horizon": "1 d", "replications": 1, "seed": 1},
        dispatch={"all": {"policy": "pooled"}},
    )
    inc = run(scenario_from_dict(data)).incidents.set_index("t_call")
    assert not inc["open"].any(), f"every call should be completed within the day:\n{inc}"
    np.testing.assert_allclose(inc.loc[10.0, ["t_dispatch", "t_full_arrival"]], [10, 100])
    np.testing.assert_allclose(
        inc.loc[12.0, ["t_dispatch", "t_full_arrival"]],
        [15, 105],
        err_msg="C should get unit 1 when it frees at 15 and unit 0 after B, at 105",
    )


# --- duty schedules ----------------------------------------------------------------------------

SHIFT = (10 * 60, 22 * 60)  # minutes of the day


def in_shift(t: np.ndarray) -> np.ndarray:
    m = np.mod(t, 1440)
    return (m >= SHIFT[0]) & (m < SHIFT[1])


def test_day_shift_unit_dispatched_only_in_its_shift() -> None:
    data = one_town(
        services={
            "amb": {"units": [{"station": "a"}, {"station": "a", "duty": {"hours": [10, 22]}}]}
        },
        incident_types={
            "med": {
                "service": "amb",
                "rate_per_year": 12_000,
                "turnout": 1,
                "on_scene": {"dist": "exponential", "mean": 50},
            }
        },
        dispatch={"all": {"policy": "pooled"}},
    )
    compiled, inc, rec = simulate_option(data, "base")
    jobs = jobs_of(rec)
    day_unit = compiled.fleets["base"].labels.index("amb-a-2")
    mine = jobs[jobs["unit"] == day_unit]
    assert len(mine) > 100
    outside = mine[~in_shift(mine["assigned"].to_numpy())]
    assert outside.empty, f"the 10-22 h unit should not be dispatched outside its shift:\n{outside}"
    ends = (mine["assigned"] // 1440) * 1440 + SHIFT[1]
    overtime = mine[mine["free"] > ends]
    assert len(overtime) > 0, "some jobs should run past 22:00 (a unit finishes its job)"
    assert not np.isnan(rec.t_clear[overtime["incident"]]).any(), (
        "jobs past the shift end are finished"
    )
    night = jobs[jobs["unit"] != day_unit]
    assert (~in_shift(night["assigned"].to_numpy())).any(), "the 24 h unit works at night"
    # on-duty time of the window = the scheduled shifts + the overtime spent finishing jobs
    region, fleet = compiled.region, compiled.fleets["base"]
    lo, hi = region.warmup, region.horizon
    a, f = np.clip(mine["assigned"], lo, hi).to_numpy(), np.clip(mine["free"], lo, hi).to_numpy()
    days = np.arange(0, int(hi // 1440) + 1) * 1440.0
    shifts = np.clip(np.column_stack([days + SHIFT[0], days + SHIFT[1]]), lo, hi)
    scheduled = (shifts[:, 1] - shifts[:, 0]).sum()
    in_duty = sum(
        np.clip(np.minimum(f, s1) - np.maximum(a, s0), 0, None).sum() for s0, s1 in shifts
    )
    units = unit_table(region, fleet, inc, rec, 0).set_index("unit")
    assert scheduled == pytest.approx(29 * 12 * 60)
    assert units.loc["amb-a-2", "on_duty_min"] == pytest.approx(
        scheduled + (f - a).sum() - in_duty
    ), "on-duty minutes should be the shifts plus the overtime finishing jobs"
    assert units.loc["amb-a-2", "on_duty_min"] > scheduled


def test_calls_wait_for_the_shift_when_no_unit_is_on_duty() -> None:
    data = one_town(
        services={"amb": {"units": [{"station": "a", "duty": {"hours": [10, 22]}}]}},
        incident_types={"med": {"service": "amb", "rate_per_year": 3000, "on_scene": 20}},
    )
    result = run(scenario_from_dict(data))
    inc = result.incidents
    sent = inc[inc["units_sent"] > 0]
    assert in_shift(sent["t_dispatch"].to_numpy()).all(), "every dispatch falls in the shift"
    night = inc[~in_shift(inc["t_ready"].to_numpy()) & (inc["units_sent"] > 0)]
    assert len(night) > 20, "the scenario should have night calls"
    assert (night["wait"] > 0).all(), "night calls wait for the morning"
    start = night["t_ready"] + np.mod(SHIFT[0] - np.mod(night["t_ready"], 1440), 1440)
    # a night call is sent at 10:00 or later (later if earlier calls are still queued)
    assert (night["t_dispatch"] >= start - EPS).all()
    units = result.units
    window = (30 - 1) * 12 * 60.0
    assert (units["on_duty_min"] >= window - EPS).all(), "on-duty time is 12 h a day or more"


# --- return to station -------------------------------------------------------------------------


def from_road_scenario(from_road: bool) -> dict[str, Any]:
    """One unit, two calls at t=100, inside travel 10, turnout 2, on scene 30."""
    return one_town(
        travel={"matrix": {"a": {"a": 10}}},
        incident_types={
            "med": {"service": "amb", "rate_per_year": 0, "turnout": 2, "on_scene": 30}
        },
        bursts=[{"name": "two", "time": 100, "community": "a", "type": "med", "count": 2}],
        run={"horizon": "1 d", "replications": 1, "seed": 1},
        dispatch={"all": {"policy": "separate", "from_road": from_road}},
    )


def test_from_road_true_sends_a_returning_unit_without_turnout() -> None:
    inc = run(scenario_from_dict(from_road_scenario(True))).incidents
    # first: dispatch 100, rolling 102, on scene 112-142. Second: sent from the road at 142, no
    # turnout, the (interpolated) 10-minute trip: arrives 152, clears 182.
    np.testing.assert_allclose(inc["t_dispatch"], [100, 142])
    np.testing.assert_allclose(inc["t_first_arrival"], [112, 152])
    np.testing.assert_allclose(inc["t_clear"], [142, 182])


def test_from_road_false_returns_to_station_then_turns_out() -> None:
    """With from_road false the unit is free only back at its station (142 + 10 = 152) and
    leaves from there like any unit at its station: turnout 2, then the 10-minute trip."""
    inc = run(scenario_from_dict(from_road_scenario(False))).incidents
    np.testing.assert_allclose(inc["t_dispatch"], [100, 152], err_msg="sent when back at station")
    np.testing.assert_allclose(
        inc["t_first_arrival"],
        [112, 164],
        err_msg="a unit dispatched at its station should turn out (2 min) before the 10-min trip",
    )


# --- transport ---------------------------------------------------------------------------------


@pytest.mark.parametrize("from_road", [True, False])
def test_transport_extends_clear_time_by_trip_and_handover(from_road: bool) -> None:
    on_scene, trip, handover, home = 20.0, 25.0, 10.0, 5.0
    data = one_town(
        communities={"a": {"population": 1}, "b": {"population": 1}},
        facilities={"hospital": {"community": "b"}},
        travel={"matrix": {"a": {"a": home, "b": trip}, "b": {"b": 4}}},
        services={"amb": {"units": [{"station": "a", "count": 2}]}},
        incident_types={
            "carried": {
                "service": "amb",
                "rate_per_year": {"a": 4000},
                "turnout": 1,
                "on_scene": on_scene,
                "transport": {"probability": 1, "facility": "hospital", "handover": handover},
            },
            "treated": {
                "service": "amb",
                "rate_per_year": {"a": 4000},
                "turnout": 1,
                "on_scene": on_scene,
            },
        },
        dispatch={"all": {"policy": "pooled", "from_road": from_road}},
    )
    _, inc, rec = simulate_option(data, "base")
    done = ~np.isnan(rec.t_clear)
    carried = done & (inc.type == 0)
    treated = done & (inc.type == 1)
    assert carried.sum() > 50, "enough transported calls"
    assert treated.sum() > 50, "enough calls treated on scene"
    np.testing.assert_allclose(
        (rec.t_clear - rec.t_first_arrival)[carried], on_scene + trip + handover
    )
    np.testing.assert_allclose((rec.t_clear - rec.t_first_arrival)[treated], on_scene)
    jobs = jobs_of(rec)
    back = 0.0 if from_road else 1.0
    expected_free = rec.t_clear[jobs["incident"]] + back * np.where(
        inc.type[jobs["incident"]] == 0, trip, home
    )
    np.testing.assert_allclose(
        jobs["free"], expected_free, err_msg="free at clear (+ the trip home)"
    )


# --- demand: bursts ---------------------------------------------------------------------------


def test_burst_adds_exactly_count_incidents() -> None:
    burst = {
        "name": "crash",
        "time": "3 d",
        "community": "b",
        "type": "major",
        "count": 17,
        "spread": 30,
    }
    base = one_town(
        communities={"a": {"population": 1}, "b": {"population": 1}},
        travel={"matrix": {"a": {"a": 5, "b": 10}, "b": {"b": 5}}},
        services={"amb": {"units": [{"station": "a", "count": 2}, {"station": "b"}]}},
        incident_types={
            "med": {
                "service": "amb",
                "rate_per_year": 5000,
                "on_scene": {"dist": "exponential", "mean": 30},
            },
            "major": {"service": "amb", "rate_per_year": 500, "priority": 1, "on_scene": 60},
        },
        run={"horizon": "10 d", "replications": 2, "seed": 5},
        dispatch={"all": {"policy": "pooled"}},
    )
    without = run(scenario_from_dict(base)).incidents
    withb = run(scenario_from_dict({**base, "bursts": [burst]})).incidents
    for rep in (0, 1):
        w, b = without[without["replication"] == rep], withb[withb["replication"] == rep]
        assert len(b) - len(w) == 17, (
            f"replication {rep}: the burst should add exactly 17 incidents"
        )
        assert w["t_call"].isin(b["t_call"]).all(), "the other calls are unchanged"
        new = b[~b["t_call"].isin(w["t_call"])]
        assert len(new) == 17
        t0 = 3 * 1440
        assert ((new["t_call"] >= t0) & (new["t_call"] < t0 + 30)).all(), (
            "burst calls within its spread"
        )
        assert (new["community"] == "b").all(), "burst calls are in the burst's community"
        assert (new["type"] == "major").all(), "burst calls are of the burst's type"


# --- common random numbers and reproducibility ---------------------------------------------------


def crn_scenario() -> dict[str, Any]:
    return two_towns(
        {"policy": "separate"},
        options={"separate": {}, "pooled": {"dispatch": {"all": {"policy": "pooled"}}}},
        run={"horizon": "10 d", "warmup": "1 d", "replications": 3, "seed": 123},
        travel={"matrix": {"a": {"a": 5, "b": 20}, "b": {"b": 6}}, "noise": {"log_sd": 0.3}},
    )


def test_options_see_identical_incidents() -> None:
    result = run(scenario_from_dict(crn_scenario()))
    cols = ["replication", "incident", "t_call", "type", "community", "t_ready"]
    separate, pooled = by_option(result, "separate"), by_option(result, "pooled")
    pd.testing.assert_frame_equal(separate[cols], pooled[cols])
    assert not separate["response"].equals(pooled["response"]), (
        "the options should differ in outcome"
    )


def test_same_seed_same_tables_other_seed_other_tables() -> None:
    scenario = scenario_from_dict(crn_scenario())
    first, again = run(scenario), run(scenario)
    for name in ("incidents", "units", "levels"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(again, name))
    other = run(scenario, seed=124)
    assert len(other.incidents) != len(first.incidents) or not np.array_equal(
        other.incidents["t_call"], first.incidents["t_call"]
    ), "another seed should give other incidents"
    with pytest.raises(AssertionError):
        pd.testing.assert_frame_equal(first.units, other.units)


def test_replication_does_not_depend_on_the_others() -> None:
    """Replication r has its own streams: running it alone gives the same incidents."""
    scenario = scenario_from_dict(crn_scenario())
    all_three = run(scenario).incidents
    one = run(scenario, replications=1).incidents
    pd.testing.assert_frame_equal(
        all_three[all_three["replication"] == 0].reset_index(drop=True), one
    )
