"""Parameter sweeps: vary fields of a scenario over a design and simulate every point.

A sweep runs tasks, one per (design point, pooling option, replication), each a pure function
of the scenario data, the point, the option and the replication (with the sweep's seed), so the
results are the same on one process, many, or a Dask cluster, and replication ``r`` sees the
same random numbers under every option (common random numbers). Results stream into a SQLite
store, ``DIR/sweep.sqlite`` (one transaction per finished task, written by the parent only; see
:mod:`sim.sweeps.store` for why SQLite), so an interrupted sweep continues with ``resume``.

From Python::

    from sim.sweeps import sweep
    summary = sweep(
        "scenarios/two_towns.yaml",
        {"demand_scale": "0.8:1.4:4", "run.horizon": "90 d"},
        replications=5, workers=4,
    )

Modules: :mod:`.params` (paths and values), :mod:`.design` (grid, lhs, random),
:mod:`.definition` (the checked definition, sweep files), :mod:`.task` (one task),
:mod:`.store` (SQLite), :mod:`.workers` (starting the workers early), :mod:`.execute` (the
tasks on an executor of :mod:`sim.engine.execute`),
:mod:`.summary`, :mod:`.plots`, :mod:`.run` (directory and outputs); the command is in
:mod:`sim.cli.sweep`.
"""

from __future__ import annotations

import importlib
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from .definition import SweepDefinition, build_definition
    from .plots import draw_sweep_figures, is_sweep_dir
    from .store import read_failures, read_points, read_rows

# The names above are imported when first asked for (PEP 562), not with the package: a worker
# process imports :mod:`.task` alone, and must not pay for the parent's design (scipy.stats)
# and figures (matplotlib) before its first task.
_LAZY = {
    "SweepDefinition": "definition",
    "build_definition": "definition",
    "draw_sweep_figures": "plots",
    "is_sweep_dir": "plots",
    "read_failures": "store",
    "read_points": "store",
    "read_rows": "store",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "SweepDefinition",
    "build_definition",
    "draw_sweep_figures",
    "is_sweep_dir",
    "read_failures",
    "read_points",
    "read_rows",
    "read_summary",
    "sweep",
]


def sweep(
    scenario: str | Path | dict[str, Any],
    params: dict[str, Any] | None = None,
    *,
    design: str | None = None,
    samples: int | None = None,
    replications: int | None = None,
    seed: int | None = None,
    options: list[str] | None = None,
    workers: int | None = None,
    dask: str | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> pd.DataFrame:
    """Run a sweep and return its summary (per point x option x service x metric: mean, n and
    95 % confidence interval across replications, with the parameter values).

    ``scenario`` is a scenario file, a sweep file (whose settings ``params`` and the keywords
    override), or scenario data as a dict. ``params`` maps a dotted path to a list of values,
    one value (fixed), or VALUES text (``"1:3:3"``, ``"separate,pooled"``, ``"uniform(1,2)"``).
    With ``out`` the store and every output stay in that directory (continue an interrupted
    sweep with ``resume=True``); without, they go to a temporary directory. The summary's
    ``attrs`` hold ``failed`` (the number of failed tasks) and ``errors`` (the first few).
    """
    from .definition import build_definition
    from .run import run_sweep
    from .workers import start_sweep_workers

    start_sweep_workers(workers, dask, scenario)
    definition = build_definition(
        scenario,
        params,
        design=design,
        samples=samples,
        replications=replications,
        seed=seed,
        options=options,
    )
    if out is not None:
        result = run_sweep(
            definition,
            Path(out),
            workers=workers,
            dask=dask,
            resume=resume,
            overwrite=overwrite,
            progress=progress,
            command="sim.sweeps.sweep",
        )
        summary = result.summary
    else:
        with tempfile.TemporaryDirectory(prefix="intersim-sweep-") as tmp:
            result = run_sweep(
                definition,
                Path(tmp) / "sweep",
                workers=workers,
                dask=dask,
                progress=progress,
                command="sim.sweeps.sweep",
            )
            summary = result.summary
    summary.attrs["failed"] = result.failed
    summary.attrs["errors"] = list(result.errors)
    return summary


def read_summary(directory: str | Path) -> pd.DataFrame:
    """The ``summary.csv`` of a finished sweep directory."""
    import pandas as pd

    return pd.read_csv(Path(directory) / "summary.csv")
