"""The compiled model: a validated scenario turned into numpy arrays for the engine.

:class:`Region` holds what every pooling option shares (places, travel, demand); :class:`Fleet`
holds what an option changes (units, dispatch rules). Time 0 is a Monday, 00:00; times are
minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..schema.distributions import Distribution, Fixed
from ..schema.options import resolve_option
from ..schema.references import place_locations
from ..schema.scenario import Dispatch, Duty, IncidentType, Scenario
from .checks import check_fleet, check_region
from .travel import place_index, travel_matrix

__all__ = [
    "MINUTES_PER_WEEK",
    "MINUTES_PER_YEAR",
    "Burst",
    "Fleet",
    "Region",
    "Surge",
    "TypeSpec",
    "compile_fleet",
    "compile_region",
    "duty_intervals",
]

MINUTES_PER_YEAR = 365 * 1440.0
MINUTES_PER_WEEK = 7 * 1440
_ZERO = Fixed(dist="fixed", value=0.0)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class TypeSpec:
    id: str
    service: int
    priority: int
    units_needed: int
    call_handling: Distribution
    turnout: Distribution
    on_scene: Distribution
    transport_prob: float
    facility: int  # place index, -1 without transport
    handover: Distribution
    target_minutes: np.ndarray  # (C,), NaN where no target
    target_share: np.ndarray  # (C,)


@dataclass(frozen=True)
class Surge:
    name: str
    start: float
    end: float
    multiplier: float
    communities: np.ndarray  # (C,) bool
    types: np.ndarray  # (K,) bool


@dataclass(frozen=True)
class Burst:
    name: str
    time: float
    spread: float
    community: int
    type: int
    count: int


@dataclass(frozen=True)
class Region:
    name: str
    communities: tuple[str, ...]
    community_names: tuple[str, ...]
    population: np.ndarray
    zones: tuple[str, ...]
    places: tuple[str, ...]
    place_of: dict[str, int]
    travel: np.ndarray  # (P, P) minutes
    hour_factors: np.ndarray  # (24,)
    noise_sd: float
    services: tuple[str, ...]
    types: tuple[TypeSpec, ...]
    rates: np.ndarray  # (C, K) incidents per minute, on average over a week
    profiles: np.ndarray  # (K, 168) relative intensity by hour of week, mean 1
    surges: tuple[Surge, ...]
    bursts: tuple[Burst, ...]
    horizon: float
    warmup: float

    @property
    def max_units_needed(self) -> int:
        return max(t.units_needed for t in self.types)


@dataclass(frozen=True)
class Fleet:
    option: str
    labels: tuple[str, ...]
    service: np.ndarray  # (U,) service index
    station: np.ndarray  # (U,) place index
    station_ids: tuple[str, ...]
    owner: np.ndarray  # (U,) community index
    cost_per_hour: np.ndarray  # (U,)
    duty: tuple[np.ndarray, ...]  # per unit, (m, 2) on-duty intervals within [0, horizon]
    dispatch: tuple[Dispatch, ...]  # per service

    @property
    def size(self) -> int:
        return len(self.labels)


def _profile(s: Scenario, t: IncidentType) -> np.ndarray:
    name = t.profile or s.services[t.service].profile
    if name is None:
        return np.ones(168)
    p = s.profiles[name]
    week = np.outer(np.asarray(p.day_of_week), np.asarray(p.hour_of_day)).ravel()
    return week / week.mean()


def _rates(s: Scenario, t: IncidentType) -> np.ndarray:
    out = np.zeros(len(s.communities))
    for i, (cid, com) in enumerate(s.communities.items()):
        if t.rate_per_1000 is not None:
            r = (
                t.rate_per_1000.get(cid, 0.0)
                if isinstance(t.rate_per_1000, dict)
                else t.rate_per_1000
            )
            out[i] = r * com.population / 1000.0
        else:
            assert t.rate_per_year is not None
            r = (
                t.rate_per_year.get(cid, 0.0)
                if isinstance(t.rate_per_year, dict)
                else t.rate_per_year
            )
            out[i] = r
    return out * t.share * s.demand_scale / MINUTES_PER_YEAR


def _targets(s: Scenario, t: IncidentType) -> tuple[np.ndarray, np.ndarray]:
    n = len(s.communities)
    minutes, share = np.full(n, np.nan), np.full(n, np.nan)
    if t.target is None:
        return minutes, share
    for i, (cid, com) in enumerate(s.communities.items()):
        m, q = t.target.minutes, t.target.share
        for override in (t.target.by_zone.get(com.zone), t.target.by_community.get(cid)):
            if override is not None:
                m = override.minutes if override.minutes is not None else m
                q = override.share if override.share is not None else q
        minutes[i], share[i] = m, q
    return minutes, share


def compile_region(s: Scenario) -> Region:
    """Compile what all pooling options of ``s`` share."""
    places = place_index(s)
    services = tuple(s.services)
    types = []
    for tid, t in s.incident_types.items():
        minutes, share = _targets(s, t)
        types.append(
            TypeSpec(
                id=tid,
                service=services.index(t.service),
                priority=t.priority,
                units_needed=t.units_needed,
                call_handling=t.call_handling,
                turnout=t.turnout,
                on_scene=t.on_scene,
                transport_prob=t.transport.probability if t.transport else 0.0,
                facility=places[t.transport.facility] if t.transport else -1,
                handover=t.transport.handover if t.transport else _ZERO,
                target_minutes=minutes,
                target_share=share,
            )
        )
    type_ids = list(s.incident_types)
    com_ids = list(s.communities)
    surges = tuple(
        Surge(
            name=sg.name,
            start=sg.start,
            end=sg.start + sg.duration,
            multiplier=sg.multiplier,
            communities=np.array([sg.communities is None or c in sg.communities for c in com_ids]),
            types=np.array(
                [
                    (sg.types is None or k in sg.types)
                    and (sg.services is None or t.service in sg.services)
                    for k, t in s.incident_types.items()
                ]
            ),
        )
        for sg in s.surges
    )
    bursts = tuple(
        Burst(b.name, b.time, b.spread, com_ids.index(b.community), type_ids.index(b.type), b.count)
        for b in s.bursts
    )
    region = Region(
        name=s.name,
        communities=tuple(com_ids),
        community_names=tuple(c.name or cid for cid, c in s.communities.items()),
        population=np.array([c.population for c in s.communities.values()], dtype=np.float64),
        zones=tuple(c.zone for c in s.communities.values()),
        places=tuple(place_locations(s)),
        place_of=places,
        travel=travel_matrix(s),
        hour_factors=np.asarray(s.travel.hour_factors or [1.0] * 24, dtype=np.float64),
        noise_sd=s.travel.noise.log_sd if s.travel.noise else 0.0,
        services=services,
        types=tuple(types),
        rates=np.column_stack([_rates(s, t) for t in s.incident_types.values()]),
        profiles=np.vstack([_profile(s, t) for t in s.incident_types.values()]),
        surges=surges,
        bursts=bursts,
        horizon=s.run.horizon,
        warmup=s.run.warmup,
    )
    check_region(s, region)  # every derived number finite and sane, or the field is named
    return region


def duty_intervals(duty: Duty | None, horizon: float) -> np.ndarray:
    """On-duty intervals [start, end) in minutes within [0, horizon], merged, shape (m, 2)."""
    if duty is None or (tuple(duty.hours) == (0, 24) and len(set(duty.days)) == 7):
        return np.array([[0.0, horizon]])
    h0, h1 = duty.hours
    length = (h1 - h0) * 60 if h1 > h0 else (24 - h0 + h1) * 60
    starts = sorted(DAYS.index(d) * 1440 + h0 * 60 for d in set(duty.days))
    weeks = int(horizon // MINUTES_PER_WEEK) + 2
    raw = [
        (w * MINUTES_PER_WEEK + st, w * MINUTES_PER_WEEK + st + length)
        for w in range(-1, weeks)
        for st in starts
    ]
    merged: list[list[float]] = []
    for a, b in sorted(raw):
        a, b = max(a, 0.0), min(b, horizon)
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return np.array(merged, dtype=np.float64).reshape(-1, 2)


def compile_fleet(s: Scenario, region: Region, option: str) -> Fleet:
    """Compile the units and dispatch rules of one pooling option."""
    resolved = resolve_option(s, option)
    check_fleet(s, region, resolved)
    units = resolved.units
    return Fleet(
        option=option,
        labels=tuple(u.label for u in units),
        service=np.array([region.services.index(u.service) for u in units], dtype=np.int64),
        station=np.array([region.place_of[u.station] for u in units], dtype=np.int64),
        station_ids=tuple(u.station for u in units),
        owner=np.array([region.communities.index(u.owner) for u in units], dtype=np.int64),
        cost_per_hour=np.array([u.cost_per_hour for u in units], dtype=np.float64),
        duty=tuple(duty_intervals(u.duty, region.horizon) for u in units),
        dispatch=tuple(resolved.dispatch[sid] for sid in region.services),
    )
