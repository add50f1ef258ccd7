"""A map per option: communities sized by population, extra stations, facilities, and arrows
for help across borders with width proportional to unit-hours (help.csv, all services).

Locations come from region.json (x/y in km, or lat/lon projected to km around the region's
centre). Without locations for every community, communities are drawn on a circle, not to
scale, and the caption says so. A region of many communities draws them as one layer of
smaller dots, labels the :data:`MAX_LABELLED` largest, and draws the :data:`MAX_ARROWS`
largest flows of each option.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from ..results.derived import help_matrix
from ..results.read import ResultData
from .panels import PanelLayout
from .style import OKABE_ITO, Drawn, new_figure, style

__all__ = ["MAX_ARROW_WIDTH", "figures", "flows", "layout", "map_figure"]

MAX_ARROW_WIDTH = 8.0  # points, for the largest flow of any option
MIN_SHARE = 0.01  # flows below this share of the largest are left out
MAX_ARROWS = 40  # flows drawn per option, the largest
MAX_LABELLED = 25  # communities (and extra stations) drawn and labelled one by one
KM_PER_DEG_LAT = 110.57


def _xy(loc: dict[str, float] | None, lat0: float, lon0: float) -> tuple[float, float] | None:
    if not loc:
        return None
    if "x" in loc:
        return float(loc["x"]), float(loc["y"])
    x = (float(loc["lon"]) - lon0) * KM_PER_DEG_LAT * 1.0073 * math.cos(math.radians(lat0))
    return x, (float(loc["lat"]) - lat0) * KM_PER_DEG_LAT


def layout(data: ResultData) -> tuple[dict[str, tuple[float, float]], dict[str, Any], bool]:
    """Positions of communities and of placed stations/facilities; True if drawn to scale."""
    region = data.region or {}
    coms = data.communities
    locs = {c["id"]: c.get("location") for c in region.get("communities", [])}
    kinds = {("x" in loc) for loc in locs.values() if loc}
    geo = [loc for loc in locs.values() if loc and "lat" in loc]
    lat0 = float(np.mean([g["lat"] for g in geo])) if geo else 0.0
    lon0 = float(np.mean([g["lon"] for g in geo])) if geo else 0.0
    scaled = bool(coms) and all(locs.get(c) for c in coms) and len(kinds) == 1
    pos: dict[str, tuple[float, float]] = {}
    if scaled:
        for c in coms:
            p = _xy(locs[c], lat0, lon0)
            assert p is not None
            pos[c] = p
    else:
        n = len(coms)
        for i, c in enumerate(coms):
            a = math.pi / 2 - 2 * math.pi * i / max(1, n)
            pos[c] = (10 * math.cos(a), 10 * math.sin(a))
    extras: dict[str, Any] = {"stations": [], "facilities": []}
    for kind in ("stations", "facilities"):
        for p in region.get(kind, []):
            if p.get("home"):
                continue
            xy = _xy(p.get("location"), lat0, lon0) if scaled else None
            if xy is None and p.get("community") in pos:
                xy = pos[p["community"]]
            if xy is not None:
                extras[kind].append({**p, "xy": xy})
    return pos, extras, scaled


def flows(data: ResultData, option: str) -> list[tuple[str, str, float]]:
    """Cross-border help (owner, community, unit-hours per run), largest first."""
    m = help_matrix(data, option)
    v = m.to_numpy(dtype=np.float64)
    rows, cols = np.nonzero(v > 0)
    out = [
        (str(m.index[i]), str(m.columns[j]), float(v[i, j]))
        for i, j in zip(rows, cols, strict=True)
        if m.index[i] != m.columns[j]
    ]
    return sorted(out, key=lambda f: -f[2])


def map_figure(
    data: ResultData, all_flows: dict[str, list[tuple[str, str, float]]] | None = None
) -> Figure | None:
    """The map per option (``all_flows``: every option's :func:`flows`, if already at hand)."""
    coms = data.communities
    if not coms:
        return None
    pos, extras, scaled = layout(data)
    opts = data.options
    all_flows = all_flows if all_flows is not None else {o: flows(data, o) for o in opts}
    hmax = max((f[2] for fl in all_flows.values() for f in fl), default=0.0)
    xs = [p[0] for p in pos.values()] + [e["xy"][0] for k in extras.values() for e in k]
    ys = [p[1] for p in pos.values()] + [e["xy"][1] for k in extras.values() for e in k]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1.0)
    pad = 0.14 * span
    # a window at least half as wide as tall (and vice versa), centred on the places
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    half_w = max(max(xs) - min(xs) + 2 * pad, 0.5 * (max(ys) - min(ys) + 2 * pad)) / 2
    half_h = max(max(ys) - min(ys) + 2 * pad, 0.5 * (max(xs) - min(xs) + 2 * pad)) / 2
    aspect = half_h / half_w
    ncols = min(len(opts), 2 if aspect <= 1.0 else 3 if aspect <= 1.6 else 4)
    nrows = math.ceil(len(opts) / ncols)
    panel_w = min(4.6, 9.6 / ncols)
    panel_h = min(4.6, max(2.4, panel_w * aspect))
    days = data.run_days()
    per = f"per run of {days:g} days" if days else "per run"
    fig = new_figure(
        panel_w * ncols,
        panel_h * nrows + 1.0,
        f"Help across borders: arrow width = unit-hours {per}",
        layout=PanelLayout(),
    )
    pops = data.population()
    pmax = max(pops.values(), default=1.0)
    shrink = min(1.0, MAX_LABELLED / len(coms))  # many communities: smaller dots
    sizes = {c: (60 + 700 * pops.get(c, pmax) / pmax) * shrink for c in coms}  # area, points²
    radius = {c: math.sqrt(s) / 2 for c, s in sizes.items()}
    labelled = set(sorted(coms, key=lambda c: -pops.get(c, 0.0))[:MAX_LABELLED])
    with style():
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax in axes[len(opts) :]:
            ax.set_visible(False)
        for ax, opt in zip(axes, opts, strict=False):
            # the window is data (not fixed limits), so that the equal aspect widens the data
            # window to fill the panel the layout gives, rather than shrinking the panel
            ax.set_aspect("equal", adjustable="datalim")
            ax.set_xmargin(0)
            ax.set_ymargin(0)
            ax.update_datalim([(cx - half_w, cy - half_h), (cx + half_w, cy + half_h)])
            ax.grid(False)
            _communities(ax, coms, pos, sizes)
            for c in coms:
                if c not in labelled:
                    continue
                x, y = pos[c]
                size = sizes[c]
                label = data.community_name(c)
                if c in pops:
                    label += f"\n{pops[c]:,.0f}"
                ax.annotate(
                    label,
                    (x, y),
                    xytext=(0, -math.sqrt(size) / 2 - 2),
                    textcoords="offset points",
                    ha="center",
                    va="top",
                    fontsize=6.5,
                    zorder=5,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7},
                )
            units = data.table("unit_summary")
            used = set(units.loc[units["option"] == opt, "station"])
            mine = [st for st in extras["stations"] if st["id"] in used]
            if len(mine) > MAX_LABELLED:  # one layer, unlabelled
                xy = np.array([st["xy"] for st in mine])
                ax.scatter(xy[:, 0], xy[:, 1], marker="s", s=10, color="black", zorder=4)
                mine = []
            for st in mine:
                ax.scatter(
                    *st["xy"],
                    marker="s",
                    s=36,
                    color="black",
                    zorder=4,
                    gid=f"station:{st['id']}",
                )
                ax.annotate(
                    data.station_name(st["id"], short=True),
                    st["xy"],
                    xytext=(5, 4),
                    textcoords="offset points",
                    fontsize=6,
                    zorder=5,
                )
            for f in extras["facilities"]:
                ax.annotate(
                    "H" if f.get("kind") == "hospital" else "F",
                    f["xy"],
                    xytext=(7, 7),
                    textcoords="offset points",
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color="white",
                    fontweight="bold",
                    zorder=6,
                    gid=f"facility:{f['id']}",
                    bbox={
                        "boxstyle": "square,pad=0.2",
                        "fc": OKABE_ITO["vermillion"],
                        "ec": "none",
                    },
                )
            for owner, com, hours in all_flows[opt][:MAX_ARROWS]:
                if hmax <= 0 or hours < MIN_SHARE * hmax:
                    continue
                lw = MAX_ARROW_WIDTH * hours / hmax
                arrow = FancyArrowPatch(
                    pos[owner],
                    pos[com],
                    arrowstyle="-|>",
                    mutation_scale=7 + 1.5 * lw,
                    linewidth=lw,
                    color=OKABE_ITO["blue"],
                    alpha=0.75,
                    connectionstyle="arc3,rad=0.2",
                    shrinkA=radius[owner] + 1,
                    shrinkB=radius[com] + 2,
                    zorder=3,
                )
                arrow.set_gid(f"flow:{opt}:{owner}>{com}")
                ax.add_patch(arrow)
            ax.set_title(opt, loc="left")
            if scaled:
                ax.tick_params(labelsize=6.5)
                ax.set_xlabel("km east", fontsize=7)
                ax.set_ylabel("km north", fontsize=7)
            else:
                ax.set_axis_off()
        handles = (
            [
                Line2D([], [], color=OKABE_ITO["blue"], alpha=0.75, linewidth=MAX_ARROW_WIDTH * f)
                for f in (1.0, 0.25)
            ]
            if hmax > 0
            else []
        )
        labels = [f"{hmax * f:,.0f} unit-hours" for f in (1.0, 0.25)] if hmax > 0 else []
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markersize=9,
                color=OKABE_ITO["sky_blue"],
                alpha=0.5,
                markeredgecolor="#1f4e79",
            )
        )
        labels.append("community (area ~ population)")
        if extras["stations"]:
            handles.append(Line2D([], [], marker="s", linestyle="", markersize=5, color="black"))
            labels.append("extra station")
        if extras["facilities"]:
            handles.append(
                Line2D(
                    [], [], marker="s", linestyle="", markersize=6, color=OKABE_ITO["vermillion"]
                )
            )
            labels.append("facility (H: hospital)")
        # tall handles: the widest arrow's line (MAX_ARROW_WIDTH points) stays inside the legend
        fig.legend(
            handles,
            labels,
            loc="outside lower center",
            ncols=3,
            fontsize=7,
            handleheight=1.2 * MAX_ARROW_WIDTH / 7,
        )
    return fig


def _communities(
    ax: Any, coms: list[str], pos: dict[str, tuple[float, float]], sizes: dict[str, float]
) -> None:
    """Communities as dots of area ~ population: one by one, or one layer when many."""
    style_ = {
        "color": OKABE_ITO["sky_blue"],
        "alpha": 0.35,
        "edgecolor": "#1f4e79",
        "linewidth": 0.8 if len(coms) <= MAX_LABELLED else 0.4,
        "zorder": 2,
    }
    if len(coms) > MAX_LABELLED:
        xy = np.array([pos[c] for c in coms])
        ax.scatter(xy[:, 0], xy[:, 1], s=[sizes[c] for c in coms], gid="communities", **style_)
        return
    for c in coms:
        ax.scatter([pos[c][0]], [pos[c][1]], s=sizes[c], gid=f"community:{c}", **style_)


def _caption(
    data: ResultData, all_flows: dict[str, list[tuple[str, str, float]]] | None = None
) -> str:
    _pos, _extras, scaled = layout(data)
    all_flows = all_flows if all_flows is not None else {o: flows(data, o) for o in data.options}
    best = None
    for o in data.options:
        fl = all_flows[o]
        if fl and (best is None or fl[0][2] > best[3]):
            best = (o, *fl[0])
    if best is None:
        text = "No unit crossed a border under any option, so no arrows are drawn"
    else:
        o, a, b, h = best
        text = (
            f"Arrows run from the community owning the units to the one they helped; the "
            f"widest is under {o}, {data.community_name(a)} to {data.community_name(b)} "
            f"({h:,.0f} unit-hours a run)"
        )
    if not scaled:
        text += (
            "; the scenario gives no locations for every community, so communities are "
            "drawn on a circle, not to scale"
        )
    if any(len(fl) > MAX_ARROWS for fl in all_flows.values()):
        text += f"; the {MAX_ARROWS} largest flows of each option are drawn"
    if len(data.communities) > MAX_LABELLED:
        text += f"; the {MAX_LABELLED} largest communities are named"
    return text + "."


def figures(data: ResultData) -> Iterator[Drawn]:
    all_flows = {o: flows(data, o) for o in data.options}
    fig = map_figure(data, all_flows)
    if fig is not None:
        caption = _caption(data, all_flows)
        yield Drawn("map_help", "map", "Map of help across borders", caption, fig)
