"""Starting a sweep's worker processes early: what they import, and when.

A sweep's tasks run on worker processes forked from a fork server
(:func:`sim.engine.execute.start_workers`), which imports the task's modules once. Those
imports take about a second; a command that starts the fork server first thing lets them run
beside its own imports and its reading of the scenario and design, so that the workers are
ready when the first task is sent. This module is light on purpose (it imports neither
pandas, nor the design's scipy.stats, nor the engine) so that ``intersim sweep`` can start the
fork server before importing what the parent itself needs.
"""

from __future__ import annotations

from pathlib import Path

from ..engine.execute import start_workers, uses_processes
from ..schema.load import peek_scenario
from ..schema.scenario import ZoneFile

__all__ = ["GEO_MODULES", "WORKER_MODULES", "reads_geo_files", "start_sweep_workers"]

WORKER_MODULES = ("sim.sweeps.task",)  # what the workers import before their first task
# and, for a scenario read from geo files (zones or community outlines), their readers: each
# worker compiles the points it runs, and would otherwise import them in its first task
GEO_MODULES = ("geopandas", "pyogrio")


def start_sweep_workers(workers: int | None, dask: str | None, scenario: object = None) -> bool:
    """Start the workers' fork server now where the tasks will run on local processes, so
    that their imports run while the sweep is defined and its store opened; whether it did.
    ``scenario`` (its file, if one is given) tells whether the workers will read geo files
    (:data:`GEO_MODULES`)."""
    if not uses_processes(workers, dask):
        return False
    return start_workers(WORKER_MODULES + (GEO_MODULES if reads_geo_files(scenario) else ()))


def reads_geo_files(scenario: object) -> bool:
    """Whether the scenario file ``scenario`` (anything else: not known, False) reads zones or
    community outlines from a geo file, by its shape alone (:func:`peek_scenario`)."""
    if not isinstance(scenario, str | Path) or not Path(scenario).is_file():
        return False
    peeked = peek_scenario(scenario)
    if peeked is None:
        return False
    zones = peeked.zones
    geo_zones = isinstance(zones, ZoneFile) and not zones.file.lower().endswith(".csv")
    return geo_zones or peeked.boundaries is not None
