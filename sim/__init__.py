"""intersim: simulate shared emergency and public services between neighbouring communities.

The Python API mirrors the command line::

    import sim
    scenario = sim.load_scenario("scenarios/five_valleys.yaml")
    comparison = sim.compare(scenario, replications=5)   # DataFrames: summary, comparison, ...
    result = sim.run(scenario, options=["pooled"])        # incidents, units, levels tables
    table = sim.estimate(scenario)                        # Erlang C estimates, instantly
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import InputError, Problem, ScenarioError
from .schema import Scenario, load_scenario, scenario_from_dict

if TYPE_CHECKING:
    import pandas as pd

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "Problem",
    "Scenario",
    "ScenarioError",
    "__version__",
    "compare",
    "estimate",
    "load_scenario",
    "run",
    "scenario_from_dict",
]


def run(scenario: Scenario, **kwargs: Any) -> Any:
    """Simulate a scenario; see :func:`sim.runner.run`."""
    from .runs.run import run as _run

    return _run(scenario, **kwargs)


def compare(scenario: Scenario, **kwargs: Any) -> Any:
    """Compare the pooling options of a scenario; see :func:`sim.compare.compare`."""
    from .comparison.compare import compare as _compare

    return _compare(scenario, **kwargs)


def estimate(scenario: Scenario) -> pd.DataFrame:
    """Erlang C estimates per option and service; see :func:`sim.estimate.estimate`."""
    from .analysis.erlang import estimate as _estimate
    from .engine.driver import compile_scenario

    compiled = compile_scenario(scenario)
    return _estimate(compiled.region, compiled.fleets)
