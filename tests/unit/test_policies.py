"""Dispatch policies are objects: one class plus its registration, asked (never string-tested)
what they mean for queueing; the estimate, its warnings and the report ask the same object."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, get_args

import pandas as pd
import pytest

from sim.analysis.erlang import estimate, overload_warnings, queue_model
from sim.engine.demand import generate_incidents
from sim.engine.driver import compile_scenario
from sim.engine.loop import Engine, Unit, simulate
from sim.engine.policies import (
    OWN_FLEET,
    OWN_WITH_OVERFLOW,
    POLICIES,
    POOLED_REGION,
    MutualAid,
    Policy,
    Pool,
    Pooled,
    Separate,
    make_policy,
    policy_class,
    register,
)
from sim.model.dispatch import DispatchRule
from sim.report.tables import estimate_rows
from sim.schema import scenario as schema
from sim.schema import scenario_from_dict

# --- the registry ------------------------------------------------------------------------------


def test_every_policy_a_scenario_may_name_is_registered() -> None:
    assert set(POLICIES) == set(get_args(schema.Policy))
    for name, cls in POLICIES.items():
        assert cls.name == name
        assert issubclass(cls, Policy)


@pytest.mark.parametrize(
    ("name", "cls", "model", "wait", "load", "borrows"),
    [
        ("separate", Separate, OWN_FLEET, Pool.OWN, Pool.OWN, False),
        ("pooled", Pooled, POOLED_REGION, Pool.REGION, Pool.REGION, True),
        ("mutual_aid", MutualAid, OWN_WITH_OVERFLOW, Pool.OWN, Pool.REGION, True),
    ],
)
def test_each_policy_knows_its_queue_model(
    name: str, cls: type[Policy], model: Any, wait: Pool, load: Pool, borrows: bool
) -> None:
    assert policy_class(name) is cls
    assert queue_model(name) is model
    assert (model.wait, model.load, cls.borrows) == (wait, load, borrows)
    policy = make_policy(DispatchRule(policy=name, lenders=((1,), (0,))))
    assert type(policy) is cls


def test_pool_names_are_the_estimate_fleet_column() -> None:
    assert {p.value for p in Pool} == {"separate", "pooled"}


def test_unknown_policy_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown dispatch policy 'nearest'.*mutual_aid"):
        policy_class("nearest")


def test_a_name_is_registered_once() -> None:
    class Again(Separate):
        name = "separate"

    with pytest.raises(ValueError, match="registered twice"):
        register(Again)
    assert POLICIES["separate"] is Separate


# --- a new policy is one class and its registration ---------------------------------------------


class FirstFree(Policy):
    """Test policy: the free unit of lowest index, wherever it is; a freed unit takes the
    oldest call of the lowest community index."""

    name = "test_first_free"
    queue_model = POOLED_REGION
    borrows = True

    def choose_unit(
        self, view: Engine, service: int, community: int, place: int, t: float
    ) -> tuple[Unit, float] | None:
        free = view.free[service]
        return (free[min(free)], 0.0) if free else None

    def choose_call(self, view: Engine, unit: Unit, t: float) -> tuple[int, int, float] | None:
        for c in range(len(self.rule.lenders)):
            head = view.head(unit, c)
            if head is not None:
                return head[2], c, 0.0
        return None


@pytest.fixture
def first_free() -> Iterator[type[Policy]]:
    register(FirstFree)
    yield FirstFree
    del POLICIES[FirstFree.name]


def two_towns(policy: str, rates: dict[str, float], units: dict[str, int]) -> dict[str, Any]:
    """Towns a and b 20 minutes apart; an hour on scene; ``units`` ambulances each."""
    return {
        "name": "policies",
        "communities": {"a": {"population": 1000}, "b": {"population": 1000}},
        "travel": {"matrix": {"a": {"a": 0, "b": 20}, "b": {"b": 0}}},
        "services": {"amb": {"units": [{"station": c, "count": n} for c, n in units.items() if n]}},
        "incident_types": {
            "med": {"service": "amb", "rate_per_year": rates, "on_scene": 60, "turnout": 0}
        },
        "run": {"horizon": "20 d", "seed": 3},
        "options": {"only": {"dispatch": {"amb": {"policy": policy}}}},
    }


def test_the_engine_runs_a_registered_policy(first_free: type[Policy]) -> None:
    """Unit 0 is at a, unit 1 at b: pooled sends b's calls the unit at b when it is free,
    the test policy sends unit 0 whenever it is free."""
    data = two_towns("pooled", {"a": 0, "b": 2000}, {"a": 1, "b": 1})
    compiled = compile_scenario(scenario_from_dict(data))
    region, fleet = compiled.region, compiled.fleets["only"]
    incidents = generate_incidents(region, 3, 0)
    pooled = simulate(region, fleet, incidents)
    rule = dataclasses.replace(fleet.dispatch[0], policy=first_free.name)
    custom = simulate(region, dataclasses.replace(fleet, dispatch=(rule,)), incidents)
    assert len(incidents) > 50
    assert (pooled.job_unit == 1).mean() > 0.5, "pooled: mostly the unit at b"
    # the first call finds both free: the test policy takes unit 0, pooled unit 1
    first = int(pooled.job_incident[0])
    assert custom.job_incident[0] == first
    assert (pooled.job_unit[0], custom.job_unit[0]) == (1, 0)
    assert (custom.job_unit == 0).mean() > (pooled.job_unit == 0).mean()
    # and queueing questions about the new policy are answered by its class
    est = estimate(region, {"custom": dataclasses.replace(fleet, dispatch=(rule,))})
    assert set(est["policy"]) == {first_free.name}
    assert queue_model(first_free.name) is POOLED_REGION


# --- mutual aid: waits like its own fleet, carried by the region ------------------------------

BUSY_A = {"a": 2 * 8760, "b": 100}  # a: 2 calls an hour of an hour each on 1 unit: 2 Erlangs


@pytest.mark.parametrize(
    ("policy", "warned"),
    [("separate", ["community 'a'"]), ("mutual_aid", []), ("pooled", [])],
)
def test_overload_is_judged_on_the_fleet_that_carries_the_load(
    policy: str, warned: list[str]
) -> None:
    """a alone cannot keep up (2 Erlangs on 1 unit); the region can (2 on 4 units). Partners
    carry a's overflow under mutual aid, as under pooling: no warning."""
    compiled = compile_scenario(scenario_from_dict(two_towns(policy, BUSY_A, {"a": 1, "b": 3})))
    est = estimate(compiled.region, compiled.fleets)
    assert est[(est["community"] == "a") & (est["fleet"] == "separate")]["overloaded"].all()
    warnings = overload_warnings(est)
    assert len(warnings) == len(warned)
    for w, where in zip(warnings, warned, strict=True):
        assert where in w
        assert "overloaded" in w


def test_region_overload_is_warned_under_mutual_aid() -> None:
    rates = {"a": 2 * 8760, "b": 2 * 8760}  # 4 Erlangs on 3 units
    compiled = compile_scenario(
        scenario_from_dict(two_towns("mutual_aid", rates, {"a": 1, "b": 2}))
    )
    warnings = overload_warnings(estimate(compiled.region, compiled.fleets))
    assert len(warnings) == 1
    assert "in the region is overloaded" in warnings[0]


class Tables:
    """The part of a result directory that the estimate table of the report reads."""

    def __init__(self, est: pd.DataFrame, summary: pd.DataFrame) -> None:
        self.tables = {"estimate": est, "summary": summary}
        self.services = sorted(set(est["service"]))
        self.options = list(dict.fromkeys(est["option"]))

    def table(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def service_name(self, sid: str) -> str:
        return sid


def test_report_compares_the_simulation_with_the_fleet_a_call_waits_for() -> None:
    """Under mutual aid a call that finds its own units busy is not dispatched at once (it
    waits at least the request delay): its probability of waiting is its own fleet's."""
    rows = []
    for option in ("separate", "mutual_aid", "pooled"):
        for fleet, p in (("separate", 0.2), ("pooled", 0.01)):
            rows.append(
                {
                    "option": option,
                    "service": "amb",
                    "policy": option,
                    "community": "all",
                    "fleet": fleet,
                    "utilisation": 0.5,
                    "p_wait": p,
                }
            )
    summary = pd.DataFrame(
        {
            "community": "all",
            "priority": "all",
            "metric": "waited",
            "service": "amb",
            "option": ["separate", "mutual_aid", "pooled"],
            "mean": [0.19, 0.18, 0.011],
            "ci_low": float("nan"),
            "ci_high": float("nan"),
        }
    )
    data: Any = Tables(pd.DataFrame(rows), summary)
    out = {r["option"]: r for r in estimate_rows(data)}
    assert {o: r["p_wait"] for o, r in out.items()} == {
        "separate": "20.0 %",
        "mutual_aid": "20.0 %",
        "pooled": "1.0 %",
    }
    assert out["mutual_aid"]["model"] == OWN_WITH_OVERFLOW.description
    assert out["pooled"]["model"] == POOLED_REGION.description
    assert out["separate"]["model"] == OWN_FLEET.description
