"""Coordinates: one frame per scenario, in kilometres.

A scenario is either *planar* (inline x/y, CSV x/y without a CRS, geo files whose coordinates
are kilometres) or *geographic* (inline lat/lon, CSV lon/lat, files with a CRS). A geographic
scenario is projected with pyproj to one local metric frame: the azimuthal equidistant
projection centred on the mean longitude/latitude of its points, in km, so that distances
from the centre are exact and distortion stays negligible across a region. pyproj is imported
only when a scenario has geographic coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from pyproj import CRS, Transformer

__all__ = ["KM", "LONLAT", "Frame", "check_crs", "frame_centred", "looks_like_lonlat"]

LONLAT = "EPSG:4326"
KM = "km"  # the planar frame: x/y already in kilometres


def looks_like_lonlat(x: np.ndarray, y: np.ndarray) -> bool:
    """Every point inside longitude/latitude bounds (and the region under a few degrees wide,
    as real regions in degrees are): coordinates that a file without a CRS probably holds in
    degrees, not kilometres."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.size == 0 or not (np.isfinite(x).all() and np.isfinite(y).all()):
        return False
    inside = bool((np.abs(x) <= 180).all() and (np.abs(y) <= 90).all())
    return inside and float(np.ptp(x)) <= 10 and float(np.ptp(y)) <= 10


def check_crs(text: str) -> str | None:
    """The reason ``text`` is not a CRS pyproj knows, or None."""
    if text == KM:
        return None
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        CRS.from_user_input(text)
    except CRSError as exc:
        return f"unknown CRS '{text}' ({str(exc).split(':', 1)[0]}); e.g. 'EPSG:2056' or 'km'"
    return None


@lru_cache(maxsize=64)
def _crs(text: str) -> CRS:
    from pyproj import CRS

    return CRS.from_user_input(text)


@lru_cache(maxsize=64)
def _transformer(source: str, target: str) -> Transformer:
    from pyproj import Transformer

    return Transformer.from_crs(_crs(source), _crs(target), always_xy=True)


def to_lonlat(x: np.ndarray, y: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in ``crs`` as longitude/latitude (EPSG:4326)."""
    if crs == LONLAT:
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    lon, lat = _transformer(crs, LONLAT).transform(np.asarray(x), np.asarray(y))
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


@dataclass(frozen=True)
class Frame:
    """The scenario's km frame: planar (``centre`` None) or projected around ``centre``."""

    centre: tuple[float, float] | None = None  # (lon, lat) of the projection's centre

    @property
    def planar(self) -> bool:
        return self.centre is None

    @property
    def proj(self) -> str:
        """The frame as a CRS string (planar: ``km``)."""
        if self.centre is None:
            return KM
        lon0, lat0 = self.centre
        return (
            f"+proj=aeqd +lat_0={lat0!r} +lon_0={lon0!r} +x_0=0 +y_0=0 "
            "+datum=WGS84 +units=km +no_defs +type=crs"
        )

    @property
    def crs(self) -> CRS | None:
        """The frame as a pyproj CRS, for writing geometry (None when planar)."""
        return None if self.centre is None else _crs(self.proj)

    def project(self, x: Any, y: Any, crs: str) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates given in ``crs`` (``km`` for planar ones) in this frame, km."""
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if crs == KM or self.centre is None:
            return x, y
        px, py = _transformer(crs, self.proj).transform(x, y)
        return np.asarray(px, dtype=np.float64), np.asarray(py, dtype=np.float64)

    def project_geometry(self, geometry: Any, crs: str) -> Any:
        """A GeoSeries (in ``crs``) in this frame (without a CRS when planar)."""
        if crs == KM or self.centre is None:
            return geometry.set_crs(None, allow_override=True)
        return geometry.set_crs(_crs(crs), allow_override=True).to_crs(_crs(self.proj))


def frame_centred(lon: np.ndarray, lat: np.ndarray) -> Frame:
    """The projected frame centred on the mean of these points (longitude: the circular mean,
    so that a region across the antimeridian is centred inside it)."""
    lon_r = np.radians(np.asarray(lon, dtype=np.float64))
    lon0 = math.degrees(math.atan2(float(np.sin(lon_r).mean()), float(np.cos(lon_r).mean())))
    return Frame((round(lon0, 9), round(float(np.mean(lat)), 9)))
