"""Stage 2 of ``intersim site``: today's placement and the model's best ones, simulated as the
options of one scenario through the engine driver, and compared.

Every option runs against the same incidents of each replication (common random numbers: the
driver draws them once per replication, before any dispatch). Only the sited service has
calls: the other services' rates are set to zero, which leaves the service's own calls exactly
as ``compare`` draws them (each community and incident type has its own random stream). The
results are ``compare``'s statistics of the service: means with 95 % confidence intervals per
option, priority and community, paired differences against today with their verdicts, and the
cost of the service's units shared between the communities by the formulas of
:mod:`sim.analysis.costs`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..analysis.costs import cost_shares
from ..analysis.metrics import incident_metrics
from ..analysis.stats import IDENTICAL_BY_DESIGN, NON_NEGATIVE, Margin, paired_differences, with_ci
from ..engine.driver import Compiled, compile_scenario, gather, run_replications
from ..engine.execute import open_executor
from ..model.compile import Region
from ..schema import Scenario

__all__ = ["KEYS", "Simulated", "simulate"]

KEYS = ["option", "service", "priority", "community", "metric"]


@dataclass(repr=False)
class Simulated:
    """The comparison of the placements (tables of the service alone)."""

    summary: pd.DataFrame  # with_ci: option, priority, community, metric, mean, n, ci_low/high
    comparison: pd.DataFrame  # paired differences against the baseline
    shares: pd.DataFrame  # option, formula, community: mean share and cost, with CIs
    cost: pd.DataFrame  # option: mean yearly cost of the service's units, with its CI
    incidents: pd.DataFrame  # every option's incidents (the same calls under each)
    replications: int
    seed: int
    executor: str
    fallback: str | None = None


def _measure(tables: tuple[pd.DataFrame, ...], _region: Region) -> pd.DataFrame:
    """Metrics of one replication's incidents, where the replication ran."""
    return incident_metrics(tables[0])


def _service_only(scenario: Scenario, service: str) -> Compiled:
    compiled = compile_scenario(scenario)
    region = compiled.region
    s = region.services.index(service)
    keep = np.array([t.service == s for t in region.types], dtype=np.float64)
    return dataclasses.replace(
        compiled, region=dataclasses.replace(region, rates=region.rates * keep[None, :])
    )


def simulate(
    scenario: Scenario,
    service: str,
    *,
    replications: int,
    seed: int,
    workers: int | None = 1,
    dask: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Simulated:
    """Every option of ``scenario`` against its baseline, for ``service``."""
    compiled = _service_only(scenario, service)
    with open_executor(compiled, workers=workers, dask=dask, tasks=replications) as executor:
        parts = run_replications(
            compiled,
            range(replications),
            seed,
            executor=executor,
            measure=_measure,
            progress=progress,
        )
        kind, fallback = executor.kind, executor.fallback
    per_rep = pd.concat([p.measured for p in parts], ignore_index=True)
    per_rep = per_rep[per_rep["service"].astype(str) == service]
    inc, units, _levels, helped = gather(parts)
    units = units[units["service"].astype(str) == service]
    margins = {
        str(m): Margin(absolute=v.absolute, relative=v.relative)
        for m, v in scenario.margins.items()
    }
    region = compiled.region
    shares = cost_shares(
        units,
        inc,
        helped,
        region,
        {str(k): v for k, v in scenario.cost_sharing.mix.items()},
    )
    yearly = units.groupby(["replication", "option"], observed=True)["cost"].sum().reset_index()
    years = (region.horizon - region.warmup) / (365 * 1440.0)
    yearly["value"] = yearly["cost"] / years
    return Simulated(
        summary=with_ci(per_rep, KEYS),
        comparison=paired_differences(
            per_rep[~per_rep["metric"].isin(IDENTICAL_BY_DESIGN)],
            KEYS,
            scenario.baseline_option,
            margins=margins,
        ),
        shares=with_ci(
            shares.assign(value=shares["cost"] / years),
            ["option", "formula", "community"],
            bounds=NON_NEGATIVE,
        ),
        cost=with_ci(yearly, ["option"], bounds=NON_NEGATIVE),
        incidents=inc,
        replications=replications,
        seed=seed,
        executor=kind,
        fallback=fallback,
    )
