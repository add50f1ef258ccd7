"""Caseload services: workers become case slots, a case holds one for its duration, new cases
wait by priority then age, visits are scheduled in the worker's working time (by hand), and
the caseload measures count what they say."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sim.analysis.caseload import caseload_metrics
from sim.engine.driver import compile_scenario, run_replication
from sim.engine.visits import Cases, schedule_visits
from sim.schema import scenario_from_dict
from tests.builders import one_town

OFFICE = {"hours": [8, 16], "days": ["mon", "tue", "wed", "thu", "fri"]}
WEEK = 7 * 1440.0


def caseload_town(max_cases: int = 3, workers: int = 1, **types: Any) -> dict[str, Any]:
    """One town whose social workers hold ``max_cases`` cases each, 10 minutes from the office,
    on an office calendar (08:00-16:00, Monday to Friday)."""
    data = one_town(
        travel={"matrix": {"a": {"a": 10}}},
        calendars={"office": OFFICE},
        services={
            "social": {
                "calendar": "office",
                "caseload": {"max_cases": max_cases},
                "cost_per_unit_hour": 40,
                "units": [{"station": "a", "count": workers}],
            }
        },
        incident_types=types
        or {
            "case": {
                "service": "social",
                "rate_per_year": 300,
                "on_scene": {"dist": "exponential", "mean": 20 * 1440},
            }
        },
        run={"horizon": "120 d", "warmup": "10 d", "replications": 1, "seed": 3},
    )
    return data


def test_each_worker_becomes_max_cases_slots_whose_costs_add_up() -> None:
    compiled = compile_scenario(scenario_from_dict(caseload_town(max_cases=4, workers=2)))
    fleet, region = compiled.fleets["base"], compiled.region
    assert fleet.size == 8, f"2 workers x 4 slots are 8 units, got {fleet.size}"
    assert fleet.labels[:2] == ("social-a-1#1", "social-a-1#2"), f"slot labels: {fleet.labels}"
    assert fleet.workers is not None
    assert fleet.workers.of_unit.tolist() == [0] * 4 + [1] * 4, "slots 0-3 are the first's"
    lo, hi = region.warmup, region.horizon
    inside = np.clip(fleet.workers.working[0], lo, hi)
    office_minutes = float(inside[:, 1].sum() - inside[:, 0].sum())  # inside the window
    slot_cost = fleet.cost_per_hour[:4].sum() * (hi - lo)
    assert slot_cost == pytest.approx(40 * office_minutes), (
        "a worker's slots, on duty round the clock, should cost the worker's office hours"
    )


def test_a_case_holds_its_slot_for_exactly_its_duration() -> None:
    compiled = compile_scenario(scenario_from_dict(caseload_town()))
    incidents, *_ = run_replication(compiled, 0, 3)
    done = incidents[incidents["t_clear"] <= compiled.region.horizon]
    assert len(done) > 10, "some cases should close within the run"
    held = (done["t_clear"] - done["t_dispatch"]).to_numpy()
    assert (held > 0).all(), "a case holds its slot for a positive time"
    assert (done["t_first_arrival"] == done["t_dispatch"]).all(), (
        "a case is allocated, not driven to: it 'arrives' at allocation"
    )
    assert (done["travel"] == 0).all(), "the trips of a case are its visits'"


def test_new_cases_wait_for_a_free_slot_by_priority_then_age() -> None:
    burst = [
        {"name": f"b{i}", "time": t, "community": "a", "type": k, "count": 1}
        for i, (t, k) in enumerate([(0, "long"), (10, "low"), (20, "low"), (30, "high")])
    ]
    data = caseload_town(
        max_cases=1,
        long={"service": "social", "rate_per_year": 0, "on_scene": 1000},
        low={"service": "social", "priority": 2, "rate_per_year": 0, "on_scene": 100},
        high={"service": "social", "priority": 1, "rate_per_year": 0, "on_scene": 100},
    )
    data["bursts"] = burst
    incidents, *_ = run_replication(compile_scenario(scenario_from_dict(data)), 0, 3)
    order = incidents.sort_values("t_dispatch")["type"].astype(str).tolist()
    assert order == ["long", "high", "low", "low"], f"priority first, then the oldest: {order}"
    dispatched = incidents.sort_values("t_dispatch")["t_dispatch"].tolist()
    assert dispatched == [0, 1000, 1100, 1200], f"each waits for the slot to free: {dispatched}"


def test_visits_by_hand() -> None:
    """Two cases allocated Monday 09:00 and 09:30 with a visit every week of 60 minutes, 10
    minutes from the office each way: the worker visits the first at 09:00-10:20, the second
    at 10:20-11:40, and again each week."""
    data = caseload_town(
        case={
            "service": "social",
            "rate_per_year": 0,
            "on_scene": 100_000,
            "visits": {"every": "7 d", "duration": 60},
        }
    )
    compiled = compile_scenario(scenario_from_dict(data))
    region, fleet = compiled.region, compiled.fleets["base"]
    cases = Cases(
        unit=np.array([0, 1]),
        allocated=np.array([540.0, 570.0]),
        end=np.array([np.nan, 540.0 + 2 * WEEK]),  # the second closes after two weeks
        place=np.array([0, 0]),
        type=np.array([0, 0]),
    )
    v = schedule_visits(region, fleet, cases)
    first = v.case == 0
    assert v.start[first][:3].tolist() == [540.0, 540.0 + WEEK, 540.0 + 2 * WEEK]
    assert (v.done[first] - v.start[first] == 80).all(), "10 + 60 + 10 minutes"
    second = v.case == 1
    assert v.start[second].tolist() == [620.0, 620.0 + WEEK], (
        "the second case's visits follow the first's, two periods while it is open"
    )
    assert (v.done <= v.deadline).all(), "every visit is on time"
    assert (v.worked == 80).all()


def test_visits_fall_behind_when_a_worker_holds_too_many_cases() -> None:
    """20 cases of a 4-hour weekly visit need 80 hours a week of a 40-hour worker: at most about
    half can be on time; with 5 cases all can."""
    case = {
        "service": "social",
        "rate_per_year": 0,
        "on_scene": 200_000,
        "visits": {"every": "7 d", "duration": 220},
    }
    shares = {}
    for n in (5, 20):
        data = caseload_town(max_cases=n, case=case)
        data["bursts"] = [
            {"name": "all", "time": 480, "community": "a", "type": "case", "count": n}
        ]
        compiled = compile_scenario(scenario_from_dict(data))
        incidents, *_ = run_replication(compiled, 0, 3)
        m = caseload_metrics(incidents, compiled.region, compiled.fleets)
        row = m[(m["community"] == "all")].set_index("metric")["value"]
        shares[n] = row["visits_on_time"]
        assert row["utilisation"] <= 1.0 + 1e-9, "a worker works at most their working time"
    assert shares[5] == 1.0, f"5 cases: every visit on time, got {shares[5]:.2f}"
    assert shares[20] < 0.6, f"20 cases: most visits late, got {shares[20]:.2f}"


@pytest.mark.parametrize(("slots", "full"), [(2, True), (40, False)])
def test_caseload_measures_wait_and_caseload(slots: int, full: bool) -> None:
    """300 cases a year of 20 days on average: about 16 open at once."""
    compiled = compile_scenario(scenario_from_dict(caseload_town(max_cases=slots)))
    incidents, *_ = run_replication(compiled, 0, 3)
    m = caseload_metrics(incidents, compiled.region, compiled.fleets)
    row = m[m["community"] == "all"].set_index("metric")["value"]
    assert row["workers"] == 1
    assert 0 < row["mean_caseload"] <= row["peak_caseload"] <= slots, "at most max_cases cases"
    if full:
        assert (row["peak_caseload"], row["waited"]) == (slots, 1.0), "all wait for 2 slots"
        assert row["waiting_cases"] > 5, "and the queue grows"
    else:
        assert (row["waited"], row["mean_wait_days"]) == (0.0, 0.0), "40 slots: nobody waits"
        assert 8 < row["mean_caseload"] < 25, f"about 16 open cases: {row['mean_caseload']:.1f}"
