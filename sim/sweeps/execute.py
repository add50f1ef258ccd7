"""Running the tasks of a sweep: in this process, on local worker processes, or on Dask.

* ``workers=1`` (and no Dask): tasks run one after the other in this process.
* otherwise, by default: a :class:`concurrent.futures.ProcessPoolExecutor` with the
  ``forkserver`` start method where available (``spawn`` elsewhere) and ``workers`` processes
  (default: the number of CPUs). The fork server imports intersim once; workers ignore Ctrl-C,
  which the parent handles, and exit when the parent dies (``kill -9``).
* ``dask="local"``: a :class:`distributed.LocalCluster` of ``workers`` (default 2) single-threaded
  worker processes; any other ``dask`` value is the address of a running scheduler
  (``tcp://host:8786``), whose workers need intersim installed.

Tasks are submitted a few at a time per worker and recorded by the parent as each finishes, in
whatever order they finish; results do not depend on that order, nor on the number of workers.
A worker that dies (a killed process, a lost Dask worker) loses only its unfinished tasks: they
are left out of the store and ``--resume`` runs them.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from .definition import SweepDefinition, Task
from .store import Store
from .task import run_task, worker_init

__all__ = [
    "DaskExecutor",
    "ExecutionReport",
    "Serial",
    "dask_cluster",
    "execute",
    "is_infrastructure_error",
    "process_pool",
    "tasks_in_flight",
]

INFRASTRUCTURE = (
    "KilledWorker",
    "CommClosedError",
    "CancelledError",
    "BrokenProcessPool",
    "BrokenExecutor",
    "FutureCancelledError",
)


@dataclass
class ExecutionReport:
    """What happened to the tasks of this run."""

    ran: int = 0
    failed: int = 0
    lost: int = 0
    lost_reason: str = ""
    errors: list[str] = field(default_factory=list)


def is_infrastructure_error(exc: BaseException) -> bool:
    return any(
        type(exc).__name__ == n or isinstance(exc, cf.process.BrokenProcessPool)
        for n in INFRASTRUCTURE
    )


class Serial:
    """Runs each task at once in this process; the same interface as an executor."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future[Any]:
        fut: cf.Future[Any] = cf.Future()
        fut.set_result(fn(*args))
        return fut

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to shut down: every task already ran."""


def _start_method() -> str:
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


@contextmanager
def process_pool(workers: int) -> Iterator[cf.ProcessPoolExecutor]:
    method = _start_method()
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload(["sim.sweeps.task"])  # workers fork with intersim imported
    pool = cf.ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=worker_init, initargs=(os.getpid(),)
    )
    try:
        yield pool
    except BaseException:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:  # stop the tasks in flight now rather than wait for them
            proc.terminate()
        pool.shutdown(wait=True)
        raise
    pool.shutdown(wait=True)


@contextmanager
def dask_cluster(address: str, workers: int | None) -> Iterator[Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - a dependency; kept for a clear message
        raise InputError(
            "--dask needs dask[distributed]: pip install 'dask[distributed]'"
        ) from None
    cluster = None
    try:
        if address == "local":
            cluster = LocalCluster(
                n_workers=workers or 2,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,  # loopback only
            )
            client = Client(cluster)
        else:
            client = Client(address, timeout="20s")
    except OSError as exc:
        if cluster is not None:
            cluster.close()
        raise InputError(f"--dask {address}: cannot connect to the scheduler ({exc})") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class DaskExecutor:
    """Submits to a Dask client; futures behave like concurrent.futures futures."""

    def __init__(self, client: Any, base_json: str) -> None:
        self.client = client
        self.executor = client.get_executor(pure=False)
        # the scenario data goes to every worker once, not with every task
        self.base = client.scatter(base_json, broadcast=True, hash=False)

    def submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future[Any]:
        return self.executor.submit(fn, self.base, *args[1:])  # type: ignore[no-any-return]

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.executor.shutdown(wait=wait)


def tasks_in_flight(workers: int) -> int:
    return max(4, 3 * workers)


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
    if dask is not None:
        with dask_cluster(dask, workers) as client:
            nthreads = sum(client.nthreads().values()) or (workers or 2)
            _loop(
                definition,
                store,
                todo,
                DaskExecutor(client, definition.base_json),
                tasks_in_flight(nthreads),
                report,
                on_done,
            )
        return report
    n = workers or os.cpu_count() or 1
    if n == 1:
        _loop(definition, store, todo, Serial(), 1, report, on_done)
        return report
    with process_pool(min(n, len(todo))) as pool:
        _loop(definition, store, todo, pool, tasks_in_flight(n), report, on_done)
    return report


def _loop(
    definition: SweepDefinition,
    store: Store,
    todo: list[Task],
    executor: Any,
    window: int,
    report: ExecutionReport,
    on_done: Callable[[Task, bool], None] | None,
) -> None:
    queue = iter(todo)
    pending: dict[cf.Future[Any], Task] = {}
    broken = False

    def fill() -> None:
        while not broken and len(pending) < window:
            task = next(queue, None)
            if task is None:
                return
            fut = executor.submit(
                run_task,
                definition.base_json,
                definition.point_json(task.point),
                task.option,
                task.replication,
            )
            pending[fut] = task

    fill()
    while pending:
        done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        for fut in sorted(done, key=lambda f: pending[f].index):
            task = pending.pop(fut)
            try:
                outcome = fut.result()
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                if is_infrastructure_error(exc):
                    report.lost += 1
                    report.lost_reason = report.lost_reason or f"{type(exc).__name__}: {exc}"
                    broken = broken or isinstance(exc, cf.BrokenExecutor)
                    continue
                outcome = {
                    "rows": [],
                    "error": f"{type(exc).__name__}: {exc}",
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
        fill()
    if broken:
        report.lost += sum(1 for _ in queue)


def _describe(definition: SweepDefinition, task: Task, error: str) -> str:
    point = definition.points[task.point]
    varied = definition.varied or definition.paths
    shown = ", ".join(f"{p}={point[p]}" for p in varied)
    first = error.splitlines()[0] if error else "error"
    return (
        f"task {task.index} (point {task.point}: {shown}; option {task.option}; "
        f"replication {task.replication}): {first}"
    )
