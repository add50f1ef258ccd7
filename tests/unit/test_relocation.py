"""Move-up: invariants of the moves, cross-border rules, ``none`` changing nothing, bad input.

A small region of three towns with one ambulance each, a regional post and a compliance
table that moves units on almost every call, under each dispatch policy.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.engine import relocation
from sim.engine.driver import compile_scenario, replicate, run_replication
from sim.errors import ScenarioError
from sim.schema.load import load_scenario, scenario_from_dict
from tests.builders import THREE_TOWNS, three_towns

TOWNS = THREE_TOWNS
MIN_INTERVAL = 20.0


def region(policy: str, reloc: dict[str, Any] | None) -> dict[str, Any]:
    rule: dict[str, Any] = {"policy": policy}
    if reloc is not None:
        rule["relocation"] = reloc
    return three_towns(
        services={"amb": {"units": [{"station": t} for t in TOWNS]}},
        incident_types={
            "med": {
                "service": "amb",
                "rate_per_year": {"a": 3000, "b": 2000, "c": 1000},
                "on_scene": {"dist": "exponential", "mean": 40},
                "target": {"minutes": 8, "share": 0.9},
            }
        },
        options={"x": {"dispatch": {"amb": rule}}},
        run={"horizon": "40 d", "warmup": "2 d", "replications": 1, "seed": 4},
    )


TABLE = {
    "policy": "compliance_table",
    "table": {1: ["hub"], 2: ["a", "hub"], 3: ["a", "b", "c"]},
    "min_interval": MIN_INTERVAL,
}


def _records(data: dict[str, Any]) -> tuple[Any, Any, Any]:
    compiled = compile_scenario(scenario_from_dict(data))
    rep = replicate(compiled, 0, 4)
    return compiled, rep.incidents, rep.records["x"]


@pytest.mark.parametrize("policy", ["separate", "mutual_aid", "pooled"])
def test_a_unit_moves_only_while_free_and_never_too_often(policy: str) -> None:
    _, _, rec = _records(region(policy, TABLE))
    assert len(rec.move_unit) > 50, f"the table should move units often: {len(rec.move_unit)}"
    for u in range(len(TOWNS)):
        starts = rec.move_start[rec.move_unit == u]
        assert (np.diff(starts) >= MIN_INTERVAL - 1e-9).all(), (
            f"unit {u} moved twice within min_interval {MIN_INTERVAL}: {np.diff(starts).min()}"
        )
        jobs = rec.job_unit == u
        busy = np.column_stack([rec.job_assigned[jobs], rec.job_free[jobs]])
        inside = [(a < t < b) for t in starts for a, b in busy]
        assert not any(inside), f"unit {u} started a move while on a job (in two places)"


def test_a_unit_moved_under_separate_never_serves_its_host() -> None:
    compiled, inc, rec = _records(region("separate", TABLE))
    owner = compiled.fleets["x"].owner[rec.job_unit]
    assert (owner == inc.community[rec.job_incident]).all(), (
        "under separate every job should be for the unit's own community, moved or not"
    )
    assert (compiled.fleets["x"].owner[rec.move_unit] >= 0).all()


def test_moves_respect_the_cap_and_move_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checked at every move, in the engine: no unit of 'c' ever leaves it, and at most one
    unit of each other town is at (or heading to) a post outside it."""
    reloc = {**TABLE, "cross_border": {"max_out": 1}, "by_community": {"c": {"move_out": False}}}
    seen: list[int] = []
    apply = relocation.Mover._apply

    def checked(self: relocation.Mover, view: Any, unit: Any, post: int, t: float) -> None:
        apply(self, view, unit, post, t)
        c = view.region.communities.index("c")
        assert not (unit.owner == c and self.out(unit, post)), "a unit of c left it"
        for owner, units in enumerate(view.free_by_owner[self.service]):
            away = sum(self.out(u, u.station) for u in units.values())
            assert away <= 1, f"{away} free units of community {owner} away: cap is 1"
        seen.append(unit.index)

    monkeypatch.setattr(relocation.Mover, "_apply", checked)
    _records(region("pooled", reloc))
    assert len(seen) > 20, f"the capped table should still move units: {len(seen)} moves"


def _tables(data: dict[str, Any]) -> tuple[pd.DataFrame, ...]:
    compiled = compile_scenario(scenario_from_dict(data))
    return run_replication(compiled, 0, 4, ("incidents", "units", "levels", "help", "coverage"))


def test_policy_none_and_a_table_that_never_moves_change_nothing() -> None:
    plain = _tables(region("pooled", None))
    for reloc in (
        {"policy": "none"},
        {"policy": "compliance_table", "table": {3: ["a", "b", "c"]}},  # home, all free
    ):
        other = _tables(region("pooled", reloc))
        for name, a, b in zip(("incidents", "units", "levels", "help"), plain, other, strict=False):
            b = b.drop(columns=[c for c in ("moves", "move_min") if c in b.columns])
            pd.testing.assert_frame_equal(a, b, obj=f"{name} with relocation {reloc}")
        pd.testing.assert_frame_equal(plain[4], other[4], obj=f"coverage with {reloc}")


def test_unit_table_counts_moves_and_their_minutes() -> None:
    units = _tables(region("pooled", TABLE))[1]
    assert {"moves", "move_min"} <= set(units.columns), f"columns: {list(units.columns)}"
    assert units["moves"].sum() > 0, "the table should move units"
    assert (units["move_min"] > 0).any(), "moves should take minutes"


BASE = """\
name: bad
communities:
  a: {population: 1000}
  b: {population: 1000}
travel:
  matrix: {a: {a: 2, b: 10}, b: {b: 2}}
services:
  amb:
    units: [{station: a}, {station: b}]
incident_types:
  med: {service: amb, rate_per_year: 100, on_scene: 30, target: {minutes: 12, share: 0.9}}
run: {horizon: 10 d, replications: 1}
options:
  x:
    dispatch:
      amb:
        policy: pooled
        relocation:
          policy: compliance_table
"""


@pytest.mark.parametrize(
    ("lines", "where", "message"),
    [
        (
            "table: {1: [nowhere]}",
            ":20:23: options.x.dispatch.amb.relocation.table.1.0",
            "unknown station 'nowhere'",
        ),
        (
            "table:\n            1: [a, b]",
            ":21:13: options.x.dispatch.amb.relocation.table.1",
            "needs 1",
        ),
        (
            "table:\n            3: [a, b, b]",
            ":21:13: options.x.dispatch.amb.relocation.table.3",
            "has 2 amb unit(s)",
        ),
        (
            "table: {1: [a]}\n          min_interval: -5",
            ":21:25: options.x.dispatch.amb.relocation.min_interval",
            ">= 0",
        ),
    ],
    ids=["unknown station", "wrong length", "beyond the fleet", "negative interval"],
)
def test_bad_tables_are_one_error_with_file_line_and_field(
    tmp_path: Path, lines: str, where: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BASE + "          " + lines + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    text = str(caught.value)
    assert len(caught.value.problems) == 1, f"expected one problem, got: {text}"
    assert f"{path}{where}" in text, f"expected the position {where}: {text}"
    assert message in text, f"expected {message!r}: {text}"


def test_coverage_policy_needs_a_target() -> None:
    data = region("pooled", {"policy": "coverage"})
    del data["incident_types"]["med"]["target"]
    with pytest.raises(ScenarioError, match="coverage needs a response target"):
        compile_scenario(scenario_from_dict(copy.deepcopy(data)))
