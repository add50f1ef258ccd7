"""A location problem as arrays: candidate sites, demand zones, trips, and what any placement of
units scores.

Built from the compiled model (:func:`build_instance`), so that the optimisation and the
simulation see the same places and travel times:

* the *trip* from site ``i`` to zone ``j`` is the travel matrix's minutes times the mean hour
  factor (the travel noise has median 1);
* the *demand* of a zone is its calls per year of the service's most urgent priority that has
  a response target (the priority ``size`` and ``coalitions`` check), where the zone's
  community has that target;
* a call is *covered* by a site when call handling and turnout (their means) plus the trip
  fit within its community's target: ``trip <= reach``;
* the *busy fraction* ``q`` of MEXCLP is the Erlang estimate's: the offered load of all the
  service's calls over the units on duty on average.

A *placement* is a vector of unit counts, one per site. :func:`scores` gives its covered
share, expected covered share (MEXCLP), mean and 90th percentile trip to the nearest open
site, and the covered share of each community.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..analysis.erlang import estimate
from ..engine.policies import Pool
from ..model.compile import Fleet, Region
from ..model.coverage import checked_kinds, checked_priority, zone_demand

__all__ = ["P90", "Instance", "Scores", "build_instance", "checked_priority", "scores"]

P90 = 0.9
MAX_BUSY = 0.99  # an overloaded fleet still leaves MEXCLP a (tiny) chance of a free unit


@dataclass(frozen=True)
class Instance:
    """Sites x zones and the fleet to place (see the module docstring)."""

    sites: tuple[str, ...]  # (I,) station ids
    zones: tuple[str, ...]  # (J,) zone ids
    communities: tuple[str, ...]
    trip: np.ndarray  # (I, J) minutes
    demand: np.ndarray  # (J,) calls per year
    reach: np.ndarray  # (J,) longest trip that still meets the target, minutes
    community: np.ndarray  # (J,) community index
    units: int  # units to place
    busy: float  # MEXCLP's busy fraction q
    today: np.ndarray  # (I,) units at each site today

    @cached_property
    def covers(self) -> np.ndarray:
        """(I, J) bool: the site reaches the zone's calls within their target."""
        return np.asarray(self.trip <= self.reach[None, :])

    @property
    def total(self) -> float:
        return float(self.demand.sum())

    def community_demand(self) -> np.ndarray:
        """Calls per year of each community (C,)."""
        return np.bincount(self.community, self.demand, minlength=len(self.communities))

    def best_coverage(self) -> np.ndarray:
        """(C,) the covered share of each community with every site open: the most any
        placement can give it."""
        return self._covered_share(np.asarray(self.covers.any(axis=0)))

    def _covered_share(self, covered: np.ndarray) -> np.ndarray:
        total = self.community_demand()
        got = np.bincount(self.community, self.demand * covered, minlength=len(total))
        return np.divide(got, total, out=np.ones_like(got), where=total > 0)


@dataclass(frozen=True)
class Scores:
    """What a placement scores in every model (shares of the demand; trips in minutes)."""

    covered: float  # maximal covering: share of calls with a site within reach
    expected: float  # MEXCLP: expected share with a free unit within reach
    mean_trip: float  # p-median: mean trip to the nearest open site
    p90_trip: float  # 90th percentile of that trip
    by_community: dict[str, float]  # covered share of each community


def nearest_trip(inst: Instance, open_sites: np.ndarray) -> np.ndarray:
    """(J,) trip from the nearest open site (inf where none is open)."""
    if not open_sites.any():
        return np.full(len(inst.zones), math.inf)
    return np.asarray(inst.trip[open_sites].min(axis=0))


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value with at least ``q`` of the weight at or below it."""
    if weights.sum() <= 0:
        return math.nan
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order]) / weights.sum()
    at = min(int(np.searchsorted(cum, q - 1e-12)), len(cum) - 1)
    return float(values[order][at])


def scores(inst: Instance, counts: np.ndarray) -> Scores:
    """The placement ``counts`` (units per site) in every model."""
    counts = np.asarray(counts)
    open_sites = counts > 0
    total = inst.total or 1.0
    covered = np.asarray(inst.covers[open_sites].any(axis=0))
    units_in_reach = counts @ inst.covers
    expected = float(inst.demand @ (1.0 - inst.busy**units_in_reach)) / total
    trip = nearest_trip(inst, open_sites)
    shares = inst._covered_share(covered)
    return Scores(
        covered=float(inst.demand @ covered) / total,
        expected=expected,
        mean_trip=float(inst.demand @ trip) / total,
        p90_trip=weighted_quantile(trip, inst.demand, P90),
        by_community={c: float(v) for c, v in zip(inst.communities, shares, strict=True)},
    )


# --- from the compiled model ------------------------------------------------------------------
def _busy(region: Region, fleet: Fleet, service: str, units: int) -> float:
    """Offered load over the units on duty on average, scaled to ``units`` units."""
    est = estimate(region, {fleet.option: fleet})
    row = est[
        (est["service"] == service) & (est["community"] == "all") & (est["fleet"] == Pool.REGION)
    ]
    if row.empty or units <= 0:
        return 0.0
    today = int((fleet.service == region.services.index(service)).sum())
    on_duty = float(row["units"].iloc[0]) / today if today else 1.0
    q = float(row["offered_load"].iloc[0]) / (on_duty * units)
    return min(MAX_BUSY, max(0.0, q))


def build_instance(
    region: Region, fleet: Fleet, service: str, sites: tuple[str, ...], units: int | None
) -> Instance:
    """The location problem of ``service`` over the candidate ``sites`` (station ids of the
    region), with today's units those of ``fleet`` and ``units`` to place (default: today's
    number)."""
    priority = checked_priority(region, service)
    assert priority is not None, "the caller checks that the service has a target"
    demand, reach = zone_demand(region, checked_kinds(region, service, priority))
    places = np.array([region.place_of[s] for s in sites], dtype=np.int64)
    factor = float(region.hour_factors.mean())
    s = region.services.index(service)
    trip = region.trips(s)[np.ix_(places, region.zone_place)].astype(np.float64) * factor
    mine = fleet.service == s
    at = {sid: i for i, sid in enumerate(sites)}
    today = np.zeros(len(sites), dtype=np.int64)
    for station in np.asarray(fleet.station_ids, dtype=object)[mine]:
        today[at[str(station)]] += 1
    n = int(today.sum()) if units is None else units
    return Instance(
        sites=sites,
        zones=tuple(region.zone_ids),
        communities=tuple(region.communities),
        trip=np.asarray(trip, dtype=np.float64),
        demand=demand,
        reach=reach,
        community=np.asarray(region.zone_community, dtype=np.int64),
        units=n,
        busy=_busy(region, fleet, service, n),
        today=today,
    )
