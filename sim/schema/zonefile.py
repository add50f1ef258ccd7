"""Zone and boundary files: CSV read with pandas, geo files (GeoJSON, GeoPackage, Shapefile,
anything GDAL opens) with GeoPandas and pyogrio, imported only when a scenario names one.

A reader checks what a file can say about itself (columns, ids, numbers, geometry, CRS) and
reports it with the file's own path and row (``zones.csv:14:``, ``zones.gpkg: feature 3:``);
what needs the rest of the scenario (unknown communities, spatial join) is checked by
:mod:`sim.schema.geography`. Ids are read as text, never as numbers (postcode ``1391``, not
``1391.0``). Results are cached by path, modification time, size and column mapping, so that
validating and compiling a scenario read each file once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Problem, ScenarioError
from .datapaths import checked_file_key, shown_path
from .geo import KM, LONLAT, check_crs, looks_like_lonlat
from .scenario import PLACE_ID_PATTERN, Boundaries, ZoneFile

__all__ = [
    "MAX_FILE_BYTES",
    "BoundaryRows",
    "ZoneRows",
    "file_problem",
    "read_boundary_file",
    "read_zone_file",
]

MAX_FILE_BYTES = 2 * 2**30
_ID = re.compile(PLACE_ID_PATTERN)
_ZONE_GEOMETRIES = ("Point", "Polygon", "MultiPolygon")
_AREA_GEOMETRIES = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class _Rows:
    source: str  # the file as messages name it
    geo: bool  # rows are features of a geo file, else lines of a CSV file
    rows: np.ndarray  # line (CSV) or feature number (geo) of each row

    def about_file(self, message: str) -> Problem:
        return Problem(self.source, None, None, "", message)

    def problem(self, i: int, message: str) -> Problem:
        if self.geo:
            return Problem(self.source, None, None, f"feature {int(self.rows[i])}", message)
        return Problem(self.source, int(self.rows[i]), None, "", message)


@dataclass(frozen=True)
class ZoneRows(_Rows):
    """The zones of a file, in its order, coordinates in the file's own CRS."""

    ids: tuple[str, ...]
    community: tuple[str | None, ...]  # None: by spatial join
    weight: np.ndarray
    weights: dict[str, np.ndarray]  # key -> weight per zone, NaN where the cell is empty
    x: np.ndarray  # CSV coordinates (geo files: empty, see geometry)
    y: np.ndarray
    geometry: Any  # GeoSeries of points or polygons (geo files), else None
    crs: str  # KM (planar kilometres) or a CRS pyproj reads


@dataclass(frozen=True)
class BoundaryRows(_Rows):
    """Community outlines of a file, in its order and CRS."""

    ids: tuple[str, ...]
    geometry: Any  # GeoSeries of polygons
    crs: str


def file_problem(path: str, message: str) -> ScenarioError:
    return ScenarioError([Problem(shown_path(path), None, None, "", message)])


def _stat(path: str) -> tuple[str, int, int]:
    key = checked_file_key(path, MAX_FILE_BYTES, "")
    if Path(path).is_dir() and not path.lower().endswith(".gdb"):  # a FileGDB is a folder
        raise file_problem(path, "is a directory, not a zone or boundary file")
    return key


def read_zone_file(spec: ZoneFile) -> ZoneRows:
    """The zones of ``spec.file``; raise ScenarioError naming the file and row otherwise."""
    return _zones_cached(*_stat(spec.file), spec.model_dump_json())


def read_boundary_file(spec: Boundaries) -> BoundaryRows:
    """The community outlines of ``spec.file``; raise ScenarioError otherwise."""
    return _boundaries_cached(*_stat(spec.file), spec.model_dump_json())


# --------------------------------------------------------------------------- shared helpers


def _default(field: str) -> Any:
    return ZoneFile.model_fields[field].default


def _flag(found: list[Problem], rows: _Rows, bad: Any, message: Callable[[int], str]) -> None:
    """One problem at the first bad row, counting the others."""
    idx = np.flatnonzero(np.asarray(bad, dtype=bool))
    if idx.size:
        more = f" (and {idx.size - 1} more row(s))" if idx.size > 1 else ""
        found.append(rows.problem(int(idx[0]), message(int(idx[0])) + more))


def _text(values: pd.Series) -> list[str | None]:
    """A column as text: whole numbers without a decimal point, empty cells None."""
    out: list[str | None] = []
    for v in values.tolist():
        if v is None or (isinstance(v, float) and np.isnan(v)):
            out.append(None)
        elif isinstance(v, float) and v.is_integer():
            out.append(str(int(v)))
        else:
            text = str(v).strip()
            out.append(text or None)
    return out


def _numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A column as float64 (NaN where empty) and the mask of cells that are not numbers."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        number = values.to_numpy(dtype=np.float64, na_value=np.nan)
        return number, np.zeros(len(values), dtype=bool)
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    number = pd.to_numeric(text.where(text != "", None), errors="coerce").to_numpy(np.float64)
    return number, ((text != "") & np.isnan(number)).to_numpy()


def _column(
    found: list[Problem], rows: _Rows, df: pd.DataFrame, name: str, what: str
) -> pd.Series | None:
    if name in df.columns:
        return df[name]
    shown = ", ".join(str(c) for c in df.columns if c != "geometry")
    found.append(rows.about_file(f"no column '{name}' for {what} (columns: {shown})"))
    return None


def _ids(found: list[Problem], rows: _Rows, column: pd.Series, what: str) -> tuple[str, ...]:
    ids = _text(column)
    _flag(found, rows, [i is None for i in ids], lambda i: f"no {what} id")
    _flag(
        found,
        rows,
        [i is not None and (len(i) > 64 or not _ID.match(i)) for i in ids],
        lambda i: (
            f"{what} id '{ids[i]}' is not a valid id (letters, digits, '_' and '-', "
            "starting with a letter or digit, at most 64)"
        ),
    )
    return tuple(i or "" for i in ids)


def _duplicates(found: list[Problem], rows: _Rows, ids: tuple[str, ...], what: str) -> None:
    first: dict[str, int] = {}
    dup = np.zeros(len(ids), dtype=bool)
    for i, zid in enumerate(ids):
        if zid and zid in first:
            dup[i] = True
        first.setdefault(zid, i)
    where = "line" if not rows.geo else "feature"
    _flag(
        found,
        rows,
        dup,
        lambda i: (
            f"{what} '{ids[i]}' given twice (first at {where} {int(rows.rows[first[ids[i]]])})"
        ),
    )


# --------------------------------------------------------------------------- CSV


def _read_csv(path: str) -> tuple[pd.DataFrame, _Rows]:
    try:
        df = pd.read_csv(
            path, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="utf-8-sig"
        )
    except UnicodeDecodeError as exc:
        raise file_problem(path, f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x})") from None
    except pd.errors.EmptyDataError:
        raise file_problem(
            path, "empty file: expected a header line and one row per zone"
        ) from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise file_problem(path, f"not a CSV table: {str(exc).strip()}") from None
    df.columns = [str(c).strip() for c in df.columns]
    blank = (df == "").all(axis=1).to_numpy()
    lines = np.arange(len(df)) + 2  # line 1 is the header
    df = df.loc[~blank].reset_index(drop=True)
    return df, _Rows(shown_path(path), False, lines[~blank])


def _csv_zones(spec: ZoneFile, found: list[Problem]) -> tuple[pd.DataFrame, _Rows, Any]:
    df, rows = _read_csv(spec.file)
    if spec.id not in df.columns and len(df.columns) == 1 and ";" in df.columns[0]:
        raise file_problem(spec.file, "columns are separated by ';'; write the file with commas")
    if {spec.x, spec.y} <= set(df.columns):
        crs = spec.crs or KM
        xs, ys = df[spec.x], df[spec.y]
        names = (spec.x, spec.y)
    elif {spec.lon, spec.lat} <= set(df.columns):
        crs = LONLAT
        xs, ys = df[spec.lon], df[spec.lat]
        names = (spec.lon, spec.lat)
    else:
        shown = ", ".join(df.columns)
        raise file_problem(
            spec.file,
            f"no coordinates: expected columns '{spec.x}' and '{spec.y}' (km, or in `crs`) or "
            f"'{spec.lon}' and '{spec.lat}' (degrees) (columns: {shown})",
        )
    coords = [_coordinate(found, rows, names[0], xs), _coordinate(found, rows, names[1], ys)]
    if crs == LONLAT:
        lon, lat = coords
        _flag(found, rows, np.abs(lon) > 180, lambda i: f"longitude {lon[i]} outside -180..180")
        _flag(found, rows, np.abs(lat) > 90, lambda i: f"latitude {lat[i]} outside -90..90")
    return df, rows, (coords[0], coords[1], crs)


def _coordinate(found: list[Problem], rows: _Rows, name: str, column: pd.Series) -> np.ndarray:
    value, bad = _numbers(column)
    cells = column.tolist()
    _flag(
        found,
        rows,
        bad | ~np.isfinite(value),
        lambda i: f"{name} is not a finite number (got '{cells[i]}')",
    )
    return value


# --------------------------------------------------------------------------- geo files


def _crs_text(crs: Any) -> str:
    auth = crs.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else crs.to_wkt()


def _read_geo(path: str, layer: str | None, given_crs: str | None) -> tuple[Any, _Rows, str]:
    import geopandas as gpd
    import pyogrio

    try:
        layers = pyogrio.list_layers(path)
        if layer is None and len(layers) > 1:
            names = ", ".join(str(n) for n in layers[:, 0])
            raise file_problem(path, f"several layers ({names}): name one with `layer:`")
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except ScenarioError:
        raise
    except Exception as exc:  # GDAL's errors come in many classes; all mean the same here
        raise file_problem(path, f"cannot read as a geo file: {str(exc).strip()}") from None
    if gdf.crs is not None:
        crs = _crs_text(gdf.crs)
    elif given_crs is not None:
        crs = given_crs
    else:
        crs = ""  # decided from the coordinates once the geometry is checked
    rows = _Rows(shown_path(path), True, np.arange(len(gdf)) + 1)
    if len(gdf) == 0:
        raise file_problem(path, "no features")
    return gdf, rows, crs


def _check_geometry(
    found: list[Problem], rows: _Rows, gdf: Any, kinds: tuple[str, ...]
) -> np.ndarray:
    missing = (gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
    _flag(found, rows, missing, lambda i: "no geometry")
    types = gdf.geometry.geom_type.to_numpy()
    other = ~missing & ~np.isin(types, kinds)
    _flag(
        found,
        rows,
        other,
        lambda i: f"geometry is a {types[i]}; expected {' or '.join(kinds)}",
    )
    return missing | other


def _decide_crs(rows: _Rows, crs: str, gdf: Any, bad: np.ndarray, found: list[Problem]) -> str:
    """The CRS of a geo file: its own, else the one given, else km unless the coordinates
    look like longitude/latitude (then an error: degrees must not be read as km)."""
    if crs:
        return crs
    points = gdf.geometry[~bad].representative_point()
    if looks_like_lonlat(points.x.to_numpy(), points.y.to_numpy()):
        found.append(
            rows.about_file(
                "no CRS, and the coordinates look like longitude/latitude; declare "
                "`crs: EPSG:4326` (or `crs: km` if they are kilometres)"
            )
        )
    return KM


# --------------------------------------------------------------------------- readers


@lru_cache(maxsize=16)
def _zones_cached(path: str, _mtime: int, _size: int, mapping: str) -> ZoneRows:
    spec = ZoneFile.model_validate_json(mapping)
    found: list[Problem] = []
    if spec.crs is not None and (problem := check_crs(spec.crs)):
        raise file_problem(path, problem)
    geometry = None
    if path.lower().endswith(".csv"):
        df, rows, (x, y, crs) = _csv_zones(spec, found)
    else:
        df, rows, crs = _read_geo(path, spec.layer, spec.crs)
        bad = _check_geometry(found, rows, df, _ZONE_GEOMETRIES)
        crs = _decide_crs(rows, crs, df, bad, found)
        geometry = df.geometry
        x = y = np.zeros(0)
    id_col = _column(found, rows, df, spec.id, "the zone ids")
    ids = _ids(found, rows, id_col, "zone") if id_col is not None else ()
    _duplicates(found, rows, ids, "zone")
    community: tuple[str | None, ...] = (None,) * len(df)
    if spec.community in df.columns:
        community = tuple(_text(df[spec.community]))
    elif spec.community != _default("community"):  # a column named on purpose must exist
        _column(found, rows, df, spec.community, "the communities")
    weight = np.ones(len(df))
    if spec.weight in df.columns or spec.weight != _default("weight"):
        weight = _weight(found, rows, df, spec.weight, required=True)
    weights = {
        key: _weight(found, rows, df, col, required=False) for key, col in spec.weights.items()
    }
    if found:
        raise ScenarioError(found)
    return ZoneRows(
        rows.source, rows.geo, rows.rows, ids, community, weight, weights, x, y, geometry, crs
    )


def _weight(
    found: list[Problem], rows: _Rows, df: pd.DataFrame, name: str, *, required: bool
) -> np.ndarray:
    column = _column(found, rows, df, name, "a weight")
    if column is None:
        return np.full(len(df), np.nan)
    value, bad = _numbers(column)
    empty = np.isnan(value) & ~bad
    _flag(found, rows, bad, lambda i: f"{name} is not a number (got '{column.iloc[i]}')")
    _flag(found, rows, np.isinf(value), lambda i: f"{name} is infinite")
    _flag(found, rows, value < 0, lambda i: f"{name} {value[i]:g} is negative")
    if required:
        _flag(found, rows, empty, lambda i: f"no {name}")
    return value


@lru_cache(maxsize=8)
def _boundaries_cached(path: str, _mtime: int, _size: int, mapping: str) -> BoundaryRows:
    spec = Boundaries.model_validate_json(mapping)
    if path.lower().endswith(".csv"):
        raise file_problem(
            path, "boundaries need polygons: give a GeoJSON, GeoPackage or Shapefile"
        )
    if spec.crs is not None and (problem := check_crs(spec.crs)):
        raise file_problem(path, problem)
    found: list[Problem] = []
    gdf, rows, crs = _read_geo(path, spec.layer, spec.crs)
    bad = _check_geometry(found, rows, gdf, _AREA_GEOMETRIES)
    crs = _decide_crs(rows, crs, gdf, bad, found)
    id_col = _column(found, rows, gdf, spec.id, "the community ids")
    ids = _ids(found, rows, id_col, "community") if id_col is not None else ()
    if found:
        raise ScenarioError(found)
    return BoundaryRows(rows.source, True, rows.rows, ids, gdf.geometry, crs)
