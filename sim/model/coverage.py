"""Coverage: which zones a free unit standing at a place can reach within their target.

A zone's calls of a service are *covered* from a place when the mean call handling and
turnout plus the trip (the travel matrix's minutes times the mean hour factor) fit within the
response target of the zone's community, for the service's most urgent priority with a
target. Both the location models of ``intersim site`` and move-up (the ``coverage``
relocation policy, and the uncovered time measured after a run) use this one rule.

Whose units count follows the dispatch rule: under ``separate`` a unit covers only its owner's
zones; under ``mutual_aid`` it covers other communities' zones as aid, its trip plus the
request delay within the target and within ``max_travel``; under ``pooled`` every zone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .dispatch import DispatchRule
from .sampling import mean_of

if TYPE_CHECKING:
    from .compile import Region

__all__ = ["Cover", "checked_kinds", "checked_priority", "cover_of", "zone_demand"]

MINUTES_PER_YEAR = 365 * 1440.0  # as sim.model.compile's, which imports this module


def checked_priority(region: Region, service: str) -> int | None:
    """The most urgent priority of ``service`` with a response target somewhere."""
    s = region.services.index(service)
    found = [
        t.priority
        for k, t in enumerate(region.types)
        if t.service == s and np.isfinite(t.target_minutes).any() and region.rates[:, k].any()
    ]
    return min(found) if found else None


def checked_kinds(region: Region, service: str, priority: int) -> list[int]:
    """The incident types of ``service`` of ``priority``."""
    s = region.services.index(service)
    return [k for k, t in enumerate(region.types) if t.service == s and t.priority == priority]


def zone_demand(
    region: Region, kinds: list[int], target: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(Z,) calls per year of the types ``kinds`` where their target applies, and (Z,) the
    longest trip within it: the target (``target`` minutes for every zone, else each
    community's) less the mean call handling and turnout; -inf where no call has a target."""
    n_zones = len(region.zone_ids)
    demand = np.zeros(n_zones)
    limit = np.full(n_zones, math.inf)
    pre_sum = np.zeros(n_zones)
    for c in range(len(region.communities)):
        for k in kinds:
            t = region.types[k]
            minutes = float(t.target_minutes[c]) if target is None else target
            if not math.isfinite(minutes) or region.rates[c, k] <= 0:
                continue
            zones, probs = region.zone_choice[c][k]
            calls = region.rates[c, k] * MINUTES_PER_YEAR * probs
            demand[zones] += calls
            limit[zones] = np.minimum(limit[zones], minutes)
            pre_sum[zones] += calls * (mean_of(t.call_handling) + mean_of(t.turnout))
    pre = np.divide(pre_sum, demand, out=np.zeros(n_zones), where=demand > 0)
    return demand, np.where(demand > 0, limit - pre, -math.inf)


@dataclass(frozen=True)
class Cover:
    """Which zones units of one service cover from which places.

    ``own[i, z]``: a unit standing at ``places[i]`` covers zone ``z`` of its owner's community;
    ``aid[i, z]``: it covers zone ``z`` of another community. ``weight``: (Z,) the service's
    calls per year with a target; ``share``: a community counts as covered while free units
    cover at least this share of its weight.
    """

    places: np.ndarray  # (P',) place indices
    own: np.ndarray  # (P', Z) bool
    aid: np.ndarray  # (P', Z) bool
    weight: np.ndarray  # (Z,)
    zone_community: np.ndarray  # (Z,)
    share: float

    def index(self) -> dict[int, int]:
        """Place -> its row."""
        return {int(p): i for i, p in enumerate(self.places)}

    def reach(self, row: int, owner: int) -> np.ndarray:
        """(Z,) the zones a unit of ``owner`` standing at ``places[row]`` covers."""
        return np.where(self.zone_community == owner, self.own[row], self.aid[row])


def cover_of(
    region: Region,
    service: int,
    rule: DispatchRule,
    places: np.ndarray,
    share: float,
    target: float | None = None,
) -> Cover | None:
    """The cover of ``service`` from ``places`` under ``rule``; None without a target."""
    sid = region.services[service]
    priority = checked_priority(region, sid)
    if priority is None and target is None:
        return None
    kinds = checked_kinds(region, sid, priority) if priority is not None else []
    if target is not None and not kinds:
        kinds = [k for k, t in enumerate(region.types) if t.service == service]
    weight, limit = zone_demand(region, kinds, target)
    places = np.asarray(places, dtype=np.int64)
    trips = region.trips(service)
    trip = trips[np.ix_(places, region.zone_place)].astype(np.float64)
    trip *= float(region.hour_factors.mean())
    own = trip <= limit[None, :]
    if rule.policy == "separate":
        aid = np.zeros_like(own)
    elif rule.policy == "mutual_aid":
        aid = (trip + rule.request_delay <= limit[None, :]) & (trip <= rule.max_travel)
    else:
        aid = own
    return Cover(places, own, aid, weight, np.asarray(region.zone_community), share)
