"""The engine's fast paths give the records of its general path, bit for bit.

A call of a plain service (jobs straight through, back to a fixed station, available on the
way back) that needs one unit is answered by its policy's finder, or chosen by its policy, and
sent by ``Engine._send``; a unit of such a service is freed inline; a single unit's job log
row is filled in from its call's records after the run. ``Engine(..., fast=False)`` takes
the general way everywhere. Both run on the random scenarios of the invariants test, and on
the same scenarios with every duration and trip a whole number of five minutes and every call
on a five-minute mark, so that frees, calls and shift changes meet at the same instant; and
on the shipped regions, whose zones place returning units at the zones of their way and whose
hour factors change speeds.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sim.engine.demand import generate_incidents
from sim.engine.driver import compile_scenario
from sim.engine.loop import Engine, EngineRecords
from sim.errors import ScenarioError
from sim.schema import scenario_from_dict
from tests.builders import shipped
from tests.unit.test_engine_invariants import scenarios

STEP = 5  # minutes: the grid that tied scenarios put every time on


def tied(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with every duration and trip a whole number of STEP minutes, no travel noise
    and flat speed: frees land on the same instants as calls and shift changes."""
    out = copy.deepcopy(data)

    def whole(spec: Any, least: int = 0) -> int:
        mean = spec.get("mean", spec.get("low", 1)) if isinstance(spec, dict) else spec
        return max(STEP * round(mean / STEP), least)

    for t in out["incident_types"].values():
        t["call_handling"], t["turnout"] = whole(t["call_handling"]), whole(t["turnout"])
        t["on_scene"] = whole(t["on_scene"], STEP)
        if "transport" in t:
            t["transport"]["handover"] = whole(t["transport"]["handover"])
    out["travel"]["matrix"] = {
        a: {b: whole(v) for b, v in row.items()} for a, row in out["travel"]["matrix"].items()
    }
    out["travel"].pop("noise", None)
    out["travel"].pop("hour_factors", None)
    return out


def same_records(fast: EngineRecords, general: EngineRecords) -> None:
    for f in dataclasses.fields(general):
        x, y = getattr(fast, f.name), getattr(general, f.name)
        assert x.dtype == y.dtype, f.name
        assert x.shape == y.shape, f.name
        assert np.array_equal(x, y, equal_nan=True), f"{f.name} differs"


@pytest.mark.slow
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenarios(), st.booleans())
def test_fast_paths_give_the_records_of_the_general_path(
    data: dict[str, Any], on_the_grid: bool
) -> None:
    if on_the_grid:
        data = tied(data)
    try:
        compiled = compile_scenario(scenario_from_dict(data))
    except ScenarioError as exc:  # refused: some calls of an option could never be served
        assume("could never be served" not in str(exc))
        raise
    region = compiled.region
    inc = generate_incidents(region, data["run"]["seed"], 0)
    if on_the_grid:
        inc = dataclasses.replace(inc, t_call=STEP * np.floor(inc.t_call / STEP))
    for fleet in compiled.fleets.values():
        same_records(Engine(region, fleet, inc).run(), Engine(region, fleet, inc, fast=False).run())


@pytest.mark.parametrize(
    ("name", "zones"),
    [
        ("five_valleys", True),
        ("five_valleys_moveup", True),
        ("five_valleys_services", False),
        ("windstorm", False),
    ],
)
def test_fast_paths_on_the_shipped_regions(name: str, zones: bool) -> None:
    """Also where ambulances are moved between posts (``five_valleys_moveup``): their calls
    take the fast path and are answered at once too, the relocation rule asked after each."""
    data = shipped(name, horizon="20 d", warmup="0 d")
    compiled = compile_scenario(scenario_from_dict(data))
    region = compiled.region
    assert (region.snapper is not None) == zones  # returning units at the zones of their way
    assert not np.all(region.hour_factors == 1.0)  # speeds change by the hour
    inc = generate_incidents(region, 3, 0)
    for fleet in compiled.fleets.values():
        same_records(Engine(region, fleet, inc).run(), Engine(region, fleet, inc, fast=False).run())


@pytest.mark.slow
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenarios())
def test_a_run_of_one_service_keeps_the_clock_of_the_whole_run_on_the_grid(
    data: dict[str, Any],
) -> None:
    """Other services' calls are stepped over, several at once when they come before every
    scheduled event; on the grid they meet frees and shift changes at the same instant, where
    only the order SimPy gives events keeps the records of the whole run."""
    data = tied(data)
    assume(len(data["services"]) > 1)
    try:
        compiled = compile_scenario(scenario_from_dict(data))
    except ScenarioError as exc:
        assume("could never be served" not in str(exc))
        raise
    region = compiled.region
    inc = generate_incidents(region, data["run"]["seed"], 0)
    inc = dataclasses.replace(inc, t_call=STEP * np.floor(inc.t_call / STEP))
    service = np.array([t.service for t in region.types])[inc.type]
    for fleet in compiled.fleets.values():
        whole = Engine(region, fleet, inc).run()
        for s in range(len(region.services)):
            alone = Engine(region, fleet, inc, services=[s]).run()
            mine, theirs = service == s, fleet.service[whole.job_unit] == s
            for name in ("t_dispatch", "t_first_arrival", "t_clear", "first_unit", "units_sent"):
                x, y = getattr(alone, name)[mine], getattr(whole, name)[mine]
                assert np.array_equal(x, y, equal_nan=True), name
            assert np.array_equal(alone.job_unit, whole.job_unit[theirs])
            assert np.array_equal(alone.job_free, whole.job_free[theirs])


def test_a_run_leaves_what_was_alive_before_it_to_the_end_and_gives_it_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``simulate`` spares the collector's full passes the objects alive before the run (the
    region, the incidents, the modules) and hands them back when it ends, even on an error."""
    import gc

    import sim.engine.loop as loop

    compiled = compile_scenario(scenario_from_dict(shipped("two_towns", horizon="20 d", warmup=0)))
    region, fleet = compiled.region, next(iter(compiled.fleets.values()))
    calls = generate_incidents(region, 1, 0)
    seen: list[int] = []
    run = Engine.run

    def watched(self: Engine) -> EngineRecords:
        seen.append(gc.get_freeze_count())
        return run(self)

    monkeypatch.setattr(Engine, "run", watched)
    assert gc.get_freeze_count() == 0
    loop.simulate(region, fleet, calls)
    assert seen[0] > 1000, "the objects alive before the run are out of the collector's sight"
    assert gc.get_freeze_count() == 0, "and back in it after"

    def broken(self: Engine) -> EngineRecords:
        raise RuntimeError("mid-run")

    monkeypatch.setattr(Engine, "run", broken)
    with pytest.raises(RuntimeError, match="mid-run"):
        loop.simulate(region, fleet, calls)
    assert gc.get_freeze_count() == 0, "an error gives them back too"
