"""The equity picture: share of calls reached within target, per community and option.

From summary.csv (mean and 95 % CI across replications), for each service at its most urgent
priority that has a target: the calls where a late unit matters most. A region of many
communities shows the :data:`~sim.plots.aggregate.MAX_COMMUNITIES` furthest below their target
under the baseline (a share is no sum: the others are not folded together).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from ..results.derived import within_target_table
from ..results.display import fmt_pct
from ..results.read import ResultData
from .aggregate import top
from .panels import PanelLayout
from .style import TARGET_COLOUR, Drawn, new_figure, option_styles, style

__all__ = ["figures", "within_target_figure"]


def within_target_figure(data: ResultData) -> Figure | None:
    """Grouped bars with CI whiskers: community x option, a panel per service."""
    table = within_target_table(data)
    services = [s for s in data.services if (table["service"] == s).any()]
    if not services:
        return None
    coms = shown_communities(data, table)
    ncols = 1 if len(services) == 1 or len(coms) > 5 else 2
    nrows = math.ceil(len(services) / ncols)
    width = min(10.0, max(5.0, 0.95 * len(coms) * ncols + 1.2))
    fig = new_figure(
        width,
        2.6 * nrows + 0.8,
        "Share of calls reached within target, by community",
        layout=PanelLayout(),
    )
    styles = option_styles(data.options, data.baseline)
    opts = [o for o in data.options if (table["option"] == o).any()]
    bar_w = 0.8 / max(1, len(opts))
    with style():
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax in axes[len(services) :]:
            ax.set_visible(False)
        for ax, service in zip(axes, services, strict=False):
            sub = table[table["service"] == service]
            prio = sub["priority"].iloc[0]
            x = np.arange(len(coms))
            for k, opt in enumerate(opts):
                rows = sub[sub["option"] == opt].set_index("community").reindex(coms)
                mean = rows["mean"].to_numpy(dtype=np.float64)
                lo = np.clip(rows["ci_low"].to_numpy(dtype=np.float64), 0, 1)
                hi = np.clip(rows["ci_high"].to_numpy(dtype=np.float64), 0, 1)
                err = np.vstack([np.nan_to_num(mean - lo), np.nan_to_num(hi - mean)]).clip(0)
                pos = x - 0.4 + bar_w * (k + 0.5)
                bars = ax.bar(
                    pos,
                    np.nan_to_num(mean),
                    bar_w * 0.92,
                    color=styles[opt]["color"],
                    label=opt,
                    yerr=err,
                    error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "#222222"},
                )
                for patch, com in zip(bars.patches, coms, strict=True):
                    patch.set_gid(f"within:{service}:{opt}:{com}")
            for i, com in enumerate(coms):
                share = data.target_share(service, int(prio), com)
                if share is not None:
                    ax.hlines(
                        share,
                        i - 0.46,
                        i + 0.46,
                        colors=TARGET_COLOUR,
                        linestyles="--",
                        linewidth=1.1,
                        gid=f"target-share:{service}:{com}",
                        zorder=4,
                    )
            ax.set_xticks(
                x,
                [data.community_name(c) for c in coms],
                rotation=20 if len(coms) > 4 else 0,
                ha="right" if len(coms) > 4 else "center",
            )
            ax.set_ylim(0, 1.08)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax.set_ylabel("Within target, %")
            ax.set_title(f"{data.service_name(service)}, priority {prio}", loc="left")
            ax.grid(axis="x", visible=False)
        handles, labels = axes[0].get_legend_handles_labels()

        handles.append(Line2D([], [], color=TARGET_COLOUR, linestyle="--", linewidth=1.1))
        labels.append("target share")
        fig.legend(handles, labels, loc="outside lower center", ncols=min(6, len(labels)))
    return fig


def shown_communities(data: ResultData, table: pd.DataFrame) -> list[str]:
    """The communities drawn: every one, or the furthest below target under the baseline
    (the largest shortfall of any service)."""
    coms = [c for c in data.communities if (table["community"] == c).any()]
    base = table[table["option"] == data.baseline]
    gaps: dict[str, float] = {}
    for r in base.itertuples():
        share = data.target_share(r.service, int(r.priority), r.community)
        gap = (share if share is not None else 1.0) - float(r.mean)
        if math.isfinite(gap):
            gaps[r.community] = max(gaps.get(r.community, -math.inf), gap)
    return top(gaps, coms)


def _caption(data: ResultData) -> str:
    table = within_target_table(data)
    base = data.baseline
    worst = None
    for r in table[table["option"] == base].itertuples():
        share = data.target_share(r.service, int(r.priority), r.community)
        gap = (share if share is not None else 1.0) - r.mean
        if worst is None or gap > worst[0]:
            worst = (gap, r, share)
    text = "Bars below their dashed line miss the standard; whiskers are 95 % confidence intervals"
    if worst is None or not math.isfinite(worst[1].mean):
        return text + "."
    gap, r, share = worst
    others = table[
        (table["service"] == r.service)
        & (table["community"] == r.community)
        & (table["option"] != base)
    ]
    where = (
        f"{data.community_name(r.community)} ({data.service_name(r.service)}, "
        f"priority {r.priority})"
    )
    if gap > 0:
        text += f"; furthest below target under {base} is {where} at {fmt_pct(r.mean)}"
        text += f" of {fmt_pct(share)}" if share is not None else ""
    else:
        text += (
            f"; every community meets its target under {base}, the lowest being {where} "
            f"at {fmt_pct(r.mean)}"
        )
    if not others.empty and others["mean"].notna().any():
        best = others.loc[others["mean"].idxmax()]
        text += f", {fmt_pct(best['mean'])} under {best['option']}"
    shown = len(shown_communities(data, table))
    count = table["community"].nunique()
    if shown < count:
        text += f"; the {shown} of {count} communities furthest below target are drawn"
    return text + "."


def figures(data: ResultData) -> Iterator[Drawn]:
    fig = within_target_figure(data)
    if fig is not None:
        yield Drawn(
            name="equity_within_target",
            section="equity",
            title="Share within target by community and option",
            caption=_caption(data),
            figure=fig,
        )
