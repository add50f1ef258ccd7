"""Dispatch policies: which free unit answers a call, and which waiting call a freed unit takes.

A policy is a small object with two methods; the engine calls them and knows nothing of their
rules, so adding a policy means adding a class here and a name in :data:`POLICIES`.

- ``choose_unit(view, service, community, t)`` -> ``(unit, delay)`` or ``None``
- ``choose_call(view, unit, t)`` -> ``(incident, community, delay)`` or ``None``

``view`` is the engine: it offers ``free[s]`` (free units of service ``s``),
``free_by_owner[s][c]``,
``head(unit, c)`` (the first call waiting in community ``c`` that the unit may take, as
``(priority, t_ready, incident)``),
``travel`` (minutes between places), ``expected_travel(unit, place, t)`` and ``hour_factor(t)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from ..schema.scenario import Dispatch

if TYPE_CHECKING:
    from .loop import Engine, Unit

__all__ = ["POLICIES", "MutualAid", "Policy", "Pooled", "Separate", "make_policy"]

INF = float("inf")


class Policy(Protocol):
    def choose_unit(
        self, view: Engine, service: int, community: int, t: float
    ) -> tuple[Unit, float] | None: ...

    def choose_call(self, view: Engine, unit: Unit, t: float) -> tuple[int, int, float] | None: ...


def closest(
    view: Engine, units: Iterable[Unit], place: int, t: float, limit: float = INF
) -> Unit | None:
    """The free unit with the shortest expected trip to ``place`` (ties: lowest index), or None
    if none is within ``limit`` minutes (at the current hour's speed)."""
    best, best_trip, best_index = None, INF, 0
    rows = view.travel
    for u in units:
        # at its station (the common case, inlined for speed) or on its way back
        trip = rows[u.station][place] if t >= u.ret_end else view.expected_travel(u, place, t)
        if trip < best_trip or (trip == best_trip and u.index < best_index):
            best, best_trip, best_index = u, trip, u.index
    if best is not None and limit < INF and best_trip * view.hour_factor(t) > limit:
        return None
    return best


def best_waiting(
    view: Engine, unit: Unit, communities: Iterable[int], t: float, rule: str, limit: float = INF
) -> tuple[int, int] | None:
    """Of the calls waiting in ``communities`` for ``unit``'s service: the most urgent, then the
    oldest (``rule='oldest'``) or the nearest (``rule='nearest'``).

    Returns (incident, community)."""
    scale = view.hour_factor(t)
    best, best_key = None, None
    for c in communities:
        head = view.head(unit, c)
        if head is None:
            continue
        priority, t_ready, incident = head
        trip = view.expected_travel(unit, c, t)
        if trip * scale > limit:
            continue
        key = (priority, trip, t_ready) if rule == "nearest" else (priority, t_ready, trip)
        if best_key is None or key < best_key:
            best, best_key = (incident, c), key
    return best


class Separate:
    """A community's calls are served only by the units it owns."""

    def __init__(self, rule: Dispatch, n_communities: int) -> None:
        self.rule = rule

    def choose_unit(
        self, view: Engine, service: int, community: int, t: float
    ) -> tuple[Unit, float] | None:
        unit = closest(view, view.free_by_owner[service][community].values(), community, t)
        return None if unit is None else (unit, 0.0)

    def choose_call(self, view: Engine, unit: Unit, t: float) -> tuple[int, int, float] | None:
        head = view.head(unit, unit.owner)
        return None if head is None else (head[2], unit.owner, 0.0)


class Pooled:
    """Closest available unit of any community ("automatic aid")."""

    def __init__(self, rule: Dispatch, n_communities: int) -> None:
        self.rule = rule
        self.all = range(n_communities)

    def choose_unit(
        self, view: Engine, service: int, community: int, t: float
    ) -> tuple[Unit, float] | None:
        unit = closest(view, view.free[service].values(), community, t)
        return None if unit is None else (unit, 0.0)

    def choose_call(self, view: Engine, unit: Unit, t: float) -> tuple[int, int, float] | None:
        found = best_waiting(view, unit, self.all, t, self.rule.queue_rule)
        return None if found is None else (*found, 0.0)


class MutualAid:
    """Own units first; when none is free, the closest free unit of a partner community
    within ``max_travel``, if the lender keeps ``reserve`` free units, after ``request_delay``.
    A freed unit serves its own community's waiting calls before any partner's."""

    def __init__(
        self, rule: Dispatch, n_communities: int, communities: tuple[str, ...] = ()
    ) -> None:
        self.rule = rule
        self.limit = rule.max_travel if rule.max_travel is not None else INF
        every = range(n_communities)
        if rule.partners is None:
            self.lenders = [[o for o in every if o != c] for c in every]
        else:
            index = {cid: i for i, cid in enumerate(communities)}
            self.lenders = [
                [index[p] for p in rule.partners.get(cid, []) if p != cid] for cid in communities
            ]
        self.borrowers = [[c for c in every if o in self.lenders[c]] for o in every]

    def choose_unit(
        self, view: Engine, service: int, community: int, t: float
    ) -> tuple[Unit, float] | None:
        by_owner = view.free_by_owner[service]
        own = closest(view, by_owner[community].values(), community, t)
        if own is not None:
            return own, 0.0
        reserve = self.rule.reserve
        candidates = [
            u
            for lender in self.lenders[community]
            if len(by_owner[lender]) > reserve
            for u in by_owner[lender].values()
        ]
        lent = closest(view, candidates, community, t, self.limit)
        return None if lent is None else (lent, self.rule.request_delay)

    def choose_call(self, view: Engine, unit: Unit, t: float) -> tuple[int, int, float] | None:
        head = view.head(unit, unit.owner)
        if head is not None:
            return head[2], unit.owner, 0.0
        if len(view.free_by_owner[unit.service][unit.owner]) < self.rule.reserve:
            return None
        found = best_waiting(
            view, unit, self.borrowers[unit.owner], t, self.rule.queue_rule, self.limit
        )
        return None if found is None else (*found, self.rule.request_delay)


POLICIES: dict[str, type[Separate] | type[Pooled] | type[MutualAid]] = {
    "separate": Separate,
    "pooled": Pooled,
    "mutual_aid": MutualAid,
}


def make_policy(rule: Dispatch, communities: tuple[str, ...]) -> Policy:
    """The policy object for one service's dispatch rule."""
    if rule.policy == "mutual_aid":
        return MutualAid(rule, len(communities), communities)
    return POLICIES[rule.policy](rule, len(communities))
