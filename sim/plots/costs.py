"""Who pays what: each community's share of an option's cost under each cost-sharing formula.

From shares.csv (mean and 95 % CI across replications), a panel per option: per capita, per
call, per unit-hour used, and the scenario's weighted mix. A region of many communities shows
the :data:`~sim.plots.aggregate.MAX_COMMUNITIES` that pay most under the baseline and the
others' sum (without an interval: the table does not give one for a sum).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..results.derived import FORMULA_NAMES
from ..results.display import fmt_money
from ..results.read import ResultData
from .aggregate import OTHERS, others_label, top
from .panels import PanelLayout
from .style import FORMULA_COLOURS, Drawn, new_figure, style

__all__ = ["figures", "shares_figure"]


def _formulas(data: ResultData) -> list[str]:
    present = list(dict.fromkeys(data.table("shares")["formula"]))
    return [f for f in FORMULA_NAMES if f in present] + [
        f for f in present if f not in FORMULA_NAMES
    ]


def shares_figure(data: ResultData) -> Figure | None:
    sh = data.table("shares")
    if sh.empty:
        return None
    opts = [o for o in data.options if (sh["option"] == o).any()]
    coms, sh = _folded(data, sh)
    formulas = _formulas(data)
    ncols = 1 if len(coms) > 5 or len(opts) == 1 else 2
    nrows = math.ceil(len(opts) / ncols)
    days = data.run_days()
    per = f"per run of {days:g} days" if days else "per run"
    fig = new_figure(
        min(10.0, max(5.0, 0.9 * len(coms) * ncols + 1.4)),
        2.5 * nrows + 0.9,
        f"Cost per community under each cost-sharing formula ({per})",
        layout=PanelLayout(),
    )
    width = 0.8 / max(1, len(formulas))
    tops = np.fmax(sh["ci_high"].to_numpy(dtype=np.float64), sh["mean"].to_numpy(np.float64))
    upper = float(np.nanmax(tops, initial=0.0))
    with style():
        axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True).ravel()
        for ax in axes[len(opts) :]:
            ax.set_visible(False)
        for i, (ax, opt) in enumerate(zip(axes, opts, strict=False)):
            sub = sh[sh["option"] == opt]
            x = np.arange(len(coms))
            for k, f in enumerate(formulas):
                rows = sub[sub["formula"] == f].set_index("community").reindex(coms)
                mean = rows["mean"].to_numpy(dtype=np.float64)
                err = np.vstack(
                    [
                        mean - rows["ci_low"].to_numpy(dtype=np.float64),
                        rows["ci_high"].to_numpy(dtype=np.float64) - mean,
                    ]
                )
                bars = ax.bar(
                    x - 0.4 + width * (k + 0.5),
                    np.nan_to_num(mean),
                    width * 0.92,
                    color=FORMULA_COLOURS.get(f, "#999999"),
                    label=FORMULA_NAMES.get(f, f),
                    yerr=np.nan_to_num(err).clip(0),
                    error_kw={"elinewidth": 0.7, "capsize": 1.2, "ecolor": "#222222"},
                )
                for patch, com in zip(bars.patches, coms, strict=True):
                    patch.set_gid(f"share:{opt}:{f}:{com}")
            ax.set_xticks(
                x,
                [_name(data, c, sh) for c in coms],
                rotation=20 if len(coms) > 4 else 0,
                ha="right" if len(coms) > 4 else "center",
            )
            total = sub[sub["formula"] == formulas[0]]["mean"].sum() if formulas else 0.0
            ax.set_title(f"{opt} (total {fmt_money(total)})", loc="left")
            ax.set_ylim(0, upper * 1.08 if upper > 0 else 1)
            ax.yaxis.set_major_formatter(FuncFormatter(_tick))
            if i % ncols == 0:
                ax.set_ylabel("cost, money units")
            ax.grid(axis="x", visible=False)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    return fig


def _folded(data: ResultData, sh: pd.DataFrame) -> tuple[list[str], pd.DataFrame]:
    """The communities drawn (every one, or those paying most under the baseline, then the
    others) and the shares with the others' rows summed (their interval unknown: NaN)."""
    coms = [c for c in data.communities if (sh["community"] == c).any()]
    base = sh[sh["option"] == (data.baseline or sh["option"].iloc[0])]
    paid = base.groupby("community")["mean"].mean().to_dict()
    keep = top(paid, coms)
    if len(keep) == len(coms):
        return coms, sh
    rest = sh[~sh["community"].isin(keep)]
    others = rest.groupby(["option", "formula"], sort=False, as_index=False)["mean"].sum()
    others = others.assign(community=OTHERS, ci_low=np.nan, ci_high=np.nan)
    folded = pd.concat([sh[sh["community"].isin(keep)], others], ignore_index=True)
    folded.attrs["others"] = len(coms) - len(keep)
    return [*keep, OTHERS], folded


def _name(data: ResultData, community: str, sh: pd.DataFrame) -> str:
    if community == OTHERS:
        return others_label(int(sh.attrs.get("others", 0)))
    return data.community_name(community)


def _tick(v: float, _pos: object = None) -> str:
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:g} M"
    if a >= 1e3:
        return f"{v / 1e3:g} k"
    return f"{v:g}"


def _caption(data: ResultData) -> str:
    sh = data.table("shares")
    if sh.empty:
        return ""
    best = None
    for (opt, com), g in sh.groupby(["option", "community"], sort=False):
        spread = g["mean"].max() - g["mean"].min()
        if best is None or spread > best[0]:
            best = (spread, opt, com, g)
    assert best is not None
    _spread, opt, com, g = best
    lo, hi = g.loc[g["mean"].idxmin()], g.loc[g["mean"].idxmax()]
    return (
        f"The formula matters most for {data.community_name(com)}: under {opt} it pays "
        f"{fmt_money(lo['mean'])} {FORMULA_NAMES.get(lo['formula'], lo['formula'])} but "
        f"{fmt_money(hi['mean'])} {FORMULA_NAMES.get(hi['formula'], hi['formula'])}; every "
        "formula splits the same total."
    )


def figures(data: ResultData) -> Iterator[Drawn]:
    fig = shares_figure(data)
    if fig is not None:
        yield Drawn(
            "costs_shares", "costs", "Cost sharing per community and formula", _caption(data), fig
        )
