"""The ``run`` experiment: every requested option over a number of replications, the tables
gathered, and the warnings a user must see (overload by the Erlang estimate, backlog)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from ..analysis.erlang import estimate, overload_warnings
from ..analysis.metrics import backlog_warnings
from ..engine.driver import (
    TABLES,
    IncidentSource,
    RunResult,
    compile_scenario,
    concat_tables,
    run_replication,
)
from ..schema import Scenario

__all__ = ["run"]


def run(
    scenario: Scenario,
    options: Sequence[str] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    progress: Callable[[int], None] | None = None,
    source: IncidentSource | None = None,
) -> RunResult:
    """Simulate ``options`` (default: all) of ``scenario`` over ``replications`` replications.

    Replication ``r`` always uses the same random numbers for a given seed, whichever options
    run and in whatever order.
    """
    started = time.perf_counter()
    compiled = compile_scenario(scenario, options, source)
    n = replications if replications is not None else scenario.run.replications
    s = seed if seed is not None else scenario.run.seed
    parts = []
    for r in range(n):
        parts.append(run_replication(compiled, r, s))
        if progress is not None:
            progress(1)
    inc, units, levels, helped = (concat_tables([p[i] for p in parts]) for i in range(len(TABLES)))
    warnings = [
        *getattr(source, "warnings", ()),  # what the incident source says (e.g. a replay's drops)
        *overload_warnings(estimate(compiled.region, compiled.fleets)),
        *backlog_warnings(inc),
    ]
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
