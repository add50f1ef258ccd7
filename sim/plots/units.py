"""How busy each unit is under each option (unit_summary.csv, metric busy_fraction).

A dot per unit and option with its 95 % CI, a panel per service: pooling shifts work from the
busiest units to idle ones. A service with more than :data:`MAX_SHOWN` units shows its busiest
ones only (the caption says so; ``unit_summary.csv`` has every unit), so that the figure stays
readable and its size bounded however large the fleet.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from ..results.display import fmt_pct
from ..results.read import ResultData
from .panels import PanelLayout
from .style import Drawn, new_figure, option_styles, style

__all__ = ["MAX_SHOWN", "busy_figure", "busy_table", "figures", "unit_label"]

MAX_SHOWN = 40  # units drawn per service
FINE = 5  # rows of the figure's grid per unit (a panel's height is its units and 1.6 more)


def busy_table(data: ResultData) -> pd.DataFrame:
    u = data.table("unit_summary")
    return u[u["metric"] == "busy_fraction"].reset_index(drop=True)


def unit_label(data: ResultData, unit: str, service: str, station: str, owner: str) -> str:
    """'Riverton #2', or 'Regional hub #1 (Eastfield's)' for a unit based away from home."""
    number = unit.rsplit("-", 1)[-1]
    label = f"{data.station_name(station, short=True)} #{number}"
    if owner != station:
        home = next(
            (
                s.get("community")
                for s in (data.region or {}).get("stations", [])
                if s["id"] == station
            ),
            None,
        )
        if home != owner:
            label += f" ({data.community_name(owner)}'s)"
    return label


def _columns(sizes: list[int]) -> list[list[int]]:
    """Services split into one or two columns of panels with about equal rows."""
    total = sum(sizes)
    if total <= 18 or len(sizes) == 1:
        return [list(range(len(sizes)))]
    best, cut = None, 1
    for k in range(1, len(sizes)):
        diff = abs(sum(sizes[:k]) - sum(sizes[k:]))
        if best is None or diff < best:
            best, cut = diff, k
    return [list(range(cut)), list(range(cut, len(sizes)))]


def _busiest(table: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """The rows of at most MAX_SHOWN units per service (the busiest under any option), in
    their order, and the number of units of each service that was cut."""
    keep = np.ones(len(table), dtype=bool)
    cut: dict[str, int] = {}
    for service, sub in table.groupby("service", sort=False, observed=True):
        peak = sub.groupby("unit", sort=False, observed=True)["mean"].max()
        if len(peak) > MAX_SHOWN:
            chosen = set(peak.sort_values(ascending=False, kind="stable").index[:MAX_SHOWN])
            keep &= ~((table["service"] == service) & ~table["unit"].isin(chosen)).to_numpy()
            cut[str(service)] = len(peak)
    return table[keep].reset_index(drop=True), cut


def busy_figure(data: ResultData) -> Figure | None:
    table, _ = _busiest(busy_table(data))
    if table.empty:
        return None
    services = [s for s in data.services if (table["service"] == s).any()]
    sizes = [table.loc[table["service"] == s, "unit"].nunique() for s in services]
    columns = _columns(sizes)
    rows = max(sum(sizes[i] + 1.6 for i in col) for col in columns)
    fig = new_figure(
        max(6.4, 4.6 * len(columns) + 0.6),
        0.22 * rows + 1.3,
        "How busy each unit is: share of on-duty time spent on calls",
        layout=PanelLayout(),
    )
    styles = option_styles(data.options, data.baseline)
    opts = [o for o in data.options if (table["option"] == o).any()]
    step = 0.7 / max(1, len(opts))
    upper = max(
        0.05, float(np.nanmax(table["ci_high"].to_numpy(dtype=np.float64), initial=0.0)) * 1.08
    )
    grid_rows = [[round(FINE * (sizes[i] + 1.6)) for i in col] for col in columns]
    with style():
        grid = fig.add_gridspec(max(map(sum, grid_rows)), len(columns))
        first = None
        for c, (col, heights) in enumerate(zip(columns, grid_rows, strict=True)):
            axes: list[Axes] = []
            start = 0
            for h in heights:  # a column's panels, each as tall as its units
                axes.append(fig.add_subplot(grid[start : start + h, c]))
                start += h
            first = first or axes[0]
            for ax, i in zip(axes, col, strict=True):
                _panel(ax, data, table, services[i], opts, styles, step)
                ax.set_xlim(0, upper)
                ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
            axes[-1].set_xlabel("Busy, % of on-duty time")
        assert first is not None
        handles, labels_ = first.get_legend_handles_labels()
        fig.legend(
            handles,
            labels_,
            loc="outside lower center",
            ncols=min(6, len(labels_)),
            title="dot: mean; line: 95 % confidence interval",
            title_fontsize=7.5,
        )
    return fig


def _panel(
    ax,
    data: ResultData,
    table: pd.DataFrame,
    service: str,
    opts: list[str],  # type: ignore[no-untyped-def]
    styles: dict,
    step: float,
) -> None:
    sub = table[table["service"] == service]
    units = list(dict.fromkeys(sub["unit"]))
    labels = []
    for u in units:
        r = sub[sub["unit"] == u].iloc[0]
        labels.append(unit_label(data, u, service, r["station"], r["owner"]))
    y = {u: i for i, u in enumerate(units)}
    for k, opt in enumerate(opts):
        rows = sub[sub["option"] == opt]
        if rows.empty:
            continue
        ys = np.array([y[u] for u in rows["unit"]]) - 0.35 + step * (k + 0.5)
        mean = rows["mean"].to_numpy(dtype=np.float64)
        err = np.vstack(
            [
                mean - rows["ci_low"].to_numpy(dtype=np.float64),
                rows["ci_high"].to_numpy(dtype=np.float64) - mean,
            ]
        )
        st = styles[opt]
        cont = ax.errorbar(
            mean,
            ys,
            xerr=np.nan_to_num(err).clip(0),
            fmt=st["marker"],
            color=st["color"],
            markersize=3.8,
            elinewidth=0.8,
            capsize=0,
            label=opt,
        )
        cont.lines[0].set_gid(f"busy:{service}:{opt}")
    ax.set_yticks(range(len(units)), labels, fontsize=7)
    ax.set_ylim(len(units) - 0.5, -0.5)
    ax.set_title(data.service_name(service), loc="left")
    ax.grid(axis="y", visible=False)


def _caption(data: ResultData) -> str:
    t = busy_table(data)
    if t.empty:
        return ""
    base = data.baseline
    b = t[t["option"] == base]
    if b.empty:
        b = t
    top = b.loc[b["mean"].idxmax()]
    label = unit_label(data, top["unit"], top["service"], top["station"], top["owner"])
    text = (
        f"Under {top['option']} the busiest unit is {data.service_name(top['service'])} "
        f"{label} at {fmt_pct(top['mean'])} busy"
    )
    same = t[(t["service"] == top["service"]) & (t["option"] != top["option"])]
    if not same.empty:
        peak = same.groupby("option")["mean"].max()
        best = peak.idxmin()
        text += (
            f"; under {best} no {data.service_name(top['service']).lower()} unit is busier "
            f"than {fmt_pct(peak[best])}"
        )
    text += " (dots further right: busier units, less spare capacity)."
    _, cut = _busiest(t)
    for service, total in cut.items():
        text += (
            f" Only the {MAX_SHOWN} busiest of the {total:,} {data.service_name(service).lower()}"
            " units are drawn; unit_summary.csv has them all."
        )
    return text


def figures(data: ResultData) -> Iterator[Drawn]:
    fig = busy_figure(data)
    if fig is not None:
        yield Drawn("units_busy", "units", "Busy fraction per unit and option", _caption(data), fig)
