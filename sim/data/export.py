"""``intersim export-log``: a simulated run written as a CAD-style incident log.

One row per incident, with the times a computer-aided dispatch system records: call, call
processed (ready for dispatch), first dispatch, first unit en route and on scene, leaving the
scene, at the hospital, and clear (the last unit done), plus the first unit on scene and its
home community, the facility a transport went to, and where the incident happened: its zone
and the zone's point (``x``/``y`` in km in the scenario's frame and, when the scenario has
geographic coordinates, ``lon``/``lat``). Times are ISO 8601 timestamps with a UTC offset,
counted from ``start`` (time 0 of the simulation, a Monday 00:00). Times after the horizon
are left empty, as in a log extracted at that moment. Replications are laid end to end, each
starting on a Monday.

Such a log is test data with a known truth: calibrating it should give back the scenario, and
replaying it should give back the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..engine.driver import compile_scenario, replicate
from ..errors import InputError
from ..model.compile import MINUTES_PER_WEEK, Region
from ..results.files import atomic_write_text
from ..schema import Scenario
from .columns import STAGES
from .times import check_tz, to_timestamp
from .zones import scenario_zones

__all__ = [
    "DEFAULT_START",
    "GEO_COLUMNS",
    "LOG_COLUMNS",
    "export_log",
    "format_times",
    "write_log",
]

DEFAULT_START = "2025-01-06T00:00"  # a Monday
LOG_COLUMNS = [
    "incident_id",
    "call_time",
    "community",
    "incident_type",
    "priority",
    "service",
    "call_processed",
    "dispatched",
    "en_route",
    "on_scene",
    "left_scene",
    "at_hospital",
    "clear",
    "unit_id",
    "unit_home",
    "destination",
    "zone",
    "x",
    "y",
]
GEO_COLUMNS = ["lon", "lat"]  # also written when the scenario has geographic coordinates


def format_times(minutes: np.ndarray, start: pd.Timestamp, tz: str | None) -> np.ndarray:
    """ISO 8601 timestamps (milliseconds, with offset) of ``minutes`` after ``start``; empty
    strings for NaN."""
    minutes = np.asarray(minutes, dtype=np.float64)
    out = np.full(len(minutes), "", dtype=object)
    ok = np.isfinite(minutes)
    if not ok.any():
        return out
    ts = pd.DatetimeIndex(start + pd.to_timedelta(minutes[ok], unit="min"))
    zone = tz if tz is not None else ts.tz
    ts = ts.tz_convert("UTC").round("ms").tz_convert(zone)
    body = ts.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3]
    offset = ts.strftime("%z")
    out[ok] = body + offset.str[:3] + ":" + offset.str[3:]
    return out


def _unit_homes(scenario: Scenario, station_ids: tuple[str, ...], owners: list[str]) -> list[str]:
    homes = []
    for sid, owner in zip(station_ids, owners, strict=True):
        if sid in scenario.communities:
            homes.append(sid)
        else:
            st = scenario.stations.get(sid)
            homes.append(st.community if st is not None and st.community else owner)
    return homes


def export_log(
    scenario: Scenario,
    *,
    option: str | None = None,
    replications: int = 1,
    seed: int | None = None,
    start: str = DEFAULT_START,
    tz: str | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """The log of ``option`` (default: the baseline) over ``replications`` replications, and
    warnings. Returns strings, ready to write."""
    option = option or scenario.baseline_option
    if option not in scenario.options:
        known = ", ".join(scenario.options)
        raise InputError(f"--option: unknown option '{option}' (known: {known})")
    tz = check_tz(tz)
    origin = to_timestamp(start, tz, "--start")
    warnings = []
    local = origin.tz_convert(tz) if tz else origin
    if local.weekday() != 0 or (local.hour, local.minute, local.second) != (0, 0, 0):
        warnings.append(
            f"--start {start} is not a Monday 00:00: simulated time 0 is a Monday 00:00, so "
            "day-of-week and hour-of-day patterns in the log are shifted"
        )
    s = scenario.run.seed if seed is None else seed
    compiled = compile_scenario(scenario, [option])
    region, fleet = compiled.region, compiled.fleets[option]
    homes = _unit_homes(scenario, fleet.station_ids, [region.communities[o] for o in fleet.owner])
    period = math.ceil(region.horizon / MINUTES_PER_WEEK) * MINUTES_PER_WEEK
    places = _Places.of(scenario, region)
    parts = []
    for r in range(replications):
        rep = replicate(compiled, r, s)
        parts.append(
            _rows(region, fleet, homes, places, rep.incidents, rep.records[option], r * period)
        )
    frame = pd.concat(parts, ignore_index=True)
    times = [c for c in LOG_COLUMNS if c in STAGES]
    for c in times:
        frame[c] = format_times(frame[c].to_numpy(), origin, tz)
    frame.insert(0, "incident_id", [f"INC{k + 1:07d}" for k in range(len(frame))])
    columns = LOG_COLUMNS + (GEO_COLUMNS if places.lonlat is not None else [])
    return frame[columns], warnings


@dataclass(frozen=True)
class _Places:
    """Where incidents happen and transports go, as a log writes them: every zone's point
    (km; lon/lat in a geographic scenario; empty without a location), and the facility id
    of a transport by the place it went to and its type's facility id or kind (the first
    facility of the kind at that place: the one the nearest rule picks on a tie)."""

    xy: np.ndarray  # (Z, 2), text
    lonlat: np.ndarray | None  # (Z, 2), text
    facility: dict[tuple[int, str], str]  # (place, kind or id) -> the facility id
    goes_to: tuple[str, ...]  # per incident type: the facility id or kind of its transports

    @classmethod
    def of(cls, scenario: Scenario, region: Region) -> _Places:
        points = scenario_zones(scenario)
        assert points.ids == region.zone_ids, "the zones of the scenario are the region's"
        lonlat = points.lonlat()
        facility: dict[tuple[int, str], str] = {}
        for fid, f in scenario.facilities.items():
            facility.setdefault((region.place_of[fid], f.kind), fid)
            facility[(region.place_of[fid], fid)] = fid
        goes_to = tuple(
            (t.transport.facility or t.transport.kind) if t.transport else ""
            for t in scenario.incident_types.values()
        )
        return cls(
            _coordinates(points.xy),
            None if lonlat is None else _coordinates(np.column_stack(lonlat), 7),
            facility,
            goes_to,
        )


def _coordinates(values: np.ndarray, digits: int = 4) -> np.ndarray:
    """Coordinates as text (0.1 m in km, about 1 cm in degrees); empty where unknown."""
    out = np.full(values.shape, "", dtype=object)
    ok = np.isfinite(values)
    out[ok] = [f"{v:.{digits}f}" for v in values[ok]]
    return out


def _rows(region, fleet, homes, places, inc, rec, offset: float) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    n = len(inc)
    horizon = region.horizon
    types = region.types
    k = inc.type.astype(np.int64)
    c = inc.community.astype(np.int64)
    first = rec.first_unit
    has_unit = first >= 0
    on_scene = rec.t_first_arrival
    en_route = on_scene - rec.travel
    left = on_scene + inc.on_scene.astype(np.float64)
    # the transport is made by the first unit sent (slot 0): its own arrival starts it
    jobs, first_job = np.unique(rec.job_incident, return_index=True)
    arrive0 = np.full(n, np.nan)
    arrive0[jobs] = rec.job_arrive[first_job]
    facility = inc.facility.astype(np.int64)
    moved = inc.transport & (facility >= 0) & np.isfinite(arrive0)
    leave0 = arrive0 + inc.on_scene.astype(np.float64)
    hour = np.nan_to_num(leave0 // 60 % 24).astype(np.int64)
    scene = region.zone_place[inc.zone]
    service = np.array([t.service for t in region.types], dtype=np.int64)[inc.type.astype(np.int64)]
    trip = region.trips_of(service, scene, np.maximum(facility, 0)) * region.hour_factors[hour]
    at_hospital = np.where(moved, leave0 + trip * inc.noise[:, -1], np.nan)
    clear = rec.t_clear

    def upto(t: np.ndarray) -> np.ndarray:  # what a log extracted at the horizon knows
        t = np.asarray(t, dtype=np.float64)
        return np.where(t <= horizon, t, np.nan) + offset

    destinations = np.array(
        [
            places.facility.get((int(p), places.goes_to[kk]), "")
            for p, kk in zip(facility, k, strict=True)
        ],
        dtype=object,
    )
    zone = inc.zone.astype(np.int64)
    return pd.DataFrame(
        {
            "call_time": inc.t_call + offset,
            "community": np.array(region.communities, dtype=object)[c],
            "incident_type": np.array([t.id for t in types], dtype=object)[k],
            "priority": np.array([t.priority for t in types])[k],
            "service": np.array(region.services, dtype=object)[
                np.array([t.service for t in types])[k]
            ],
            "call_processed": upto(rec.t_ready),
            "dispatched": upto(rec.t_dispatch),
            "en_route": upto(en_route),
            "on_scene": upto(on_scene),
            "left_scene": upto(left),
            "at_hospital": upto(at_hospital),
            "clear": upto(clear),
            "unit_id": np.where(
                has_unit, np.array(fleet.labels, dtype=object)[np.maximum(first, 0)], ""
            ),
            "unit_home": np.where(
                has_unit, np.array(homes, dtype=object)[np.maximum(first, 0)], ""
            ),
            "destination": np.where(np.isfinite(upto(at_hospital)), destinations, ""),
            "zone": np.array(region.zone_ids, dtype=object)[zone],
            "x": places.xy[zone, 0],
            "y": places.xy[zone, 1],
            **(
                {"lon": places.lonlat[zone, 0], "lat": places.lonlat[zone, 1]}
                if places.lonlat is not None
                else {}
            ),
        }
    )


def write_log(frame: pd.DataFrame, path: str | Path) -> None:
    """Write the log as CSV, atomically."""
    p = Path(path)
    if not p.parent.is_dir():
        raise InputError(f"--out: no such directory: {p.parent}")
    if p.is_dir():
        raise InputError(f"--out: {p} is a directory; give a file name such as log.csv")
    try:
        atomic_write_text(p, frame.to_csv(index=False, lineterminator="\n"))
    except OSError as exc:
        raise InputError(f"--out: cannot write {p}: {exc.strerror}") from None
