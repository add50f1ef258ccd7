"""Load over time: busy units and waiting calls by hour of day (levels.csv), and the hours
around a surge (surge_timeline.csv: hour by hour, combined into longer bins where calls are few;
see :mod:`sim.analysis.surges`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MultipleLocator

from ..results.display import fmt_duration
from ..results.read import ResultData
from .panels import PanelLayout
from .style import OKABE_ITO, Drawn, new_figure, option_styles, style

__all__ = ["figures", "levels_figure", "surge_bins", "surge_figure", "surge_windows"]


def levels_figure(data: ResultData) -> Figure | None:
    lv = data.table("levels")
    lv = lv[lv["hour"] >= 0]
    services = [s for s in data.services if (lv["service"] == s).any()]
    if not services:
        return None
    fig = new_figure(
        7.6,
        1.85 * len(services) + 1.0,
        "Load by hour of day (mean over the run)",
        layout=PanelLayout(),
    )
    styles = option_styles(data.options, data.baseline)
    with style():
        axes = fig.subplots(len(services), 2, squeeze=False, sharex=True)
        for row, service in zip(axes, services, strict=True):
            sub = lv[lv["service"] == service]
            for ax, col, what in (
                (row[0], "busy_units", "busy units"),
                (row[1], "waiting_calls", "waiting calls"),
            ):
                for opt in data.options:
                    r = sub[sub["option"] == opt].sort_values("hour")
                    if r.empty:
                        continue
                    st = styles[opt]
                    (line,) = ax.plot(
                        r["hour"],
                        r[col],
                        color=st["color"],
                        linestyle=st["linestyle"],
                        linewidth=1.5,
                        label=opt,
                    )
                    line.set_gid(f"levels:{service}:{col}:{opt}")
                ax.set_ylim(bottom=0)
                ax.set_ylabel(what, fontsize=7.5)
                ax.set_title(f"{data.service_name(service)}: {what}", loc="left", fontsize=8.5)
        for ax in axes[-1]:
            ax.set_xlim(0, 23)
            ax.set_xticks(range(0, 24, 3))
            ax.set_xlabel("hour of day")
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(6, len(labels)))
    return fig


def _levels_caption(data: ResultData) -> str:
    lv = data.table("levels")
    lv = lv[lv["hour"] >= 0]
    if lv.empty:
        return ""
    base = data.baseline
    b = lv[lv["option"] == base]
    peak = b.loc[b["waiting_calls"].idxmax()] if not b.empty else None
    if peak is None or not peak["waiting_calls"] > 0:
        return (
            "Left: units busy at each hour of the day; right: calls waiting for a free unit "
            "(none wait here)."
        )
    others = lv[
        (lv["service"] == peak["service"]) & (lv["hour"] == peak["hour"]) & (lv["option"] != base)
    ]
    text = (
        f"Left: units busy at each hour; right: calls waiting for a free unit. Waiting peaks for "
        f"{data.service_name(peak['service']).lower()} at {int(peak['hour']):02d}:00 with "
        f"{peak['waiting_calls']:.2f} calls on average under {base}"
    )
    if not others.empty:
        best = others.loc[others["waiting_calls"].idxmin()]
        text += f", {best['waiting_calls']:.2f} under {best['option']}"
    return text + "."


def surge_windows(data: ResultData) -> list[dict[str, Any]]:
    """The surge windows of the result (:func:`sim.analysis.surges.surge_windows`), each with
    the ``services`` to show in the result's order: those surged and those of its bursts."""
    windows = data.windows()
    for w in windows:
        names = set(w["services"]) if w["services"] is not None else set(data.services)
        names |= {b["service"] for b in w["bursts"]}
        w["services"] = [s for s in data.services if s in names]
    return windows


BIN_HOURS = (1, 2, 3, 4, 6, 12)
MIN_CALLS_PER_BIN = 5  # over all replications, for a mean response worth drawing


def _hours(data: ResultData, window: dict[str, Any], service: str, option: str) -> pd.DataFrame:
    """The window's hours of surge_timeline.csv for a service and option, in time order."""
    t = data.timeline()
    rows = t[
        (t["window"] == window["number"]) & (t["service"] == service) & (t["option"] == option)
    ]
    return rows.sort_values("start").reset_index(drop=True)


def bin_hours(data: ResultData, window: dict[str, Any], service: str) -> int:
    """Hours per bin: 1, or more where calls are too few for a mean response per hour."""
    calls = int(_hours(data, window, service, data.options[0])["calls"].sum())
    hours = (window["hi"] - window["lo"]) / 60.0
    return next(
        (h for h in BIN_HOURS if calls * h / max(hours, 1.0) >= MIN_CALLS_PER_BIN), BIN_HOURS[-1]
    )


def surge_bins(
    data: ResultData, window: dict[str, Any], service: str, option: str, hours: int = 1
) -> pd.DataFrame:
    """Per bin of ``hours`` in the window: mean number of calls waiting for a unit (time
    average, per replication) and mean response of the calls made in the bin."""
    h = _hours(data, window, service, option)
    duration = h["end"] - h["start"]
    reached = h["reached"].astype(float)
    g = h.assign(
        waited=h["waiting_calls"] * duration,
        duration=duration,
        response_sum=h["mean_response"].fillna(0.0) * reached,
        reached=reached,
    ).groupby(h.index // hours)
    out = pd.DataFrame(
        {
            "start": g["start"].min(),
            "end": g["end"].max(),
            "waiting_calls": g["waited"].sum() / g["duration"].sum(),
            "mean_response": g["response_sum"].sum() / g["reached"].sum().replace(0, np.nan),
        }
    )
    return out.reset_index(drop=True)


def _surge_name(window: dict[str, Any]) -> str:
    words = [n.split() for n in window["names"]]
    common = []
    for parts in zip(*words, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return " ".join(common) if common else ", ".join(window["names"])


def surge_figure(data: ResultData, window: dict[str, Any]) -> Figure:
    services = window["services"]
    fig = new_figure(
        7.6,
        1.9 * len(services) + 1.1,
        f"Around the surge ({_surge_name(window)}): calls waiting and response over time",
        layout=PanelLayout(),
    )
    styles = option_styles(data.options, data.baseline)
    t0 = window["start"]
    with style():
        axes = fig.subplots(len(services), 2, squeeze=False, sharex=True)
        for row, service in zip(axes, services, strict=True):
            hours = bin_hours(data, window, service)
            for opt in data.options:
                bins = surge_bins(data, window, service, opt, hours)
                mid = ((bins["start"] + bins["end"]) / 2 - t0) / 60.0
                st = styles[opt]
                for ax, col in ((row[0], "waiting_calls"), (row[1], "mean_response")):
                    (line,) = ax.plot(
                        mid,
                        bins[col],
                        color=st["color"],
                        linestyle=st["linestyle"],
                        linewidth=1.4,
                        label=opt,
                        marker="." if hours > 1 else None,
                        markersize=3,
                    )
                    line.set_gid(f"surge:{service}:{col}:{opt}")
            for ax in row:
                span = ax.axvspan(
                    0,
                    (window["end"] - t0) / 60.0,
                    color=OKABE_ITO["orange"],
                    alpha=0.15,
                    linewidth=0,
                )
                span.set_gid("surge-period")
                for b in window["bursts"]:
                    ax.axvline(
                        (b["time"] - t0) / 60.0,
                        color=OKABE_ITO["vermillion"],
                        linestyle=":",
                        linewidth=1.0,
                        gid="burst",
                    )
                top = ax.get_ylim()[1]
                ax.set_ylim(0, top if top > 0.05 else 1.0)
            per = "hour" if hours == 1 else f"{hours} hours"
            name = data.service_name(service)
            row[0].set_title(f"{name}: calls waiting", loc="left", fontsize=8.5)
            row[1].set_title(f"{name}: mean response", loc="left", fontsize=8.5)
            row[0].set_ylabel(f"calls (average per {per})", fontsize=7.5)
            row[1].set_ylabel(f"minutes (calls of each {per})", fontsize=7.5)
        span_h = (window["hi"] - window["lo"]) / 60.0
        for ax in axes[-1]:
            ax.xaxis.set_major_locator(MultipleLocator(6 if span_h <= 96 else 24))
            ax.set_xlabel("hours from the start of the surge (shaded)")
            ax.set_xlim((window["lo"] - t0) / 60.0, (window["hi"] - t0) / 60.0)
        handles, labels = axes[0][0].get_legend_handles_labels()
        if window["bursts"]:
            handles.append(Line2D([], [], color=OKABE_ITO["vermillion"], linestyle=":"))
            labels.append("burst (mass-casualty incident)")
        fig.legend(handles, labels, loc="outside lower center", ncols=min(5, len(labels)))
    return fig


def _surge_caption(data: ResultData, window: dict[str, Any]) -> str:
    base = data.baseline
    hours = (window["end"] - window["start"]) / 60
    text = f"The shaded {hours:g} hours are the surge ({', '.join(window['names'])})"
    peaks: dict[str, dict[str, tuple[float, float]]] = {}
    for service in window["services"]:
        h = bin_hours(data, window, service)
        for opt in data.options:
            bins = surge_bins(data, window, service, opt, h)
            resp = bins["mean_response"].to_numpy(dtype=np.float64)
            peaks.setdefault(service, {})[opt] = (
                float(bins["waiting_calls"].max()),
                float(np.nanmax(resp)) if np.isfinite(resp).any() else math.nan,
            )
    if not peaks:
        return text + "."
    worst = max(peaks, key=lambda s: peaks[s].get(base, (0.0, 0.0))[0])
    p = peaks[worst]
    if base in p and p[base][0] > 0:
        best = min(p, key=lambda o: p[o][0])
        text += (
            f"; {data.service_name(worst).lower()} calls pile up most: up to "
            f"{p[base][0]:.1f} waiting at once under {base} (mean response up to "
            f"{fmt_duration(p[base][1])}), {p[best][0]:.1f} under {best}"
        )
    return text + "."


def figures(data: ResultData) -> Iterator[Drawn]:
    fig = levels_figure(data)
    if fig is not None:
        yield Drawn(
            "levels_by_hour",
            "levels",
            "Busy units and waiting calls by hour of day",
            _levels_caption(data),
            fig,
        )
    for i, window in enumerate(surge_windows(data)):
        if not window["services"]:
            continue
        yield Drawn(
            f"surge_{i + 1}",
            "surge",
            f"Around the surge: {', '.join(window['names'])}",
            _surge_caption(data, window),
            surge_figure(data, window),
        )
