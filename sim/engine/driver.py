"""The one engine driver: compile once, generate each replication's incidents once, run every
fleet against them (common random numbers), and build the tables asked for.

Every experiment goes through here: ``run`` and ``compare`` (:func:`run_replications`, on any
executor of :mod:`sim.engine.execute`), a sweep task and ``backtest`` (:func:`run_replication`
of some options and tables), ``size`` and ``coalitions`` (:func:`fleet_tables` of candidate
fleets on the incidents of a service), ``export-log`` (:func:`replicate`: incidents and the
engine's records). Replication ``r`` always uses the same random numbers for a given seed,
whichever fleets run, in whatever order, in whichever process.

The fleets of a replication are simulated by :func:`sim.engine.reuse.simulate_fleets`: a
service whose compiled configuration (its units in order, by station, owner and duty; its
dispatch, preference and relocation rules; compared by value, never by name) equals that of an
option simulated before it in the replication takes that option's records, with the unit
indices of its own fleet, and only the other services run. Services share nothing in the
engine and all random numbers come with the incidents, so the records are those of a run of the
whole fleet (:mod:`sim.engine.merge`). In Five Valleys 7 of the 20 option-service runs are
repeats: mutual aid changes only ambulance and fire, the hub only ambulance, so police (42,000
of the 56,000 calls a year) runs twice, not four times. An option's records do not depend on
which options run beside it: jobs of different services assigned at the very same instant are
always in the order of their services (:func:`sim.engine.merge.canonical`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from ..model.compile import Fleet, Region, compile_fleet, compile_region
from ..schema import Scenario
from .coverage import coverage_table, free_units_table
from .demand import Incidents, generate_incidents
from .execute import Executor, open_executor
from .loop import EngineRecords
from .records import help_table, incident_table, level_table, unit_table
from .reuse import simulate_fleets

__all__ = [
    "TABLES",
    "Compiled",
    "IncidentSource",
    "Measure",
    "Replicated",
    "Replication",
    "RunResult",
    "compile_scenario",
    "concat_tables",
    "fleet_tables",
    "gather",
    "records_tables",
    "replicate",
    "run_replication",
    "run_replications",
]


IncidentSource = Callable[[Region, int, int], Incidents]
"""Makes the incidents of replication ``r`` for a seed: sampled (default) or replayed."""

Measure = Callable[[tuple[pd.DataFrame, ...], Region], Any]
"""What an experiment computes from one replication's tables (and the compiled region) where
they are made (in the worker): a module-level function or a picklable object, so that it can
travel to other processes."""

_MAKERS = {
    "incidents": incident_table,
    "units": unit_table,
    "levels": level_table,
    "help": help_table,
    "coverage": coverage_table,
    "free_units": free_units_table,
}
TABLES = ("incidents", "units", "levels", "help")
"""The tables of a replication, in the order :func:`run_replication` returns them by default;
``coverage`` and ``free_units`` (:mod:`sim.engine.coverage`) are made when asked for."""


@dataclass(frozen=True)
class Compiled:
    """A scenario compiled for the engine: the shared region, one fleet per option, and where
    the incidents come from."""

    scenario: Scenario
    region: Region
    fleets: dict[str, Fleet]
    source: IncidentSource = generate_incidents

    def only(self, options: Sequence[str]) -> Compiled:
        """The same scenario with the fleets of ``options`` alone."""
        return replace(self, fleets={o: self.fleets[o] for o in options})


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


# --- one replication --------------------------------------------------------------------------
@dataclass(frozen=True)
class Replication:
    """One replication: its incidents and the engine's records of every fleet against them."""

    number: int
    incidents: Incidents
    records: dict[str, EngineRecords]


def replicate(compiled: Compiled, replication: int, seed: int) -> Replication:
    """The incidents of ``replication`` and every fleet's records, before any table."""
    incidents = compiled.source(compiled.region, seed, replication)
    fleets = compiled.fleets
    runs = simulate_fleets(compiled.region, list(fleets.values()), incidents)
    return Replication(replication, incidents, dict(zip(fleets, runs, strict=True)))


def fleet_tables(
    region: Region,
    fleet: Fleet,
    incidents: Incidents,
    replication: int,
    tables: Sequence[str] = TABLES,
) -> tuple[pd.DataFrame, ...]:
    """Simulate one fleet against ``incidents`` and build the named ``tables`` of it."""
    (records,) = simulate_fleets(region, [fleet], incidents)
    return records_tables(region, fleet, incidents, records, replication, tables)


def records_tables(
    region: Region,
    fleet: Fleet,
    incidents: Incidents,
    records: EngineRecords,
    replication: int,
    tables: Sequence[str] = TABLES,
) -> tuple[pd.DataFrame, ...]:
    """The named ``tables`` of one fleet's ``records``."""
    return tuple(_MAKERS[t](region, fleet, incidents, records, replication) for t in tables)


def run_replication(
    compiled: Compiled, replication: int, seed: int, tables: Sequence[str] = TABLES
) -> tuple[pd.DataFrame, ...]:
    """Every fleet of ``compiled`` against the incidents of one replication: the named
    ``tables`` (default: incidents, units, levels, help), each holding every option."""
    region = compiled.region
    incidents = compiled.source(region, seed, replication)
    fleets = list(compiled.fleets.values())
    per_fleet = [
        records_tables(region, fleet, incidents, records, replication, tables)
        for fleet, records in zip(fleets, simulate_fleets(region, fleets, incidents), strict=True)
    ]
    return tuple(concat_tables(list(frames)) for frames in zip(*per_fleet, strict=True))


# --- many replications ------------------------------------------------------------------------
@dataclass(frozen=True)
class Replicated:
    """The tables of one replication, and what the experiment measured of them."""

    replication: int
    tables: tuple[pd.DataFrame, ...]
    measured: Any = None


def replication_task(
    compiled: Compiled,
    replication: int,
    seed: int,
    tables: tuple[str, ...],
    measure: Measure | None,
    measured_only: tuple[str, ...] = (),
) -> Replicated:
    """One task of :func:`run_replications`: a pure function of its arguments."""
    out = run_replication(compiled, replication, seed, tables)
    measured = measure(out, compiled.region) if measure is not None else None
    sent = tuple(t.iloc[:0] if n in measured_only else t for n, t in zip(tables, out, strict=True))
    return Replicated(replication, sent, measured)


def run_replications(
    compiled: Compiled,
    replications: Sequence[int],
    seed: int,
    *,
    executor: Executor | None = None,
    tables: Sequence[str] = TABLES,
    measure: Measure | None = None,
    progress: Callable[[int], None] | None = None,
    measured_only: Sequence[str] = (),
) -> list[Replicated]:
    """:func:`run_replication` of each of ``replications`` on ``executor`` (opened with
    ``compiled`` as its shared data; default: this process), in replication order whatever
    order they finish in; ``measure`` runs on each replication's tables where they are made.
    The tables named in ``measured_only`` are made for the measure alone: they come back
    empty (their columns and types only), so that a large table that the experiment needs only
    through its measure (the per-incident table) is neither sent back nor gathered."""
    if executor is None:
        with open_executor(compiled, workers=1) as serial:
            return run_replications(
                compiled,
                replications,
                seed,
                executor=serial,
                tables=tables,
                measure=measure,
                progress=progress,
                measured_only=measured_only,
            )
    args = [(r, seed, tuple(tables), measure, tuple(measured_only)) for r in replications]
    done = (lambda: progress(1)) if progress is not None else None
    results: list[Replicated] = executor.map(replication_task, args, on_done=done)
    return results


def gather(parts: Sequence[Replicated]) -> tuple[pd.DataFrame, ...]:
    """Each table concatenated over the replications, in their order."""
    return tuple(concat_tables([p.tables[i] for p in parts]) for i in range(len(parts[0].tables)))


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
