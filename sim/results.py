"""Result directories of ``run`` and ``compare``: tables, manifest, and a console headline.

Each directory is written through :func:`sim.outputs.output_dir`, so it appears complete or not
at all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from .compare import Comparison
from .metrics import ALL, incident_metrics
from .outputs import manifest, output_dir, write_csv, write_json, write_parquet
from .runner import RunResult
from .schema import Scenario
from .stats import with_ci

__all__ = [
    "default_out_dir",
    "format_comparison",
    "format_headline",
    "run_summary",
    "write_comparison",
    "write_run",
]


def default_out_dir(scenario_file: Path, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return Path("results") / f"{scenario_file.stem}-{stamp}"


def run_summary(result: RunResult) -> pd.DataFrame:
    """Headline metrics of a run with 95 % confidence intervals across replications."""
    return with_ci(
        incident_metrics(result.incidents), ["option", "service", "priority", "community", "metric"]
    )


def _tables(out: Path, incidents: pd.DataFrame, units: pd.DataFrame) -> None:
    write_parquet(incidents, out / "incidents.parquet")
    write_parquet(units, out / "units.parquet")


def write_run(
    result: RunResult,
    out: Path,
    *,
    scenario_file: Path,
    command: str,
    started: datetime,
    overwrite: bool = False,
) -> pd.DataFrame:
    """Write incidents, units, levels, summary and manifest of a run; return the summary."""
    summary = run_summary(result)
    with output_dir(out, overwrite) as tmp:
        _tables(tmp, result.incidents, result.units)
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


def write_comparison(
    comp: Comparison,
    out: Path,
    *,
    scenario_file: Path,
    command: str,
    started: datetime,
    seconds: float,
    overwrite: bool = False,
    scenario: Scenario | None = None,
) -> None:
    """Write every table of a comparison, the raw tables, the manifest, ``region.json`` (the
    scenario's places, options and targets, read from ``scenario`` or ``scenario_file``), the
    figures and the HTML report: all inside the temporary directory, so the result directory
    appears complete or not at all."""
    from .plots import REGION_FILE, draw_figures, region_record
    from .report import build_report
    from .schema import load_scenario

    if scenario is None:
        scenario = load_scenario(scenario_file)
    with output_dir(out, overwrite) as tmp:
        _tables(tmp, comp.raw.incidents, comp.raw.units)
        write_parquet(comp.raw.levels, tmp / "levels.parquet")
        for name in (
            "summary",
            "comparison",
            "units",
            "help",
            "balance",
            "costs",
            "shares",
            "equity",
            "estimate",
            "levels",
        ):
            write_csv(
                getattr(comp, name), tmp / f"{name if name != 'units' else 'unit_summary'}.csv"
            )
        write_csv(comp.headline(), tmp / "headline.csv")
        write_json(
            manifest(
                scenario_file=scenario_file,
                command=command,
                seed=comp.raw.seed,
                replications=comp.replications,
                options=comp.raw.options,
                started=started,
                seconds=seconds,
                warnings=comp.warnings,
                extra={"baseline": comp.baseline, "precision_reached": comp.precision_reached},
            ),
            tmp / "manifest.json",
        )
        write_json(region_record(scenario), tmp / REGION_FILE)
        draw_figures(tmp)
        build_report(tmp)


def format_headline(summary: pd.DataFrame) -> str:
    """A compact console table: region-wide metrics per option and service."""
    s = summary[(summary["community"] == ALL) & (summary["priority"] == ALL)]
    wide = s.pivot_table(
        index=["service", "option"], columns="metric", values="mean", observed=True, sort=False
    )
    cols = {
        "incidents": "calls",
        "mean_response": "mean resp",
        "p90_response": "p90 resp",
        "within_target": "in target",
        "waited": "waited",
    }
    table = wide[[c for c in cols if c in wide]].rename(columns=cols)
    return _fmt(table)


def _fmt(table: pd.DataFrame) -> str:
    fmt = {
        "calls": "{:,.0f}".format,
        "mean resp": "{:.1f} min".format,
        "p90 resp": "{:.1f} min".format,
        "in target": "{:.1%}".format,
        "waited": "{:.1%}".format,
        "P(wait) Erlang": "{:.1%}".format,
    }
    return table.to_string(formatters={k: v for k, v in fmt.items() if k in table}, na_rep="-")


def format_comparison(comp: Comparison) -> str:
    """The console table of ``compare``: headline per option with verdicts and Erlang C."""
    head = comp.headline().set_index(["service", "option"])
    names = {
        "incidents": "calls",
        "mean_response": "mean resp",
        "p90_response": "p90 resp",
        "within_target": "in target",
        "waited": "waited",
        "p_wait_erlang": "P(wait) Erlang",
        "vs_baseline": "mean resp vs baseline",
    }
    table = head[[c for c in names if c in head]].rename(columns=names)
    return _fmt(table)
