"""Work orders and caseloads over time: open requests of services on a working calendar, and
cases held per worker of caseload services, week by week (``service_weekly.csv``), one line per
option (the mean over replications); the warm-up is shaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from ..results.read import ResultData
from .panels import PanelLayout
from .style import Drawn, new_figure, option_styles, style

__all__ = ["backlog_services", "caseload_services", "figures", "weekly"]


def _table(data: ResultData, name: str) -> pd.DataFrame | None:
    if not (data.root / f"{name}.csv").is_file():
        return None
    return data.table(name)


def backlog_services(data: ResultData) -> list[str]:
    """Services whose jobs pause at closing (they have a share of paused jobs)."""
    table = _table(data, "backlog")
    if table is None or "paused_share" not in table:
        return []
    return [s for s in data.services if table[table["service"] == s]["paused_share"].notna().any()]


def caseload_services(data: ResultData) -> list[str]:
    table = _table(data, "caseload")
    return [] if table is None else [s for s in data.services if (table["service"] == s).any()]


def _run(data: ResultData) -> tuple[float, float]:
    run = (data.region or {}).get("run", {})
    return float(run.get("warmup", 0.0)), float(run.get("horizon", 0.0))


def weekly(table: pd.DataFrame, service: str, option: str, panel: str) -> tuple[Any, Any]:
    """Week starts (days) and the weekly level of one panel (``service_weekly.csv``)."""
    rows = table[(table["service"] == service) & (table["option"] == option)]
    rows = rows[rows["panel"] == panel]
    return rows["day"].to_numpy(dtype=float), rows["level"].to_numpy(dtype=float)


# per kind of figure: the panels of a service (label, divided by workers)
PANELS = {
    "backlog": (("open requests", False),),
    "caseload": (("cases per worker", True), ("cases waiting for a worker", False)),
}


def _figure(
    data: ResultData, table: pd.DataFrame, services: list[str], title: str, kind: str
) -> Figure:
    warmup, _ = _run(data)
    styles = option_styles(data.options, data.baseline)
    workers = _workers(data) if kind == "caseload" else {}
    panels = PANELS[kind]
    fig = new_figure(7.6, 1.9 * len(services) + 1.0, title, layout=PanelLayout())
    with style():
        axes = fig.subplots(len(services), len(panels), squeeze=False, sharex=True)
        for row, service in zip(axes, services, strict=True):
            for ax, (what, per_worker) in zip(row, panels, strict=True):
                for opt in data.options:
                    days, level = weekly(table, service, opt, what)
                    if per_worker:
                        level = level / max(workers.get((opt, service), 1.0), 1.0)
                    st = styles[opt]
                    (line,) = ax.plot(
                        days, level, color=st["color"], linestyle=st["linestyle"], label=opt
                    )
                    line.set_gid(f"{kind}:{service}:{what}:{opt}")
                if warmup > 0:
                    ax.axvspan(0, warmup / 1440.0, color="#d9d9d9", alpha=0.5, zorder=0)
                ax.set_ylim(bottom=0)
                ax.set_ylabel(what, fontsize=7.5)
                name = f"{data.service_name(service)}: {what}" if ax is row[0] else what
                ax.set_title(name, loc="left", fontsize=8.5)
        for ax in axes[-1]:
            ax.set_xlabel("day of the run (warm-up shaded), weekly averages")
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(6, len(labels)))
    return fig


def _workers(data: ResultData) -> dict[tuple[str, str], float]:
    table = _table(data, "caseload")
    if table is None:
        return {}
    rows = table[table["community"] == "all"]
    return {
        (str(o), str(s)): float(w)
        for o, s, w in zip(rows["option"], rows["service"], rows["workers"], strict=True)
    }


def figures(data: ResultData) -> Iterator[Drawn]:
    backlog, cases = backlog_services(data), caseload_services(data)
    if not backlog and not cases:
        return
    incidents = _table(data, "service_weekly")
    if incidents is None:  # a result directory from before the weekly table
        return
    for k in ("option", "service", "panel"):
        incidents[k] = incidents[k].astype(str)
    if backlog:
        yield Drawn(
            "backlog",
            "services",
            "Open requests over the run",
            "Requests called and not yet done, week by week: a backlog that builds up in "
            "the busy season and clears after it, or one that keeps growing.",
            _figure(data, incidents, backlog, "Open requests over the run", "backlog"),
        )
    if cases:
        yield Drawn(
            "caseload",
            "services",
            "Cases per worker and cases waiting over the run",
            "Open cases allocated to a worker, per worker of the service, and cases waiting for "
            "a free slot, week by week: pooling leaves the cases per worker as they are and "
            "empties the queue of the towns whose workers are full.",
            _figure(data, incidents, cases, "Cases per worker and cases waiting", "caseload"),
        )
