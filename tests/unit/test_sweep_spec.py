"""Sweep definitions: values, paths, designs, sweep files and their errors (no simulation)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.errors import InputError, ScenarioError
from sim.schema.yamlio import read_yaml
from sim.sweeps.definition import build_definition
from sim.sweeps.design import make_points
from sim.sweeps.params import Param, check_path, parse_param, parse_values
from tests.builders import TWO_TOWNS

SHORT = {"run.horizon": "10 d", "run.warmup": 0}


@pytest.fixture(scope="module")
def data() -> dict:
    return read_yaml(TWO_TOWNS).data


# -- values ------------------------------------------------------------------------------------


def test_comma_list_keeps_types() -> None:
    assert parse_values("1,2,3", sampled=False) == ((1, 2, 3), None)
    assert parse_values("0.5, 1", sampled=False) == ((0.5, 1), None)
    assert parse_values("separate,pooled", sampled=False) == (("separate", "pooled"), None)
    assert parse_values("true,false", sampled=False) == ((True, False), None)
    assert parse_values("8:59", sampled=False) == (("8:59",), None), "a duration, not a range"


def test_range_is_inclusive_and_keeps_integers() -> None:
    values, _ = parse_values("1:5:3", sampled=False)
    assert values == (1, 3, 5)
    assert all(type(v) is int for v in values)
    values, _ = parse_values("0.8:1.2:5", sampled=False)
    assert values == (0.8, 0.9, 1.0, 1.1, 1.2)
    values, _ = parse_values("1:2:3", sampled=False)
    assert values == (1.0, 1.5, 2.0)
    assert all(type(v) is float for v in values)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1:x:3", "bad range"),
        ("1:5:0", "steps must be a whole number"),
        ("1:5:2.5", "steps must be a whole number"),
        ("1:5:1", "one step cannot reach"),
        ("1,,2", "empty value"),
        ("normal(1,2)", "unknown distribution"),
        ("uniform(2,1)", "lower bound must be below"),
        ("int(1.5,3)", "whole numbers"),
    ],
)
def test_bad_values_are_explained(text: str, expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        parse_values(text, sampled=True)


def test_distributions_only_for_sampled_designs() -> None:
    assert parse_values("uniform(1,2)", sampled=True) == ((), ("uniform", 1.0, 2.0))
    with pytest.raises(ValueError, match="use it with --design lhs or random"):
        parse_values("uniform(1,2)", sampled=False)


def test_param_from_yaml_values() -> None:
    assert parse_param("x", [1, 2], sampled=False) == Param("x", (1, 2))
    assert parse_param("x", 3, sampled=False).fixed
    with pytest.raises(ValueError, match="listed twice"):
        parse_param("x", "1,1", sampled=False)


# -- paths -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "demand_scale",  # not in the file: a field left at its default
        "services.ambulance.units.0.count",
        "options.mutual_aid.dispatch.ambulance.reserve",
        "options.pooled.dispatch.ambulance.reserve",  # default of a dispatch rule
        "options.pooled.dispatch.ambulance.policy",
        "incident_types.emergency.on_scene.median",
        "run.warmup",
    ],
)
def test_valid_paths(data: dict, path: str) -> None:
    keys = check_path(data, path)
    assert ".".join(map(str, keys)) == path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("services.ambulance.unit.0.count", "services.ambulance.units.0.count"),
        ("demand_scal", "demand_scale"),
        ("incident_types.emergency.on_scene.medain", "incident_types.emergency.on_scene.median"),
        ("run.warm_up", "run.warmup"),
    ],
)
def test_unknown_path_lists_nearest_valid_paths(data: dict, path: str, expected: str) -> None:
    with pytest.raises(ValueError, match="nearest valid paths") as info:
        check_path(data, path)
    assert expected in str(info.value)


def test_path_to_a_mapping_or_a_bad_index(data: dict) -> None:
    with pytest.raises(ValueError, match=r"is a mapping, not a single value; e\.g\. run\.horizon"):
        check_path(data, "run")
    with pytest.raises(ValueError, match="not an index of the list there"):
        check_path(data, "services.ambulance.units.7.count")
    with pytest.raises(ValueError, match="number of replications is a setting of the sweep"):
        check_path(data, "run.replications")


# -- designs -----------------------------------------------------------------------------------


def _lhs_params() -> list[Param]:
    return [
        Param("a", dist="uniform", low=0.5, high=2.0),
        Param("b", dist="int", low=1, high=8),
        Param("c", ("x", "y")),
        Param("d", (7,)),
    ]


def test_grid_has_every_combination() -> None:
    points = make_points(
        [Param("a", (1, 2, 3)), Param("b", ("p", "q")), Param("c", (0,))], "grid", None, 1
    )
    assert len(points) == 6
    assert points[0] == {"a": 1, "b": "p", "c": 0}
    assert points[-1] == {"a": 3, "b": "q", "c": 0}


@pytest.mark.parametrize("n", [1, 8, 25])
def test_lhs_is_stratified(n: int) -> None:
    points = make_points(_lhs_params(), "lhs", n, 42)
    assert len(points) == n
    a = np.array([p["a"] for p in points])
    assert ((a >= 0.5) & (a < 2.0)).all()
    bins = np.floor((a - 0.5) / 1.5 * n).astype(int)
    assert sorted(bins) == list(range(n)), "each of the n strata is hit exactly once"
    b = [p["b"] for p in points]
    assert all(isinstance(v, int) and 1 <= v <= 8 for v in b)
    if n == 8:
        assert sorted(b) == list(range(1, 9)), "int(1,8) with 8 samples takes every value once"
    assert {p["c"] for p in points} <= {"x", "y"}
    assert {p["d"] for p in points} == {7}


def test_sampled_designs_are_seeded() -> None:
    for design in ("lhs", "random"):
        first = make_points(_lhs_params(), design, 10, 42)
        assert first == make_points(_lhs_params(), design, 10, 42), "same seed, same points"
        assert first != make_points(_lhs_params(), design, 10, 43), "another seed, other points"
        assert len(first) == 10


def test_design_errors() -> None:
    with pytest.raises(ValueError, match="needs --samples"):
        make_points(_lhs_params(), "lhs", None, 1)
    with pytest.raises(ValueError, match="--samples is for the lhs and random"):
        make_points([Param("a", (1, 2))], "grid", 5, 1)


def test_definition_counts_points_and_tasks() -> None:
    params = {"demand_scale": "1:2:3", "services.ambulance.units.1.count": "1,2", **SHORT}
    d = build_definition(TWO_TOWNS, params, replications=2)
    assert len(d.points) == 6
    assert d.options == ("separate", "mutual_aid", "pooled")
    assert d.n_tasks == 36
    assert [t.index for t in d.tasks()] == list(range(36))
    assert d.varied == ["demand_scale", "services.ambulance.units.1.count"]
    lhs = build_definition(
        TWO_TOWNS,
        {"demand_scale": "uniform(0.5,1.5)", **SHORT},
        design="lhs",
        samples=7,
        replications=1,
        options=["pooled"],
    )
    assert len(lhs.points) == 7
    assert lhs.n_tasks == 7
    assert (
        lhs.points
        == build_definition(
            TWO_TOWNS,
            {"demand_scale": "uniform(0.5,1.5)", **SHORT},
            design="lhs",
            samples=7,
            replications=1,
            options=["pooled"],
        ).points
    )
    assert all(math.isfinite(p["demand_scale"]) for p in lhs.points)


def test_tasks_are_sent_the_longest_first_with_each_point_together() -> None:
    """More demand, more calls, a longer task: the points go out by falling demand, and the
    tasks of a point stay in their order (one compile per point per worker)."""
    d = build_definition(TWO_TOWNS, {"demand_scale": "1,3,2", **SHORT}, replications=2)
    assert d.costs[1] > d.costs[2] > d.costs[0] > 0
    sent = d.by_cost(d.tasks())
    assert [t.point for t in sent] == [1] * 6 + [2] * 6 + [0] * 6
    assert [t.index for t in sent[:6]] == list(range(6, 12))
    assert sorted(t.index for t in sent) == list(range(d.n_tasks))
    horizon = build_definition(TWO_TOWNS, {"run.horizon": "10 d,20 d"}, replications=1)
    assert horizon.costs[1] == pytest.approx(2 * horizon.costs[0])


def test_invalid_point_is_an_error_with_path_and_value() -> None:
    with pytest.raises(ScenarioError) as info:
        build_definition(TWO_TOWNS, {"services.ambulance.units.0.count": "2,-1", **SHORT})
    (problem,) = info.value.problems
    text = str(problem)
    assert "services.ambulance.units.0.count" in text
    assert "-1" in text
    assert problem.line is not None, "the problem points into the scenario file"


def test_sweep_file_matches_command_line(tmp_path: Path) -> None:
    study = tmp_path / "study.yaml"
    study.write_text(
        f"scenario: {TWO_TOWNS}\n"
        "params:\n"
        "  demand_scale: 1:2:3\n"
        "  options.pooled.dispatch.ambulance.policy: [pooled, separate]\n"
        "  run.horizon: 10 d\n"
        "  run.warmup: 0\n"
        "replications: 2\n"
        "seed: 7\n",
        encoding="utf-8",
    )
    from_file = build_definition(study)
    from_args = build_definition(
        TWO_TOWNS,
        {
            "demand_scale": "1:2:3",
            "options.pooled.dispatch.ambulance.policy": "pooled,separate",
            **SHORT,
        },
        replications=2,
        seed=7,
    )
    assert from_file.hash() == from_args.hash()
    assert from_file.points == from_args.points
    assert from_file.seed == 7


def test_sweep_file_errors_carry_lines(tmp_path: Path) -> None:
    study = tmp_path / "study.yaml"
    study.write_text(
        f"scenario: {TWO_TOWNS}\nparams:\n  demand_scale: 1,2\nsample: 3\n", encoding="utf-8"
    )
    with pytest.raises(ScenarioError) as info:
        build_definition(study)
    (problem,) = info.value.problems
    assert problem.line == 4
    assert "unknown key 'sample'; did you mean 'samples'?" in str(problem)
    study.write_text(
        f"scenario: {TWO_TOWNS}\nparams:\n  demand_scale: 1,2\n  run.warmpu: 0\n", encoding="utf-8"
    )
    with pytest.raises(ScenarioError) as info:
        build_definition(study)
    (problem,) = info.value.problems
    assert problem.line == 4
    assert "nearest valid paths: run.warmup" in str(problem)


def test_unknown_option_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown option 'shared'"):
        build_definition(TWO_TOWNS, {"demand_scale": "1,2"}, options=["shared"])
