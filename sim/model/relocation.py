"""Relocation rules of the compiled model: one plain frozen value per service of a fleet.

Compiled from a dispatch rule's ``relocation`` entry (:mod:`sim.schema.relocation`): station
ids become place indices, cross-border rules become per-community tuples, and the
``coverage`` policy gets its cover (:mod:`sim.model.coverage`) and busy probability, so that
the engine's relocation policies (:mod:`sim.engine.relocation`) read numbers only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..schema.options import ResolvedOption
from ..schema.relocation import Relocation
from ..schema.scenario import Scenario
from .coverage import Cover, cover_of
from .dispatch import DispatchRule
from .sampling import mean_of

if TYPE_CHECKING:
    from .compile import Region

__all__ = ["NO_RELOCATION", "RelocationRule", "compile_relocation", "place_communities"]

NO_CAP = 1 << 30
MAX_BUSY = 0.99


@dataclass(frozen=True)
class RelocationRule:
    """How free units of one service are moved between posts.

    ``posts``: every place a unit of the service may stand at (its stations and the posts),
    ascending; ``post_community[i]``: the community ``posts[i]`` lies in (-1: none);
    ``table[k]``: the places to occupy with ``k`` free units, ascending (a place twice holds
    two units); ``move_out[c]`` / ``max_out[c]``: whether units of community ``c`` may be
    moved to posts outside it, and how many of its free units may be outside at once.
    """

    policy: str = "none"
    posts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    post_community: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    table: dict[int, tuple[int, ...]] = field(default_factory=dict)
    cover: Cover | None = None
    busy: float = 0.0
    max_moves: int = 0
    min_interval: float = 0.0
    min_gain: float = 0.0  # expected covered calls per year a move must add
    tick: float | None = None
    return_home: bool = True
    move_out: tuple[bool, ...] = ()
    max_out: tuple[int, ...] = ()
    move_cost_per_hour: float = 0.0

    @property
    def moves(self) -> bool:
        return self.policy != "none"


NO_RELOCATION = RelocationRule()


def _busy(region: Region, resolved: ResolvedOption, service: int) -> float:
    """MEXCLP's busy probability: the offered load over the units on duty, served from home."""
    n_com = len(region.communities)
    speed = float(region.hour_factors.mean())
    trips = region.trips(service)
    inside = np.diag(trips)[:n_com].astype(np.float64) * speed
    load = 0.0
    for k, t in enumerate(region.types):
        if t.service != service:
            continue
        minutes = mean_of(t.turnout) + inside + mean_of(t.on_scene)
        if t.facility >= 0:
            to_facility = trips[:n_com, t.facility] * speed
            minutes = minutes + t.transport_prob * (to_facility + mean_of(t.handover))
        load += float(region.rates[:, k] @ minutes) * t.units_needed
    units = sum(region.services.index(u.service) == service for u in resolved.units)
    return min(MAX_BUSY, load / units) if units else MAX_BUSY


def compile_relocation(
    s: Scenario,
    region: Region,
    resolved: ResolvedOption,
    service: int,
    rule: DispatchRule,
    stations: np.ndarray,
) -> RelocationRule:
    """The relocation rule of ``service`` under option ``resolved`` (``stations``: the places of
    the service's units); :data:`NO_RELOCATION` without one."""
    spec: Relocation | None = resolved.dispatch[region.services[service]].relocation
    if spec is None or not spec.moves:
        return NO_RELOCATION
    table = {
        k: tuple(sorted(region.place_of[p] for p in row)) for k, row in (spec.table or {}).items()
    }
    named = [region.place_of[p] for p in spec.posts or []]
    named += [p for row in table.values() for p in row]
    posts = np.union1d(np.asarray(stations, dtype=np.int64), np.asarray(named, dtype=np.int64))
    cover = None
    if spec.policy == "coverage":
        share = s.services[region.services[service]].coverage_share
        cover = cover_of(region, service, rule, posts, share, spec.target)
    local = [spec.by_community.get(c, spec.cross_border) for c in region.communities]
    max_moves = spec.max_moves
    if max_moves is None:
        max_moves = 1 if spec.policy == "coverage" else NO_CAP
    total = float(cover.weight.sum()) if cover is not None else 0.0
    return RelocationRule(
        policy=spec.policy,
        posts=posts.astype(np.int64),
        post_community=region.place_community[posts],
        table=table,
        cover=cover,
        busy=spec.busy_probability or _busy(region, resolved, service),
        max_moves=max_moves,
        min_interval=float(spec.min_interval),
        min_gain=spec.min_gain * total,
        tick=spec.tick,
        return_home=spec.return_to == "home",
        move_out=tuple(cb.move_out for cb in local),
        max_out=tuple(NO_CAP if cb.max_out is None else cb.max_out for cb in local),
        move_cost_per_hour=float(spec.move_cost_per_hour),
    )


def place_communities(
    s: Scenario, places: dict[str, int], zones: tuple[np.ndarray, np.ndarray], n: int
) -> np.ndarray:
    """(n,) the community each place lies in: a station's, else a zone's or a community's
    centre; -1 for a site of no community. ``places``: id -> place; ``zones``: the places of
    the zones and their communities."""
    out = np.full(n, -1, dtype=np.int64)
    zone_place, zone_community = zones
    out[np.asarray(zone_place, dtype=np.int64)] = zone_community
    communities = list(s.communities)
    for c, cid in enumerate(communities):
        out[places[cid]] = c
    for sid, st in reversed(list(s.stations.items())):
        if st.community is not None:
            out[places[sid]] = communities.index(st.community)
    return out
