"""Running pure tasks: in this process, on local worker processes, or on Dask.

A task is ``fn(shared, *args)``: ``shared`` is the data every task of a command needs (the
scenario as JSON, or the compiled scenario), sent to each worker once; ``args`` are the task's
own few values. A task must be a pure function of those, so that its result is the same in any
process, on any machine, in any order: the results then do not depend on the executor nor on
the number of workers.

* ``workers=1`` (and no Dask), or a single task: tasks run one after the other in this process.
* otherwise, by default: a :class:`concurrent.futures.ProcessPoolExecutor` with the
  ``forkserver`` start method where available (``spawn`` elsewhere) and ``workers`` processes
  (default: the number of CPUs). The fork server imports intersim once; workers ignore Ctrl-C,
  which the parent handles, and exit when the parent dies (``kill -9``). A command that knows
  early that it will use workers starts the fork server then (:func:`start_workers`), so that
  its imports overlap the command's own work.
* ``dask="local"``: a :class:`distributed.LocalCluster` of ``workers`` (default 2) single-threaded
  worker processes; any other ``dask`` value is the address of a running scheduler
  (``tcp://host:8786``), whose workers need intersim installed. ``shared`` is scattered to every
  worker once.

:meth:`Executor.finished` keeps a window of tasks in flight and yields each as it finishes;
:meth:`Executor.map` returns the results in task order. Data that cannot be pickled cannot go to
another process: the tasks then run in this process, and :attr:`Executor.fallback` says why.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import pickle
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import InputError

__all__ = [
    "Executor",
    "Finished",
    "WorkerLost",
    "is_infrastructure_error",
    "open_executor",
    "start_workers",
    "tasks_in_flight",
    "uses_processes",
    "worker_cpu_seconds",
]

INFRASTRUCTURE = (
    "KilledWorker",
    "CommClosedError",
    "CancelledError",
    "BrokenProcessPool",
    "BrokenExecutor",
    "FutureCancelledError",
)
# what the fork server imports before it forks workers: the engine, and the geometry that a
# worker builds for scenarios with zones (sim.model.snap: the zones' cells, made where they
# are walked, not in the command's own process)
PRELOAD = ("sim.engine.driver", "scipy.spatial")

Task = Callable[..., Any]


class WorkerLost(RuntimeError):
    """A worker process died (or a Dask worker was lost) while tasks were in flight."""


def is_infrastructure_error(exc: BaseException) -> bool:
    """Whether ``exc`` says that a worker was lost rather than that the task failed."""
    return isinstance(exc, cf.BrokenExecutor) or type(exc).__name__ in INFRASTRUCTURE


def tasks_in_flight(workers: int) -> int:
    """Tasks submitted ahead: a few per worker, so none waits for the parent."""
    return max(4, 3 * workers)


@dataclass(frozen=True)
class Finished:
    """A task that has finished: its index in the submitted order, and its value or error."""

    index: int
    value: Any = None
    error: BaseException | None = None

    @property
    def lost(self) -> bool:
        """The task did not run to the end because its worker was lost."""
        return self.error is not None and is_infrastructure_error(self.error)


class _Submitter(Protocol):
    def submit(self, fn: Task, *args: Any) -> cf.Future[Any]: ...


class Executor:
    """An open executor: runs tasks ``fn(shared, *args)`` (see the module docstring)."""

    def __init__(
        self, submitter: _Submitter, workers: int, kind: str, fallback: str | None = None
    ) -> None:
        self.submitter = submitter
        self.workers = workers
        self.kind = kind
        self.fallback = fallback
        self._worker_cpu: dict[tuple[str, int], float] = {}
        self._cpu_lock = threading.Lock()  # started tasks are counted on the pool's thread

    @property
    def worker_cpu(self) -> float:
        """CPU seconds used so far by the worker processes that ran tasks (each from its start,
        imports after the fork included); 0 when the tasks ran in this process, whose own CPU
        time counts them."""
        return sum(self._worker_cpu.values())

    @property
    def window(self) -> int:
        return 1 if self.workers == 1 else tasks_in_flight(self.workers)

    def finished(self, fn: Task, args: Sequence[tuple[Any, ...]]) -> Iterator[Finished]:
        """Run ``fn(shared, *a)`` for every ``a`` of ``args``, :attr:`window` tasks in flight,
        and yield each as it finishes (those finishing together in task order). A task's
        exception is its :attr:`Finished.error`. Once the executor is broken (a dead worker
        process) nothing more is submitted, and the tasks never submitted are yielded last, as
        lost; Ctrl-C passes through."""
        queue = iter(enumerate(args))
        pending: dict[cf.Future[Any], int] = {}
        broken: BaseException | None = None

        def fill() -> None:
            while broken is None and len(pending) < self.window:
                item = next(queue, None)
                if item is None:
                    return
                i, a = item
                pending[self.submitter.submit(fn, *a)] = i

        fill()
        while pending:
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in sorted(done, key=pending.__getitem__):
                i = pending.pop(fut)
                try:
                    outcome = Finished(i, value=self._unwrap(fut.result()))
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as exc:  # Dask's CancelledError is a BaseException
                    if isinstance(exc, cf.BrokenExecutor):
                        broken = broken or exc
                    outcome = Finished(i, error=exc)
                yield outcome
            fill()
        if broken is not None:
            for i, _ in queue:
                yield Finished(i, error=broken)

    def start(self, fn: Task, *args: Any) -> None:
        """Submit ``fn(shared, *args)`` and return at once, leaving its value: work that readies
        a worker (its imports) while this process does something else. The worker's CPU time
        counts once it is done; an error is left to the tasks that follow, which meet it
        again."""
        self.submitter.submit(fn, *args).add_done_callback(self._count)

    def _count(self, fut: cf.Future[Any]) -> None:
        if not fut.cancelled() and fut.exception() is None:
            self._unwrap(fut.result())

    def _unwrap(self, value: Any) -> Any:
        if isinstance(value, _Ran):
            key = (value.host, value.pid)
            with self._cpu_lock:
                self._worker_cpu[key] = max(self._worker_cpu.get(key, 0.0), value.cpu)
            return value.value
        return value

    def map(
        self,
        fn: Task,
        args: Sequence[tuple[Any, ...]],
        on_done: Callable[[], None] | None = None,
    ) -> list[Any]:
        """``[fn(shared, *a) for a in args]``, run on the executor; raise a task's exception,
        or :class:`WorkerLost` when a worker died."""
        results: list[Any] = [None] * len(args)
        for done in self.finished(fn, args):
            if done.lost:
                exc = done.error
                raise WorkerLost(f"a worker was lost ({type(exc).__name__}: {exc}); run again")
            if done.error is not None:
                raise done.error
            results[done.index] = done.value
            if on_done is not None:
                on_done()
        return results


# --- in this process --------------------------------------------------------------------------
class _Serial:
    """Runs each task at once, in this process."""

    def __init__(self, shared: Any) -> None:
        self.shared = shared

    def submit(self, fn: Task, *args: Any) -> cf.Future[Any]:
        fut: cf.Future[Any] = cf.Future()
        try:
            fut.set_result(fn(self.shared, *args))
        except Exception as exc:
            fut.set_exception(exc)
        return fut


# --- local worker processes -------------------------------------------------------------------
_SHARED: Any = None  # in a worker process: the shared data, set once by worker_init


@dataclass(frozen=True)
class _Ran:
    """A task's value as it comes back from a worker process, with the worker's CPU time."""

    value: Any
    host: str
    pid: int
    cpu: float


def _ran(value: Any) -> _Ran:
    return _Ran(value, socket.gethostname(), os.getpid(), time.process_time())


def _with_shared(fn: Task, *args: Any) -> Any:
    return _ran(fn(_SHARED, *args))


def _on_dask(fn: Task, shared: Any, *args: Any) -> Any:
    return _ran(fn(shared, *args))


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie, killed but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True  # no /proc (macOS): signal 0 is all we know


def _watch_parent(pid: int, every: float) -> None:
    while True:
        time.sleep(every)
        if not _alive(pid):
            os._exit(3)


def worker_init(parent: int, shared: Any, every: float = 0.5) -> None:
    """Worker initializer: keeps ``shared`` for the tasks; Ctrl-C is the parent's to handle (it
    stops the pool), and a worker whose parent died (``kill -9``) exits instead of waiting
    forever for work."""
    global _SHARED
    _SHARED = shared
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.name == "posix":  # os.kill(pid, 0) would terminate the process on Windows
        threading.Thread(
            target=_watch_parent, args=(parent, every), daemon=True, name="intersim-parent-watch"
        ).start()


class _Processes:
    def __init__(self, pool: cf.ProcessPoolExecutor) -> None:
        self.pool = pool

    def submit(self, fn: Task, *args: Any) -> cf.Future[Any]:
        return self.pool.submit(_with_shared, fn, *args)


def _start_method() -> str:
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _preloaded(preload: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*PRELOAD, *preload]))


def start_workers(preload: Sequence[str] = ()) -> bool:
    """Start the fork server now, importing :data:`PRELOAD` and ``preload`` in it, for a pool
    that this process opens later: its imports (a second or so) then run beside what this
    process does meanwhile (its own imports, loading and compiling the scenario) instead of
    before the first task, and the pool forks its workers at once. A command calls it as soon
    as it knows that it will use worker processes. The fork server imports only at its start:
    ``preload`` names the modules of every task the command will run. False where workers are
    spawned rather than forked (no fork server to start)."""
    if _start_method() != "forkserver":
        return False
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(_preloaded(preload))
    forkserver.ensure_running()
    return True


@contextmanager
def process_pool(
    workers: int, shared: Any, preload: Sequence[str] = ()
) -> Iterator[cf.ProcessPoolExecutor]:
    """``workers`` processes for the length of the block; on an exception (Ctrl-C included)
    the tasks in flight are stopped at once rather than waited for."""
    method = _start_method()
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":  # workers fork with intersim imported (see start_workers)
        ctx.set_forkserver_preload(_preloaded(preload))
    pool = cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=worker_init,
        initargs=(os.getpid(), shared),
    )
    try:
        yield pool
    except BaseException:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            proc.terminate()
        pool.shutdown(wait=True)
        raise
    pool.shutdown(wait=True)


# --- Dask -------------------------------------------------------------------------------------
@contextmanager
def dask_cluster(address: str, workers: int | None) -> Iterator[Any]:
    """A Dask client: of a local cluster (``'local'``) or of the scheduler at ``address``."""
    try:  # imported here: distributed takes half a second to load and only --dask needs it
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
                dashboard_address=None,  # no dashboard
                # its HTTP server (health, metrics) on a free loopback port, not on 8787, which
                # another cluster on the machine may hold ("Port 8787 is already in use")
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
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


class _Dask:
    """Submits to a Dask client; its futures behave like concurrent.futures futures."""

    def __init__(self, client: Any, shared: Any) -> None:
        self.executor = client.get_executor(pure=False)
        self.shared = client.scatter(shared, broadcast=True, hash=False)  # once per worker

    def submit(self, fn: Task, *args: Any) -> cf.Future[Any]:
        return self.executor.submit(_on_dask, fn, self.shared, *args)  # type: ignore[no-any-return]


# --- opening one ------------------------------------------------------------------------------
def _unpicklable(shared: Any) -> str | None:
    """Why ``shared`` cannot be sent to another process, or None when it can."""
    try:
        pickle.dumps(shared, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@contextmanager
def open_executor(
    shared: Any,
    *,
    workers: int | None = None,
    dask: str | None = None,
    tasks: int | None = None,
    preload: Sequence[str] = (),
) -> Iterator[Executor]:
    """An executor for the length of the block: Dask (``dask='local'`` or a scheduler
    address), ``workers`` local processes (default: every CPU, at most ``tasks``), or this
    process (``workers=1``, a single task, or ``shared`` that cannot be pickled). ``preload``
    names the modules of the tasks, for the fork server to import once."""
    n = _processes(workers, tasks)
    if dask is None and n <= 1:
        yield Executor(_Serial(shared), 1, "this process")
        return
    why = _unpicklable(shared)
    if why is not None:
        fallback = f"the task data cannot be sent to other processes ({why}); ran in this process"
        yield Executor(_Serial(shared), 1, "this process", fallback)
        return
    if dask is not None:
        with dask_cluster(dask, workers) as client:
            nthreads = sum(client.nthreads().values()) or (workers or 2)
            with _counted(
                Executor(_Dask(client, shared), nthreads, f"dask {dask} ({nthreads} threads)")
            ) as executor:
                yield executor
        return
    with (
        process_pool(n, shared, preload) as pool,
        _counted(Executor(_Processes(pool), n, f"{n} local processes")) as executor,
    ):
        yield executor


def _processes(workers: int | None, tasks: int | None) -> int:
    return min(workers or os.cpu_count() or 1, tasks if tasks is not None else 1 << 30)


def uses_processes(workers: int | None, dask: str | None = None, tasks: int | None = None) -> bool:
    """Whether :func:`open_executor` with these arguments runs tasks on local worker
    processes (and so whether a command should :func:`start_workers`)."""
    return dask is None and _processes(workers, tasks) > 1


_CLOSED_CPU = [0.0]  # CPU seconds of the workers of every executor closed in this process


@contextmanager
def _counted(executor: Executor) -> Iterator[Executor]:
    try:
        yield executor
    finally:
        _CLOSED_CPU[0] += executor.worker_cpu


def worker_cpu_seconds() -> float:
    """CPU seconds used by the worker processes (local or Dask) of every executor closed so far
    in this process: with this process's own CPU time, what a command cost in all."""
    return _CLOSED_CPU[0]
