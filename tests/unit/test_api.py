"""The public API behaves in a notebook: every function stays a function however often it is
called and whatever was imported, results expose DataFrames as attributes with a short repr,
and ``sim.__all__`` is exactly what the README documents."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import sim

ROOT = Path(__file__).resolve().parents[2]
TWO_TOWNS = ROOT / "scenarios" / "two_towns.yaml"
API = ("load_scenario", "scenario_from_dict", "run", "compare", "estimate", "sweep")


@pytest.fixture(scope="module")
def small() -> sim.Scenario:
    data = sim.load_scenario(TWO_TOWNS).model_dump(mode="json")
    data["run"].update(horizon=14 * 1440.0, warmup=1440.0, replications=2)
    return sim.scenario_from_dict(data)


def _functions_still_functions() -> None:
    for name in API:
        assert callable(getattr(sim, name)), f"sim.{name} should stay a function"
        assert type(getattr(sim, name)).__name__ == "function", f"sim.{name} became a module"


def test_every_function_can_be_called_twice(small: sim.Scenario) -> None:
    for _ in range(2):
        assert isinstance(sim.load_scenario(TWO_TOWNS), sim.Scenario)
        assert sim.scenario_from_dict(small.model_dump(mode="json")) == small
        result = sim.run(small, options=["pooled"], replications=1)
        assert isinstance(result.incidents, pd.DataFrame)
        assert len(result.incidents) > 0
        comparison = sim.compare(small, replications=2)
        assert isinstance(comparison.headline, pd.DataFrame)
        assert isinstance(sim.estimate(small), pd.DataFrame)
        summary = sim.sweep(
            small, {"demand_scale": "0.9,1.1"}, replications=1, workers=1, progress=False
        )
        assert set(summary["demand_scale"]) == {0.9, 1.1}
        _functions_still_functions()


def test_submodule_imports_do_not_shadow_functions() -> None:
    import sim.analysis.erlang
    import sim.comparison.compare
    import sim.runs.run
    import sim.sweeps  # noqa: F401

    _functions_still_functions()


def test_paths_and_scenarios_give_the_same_result(small: sim.Scenario, tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    import yaml

    path.write_text(
        yaml.safe_dump(small.model_dump(mode="json"), sort_keys=False), encoding="utf-8"
    )
    a = sim.run(small, replications=1).incidents
    b = sim.run(path, replications=1).incidents
    pd.testing.assert_frame_equal(a, b)


def test_results_expose_dataframes_and_a_short_repr(small: sim.Scenario) -> None:
    comparison = sim.compare(small, replications=2)
    for name in (
        "headline",
        "summary",
        "comparison",
        "units",
        "help",
        "balance",
        "costs",
        "shares",
        "equity",
        "estimate",
        "levels",
    ):
        assert isinstance(getattr(comparison, name), pd.DataFrame), f"Comparison.{name}"
    text = repr(comparison)
    assert len(text) < 400, f"a Comparison's repr should be short: {text}"
    assert "\n" not in text, f"a Comparison's repr should be one line: {text}"
    assert "separate" in text
    assert "2 replications" in text
    run = sim.run(small, replications=1)
    assert len(repr(run)) < 300
    assert "\n" not in repr(run)


def test_all_is_what_the_readme_documents() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- api:begin -->", 1)[1].split("<!-- api:end -->", 1)[0]
    documented = set(re.findall(r"`sim\.(\w+)", table))
    assert documented == set(sim.__all__), (
        f"README's API table and sim.__all__ differ: only in the README "
        f"{documented - set(sim.__all__)}, only in __all__ {set(sim.__all__) - documented}"
    )
