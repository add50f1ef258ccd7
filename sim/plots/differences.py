"""Paired differences against the baseline with 95 % confidence intervals (a forest plot).

From comparison.csv, region-wide and over all priorities: each option minus the baseline,
replication by replication (common random numbers), coloured by verdict.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..results.derived import FOREST_METRICS, biggest_gain, forest_table
from ..results.display import fmt_duration
from ..results.read import ResultData
from .panels import PanelLayout
from .style import VERDICT_COLOURS, Drawn, new_figure, style

__all__ = ["figures", "forest_figure"]


# metric -> (panel title, axis label, relative: drawn as % of the baseline mean)
def _diff_text(metric: str, d: float) -> str:
    if not math.isfinite(d):
        return ""
    if metric == "within_target":
        return f"{100 * d:+.1f} pp"
    return f"{d:+.1f} min" if abs(d) < 120 else f"{d / 60:+.1f} h"


def forest_figure(data: ResultData) -> Figure | None:
    table = forest_table(data)
    if table.empty:
        return None
    metrics = [m for m in FOREST_METRICS if (table["metric"] == m).any()]
    opts = [o for o in data.options if o != data.baseline and (table["option"] == o).any()]
    services = [s for s in data.services if (table["service"] == s).any()]
    rows: list[tuple[str, str | None]] = []
    for s in services:
        rows.append((s, None))  # header row: the service's name
        rows += [(s, o) for o in opts]
    fig = new_figure(
        min(10.0, 2.9 * len(metrics) + 1.6),
        0.24 * len(rows) + 1.5,
        f"Each option against {data.baseline}: difference with 95 % confidence interval",
        layout=PanelLayout(),
    )
    with style():
        axes = fig.subplots(1, len(metrics), squeeze=False, sharey=True).ravel()
        for ax, metric in zip(axes, metrics, strict=True):
            title, label, _rel = FOREST_METRICS[metric]
            sub = table[table["metric"] == metric].set_index(["service", "option"])
            for y, (service, opt) in enumerate(rows):
                if opt is None or (service, opt) not in sub.index:
                    continue
                r = sub.loc[(service, opt)]
                x, lo, hi = float(r["x"]), float(r["x_low"]), float(r["x_high"])
                colour = VERDICT_COLOURS.get(str(r["verdict"]), "#999999")
                err = [[max(0.0, x - lo)], [max(0.0, hi - x)]] if math.isfinite(lo) else None
                cont = ax.errorbar(
                    [x if math.isfinite(x) else 0.0],
                    [y],
                    xerr=err,
                    fmt="o",
                    color=colour,
                    markersize=4.5,
                    elinewidth=1.6,
                    capsize=2,
                )
                cont.lines[0].set_gid(f"forest:{metric}:{service}:{opt}")
                ax.text(
                    1.02,
                    y,
                    _diff_text(metric, float(r["diff"])),
                    transform=ax.get_yaxis_transform(),
                    ha="left",
                    va="center",
                    fontsize=6.5,
                    color="#444444",
                )
            ax.axvline(0, color="#333333", linewidth=0.9)
            better = "right" if metric == "within_target" else "left"
            ax.set_title(f"{title}\n(better: {better})", loc="left")
            ax.set_xlabel(label)
            ax.grid(axis="y", visible=False)
            lo, hi = ax.get_xlim()
            m = max(abs(lo), abs(hi)) * 1.25
            ax.set_xlim(-m, m)
        for y, (_s, opt) in enumerate(rows):
            if opt is None and y > 0:
                for ax in axes:
                    ax.axhline(y - 0.5, color="#cccccc", linewidth=0.6)
        axes[0].set_yticks(
            range(len(rows)), [data.service_name(s) if o is None else o for s, o in rows]
        )
        for tick, (_s, o) in zip(axes[0].get_yticklabels(), rows, strict=True):
            if o is None:
                tick.set_fontweight("bold")
        axes[0].tick_params(axis="y", length=0)
        axes[0].set_ylim(len(rows) - 0.5, -0.5)

        seen = [
            v
            for v in ("better", "worse", "equivalent", "no significant difference")
            if (table["verdict"] == v).any()
        ]
        handles = [Line2D([], [], marker="o", linestyle="", color=VERDICT_COLOURS[v]) for v in seen]
        fig.legend(handles, seen, loc="outside lower center", ncols=min(4, len(seen) or 1))
    return fig


def _caption(data: ResultData) -> str:
    text = (
        "Dots left of zero (right of zero for within target) are improvements, numbers on "
        "the right the differences themselves; a bar crossing zero means no significant "
        "difference"
    )
    for metric in ("p90_response", "mean_response"):
        g = biggest_gain(data, metric)
        if g is None:
            continue
        what = "90th percentile response" if metric == "p90_response" else "mean response"
        lo, hi = sorted((-float(g["ci_high"]), -float(g["ci_low"])))
        extra = (
            f" (95 % CI of the cut {lo:.1f} to {hi:.1f} min)"
            if np.isfinite(lo) and np.isfinite(hi)
            else ""
        )
        return (
            f"{text}; the largest gain: {g['option']} cuts the "
            f"{data.service_name(g['service']).lower()} {what} from "
            f"{fmt_duration(g['baseline_mean'])} to {fmt_duration(g['option_mean'])}{extra}."
        )
    return text + "; no option is significantly faster than the baseline."


def figures(data: ResultData) -> Iterator[Drawn]:
    fig = forest_figure(data)
    if fig is not None:
        yield Drawn(
            "differences_forest",
            "differences",
            f"Differences against {data.baseline}",
            _caption(data),
            fig,
        )
