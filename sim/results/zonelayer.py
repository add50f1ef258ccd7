"""``zones.gpkg``: the zone results of ``zones.csv`` with each zone's geometry, for QGIS.

Zones given with polygons keep them; zones given as points (and the one implicit zone of a
community without zones, at its centre) are points. Coordinates are the scenario's local
kilometre frame, declared in the file's CRS when the scenario came with one, so the layer lies
where the source data lay. A scenario with a road network adds the layer ``roads``: its
drivable segments, one multi-line per road class, drawn beneath the zone maps.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..model.roads import road_lines
from ..model.zones import zone_table
from ..schema import Scenario
from ..schema.osmtags import CLASSES

__all__ = ["ROAD_LAYER", "ZONE_LAYER", "write_zone_layer"]

ZONE_LAYER = "zones.gpkg"
ROAD_LAYER = "roads"  # a layer of zones.gpkg
# columns handed to GDAL as Arrow arrays rather than feature by feature: the same layer (its
# fields, types and values read back equal), written in half the time
WRITE: dict[str, Any] = {"engine": "pyogrio", "use_arrow": True}


def write_zone_layer(zones: pd.DataFrame, scenario: Scenario, path: Path) -> bool:
    """Write ``zones`` (the rows of zones.csv) with their geometry; False when the scenario's
    zones have no coordinates (nothing to draw)."""
    table = zone_table(scenario)
    if not np.isfinite(table.x).any():
        return False
    import geopandas as gpd  # loads only for results that have geometry to write

    if table.geometry is not None:
        shapes = table.geometry
    else:
        shapes = gpd.GeoSeries(gpd.points_from_xy(table.x, table.y), crs=table.crs)
    geometry = dict(zip(table.ids, shapes, strict=True))
    frame = gpd.GeoDataFrame(
        zones.assign(zone=zones["zone"].astype(str)),
        geometry=[geometry.get(z) for z in zones["zone"].astype(str)],
        crs=table.crs,
    )
    frame = frame[~frame.geometry.isna()]
    with warnings.catch_warnings():  # a km frame has no CRS to declare, on purpose
        warnings.filterwarnings("ignore", message="'crs' was not provided")
        frame.to_file(path, layer="zones", driver="GPKG", **WRITE)
        if scenario.travel.road_network is not None:
            _roads(scenario, table.crs).to_file(path, layer=ROAD_LAYER, driver="GPKG", **WRITE)
    return True


def _roads(scenario: Scenario, crs: object) -> Any:
    """The road network's segments as one multi-line per road class."""
    import geopandas as gpd
    import shapely

    segments, road_class = road_lines(scenario)
    present = np.unique(road_class)
    lines = [shapely.multilinestrings(segments[road_class == c]) for c in present]
    names = [CLASSES[c] for c in present]
    return gpd.GeoDataFrame({"road_class": names}, geometry=lines, crs=crs)
