"""The result directory of ``compare``: every table, the summaries the figures are drawn from,
the unit and level tables (the per-incident table only with ``records``), the manifest,
``region.json``, the figures and the report, and the console table."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..analysis.erlang import large_gap
from ..analysis.metrics import ALL
from ..engine.progress import Progress, Stages
from ..plots import draw_figures, figure_steps, figure_workers
from ..results.display import console_table
from ..results.files import (
    manifest,
    output_dir,
    write_csv,
    write_json,
    write_parquet,
)
from ..results.read import INCIDENTS_FILE, RESPONSES_FILE
from ..results.region import REGION_FILE, region_record
from ..schema import Scenario, load_scenario
from .compare import TABLES, Comparison

if TYPE_CHECKING:
    from ..engine.execute import Executor
    from ..report.page import PreparedReport

CSV_FILES = {"units": "unit_summary.csv"}  # the others: <table>.csv
WRITE_STEPS = ("tables", "zone layer", "workbook", "report")  # and the figures

__all__ = ["format_comparison", "write_comparison", "write_steps"]


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
    records: bool = False,
    progress: Progress | None = None,
    workers: int | None = 1,
    stages: Stages | None = None,
) -> None:
    """Write every table of a comparison, the response histogram, the unit and level tables
    (and with ``records`` the per-incident table), the manifest, ``region.json`` (the
    scenario's places, options and targets, read from ``scenario`` or ``scenario_file``), the
    figures and the HTML report: all inside the temporary directory, so the result directory
    appears complete or not at all. ``progress`` is told each of the :func:`write_steps`. The
    figures are drawn on ``workers`` processes (None: every CPU; 1: this process), started
    before the tables are written, while this process writes the workbook. ``stages`` times
    the tables, the figures (with the workbook) and the report; the manifest ends with every
    stage's times."""
    if scenario is None:
        scenario = load_scenario(scenario_file)
    step = progress.step if progress is not None else (lambda _label: None)
    stages = stages if stages is not None else Stages()

    def write_manifest(tmp: Path, **extra: object) -> None:
        info = manifest(
            scenario_file=scenario_file,
            command=command,
            seed=comp.raw.seed,
            replications=comp.replications,
            options=comp.raw.options,
            started=started,
            seconds=seconds,
            warnings=comp.warnings,
            extra={
                "baseline": comp.baseline,
                "precision_reached": comp.precision_reached,
                "records": records,
                **extra,
            },
        )
        write_json(info, tmp / "manifest.json")

    with output_dir(out, overwrite) as tmp:
        # the figures' workers start now: their imports run while this process writes tables
        with figure_workers(tmp, workers) as drawers:
            stages.start("tables")
            step(WRITE_STEPS[0])
            if records:
                write_parquet(comp.raw.incidents, tmp / INCIDENTS_FILE)
            write_parquet(comp.raw.units, tmp / "units.parquet")
            write_parquet(comp.raw.levels, tmp / "levels.parquet")
            write_parquet(comp.responses, tmp / RESPONSES_FILE)
            for name in TABLES:  # every table of the comparison, one CSV each
                write_csv(getattr(comp, name), tmp / CSV_FILES.get(name, f"{name}.csv"))
            write_manifest(tmp)
            write_json(region_record(scenario), tmp / REGION_FILE)
            step(WRITE_STEPS[1])
            write_zone_layer(comp.zones, scenario, tmp)
            stages.start("figures")
            step(WRITE_STEPS[2])
            prepared = _figures_and_workbook(tmp, step, drawers)
        stages.start("report")
        step(WRITE_STEPS[3])
        build_report(tmp, prepared)
        stages.stop()
        write_manifest(tmp, stages=stages.times)


def _figures_and_workbook(
    tmp: Path, step: Callable[[str], None], drawers: Executor | None
) -> PreparedReport | None:
    """The figures; while ``drawers`` (:func:`figure_workers`) draw them, the workbook and the
    report up to its figures (:func:`prepare_report`, returned; None when this process
    draws)."""
    if drawers is None:
        write_workbook(tmp)
        draw_figures(tmp, on_step=step)
        return None
    with ThreadPoolExecutor(1, thread_name_prefix="intersim-workbook") as side:
        book = side.submit(write_workbook, tmp)
        report = side.submit(prepare_report, tmp)
        draw_figures(tmp, on_step=step, drawers=drawers)
        book.result()
        return report.result()


# The writers of the zone layer, the workbook and the report import their libraries (geopandas,
# xlsxwriter, jinja2) when called, not with this module: the command loads them only once it
# writes, so that its simulation starts sooner.
def write_zone_layer(zones: pd.DataFrame, scenario: Scenario, tmp: Path) -> None:
    """``zones.gpkg`` (:func:`sim.results.zonelayer.write_zone_layer`)."""
    from ..results.zonelayer import ZONE_LAYER
    from ..results.zonelayer import write_zone_layer as write

    write(zones, scenario, tmp / ZONE_LAYER)


def write_workbook(result_dir: Path) -> None:
    """``results.xlsx`` (:func:`sim.results.workbook.write_workbook`)."""
    from ..results.workbook import write_workbook as write

    write(result_dir)


def prepare_report(result_dir: Path) -> PreparedReport:
    """The report up to its figures (:func:`sim.report.page.prepare_report`)."""
    from ..report.page import prepare_report as prepare

    return prepare(result_dir)


def build_report(result_dir: Path, prepared: PreparedReport | None = None) -> None:
    """``report.html`` (:func:`sim.report.page.build_report`), from its :func:`prepare_report`
    if made."""
    from ..report.page import build_report as build

    build(result_dir, prepared)


def write_steps() -> int:
    """The steps of :func:`write_comparison`: tables, zone layer, workbook, each kind of
    figure, report."""
    return len(WRITE_STEPS) + figure_steps()


def format_comparison(comp: Comparison) -> str:
    """The console table of ``compare``: per service, all priorities and then every priority
    with a target; the share within target and the 90th percentile before the mean, the share
    never reached beside them, verdicts and Erlang C."""
    head = comp.headline.set_index(["service", "priority", "option"])
    names = {
        "incidents": "calls",
        "within_target": "in target",
        "p90_response": "p90 resp",
        "mean_response": "mean resp",
        "open_share": "never reached",
        "waited": "waited",
        "p_wait_erlang": "P(wait) Erlang",
        "within_target_vs_baseline": "in target vs baseline",
        "vs_baseline": "mean resp vs baseline",
    }
    table = head[[c for c in names if c in head]].rename(columns=names)
    for col in ("in target vs baseline", "mean resp vs baseline"):
        if col in table:
            table[col] = table[col].replace("no significant difference", "not significant")
    return console_table(table) + "".join(f"\nnote: {n}" for n in erlang_gap_notes(comp))


def erlang_gap_notes(comp: Comparison) -> list[str]:
    """Where the simulated share that waited is far from Erlang C (all priorities), with the
    estimate's caveats."""
    s = comp.summary
    waited = s[(s["community"] == ALL) & (s["priority"] == ALL) & (s["metric"] == "waited")]
    waited = waited.set_index(["service", "option"])
    head = comp.headline[comp.headline["priority"] == ALL]
    est = comp.estimate[comp.estimate["community"] == ALL].drop_duplicates(["service", "option"])
    reasons = est.set_index(["service", "option"])["caveats"]
    out = []
    for sv, o, p in zip(head["service"], head["option"], head["p_wait_erlang"], strict=True):
        if (sv, o) not in waited.index:
            continue
        w = waited.loc[(sv, o)]
        if large_gap(float(w["mean"]), float(w["ci_low"]), float(w["ci_high"]), float(p)):
            why = reasons.get((sv, o), "")
            out.append(
                f"{sv}, {o}: {w['mean']:.1%} waited in the simulation against {p:.1%} by Erlang C"
                + (f" ({why})" if why else "")
            )
    return out
