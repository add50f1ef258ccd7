"""A sweep from start to finish: the directory, the store, the tasks, the outputs.

The output directory holds the store (``sweep.sqlite``, filled as tasks finish) and, once every
task has run, the outputs: ``summary.csv``, ``points.csv``, ``failures.csv`` (if any task
failed), ``figures/`` and ``manifest.json`` (with ``"kind": "sweep"``). Each output file is
written atomically (a temporary file renamed into place; the figures as a whole directory), so
a reader never sees half a file. With ``resume`` a directory holding the same sweep is
continued: stored tasks are kept, the missing ones (and those that failed) run.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..engine.progress import progress_bar
from ..errors import InputError
from ..results.files import (
    atomic_write_text,
    check_out_dir,
    file_sha256,
    manifest,
    write_csv,
    write_json,
)
from .definition import SweepDefinition
from .execute import ExecutionReport, execute
from .plots import draw_figures
from .store import LOCK_NAME, STORE_NAME, Store, lock_store, read_failures, read_rows, unlock_store
from .summary import points_table, summarise

__all__ = ["SweepIncomplete", "SweepResult", "prepare_directory", "run_sweep"]

WRITE_STEPS = ("summary", "figures", "manifest")  # the outputs, once every task has run


class SweepIncomplete(RuntimeError):
    """Some tasks could not run (a worker died); ``resume`` runs them."""


@dataclass
class SweepResult:
    """What a sweep produced."""

    summary: pd.DataFrame
    directory: Path
    tasks: int
    stored_before: int
    report: ExecutionReport
    failed: int
    seconds: float
    errors: list[str] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)


def prepare_directory(out: Path, *, resume: bool, overwrite: bool) -> None:
    """Check (before any work) that ``out`` can take this sweep; clear it for ``overwrite``."""
    if resume and overwrite:
        raise InputError("sweep: give --resume or --overwrite, not both")
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory")
    nonempty = out.is_dir() and any(out.iterdir())
    has_store = (out / STORE_NAME).is_file()
    if nonempty and overwrite:
        check_out_dir(out, overwrite=True, in_place=True)
        fd = lock_store(out / LOCK_NAME) if has_store else None  # not while a sweep runs there
        unlock_store(fd, out / LOCK_NAME)
        shutil.rmtree(out)
    elif nonempty and not resume:
        hint = "--resume to continue the sweep stored there, or " if has_store else ""
        raise InputError(
            f"{out}: output directory is not empty (use {hint}--overwrite to replace it)"
        )
    elif nonempty and not has_store:
        raise InputError(f"{out}: --resume: no sweep store ({STORE_NAME}) in this directory")
    else:
        check_out_dir(out, overwrite=True, in_place=True)
    out.mkdir(parents=True, exist_ok=True)


def run_sweep(
    definition: SweepDefinition,
    out: Path,
    *,
    workers: int | None = None,
    dask: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    command: str = "",
    on_start: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Run (or continue) the sweep into ``out``; write the outputs when every task has run.

    Raise :class:`SweepIncomplete` when a dead worker left tasks unrun (the store keeps every
    finished task); KeyboardInterrupt passes through, likewise leaving the store consistent.
    """
    started, t0 = datetime.now(UTC), time.perf_counter()
    prepare_directory(out, resume=resume, overwrite=overwrite)
    store = Store(out, definition)
    try:
        done = store.done()
        todo = [t for t in definition.tasks() if t.index not in done]
        if on_start is not None:
            on_start(len(done), len(todo))
        failed_now = 0
        with progress_bar(
            "sweep", "task", total=definition.n_tasks, initial=len(done), enabled=progress
        ) as bar:

            def on_done(_task: Any, ok: bool) -> None:
                nonlocal failed_now
                bar.update(1)
                if not ok:
                    failed_now += 1
                    bar.note(failed=failed_now)

            report = execute(definition, store, todo, workers=workers, dask=dask, on_done=on_done)
        if report.lost:
            raise SweepIncomplete(
                f"{report.lost} task(s) did not run because a worker died ({report.lost_reason}); "
                f"the {len(store.done())} finished task(s) are stored in {out}: rerun with "
                "--resume to run the rest"
            )
        failed = len(store.failed())
    finally:
        store.close()
    seconds = time.perf_counter() - t0
    with progress_bar("writing results", "step", total=len(WRITE_STEPS), enabled=progress) as bar:
        summary, figures = _write_outputs(
            definition,
            out,
            started=started,
            seconds=seconds,
            command=command,
            failed=failed,
            resumed=len(done),
            ran=report.ran,
            workers=workers,
            dask=dask,
            step=bar.step,
        )
    errors = report.errors
    if failed and not errors:  # failures stored by an earlier run and not rerun
        errors = [str(e) for e in read_failures(out)["error"].head(5)]
    return SweepResult(
        summary, out, definition.n_tasks, len(done), report, failed, seconds, errors, figures
    )


def _full_precision(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Parameter columns keep every digit (the metrics are written with 6 significant)."""
    out = df.copy()
    for c in columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].astype(object)
    return out


def _write_outputs(
    definition: SweepDefinition,
    out: Path,
    *,
    started: datetime,
    seconds: float,
    command: str,
    failed: int,
    resumed: int,
    ran: int,
    workers: int | None,
    dask: str | None,
    step: Callable[[str], None],
) -> tuple[pd.DataFrame, list[Path]]:
    step(WRITE_STEPS[0])
    _remove_leftovers(out)
    rows = read_rows(out)
    points = points_table(definition.points, definition.paths)
    summary = summarise(rows, points, list(definition.options), list(definition.services))
    write_csv(_full_precision(summary, definition.paths), out / "summary.csv")
    atomic_write_text(out / "points.csv", points.to_csv(index=False, lineterminator="\n"))
    failures = out / "failures.csv"
    if failed:
        write_csv(read_failures(out).drop(columns="traceback"), failures)
    else:
        failures.unlink(missing_ok=True)
    step(WRITE_STEPS[1])
    figures = _figures(definition, summary, points, out)
    step(WRITE_STEPS[2])
    scenario_file = definition.scenario_file
    if scenario_file is None:  # data given in code: keep a copy to point the manifest at
        scenario_file = out / "scenario.json"
        write_json(definition.base, scenario_file)
    meta = manifest(
        scenario_file=scenario_file,
        command=command,
        seed=definition.seed,
        replications=definition.replications,
        options=list(definition.options),
        started=started,
        seconds=seconds,
        warnings=[f"{failed} task(s) failed; see failures.csv"] if failed else [],
        extra={
            "kind": "sweep",
            "name": definition.name,
            "sweep_file": str(definition.sweep_file) if definition.sweep_file else None,
            "sweep_sha256": file_sha256(definition.sweep_file) if definition.sweep_file else None,
            "design": definition.design,
            "samples": definition.samples,
            "params": [p.spec() for p in definition.params],
            "varied": definition.varied,
            "services": list(definition.services),
            "points": len(definition.points),
            "tasks": definition.n_tasks,
            "tasks_run": ran,
            "tasks_stored_before": resumed,
            "failed": failed,
            "definition_hash": definition.hash(),
            "store": STORE_NAME,
            "executor": f"dask {dask}" if dask else f"processes ({workers or 'all CPUs'})",
            "figures": [str(p.relative_to(out)) for p in figures],
        },
    )
    write_json(meta, out / "manifest.json")
    return summary, figures


OUTPUTS = ("summary.csv", "points.csv", "failures.csv", "manifest.json", "scenario.json")


def _remove_leftovers(out: Path) -> None:
    """Temporary files of an earlier run killed while writing its outputs."""
    for path in out.glob(".*"):
        if path.is_dir() and path.name.startswith(".figures."):
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file() and any(path.name.startswith(f".{name}.") for name in OUTPUTS):
            path.unlink(missing_ok=True)


def _figures(
    definition: SweepDefinition, summary: pd.DataFrame, points: pd.DataFrame, out: Path
) -> list[Path]:
    """Draw into a temporary directory, then swap it in for ``figures/``."""
    tmp = Path(tempfile.mkdtemp(prefix=".figures.", dir=out))
    try:
        drawn = draw_figures(
            summary,
            points,
            list(definition.options),
            list(definition.services),
            definition.design,
            tmp,
        )
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    final = out / "figures"
    old = None
    if final.exists():
        old = out / f".figures.old-{time.time_ns()}"
        final.rename(old)
    tmp.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return [final / p.name for p in drawn]
