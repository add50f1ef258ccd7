"""``zones.gpkg``: the zone results of ``zones.csv`` with each zone's geometry, for QGIS.

Zones given with polygons keep them; zones given as points (and the one implicit zone of a
community without zones, at its centre) are points. Coordinates are the scenario's local
kilometre frame, declared in the file's CRS when the scenario came with one, so the layer lies
where the source data lay.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..model.zones import zone_table
from ..schema import Scenario

__all__ = ["ZONE_LAYER", "write_zone_layer"]

ZONE_LAYER = "zones.gpkg"


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
        frame.to_file(path, layer="zones", driver="GPKG")
    return True
