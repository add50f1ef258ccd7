"""``results.xlsx``: the tables of a result directory for people who open them in a spreadsheet.

The tidy CSV files stay the interface for code. The workbook shows the same numbers with
display names, units in the headers, times as minutes:seconds, shares as percentages and counts
without decimals; every sheet has a frozen header row and a filter, and a README sheet describes
every column. A cell holds the CSV's number itself (times as spreadsheet durations: minutes /
1440), so a formula on the sheet computes with exact values.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

__all__ = ["METRICS", "SHEETS", "WORKBOOK_FILE", "write_workbook"]

WORKBOOK_FILE = "results.xlsx"

# metric -> (display name, kind): kinds are time (minutes), share, count, money, number
METRICS: dict[str, tuple[str, str]] = {
    "incidents": ("Calls", "count"),
    "mean_response": ("Mean response", "time"),
    "median_response": ("Median response", "time"),
    "p90_response": ("90th percentile response", "time"),
    "p95_response": ("95th percentile response", "time"),
    "within_target": ("Share within target", "share"),
    "mean_wait": ("Mean wait for a unit", "time"),
    "waited": ("Share that waited for a unit", "share"),
    "open": ("Calls open at the horizon", "count"),
    "open_share": ("Share never reached (open at the horizon)", "share"),
    "cost": ("Cost per year of the run", "money"),
    "cost_per_incident": ("Cost per call", "money"),
    "cost_per_resident": ("Cost per resident", "money"),
    "worst_within_target": ("Worst community's share within target", "share"),
    "spread_within_target": ("Spread of the share within target", "share"),
    "gini_p90": ("Gini coefficient of p90 response", "number"),
    "spread_p90": ("Spread of p90 response", "time"),
    "busy_fraction": ("Busy fraction", "share"),
    "dispatches": ("Dispatches", "count"),
    "share_for_others": ("Share of busy time for other communities", "share"),
    "moves": ("Moves between posts", "count"),
    "move_min": ("Minutes driven on moves", "number"),
}
UNIT_OF_KIND = {"time": "min:s", "share": "%", "count": "", "money": "money", "number": ""}


@dataclass(frozen=True)
class Column:
    source: str  # column of the CSV file
    title: str  # header on the sheet
    kind: str  # time, share, count, money, number, text, or "metric" (by the row's metric)
    meaning: str


def _id(source: str, title: str, meaning: str) -> Column:
    return Column(source, title, "text", meaning)


_OPTION = _id("option", "Option", "Pooling option")
_SERVICE = _id("service", "Service", "Service (ambulance, fire, ...)")
_PRIORITY = _id(
    "priority", "Priority", "Priority of the calls (1 most urgent; all: every priority)"
)
_COMMUNITY = _id("community", "Community", "Community of the calls (all: the whole region)")
_METRIC = _id("metric", "Measure", "What the row measures")
_UNIT = _id("unit_of_measure", "Unit", "Unit of the row's numbers")
_N = Column("n", "Replications", "count", "Replications the mean is taken over")


def _metric_column(metric: str) -> Column:
    title, kind = METRICS[metric]
    unit = UNIT_OF_KIND[kind]
    return Column(metric, f"{title} ({unit})" if unit else title, kind, "")


def _ci(kind: str, what: str = "mean") -> list[Column]:
    return [
        Column("mean", "Mean", kind, f"The {what} over replications"),
        _N,
        Column("ci_low", "95 % CI low", kind, "Lower end of the 95 % confidence interval"),
        Column("ci_high", "95 % CI high", kind, "Upper end of the 95 % confidence interval"),
    ]


SHEETS: dict[str, tuple[str, list[Column]]] = {
    "headline.csv": (
        "Headline",
        [
            _SERVICE,
            _OPTION,
            *[
                _metric_column(m)
                for m in ("incidents", "mean_response", "p90_response", "within_target")
            ],
            *[_metric_column(m) for m in ("open_share", "waited", "mean_wait")],
            _id("vs_baseline", "Mean response against the baseline", "Verdict of the paired test"),
            Column(
                "p_wait_erlang",
                "Probability of waiting, Erlang C (%)",
                "share",
                "The analytic estimate beside the simulated share that waited",
            ),
        ],
    ),
    "summary.csv": (
        "Summary",
        [_OPTION, _SERVICE, _PRIORITY, _COMMUNITY, _METRIC, _UNIT, *_ci("metric")],
    ),
    "comparison.csv": (
        "Comparison",
        [
            _OPTION,
            _SERVICE,
            _PRIORITY,
            _COMMUNITY,
            _METRIC,
            _UNIT,
            Column("option_mean", "Option mean", "metric", "Mean under the option"),
            Column("baseline_mean", "Baseline mean", "metric", "Mean under the baseline"),
            Column("diff", "Difference", "metric", "Option minus baseline, paired by replication"),
            _N,
            Column("ci_low", "95 % CI low", "metric", "Lower end of the paired difference's CI"),
            Column("ci_high", "95 % CI high", "metric", "Upper end of the paired difference's CI"),
            Column("margin", "Margin", "metric", "Practical margin: smaller differences are equal"),
            _id("verdict", "Verdict", "better, worse, equivalent or no significant difference"),
        ],
    ),
    "unit_summary.csv": (
        "Units",
        [
            _OPTION,
            _id("unit", "Unit", "Unit label"),
            _SERVICE,
            _id("station", "Station", "Station the unit is based at"),
            _id("owner", "Owner", "Community that owns the unit"),
            _METRIC,
            _UNIT,
            *_ci("metric"),
        ],
    ),
    "help.csv": (
        "Who helps whom",
        [
            _OPTION,
            _SERVICE,
            _id("owner", "Owner of the units", "Community whose units did the work"),
            _id("community", "Community helped", "Community of the incidents"),
            *_ci("number", "unit-hours per run"),
        ],
    ),
    "balance.csv": (
        "Balance",
        [
            _OPTION,
            _SERVICE,
            _id("owner", "Community", "The community giving help"),
            _id("community", "Partner", "The community receiving it"),
            Column("given", "Given (unit-hours)", "number", "Unit-hours given to the partner"),
            Column("received", "Received (unit-hours)", "number", "Unit-hours received back"),
            Column("net_unit_hours", "Net (unit-hours)", "number", "Given minus received"),
        ],
    ),
    "costs.csv": (
        "Costs",
        [_OPTION, _SERVICE, _PRIORITY, _COMMUNITY, _METRIC, _UNIT, *_ci("metric")],
    ),
    "shares.csv": (
        "Cost shares",
        [
            _OPTION,
            _id("formula", "Formula", "per capita, per call, per unit-hour used, weighted mix"),
            _COMMUNITY,
            *_ci("money", "share of the cost (money)"),
        ],
    ),
    "equity.csv": (
        "Equity",
        [_OPTION, _SERVICE, _PRIORITY, _COMMUNITY, _METRIC, _UNIT, *_ci("metric")],
    ),
    "estimate.csv": (
        "Erlang C estimate",
        [
            _OPTION,
            _SERVICE,
            _id("policy", "Policy", "Dispatch policy of the service in the option"),
            _COMMUNITY,
            _id("fleet", "Fleet", "own: the community's units; pooled: the region's"),
            Column("calls_per_day", "Calls per day", "number", "Offered calls per day"),
            Column(
                "offered_load", "Offered load (units)", "number", "Busy units needed on average"
            ),
            Column("units", "Units on duty (average)", "number", "Average number of units on duty"),
            Column("utilisation", "Utilisation (%)", "share", "Offered load / units"),
            Column("p_wait", "Probability of waiting (%)", "share", "Erlang C"),
            Column("mean_wait", "Mean wait (min:s)", "time", "Erlang C mean wait"),
            _id("overloaded", "Overloaded", "True when the offered load reaches the units"),
        ],
    ),
    "levels.csv": (
        "Hourly levels",
        [
            _OPTION,
            _SERVICE,
            _id("hour", "Hour of day", "Hour 0-23; 'all hours' is the day's time average"),
            Column("busy_units", "Busy units (average)", "number", "Time-average busy units"),
            Column("waiting_calls", "Waiting calls (average)", "number", "Time-average queue"),
        ],
    ),
    "backlog.csv": (
        "Backlog",
        [
            _OPTION,
            _SERVICE,
            _COMMUNITY,
            _N,
            Column("requests", "Requests", "count", "Requests called after the warm-up"),
            Column("mean_backlog", "Open (mean)", "number", "Time-average open requests"),
            Column("peak_backlog", "Open (peak)", "number", "Most requests open at once"),
            Column("end_backlog", "Open at the end", "number", "Requests open at the horizon"),
            Column("mean_working_days", "Working days (mean)", "number", "Call to done"),
            Column("p90_working_days", "Working days (p90)", "number", "Call to done, p90"),
            Column("within_target", "Within target (%)", "share", "Share within its target"),
            Column("overtime_hours", "Overtime (hours)", "number", "Worked after closing"),
            Column("paused_jobs", "Jobs paused", "number", "Jobs paused at a closing"),
            Column("paused_share", "Paused (%)", "share", "Share of jobs paused at a closing"),
        ],
    ),
    "caseload.csv": (
        "Caseload",
        [
            _OPTION,
            _SERVICE,
            _COMMUNITY,
            _N,
            Column("cases", "Cases", "count", "Cases referred after the warm-up"),
            Column("mean_wait_days", "Wait (days, mean)", "number", "Referral to allocation"),
            Column("p90_wait_days", "Wait (days, p90)", "number", "Referral to allocation, p90"),
            Column("waited", "Waited (%)", "share", "Share of cases that waited for a slot"),
            Column("waiting_cases", "Cases waiting (mean)", "number", "Time-average queue"),
            Column("workers", "Workers", "count", "Workers owned by the community"),
            Column("mean_caseload", "Cases per worker", "number", "Time-average cases held"),
            Column("peak_caseload", "Peak per worker", "number", "Most cases held at once"),
            Column("utilisation", "Time on visits (%)", "share", "Share of working time"),
            Column("visits", "Visits due", "number", "Visits due in the window"),
            Column("visits_on_time", "Visits on time (%)", "share", "Done by their deadline"),
        ],
    ),
    "coverage.csv": (
        "Coverage",
        [
            _OPTION,
            _SERVICE,
            _COMMUNITY,
            Column("uncovered_share", "Uncovered (%)", "share", "Share of time uncovered"),
            Column("uncovered_share_low", "Uncovered, CI low (%)", "share", "95 % CI low"),
            Column("uncovered_share_high", "Uncovered, CI high (%)", "share", "95 % CI high"),
            Column("moves_in", "Moves in", "number", "Other communities' units moved here"),
            Column("moves_out", "Moves out", "number", "Own units moved to other communities"),
            Column("move_unit_hours", "Hours driven on moves", "number", "Own units' moves"),
            Column("cover_hours_in", "Cover received (h)", "number", "Unit-hours of cover"),
            Column("cover_hours_out", "Cover given (h)", "number", "Unit-hours of cover"),
            Column("within_target", "Within target (%)", "share", "Calls within target"),
            Column("uncovered_share_diff", "Uncovered vs baseline", "share", "Paired difference"),
            Column("within_target_diff", "Within target vs baseline", "share", "Paired"),
        ],
    ),
}

FORMATS = {
    "time": {"num_format": "[m]:ss"},
    "share": {"num_format": "0.0%"},
    "count": {"num_format": "#,##0"},
    "money": {"num_format": "#,##0"},
    "number": {"num_format": "#,##0.00"},
    "text": {},
}


def _names(result_dir: Path) -> dict[str, dict[str, str]]:
    """Display names of communities, services and options from ``region.json``, if any."""
    try:
        region = json.loads((result_dir / "region.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[str, dict[str, str]] = {}
    for key in ("communities", "services"):
        items = region.get(key) or []
        if isinstance(items, list):
            out[key] = {
                str(v["id"]): str(v.get("name") or v["id"])
                for v in items
                if isinstance(v, dict) and "id" in v
            }
    return out


def _text(column: str, value: Any, names: dict[str, dict[str, str]]) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if column == "priority" and str(value) == "all":
        return "all priorities"
    if column == "community" and str(value) == "all":
        return "whole region"
    if column == "hour" and str(value) in ("-1", "-1.0"):
        return "all hours"
    if column in ("community", "owner"):
        return names.get("communities", {}).get(str(value), str(value))
    if column == "service":
        return names.get("services", {}).get(str(value), str(value))
    return value


def _number(kind: str, value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(v):
        return None
    return v / 1440.0 if kind == "time" else v


def _write_sheet(
    sheet: Worksheet,
    frame: pd.DataFrame,
    columns: list[Column],
    formats: dict[str, Format],
    names: dict[str, dict[str, str]],
) -> None:
    cols = [c for c in columns if c.source in frame.columns or c.source == "unit_of_measure"]
    for j, col in enumerate(cols):
        sheet.write_string(0, j, col.title, formats["header"])
        sheet.set_column(j, j, max(10, min(36, len(col.title) + 2)))
    metric = frame["metric"].astype(str).tolist() if "metric" in frame.columns else None
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        values = row._asdict()
        row_kind = METRICS.get(metric[i - 1], ("", "number"))[1] if metric else "number"
        for j, col in enumerate(cols):
            if col.source == "unit_of_measure":
                sheet.write_string(i, j, UNIT_OF_KIND.get(row_kind, ""))
                continue
            value = values[col.source]
            kind = row_kind if col.kind == "metric" else col.kind
            if col.source == "metric":
                sheet.write_string(i, j, METRICS.get(str(value), (str(value), ""))[0])
            elif kind == "text":
                text = _text(col.source, value, names)
                if isinstance(text, bool):
                    sheet.write_boolean(i, j, text)
                else:
                    sheet.write(i, j, text)
            else:
                number = _number(kind, value)
                if number is None:
                    sheet.write_blank(i, j, None)
                else:
                    sheet.write_number(i, j, number, formats[kind])
    sheet.freeze_panes(1, 0)
    if len(frame):
        sheet.autofilter(0, 0, len(frame), len(cols) - 1)


def _write_readme(sheet: Worksheet, written: list[str], formats: dict[str, Format]) -> None:
    sheet.write_string(0, 0, "Sheet", formats["header"])
    sheet.write_string(0, 1, "Column", formats["header"])
    sheet.write_string(0, 2, "Meaning", formats["header"])
    sheet.set_column(0, 0, 20)
    sheet.set_column(1, 1, 36)
    sheet.set_column(2, 2, 90)
    row = 1
    notes = [
        ("All sheets", "", "The same numbers as the CSV files of this directory, for reading."),
        ("All sheets", "min:s", "Times are minutes:seconds (a spreadsheet duration: minutes/1440)"),
        ("All sheets", "95 % CI", "Student's t interval across replications, within the range"),
    ]
    for sheet_name, column, meaning in notes:
        sheet.write_row(row, 0, [sheet_name, column, meaning])
        row += 1
    for file in written:
        title, columns = SHEETS[file]
        for col in columns:
            meaning = col.meaning or METRICS.get(col.source, (col.title, ""))[0]
            sheet.write_row(row, 0, [title, col.title, f"{meaning} ({file}: {col.source})"])
            row += 1
    sheet.freeze_panes(1, 0)


def write_workbook(result_dir: Path, out: Path | None = None) -> Path:
    """Write ``results.xlsx`` from the CSV tables in ``result_dir``; return its path."""
    path = out or result_dir / WORKBOOK_FILE
    names = _names(result_dir)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "nan_inf_to_errors": True})
    try:
        formats = {kind: book.add_format(spec) for kind, spec in FORMATS.items()}
        formats["header"] = book.add_format({"bold": True, "bottom": 1, "text_wrap": True})
        readme = book.add_worksheet("README")
        written = []
        for file, (title, columns) in SHEETS.items():
            csv = result_dir / file
            if not csv.is_file():
                continue
            frame = pd.read_csv(csv, keep_default_na=True, dtype={"priority": str, "hour": str})
            _write_sheet(book.add_worksheet(title), frame, columns, formats, names)
            written.append(file)
        _write_readme(readme, written, formats)
    finally:
        book.close()
    return path
