"""The compiled model: a validated scenario turned into numpy arrays and plain values.

:class:`Region` holds what every pooling option shares (places, travel, demand); :class:`Fleet`
holds what an option changes (units, dispatch rules). Time 0 is a Monday, 00:00; times are
minutes. This module (with :mod:`sim.model.travel`) is the one place that reads the schema:
distributions become :mod:`sim.model.distributions` values and dispatch rules
:class:`~sim.model.dispatch.DispatchRule` values, so that sampling and the engine never see a
pydantic object.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from ..schema.geography import geography
from ..schema.options import resolve_option
from ..schema.relocationcheck import any_relocation
from ..schema.scenario import Dispatch, Duty, IncidentType, Profile, Scenario
from . import distributions as dist
from .calendars import Calendar, intersect
from .checks import check_fleet, check_region, check_relocation
from .dispatch import DispatchRule
from .preference import Preference, preferences
from .relocation import NO_RELOCATION, RelocationRule, compile_relocation, place_communities
from .scenario_distributions import compile_distribution
from .snap import Snapper
from .travel import place_index, service_matrices, travel_matrix
from .workers import Workers, case_slots
from .worktime import (
    DEFAULT_START,
    compile_calendars,
    month_factors,
    run_months,
    service_calendars,
)
from .zones import CompiledZones, compile_zones, nearest_facilities

__all__ = [
    "MINUTES_PER_WEEK",
    "MINUTES_PER_YEAR",
    "Burst",
    "Fleet",
    "Region",
    "Surge",
    "TypeSpec",
    "check_compiled",
    "compile_dispatch",
    "compile_distribution",
    "compile_fleet",
    "compile_region",
    "compile_surges",
    "demand_rates",
    "duty_intervals",
    "fleet_preferences",
]

MINUTES_PER_YEAR = 365 * 1440.0
MINUTES_PER_WEEK = 7 * 1440
_ZERO = dist.Fixed(0.0)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class TypeSpec:
    id: str
    service: int
    priority: int
    units_needed: int
    call_handling: dist.Distribution
    turnout: dist.Distribution
    on_scene: dist.Distribution
    transport_prob: float
    facility: int  # place index, -1 without transport
    handover: dist.Distribution
    target_minutes: np.ndarray  # (C,), NaN where no target
    target_share: np.ndarray  # (C,)
    # transport to the nearest facility of this kind (Region.nearest_facility); facility is -1
    facility_kind: str | None = None
    # a target in working time of the service's calendar, call to completion: (C,) working
    # minutes and shares, NaN where none (then target_minutes holds any clock target)
    working_target: np.ndarray | None = None
    working_share: np.ndarray | None = None
    visit_every: float = 0.0  # caseload services: minutes between visits (0: no visits)
    visit_duration: float = 0.0  # minutes of one visit at the client


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
    zone: int  # zone index (Region.zone_ids): the one named, else the heaviest


@dataclass(frozen=True)
class Region:
    name: str
    communities: tuple[str, ...]
    community_names: tuple[str, ...]
    population: np.ndarray
    community_kinds: tuple[str, ...]  # urban, suburban, rural or remote, per community
    places: tuple[str, ...]  # communities, own-located stations and facilities, zones
    place_of: dict[str, int]  # every place, station, facility and zone id -> place
    travel: np.ndarray  # (P, P) minutes (sim.model.travel.TRIP_DTYPE), asymmetric where given
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
    place_xy: np.ndarray  # (P, 2) km in the scenario's frame, NaN without a location
    # zones (sim.model.zones): Z = C without explicit zones, zone c at place c
    zone_ids: tuple[str, ...]
    zone_community: np.ndarray  # (Z,) int64
    zone_place: np.ndarray  # (Z,) int64
    zone_weight: np.ndarray  # (Z,) float64 base weight (implicit zones: the population)
    zone_choice: tuple[tuple[tuple[np.ndarray, np.ndarray], ...], ...]  # [c][k]: zones, probs
    explicit_zones: bool
    nearest_facility: dict[str, np.ndarray]  # facility kind -> (Z,) place of the nearest
    return_speed_factor: float
    return_position: str  # "nearest_zone" or "interpolate"
    snapper: Snapper | None = None  # nearest zones on ways back (nearest_zone with zones)
    # working time and caseloads (sim.model.worktime); the defaults change nothing
    start: dt.date = DEFAULT_START  # the date of time 0, a Monday
    months: np.ndarray | None = None  # (K, 12) month-of-year factors, mean 1; None: flat
    month_of_day: np.ndarray | None = None  # (D,) month (0-11) of each day from time 0
    calendars: tuple[Calendar | None, ...] = ()  # per service; None: round the clock
    overtime: tuple[float, ...] = ()  # per service: minutes a job may run past closing
    max_cases: tuple[int, ...] = ()  # per service: case slots per worker; 0: no caseload
    # move-up and uncovered time (sim.model.coverage): the community of each place (-1: none),
    # and per service the share of a community's calls that must be covered
    place_community: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    coverage_share: tuple[float, ...] = ()
    relocates: bool = False  # some option moves units: the unit table counts moves
    # per service: its trips where services drive at different road-network time factors
    # (travel.road_network.time_factor); () or ``travel`` itself where they drive alike
    service_travel: tuple[np.ndarray, ...] = ()

    @property
    def max_units_needed(self) -> int:
        return max(t.units_needed for t in self.types)

    def trips(self, service: int) -> np.ndarray:
        """(P, P) minutes for units of ``service``: ``travel`` at its own time factor."""
        return self.service_travel[service] if self.service_travel else self.travel

    def trips_of(self, services: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Minutes from places ``a`` to places ``b`` for units of ``services`` (arrays in step)."""
        if not self.service_travel:
            return self.travel[a, b].astype(np.float64)
        out = np.empty(len(a), dtype=np.float64)
        for s in np.unique(services):
            mine = services == s
            out[mine] = self.service_travel[s][a[mine], b[mine]]
        return out

    def pauses(self, service: int) -> bool:
        """Whether units of ``service`` pause their jobs at closing (a calendar that closes,
        and no caseload: a case holds its slot whatever the hour)."""
        cal = self.calendars[service] if self.calendars else None
        return cal is not None and not cal.always_open and not self.max_cases[service]


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
    dispatch: tuple[DispatchRule, ...]  # per service
    preference: tuple[Preference, ...]  # per service: where free units can be, by trip
    # caseload services: their units are case slots of workers (sim.model.workers)
    workers: Workers | None = None
    # per service: how free units are moved between posts (sim.model.relocation); (): none
    relocation: tuple[RelocationRule, ...] = ()

    def relocation_of(self, service: int) -> RelocationRule:
        return self.relocation[service] if self.relocation else NO_RELOCATION

    @property
    def size(self) -> int:
        return len(self.labels)


def _profile_of(s: Scenario, t: IncidentType) -> Profile | None:
    name = t.profile or s.services[t.service].profile
    return None if name is None else s.profiles[name]


def _profile(s: Scenario, t: IncidentType) -> np.ndarray:
    p = _profile_of(s, t)
    if p is None:
        return np.ones(168)
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


def demand_rates(s: Scenario) -> np.ndarray:
    """(C, K) incidents per minute of each community and type, on average over a week: from
    the scenario alone (no data file), so that a run can be sized before its files are read."""
    return np.column_stack([_rates(s, t) for t in s.incident_types.values()])


def compile_surges(s: Scenario) -> tuple[Surge, ...]:
    """The surges of ``s``: their windows, and the communities and types each raises."""
    com_ids = list(s.communities)
    return tuple(
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


def _targets(s: Scenario, t: IncidentType, limit: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Per community: the limit (the target's ``minutes``, or ``limit`` for a target in working
    time) and the share, with the overrides by zone kind and community; NaN without one."""
    n = len(s.communities)
    minutes, share = np.full(n, np.nan), np.full(n, np.nan)
    if t.target is None or limit is None:
        return minutes, share
    for i, (cid, com) in enumerate(s.communities.items()):
        m, q = limit, t.target.share
        for override in (t.target.by_zone.get(com.zone), t.target.by_community.get(cid)):
            if override is not None:
                m = override.minutes if override.minutes is not None else m
                q = override.share if override.share is not None else q
        minutes[i], share[i] = m, q
    return minutes, share


def _working_limit(t: IncidentType, calendar: Calendar | None) -> float | None:
    """Working minutes of a target in working time (None for a clock target or none)."""
    if t.target is None or calendar is None:
        return None
    if t.target.working_days is not None:
        return t.target.working_days * calendar.day_minutes
    return t.target.working_hours * 60.0 if t.target.working_hours is not None else None


def compile_region(s: Scenario) -> Region:
    """Compile what all pooling options of ``s`` share."""
    geo = geography(s)
    places = place_index(s, geo)
    services = tuple(s.services)
    calendars = service_calendars(s, compile_calendars(s, s.run.horizon))
    types = []
    for tid, t in s.incident_types.items():
        minutes, share = _targets(s, t, t.target.minutes if t.target else None)
        calendar = calendars[services.index(t.service)]
        work_minutes, work_share = _targets(s, t, _working_limit(t, calendar))
        types.append(
            TypeSpec(
                id=tid,
                service=services.index(t.service),
                priority=t.priority,
                units_needed=t.units_needed,
                call_handling=compile_distribution(t.call_handling),
                turnout=compile_distribution(t.turnout),
                on_scene=compile_distribution(t.on_scene),
                transport_prob=t.transport.probability if t.transport else 0.0,
                facility=(
                    places[t.transport.facility]
                    if t.transport is not None and t.transport.facility is not None
                    else -1
                ),
                handover=compile_distribution(t.transport.handover) if t.transport else _ZERO,
                target_minutes=minutes,
                target_share=share,
                facility_kind=(
                    t.transport.kind if t.transport and t.transport.facility is None else None
                ),
                working_target=work_minutes if not np.isnan(work_minutes).all() else None,
                working_share=work_share if not np.isnan(work_minutes).all() else None,
                visit_every=t.visits.every if t.visits else 0.0,
                visit_duration=t.visits.duration if t.visits else 0.0,
            )
        )
    type_ids = list(s.incident_types)
    com_ids = list(s.communities)
    surges = compile_surges(s)
    zones = compile_zones(s, geo)
    travel = travel_matrix(s, geo)
    service_travel = service_matrices(s, geo, travel)
    months = _months(s)
    bursts = tuple(
        Burst(
            b.name,
            b.time,
            b.spread,
            com_ids.index(b.community),
            type_ids.index(b.type),
            b.count,
            _burst_zone(zones, com_ids.index(b.community), b.zone),
        )
        for b in s.bursts
    )
    region = Region(
        name=s.name,
        communities=tuple(com_ids),
        community_names=tuple(c.name or cid for cid, c in s.communities.items()),
        population=np.array([c.population for c in s.communities.values()], dtype=np.float64),
        community_kinds=tuple(c.zone for c in s.communities.values()),
        places=geo.places,
        place_of={**places, **{z: int(p) for z, p in zip(zones.ids, zones.place, strict=True)}},
        travel=travel,
        hour_factors=np.asarray(s.travel.hour_factors or [1.0] * 24, dtype=np.float64),
        noise_sd=s.travel.noise.log_sd if s.travel.noise else 0.0,
        services=services,
        types=tuple(types),
        rates=demand_rates(s),
        profiles=np.vstack([_profile(s, t) for t in s.incident_types.values()]),
        surges=surges,
        bursts=bursts,
        horizon=s.run.horizon,
        warmup=s.run.warmup,
        place_xy=geo.xy,
        zone_ids=zones.ids,
        zone_community=zones.community,
        zone_place=zones.place,
        zone_weight=zones.weight,
        zone_choice=zones.choice,
        explicit_zones=zones.explicit,
        nearest_facility=nearest_facilities(s, travel, zones.place, places),
        return_speed_factor=s.travel.return_speed_factor,
        return_position=s.travel.return_position,
        snapper=_snapper(zones, geo.xy, s.travel.return_position),
        start=s.run.start or DEFAULT_START,
        months=months,
        month_of_day=run_months(s, s.run.horizon) if months is not None else None,
        calendars=calendars,
        overtime=tuple(float(svc.overtime) for svc in s.services.values()),
        service_travel=service_travel,
        max_cases=tuple(
            svc.caseload.max_cases if svc.caseload else 0 for svc in s.services.values()
        ),
        place_community=place_communities(
            s, places, (zones.place, zones.community), len(geo.places)
        ),
        coverage_share=tuple(svc.coverage_share for svc in s.services.values()),
        relocates=any_relocation(s),
    )
    check_region(s, region)  # every derived number finite and sane, or the field is named
    return region


def _snapper(zones: CompiledZones, xy: np.ndarray, position: str) -> Snapper | None:
    """Returning units at their nearest zone: with zones and every place located."""
    if not zones.explicit or position != "nearest_zone" or np.isnan(xy).any():
        return None  # else the trip from the way back interpolates
    return Snapper(xy, zones.place)


def _months(s: Scenario) -> np.ndarray | None:
    """(K, 12) month factors of every type's profile; None when every one is flat."""
    months = np.vstack([month_factors(_profile_of(s, t)) for t in s.incident_types.values()])
    return None if (months == 1.0).all() else months


def _burst_zone(zones: CompiledZones, community: int, zone: str | None) -> int:
    """The zone a burst happens at: the one named, else its community's heaviest zone."""
    if zone is not None:
        return zones.ids.index(zone)
    own = np.flatnonzero(zones.community == community)
    return int(own[np.argmax(zones.weight[own])])


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
    service = np.array([region.services.index(u.service) for u in units], dtype=np.int64)
    station = np.array([region.place_of[u.station] for u in units], dtype=np.int64)
    dispatch = tuple(
        compile_dispatch(resolved.dispatch[sid], region.communities) for sid in region.services
    )
    moves = tuple(
        compile_relocation(s, region, resolved, i, dispatch[i], station[service == i])
        for i in range(len(region.services))
    )
    check_relocation(s, region, resolved, moves)
    kept_service, kept_at = _places_kept(service, station, moves)
    fleet = Fleet(
        option=option,
        labels=tuple(u.label for u in units),
        service=service,
        station=station,
        station_ids=tuple(u.station for u in units),
        owner=np.array([region.communities.index(u.owner) for u in units], dtype=np.int64),
        cost_per_hour=np.array([u.cost_per_hour for u in units], dtype=np.float64),
        duty=tuple(
            _working(region, u.service, duty_intervals(u.duty, region.horizon)) for u in units
        ),
        dispatch=dispatch,
        preference=fleet_preferences(region, kept_service, kept_at),
        relocation=moves if any(m.moves for m in moves) else (),
    )
    return case_slots(fleet, region) if any(region.max_cases) else fleet


def _places_kept(
    service: np.ndarray, station: np.ndarray, moves: tuple[RelocationRule, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Services and places where their free units can stand: the units' stations and, under
    move-up, the posts (so that a search finds a unit moved there)."""
    posts = [(np.full(len(m.posts), s, dtype=np.int64), m.posts) for s, m in enumerate(moves)]
    return (
        np.concatenate([service, *(p[0] for p in posts)]),
        np.concatenate([station, *(p[1] for p in posts)]),
    )


def _working(region: Region, service: str, duty: np.ndarray) -> np.ndarray:
    """A unit's on-duty intervals: its duty inside its service's calendar, if it has one."""
    calendar = region.calendars[region.services.index(service)] if region.calendars else None
    return duty if calendar is None or calendar.always_open else intersect(duty, calendar.intervals)


def fleet_preferences(
    region: Region, service: np.ndarray, station: np.ndarray
) -> tuple[Preference, ...]:
    """The preference lists of units of ``service`` at ``station`` (place indices)."""
    snap = region.snapper  # returning units are kept at the tiles of their nearest zones
    tile_of = None if snap is None else snap.tile_of
    return preferences(service, station, len(region.services), tile_of)


def compile_dispatch(rule: Dispatch, communities: tuple[str, ...]) -> DispatchRule:
    """The model's value of one service's dispatch rule, ``communities`` in region order.

    Partners (default: every other community) become indices; a community never lends to
    itself, and a partner listed twice counts once."""
    every = range(len(communities))
    if rule.partners is None:
        lenders = tuple(tuple(o for o in every if o != c) for c in every)
    else:
        index = {cid: i for i, cid in enumerate(communities)}
        lenders = tuple(
            tuple(dict.fromkeys(index[p] for p in rule.partners.get(cid, []) if p != cid))
            for cid in communities
        )
    return DispatchRule(
        policy=rule.policy,
        lenders=lenders,
        max_travel=float(rule.max_travel) if rule.max_travel is not None else float("inf"),
        reserve=rule.reserve,
        request_delay=float(rule.request_delay),
        queue_rule=rule.queue_rule,
        from_road=rule.from_road,
    )


def check_compiled(s: Scenario) -> None:
    """Every check of compilation, without simulating (for ``intersim validate``)."""
    region = compile_region(s)
    for option in s.options:
        check_fleet(s, region, resolve_option(s, option))
