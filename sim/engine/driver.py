"""Running replications: compile once, generate each replication's incidents once, run every
requested pooling option against them (common random numbers), and gather the tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from ..model.compile import Fleet, Region, compile_fleet, compile_region
from ..schema import Scenario
from .demand import Incidents, generate_incidents
from .loop import simulate
from .records import help_table, incident_table, level_table, unit_table

__all__ = [
    "TABLES",
    "Compiled",
    "IncidentSource",
    "RunResult",
    "compile_scenario",
    "concat_tables",
    "run_replication",
]


IncidentSource = Callable[[Region, int, int], Incidents]
"""Makes the incidents of replication ``r`` for a seed: sampled (default) or replayed."""


@dataclass(frozen=True)
class Compiled:
    """A scenario compiled for the engine: the shared region, one fleet per option, and where
    the incidents come from."""

    scenario: Scenario
    region: Region
    fleets: dict[str, Fleet]
    source: IncidentSource = generate_incidents


@dataclass(repr=False)
class RunResult:
    """Tables of a run: incidents, units, levels and help of every option and replication."""

    incidents: pd.DataFrame
    units: pd.DataFrame
    levels: pd.DataFrame
    help: pd.DataFrame
    options: list[str]
    replications: int
    seed: int
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return (
            f"<RunResult of {', '.join(self.options)}: {self.replications} replications, "
            f"seed {self.seed}, {len(self.incidents):,} incidents, {len(self.warnings)} warnings; "
            "tables: incidents, units, levels, help>"
        )


def compile_scenario(
    scenario: Scenario, options: Sequence[str] | None = None, source: IncidentSource | None = None
) -> Compiled:
    region = compile_region(scenario)
    names = list(options) if options else list(scenario.options)
    fleets = {o: compile_fleet(scenario, region, o) for o in names}
    return Compiled(scenario, region, fleets, source or generate_incidents)


TABLES = (incident_table, unit_table, level_table, help_table)


def run_replication(compiled: Compiled, replication: int, seed: int) -> tuple[pd.DataFrame, ...]:
    """Every option of ``compiled`` against the incidents of one replication."""
    region = compiled.region
    incidents = compiled.source(region, seed, replication)
    tables: list[list[pd.DataFrame]] = [[] for _ in TABLES]
    for fleet in compiled.fleets.values():
        rec = simulate(region, fleet, incidents)
        for out, make in zip(tables, TABLES, strict=True):
            out.append(make(region, fleet, incidents, rec, replication))
    return tuple(concat_tables(t) for t in tables)


def concat_tables(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate, keeping categorical columns categorical (categories unioned)."""
    if len(frames) == 1:
        return frames[0]
    cats = {c for c in frames[0].columns if isinstance(frames[0][c].dtype, pd.CategoricalDtype)}
    for c in cats:
        union = pd.api.types.union_categoricals([f[c] for f in frames], ignore_order=True)
        for f in frames:
            f[c] = pd.Categorical(f[c], categories=union.categories)
    return pd.concat(frames, ignore_index=True)
