"""Reusing a service's records between the options of a replication (sim.engine.reuse, merge).

Hypothesis builds small regions (2-3 communities and a hub, 2-3 services, shifts on whole
hours so that services change shift at the same instants, crews of two under mutual aid,
bursts at whole hours, a unit moved to the hub, an added unit, compliance-table move-up with
and without a tick) and 2-4 options that draw each service's configuration from a few
variants, so that some services repeat between options and others do not. Every option's
records from :func:`simulate_fleets` must equal those of a run of its whole fleet, field by
field, dtype included.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine.demand import Incidents
from sim.engine.driver import TABLES, Compiled, compile_scenario, records_tables, run_replication
from sim.engine.loop import EngineRecords, simulate
from sim.engine.merge import RECORD_FIELDS, canonical
from sim.engine.reuse import ENGINE_FIELDS, IGNORED_FIELDS, plan_reuse, service_key, simulate_fleets
from sim.model.compile import Fleet
from sim.schema import load_scenario, scenario_from_dict
from tests.builders import FIVE_VALLEYS, THREE_TOWNS, three_towns

TOWNS = THREE_TOWNS
QUEUE_RULES = ("oldest", "nearest")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _assert_same(got: EngineRecords, want: EngineRecords, what: str) -> None:
    for f in dataclasses.fields(EngineRecords):
        a, b = getattr(got, f.name), getattr(want, f.name)
        assert a.dtype == b.dtype, f"{what}: {f.name} is {a.dtype}, a full run gives {b.dtype}"
        np.testing.assert_array_equal(a, b, err_msg=f"{what}: {f.name}")


def _incident_service(compiled: Compiled, inc: Incidents) -> np.ndarray:
    return np.array([t.service for t in compiled.region.types])[inc.type]


def _full(compiled: Compiled, fleet: Fleet, inc: Incidents) -> EngineRecords:
    n = len(compiled.region.services)
    return canonical(
        simulate(compiled.region, fleet, inc), fleet, _incident_service(compiled, inc), n
    )


# --- random regions and options ----------------------------------------------------------------


@st.composite
def shifts(draw: st.DrawFn) -> dict[str, Any] | None:
    if draw(st.booleans()):
        return None
    start = draw(st.sampled_from([0, 6, 8, 16]))
    end = draw(st.sampled_from([h for h in (8, 16, 20, 24) if h != start]))
    return {"hours": [start, end], "days": draw(st.sampled_from([WEEKDAYS, WEEKDAYS[:5]]))}


@st.composite
def variants(draw: st.DrawFn, service: str, crews: bool) -> dict[str, Any]:
    """One configuration of ``service`` in an option: a dispatch rule, perhaps with move-up,
    perhaps a unit moved to the hub or added there."""
    policy = draw(st.sampled_from(["pooled", "mutual_aid"] + ([] if crews else ["separate"])))
    rule: dict[str, Any] = {"policy": policy, "queue_rule": draw(st.sampled_from(QUEUE_RULES))}
    if policy == "mutual_aid":
        rule["request_delay"] = draw(st.sampled_from([0, 2, 5]))
        rule["reserve"] = draw(st.integers(0, 1))
    if policy != "separate" and draw(st.booleans()):
        rule["relocation"] = {
            "policy": "compliance_table",
            "table": {1: ["hub"], 2: ["a", "hub"]},
            "min_interval": draw(st.sampled_from([0, 20])),
        }
        if draw(st.booleans()):
            rule["relocation"]["tick"] = draw(st.sampled_from([30, 60]))
    out: dict[str, Any] = {"dispatch": rule}
    change = draw(st.sampled_from(["none", "move", "add"]))
    if change == "move":
        town = draw(st.sampled_from(TOWNS))
        out["move_units"] = [{"service": service, "from_station": town, "to_station": "hub"}]
    elif change == "add":
        added = {"service": service, "station": "hub", "owner": draw(st.sampled_from(TOWNS))}
        out["add_units"] = [{**added, "duty": draw(shifts())} if draw(st.booleans()) else added]
    return out


@st.composite
def near_copy(draw: st.DrawFn, variant: dict[str, Any]) -> dict[str, Any]:
    """``variant`` with one thing changed, which the key must see: a rule's parameter, the
    move-up's tick or interval, the shift or owner of an added unit, the unit moved."""
    out = copy.deepcopy(variant)
    rule = out["dispatch"]
    reloc, added, moved = rule.get("relocation"), out.get("add_units"), out.get("move_units")
    choices = ["queue"] + ["delay"] * (rule["policy"] == "mutual_aid")
    choices += ["tick", "interval"] * (reloc is not None) + ["duty", "owner"] * bool(added)
    choices += ["move"] * bool(moved)
    what = draw(st.sampled_from(choices))
    if what == "delay":
        rule["request_delay"] += 1
    elif what == "tick":
        reloc["tick"] = 45 if reloc.get("tick") != 45 else 30
    elif what == "interval":
        reloc["min_interval"] += 10
    elif what == "duty":
        shift = {"hours": [8, 16], "days": WEEKDAYS}
        added[0]["duty"] = shift if added[0].get("duty") != shift else {**shift, "hours": [8, 20]}
    elif what == "owner":
        added[0]["owner"] = TOWNS[(TOWNS.index(added[0]["owner"]) + 1) % len(TOWNS)]
    elif what == "move":
        town = moved[0]["from_station"]
        moved[0]["from_station"] = TOWNS[(TOWNS.index(town) + 1) % len(TOWNS)]
    else:
        rule["queue_rule"] = next(q for q in QUEUE_RULES if q != rule["queue_rule"])
    return out


@st.composite
def region_and_options(draw: st.DrawFn) -> dict[str, Any]:
    services = [f"s{j}" for j in range(draw(st.integers(2, 3)))]
    crews = {s: draw(st.booleans()) for s in services}  # calls needing two units
    types: dict[str, Any] = {}
    units: dict[str, Any] = {}
    for s in services:
        types[f"{s}_call"] = {
            "service": s,
            "units_needed": 2 if crews[s] else 1,
            "rate_per_year": {t: draw(st.sampled_from([500, 2000, 6000])) for t in TOWNS},
            "call_handling": draw(st.sampled_from([0, 1, {"dist": "exponential", "mean": 1}])),
            "on_scene": {"dist": "exponential", "mean": draw(st.sampled_from([20, 60]))},
            "target": {"minutes": 10, "share": 0.9},
        }
        count = 2 if crews[s] else 1  # enough for a crew in each town, whatever the policy
        units[s] = {
            "units": [
                {
                    k: v
                    for k, v in {"station": t, "count": count, "duty": draw(shifts())}.items()
                    if v
                }
                for t in TOWNS
            ]
        }
    pools = {}
    for s in services:
        first = draw(variants(s, crews[s]))
        other = draw(st.lists(variants(s, crews[s]), max_size=1))  # perhaps one more
        pools[s] = [first, draw(near_copy(first)), *other]
    options = {}
    for o in range(draw(st.integers(2, 4))):
        picked = {s: draw(st.sampled_from(pools[s])) for s in services}
        option: dict[str, Any] = {"dispatch": {s: v["dispatch"] for s, v in picked.items()}}
        for key in ("move_units", "add_units"):
            changes = [c for v in picked.values() for c in v.get(key, [])]
            if changes:
                option[key] = changes
        options[f"opt{o}"] = option
    data = three_towns(
        services=units,
        incident_types=types,
        options=options,
        run={"horizon": "4 d", "warmup": "0 d", "replications": 1, "seed": draw(st.integers(0, 9))},
    )
    if draw(st.booleans()):  # calls at the very instant of shift changes and ticks
        data["bursts"] = [
            {
                "name": f"burst_{s}",
                "time": f"{draw(st.sampled_from([8, 16, 32]))} h",
                "community": draw(st.sampled_from(TOWNS)),
                "type": f"{s}_call",
                "count": draw(st.integers(1, 4)),
                "spread": 0,
            }
            for s in services
        ]
    return data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(region_and_options())
def test_reused_records_are_those_of_a_full_run(data: dict[str, Any]) -> None:
    compiled = compile_scenario(scenario_from_dict(data))
    region, fleets = compiled.region, list(compiled.fleets.values())
    inc = compiled.source(region, compiled.scenario.run.seed, 0)
    for fleet, got in zip(fleets, simulate_fleets(region, fleets, inc), strict=True):
        _assert_same(got, _full(compiled, fleet, inc), f"option {fleet.option}")
    # each service alone gives it the records of the whole fleet's run
    fleet = fleets[-1]
    whole = simulate(region, fleet, inc)
    service = _incident_service(compiled, inc)
    for s in range(len(region.services)):
        alone = simulate(region, fleet, inc, [s])
        mine = service == s
        for name in ("t_dispatch", "t_first_arrival", "t_clear", "first_unit", "units_sent"):
            np.testing.assert_array_equal(getattr(alone, name)[mine], getattr(whole, name)[mine])
        assert (alone.units_sent[~mine] == 0).all(), "a run of one service answered another's calls"
        theirs = fleet.service[whole.job_unit] == s
        np.testing.assert_array_equal(alone.job_unit, whole.job_unit[theirs])
        np.testing.assert_array_equal(alone.job_free, whole.job_free[theirs])
        np.testing.assert_array_equal(
            alone.move_start, whole.move_start[fleet.service[whole.move_unit] == s]
        )


# --- Five Valleys -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def valleys() -> Compiled:
    return compile_scenario(load_scenario(FIVE_VALLEYS))


def test_five_valleys_simulates_each_distinct_service_once(valleys: Compiled) -> None:
    """Mutual aid repeats police, public works and social services of separate; the hub
    option repeats every service of pooled but ambulance: 7 of 20 runs."""
    services = list(valleys.region.services)
    plan = plan_reuse(list(valleys.fleets.values()), len(services))
    named = [{services[s]: list(valleys.fleets)[j] for s, j in p.items()} for p in plan]
    assert named == [
        {},
        {"police": "separate", "public_works": "separate", "social_services": "separate"},
        {},
        {s: "pooled" for s in ("fire", "police", "public_works", "social_services")},
    ]


def test_five_valleys_tables_are_those_of_full_runs(valleys: Compiled) -> None:
    """Shorter: two options of 30 days, the hub's reusing pooled's four services."""
    short = dataclasses.replace(valleys.region, horizon=30 * 1440.0, warmup=1440.0)
    compiled = dataclasses.replace(valleys.only(["pooled", "regional_hub"]), region=short)
    inc = compiled.source(short, 3, 0)
    got = list(simulate_fleets(short, list(compiled.fleets.values()), inc))
    for fleet, records in zip(compiled.fleets.values(), got, strict=True):
        _assert_same(records, _full(compiled, fleet, inc), fleet.option)
    tables = run_replication(compiled, 0, 3)
    for fleet in compiled.fleets.values():
        full = records_tables(short, fleet, inc, _full(compiled, fleet, inc), 0)
        for name, got, want in zip(TABLES, tables, full, strict=True):
            mine = got[got["option"] == fleet.option].reset_index(drop=True)
            pd.testing.assert_frame_equal(mine, want, check_categorical=False, obj=name)


# --- the key ------------------------------------------------------------------------------------


def test_the_key_reads_every_field_of_a_fleet_and_of_the_records() -> None:
    """A new field must be placed: read by the engine (in the key), or never read."""
    known = {*ENGINE_FIELDS, *IGNORED_FIELDS, "workers"}
    assert {f.name for f in dataclasses.fields(Fleet)} == known
    assert {f.name for f in dataclasses.fields(EngineRecords)} == set(RECORD_FIELDS)


def test_the_key_tells_apart_one_station_one_rule_and_one_shift(valleys: Compiled) -> None:
    fleet = valleys.fleets["separate"]
    police = valleys.region.services.index("police")
    units = np.flatnonzero(fleet.service == police)
    key = service_key(fleet, police)
    assert key is not None
    # names and costs are never compared: a renamed, dearer copy shares
    renamed = dataclasses.replace(
        fleet,
        option="other",
        labels=tuple(f"x{u}" for u in range(fleet.size)),
        cost_per_hour=fleet.cost_per_hour * 2,
    )
    assert service_key(renamed, police) == key
    station = fleet.station.copy()
    station[units[-1]] += 1
    assert service_key(dataclasses.replace(fleet, station=station), police) != key, "a station"
    owner = fleet.owner.copy()
    owner[units[0]] = (owner[units[0]] + 1) % len(valleys.region.communities)
    assert service_key(dataclasses.replace(fleet, owner=owner), police) != key, "an owner"
    duty = list(fleet.duty)
    duty[units[1]] = duty[units[1]] + 1.0  # its shifts a minute later
    assert service_key(dataclasses.replace(fleet, duty=tuple(duty)), police) != key, "a shift"
    for change in (
        {"request_delay": 0.5},
        {"reserve": 1},
        {"max_travel": 29.0},
        {"from_road": False},
    ):
        dispatch = list(fleet.dispatch)
        dispatch[police] = dataclasses.replace(dispatch[police], **change)
        other = dataclasses.replace(fleet, dispatch=tuple(dispatch))
        assert service_key(other, police) != key, f"rule changed by {change}"


def test_a_value_without_an_exact_comparison_is_never_shared(valleys: Compiled) -> None:
    fleet = valleys.fleets["separate"]
    dispatch = list(fleet.dispatch)
    dispatch[0] = dataclasses.replace(dispatch[0], reserve=object())  # type: ignore[arg-type]
    assert service_key(dataclasses.replace(fleet, dispatch=tuple(dispatch)), 0) is None
    nan = dataclasses.replace(dispatch[1], max_travel=float("nan"))
    dispatch[1] = nan
    assert service_key(dataclasses.replace(fleet, dispatch=tuple(dispatch)), 1) is None
    plan = plan_reuse([fleet, dataclasses.replace(fleet, dispatch=tuple(dispatch))], 5)
    assert set(plan[1]) == {2, 3, 4}, "services 0 and 1 have no exact value: simulated again"


# --- another service's records ------------------------------------------------------------------


def twins() -> dict[str, Any]:
    """Two services alike in every unit and rule, with different calls: a key without the
    service, or a merge taking the wrong rows, would hand one the other's records."""
    services = {s: {"units": [{"station": t} for t in TOWNS]} for s in ("x", "y")}
    types = {
        "x_call": {"service": "x", "rate_per_year": {t: 4000 for t in TOWNS}, "on_scene": 30},
        "y_call": {"service": "y", "rate_per_year": {t: 1000 for t in TOWNS}, "on_scene": 90},
    }
    return three_towns(
        services=services,
        incident_types=types,
        options={
            "first": {"dispatch": {"all": {"policy": "pooled"}}},
            "second": {
                "dispatch": {"all": {"policy": "pooled"}},
                "add_units": [{"service": "x", "station": "b"}],
            },
            "third": {"dispatch": {"all": {"policy": "pooled"}}},
        },
        run={"horizon": "10 d", "warmup": "0 d", "replications": 1, "seed": 8},
    )


def test_reuse_never_hands_a_service_another_services_records() -> None:
    compiled = compile_scenario(scenario_from_dict(twins()))
    region, fleets = compiled.region, list(compiled.fleets.values())
    assert plan_reuse(fleets, 2) == [{}, {1: 0}, {0: 0, 1: 0}]
    inc = compiled.source(region, 8, 0)
    service = _incident_service(compiled, inc)
    for fleet, got in zip(fleets, simulate_fleets(region, fleets, inc), strict=True):
        sent = got.first_unit >= 0
        assert (fleet.service[got.first_unit[sent]] == service[sent]).all(), fleet.option
        assert (fleet.service[got.job_unit] == service[got.job_incident]).all(), fleet.option
        _assert_same(got, _full(compiled, fleet, inc), fleet.option)


# --- jobs of different services at one instant --------------------------------------------------


def ties() -> dict[str, Any]:
    """Two bursts of two calls each at 8:00 sharp, the second service's declared first: its
    calls come first in the call order, and four jobs are assigned at 480.0."""
    scenario = twins()
    scenario["incident_types"] = {
        f"{s}_call": {
            "service": s,
            "rate_per_year": {t: 200 for t in TOWNS},
            "on_scene": 30,
            "call_handling": 0,
        }
        for s in ("y", "x")
    }
    scenario["bursts"] = [
        {"name": s, "time": "8 h", "community": "a", "type": f"{s}_call", "count": 2, "spread": 0}
        for s in ("y", "x")
    ]
    scenario["options"] = {
        "pooled": {"dispatch": {"all": {"policy": "pooled"}}},
        "x_separate": {"dispatch": {"all": {"policy": "pooled"}, "x": {"policy": "separate"}}},
    }
    scenario["run"]["horizon"] = "2 d"
    return scenario


def test_jobs_of_one_instant_are_in_the_order_of_their_services() -> None:
    compiled = compile_scenario(scenario_from_dict(ties()))
    region, fleets = compiled.region, list(compiled.fleets.values())
    inc = compiled.source(region, 8, 0)
    fleet = fleets[0]
    raw = simulate(region, fleet, inc)
    at = np.flatnonzero(raw.job_assigned == 480.0)
    assert fleet.service[raw.job_unit[at]].tolist() == [1, 1, 0, 0], "the run's own order"
    ordered = canonical(raw, fleet, _incident_service(compiled, inc), 2)
    at_8 = ordered.job_assigned == 480.0
    assert fleet.service[ordered.job_unit[at_8]].tolist() == [0, 0, 1, 1]
    for s in (0, 1):  # each service's jobs keep the order of the run
        mine, theirs = fleet.service[raw.job_unit] == s, fleet.service[ordered.job_unit] == s
        np.testing.assert_array_equal(ordered.job_incident[theirs], raw.job_incident[mine])
    for name, a, b in zip(
        TABLES,
        records_tables(region, fleet, inc, raw, 0),
        records_tables(region, fleet, inc, ordered, 0),
        strict=True,
    ):
        pd.testing.assert_frame_equal(a, b, obj=f"{name}: the order of jobs changes no table")
    assert plan_reuse(fleets, 2) == [{}, {1: 0}]
    for fleet, got in zip(fleets, simulate_fleets(region, fleets, inc), strict=True):
        _assert_same(got, _full(compiled, fleet, inc), fleet.option)
