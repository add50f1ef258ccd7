"""Travel times from a log: observed trips, and a full matrix between communities.

A trip is the first unit's en route -> on scene time, grouped by the unit's home community and
the incident's community; the median of at least three trips is taken for the pair (medians are
robust to the few units sent from the road, away from home). Pairs never travelled get a time
from their distance at the speed fitted to the observed trips, or, without locations, the
shortest chain of observed trips, or an assumption marked as such.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from ..model.travel import distance_km
from ..schema.scenario import Location
from .communities import Community, Resolver
from .log import Log, minutes_between

__all__ = ["DEFAULT_SPEED", "MIN_TRIPS", "complete_travel", "travel_observations"]

DEFAULT_SPEED = 60.0  # km/h, when no trip between located communities was observed
MIN_TRIPS = 3
DETOUR = 1.3  # the scenario format's default detour factor


def travel_observations(log: Log) -> pd.DataFrame:
    """Observed trips (en route -> on scene) by the first unit's home and the incident's
    community: median minutes and count per pair, and the log-spread around the medians."""
    inc = log.incidents
    if "unit_home" not in inc or "en_route" not in log.stages or "on_scene" not in log.stages:
        return pd.DataFrame(columns=["home", "community", "median", "n"])
    home = Resolver(log.communities).names(inc["unit_home"])
    trips = pd.DataFrame(
        {
            "home": home,
            "community": inc["community"],
            "t": minutes_between(inc["on_scene"], inc["en_route"]),
        }
    )
    trips = trips.dropna()
    trips = trips[trips["t"] > 0]
    g = trips.groupby(["home", "community"])["t"]
    out = g.agg(median="median", n="size").reset_index()
    trips = trips.merge(out, on=["home", "community"])
    out.attrs["log_sd"] = float(np.std(np.log(trips["t"] / trips["median"]))) if len(trips) else 0.0
    out.attrs["trips"] = len(trips)
    return out


def _distance(a: Community, b: Community) -> float | None:
    la, lb = a.location(), b.location()
    if la is None or lb is None or set(la) != set(lb):
        return None
    return distance_km(Location(**la), Location(**lb))


def complete_travel(
    communities: list[Community], obs: pd.DataFrame
) -> dict[tuple[str, str], tuple[float, str]]:
    """Minutes between every pair of communities (and inside each): observed medians, else a
    speed over the distance, else the shortest chain of observed trips, else an assumption."""
    coms = {c.id: c for c in communities}
    out: dict[tuple[str, str], tuple[float, str]] = {}
    for row in obs.itertuples():
        if row.n >= MIN_TRIPS and row.home in coms and row.community in coms:
            out[(row.home, row.community)] = (float(row.median), f"median of {row.n} trips")
    speeds = []
    for (a, b), (m, _) in out.items():
        d = _distance(coms[a], coms[b]) if a != b else None
        if d and m > 0:
            speeds.append(d * DETOUR / m * 60)
    speed = float(np.median(speeds)) if speeds else None
    ids = list(coms)
    inside = [m for (a, b), (m, _) in out.items() if a == b]
    known = {k: v[0] for k, v in out.items()}
    for a, b in itertools.product(ids, ids):
        if (a, b) in out or (a != b and (b, a) in out):
            continue
        if a == b:
            value = float(np.median(inside)) if inside else 5.0
            how = (
                "no trips observed inside: the median of other communities' [assumption]"
                if inside
                else "no trips observed inside [assumption]"
            )
            out[(a, b)] = (value, how)
            continue
        d = _distance(coms[a], coms[b])
        if d is not None:
            v = speed or DEFAULT_SPEED
            src = (
                f"{v:.0f} km/h fitted to observed trips" if speed else f"{v:.0f} km/h [assumption]"
            )
            how = f"no trips observed: {d:.1f} km x {DETOUR} at {src}"
            out[(a, b)] = (d * DETOUR / v * 60, how)
            continue
        chain = _chain(known, ids, a, b)
        if chain is not None:
            out[(a, b)] = (chain, "no trips observed: the shortest chain of observed trips")
        else:
            worst = max(known.values(), default=10.0)
            out[(a, b)] = (
                1.5 * worst,
                "no trips observed and no locations: 1.5 x the longest "
                "observed trip [assumption]; FILL IN",
            )
    return out


def _chain(known: dict[tuple[str, str], float], ids: list[str], a: str, b: str) -> float | None:
    d = {(x, y): v for (x, y), v in known.items() if x != y}
    d.update({(y, x): v for (x, y), v in known.items() if x != y and (y, x) not in d})
    dist = {x: math.inf for x in ids}
    dist[a] = 0.0
    todo = set(ids)
    while todo:
        x = min(todo, key=lambda k: dist[k])
        todo.discard(x)
        if dist[x] == math.inf:
            break
        for y in ids:
            if (x, y) in d and dist[x] + d[(x, y)] < dist[y]:
                dist[y] = dist[x] + d[(x, y)]
    return None if dist[b] == math.inf else dist[b]
