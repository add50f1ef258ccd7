"""Move-up against theory: a midpoint post computed by hand, and more moves never hurting.

**Midpoint.** Two stations, A and B, 20 minutes apart, each town's calls at its centre; A has
no ambulance in service, B's covers both towns. With a compliance table of one row (one free
unit: the midpoint post M) and ``return_to: post``, the unit waits at M between calls. The
trip to M is 0 minutes in the matrix (an asymmetric one: M -> either town is 10), so the unit
stands at M whenever it is free, and every job is the 10-minute trip plus an exponential time
on scene: an M/G/1 queue with service S = 10 + Exp(mean 50). Pollaczek-Khinchine gives the
mean wait lambda E[S^2] / (2 (1 - rho)), and the mean response adds the 10-minute trip. The
unit covers both towns (target 12 min) exactly while it is free, so each town's uncovered
share of time is the utilisation rho.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.analysis.stats import half_width
from sim.engine.driver import compile_scenario, run_replication
from sim.schema.load import scenario_from_dict

MEAN_SCENE = 50.0
TRIP = 10.0
CALLS_PER_MINUTE = 0.4 / 60  # both towns together: rho = 0.4
REPLICATIONS = 6


def midpoint(relocation: dict[str, object] | None) -> dict[str, object]:
    rule: dict[str, object] = {"policy": "pooled"}
    if relocation is not None:
        rule["relocation"] = relocation
    per_town = CALLS_PER_MINUTE / 2 * 525_600
    return {
        "name": "midpoint",
        "communities": {"a": {"population": 10_000}, "b": {"population": 10_000}},
        "stations": {"m": {"location": {"x": 10, "y": 0}}},
        "travel": {
            "matrix": {
                "a": {"a": 0, "b": 20, "m": 0},
                "b": {"a": 20, "b": 0, "m": 0},
                "m": {"a": TRIP, "b": TRIP, "m": 0},
            }
        },
        "services": {"amb": {"units": [{"station": "b"}]}},
        "incident_types": {
            "med": {
                "service": "amb",
                "rate_per_year": per_town,
                "on_scene": {"dist": "exponential", "mean": MEAN_SCENE},
                "target": {"minutes": 12, "share": 0.9},
            }
        },
        "options": {"moveup": {"dispatch": {"amb": rule}}},
        "run": {"horizon": "365 d", "warmup": "10 d", "replications": REPLICATIONS, "seed": 5},
    }


def _per_replication(data: dict[str, object]) -> tuple[np.ndarray, np.ndarray]:
    """Mean response and uncovered share (both towns) of each replication."""
    compiled = compile_scenario(scenario_from_dict(data))
    responses, uncovered = [], []
    for r in range(REPLICATIONS):
        inc, cov = run_replication(compiled, r, 5, ("incidents", "coverage"))
        counted = inc[~inc["warmup"]]
        responses.append(float(counted["response"].mean()))
        uncovered.append(float((cov["uncovered_min"] / cov["window_min"]).mean()))
    return np.array(responses), np.array(uncovered)


def test_midpoint_post_matches_pollaczek_khinchine() -> None:
    rho = CALLS_PER_MINUTE * (TRIP + MEAN_SCENE)
    second_moment = TRIP**2 + 2 * TRIP * MEAN_SCENE + 2 * MEAN_SCENE**2
    expected = CALLS_PER_MINUTE * second_moment / (2 * (1 - rho)) + TRIP
    table = {"policy": "compliance_table", "table": {1: ["m"]}, "return_to": "post"}
    responses, uncovered = _per_replication(midpoint(table))
    half = half_width(responses)
    assert abs(responses.mean() - expected) <= half, (
        f"mean response with the unit at the midpoint should be the M/G/1 value "
        f"{expected:.2f} min within the 95 % CI; got {responses.mean():.2f} +/- {half:.2f}"
    )
    half_u = half_width(uncovered)
    assert abs(uncovered.mean() - rho) <= half_u, (
        f"each town should be uncovered exactly while the unit is busy (rho = {rho:.3f}); "
        f"got {uncovered.mean():.4f} +/- {half_u:.4f}"
    )


def test_without_move_up_town_a_is_never_covered() -> None:
    """The unit stays at B, 20 min from A (target 12): A is uncovered all the time."""
    compiled = compile_scenario(scenario_from_dict(midpoint(None)))
    (cov,) = run_replication(compiled, 0, 5, ("coverage",))
    share = dict(zip(cov["community"], cov["uncovered_min"] / cov["window_min"], strict=True))
    assert share["a"] == pytest.approx(1.0), f"town a should always be uncovered, got {share}"
    assert share["b"] < 1.0, f"town b should be covered while its unit stands at B: {share}"


def line_region(max_moves: int) -> dict[str, object]:
    """Three towns on a line, 12 minutes apart, one ambulance each, pooled, and two posts
    halfway between them; a unit covers its town (target 8 min) or, from a post, the two
    towns beside it. The coverage policy may move at most ``max_moves`` units per event."""
    places = {"west": 0.0, "wm": 6.0, "mid": 12.0, "me": 18.0, "east": 24.0}
    matrix = {
        a: {b: 2.0 if a == b else abs(x - y) for b, y in places.items()} for a, x in places.items()
    }
    relocation = {"policy": "coverage", "posts": ["wm", "me"], "max_moves": max_moves}
    towns = ("west", "mid", "east")
    return {
        "name": "line",
        "communities": {t: {"population": 10_000} for t in towns},
        "stations": {p: {"location": {"x": places[p], "y": 0.0}} for p in ("wm", "me")},
        "travel": {"matrix": matrix},
        "services": {"amb": {"units": [{"station": t} for t in towns]}},
        "incident_types": {
            "med": {
                "service": "amb",
                "rate_per_year": {"west": 3000, "mid": 3000, "east": 3000},
                "on_scene": {"dist": "exponential", "mean": 45},
                "target": {"minutes": 8, "share": 0.9},
            }
        },
        "options": {"moves": {"dispatch": {"amb": {"policy": "pooled", "relocation": relocation}}}},
        "run": {"horizon": "120 d", "warmup": "5 d", "replications": 4, "seed": 9},
    }


def test_more_moves_never_increase_uncovered_time() -> None:
    totals = {}
    for m in (0, 1, 2):
        compiled = compile_scenario(scenario_from_dict(line_region(m)))
        totals[m] = np.array(
            [
                float(run_replication(compiled, r, 9, ("coverage",))[0]["uncovered_min"].sum())
                for r in range(4)
            ]
        )
    for fewer, more in ((0, 1), (1, 2)):
        diff = totals[more] - totals[fewer]
        assert diff.mean() <= half_width(diff), (
            f"allowing {more} moves per event should not increase uncovered time over {fewer}: "
            f"paired difference {diff.mean():.0f} +/- {half_width(diff):.0f} min"
        )
    gain = totals[0] - totals[1]
    assert gain.mean() > half_width(gain), (
        f"moving units should reduce uncovered time on the line: {gain.mean():.0f} +/- "
        f"{half_width(gain):.0f} min"
    )
