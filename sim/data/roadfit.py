"""The road network against a CAD log: how the network's trips compare with the trips units
really drove, and the time factor that would match them (``intersim travel --log``).

A trip is an incident's first unit from en route to on scene, for incidents with coordinates
(``x``/``y`` in km for an x/y scenario, ``lat``/``lon`` for a lat/lon one) whose unit's home
(``unit_home``) names a located station or community of the scenario. Its network time is the
shortest trip from that home to the scene on the scenario's road network, legs off the network
and the current time factor included. The ratio observed / network is summarised by its median
(robust to the units sent from the road, away from home) over all trips, by the road class at
the scene and by the community's kind (urban, suburban, rural, remote); the factor offered is
the current one times the overall median ratio. Trips that cannot be used are counted by reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from ..model.roads import point_trips
from ..model.travel import place_index
from ..schema.geo import LONLAT
from ..schema.geography import Geography, geography
from ..schema.osmtags import CLASSES
from ..schema.roadcheck import service_factors, shared_factor
from ..schema.scenario import Scenario
from .log import Log, minutes_between
from .travel import MIN_TRIPS

__all__ = ["RoadFit", "format_road_fit", "road_fit"]

FACTOR_RANGE = (0.2, 5.0)  # the scenario format's bounds of time_factor


@dataclass(frozen=True)
class RoadFit:
    trips: pd.DataFrame  # one row per trip used: home, community, kind, road, observed, network
    groups: pd.DataFrame  # by, value, trips, observed, network, ratio (medians)
    factor: float  # the scenario's time factor
    suggested: float | None  # the factor that matches the median trip (None without trips)
    dropped: Counter[str] = field(default_factory=Counter)
    service: str | None = None  # the service whose trips and factor were compared


def _scenes(geo: Geography, log: Log) -> np.ndarray:
    """The scene of every incident in the scenario's km frame (NaN where not given)."""
    inc = log.incidents
    planar = geo.frame.planar
    a, b = ("x", "y") if planar else ("lon", "lat")
    if a not in inc or b not in inc:
        kind = "x/y (km)" if planar else "lat/lon"
        raise InputError(
            f"{log.file}: no {kind} coordinates of the incidents, as the scenario's places are: "
            "the network's trips need the scenes"
        )
    x = pd.to_numeric(inc[a], errors="coerce").to_numpy(dtype=np.float64)
    y = pd.to_numeric(inc[b], errors="coerce").to_numpy(dtype=np.float64)
    if planar:
        return np.column_stack([x, y])
    ok = np.isfinite(x) & np.isfinite(y)
    out = np.full((len(x), 2), np.nan)
    if ok.any():
        px, py = geo.frame.project(x[ok], y[ok], LONLAT)
        out[ok] = np.column_stack([px, py])
    return out


def _homes(s: Scenario, geo: Geography, log: Log, dropped: Counter[str]) -> pd.Series:
    """The place index of each incident's first unit's home (NaN where unknown)."""
    inc = log.incidents
    if "unit_home" not in inc:
        raise InputError(f"{log.file}: no unit home (station) column: trips need their start")
    index = place_index(s, geo)
    names = {(c.name or cid).casefold(): cid for cid, c in s.communities.items()}
    text = inc["unit_home"].astype("string").str.strip()
    ids = text.map(lambda v: v if v in index else names.get(str(v).casefold()), na_action="ignore")
    place = ids.map(index, na_action="ignore").astype("float64")
    unknown = text.notna() & place.isna()
    if unknown.any():
        dropped["unit home not a station or community of the scenario"] += int(unknown.sum())
    located = np.isfinite(geo.xy[:, 0])
    unlocated = place.notna() & ~located[place.fillna(0).astype(int)]
    if unlocated.any():
        dropped["unit home without a location"] += int(unlocated.sum())
    return place.where(~unlocated)


def _trips(
    s: Scenario, geo: Geography, log: Log, dropped: Counter[str], service: str | None
) -> pd.DataFrame:
    inc = log.incidents
    if "en_route" not in log.stages or "on_scene" not in log.stages:
        raise InputError(f"{log.file}: no en route and on scene times: no trips to compare")
    observed = minutes_between(inc["on_scene"], inc["en_route"])
    scene = _scenes(geo, log)
    home = _homes(s, geo, log, dropped).to_numpy()
    no_time = ~(observed > 0)
    no_scene = ~np.isfinite(scene).all(axis=1)
    dropped["no en route or on scene time"] += int(no_time.sum())
    dropped["no coordinates"] += int((no_scene & ~no_time).sum())
    dropped["no unit home"] += int((inc["unit_home"].isna() & ~no_time & ~no_scene).sum())
    use = ~no_time & ~no_scene & np.isfinite(home)
    if service is not None and log.has("service"):
        other = use & (inc["service"].to_numpy() != service)
        dropped[f"another service than {service}"] += int(other.sum())
        use &= ~other
    rows = np.flatnonzero(use)
    if not rows.size:
        return pd.DataFrame(columns=["home", "community", "kind", "road", "observed", "network"])
    homes = home[rows].astype(np.int64)
    sources, which = np.unique(homes, return_inverse=True)
    trips = point_trips(s, geo, sources, scene[rows], service)
    network = trips.minutes[which, np.arange(len(rows))]
    community = inc["community"].to_numpy()[rows]
    out = pd.DataFrame(
        {
            "home": [geo.places[h] for h in homes],
            "community": community,
            "kind": [s.communities[c].zone if c in s.communities else "" for c in community],
            "road": [CLASSES[c] if 0 <= c < len(CLASSES) else "" for c in trips.road_class],
            "observed": observed[rows],
            "network": network,
            "snap_m": trips.snap_m,
        }
    )
    cut = ~np.isfinite(out["network"]) | (out["network"] <= 0)
    dropped["scene not reachable on the network"] += int(cut.sum())
    return out[~cut].reset_index(drop=True)


def _groups(trips: pd.DataFrame) -> pd.DataFrame:
    ratio = trips["observed"] / trips["network"]
    parts = [("all", pd.Series("all", index=trips.index)), ("road class", trips["road"])]
    parts.append(("zone type", trips["kind"]))
    rows = []
    for by, key in parts:
        for value, idx in trips.groupby(key).groups.items():
            if len(idx) < MIN_TRIPS:
                continue
            rows.append(
                {
                    "by": by,
                    "value": value,
                    "trips": len(idx),
                    "observed": float(trips.loc[idx, "observed"].median()),
                    "network": float(trips.loc[idx, "network"].median()),
                    "ratio": float(ratio[idx].median()),
                }
            )
    return pd.DataFrame(rows, columns=["by", "value", "trips", "observed", "network", "ratio"])


def road_fit(s: Scenario, log: Log, service: str | None = None) -> RoadFit:
    """Compare the road network of ``s`` with the trips of ``log`` (of ``service`` only, at
    its time factor, when given)."""
    if s.travel.road_network is None:
        raise InputError("the scenario has no travel.road_network to compare with the log")
    factors = service_factors(s)
    if service is None and len(set(factors.values())) > 1:
        listed = ", ".join(f"{k} {v:g}" for k, v in factors.items())
        raise InputError(
            f"services drive at different time factors ({listed}): give --service ID to "
            "compare one service's trips with the log"
        )
    dropped: Counter[str] = Counter()
    trips = _trips(s, geography(s), log, dropped, service)
    groups = _groups(trips)
    factor = factors[service] if service is not None else shared_factor(s)
    suggested = None
    if len(trips) >= MIN_TRIPS:
        ratio = float((trips["observed"] / trips["network"]).median())
        suggested = float(np.clip(round(factor * ratio, 2), *FACTOR_RANGE))
    return RoadFit(trips, groups, factor, suggested, +dropped, service)


def format_road_fit(fit: RoadFit) -> str:
    """A few lines for the console: the medians by group and the factor offered."""
    lines = [f"log trips compared with the road network: {len(fit.trips)}"]
    for reason, n in fit.dropped.most_common():
        lines.append(f"  not used {n}: {reason}")
    if not fit.groups.empty:
        table = fit.groups.to_string(index=False, float_format=lambda v: f"{v:.3g}")
        lines += ["  medians (minutes) and median ratio observed / network:"]
        lines += [f"  {line}" for line in table.splitlines()]
    if fit.suggested is None:
        lines.append(f"  too few trips (under {MIN_TRIPS}) to offer a time factor")
    else:
        value = f"{fit.suggested:g}"
        if fit.service is not None:
            value = f"{{{fit.service}: {value}}}"
        lines.append(
            f"  offered: travel.road_network.time_factor: {value} "
            f"(now {fit.factor:g}; the median trip then matches the log)"
        )
    return "\n".join(lines)
