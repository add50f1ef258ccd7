"""intersim: simulate shared emergency and public services between neighbouring communities.

The Python API mirrors the command line::

    import sim
    scenario = sim.load_scenario("scenarios/five_valleys.yaml")
    comparison = sim.compare(scenario, replications=5)   # .headline, .summary, .comparison, ...
    result = sim.run(scenario, options=["pooled"])        # .incidents, .units, .levels, .help
    table = sim.estimate(scenario)                        # Erlang C estimates, instantly
    curves = sim.sweep(scenario, {"demand_scale": "0.8:1.4:4"}, replications=5)

Every function takes a loaded :class:`Scenario` or the path of a scenario file, and stays a
function however often it is called and whatever else was imported: no subpackage of ``sim``
carries the name of one of these functions. The heavy stages are imported on the first call, so
that ``import sim`` and the command line start quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import InputError, Problem, ScenarioError
from .schema import Scenario, load_scenario, scenario_from_dict
from .version import __version__

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from .comparison.compare import Comparison
    from .engine.driver import IncidentSource, RunResult

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
    "sweep",
]


def _scenario(scenario: Scenario | str | Path) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def run(
    scenario: Scenario | str | Path,
    options: list[str] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    *,
    source: IncidentSource | None = None,
    workers: int | None = 1,
    dask: str | None = None,
) -> RunResult:
    """Simulate ``options`` (default: all) over ``replications`` replications (default: the
    scenario's); the result holds the tables ``incidents``, ``units``, ``levels`` and ``help``.
    Replication ``r`` sees the same random numbers under every option (common random numbers),
    so the tables are the same for any ``workers`` (local processes; None: every core) or Dask
    scheduler (``dask="local"`` or an address)."""
    from .runs.run import run as _run

    return _run(
        _scenario(scenario), options, replications, seed, source=source, workers=workers, dask=dask
    )


def compare(
    scenario: Scenario | str | Path,
    *,
    replications: int | None = None,
    precision: float | None = None,
    max_replications: int = 100,
    baseline: str | None = None,
    seed: int | None = None,
    source: IncidentSource | None = None,
    workers: int | None = 1,
    dask: str | None = None,
) -> Comparison:
    """Compare every pooling option against the baseline over the same replications; the result
    holds DataFrames (``headline``, ``summary``, ``comparison``, ``units``, ``help``, ``balance``,
    ``costs``, ``shares``, ``equity``, ``estimate``, ``levels``, ``zones``, ``backlog``,
    ``caseload``). With ``precision`` (e.g. 0.05)
    replications are added until every headline 95 % half-width is within that share of its mean,
    up to ``max_replications``."""
    from .comparison.compare import compare as _compare

    return _compare(
        _scenario(scenario),
        replications=replications,
        precision=precision,
        max_replications=max_replications,
        baseline=baseline,
        seed=seed,
        source=source,
        workers=workers,
        dask=dask,
    )


def estimate(scenario: Scenario | str | Path) -> pd.DataFrame:
    """Erlang C estimates per option, service and community (offered load, utilisation,
    probability of waiting, mean wait), computed in milliseconds without simulating."""
    from .analysis.erlang import estimate as _estimate
    from .engine.driver import compile_scenario

    compiled = compile_scenario(_scenario(scenario))
    return _estimate(compiled.region, compiled.fleets)


def sweep(
    scenario: Scenario | str | Path | dict[str, Any],
    params: dict[str, Any] | None = None,
    *,
    design: str | None = None,
    samples: int | None = None,
    replications: int | None = None,
    seed: int | None = None,
    options: list[str] | None = None,
    workers: int | None = None,
    dask: str | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> pd.DataFrame:
    """Vary fields of a scenario (``params``: dotted path -> values) and simulate every design
    point x option x replication; returns the summary (mean, n and 95 % CI per point, option,
    service and metric). See :func:`sim.sweeps.sweep` for the arguments."""
    from .sweeps import sweep as _sweep

    data: str | Path | dict[str, Any]
    data = scenario.model_dump(mode="json") if isinstance(scenario, Scenario) else scenario
    return _sweep(
        data,
        params,
        design=design,
        samples=samples,
        replications=replications,
        seed=seed,
        options=options,
        workers=workers,
        dask=dask,
        out=out,
        resume=resume,
        overwrite=overwrite,
        progress=progress,
    )
