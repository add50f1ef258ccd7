"""Work orders in the engine: units on a working calendar, jobs paused at closing, overtime,
targets in working time, and the tables that count only the time worked.

Small cases are exact (a burst at a known time, fixed durations); random scenarios check that
no unit ever works outside its calendar beyond the overtime it is allowed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine.driver import compile_scenario, replicate, run_replication
from sim.engine.spans import busy_spans
from sim.schema import scenario_from_dict
from tests.builders import one_town

OFFICE = {"hours": [7, 15.5], "days": ["mon", "tue", "wed", "thu", "fri"]}
MONDAY_15H = 900.0  # Monday 15:00, minutes from time 0
TUESDAY_7H = 1440.0 + 420.0


def works_town(**service: Any) -> dict[str, Any]:
    """One town, one crew on the office calendar, 5 min inside the town, and one request at
    Monday 15:00 taking 120 minutes on site (a burst; no random demand)."""
    data = one_town(
        calendars={"office": OFFICE},
        incident_types={
            "request": {"service": "amb", "rate_per_year": 0, "on_scene": 120},
        },
        bursts=[
            {"name": "one", "time": MONDAY_15H, "community": "a", "type": "request", "count": 1}
        ],
        run={"horizon": "10 d", "replications": 1, "seed": 1},
    )
    data["services"]["amb"].update({"calendar": "office", **service})
    return data


def first_incident(data: dict[str, Any]) -> pd.Series:
    compiled = compile_scenario(scenario_from_dict(data))
    incidents, units, _, _ = run_replication(compiled, 0, 1)
    return incidents.iloc[0], units.iloc[0]


def test_a_job_not_finished_at_closing_resumes_at_the_next_opening() -> None:
    inc, unit = first_incident(works_town())
    assert inc["t_first_arrival"] == MONDAY_15H + 5, "arrives at 15:05"
    # 25 of 120 minutes done by 15:30; Tuesday 07:00 the crew drives 5 min back, 95 min left
    assert inc["t_clear"] == TUESDAY_7H + 5 + 95, f"done Tuesday 08:40, got {inc['t_clear']}"
    assert (inc["pauses"], inc["overtime"]) == (1, 0.0), "paused once, no overtime"
    assert unit["busy_min"] == pytest.approx(30 + 100), "only the time worked is busy"
    # ten days from a Monday hold eight working days of 510 minutes
    assert unit["on_duty_min"] == pytest.approx(8 * 510), "on duty in office hours only"


def test_overtime_finishes_a_job_that_needs_little_more() -> None:
    inc, unit = first_incident(works_town(overtime=95))
    assert inc["t_clear"] == MONDAY_15H + 125, "95 min after closing are allowed: done 17:05"
    assert (inc["pauses"], inc["overtime"]) == (0, 95.0), "no pause, 95 min of overtime"
    assert unit["busy_min"] == pytest.approx(125)
    inc, _ = first_incident(works_town(overtime=94))
    assert inc["pauses"] == 1, "94 min of overtime are not enough: it pauses"


def test_a_request_out_of_hours_waits_for_the_opening() -> None:
    data = works_town()
    data["bursts"][0]["time"] = 5 * 1440 + 600  # Saturday 10:00
    inc, _ = first_incident(data)
    monday = 7 * 1440 + 420
    assert inc["t_dispatch"] == monday, "dispatched Monday 07:00"
    assert inc["t_clear"] == monday + 125, "and done by 09:05"


@pytest.mark.parametrize(("hours", "met"), [(2, False), (3, True)])
def test_targets_in_working_hours_count_working_time(hours: int, met: bool) -> None:
    data = works_town()
    data["incident_types"]["request"]["target"] = {"working_hours": hours, "share": 0.9}
    inc, _ = first_incident(data)
    # call 15:00 -> done Tuesday 08:40: 30 + 100 = 130 working minutes
    assert bool(inc["met_target"]) is met, f"130 working minutes against {hours} h"
    assert np.isnan(inc["target"]), "the clock target column stays empty"


@pytest.mark.parametrize(("days", "met"), [(0.25, False), (0.3, True)])
def test_targets_in_working_days_use_the_calendar_day(days: float, met: bool) -> None:
    data = works_town()
    data["incident_types"]["request"]["target"] = {"working_days": days, "share": 0.9}
    inc, _ = first_incident(data)
    assert bool(inc["met_target"]) is met, f"130 working minutes against {days} x 510 minutes"


def test_a_round_the_clock_calendar_changes_nothing() -> None:
    plain = one_town(run={"horizon": "20 d", "warmup": "1 d", "replications": 1, "seed": 5})
    always = one_town(
        run={"horizon": "20 d", "warmup": "1 d", "replications": 1, "seed": 5},
        calendars={
            "always": {"hours": [0, 24], "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}
        },
    )
    always["services"]["amb"]["calendar"] = "always"
    tables = [
        run_replication(compile_scenario(scenario_from_dict(d)), 0, 5) for d in (plain, always)
    ]
    for name, a, b in zip(("incidents", "units", "levels", "help"), *tables, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=name)


# --- invariant: no unit works outside its calendar ------------------------------------------


@st.composite
def calendar_towns(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(st.sampled_from([6, 7, 8, 9]))
    length = draw(st.sampled_from([4, 6.5, 8.5, 10]))
    days = draw(
        st.lists(
            st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat"]), min_size=1, unique=True
        )
    )
    data = one_town(
        communities={"a": {"population": 10_000}, "b": {"population": 5_000}},
        travel={"matrix": {"a": {"a": 5, "b": draw(st.integers(5, 40))}, "b": {"b": 6}}},
        calendars={"work": {"hours": [start, start + length], "days": days}},
        services={
            "amb": {
                "calendar": "work",
                "overtime": draw(st.sampled_from([0, 15, 60])),
                "units": [{"station": "a", "count": draw(st.integers(1, 2))}, {"station": "b"}],
            }
        },
        incident_types={
            "job": {
                "service": "amb",
                "rate_per_year": draw(st.sampled_from([300, 1500, 4000])),
                "turnout": draw(st.sampled_from([0, 10])),
                "on_scene": {
                    "dist": "lognormal",
                    "median": draw(st.sampled_from([30, 120, 400])),
                    "log_sd": 0.8,
                },
            }
        },
        run={
            "horizon": "21 d",
            "warmup": "1 d",
            "replications": 1,
            "seed": draw(st.integers(0, 99)),
        },
        options={
            "pooled": {
                "dispatch": {"all": {"policy": draw(st.sampled_from(["pooled", "separate"]))}}
            }
        },
    )
    return data


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=calendar_towns())
def test_no_unit_works_outside_its_calendar(data: dict[str, Any]) -> None:
    compiled = compile_scenario(scenario_from_dict(data))
    region, fleet = compiled.region, compiled.fleets["pooled"]
    records = replicate(compiled, 0, data["run"]["seed"]).records["pooled"]
    overtime = region.overtime[0]
    for u in range(fleet.size):
        duty = fleet.duty[u]
        mine = records.job_unit == u
        at = np.searchsorted(duty[:, 0], records.job_assigned[mine], side="right") - 1
        inside = (at >= 0) & (records.job_assigned[mine] < duty[np.maximum(at, 0), 1])
        assert inside.all(), f"unit {u} should be sent only while its calendar is open"
    spans = busy_spans(region, fleet, records)
    done = spans.end <= region.horizon
    for u in range(fleet.size):
        duty = fleet.duty[u]
        mine = (spans.unit == u) & done
        a, b = spans.start[mine], spans.end[mine]
        k = np.searchsorted(duty[:, 0], a, side="right") - 1
        outside = np.maximum(b - duty[np.maximum(k, 0), 1], 0.0)
        outside[k < 0] = (b - a)[k < 0]
        assert (outside <= overtime + 1e-6).all(), (
            f"unit {u} should work outside its calendar only in overtime (at most {overtime} "
            f"min), worked {outside.max():.1f} min"
        )
