"""Move-up figures: how often each community is left uncovered, and the free units by community
over one week of one replication (``coverage.csv``, ``free_units.csv``).

Drawn when some option moves units (a relocation policy other than ``none``), for each service
whose units it moves: the share of time each community is uncovered under every option (bars,
with 95 % intervals), and the free units standing in each community hour by hour over the first
week after the warm-up of the first replication, one panel per option.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..results.read import ResultData
from .panels import PanelLayout
from .style import OKABE_ITO, Drawn, new_figure, option_styles, style

__all__ = ["figures", "moved_services", "uncovered_caption"]

MAX_PANELS = 4


def _table(data: ResultData, name: str) -> pd.DataFrame | None:
    if not (data.root / f"{name}.csv").is_file():
        return None
    table = data.table(name)
    return table if not table.empty else None


def moved_services(coverage: pd.DataFrame) -> list[str]:
    """Services with a move in some option."""
    moved = coverage.groupby("service", sort=False)[["moves_in", "moves_out"]].sum()
    return [str(s) for s in moved.index[(moved.sum(axis=1) > 0).to_numpy()]]


def _uncovered(data: ResultData, coverage: pd.DataFrame, service: str) -> Figure:
    rows = coverage[coverage["service"] == service]
    communities = list(dict.fromkeys(rows["community"].astype(str)))
    styles = option_styles(data.options, data.baseline)
    fig = new_figure(
        7.6,
        0.45 * len(communities) * max(1, len(data.options)) ** 0.5 + 1.6,
        f"{data.service_name(service)}: share of time uncovered",
        layout=PanelLayout(),
    )
    with style():
        ax = fig.subplots()
        height = 0.8 / max(1, len(data.options))
        y = np.arange(len(communities))
        for i, opt in enumerate(data.options):
            mine = rows[rows["option"] == opt].set_index("community").reindex(communities)
            share = mine["uncovered_share"].to_numpy(dtype=float)
            err = np.vstack(
                [share - mine["uncovered_share_low"], mine["uncovered_share_high"] - share]
            )
            bars = ax.barh(
                y + (i - (len(data.options) - 1) / 2) * height,
                share,
                height,
                color=styles[opt]["color"],
                label=opt,
                xerr=np.nan_to_num(err),
                error_kw={"elinewidth": 0.7, "ecolor": OKABE_ITO["black"]},
            )
            for bar, c in zip(bars, communities, strict=True):
                bar.set_gid(f"uncovered:{service}:{opt}:{c}")
        ax.set_yticks(y, [data.community_name(c) for c in communities])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
        ax.set_xlabel("share of time with less than the target share of calls covered")
        handles, labels = ax.get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(4, len(labels)))
    return fig


def uncovered_caption(
    coverage: pd.DataFrame, service: str, baseline: str, name: Callable[[str], str] = str
) -> str:
    """One sentence from the data: the most uncovered community and the option that changes
    it most against the baseline (``name``: a community's display name)."""
    rows = coverage[coverage["service"] == service]
    rows = rows.assign(community=rows["community"].astype(str).map(name))
    worst = rows.loc[rows["uncovered_share"].idxmax()]
    text = (
        f"{worst['community']} is the community most often uncovered: "
        f"{worst['uncovered_share']:.1%} of the time under {worst['option']}."
    )
    diffs = rows[rows["option"] != baseline].dropna(subset=["uncovered_share_diff"])
    if not diffs.empty:
        best = diffs.loc[diffs["uncovered_share_diff"].idxmin()]
        text += (
            f" The largest drop against {baseline}: {best['community']} under {best['option']}, "
            f"{best['uncovered_share_diff']:+.1%} [{best['uncovered_share_diff_low']:+.1%}, "
            f"{best['uncovered_share_diff_high']:+.1%}]."
        )
    return text


def _timeline(data: ResultData, free: pd.DataFrame, service: str, options: list[str]) -> Figure:
    rows = free[free["service"] == service]
    communities = list(dict.fromkeys(rows["community"].astype(str)))
    colours = list(OKABE_ITO.values())
    fig = new_figure(
        7.6,
        1.6 * len(options) + 1.0,
        f"{data.service_name(service)}: free units",
        layout=PanelLayout(),
    )
    with style():
        axes = fig.subplots(len(options), 1, squeeze=False, sharex=True, sharey=True)[:, 0]
        for ax, opt in zip(axes, options, strict=True):
            mine = rows[rows["option"] == opt]
            for k, c in enumerate(communities):
                line = mine[mine["community"] == c]
                days = line["hour_start"].to_numpy(dtype=float) / 1440.0
                (drawn,) = ax.step(
                    days,
                    line["free_units"].to_numpy(dtype=float),
                    where="post",
                    color=colours[(k + 1) % len(colours)],
                    label=data.community_name(c),
                    linewidth=1.0,
                )
                drawn.set_gid(f"free:{service}:{opt}:{c}")
            ax.set_ylim(bottom=0)
            ax.set_title(opt, loc="left", fontsize=8.5)
            ax.set_ylabel("free units", fontsize=7.5)
        axes[-1].set_xlabel("day of the run (hourly averages, first replication)")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(5, len(labels)))
    return fig


def figures(data: ResultData) -> Iterator[Drawn]:
    coverage = _table(data, "coverage")
    if coverage is None:
        return
    free = _table(data, "free_units")
    for service in moved_services(coverage):
        yield Drawn(
            f"coverage_{service}",
            "coverage",
            f"{data.service_name(service)}: share of time uncovered by community",
            uncovered_caption(coverage, service, data.baseline, data.community_name),
            _uncovered(data, coverage, service),
        )
        if free is None:
            continue
        moving = coverage[(coverage["service"] == service)]
        moves = moving.groupby("option", sort=False)["moves_out"].sum()
        shown = [o for o in data.options if o == data.baseline or moves.get(o, 0) > 0]
        shown = shown[:MAX_PANELS]
        yield Drawn(
            f"free_units_{service}",
            "coverage",
            f"{data.service_name(service)}: free units by community, first week",
            _timeline_caption(free, service, shown),
            _timeline(data, free, service, shown),
        )


def _timeline_caption(free: pd.DataFrame, service: str, options: list[str]) -> str:
    rows = free[(free["service"] == service) & free["option"].isin(options)]
    empty = (
        rows.assign(none=rows["free_units"] <= 0).groupby(["option", "community"])["none"].mean()
    )
    worst = empty.idxmax() if len(empty) else None
    if worst is None:
        return "Free units standing in each community, hour by hour."
    return (
        "Free units standing in each community (where their post is), hour by hour over the "
        f"first week after the warm-up of the first replication (a post of no community counts "
        f"in none); {worst[1]} under {worst[0]} "
        f"has no free unit standing in it in {empty.max():.0%} of those hours."
    )
