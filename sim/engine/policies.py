"""Dispatch policies: which free unit answers a call, and which waiting call a freed unit takes.

A policy is one class here, registered under the name scenarios use (:func:`register`; a
scenario file can name it once the schema's ``Policy`` lists it); the engine makes one object
per service from the compiled rule (:func:`make_policy`) and knows nothing of its rules. A
policy answers two questions during a run:

- ``choose_unit(view, service, community, place, t)`` -> ``(unit, delay)`` or ``None``
- ``choose_call(view, unit, t)`` -> ``(incident, community, delay)`` or ``None``

``view`` is the engine: it offers ``free[s]`` (free units of service ``s``),
``free_by_owner[s][c]`` (kept for a policy whose ``by_owner`` is true), ``positions[s]`` (the
free units by where they are, which :func:`~sim.engine.nearest.nearest_free` walks instead of
scanning the fleet),
``head(unit, c)`` (the first call waiting in community ``c`` that the unit may take, as
``(priority, t_ready, incident)``), ``queues[s][c]`` (the calls of service ``s`` waiting in
community ``c``, a heap of such triples) and ``crews`` (the units already sent to each call
served in part: while it is empty, a queue's first call is its head for every unit),
``travel[s]`` (minutes between places for units of service ``s``),
``expected_travel(unit, place, t)`` and ``hour_factor(t)``.

And, as class attributes, two questions asked without a run: its :class:`QueueModel` (how the
Erlang C estimate, overload warnings and analytic sizing see it) and whether a community's
calls may be served by other communities' units (``borrows``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar, TypeVar

from ..model.dispatch import DispatchRule
from .nearest import INF, nearest_free, scan

if TYPE_CHECKING:
    from .loop import Engine, Unit

__all__ = [
    "OWN_FLEET",
    "OWN_WITH_OVERFLOW",
    "POLICIES",
    "POOLED_REGION",
    "MutualAid",
    "Policy",
    "Pool",
    "Pooled",
    "QueueModel",
    "Separate",
    "make_policy",
    "policy_class",
    "register",
]


class Pool(StrEnum):
    """A fleet of the Erlang C estimate: its ``fleet`` column."""

    OWN = "separate"  # each community's own units: one M/M/c queue per community
    REGION = "pooled"  # every unit of the service: one M/M/c queue for the region


@dataclass(frozen=True)
class QueueModel:
    """How queueing theory sees a policy.

    ``wait``: the fleet whose Erlang C probability of waiting predicts the share of calls not
    dispatched at once (the simulation's ``waited``). ``load``: the fleet that carries the
    calls, whose utilisation says whether waits stay bounded and which analytic sizing sizes.
    """

    name: str
    wait: Pool
    load: Pool
    description: str  # the model in a few words, for tables


OWN_FLEET = QueueModel("own fleet", Pool.OWN, Pool.OWN, "separate M/M/c per community")
POOLED_REGION = QueueModel("pooled region", Pool.REGION, Pool.REGION, "one pooled M/M/c")
OWN_WITH_OVERFLOW = QueueModel(
    "own fleet, overflow to partners",
    Pool.OWN,  # a call that finds its own units busy waits, at least the request delay
    Pool.REGION,  # ... but partners serve the overflow: the region carries the load
    "separate M/M/c per community, overflow to partners",
)


class Policy(ABC):
    """A dispatch policy for one service, made from its compiled rule."""

    name: ClassVar[str]  # as in scenario files
    queue_model: ClassVar[QueueModel]
    borrows: ClassVar[bool]  # whether a community's calls may get other communities' units
    by_owner: ClassVar[bool] = True  # whether it reads view.free_by_owner (else kept empty)

    def __init__(self, rule: DispatchRule) -> None:
        self.rule = rule

    @abstractmethod
    def choose_unit(
        self, view: Engine, service: int, community: int, place: int, t: float
    ) -> tuple[Unit, float] | None:
        """The unit to send to a call of ``community`` now, and its delay; None: let it wait."""

    @abstractmethod
    def choose_call(self, view: Engine, unit: Unit, t: float) -> tuple[int, int, float] | None:
        """The waiting call that the freed ``unit`` takes: (incident, community, delay)."""

    def finder(self) -> Finder | None:
        """For a policy whose ``choose_unit`` ignores the caller's community and sends at
        once: ``find(view, service, place, t) -> unit or None``, the same choice, which the
        engine calls directly (a call and a tuple less per call). None: ask ``choose_unit``."""
        return None


Finder = Callable[["Engine", int, int, float], "Unit | None"]

POLICIES: dict[str, type[Policy]] = {}
"""Every dispatch policy by name, filled by :func:`register`."""

P = TypeVar("P", bound=type[Policy])


def register(cls: P) -> P:
    """Class decorator: make ``cls`` the policy of the name ``cls.name``."""
    if cls.name in POLICIES:
        raise ValueError(f"dispatch policy {cls.name!r} is registered twice")
    POLICIES[cls.name] = cls
    return cls


def policy_class(name: str) -> type[Policy]:
    """The policy registered under ``name``."""
    try:
        return POLICIES[name]
    except KeyError:
        known = ", ".join(sorted(POLICIES))
        raise ValueError(f"unknown dispatch policy {name!r} (known: {known})") from None


def make_policy(rule: DispatchRule) -> Policy:
    """The policy object for one service's compiled dispatch rule."""
    return policy_class(rule.policy)(rule)


def best_waiting(
    view: Engine, unit: Unit, communities: Iterable[int], t: float, rule: str, limit: float = INF
) -> tuple[int, int] | None:
    """Of the calls waiting in ``communities`` for ``unit``'s service: the most urgent, then the
    oldest (``rule='oldest'``) or the nearest (``rule='nearest'``).

    Returns (incident, community)."""
    if rule == "oldest" and limit == INF:
        return _oldest_waiting(view, unit, communities, t)
    scale = view.hour_factor(t)
    best, best_key = None, None
    for c in communities:
        head = view.head(unit, c)
        if head is None:
            continue
        priority, t_ready, incident = head
        trip = view.expected_travel(unit, view.incident_place[incident], t)
        if trip * scale > limit:
            continue
        key = (priority, trip, t_ready) if rule == "nearest" else (priority, t_ready, trip)
        if best_key is None or key < best_key:
            best, best_key = (incident, c), key
    return best


def _oldest_waiting(
    view: Engine, unit: Unit, communities: Iterable[int], t: float
) -> tuple[int, int] | None:
    """:func:`best_waiting` by the oldest rule without a travel limit: the trip, last in the
    key, is worked out only to break a tie (the same choice, without a trip per candidate)."""
    queues, crews = view.queues[unit.service], view.crews
    best: tuple[int, int] | None = None
    best_priority, best_ready, best_trip = 0, 0.0, INF
    known = False  # whether best_trip is the best's trip
    for c in communities:
        queue = queues[c]
        if not queue:
            continue
        head = view.head(unit, c) if crews else queue[0]
        if head is None:
            continue
        priority, t_ready, incident = head
        if best is not None:
            if priority != best_priority or t_ready != best_ready:
                if (priority, t_ready) > (best_priority, best_ready):
                    continue
            else:  # a tie: the nearer call, else the first one met
                if not known:
                    place = view.incident_place[best[0]]
                    best_trip, known = view.expected_travel(unit, place, t), True
                trip = view.expected_travel(unit, view.incident_place[incident], t)
                if trip < best_trip:
                    best, best_trip = (incident, c), trip
                continue
        best, best_priority, best_ready, known = (incident, c), priority, t_ready, False
    return best


@register
class Separate(Policy):
    """A community's calls are served only by the units it owns."""

    name = "separate"
    queue_model = OWN_FLEET
    borrows = False

    def choose_unit(
        self, view: Engine, service: int, community: int, place: int, t: float
    ) -> tuple[Unit, float] | None:
        unit = scan(view, view.free_by_owner[service][community].values(), place, t)
        return None if unit is None else (unit, 0.0)

    def choose_call(self, view: Engine, unit: Unit, t: float) -> tuple[int, int, float] | None:
        head = view.head(unit, unit.owner)
        return None if head is None else (head[2], unit.owner, 0.0)


@register
class Pooled(Policy):
    """Closest available unit of any community ("automatic aid")."""

    name = "pooled"
    queue_model = POOLED_REGION
    borrows = True
    by_owner = False

    def __init__(self, rule: DispatchRule) -> None:
        super().__init__(rule)
        self.all = range(len(rule.lenders))
        self.oldest = rule.queue_rule == "oldest"

    def choose_unit(
        self, view: Engine, service: int, community: int, place: int, t: float
    ) -> tuple[Unit, float] | None:
        unit = nearest_free(view, service, place, t)
        return None if unit is None else (unit, 0.0)

    def finder(self) -> Finder:
        return nearest_free

    def choose_call(self, view: Engine, unit: Unit, t: float) -> tuple[int, int, float] | None:
        if self.oldest:  # (best_waiting's first case, called directly)
            found = _oldest_waiting(view, unit, self.all, t)
        else:
            found = best_waiting(view, unit, self.all, t, self.rule.queue_rule)
        return None if found is None else (*found, 0.0)


@register
class MutualAid(Policy):
    """Own units first; when none is free, the closest free unit of a partner community
    within ``max_travel``, if the lender keeps ``reserve`` free units, after ``request_delay``.
    A freed unit serves its own community's waiting calls before any partner's."""

    name = "mutual_aid"
    queue_model = OWN_WITH_OVERFLOW
    borrows = True

    def __init__(self, rule: DispatchRule) -> None:
        super().__init__(rule)
        self.limit = rule.max_travel
        self.lenders = rule.lenders
        self.lender_sets = tuple(frozenset(lenders) for lenders in rule.lenders)
        self.borrowers = rule.borrowers()

    def choose_unit(
        self, view: Engine, service: int, community: int, place: int, t: float
    ) -> tuple[Unit, float] | None:
        by_owner = view.free_by_owner[service]
        own = scan(view, by_owner[community].values(), place, t)
        if own is not None:
            return own, 0.0
        reserve = self.rule.reserve
        lenders = self.lender_sets[community]

        def lendable(u: Unit) -> bool:  # a partner's unit, and the partner keeps its reserve
            return u.owner in lenders and len(by_owner[u.owner]) > reserve

        lent = nearest_free(view, service, place, t, self.limit, lendable)
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
