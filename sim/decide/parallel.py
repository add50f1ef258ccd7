"""Running evaluation tasks on the executors of :mod:`sim.sweep.execute`.

The sweep module owns the machinery: a process pool (forkserver, workers that ignore Ctrl-C
and exit when the parent dies), a local Dask cluster or a remote scheduler (the scenario data
scattered once to every worker), or this process alone. This module only opens one of those
for the length of a command and maps pure tasks over it, a window of tasks in flight, with
results returned in task order whatever order they finish in. A task is
``fn(base_json, *args)``; on Dask ``base_json`` is replaced by the scattered copy.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..sweeps.execute import (
    DaskExecutor,
    Serial,
    dask_cluster,
    is_infrastructure_error,
    process_pool,
    tasks_in_flight,
)

__all__ = ["Pool", "open_pool"]


class Pool:
    """An open executor; :meth:`map` runs tasks on it."""

    def __init__(self, executor: Any, workers: int, base_json: str, kind: str) -> None:
        self.executor = executor
        self.workers = workers
        self.base_json = base_json
        self.kind = kind

    def map(
        self,
        fn: Callable[..., Any],
        args: Sequence[tuple[Any, ...]],
        on_done: Callable[[], None] | None = None,
    ) -> list[Any]:
        """``[fn(base_json, *a) for a in args]``, run on the pool."""
        results: list[Any] = [None] * len(args)
        queue = iter(enumerate(args))
        pending: dict[cf.Future[Any], int] = {}
        window = tasks_in_flight(self.workers)

        def fill() -> None:
            while len(pending) < window:
                item = next(queue, None)
                if item is None:
                    return
                i, a = item
                pending[self.executor.submit(fn, self.base_json, *a)] = i

        fill()
        while pending:
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                i = pending.pop(fut)
                try:
                    results[i] = fut.result()
                except BaseException as exc:
                    if is_infrastructure_error(exc):
                        raise RuntimeError(
                            f"a worker was lost ({type(exc).__name__}: {exc}); run again"
                        ) from None
                    raise
                if on_done is not None:
                    on_done()
            fill()
        return results


@contextmanager
def open_pool(
    base_json: str, workers: int | None = None, dask: str | None = None, tasks_hint: int = 1_000
) -> Iterator[Pool]:
    """A pool for the length of the block: Dask (``dask='local'`` or a scheduler address),
    ``workers`` local processes (default: every CPU), or this process (``workers=1``)."""
    if dask is not None:
        with dask_cluster(dask, workers) as client:
            nthreads = sum(client.nthreads().values()) or (workers or 2)
            yield Pool(
                DaskExecutor(client, base_json),
                nthreads,
                base_json,
                f"dask {dask} ({nthreads} threads)",
            )
        return
    n = workers or os.cpu_count() or 1
    if n == 1 or tasks_hint <= 1:
        yield Pool(Serial(), 1, base_json, "this process")
        return
    with process_pool(n) as pool:
        yield Pool(pool, n, base_json, f"{n} local processes")
