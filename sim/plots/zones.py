"""Maps by demand zone: the 90th-percentile response of every zone per option, each option's
paired difference to the baseline, and the border zones whose closest station is a neighbour's.

Drawn from ``zones.gpkg`` (the rows of zones.csv with each zone's geometry, read with
geopandas only when the file exists) and region.json (stations, zones' closest station), for
results with more than one zone in some community. Zones are drawn as one collection of paths
per layer (no pyplot, no patch per zone), rasterised so that the SVG stays small; community
outlines are the zones dissolved by community. What every map of a result draws alike (the
zones' paths, the outlines, the stations) is computed once (:class:`ZoneMap`). When the layer
file holds a ``roads`` layer (a scenario with a road network), the drivable roads are drawn over
the zone colours, thin and half transparent, major roads wider, rasterised like the zones.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.path import Path as MplPath

from ..results.display import fmt_duration
from ..results.read import ALL, ResultData
from .panels import PanelLayout, colorbar_axes
from .style import OKABE_ITO, Drawn, new_figure, style

__all__ = [
    "LAYER_FILE",
    "NO_DATA",
    "ZoneMap",
    "border_figure",
    "community_outlines",
    "difference_figure",
    "figures",
    "frame_axes",
    "map_panels",
    "map_service",
    "p90_figure",
    "read_layer",
    "read_roads",
    "zone_layer",
    "zone_map",
    "zone_shapes",
    "zone_values",
]

LAYER_FILE = "zones.gpkg"
NO_DATA = "white"  # zones without calls in a panel: white, hatched
NOT_SIGNIFICANT = "#d0d0d0"
OUTLINE = "#222222"
COLOUR_SPAN_QUANTILE = 0.98  # colour scales end here, so that a few extreme zones don't wash out
_COMMUNITY_COLOURS = ("blue", "orange", "green", "purple", "sky_blue", "vermillion")
REGIONAL = OKABE_ITO["yellow"]  # zones closest to a station of no community
ROADS_LAYER = "roads"
ROAD_COLOUR = "#3a3a3a"
MAJOR_ROADS = ("motorway", "trunk", "primary", "secondary")  # and their links: drawn wider


# --- data ---------------------------------------------------------------------------------------
def read_layer(data: ResultData) -> Any | None:
    """The rows of zones.gpkg (a GeoDataFrame), or None without the file or without more than
    one zone in any community (nothing a zone map adds to the community map)."""
    path = data.root / LAYER_FILE
    if not path.is_file():
        return None
    import geopandas as gpd  # loads only for results with zone geometry

    # through Arrow: the same frame, read about three times faster than row by row
    layer = gpd.read_file(path, layer="zones", use_arrow=True)
    if layer.empty:
        return None
    layer["zone"] = layer["zone"].astype(str)
    layer["priority"] = layer["priority"].astype(str)
    per_community = layer.drop_duplicates("zone").groupby("community")["zone"].size()
    if per_community.max() <= 1:
        return None
    return layer


def read_roads(data: ResultData) -> list[tuple[np.ndarray, bool]] | None:
    """The road segments of zones.gpkg's ``roads`` layer, as (segments (E, 2, 2), major) per
    road class; None without the layer."""
    path = data.root / LAYER_FILE
    if not path.is_file():
        return None
    import pyogrio
    import shapely

    if ROADS_LAYER not in {str(name) for name, _ in pyogrio.list_layers(path)}:
        return None
    roads = pyogrio.read_dataframe(path, layer=ROADS_LAYER, use_arrow=True)
    out = []
    for cls, geom in zip(roads["road_class"], roads.geometry, strict=True):
        segments = shapely.get_coordinates(shapely.get_parts(geom)).reshape(-1, 2, 2)
        out.append((segments, str(cls).split("_link")[0] in MAJOR_ROADS))
    return out


def _roads(ax: Axes, roads: list[tuple[np.ndarray, bool]] | None) -> None:
    """The road network over the zones: thin, half transparent, rasterised."""
    for segments, major in roads or []:
        ax.add_collection(
            LineCollection(
                list(segments),
                colors=ROAD_COLOUR,
                linewidths=0.7 if major else 0.35,
                alpha=0.55,
                rasterized=True,
                zorder=2,
                gid="roads",
            )
        )


def zone_shapes(data: ResultData, layer: Any) -> Any:
    """One row per zone (zone, community, geometry) in drawing order: region.json's zone order,
    then any other zone of the layer."""
    shapes = layer.drop_duplicates("zone")[["zone", "community", "geometry"]]
    order = [str(z["id"]) for z in (data.region or {}).get("zones", [])]
    rank = {z: i for i, z in enumerate(order)}
    key = shapes["zone"].map(lambda z: rank.get(z, len(rank)))
    return shapes.assign(_rank=key).sort_values("_rank", kind="stable").drop(columns="_rank")


def zone_values(layer: Any, option: str, service: str, column: str, zones: pd.Series) -> np.ndarray:
    """``column`` of every zone in ``zones`` (priority all), NaN where the zone has no row."""
    rows = layer[
        (layer["option"] == option) & (layer["service"] == service) & (layer["priority"] == ALL)
    ]
    if column not in rows.columns:
        return np.full(len(zones), np.nan)
    by_zone = pd.Series(rows[column].to_numpy(), index=rows["zone"].to_numpy())
    return np.asarray(zones.map(by_zone), dtype=object)


def map_service(data: ResultData, layer: Any) -> str | None:
    """The service mapped: the first (in the scenario's order) with a response target, as the
    equity figures use; else the first service with zone rows."""
    present = set(layer["service"])
    services = [s for s in data.services if s in present]
    for s in services:
        if data.urgent_priority(s) is not None:
            return s
    return services[0] if services else None


# --- drawing helpers ----------------------------------------------------------------------------
def _path(geom: Any) -> MplPath:
    """A compound path of a (multi)polygon, holes included."""
    parts = getattr(geom, "geoms", [geom])
    rings = []
    for poly in parts:
        rings.append(MplPath(np.asarray(poly.exterior.coords)[:, :2], closed=True))
        rings += [MplPath(np.asarray(r.coords)[:, :2], closed=True) for r in poly.interiors]
    return MplPath.make_compound_path(*rings)


def _polygonal(shapes: Any) -> bool:
    return bool(shapes.geom_type.isin(["Polygon", "MultiPolygon"]).all())


def zone_layer(ax: Axes, shapes: Any, colours: Any, gid: str, **kw: Any) -> Any:
    """Zones (a GeoDataFrame) drawn as one rasterised collection: paths for polygons, dots
    for points; shared with the siting map."""
    if _polygonal(shapes):
        return _paths_layer(ax, [_path(g) for g in shapes.geometry], colours, gid, **kw)
    return _points_layer(ax, _points(shapes), colours, gid, **kw)


def _paths_layer(ax: Axes, paths: Sequence[MplPath], colours: Any, gid: str, **kw: Any) -> Any:
    """Polygons as one collection of paths (in data coordinates), white-edged, rasterised."""
    coll = PathCollection(
        list(paths), edgecolor="white", linewidth=0.15, rasterized=True, zorder=1, **kw
    )
    ax.add_collection(coll)
    return _finish_layer(coll, colours, gid)


def _points(shapes: Any) -> np.ndarray:
    return np.column_stack([shapes.geometry.x, shapes.geometry.y])


def _points_layer(ax: Axes, pts: np.ndarray, colours: Any, gid: str, **kw: Any) -> Any:
    mapped = np.zeros(len(pts)) if "cmap" in kw else None  # set_array gives the values
    coll = ax.scatter(pts[:, 0], pts[:, 1], c=mapped, s=14, rasterized=True, zorder=3, **kw)
    return _finish_layer(coll, colours, gid)


def _finish_layer(coll: Any, colours: Any, gid: str) -> Any:
    if colours is not None:
        coll.set_facecolor(colours)
    coll.set_gid(gid)
    return coll


@dataclass(frozen=True)
class ZoneMap:
    """What every zone map of a result draws alike, computed once for all of them: the zones in
    drawing order (:func:`zone_shapes`), their paths (polygons) or positions (points), the
    community boundaries and the stations."""

    shapes: Any
    paths: list[MplPath] | None  # one per zone of ``shapes``, for polygon zones
    points: np.ndarray | None  # (zones, 2), for point zones
    rings: list[np.ndarray]
    stations: list[dict[str, Any]]

    def layer(self, ax: Axes, mask: Any, colours: Any, gid: str, **kw: Any) -> Any:
        """The zones where ``mask`` holds as one rasterised layer (see :func:`zone_layer`)."""
        where = np.flatnonzero(np.asarray(mask, dtype=bool))
        if self.paths is not None:
            return _paths_layer(ax, [self.paths[i] for i in where], colours, gid, **kw)
        assert self.points is not None
        return _points_layer(ax, self.points[where], colours, gid, **kw)

    def no_data(self, ax: Axes, mask: Any, opt: str) -> None:
        """The zones where ``mask`` holds as white, hatched: no calls."""
        coll = self.layer(ax, mask, NO_DATA, f"zones:nodata:{opt}", hatch="////")
        coll.set_edgecolor("#c8c8c8")


def zone_map(data: ResultData, layer: Any) -> ZoneMap:
    """The :class:`ZoneMap` of a result's zone layer."""
    shapes = zone_shapes(data, layer)
    polygonal = _polygonal(shapes)
    return ZoneMap(
        shapes=shapes,
        paths=[_path(g) for g in shapes.geometry] if polygonal else None,
        points=None if polygonal else _points(shapes),
        rings=_outline_rings(shapes),
        stations=_stations(data, layer),
    )


def _outline_rings(shapes: Any) -> list[np.ndarray]:
    """Community boundaries as rings of points: the zones dissolved by community (hulls of
    point zones)."""
    merged = shapes.dissolve("community")
    geoms = merged.geometry if _polygonal(shapes) else merged.geometry.convex_hull.buffer(0.3)
    rings = []
    for g in geoms:
        for poly in getattr(g, "geoms", [g]):
            if poly.geom_type == "Polygon":
                rings.append(np.asarray(poly.exterior.coords)[:, :2])
                rings += [np.asarray(r.coords)[:, :2] for r in poly.interiors]
    return rings


def _outlines(ax: Axes, rings: list[np.ndarray]) -> None:
    ax.add_collection(
        LineCollection(rings, colors=OUTLINE, linewidths=0.9, zorder=3, gid="outlines")
    )


def community_outlines(ax: Axes, shapes: Any) -> None:
    """Community boundaries of the zones (a GeoDataFrame with a ``community`` column)."""
    _outlines(ax, _outline_rings(shapes))


def _stations(data: ResultData, layer: Any) -> list[dict[str, Any]]:
    """Stations with a position in the layer's frame: x/y as given, lat/lon projected to the
    layer's CRS (skipped when the layer has none)."""
    out = []
    for st in (data.region or {}).get("stations", []):
        loc = st.get("location") or {}
        if "x" in loc:
            out.append({**st, "xy": (float(loc["x"]), float(loc["y"]))})
        elif "lat" in loc and layer.crs is not None:
            import geopandas as gpd

            p = gpd.GeoSeries(gpd.points_from_xy([loc["lon"]], [loc["lat"]]), crs="EPSG:4326")
            q = p.to_crs(layer.crs).iloc[0]
            out.append({**st, "xy": (float(q.x), float(q.y))})
    return out


def _used_stations(data: ResultData, option: str, service: str) -> set[str]:
    u = data.table("unit_summary")
    return set(u.loc[(u["option"] == option) & (u["service"] == service), "station"])


def _mark_stations(
    ax: Axes, stations: list[dict[str, Any]], used: set[str] | None, **kw: Any
) -> None:
    """The stations (those in ``used``, when given) as one layer of squares."""
    shown = [st for st in stations if used is None or st["id"] in used]
    if not shown:
        return
    xy = np.array([st["xy"] for st in shown], dtype=np.float64)
    style_ = {"color": "black", "edgecolor": "white", "lw": 0.6, "s": 22, **kw}
    ax.scatter(xy[:, 0], xy[:, 1], marker="s", zorder=5, gid="stations", **style_)


def frame_axes(ax: Axes, shapes: Any) -> None:
    """A map's axes: the zones' extent, equal scales, km labels."""
    x0, y0, x1, y1 = shapes.total_bounds
    pad = 0.03 * max(x1 - x0, y1 - y0, 1.0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal")
    ax.grid(False)
    ax.tick_params(labelsize=6.5)
    ax.set_xlabel("km east", fontsize=7)
    ax.set_ylabel("km north", fontsize=7)


def _layout(shapes: Any, n: int) -> tuple[int, int, float, float]:
    """Columns, rows and figure size (inches) of ``n`` map panels of the zones' extent."""
    x0, y0, x1, y1 = shapes.total_bounds
    aspect = float((y1 - y0) / max(x1 - x0, 1e-9))
    ncols = 1 if n == 1 else 2 if aspect <= 1.3 or n <= 2 else 3
    nrows = math.ceil(n / ncols)
    width = min(9.6, 4.8 * ncols)
    return ncols, nrows, width, width / ncols * aspect * nrows + 1.4


def map_panels(shapes: Any, n: int, title: str, side: float = 0.0) -> tuple[Figure, list[Axes]]:
    """The figure of ``n`` map panels, ``side`` inches wider for a legend beside them."""
    ncols, nrows, width, height = _layout(shapes, n)
    fig = new_figure(width + side, height, title, layout=PanelLayout())
    with style():
        axes = list(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _span(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.quantile(np.abs(finite), COLOUR_SPAN_QUANTILE)) if len(finite) else 0.0


# --- 1. p90 by zone -----------------------------------------------------------------------------
def p90_figure(
    data: ResultData, layer: Any, service: str, roads: Any = None, zmap: ZoneMap | None = None
) -> Figure | None:
    zmap = zmap if zmap is not None else zone_map(data, layer)
    shapes = zmap.shapes
    opts = [
        o for o in data.options if ((layer["option"] == o) & (layer["service"] == service)).any()
    ]
    if not opts:
        return None
    values = {
        o: zone_values(layer, o, service, "p90_response", shapes["zone"]).astype(float)
        for o in opts
    }
    vmax = max(_span(np.concatenate(list(values.values()))), 1.0)
    norm = Normalize(0.0, vmax)
    fig, axes = map_panels(
        shapes,
        len(opts),
        f"{data.service_name(service)}, all priorities: 90th percentile response by zone",
    )
    with style():
        mappable = None
        for ax, opt in zip(axes, opts, strict=True):
            v = values[opt]
            has = np.isfinite(v)
            zmap.no_data(ax, ~has, opt)
            coll = zmap.layer(ax, has, None, f"zones:p90:{opt}", cmap="magma_r", norm=norm)
            coll.set_array(v[has])
            mappable = coll
            _roads(ax, roads)
            _outlines(ax, zmap.rings)
            _mark_stations(ax, zmap.stations, _used_stations(data, opt, service))
            frame_axes(ax, shapes)
            ax.set_title(opt, loc="left")
        assert mappable is not None
        bar = fig.colorbar(mappable, cax=colorbar_axes(fig, axes, 0.8), extend="max")
        bar.set_label("90th percentile response, minutes")
        fig.legend(
            [
                Line2D([], [], marker="s", ls="", color="black", markersize=5),
                Patch(facecolor=NO_DATA, edgecolor="#c8c8c8", hatch="////"),
            ],
            ["station with units of this service", "no calls"],
            loc="outside lower center",
            ncols=2,
            fontsize=7,
        )
    return fig


def _p90_caption(data: ResultData, layer: Any, service: str, shapes: Any) -> str:
    base = data.baseline
    v = zone_values(layer, base, service, "p90_response", shapes["zone"]).astype(float)
    has = np.isfinite(v)
    name = data.service_name(service)
    if not has.any():
        return f"{name}: no zone had a call under {base}."
    slow = pd.Series(v[has], index=shapes["community"].to_numpy()[has])
    worst = slow.groupby(level=0).median().idxmax()
    text = (
        f"{name}, all priorities: under {base} the median zone reaches 90 % of its calls within "
        f"{fmt_duration(float(np.median(v[has])))}, the slowest zones lie in "
        f"{data.community_name(str(worst))} (zone median "
        f"{fmt_duration(float(slow[worst].median()))})"
    )
    others = [o for o in data.options if o != base]
    meds = {
        o: float(
            np.nanmedian(
                zone_values(layer, o, service, "p90_response", shapes["zone"]).astype(float)
            )
        )
        for o in others
    }
    meds = {o: m for o, m in meds.items() if math.isfinite(m)}
    if meds:
        best = min(meds, key=lambda o: meds[o])
        text += f"; under {best} the median zone's is {fmt_duration(meds[best])}"
    return text + ". Darker is slower."


# --- 2. difference to the baseline --------------------------------------------------------------
def _significant(verdicts: np.ndarray) -> np.ndarray:
    return np.isin(verdicts.astype(str), ["better", "worse"])


def difference_figure(
    data: ResultData, layer: Any, service: str, roads: Any = None, zmap: ZoneMap | None = None
) -> Figure | None:
    zmap = zmap if zmap is not None else zone_map(data, layer)
    shapes = zmap.shapes
    opts = [
        o
        for o in data.options
        if o != data.baseline and ((layer["option"] == o) & (layer["service"] == service)).any()
    ]
    if not opts:
        return None
    diffs = {
        o: zone_values(layer, o, service, "diff_p90_response", shapes["zone"]).astype(float)
        for o in opts
    }
    span = max(_span(np.concatenate(list(diffs.values()))), 1.0)
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-span, vmax=span)
    fig, axes = map_panels(
        shapes,
        len(opts),
        f"{data.service_name(service)}, all priorities: change of the 90th percentile response "
        f"against {data.baseline}, by zone",
    )
    with style():
        mappable = None
        for ax, opt in zip(axes, opts, strict=True):
            d = diffs[opt]
            verdicts = zone_values(layer, opt, service, "verdict_p90_response", shapes["zone"])
            sig = _significant(verdicts) & np.isfinite(d)
            zmap.no_data(ax, ~np.isfinite(d), opt)
            grey = np.isfinite(d) & ~sig
            zmap.layer(ax, grey, NOT_SIGNIFICANT, f"zones:notsig:{opt}")
            coll = zmap.layer(ax, sig, None, f"zones:diff:{opt}", cmap="RdBu_r", norm=norm)
            coll.set_array(d[sig])
            mappable = coll
            _roads(ax, roads)
            _outlines(ax, zmap.rings)
            _mark_stations(ax, zmap.stations, _used_stations(data, opt, service))
            frame_axes(ax, shapes)
            ax.set_title(f"{opt} - {data.baseline}", loc="left")
        assert mappable is not None
        bar = fig.colorbar(mappable, cax=colorbar_axes(fig, axes, 0.8), extend="both")
        bar.set_label("change, minutes (blue: faster)")
        fig.legend(
            [
                Patch(facecolor=NOT_SIGNIFICANT, edgecolor="#bbbbbb"),
                Patch(facecolor=NO_DATA, edgecolor="#c8c8c8", hatch="////"),
                Line2D([], [], marker="s", ls="", color="black", markersize=5),
            ],
            ["no significant difference", "no calls", "station"],
            loc="outside lower center",
            ncols=3,
            fontsize=7,
        )
    return fig


def difference_counts(
    data: ResultData, layer: Any, service: str, option: str, shapes: Any = None
) -> dict[str, pd.Series]:
    """Zones per community where ``option`` significantly cuts ('better') or lengthens
    ('worse') the 90th percentile response, most first (``shapes``: :func:`zone_shapes`, if
    already at hand)."""
    shapes = shapes if shapes is not None else zone_shapes(data, layer)
    verdicts = zone_values(layer, option, service, "verdict_p90_response", shapes["zone"])
    coms = shapes["community"].to_numpy()
    out = {}
    for verdict in ("better", "worse"):
        hit = verdicts.astype(str) == verdict
        out[verdict] = pd.Series(coms[hit]).value_counts(sort=True)
    return out


def _difference_caption(data: ResultData, layer: Any, service: str, shapes: Any) -> str:
    parts = []
    for opt in data.options:
        if opt == data.baseline:
            continue
        d = zone_values(layer, opt, service, "diff_p90_response", shapes["zone"]).astype(float)
        n = int(np.isfinite(d).sum())
        c = difference_counts(data, layer, service, opt, shapes)
        better, worse = c["better"], c["worse"]
        text = (
            f"{opt} cuts the 90th percentile response in {int(better.sum())} of {n} zones "
            "with calls"
        )
        if better.sum():
            text += f", most in {data.community_name(str(better.index[0]))}"
        text += f"; lengthens it in {int(worse.sum())}"
        if worse.sum():
            text += f", most in {data.community_name(str(worse.index[0]))}"
        parts.append(text)
    name = data.service_name(service)
    return (
        f"{name}, all priorities, paired against {data.baseline}: "
        + "; ".join(parts)
        + " (grey: no significant difference)."
    )


# --- 3. the border that automatic aid serves ----------------------------------------------------
def border_zones(data: ResultData) -> pd.DataFrame:
    """Zones of region.json whose closest station belongs to another community (or to none:
    a regional station)."""
    z = pd.DataFrame((data.region or {}).get("zones", []))
    if z.empty or "closest_station_community" not in z.columns:
        return z
    z["id"] = z["id"].astype(str)
    near = z["closest_station_community"]
    z["closest_station_community"] = near.astype(object).where(near.notna(), None)
    return z[z["closest_station_community"] != z["community"]].reset_index(drop=True)


def _community_colours(data: ResultData) -> dict[str | None, str]:
    out: dict[str | None, str] = {
        c: OKABE_ITO[_COMMUNITY_COLOURS[i % len(_COMMUNITY_COLOURS)]]
        for i, c in enumerate(data.communities)
    }
    out[None] = REGIONAL
    return out


def border_figure(
    data: ResultData, layer: Any, roads: Any = None, zmap: ZoneMap | None = None
) -> Figure | None:
    border = border_zones(data)
    if border.empty:
        return None
    zmap = zmap if zmap is not None else zone_map(data, layer)
    shapes = zmap.shapes
    fig, (ax,) = map_panels(
        shapes,
        1,
        "Border zones: closer to a neighbouring community's station than to their own",
        side=2.6,  # the legend stands beside the map
    )
    colours = _community_colours(data)
    neighbour = dict(zip(border["id"], border["closest_station_community"], strict=True))
    stations = zmap.stations
    with style():
        zmap.layer(ax, np.ones(len(shapes), dtype=bool), "#eeeeee", "zones:all")
        on = shapes["zone"].isin(neighbour).to_numpy()
        fill = [colours.get(neighbour[z], "#777777") for z in shapes["zone"][on]]
        zmap.layer(ax, on, fill, "zones:border")
        _roads(ax, roads)
        _outlines(ax, zmap.rings)
        fills = [colours.get(st.get("community"), REGIONAL) for st in stations]
        _mark_stations(ax, stations, None, s=34, color=fills, edgecolor="black", lw=1.0)
        frame_axes(ax, shapes)
        seen = list(dict.fromkeys(neighbour.values()))
        handles: list[Any] = [Patch(facecolor=colours.get(c, "#777777")) for c in seen]
        labels = [
            f"closest: {data.community_name(c)}'s station"
            if c
            else "closest: a regional station (not used by every option)"
            for c in seen
        ]
        handles.append(Line2D([], [], marker="s", ls="", color="#555555", markersize=5))
        labels.append("station (colour: its community)")
        fig.legend(handles, labels, loc="outside right lower", ncols=1, fontsize=7)
    return fig


def _border_caption(data: ResultData) -> str:
    zones = pd.DataFrame((data.region or {}).get("zones", []))
    border = border_zones(data)
    total = float(zones["weight"].sum())
    regional = border["closest_station_community"].isna()
    across = border[~regional]
    share = float(across["weight"].sum()) / total if total else 0.0
    text = (
        f"{len(across)} of {len(zones)} zones ({share:.0%} of the demand weight) lie closer by "
        "trip time to another community's station than to their own: the border that "
        "automatic aid serves"
    )
    if len(across):
        top = across.groupby(["community", "closest_station_community"]).size()
        (com, near), k = top.idxmax(), int(top.max())
        text += (
            f"; the largest group is {k} zones of {data.community_name(str(com))} nearest to "
            f"{data.community_name(str(near))}'s station"
        )
    if regional.any():
        text += f"; {int(regional.sum())} zones lie closest to a regional station"
    return text + "."


# --- figures ------------------------------------------------------------------------------------
def figures(data: ResultData) -> Iterator[Drawn]:
    layer = read_layer(data)
    if layer is None:
        return
    roads = read_roads(data)
    zmap = zone_map(data, layer)
    service = map_service(data, layer)
    if service is not None:
        name = data.service_name(service)
        fig = p90_figure(data, layer, service, roads, zmap)
        if fig is not None:
            yield Drawn(
                f"zones_p90_{service}",
                "zones",
                f"{name}: 90th percentile response by zone",
                _p90_caption(data, layer, service, zmap.shapes),
                fig,
            )
        fig = difference_figure(data, layer, service, roads, zmap)
        if fig is not None:
            yield Drawn(
                f"zones_difference_{service}",
                "zones",
                f"{name}: where cooperation helps and where it hurts",
                _difference_caption(data, layer, service, zmap.shapes),
                fig,
            )
    fig = border_figure(data, layer, roads, zmap)
    if fig is not None:
        yield Drawn(
            "zones_border", "zones", "The border automatic aid serves", _border_caption(data), fig
        )
