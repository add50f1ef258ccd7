"""The result directory of ``run``: raw tables, summary, manifest, and a console headline.

The directory is written through :func:`sim.results.files.output_dir`, so it appears complete or not
at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pandas as pd

from ..analysis.metrics import ALL, incident_metrics
from ..analysis.stats import with_ci
from ..engine.driver import RunResult
from ..engine.progress import Progress
from ..results.display import console_table
from ..results.files import (
    manifest,
    output_dir,
    write_csv,
    write_json,
    write_parquet,
    write_raw_tables,
)

__all__ = ["WRITE_STEPS", "format_headline", "run_summary", "write_run"]

WRITE_STEPS = ("summary", "tables")


def run_summary(result: RunResult) -> pd.DataFrame:
    """Headline metrics of a run with 95 % confidence intervals across replications."""
    return with_ci(
        incident_metrics(result.incidents), ["option", "service", "priority", "community", "metric"]
    )


def write_run(
    result: RunResult,
    out: Path,
    *,
    scenario_file: Path,
    command: str,
    started: datetime,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Write incidents, units, levels, summary and manifest of a run; return the summary.
    ``progress`` is told each of the :data:`WRITE_STEPS`."""
    step = progress.step if progress is not None else (lambda _label: None)
    step(WRITE_STEPS[0])
    summary = run_summary(result)
    with output_dir(out, overwrite) as tmp:
        step(WRITE_STEPS[1])
        write_raw_tables(tmp, result.incidents, result.units)
        write_parquet(result.levels, tmp / "levels.parquet")
        write_csv(summary, tmp / "summary.csv")
        write_json(
            manifest(
                scenario_file=scenario_file,
                command=command,
                seed=result.seed,
                replications=result.replications,
                options=result.options,
                started=started,
                seconds=result.seconds,
                warnings=result.warnings,
            ),
            tmp / "manifest.json",
        )
    return summary


def format_headline(summary: pd.DataFrame, options: Sequence[str]) -> str:
    """A compact console table: region-wide metrics per service and option, the options of
    each service in the order given (the scenario's order; ``summary.csv`` stays sorted)."""
    s = summary[(summary["community"] == ALL) & (summary["priority"] == ALL)]
    wide = s.pivot_table(
        index=["service", "option"], columns="metric", values="mean", observed=True, sort=False
    )
    order = [*options, *(o for o in dict.fromkeys(s["option"]) if o not in options)]
    services = dict.fromkeys(wide.index.get_level_values("service"))
    wide = wide.reindex(
        pd.MultiIndex.from_tuples(
            [(sv, o) for sv in services for o in order if (sv, o) in wide.index],
            names=wide.index.names,
        )
    )
    cols = {
        "incidents": "calls",
        "mean_response": "mean resp",
        "p90_response": "p90 resp",
        "open_share": "never reached",
        "within_target": "in target",
        "waited": "waited",
    }
    table = wide[[c for c in cols if c in wide]].rename(columns=cols)
    return console_table(table)
