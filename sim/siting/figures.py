"""The siting map: today's stations and the chosen ones on the demand zones, each zone shaded by
how many units reach its calls within target (the coverage the models count), in the
scenario's own km frame, drawn like the zone maps of ``compare`` (:mod:`sim.plots.zones`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..model.zones import zone_table
from ..plots.style import OKABE_ITO, Drawn, style
from ..plots.zones import (
    NO_DATA,
    community_outlines,
    frame_axes,
    map_panels,
    zone_layer,
)
from ..results.display import fmt_pct
from .placements import Placement
from .site import SitingResult

__all__ = ["COVERAGE_COLOURS", "siting_figures", "zone_shapes"]

# units within reach: none (uncovered), 1, 2, 3 or more
COVERAGE_COLOURS = ("#f4a582", "#d1e5f0", "#92c5de", "#2166ac")
COVERAGE_LABELS = ("no unit within reach", "1 unit", "2 units", "3 or more units")
NEW_SITE = OKABE_ITO["orange"]


def zone_shapes(result: SitingResult) -> Any | None:
    """The zones as a GeoDataFrame (zone, community, geometry), in the instance's order; None
    when the zones have no position."""
    table = zone_table(result.scenario)
    if table.geometry is not None:
        geometry = table.geometry
    elif np.isfinite(table.x).all() and len(table.x):
        geometry = gpd.GeoSeries(gpd.points_from_xy(table.x, table.y))
    else:
        return None
    shapes = gpd.GeoDataFrame(
        {"zone": list(table.ids), "community": list(table.community)}, geometry=geometry
    )
    if tuple(shapes["zone"]) != result.instance.zones:
        return None
    return shapes


def _reach(result: SitingResult, p: Placement) -> np.ndarray:
    return np.asarray(p.counts @ result.instance.covers)


def _panel(ax: Any, result: SitingResult, shapes: Any, p: Placement, today: Placement) -> None:
    inst = result.instance
    has = inst.demand > 0
    k = np.minimum(_reach(result, p), len(COVERAGE_COLOURS) - 1)
    colours = np.array(COVERAGE_COLOURS, dtype=object)[k]
    zone_layer(ax, shapes[~has], NO_DATA, f"zones:nodata:{p.name}", hatch="////")
    zone_layer(ax, shapes[has], list(colours[has]), f"zones:coverage:{p.name}")
    community_outlines(ax, shapes)
    for i, site in enumerate(result.sites):
        x, y = result.site_xy[i]
        if not np.isfinite([x, y]).all():
            continue
        n = int(p.counts[i])
        if n == 0:
            if today.counts[i] > 0 and p is not today:  # a station closed
                ax.scatter(
                    [x],
                    [y],
                    marker="s",
                    s=30,
                    facecolor="white",
                    edgecolor="#555555",
                    lw=1.0,
                    zorder=5,
                ).set_gid(f"closed:{site.id}")
            continue
        new = site.entry is not None or today.counts[i] == 0
        ax.scatter(
            [x],
            [y],
            marker="D" if new else "s",
            s=26 + 10 * n,
            color=NEW_SITE if new else "black",
            edgecolor="white",
            lw=0.7,
            zorder=6,
        ).set_gid(f"station:{site.id}")
        ax.annotate(
            str(n),
            (x, y),
            xytext=(4, 3),
            textcoords="offset points",
            fontsize=7,
            fontweight="bold",
            zorder=7,
        )
    frame_axes(ax, shapes)


def _caption(result: SitingResult, today: Placement, chosen: Placement) -> str:
    t = result.siting.set_index("placement")
    a, b = t.loc[today.name], t.loc[chosen.name]
    verdict = str(b["within_target_vs_today"])
    return (
        f"{result.scenario.services[result.service].name or result.service}, priority "
        f"{result.priority}: each zone shaded by the units whose trip (plus call handling and "
        f"turnout) reaches its calls within target. Today ({today.name}, "
        f"{int(a['stations'])} stations) {fmt_pct(float(a['covered']))} of the calls have a "
        f"unit within reach; the chosen placement ({chosen.name}, {int(b['stations'])} "
        f"stations; orange: sites without units today, hollow: closed) "
        f"{fmt_pct(float(b['covered']))}. "
        f"Simulated share within target {fmt_pct(float(a['within_target']), 1)} against "
        f"{fmt_pct(float(b['within_target']), 1)} ({verdict}, paired)."
    )


def siting_figures(result: SitingResult) -> Iterator[Drawn]:
    """The map of today's and the chosen placement (none without zone positions)."""
    shapes = zone_shapes(result)
    today = result.placements[0]
    chosen = next(p for p in result.placements if p.name == result.chosen)
    if shapes is None or chosen is today:
        return
    service = result.scenario.services[result.service].name or result.service
    fig, axes = map_panels(
        shapes, 2, f"{service}: today's stations and the chosen placement, by coverage"
    )
    with style():
        for ax, p in zip(axes, (today, chosen), strict=True):
            _panel(ax, result, shapes, p, today)
            ax.set_title(f"{'today' if p is today else 'chosen'}: {p.name}", loc="left")
        handles: list[Any] = [Patch(facecolor=c, edgecolor="#bbbbbb") for c in COVERAGE_COLOURS]
        labels = list(COVERAGE_LABELS)
        handles += [
            Patch(facecolor=NO_DATA, edgecolor="#c8c8c8", hatch="////"),
            Line2D([], [], marker="s", ls="", color="black", markersize=5),
            Line2D([], [], marker="D", ls="", color=NEW_SITE, markersize=5),
            Line2D(
                [], [], marker="s", ls="", markerfacecolor="white", color="#555555", markersize=5
            ),
        ]
        labels += [
            "no calls with a target",
            "station (units)",
            "site without units today",
            "closed station",
        ]
        fig.legend(handles, labels, loc="outside lower center", ncols=4, fontsize=7)
    yield Drawn(
        "siting_map",
        "siting",
        f"{service}: where the units go",
        _caption(result, today, chosen),
        fig,
    )
