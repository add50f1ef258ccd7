"""The per-slot arrays of a replication's incidents, and the engine reading them by name:
turnout and scene-trip noise per [incident, slot], the transport trip's noise per incident."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.engine.demand import generate_incidents
from sim.engine.driver import compile_scenario
from sim.engine.loop import simulate
from sim.schema import scenario_from_dict


def scenario() -> dict[str, Any]:
    """One town, a hospital 12 minutes away, noisy trips; 'med' needs one unit (and may be
    transported), 'fire' two: two unit slots."""
    return {
        "name": "views",
        "communities": {"a": {"population": 1000}},
        "facilities": {"h": {"location": {"x": 0, "y": 0}}},
        "travel": {"matrix": {"a": {"a": 6, "h": 12}, "h": {"h": 0}}, "noise": {"log_sd": 0.3}},
        "services": {"amb": {"units": [{"station": "a", "count": 40}]}},
        "incident_types": {
            "med": {
                "service": "amb",
                "rate_per_year": 2000,
                "turnout": {"dist": "uniform", "low": 1, "high": 2},
                "on_scene": 20,
                "transport": {"probability": 0.5, "facility": "h", "handover": 10},
            },
            "fire": {
                "service": "amb",
                "rate_per_year": 1000,
                "units_needed": 2,
                "turnout": {"dist": "uniform", "low": 3, "high": 4},
                "on_scene": 30,
            },
        },
        "run": {"horizon": "10 d", "seed": 4},
        "options": {"at_station": {"dispatch": {"amb": {"policy": "pooled", "from_road": False}}}},
    }


def compiled_run() -> tuple[Any, Any, Any]:
    compiled = compile_scenario(scenario_from_dict(scenario()))
    incidents = generate_incidents(compiled.region, 4, 0)
    rec = simulate(compiled.region, compiled.fleets["at_station"], incidents)
    return compiled, incidents, rec


def test_views_are_named_columns_of_the_noise_array() -> None:
    _, inc, _ = compiled_run()
    n = len(inc)
    assert inc.turnout.shape == (n, 2)
    assert inc.scene_noise.shape == (n, 2)
    assert inc.transport_noise.shape == (n,)
    assert np.shares_memory(inc.scene_noise, inc.noise)
    assert np.shares_memory(inc.transport_noise, inc.noise)
    med = inc.type == 0
    # a one-unit call leaves the second slot unused: no turnout, neutral noise
    assert np.isnan(inc.turnout[med, 1]).all()
    np.testing.assert_array_equal(inc.scene_noise[med, 1], 1.0)
    assert (inc.scene_noise[~med, 1] != 1.0).all(), "a two-unit call's second trip is noisy"
    assert (inc.transport_noise[med] != 1.0).all(), "the transport trip is noisy"


def test_engine_reads_each_slot_and_the_transport_trip() -> None:
    """With every unit at its station (plenty of units, from_road false): each unit's trip is
    the travel time times its slot's noise, after its slot's turnout; the transport adds the
    hospital trip times the transport noise and the handover."""
    _, inc, rec = compiled_run()
    assert (rec.units_sent == np.where(inc.type == 0, 1, 2)).all(), "every call fully served"
    assert (rec.t_dispatch == rec.t_ready).all(), "no call waited"
    slot = np.zeros(len(rec.job_incident), dtype=np.int64)
    seen: dict[int, int] = {}
    for j, i in enumerate(rec.job_incident):  # jobs are logged in dispatch order
        slot[j] = seen.get(int(i), 0)
        seen[int(i)] = slot[j] + 1
    i = rec.job_incident.astype(np.int64)
    turnout = inc.turnout[i, slot].astype(np.float64)
    trip = 6.0 * inc.scene_noise[i, slot].astype(np.float64)
    np.testing.assert_allclose(rec.job_arrive - rec.job_dispatch, turnout + trip, rtol=1e-12)
    med = inc.type == 0
    moved = med & inc.transport
    assert moved.sum() > 10
    to_h = 12.0 * inc.transport_noise[moved].astype(np.float64)
    scene = rec.t_first_arrival[moved] + 20.0
    np.testing.assert_allclose(rec.t_clear[moved], scene + to_h + 10.0, rtol=1e-12)
    stayed = med & ~inc.transport
    np.testing.assert_allclose(rec.t_clear[stayed], rec.t_first_arrival[stayed] + 20.0)
