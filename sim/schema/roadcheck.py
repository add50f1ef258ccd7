"""A scenario's road network against its places: the extract lies where the places are.

The road network (``travel.road_network``) replaces a matrix file, so the two are not given
together. Its nodes are placed in the scenario's km frame (:func:`road_frame`): a geographic
scenario's own frame, or, for an x/y scenario, the frame centred on ``origin``. A located place
that lies outside the extent of the drivable roads (by more than ``warn_snap_m``) is an error
naming it: the usual cause is a place in the wrong CRS or the extract of another region.
Services may drive at their own ``time_factor`` (lights and sirens, or normal driving).
"""

from __future__ import annotations

import numpy as np

from ..errors import ScenarioError
from .geo import LONLAT, Frame
from .geography import Found, Geography, unknown
from .roadfile import RoadRows, read_road_file
from .scenario import RoadNetwork, Scenario

__all__ = ["node_xy", "road_frame", "road_problems", "service_factors", "shared_factor"]

HERE = ("travel", "road_network")
SHOWN = 3


def road_frame(net: RoadNetwork, geo: Geography) -> Frame | None:
    """The km frame the extract is placed in; None for an x/y scenario without ``origin``."""
    if not geo.frame.planar:
        return geo.frame
    if net.origin is None or net.origin.lat is None or net.origin.lon is None:
        return None
    return Frame((net.origin.lon, net.origin.lat))


def node_xy(rows: RoadRows, frame: Frame) -> np.ndarray:
    """The road nodes in ``frame``, km, shape (N, 2)."""
    x, y = frame.project(rows.lon, rows.lat, LONLAT)
    return np.column_stack([x, y])


def service_factors(s: Scenario) -> dict[str, float]:
    """The network time factor of every service."""
    net = s.travel.road_network
    assert net is not None
    factor = net.time_factor
    if not isinstance(factor, dict):
        return dict.fromkeys(s.services, float(factor))
    default = factor.get("all", 1.0)
    return {sid: float(factor.get(sid, default)) for sid in s.services}


def shared_factor(s: Scenario) -> float:
    """The time factor of trips that belong to no service (the region's base matrix, maps):
    the one every service drives at, else 1 (normal driving)."""
    factors = set(service_factors(s).values())
    return factors.pop() if len(factors) == 1 else 1.0


def _factor_problems(s: Scenario, net: RoadNetwork) -> list[Found]:
    found: list[Found] = []
    if isinstance(net.time_factor, dict):
        for sid in net.time_factor:
            if sid != "all" and sid not in s.services:
                found.append(((*HERE, "time_factor", sid), unknown("service", sid, s.services)))
    return found


def _outside(rows: RoadRows, net: RoadNetwork, geo: Geography, frame: Frame) -> list[Found]:
    """Located places beyond the extent of the roads (by more than ``warn_snap_m``)."""
    xy = node_xy(rows, frame)
    margin = net.warn_snap_m / 1000.0
    low, high = xy.min(axis=0) - margin, xy.max(axis=0) + margin
    located = np.isfinite(geo.xy).all(axis=1)
    away = np.maximum(np.maximum(low - geo.xy, geo.xy - high), 0.0).max(axis=1)
    bad = np.flatnonzero(located & (away > 0))
    if not bad.size:
        return []
    names = ", ".join(f"'{geo.places[i]}' ({away[i] + margin:.1f} km)" for i in bad[:SHOWN])
    more = f" and {bad.size - SHOWN} more" if bad.size > SHOWN else ""
    return [
        (
            (*HERE, "file"),
            f"{bad.size} place(s) lie outside the extent of the roads in {rows.source}: "
            f"{names}{more}; is the extract of this region, and each place in the right CRS?",
        )
    ]


def road_problems(s: Scenario, geo: Geography) -> list[Found]:
    """The road network's file problems, and places it cannot serve."""
    net = s.travel.road_network
    if net is None:
        return []
    if s.travel.matrix_file is not None:
        return [((*HERE,), "give either travel.matrix_file or travel.road_network, not both")]
    found = _factor_problems(s, net)
    frame = road_frame(net, geo)
    if net.origin is not None and net.origin.lat is None:
        found.append(((*HERE, "origin"), "give the origin as lat and lon (degrees)"))
    elif frame is None:
        found.append(
            (
                (*HERE,),
                "the places are x/y in km: give road_network.origin (the lat/lon of x = 0, "
                "y = 0), or give the places lat/lon",
            )
        )
    elif not geo.frame.planar and net.origin is not None:
        found.append(((*HERE, "origin"), "only for x/y scenarios: these places are lat/lon"))
    try:
        rows = read_road_file(net.file)
    except ScenarioError as exc:
        return found + list(exc.problems)
    if frame is not None:
        found += _outside(rows, net, geo, frame)
    return found
