"""The compiled model is plain values: distributions and dispatch rules compiled from the schema,
and the engine and sampling never importing the schema."""

from __future__ import annotations

import ast
import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel, TypeAdapter

from sim.model import distributions as dist
from sim.model.compile import compile_dispatch, compile_distribution, compile_fleet, compile_region
from sim.model.dispatch import DispatchRule
from sim.model.sampling import draw, mean_of
from sim.schema import distributions as schema_dist
from sim.schema import scenario_from_dict
from sim.schema.scenario import Dispatch

SIM = Path(__file__).resolve().parents[2] / "sim"
SPEC: TypeAdapter[schema_dist.Distribution] = TypeAdapter(schema_dist.Distribution)


def spec(value: object) -> schema_dist.Distribution:
    """A scenario distribution, validated as a scenario file's would be."""
    return SPEC.validate_python(value)


# --- distributions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "compiled"),
    [
        (7, dist.Fixed(7.0)),
        ("90 s", dist.Fixed(1.5)),
        ({"dist": "exponential", "mean": 4}, dist.Exponential(4.0)),
        ({"dist": "lognormal", "median": 10, "log_sd": 0.5}, dist.LogNormal(math.log(10), 0.5)),
        ({"dist": "gamma", "mean": 6, "sd": 2}, dist.Gamma(6.0, 2.0)),
        ({"dist": "normal", "mean": 6, "sd": 2}, dist.Normal(6.0, 2.0)),
        ({"dist": "uniform", "low": 1, "high": 3}, dist.Uniform(1.0, 3.0)),
        ({"dist": "triangular", "low": 1, "mode": 2, "high": 4}, dist.Triangular(1.0, 2.0, 4.0)),
        ({"dist": "empirical", "values": [1, 2, 2]}, dist.Empirical((1.0, 2.0, 2.0))),
    ],
)
def test_each_distribution_compiles_to_its_plain_value(written: object, compiled: Any) -> None:
    out = compile_distribution(spec(written))
    assert out == compiled
    assert type(out) is type(compiled)
    assert not isinstance(out, BaseModel)
    with pytest.raises(dataclasses.FrozenInstanceError):
        out.__setattr__(dataclasses.fields(out)[0].name, 0.0)
    hash(out)  # values, usable as keys


def test_lognormal_by_mean_and_sd_keeps_its_mean_and_sd() -> None:
    """The mean/sd parametrisation is resolved at compile time into mu and sigma."""
    out = compile_distribution(spec({"dist": "lognormal", "mean": 20, "sd": 10}))
    assert isinstance(out, dist.LogNormal)
    assert mean_of(out) == pytest.approx(20.0, rel=1e-12)
    variance = (math.exp(out.sigma**2) - 1) * math.exp(2 * out.mu + out.sigma**2)
    assert math.sqrt(variance) == pytest.approx(10.0, rel=1e-12)


@pytest.mark.parametrize(
    ("value", "direct"),
    [
        (dist.Fixed(3.0), lambda rng, n: np.full(n, 3.0)),
        (dist.Exponential(4.0), lambda rng, n: rng.exponential(4.0, n)),
        (dist.LogNormal(1.0, 0.3), lambda rng, n: rng.lognormal(1.0, 0.3, n)),
        (dist.Gamma(6.0, 2.0), lambda rng, n: rng.gamma(9.0, 6.0 / 9.0, n)),
        (dist.Uniform(1.0, 3.0), lambda rng, n: rng.uniform(1.0, 3.0, n)),
        (dist.Triangular(1.0, 2.0, 4.0), lambda rng, n: rng.triangular(1.0, 2.0, 4.0, n)),
        (dist.Empirical((1.0, 5.0)), lambda rng, n: rng.choice(np.array([1.0, 5.0]), n)),
    ],
)
def test_draw_uses_numpy_generator_directly(value: Any, direct: Any) -> None:
    """Same generator state, same numbers: compiling changed no draw."""
    got = draw(value, np.random.default_rng(5), 1000)
    want = direct(np.random.default_rng(5), 1000)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.float64


def test_truncated_normal_is_non_negative_with_the_exact_mean() -> None:
    value = dist.Normal(1.0, 2.0)
    x = draw(value, np.random.default_rng(2), 400_000)
    assert (x >= 0).all()
    # truncnorm mean: m + sd * phi(a) / (1 - Phi(a)), a = -m / sd
    a = -0.5
    phi = math.exp(-(a**2) / 2) / math.sqrt(2 * math.pi)
    exact = 1.0 + 2.0 * phi / (1 - 0.5 * math.erfc(-a / math.sqrt(2)))
    assert mean_of(value) == pytest.approx(exact, rel=1e-9)
    assert x.mean() == pytest.approx(exact, abs=5 * x.std() / math.sqrt(len(x)))


@pytest.mark.parametrize(
    ("value", "mean"),
    [
        (dist.Fixed(3.0), 3.0),
        (dist.Exponential(4.0), 4.0),
        (dist.Gamma(6.0, 2.0), 6.0),
        (dist.Normal(5.0, 0.0), 5.0),
        (dist.Uniform(1.0, 3.0), 2.0),
        (dist.Triangular(1.0, 2.0, 6.0), 3.0),
        (dist.Empirical((1.0, 2.0, 6.0)), 3.0),
        (dist.LogNormal(0.0, 1.0), math.exp(0.5)),
    ],
)
def test_mean_of_plain_values(value: Any, mean: float) -> None:
    assert mean_of(value) == pytest.approx(mean, rel=1e-12)


# --- dispatch rules ----------------------------------------------------------------------------

COMS = ("a", "b", "c")


def rule(**fields: Any) -> Dispatch:
    return Dispatch.model_validate(fields)


def test_default_partners_are_every_other_community() -> None:
    out = compile_dispatch(rule(policy="mutual_aid"), COMS)
    assert out.lenders == ((1, 2), (0, 2), (0, 1))
    assert out.borrowers() == ((1, 2), (0, 2), (0, 1))


def test_partners_become_indices_without_self_or_repeats() -> None:
    partners = {"a": ["c", "a", "c"], "c": ["b"]}  # b borrows from no one
    out = compile_dispatch(rule(policy="mutual_aid", partners=partners), COMS)
    assert out.lenders == ((2,), (), (1,))
    assert out.borrowers() == ((), (2,), (0,)), "c lends to a, b lends to c"


def test_rule_fields_become_plain_numbers() -> None:
    out = compile_dispatch(
        rule(
            policy="mutual_aid",
            max_travel="25 min",
            reserve=1,
            request_delay="90 s",
            queue_rule="nearest",
            from_road=False,
        ),
        COMS,
    )
    assert out == DispatchRule(
        policy="mutual_aid",
        lenders=((1, 2), (0, 2), (0, 1)),
        max_travel=25.0,
        reserve=1,
        request_delay=1.5,
        queue_rule="nearest",
        from_road=False,
    )
    assert isinstance(out.request_delay, float)


def test_no_travel_limit_is_infinity() -> None:
    out = compile_dispatch(rule(policy="pooled"), COMS)
    assert out.max_travel == math.inf
    assert (out.reserve, out.request_delay, out.queue_rule, out.from_road) == (
        0,
        0.0,
        "oldest",
        True,
    )


# --- whole compiled scenario -------------------------------------------------------------------


def scenario() -> Any:
    return scenario_from_dict(
        {
            "name": "compiled",
            "communities": {"a": {"population": 1000}, "b": {"population": 2000}},
            "travel": {"matrix": {"a": {"a": 3, "b": 12}, "b": {"b": 4}}},
            "facilities": {"h": {"community": "b"}},
            "services": {"amb": {"units": [{"station": "a"}, {"station": "b"}]}},
            "incident_types": {
                "med": {
                    "service": "amb",
                    "rate_per_year": 100,
                    "call_handling": "1 min",
                    "turnout": {"dist": "uniform", "low": 0.5, "high": 1.5},
                    "on_scene": {"dist": "lognormal", "mean": 30, "sd": 10},
                    "transport": {
                        "probability": 0.5,
                        "facility": "h",
                        "handover": {"dist": "exponential", "mean": 15},
                    },
                }
            },
            "run": {"horizon": "7 d"},
            "options": {
                "aid": {
                    "dispatch": {
                        "amb": {"policy": "mutual_aid", "partners": {"a": ["b"]}, "reserve": 1}
                    }
                }
            },
        }
    )


def test_compiled_region_and_fleet_hold_no_schema_objects() -> None:
    s = scenario()
    region = compile_region(s)
    fleet = compile_fleet(s, region, "aid")
    t = region.types[0]
    assert t.call_handling == dist.Fixed(1.0)
    assert t.turnout == dist.Uniform(0.5, 1.5)
    assert isinstance(t.on_scene, dist.LogNormal)
    assert t.handover == dist.Exponential(15.0)
    (amb,) = fleet.dispatch
    assert amb == DispatchRule(policy="mutual_aid", lenders=((1,), ()), reserve=1)

    def walk(value: object) -> None:
        assert not isinstance(value, BaseModel), f"a schema object in the model: {value!r}"
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                walk(getattr(value, f.name))
        elif isinstance(value, tuple | list):
            for v in value:
                walk(v)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)

    walk(region)
    walk(fleet)


def test_trips_are_kept_in_single_precision_and_read_in_place() -> None:
    from sim.engine.demand import generate_incidents
    from sim.engine.loop import Engine
    from sim.model.travel import TRIP_DTYPE
    from tests.builders import grid_region

    s = scenario_from_dict(grid_region(columns=6, rows=4, zones=3))
    region = compile_region(s)
    assert region.travel.dtype == TRIP_DTYPE == np.float32
    fleet = compile_fleet(s, region, "pooled")
    engine = Engine(region, fleet, generate_incidents(region, 1, 0))
    rows = engine.travel[0]
    assert len(rows) == len(region.places)
    assert rows[0].format == "f"
    assert all(np.shares_memory(np.asarray(r), region.travel) for r in rows[:5]), (
        "the engine reads the compiled rows, not a copy in doubles"
    )
    a, b = 3, len(region.places) - 1
    assert rows[a][b] == float(region.travel[a, b])
    assert isinstance(rows[a][b], float)


def test_handover_without_transport_is_zero() -> None:
    data = scenario().model_dump(mode="json", exclude_none=True)
    del data["incident_types"]["med"]["transport"]
    region = compile_region(scenario_from_dict(data))
    assert region.types[0].handover == dist.Fixed(0.0)
    assert region.types[0].facility == -1


# --- imports -----------------------------------------------------------------------------------

# the modules that must never see the schema: all of the engine (but the driver, whose entry
# point ``compile_scenario`` takes a scenario to compile) and the model's plain values
SCHEMA_FREE = [
    *sorted(p for p in (SIM / "engine").glob("*.py") if p.name != "driver.py"),
    SIM / "model" / "sampling.py",
    SIM / "model" / "distributions.py",
    SIM / "model" / "dispatch.py",
]


def package_of(path: Path) -> str:
    """The package a module file of ``sim/`` belongs to, e.g. ``sim.engine``."""
    return ".".join(path.relative_to(SIM.parent).with_suffix("").parts[:-1])


def imported_modules(source: str, package: str) -> set[str]:
    """Every module that ``source`` (a module of ``package``) imports, anywhere in it (also
    under TYPE_CHECKING or in a function), relative imports resolved; ``from X import y``
    gives both X and X.y."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            out.add(module)
            out.update(f"{module}.{alias.name}" for alias in node.names)
    return out


def touches_schema(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m == "sim.schema" or m.startswith("sim.schema."))


@pytest.mark.parametrize(
    "code",
    [
        "from ..schema.scenario import Dispatch",
        "from .. import schema",
        "import sim.schema.distributions",
        "from sim import schema",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..schema import Scenario",
        "def f():\n    from ..schema.load import load_scenario",
    ],
)
def test_import_walker_catches_every_way_to_import_the_schema(code: str) -> None:
    """The check below can fail: each way of importing the schema is caught."""
    assert touches_schema(imported_modules(code, "sim.engine")), f"not caught: {code!r}"


def test_import_walker_does_not_flag_neighbours() -> None:
    code = "from ..model.compile import Region\nfrom .policies import Policy\nimport simpy"
    found = imported_modules(code, "sim.engine")
    assert {"sim.model.compile", "sim.engine.policies", "simpy"} <= found
    assert not touches_schema(found)


@pytest.mark.parametrize("path", SCHEMA_FREE, ids=lambda p: str(p.relative_to(SIM.parent)))
def test_engine_and_sampling_never_import_the_schema(path: Path) -> None:
    found = touches_schema(imported_modules(path.read_text(encoding="utf-8"), package_of(path)))
    assert not found, f"{path.relative_to(SIM.parent)} imports {found}"


def test_the_schema_free_list_is_the_whole_engine() -> None:
    engine = {p.name for p in (SIM / "engine").glob("*.py")}
    checked = {p.name for p in SCHEMA_FREE if p.parent.name == "engine"}
    assert engine - checked == {"driver.py"}
