"""Figures of the decision questions, drawn with matplotlib's object API in the house style
(:mod:`sim.plots.style`: Okabe-Ito colours, no pyplot).

* sizing: units and yearly cost per option, today against the smallest fleet found; and per
  community the share within target of that fleet on the fresh replications, with its
  confidence interval, its lower bound and the target share;
* coalitions: the value c(S) of every coalition beside the sum of its members' stand-alone
  costs (the gap is the pooling gain); and each community's share of the grand coalition's
  cost under the Shapley value, the nucleolus and the formulas agreements use, with the
  stand-alone cost c({i}) marked: a bar above the mark charges more than going alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ..plots.style import (
    BASELINE_COLOUR,
    FORMULA_COLOURS,
    OKABE_ITO,
    TARGET_COLOUR,
    Drawn,
    new_figure,
    option_styles,
    save,
    style,
)
from .coalition import METHOD_NAMES, CoalitionResult
from .sizing import SizingResult

__all__ = [
    "allocation_figure",
    "coalition_figures",
    "draw",
    "margins_figure",
    "short_names",
    "sizing_figures",
    "units_figure",
    "values_figure",
]

METHOD_COLOURS = {
    "shapley": OKABE_ITO["blue"],
    "nucleolus": OKABE_ITO["yellow"],
    **FORMULA_COLOURS,
}
ABOVE_COLOUR = OKABE_ITO["vermillion"]


def _money(v: float, _pos: object = None) -> str:
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:g} M"
    if a >= 1e3:
        return f"{v / 1e3:g} k"
    return f"{v:g}"


def short_names(names: dict[str, str]) -> dict[str, str]:
    """Three-letter abbreviations of community names, longer where two would clash."""
    for k in (3, 4, 5, 6, 8, 64):
        out = {c: n.replace(" ", "")[:k] for c, n in names.items()}
        if len(set(out.values())) == len(out):
            return out
    return dict(names)


# --- sizing -----------------------------------------------------------------------------------
def units_figure(res: SizingResult) -> Figure:
    s = res.summary
    opts = list(s["option"])
    fig = new_figure(
        max(6.0, 1.5 * len(opts) + 2.5),
        3.6,
        f"Smallest {res.service} fleet meeting the targets, per option",
    )
    x = np.arange(len(opts))
    unmet = s["status"] != "met"
    with style():
        ax_u, ax_c = fig.subplots(1, 2)
        for ax, today, found, label in (
            (ax_u, "units_today", "units", "units"),
            (ax_c, "cost_today", "cost_per_year", "cost per year"),
        ):
            ax.bar(x - 0.2, s[today], 0.38, color=BASELINE_COLOUR)
            bars = ax.bar(x + 0.2, s[found], 0.38, color=OKABE_ITO["blue"])
            for patch, bad in zip(bars.patches, unmet, strict=True):
                if bad:
                    patch.set_hatch("//")
                    patch.set_edgecolor(ABOVE_COLOUR)
            ax.set_xticks(x, opts, rotation=15 if len(opts) > 3 else 0)
            ax.set_ylabel(label)
            ax.set_ylim(0, 1.12 * float(max(s[today].max(), s[found].max(), 1)))
            ax.grid(axis="x", visible=False)
        ax_c.yaxis.set_major_formatter(FuncFormatter(_money))
        for xi, v in zip(x, s["units"], strict=True):
            ax_u.annotate(f"{v}", (xi + 0.2, v), ha="center", va="bottom", fontsize=8)
        handles = [
            Patch(color=BASELINE_COLOUR, label="today"),
            Patch(color=OKABE_ITO["blue"], label="needed"),
        ]
        if unmet.any():
            handles.append(
                Patch(
                    facecolor=OKABE_ITO["blue"],
                    edgecolor=ABOVE_COLOUR,
                    hatch="//",
                    label="closest: a target cannot be met",
                )
            )
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    return fig


def margins_figure(res: SizingResult) -> Figure | None:
    c = res.communities
    c = c[c["phase"] == "confirm"]
    if c.empty:
        return None
    opts = list(res.summary["option"])
    coms = list(dict.fromkeys(c["community"]))
    styles = option_styles(opts, res.baseline)
    fig = new_figure(
        max(6.0, 1.1 * len(coms) + 2.0),
        3.4,
        "Share within target of the fleet found, on fresh replications",
    )
    width = 0.8 / max(1, len(opts))
    with style():
        ax = fig.subplots()
        x = np.arange(len(coms))
        for k, opt in enumerate(opts):
            rows = c[c["option"] == opt].set_index("community").reindex(coms)
            pos = x - 0.4 + width * (k + 0.5)
            mean = rows["within_target"].to_numpy(dtype=np.float64)
            lo = np.clip(rows["ci_low"].to_numpy(dtype=np.float64), 0, 1)
            hi = np.clip(rows["ci_high"].to_numpy(dtype=np.float64), 0, 1)
            err = np.vstack([mean - lo, hi - mean])
            ax.errorbar(
                pos,
                mean,
                yerr=np.nan_to_num(err).clip(0),
                fmt="none",
                ecolor=styles[opt]["color"],
                elinewidth=1.0,
                capsize=2,
            )
            ax.plot(
                pos,
                mean,
                linestyle="none",
                marker=styles[opt]["marker"],
                color=styles[opt]["color"],
                label=opt,
            )
            ax.plot(
                pos,
                rows["lower_bound"],
                linestyle="none",
                marker="_",
                markersize=11,
                mew=2,
                color=styles[opt]["color"],
            )
            for p, share in zip(pos, rows["target_share"], strict=True):
                ax.hlines(share, p - width / 2, p + width / 2, color=TARGET_COLOUR, linewidth=1.2)
        ax.set_xticks(
            x, [res.names.get(str(v), str(v)) for v in coms], rotation=15 if len(coms) > 4 else 0
        )
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylabel("share within target")
        ax.grid(axis="x", visible=False)
        handles, labels = ax.get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(5, len(labels)))
    return fig


def sizing_figures(res: SizingResult) -> Iterator[Drawn]:
    yield Drawn(
        "sizing_units",
        "sizing",
        "Units and cost: today and needed",
        "Grey: today's fleet; blue: the smallest fleet found that meets every target "
        "with the stated confidence (hatched: some target cannot be met, and the "
        "fleet is the smallest that comes closest).",
        units_figure(res),
    )
    fig = margins_figure(res)
    if fig is not None:
        yield Drawn(
            "sizing_margins",
            "sizing",
            "Share within target per community",
            "Markers: mean share within target on fresh replications, with the "
            "two-sided interval; a dash: the one-sided lower bound; black line: the "
            "target share. A lower bound under the line means the answer did not "
            "hold.",
            fig,
        )


# --- coalitions -------------------------------------------------------------------------------
def values_figure(res: CoalitionResult) -> Figure:
    v = res.values.sort_values(["size", "value"], ascending=[True, True], kind="stable")
    abbr = short_names(res.names)
    labels = ["+".join(abbr[m] for m in str(c).split("+")) for c in v["coalition"]]
    unit = "cost per year" if res.value == "cost" else "calls per year not within target"
    fig = new_figure(
        7.0,
        0.22 * len(v) + 1.4,
        f"What each coalition would {'pay' if res.value == 'cost' else 'miss'}"
        " pooling only among its members",
    )
    y = np.arange(len(v))
    colours = [
        OKABE_ITO[k]
        for k in ("sky_blue", "blue", "green", "purple", "orange", "vermillion", "black", "yellow")
    ]
    with style():
        ax = fig.subplots()
        ax.barh(y, v["value"], 0.7, color=[colours[(s - 1) % len(colours)] for s in v["size"]])
        ax.plot(
            v["stand_alone_sum"],
            y,
            linestyle="none",
            marker="|",
            markersize=9,
            color=TARGET_COLOUR,
            label="members alone (sum)",
        )
        ax.set_yticks(y, labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel(unit)
        if res.value == "cost":
            ax.xaxis.set_major_formatter(FuncFormatter(_money))
        ax.grid(axis="y", visible=False)
        fig.legend(loc="outside lower center")  # outside the axes: it hides no bar or tick
    return fig


def allocation_figure(res: CoalitionResult) -> Figure:
    a = res.allocations
    methods = list(dict.fromkeys(a["method"]))
    players = res.players
    fig = new_figure(
        max(6.5, 1.2 * len(players) + 2.0),
        3.8,
        "Each community's share of the grand coalition's "
        f"{'cost' if res.value == 'cost' else 'missed calls'}",
    )
    width = 0.8 / max(1, len(methods))
    with style():
        ax = fig.subplots()
        x = np.arange(len(players))
        for k, m in enumerate(methods):
            rows = a[a["method"] == m].set_index("community").reindex(players)
            bars = ax.bar(
                x - 0.4 + width * (k + 0.5),
                rows["amount"],
                width * 0.92,
                color=METHOD_COLOURS.get(m, "#999999"),
                label=METHOD_NAMES.get(m, m),
            )
            for patch, above in zip(bars.patches, rows["above_stand_alone"], strict=True):
                if bool(above):
                    patch.set_edgecolor(ABOVE_COLOUR)
                    patch.set_linewidth(1.4)
                    patch.set_hatch("//")
        alone = a[a["method"] == methods[0]].set_index("community").reindex(players)
        ax.hlines(
            alone["stand_alone"],
            x - 0.45,
            x + 0.45,
            color=TARGET_COLOUR,
            linewidth=1.6,
            label="stand-alone cost c({i})",
        )
        ax.set_xticks(
            x, [res.names.get(p, p) for p in players], rotation=15 if len(players) > 4 else 0
        )
        if res.value == "cost":
            ax.yaxis.set_major_formatter(FuncFormatter(_money))
        ax.axhline(0, color="#555555", linewidth=0.6)
        ax.grid(axis="x", visible=False)
        handles, labels = ax.get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(4, len(labels)))
    return fig


def coalition_figures(res: CoalitionResult) -> Iterator[Drawn]:
    abbr = short_names(res.names)
    key = ", ".join(f"{abbr[c]} = {res.names[c]}" for c in res.players)
    screening = "Erlang C screening estimate (--fast), not a simulation. " if res.fast else ""
    yield Drawn(
        "coalition_values",
        "coalitions",
        "Value of every coalition",
        f"{screening}Bars: c(S), by coalition size; ticks: the sum of the members' stand-alone "
        f"values, so the gap is the pooling gain. {key}.",
        values_figure(res),
    )
    yield Drawn(
        "coalition_allocations",
        "coalitions",
        "Cost sharing against going alone",
        f"{screening}One bar per method; the black line is the community's stand-alone value "
        "c({i}); a hatched bar charges more than going alone would cost.",
        allocation_figure(res),
    )


def draw(drawn: list[Drawn], out_dir: Path) -> list[Path]:
    """Save every figure as PNG and SVG into ``out_dir``; return the PNG paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for d in drawn:
        png, _ = save(d.figure, out_dir, d.name)
        paths.append(png)
    return paths
