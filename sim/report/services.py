"""The report's section on work orders and caseloads, from ``backlog.csv`` and ``caseload.csv``.

Region-wide tables per service, one row per option: for services on a working calendar the
backlog (time-average and peak open requests), completion in working days and the share
within target, overtime and jobs paused overnight; for caseload services the wait for
allocation, cases per worker, worker utilisation and visits on time. Below each, the same
measure per community, so that a town whose backlog or caseload the region average hides
shows. Nothing for a result without such services (or written before they existed).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..results.display import fmt_pct
from ..results.read import ResultData

__all__ = ["services_section"]

ALL = "all"
# (column, header, kind): kinds: number, days, share, count, hours
BACKLOG_COLUMNS = (
    ("requests", "Requests", "count"),
    ("mean_backlog", "Open (mean)", "number"),
    ("peak_backlog", "Open (peak)", "number"),
    ("mean_working_days", "Working days (mean)", "days"),
    ("p90_working_days", "Working days (p90)", "days"),
    ("within_target", "Within target", "share"),
    ("overtime_hours", "Overtime (h)", "count"),
    ("paused_share", "Paused overnight", "share"),
)
CASELOAD_COLUMNS = (
    ("cases", "Cases", "count"),
    ("mean_wait_days", "Wait for a worker (days)", "days"),
    ("waited", "Waited", "share"),
    ("mean_caseload", "Cases per worker", "number"),
    ("peak_caseload", "Peak per worker", "number"),
    ("utilisation", "Time on visits", "share"),
    ("visits_on_time", "Visits on time", "share"),
)
BY_COMMUNITY = {"backlog": "p90_working_days", "caseload": "mean_wait_days"}


def _fmt(value: Any, kind: str) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "-"
    if math.isnan(v):
        return "-"
    if kind == "share":
        return fmt_pct(v, 1)
    if kind == "count":
        return f"{v:,.0f}"
    return f"{v:,.1f}" if kind == "days" else f"{v:,.2f}"


def _cell(row: pd.Series, column: str, kind: str) -> dict[str, str]:
    low, high = row.get(f"{column}_low"), row.get(f"{column}_high")
    ci = ""
    if low is not None and high is not None and not (pd.isna(low) or pd.isna(high)):
        ci = f"{_fmt(low, kind)}-{_fmt(high, kind)}"
    return {"text": _fmt(row.get(column), kind), "ci": ci}


def _service_block(
    data: ResultData, table: pd.DataFrame, service: str, columns: tuple, focus: str
) -> dict[str, Any]:
    rows = table[table["service"] == service]
    region = rows[rows["community"] == ALL].set_index("option")
    kind = {c: k for c, _, k in columns}[focus]
    communities = [c for c in dict.fromkeys(rows["community"]) if c != ALL]
    per = rows.set_index(["community", "option"])[focus]
    return {
        "service": data.service_name(service),
        "columns": [h for _, h, _ in columns],
        "rows": [
            {"option": o, "cells": [_cell(region.loc[o], c, k) for c, _, k in columns]}
            for o in data.options
            if o in region.index
        ],
        "focus": next(h for c, h, _ in columns if c == focus),
        "communities": [
            {
                "name": data.community_name(c),
                "cells": [_fmt(per.get((c, o)), kind) for o in data.options],
            }
            for c in communities
        ],
    }


def _table(data: ResultData, name: str) -> pd.DataFrame | None:
    if not (data.root / f"{name}.csv").is_file():
        return None
    table = data.table(name)
    return None if table.empty else table


def services_section(data: ResultData) -> dict[str, Any] | None:
    """The tables of the section, or None when the result has no such service."""
    backlog, caseload = _table(data, "backlog"), _table(data, "caseload")
    blocks: list[dict[str, Any]] = []
    if backlog is not None and "paused_share" in backlog:
        paused = backlog.groupby("service")["paused_share"].apply(lambda s: s.notna().any())
        for service in [s for s in data.services if paused.get(s, False)]:
            block = _service_block(data, backlog, service, BACKLOG_COLUMNS, BY_COMMUNITY["backlog"])
            blocks.append({**block, "kind": "backlog"})
    if caseload is not None:
        for service in [s for s in data.services if (caseload["service"] == s).any()]:
            block = _service_block(
                data, caseload, service, CASELOAD_COLUMNS, BY_COMMUNITY["caseload"]
            )
            blocks.append({**block, "kind": "caseload"})
    return {"blocks": blocks, "options": data.options} if blocks else None
