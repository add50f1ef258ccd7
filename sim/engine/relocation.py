"""Relocation policies: which free units move to which posts while others are busy (move-up).

A policy is one class here, registered under the name scenarios use (:func:`register`; the
schema's ``RelocationPolicy`` lists the names); the engine makes one object per service whose
rule moves units (:func:`make_movers`) and calls it at the moments that matter: a call
dispatched or queued, a unit freed, a unit coming on or going off duty, and every ``tick``
minutes when the rule has one. The policy answers one question, ``moves(view, t)``: the moves
to make now, each ``(unit, post)``, yielded one at a time so that each sees the last applied.

A move is a way back to a new post: the unit's ``station`` becomes the post (its ``home``
station is kept), it drives there at the return speed from where it is, and it stays free all
the way, kept by :mod:`sim.engine.positions` like a unit heading home, so that a search finds
it on the road. Under the interpolated return rule a unit on the road has no place of its own
and is moved only once it stands at a post. Moves are logged (unit, start, arrival, from, to).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from array import array
from collections import Counter
from collections.abc import Iterator
from operator import attrgetter
from typing import TYPE_CHECKING, ClassVar, TypeVar

import numpy as np

from ..model.relocation import NO_CAP, RelocationRule
from .positions import zone_at

if TYPE_CHECKING:
    from .loop import Engine, Unit

__all__ = ["MOVERS", "Mover", "make_movers", "register"]

Move = tuple["Unit", int]
BIG = 1e18
_index = attrgetter("index")
_station = attrgetter("station")


class Mover(ABC):
    """A relocation policy for one service, made from its compiled rule."""

    name: ClassVar[str]

    def __init__(self, rule: RelocationRule, view: Engine, service: int) -> None:
        self.rule, self.service = rule, service
        self.community = {
            int(p): int(c) for p, c in zip(rule.posts, rule.post_community, strict=True)
        }
        self.capped = any(cap < NO_CAP for cap in rule.max_out)
        self.log_unit, self.log_from, self.log_to = array("i"), array("i"), array("i")
        self.log_start, self.log_arrive = array("d"), array("d")
        self._speed = 1.0 / view.region.return_speed_factor
        self._snap = view.region.snapper
        self._trips = view.travel[service]  # rows of trips from each place, read in place

    @abstractmethod
    def moves(self, view: Engine, t: float) -> Iterator[Move]:
        """The moves to make at time ``t``, one at a time (each applied before the next)."""

    # -- what the engine calls --------------------------------------------------------------
    def post_after_job(self, unit: Unit) -> int:
        """Where ``unit`` heads when its job ends: its home station or its post."""
        return unit.home if self.rule.return_home else unit.station

    def event(self, view: Engine, t: float) -> None:
        """Make the moves the policy asks for now, at most ``max_moves``."""
        budget = self.rule.max_moves
        if budget <= 0 or self.settled(view):
            return
        for unit, post in self.moves(view, t):
            self._apply(view, unit, post, t)
            budget -= 1
            if not budget:
                break

    def settled(self, view: Engine) -> bool:
        """A quick test that no move is needed now (default: never sure)."""
        return False

    def ticks(self, view: Engine) -> Iterator[object]:
        """A SimPy process: reconsider the posts every ``tick`` minutes."""
        env, every = view.env, self.rule.tick
        assert every is not None
        while True:
            yield env.timeout(every)
            self.event(view, env.now)

    # -- helpers of the policies ------------------------------------------------------------
    def here(self, unit: Unit, t: float) -> int | None:
        """The place ``unit`` is at now: its post, the zone of its way, or None (interpolated)."""
        if t >= unit.ret_end:
            return unit.station
        way = unit.ret_way
        if way is None:
            return None
        return zone_at(unit, t)

    def movable(self, unit: Unit, t: float) -> bool:
        return t - unit.moved >= self.rule.min_interval and self.here(unit, t) is not None

    def out(self, unit: Unit, post: int) -> bool:
        """Whether ``post`` is outside the community of ``unit``'s owner (home never is)."""
        return post != unit.home and self.community.get(post, -1) != unit.owner

    def allowed(self, view: Engine, unit: Unit, post: int) -> bool:
        """Whether the cross-border rules let ``unit`` move to ``post`` now."""
        if post == unit.station or not self.out(unit, post):
            return post != unit.station
        owner = unit.owner
        if not self.rule.move_out[owner]:
            return False
        if not self.capped or self.out(unit, unit.station):
            return True
        away = sum(self.out(u, u.station) for u in view.free_by_owner[self.service][owner].values())
        return away < self.rule.max_out[owner]

    def trip(self, view: Engine, unit: Unit, post: int, t: float) -> float:
        here = self.here(unit, t)
        return BIG if here is None else self._trips[here][post]

    # -- applying a move --------------------------------------------------------------------
    def _apply(self, view: Engine, unit: Unit, post: int, t: float) -> None:
        if t >= unit.ret_end:
            source = unit.station
        elif unit.ret_way is not None:
            source = zone_at(unit, t)
        else:  # only units with a place are moved
            raise AssertionError(f"unit {unit.index} has no place to move from")
        positions = view.positions[self.service]
        positions.remove(unit)
        trip = self._trips[source][post] * self._speed * view.hour_factor(t)
        unit.ret_from, unit.station, unit.ret_start, unit.ret_end = source, post, t, t + trip
        unit.ret_way = view.way(source, post) if self._snap is not None and trip > 0 else None
        unit.moved = t
        positions.add(unit, t)
        self.log_unit.append(unit.index)
        self.log_start.append(t)
        self.log_arrive.append(t + trip)
        self.log_from.append(source)
        self.log_to.append(post)


MOVERS: dict[str, type[Mover]] = {}
"""Every relocation policy that moves units, by name, filled by :func:`register`."""

M = TypeVar("M", bound=type[Mover])


def register(cls: M) -> M:
    """Class decorator: make ``cls`` the relocation policy of the name ``cls.name``."""
    if cls.name in MOVERS:
        raise ValueError(f"relocation policy {cls.name!r} is registered twice")
    MOVERS[cls.name] = cls
    return cls


def make_movers(view: Engine) -> list[Mover | None]:
    """Per service: its relocation policy, or None when units go home (policy ``none``)."""
    fleet = view.fleet
    out: list[Mover | None] = []
    for s in range(len(view.region.services)):
        rule = fleet.relocation_of(s)
        out.append(MOVERS[rule.policy](rule, view, s) if rule.moves else None)
    return out


class Plan:
    """What a table's row asks of the free units at their stations: the posts they lack
    (sorted), the surplus units by post (positive counts only), and, when no cross-border rule
    binds, the assignments found so far by the places and stations of the movable units."""

    __slots__ = ("missing", "solved", "surplus")

    def __init__(self, missing: list[int], surplus: Counter[int]) -> None:
        self.missing, self.surplus = missing, surplus
        self.solved: dict[tuple[tuple[int, ...], tuple[int, ...]], list[tuple[int, int]]] = {}


@register
class ComplianceTable(Mover):
    """With ``k`` free units, occupy the table's row ``k``: the free units at posts the row
    holds too many of move to the posts it lacks, with the least total travel."""

    name = "compliance_table"

    def __init__(self, rule: RelocationRule, view: Engine, service: int) -> None:
        super().__init__(rule, view, service)
        self._plans: dict[tuple[int, ...], Plan | None] = {}  # by the free units' stations
        # least-cost assignments (row, column) by their cost matrix, as tuples of rows
        self._solved: dict[tuple[tuple[float, ...], ...], list[tuple[int, int]]] = {}
        self._rows = frozenset(rule.table)  # the numbers of free units the table has a row for
        self._open = not self.capped and all(rule.move_out)  # any unit may go to any post

    def _plan(self, have: tuple[int, ...]) -> Plan | None:
        row = self.rule.table.get(len(have))
        found = None
        if row is not None and tuple(row) != have:
            need, counted = Counter(row), Counter(have)
            found = Plan(sorted((need - counted).elements()), counted - need)
        self._plans[have] = found
        return found

    def settled(self, view: Engine) -> bool:
        return self._current(view) is None

    def _current(self, view: Engine) -> Plan | None:
        """The plan of the free units now (None: the table is met, or has no row)."""
        free = view.free[self.service]
        if len(free) not in self._rows:
            return None
        have = tuple(sorted(map(_station, free.values())))
        found = self._plans.get(have, self)
        return self._plan(have) if found is self else found  # type: ignore[return-value]

    def event(self, view: Engine, t: float) -> None:
        """:meth:`Mover.event` in one pass: the rule is asked after every dispatch and every
        unit freed, and most often it has no row or is met."""
        budget = self.rule.max_moves
        if budget <= 0:
            return
        plan = self._current(view)
        if plan is None:
            return
        for unit, post in self._moves(view, plan, t):
            self._apply(view, unit, post, t)
            budget -= 1
            if not budget:
                break

    def moves(self, view: Engine, t: float) -> Iterator[Move]:
        plan = self._current(view)
        if plan is not None:
            yield from self._moves(view, plan, t)

    def _moves(self, view: Engine, plan: Plan, t: float) -> Iterator[Move]:
        free, first = view.free[self.service], True
        for unit, post in self._assigned(free, view, plan, t):
            # the first move is allowed as assigned, and any when no cross-border rule binds
            # (the others stay free where they were); a later one, after the last was made
            if first or self._open or (unit.index in free and self.allowed(view, unit, post)):
                yield unit, post
            first = False

    def _assigned(self, free: dict[int, Unit], view: Engine, plan: Plan, t: float) -> list[Move]:
        """The moves of the least-travel assignment of the movable units, least trip first."""
        surplus, wait = plan.surplus, self.rule.min_interval
        units = [  # movable (a place to move from, not moved too lately), from a surplus post
            u
            for u in free.values()
            if u.station in surplus
            and t - u.moved >= wait
            and (t >= u.ret_end or u.ret_way is not None)
        ]
        if not units:
            return []
        units.sort(key=_index)
        return self._assign(view, units, plan, t)

    def _assign(self, view: Engine, units: list[Unit], plan: Plan, t: float) -> list[Move]:
        """The least-travel assignment of ``units`` to the plan's missing posts, taking at
        most ``surplus[p]`` units from post ``p`` (the others stay: rows of cost 0)."""
        rows, missing = self._trips, plan.missing
        if len(missing) == 1:  # the usual case: one post to fill, by the nearest unit
            post = missing[0]
            best, best_trip = None, BIG
            for u in units:  # in index order: ties keep the lowest; each has a place
                trip = rows[u.station if t >= u.ret_end else zone_at(u, t)][post]
                if trip < best_trip and self._may(view, u, post):
                    best, best_trip = u, trip
            return [] if best is None else [(best, post)]
        places = [u.station if t >= u.ret_end else zone_at(u, t) for u in units]
        if len(units) == 1:  # one unit (alone at its post: no row to stay), to the nearest
            unit, here = units[0], rows[places[0]]  # post it may go to; ties keep the first
            to, best_trip = -1, BIG
            for post in missing:
                trip = here[post]
                if trip < best_trip and self._may(view, unit, post):
                    to, best_trip = post, trip
            return [] if to < 0 else [(unit, to)]
        if not self._open:  # the costs depend on where the others of each owner are
            return [(units[c], p) for c, p in self._least_travel(view, units, places, plan)]
        key = (tuple(places), tuple(map(_station, units)))  # all the costs depend on
        found = plan.solved.get(key)
        if found is None:
            found = plan.solved[key] = self._least_travel(view, units, places, plan)
        return [(units[c], p) for c, p in found]

    def _least_travel(
        self, view: Engine, units: list[Unit], places: list[int], plan: Plan
    ) -> list[tuple[int, int]]:
        """The moves of the least-cost assignment, (column, post), least trip first (ties:
        lowest unit index)."""
        rows, missing, surplus = self._trips, plan.missing, plan.surplus
        cost = [
            [
                rows[h][p] if self._may(view, u, p) else BIG
                for u, h in zip(units, places, strict=True)
            ]
            for p in missing
        ]
        at: dict[int, int] = {}
        for u in units:
            at[u.station] = at.get(u.station, 0) + 1
        for post, n in sorted(at.items()):
            for _ in range(max(0, n - surplus[post])):  # units of ``post`` that stay
                cost.append([0.0 if u.station == post else BIG for u in units])
        key = tuple(map(tuple, cost))
        found = self._solved.get(key)
        if found is None:  # the solver's answer is a function of the costs alone
            found = self._solved[key] = _least_cost(cost)
        pairs = [
            (cost[r][c], units[c].index, c, missing[r])
            for r, c in found
            if r < len(missing) and cost[r][c] < BIG
        ]
        return [(c, p) for _, _, c, p in sorted(pairs, key=_cost_then_index)]

    def _may(self, view: Engine, unit: Unit, post: int) -> bool:
        """:meth:`allowed`, at once when no cross-border rule binds (a unit to another post)."""
        return post != unit.station if self._open else self.allowed(view, unit, post)


def _least_cost(cost: list[list[float]]) -> list[tuple[int, int]]:
    """The (row, column) pairs of the least-cost assignment of the matrix ``cost``."""
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(np.array(cost))
    return list(zip(rows.tolist(), cols.tolist(), strict=True))


def _cost_then_index(pair: tuple[float, int, int, int]) -> tuple[float, int]:
    return pair[0], pair[1]


@register
class Coverage(Mover):
    """MEXCLP (Daskin 1983) move by move: the move that most raises the expected covered
    calls, sum of zone weight x (1 - q^n) with n the free units whose post covers the zone
    (counted at the post they head to), if it adds at least ``min_gain``."""

    name = "coverage"

    def __init__(self, rule: RelocationRule, view: Engine, service: int) -> None:
        super().__init__(rule, view, service)
        cover = rule.cover
        assert cover is not None, "compiled with a cover"
        self.cover = cover
        self.row = cover.index()
        self.by_owner = not np.array_equal(cover.own, cover.aid)
        self._reach: dict[int, np.ndarray] = {}  # class -> (P, Z) float
        self._ranked: dict[tuple[object, ...], list[tuple[float, int, int, int]]] = {}

    def _class(self, unit: Unit) -> int:
        return unit.owner if self.by_owner else 0

    def _reach_of(self, cls: int) -> np.ndarray:
        found = self._reach.get(cls)
        if found is None:
            c = self.cover
            own = c.zone_community[None, :] == cls
            found = self._reach[cls] = np.where(own, c.own, c.aid).astype(np.float64)
        return found

    def _key(self, view: Engine) -> tuple[tuple[int, int], ...] | tuple[int, ...]:
        """The state MEXCLP sees: the (class, post) of every free unit, sorted (the posts
        alone when every unit covers alike)."""
        free = view.free[self.service].values()
        if self.by_owner:
            return tuple(sorted([(u.owner, u.station) for u in free]))
        return tuple(sorted([u.station for u in free]))

    def _ranking(self, view: Engine) -> list[tuple[float, int, int, int]]:
        key = self._key(view)
        ranked = self._ranked.get(key)
        if ranked is None:
            pairs = key if self.by_owner else tuple((0, p) for p in key)
            ranked = self._ranked[key] = self._rank(pairs)  # type: ignore[arg-type]
        return ranked

    def settled(self, view: Engine) -> bool:
        return not self._ranking(view)

    def moves(self, view: Engine, t: float) -> Iterator[Move]:
        while True:
            found = self._first(view, self._ranking(view), t)
            if found is None:
                return
            yield found

    def _first(
        self, view: Engine, ranked: list[tuple[float, int, int, int]], t: float
    ) -> Move | None:
        """The best move a unit may make: for the best-ranked (class, post -> post) that some
        movable unit allows, its unit with the shortest trip (ties: lowest index)."""
        free = view.free[self.service].values()
        for _, cls, a, p in ranked:
            best, best_key = None, (BIG, 0)
            for u in free:
                if u.station != a or self._class(u) != cls or not self.movable(u, t):
                    continue
                if not self.allowed(view, u, p):
                    continue
                k = (self.trip(view, u, p, t), u.index)
                if k < best_key:
                    best, best_key = u, k
            if best is not None:
                return best, p
        return None

    def _rank(self, key: tuple[tuple[int, int], ...]) -> list[tuple[float, int, int, int]]:
        """Every move of a (class, post) of ``key`` to another post that gains at least
        ``min_gain``, best first (ties: the lower posts)."""
        q, w, posts = self.rule.busy, self.cover.weight, self.cover.places
        n = np.zeros(len(w))
        for cls, a in key:
            n += self._reach_of(cls)[self.row[a]]
        now = q**n
        out = []
        for cls, a in sorted(set(key)):
            reach = self._reach_of(cls)
            after = n[None, :] - reach[self.row[a]][None, :] + reach
            gain = ((now[None, :] - q**after) * w[None, :]).sum(axis=1)
            for i in np.flatnonzero(gain > max(self.rule.min_gain, 1e-9 * float(w.sum()))):
                if int(posts[i]) != a:
                    out.append((-float(gain[i]), cls, a, int(posts[i])))
        out.sort()
        return [(-g, cls, a, p) for g, cls, a, p in out]
