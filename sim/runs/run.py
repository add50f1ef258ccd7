"""The ``run`` experiment: every requested option over a number of replications, the tables
gathered, and the warnings a user must see (overload by the Erlang estimate, backlog)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from ..analysis.erlang import estimate, overload_warnings
from ..analysis.metrics import backlog_warnings
from ..engine.driver import (
    IncidentSource,
    RunResult,
    compile_scenario,
    gather,
    run_replications,
)
from ..engine.execute import open_executor
from ..schema import Scenario

__all__ = ["run"]


def run(
    scenario: Scenario,
    options: Sequence[str] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    progress: Callable[[int], None] | None = None,
    source: IncidentSource | None = None,
    *,
    workers: int | None = 1,
    dask: str | None = None,
) -> RunResult:
    """Simulate ``options`` (default: all) of ``scenario`` over ``replications`` replications.

    Replication ``r`` always uses the same random numbers for a given seed, whichever options
    run and in whatever order. The replications run on ``workers`` local processes (default 1:
    this process; None: every CPU) or on Dask (``dask='local'`` or a scheduler address); the
    tables are the same for any of them.
    """
    started = time.perf_counter()
    compiled = compile_scenario(scenario, options, source)
    n = replications if replications is not None else scenario.run.replications
    s = seed if seed is not None else scenario.run.seed
    with open_executor(compiled, workers=workers, dask=dask, tasks=n) as executor:
        parts = run_replications(compiled, range(n), s, executor=executor, progress=progress)
    inc, units, levels, helped = gather(parts)
    warnings = [
        *getattr(source, "warnings", ()),  # what the incident source says (e.g. a replay's drops)
        *overload_warnings(estimate(compiled.region, compiled.fleets)),
        *backlog_warnings(inc),
    ]
    if executor.fallback:
        warnings.append(executor.fallback)
    return RunResult(
        inc,
        units,
        levels,
        helped,
        list(compiled.fleets),
        n,
        s,
        time.perf_counter() - started,
        warnings,
    )
