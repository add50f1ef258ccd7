"""Checks of the compiled model: every number derived from a scenario is finite and sane.

The scenario format bounds each field (:mod:`sim.schema`), but some numbers exist only once
fields are combined: a trip derived from two locations and a speed, a rate scaled by
``demand_scale``, a profile and the surges, the mean of a lognormal given by median and
``log_sd``, the partners a lent unit can reach within ``max_travel``. They are checked here,
right after compilation, and a scenario that fails is refused with the field they come from
(file and line when the scenario was read from a file), never simulated into NaN or negative
response times. ``intersim validate`` runs the same checks, so whatever validates also runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from ..schema.distributions import Distribution, Normal
from ..schema.durations import MAX_MINUTES
from ..schema.load import scenario_error
from ..schema.options import ResolvedOption, ResolvedUnit, coverage_gaps
from ..schema.relocationcheck import relocation_path
from ..schema.scenario import Scenario
from .sampling import mean_of
from .scenario_distributions import compile_distribution

if TYPE_CHECKING:
    from .compile import Region
    from .relocation import RelocationRule

__all__ = ["MAX_ARRIVALS", "check_fleet", "check_region", "check_relocation", "region_problems"]

MAX_ARRIVALS = 1e12  # candidate arrivals of one community and type in one replication
Path = tuple[str | int, ...]
Found = Iterator[tuple[Path, str]]


def check_region(s: Scenario, region: Region) -> None:
    """Refuse (ScenarioError) a compiled region with a number out of bounds."""
    found = list(region_problems(s, region))
    if found:
        raise scenario_error(s, found)


def check_fleet(s: Scenario, region: Region, resolved: ResolvedOption) -> None:
    """Refuse an option in which some incident type of some community could never be served
    once travel is known: under ``mutual_aid`` with ``max_travel``, only partners whose units
    reach the community within it (from their stations, at the fastest hour) may lend."""
    fastest = float(region.hour_factors.min())

    def reach(unit: ResolvedUnit, community: str) -> bool:
        rule = resolved.dispatch[unit.service]
        if rule.max_travel is None:
            return True
        trips = region.trips(region.services.index(unit.service))
        trip = trips[region.place_of[unit.station], region.place_of[community]]
        return bool(trip * fastest <= rule.max_travel)

    found = list(coverage_gaps(s, resolved.name, resolved, reach))
    if found:
        raise scenario_error(s, found)


def check_relocation(
    s: Scenario, region: Region, resolved: ResolvedOption, moves: tuple[RelocationRule, ...]
) -> None:
    """Refuse a coverage policy on a service without a response target to cover."""
    found = [
        (
            (*relocation_path(s, resolved.name, sid), "policy"),
            f"coverage needs a response target: {sid} has none with calls; give `target`",
        )
        for sid, rule in zip(region.services, moves, strict=True)
        if rule.policy == "coverage" and (rule.cover is None or rule.cover.weight.sum() <= 0)
    ]
    if found:
        raise scenario_error(s, found)


def region_problems(s: Scenario, region: Region) -> Found:
    """Numbers of the compiled region that are not finite or beyond their bounds."""
    yield from _travel(s, region)
    yield from _profiles(s, region)
    yield from _rates(s, region)
    yield from _durations(s)
    yield from _calendars(s, region)


def _calendars(s: Scenario, region: Region) -> Found:
    """A calendar of a service that never opens during the run (all its days are holidays)."""
    for sid, calendar in zip(region.services, region.calendars, strict=False):
        if calendar is not None and not (calendar.intervals[:, 0] < region.horizon).any():
            yield (
                ("services", sid, "calendar"),
                f"calendar '{calendar.name}' is never open during the run: every working day "
                "of it before the horizon is a holiday",
            )


def _minutes(value: float) -> str:
    if not np.isfinite(value):
        return "not a finite number of minutes"
    return f"{value:,.0f} minutes ({value / 525_600:,.0f} years)"


def _trip_source(s: Scenario, a: str, b: str) -> Path:
    """The field a trip between places ``a`` and ``b`` comes from."""
    m = s.travel.matrix
    if b in m.get(a, {}):
        return ("travel", "matrix", a, b)
    if a in m.get(b, {}):
        return ("travel", "matrix", b, a)
    if a == b and a in s.travel.inside:
        return ("travel", "inside", a)
    if a == b:
        return ("communities", a, "area_km2")
    return ("travel", "speed_kmh")


def _travel(s: Scenario, region: Region) -> Found:
    t = region.travel
    with np.errstate(invalid="ignore"):
        bad = np.triu(~(np.isfinite(t) & (t >= 0) & (t <= MAX_MINUTES)))
    if not bad.any():
        return
    rows, cols = np.nonzero(bad)
    a, b = region.places[rows[0]], region.places[cols[0]]
    more = f" (and {len(rows) - 1:,} more pair(s))" if len(rows) > 1 else ""
    yield (
        _trip_source(s, a, b),
        f"travel from '{a}' to '{b}' is {_minutes(float(t[rows[0], cols[0]]))}: beyond 50 "
        f"years{more}; check the locations, area_km2 and travel.speed_kmh",
    )


def _profile_path(s: Scenario, tid: str) -> Path:
    t = s.incident_types[tid]
    name = t.profile or s.services[t.service].profile
    return ("profiles", name) if name is not None else ("incident_types", tid)


def _profiles(s: Scenario, region: Region) -> Found:
    for k, spec in enumerate(region.types):
        p = region.profiles[k]
        if not (np.isfinite(p).all() and p.max() > 0):
            yield (
                _profile_path(s, spec.id),
                f"the demand profile of {spec.id} cannot be scaled to mean 1 (its values are "
                "too small or too large); use values between 0.001 and 1000",
            )


def _rate_path(s: Scenario, tid: str) -> Path:
    t = s.incident_types[tid]
    return (
        "incident_types",
        tid,
        "rate_per_1000" if t.rate_per_1000 is not None else "rate_per_year",
    )


def _rates(s: Scenario, region: Region) -> Found:
    surge = np.ones(region.rates.shape)
    for sg in region.surges:
        cover = np.outer(sg.communities, sg.types)
        surge = np.where(cover, np.maximum(surge, sg.multiplier), surge)
    with np.errstate(invalid="ignore", over="ignore"):
        season = region.months.max(axis=1) if region.months is not None else 1.0
        peak = region.rates * region.profiles.max(axis=1) * season * surge * region.horizon
        bad = ~(np.isfinite(peak) & (peak <= MAX_ARRIVALS))
    for k in np.nonzero(bad.any(axis=0))[0]:
        c = int(np.nonzero(bad[:, k])[0][0])
        tid = region.types[k].id
        yield (
            _rate_path(s, tid),
            f"{tid} in '{region.communities[c]}' would need {peak[c, k]:.3g} candidate arrivals "
            f"in one replication (over {MAX_ARRIVALS:.0e}): the rate times demand_scale, the "
            "profile's peak and the surges is beyond any region",
        )


def _mean_bound(dist: Distribution) -> float:
    if isinstance(dist, Normal):  # truncated at 0: its mean is below mean + sd
        return dist.mean + dist.sd
    return mean_of(compile_distribution(dist))


def _durations(s: Scenario) -> Found:
    for tid, t in s.incident_types.items():
        fields: list[tuple[Path, Distribution]] = [
            (("incident_types", tid, name), getattr(t, name))
            for name in ("call_handling", "turnout", "on_scene")
        ]
        if t.transport is not None:
            fields.append((("incident_types", tid, "transport", "handover"), t.transport.handover))
        for path, dist in fields:
            with np.errstate(over="ignore"):
                mean = _mean_bound(dist)
            if not (np.isfinite(mean) and mean <= MAX_MINUTES):
                yield path, f"its mean is {_minutes(mean)}: beyond 50 years"
