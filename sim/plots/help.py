"""Who helps whom: busy unit-hours by owning community (rows) and incident community (columns).

From help.csv (mean per replication over the statistics window), summed over services, a panel
per option. The diagonal (a community's own units on its own calls) is shown in grey so that
the colour scale shows the help across borders. A region of many communities shows the
:data:`~sim.plots.aggregate.MAX_COMMUNITIES` that give and receive the most help, the others
summed in one row and column (their corner cell: their own calls and the help among them).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.figure import Figure

from ..results.derived import cross_border, help_matrix
from ..results.display import fmt_pct
from ..results.read import ResultData
from .aggregate import fold, others_label, top
from .panels import PanelLayout, colorbar_axes
from .style import Drawn, new_figure, style

__all__ = ["figures", "help_figure"]

# white (no help) to Okabe-Ito blue to dark navy: one hue, readable without colour vision
CMAP = LinearSegmentedColormap.from_list(
    "intersim_help", ["#ffffff", "#56B4E9", "#0072B2", "#00304d"]
)


def _shown(data: ResultData, full: dict[str, pd.DataFrame]) -> tuple[list[str], list[str]]:
    """The communities drawn one by one (the ones helping and helped most, over all options)
    and the labels of the rows: their names, then the others' count."""
    scores: dict[str, float] = {}
    for m in full.values():
        v = m.to_numpy(dtype=np.float64, copy=True)
        np.fill_diagonal(v, 0.0)
        for c, given, received in zip(m.index, v.sum(axis=1), v.sum(axis=0), strict=True):
            scores[c] = scores.get(c, 0.0) + float(given + received)
    keep = top(scores, data.communities)
    names = [data.community_name(c) for c in keep]
    rest = len(data.communities) - len(keep)
    return keep, names + ([others_label(rest)] if rest else [])


def help_figure(data: ResultData, full: dict[str, pd.DataFrame] | None = None) -> Figure | None:
    """The heat maps (``full``: every option's help matrix, if already at hand)."""
    opts = data.options
    if not data.communities:
        return None
    full = full if full is not None else {o: help_matrix(data, o) for o in opts}
    keep, names = _shown(data, full)
    mats = {o: fold(m, keep) for o, m in full.items()}
    coms = list(mats[opts[0]].index) if opts else keep
    off = [m.to_numpy(dtype=np.float64)[~np.eye(len(coms), dtype=bool)] for m in mats.values()]
    vmax = max((float(v.max()) for v in off if v.size), default=0.0) or 1.0
    ncols = min(2, len(opts))
    nrows = math.ceil(len(opts) / ncols)
    cell = 0.62 if len(coms) <= 6 else 0.45
    side = cell * len(coms) + 1.4
    days = data.run_days()
    per = f"per run of {days:g} days" if days else "per run"
    fig = new_figure(
        min(10.5, side * ncols + 1.2),
        side * nrows + 0.9,
        f"Who helps whom: busy unit-hours {per}, all services",
        layout=PanelLayout(),
    )
    norm = Normalize(0, vmax)
    fs = 7 if len(coms) <= 6 else 5.5
    with style():
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax in axes[len(opts) :]:
            ax.set_visible(False)
        im = None
        for ax, opt in zip(axes, opts, strict=False):
            v = mats[opt].to_numpy(dtype=np.float64)
            diag = np.eye(len(coms), dtype=bool)
            ax.imshow(np.where(diag, 1.0, np.nan), cmap="Greys", vmin=0, vmax=6, aspect="equal")
            im = ax.imshow(np.ma.masked_array(v, mask=diag), cmap=CMAP, norm=norm, aspect="equal")
            im.set_gid(f"help:{opt}")
            for i in range(len(coms)):
                for j in range(len(coms)):
                    val = v[i, j]
                    if i == j:
                        colour, txt = "#555555", f"{val:,.0f}"
                    else:
                        colour = "white" if norm(val) > 0.55 else "#222222"
                        txt = f"{val:,.0f}" if val >= 0.5 else ("0" if val == 0 else "<1")
                    ax.text(
                        j,
                        i,
                        txt,
                        ha="center",
                        va="center",
                        fontsize=fs,
                        color=colour,
                        style="italic" if i == j else "normal",
                    )
            ax.set_xticks(range(len(coms)), names, rotation=35, ha="right")
            ax.set_yticks(range(len(coms)), names)
            ax.grid(False)
            ax.tick_params(length=0)
            for spine in ax.spines.values():
                spine.set_visible(False)
            total = float(v.sum())
            share = cross_border(full[opt]) / total if total > 0 else 0.0
            ax.set_title(f"{opt}: {fmt_pct(share)} across borders", loc="left")
            ax.set_xlabel("incident in community")
            ax.set_ylabel("unit owned by")
        if im is not None:
            cb = fig.colorbar(im, cax=colorbar_axes(fig, list(axes[: len(opts)]), 0.7))
            own = "own calls" + (
                ", others: also among them" if len(keep) < len(full[opts[0]]) else ""
            )
            cb.set_label(f"unit-hours helping another community (grey diagonal: {own})")
    return fig


def _caption(data: ResultData, full: dict[str, pd.DataFrame]) -> str:
    best: tuple[float, str, float, tuple[str, str, float]] | None = None
    for opt in data.options:
        m = full[opt]
        v = m.to_numpy(dtype=np.float64, copy=True)
        total = float(v.sum())
        cross = cross_border(m)
        if total <= 0:
            continue
        np.fill_diagonal(v, -1.0)
        i, j = np.unravel_index(int(np.argmax(v)), v.shape)
        flow = (m.index[i], m.columns[j], float(v[i, j]))
        if best is None or cross > best[0]:
            best = (cross, opt, cross / total, flow)
    if best is None or best[0] <= 0:
        return (
            "No unit helped another community under any option: every call was served by "
            "its own community's units."
        )
    cross, opt, share, (a, b, hours) = best
    return (
        f"Read a row as what one community's units gave: under {opt}, {cross:,.0f} unit-hours "
        "a run "
        f"({fmt_pct(share)} of all busy time) cross borders, most from "
        f"{data.community_name(a)} to {data.community_name(b)} ({hours:,.0f} h)."
    )


def _folded(data: ResultData, full: dict[str, pd.DataFrame]) -> str:
    """What the figure leaves out, when it folds communities together."""
    keep, _ = _shown(data, full)
    rest = len(data.communities) - len(keep)
    if not rest:
        return ""
    return (
        f" The {len(keep)} communities that give and receive the most help are shown one by "
        f"one, the other {rest} summed as one."
    )


def figures(data: ResultData) -> Iterator[Drawn]:
    full = {o: help_matrix(data, o) for o in data.options}
    fig = help_figure(data, full)
    if fig is not None:
        caption = _caption(data, full) + _folded(data, full)
        yield Drawn("help_heatmap", "help", "Who helps whom (unit-hours)", caption, fig)
