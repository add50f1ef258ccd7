"""Running the tasks of a sweep on an executor of :mod:`sim.engine.execute` (this process,
local worker processes, or Dask), each recorded in the store as it finishes.

Tasks are sent the longest first (by the definition's estimate, :meth:`SweepDefinition.by_cost`),
so that the last task to finish is a short one rather than a long one run alone while the other
workers idle. They are recorded by the parent in whatever order they finish; results do not
depend on that order, nor on the number of workers. A worker that dies (a killed process, a
lost Dask worker) loses only its unfinished tasks: they are left out of the store and
``--resume`` runs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..engine.execute import Executor, open_executor
from .definition import SweepDefinition, Task
from .store import Store
from .task import run_task
from .workers import WORKER_MODULES

__all__ = ["ExecutionReport", "execute"]


@dataclass
class ExecutionReport:
    """What happened to the tasks of this run."""

    ran: int = 0
    failed: int = 0
    lost: int = 0
    lost_reason: str = ""
    errors: list[str] = field(default_factory=list)


def execute(
    definition: SweepDefinition,
    store: Store,
    todo: list[Task],
    *,
    workers: int | None = None,
    dask: str | None = None,
    on_done: Callable[[Task, bool], None] | None = None,
) -> ExecutionReport:
    """Run ``todo`` and record each task in ``store`` as it finishes."""
    report = ExecutionReport()
    if not todo:
        return report
    todo = definition.by_cost(todo)
    with open_executor(
        definition.base_json,
        workers=workers,
        dask=dask,
        tasks=len(todo),
        preload=WORKER_MODULES,
    ) as executor:
        _record(definition, store, todo, executor, report, on_done)
    return report


def _record(
    definition: SweepDefinition,
    store: Store,
    todo: list[Task],
    executor: Executor,
    report: ExecutionReport,
    on_done: Callable[[Task, bool], None] | None,
) -> None:
    args = [(definition.point_json(t.point), t.option, t.replication) for t in todo]
    for done in executor.finished(run_task, args):
        task = todo[done.index]
        if done.lost:
            report.lost += 1
            report.lost_reason = report.lost_reason or f"{type(done.error).__name__}: {done.error}"
            continue
        outcome: dict[str, Any] = done.value
        if done.error is not None:
            outcome = {
                "rows": [],
                "error": f"{type(done.error).__name__}: {done.error}",
                "traceback": None,
                "warnings": [],
                "seconds": None,
            }
        ok = store.record(task, outcome)
        report.ran += 1
        if not ok:
            report.failed += 1
            if len(report.errors) < 5:
                report.errors.append(_describe(definition, task, outcome["error"]))
        if on_done is not None:
            on_done(task, ok)


def _describe(definition: SweepDefinition, task: Task, error: str) -> str:
    point = definition.points[task.point]
    varied = definition.varied or definition.paths
    shown = ", ".join(f"{p}={point[p]}" for p in varied)
    first = error.splitlines()[0] if error else "error"
    return (
        f"task {task.index} (point {task.point}: {shown}; option {task.option}; "
        f"replication {task.replication}): {first}"
    )
