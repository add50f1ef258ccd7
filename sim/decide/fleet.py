"""Candidate fleets of one service: units per station, their cost, and the dispatch they run.

A *context* is everything that one search over fleets keeps fixed: the service, its dispatch
rule, the communities whose calls count (its *members*), and the *slots* where units can be.
A slot is a station with the community that owns the units there. A *candidate* is a tuple of
unit counts, one per slot.

A slot remembers the units it holds today, in the scenario's order. A count below today's
keeps the first units (so the last-listed, e.g. a part-time day car, goes first, as with
``remove_units``); a count above today's adds round-the-clock units at the slot's hourly cost.

Two kinds of context are built here:

* :func:`option_context`: a pooling option of the scenario (its dispatch rule and units), with
  every community a member: the question of ``intersim size``.
* :func:`coalition_context`: a coalition S of communities pooling only with each other. Its
  members' units (today's, from the baseline option) are dispatched as one pool, closest free
  unit first; calls of non-members are left out and their units removed. Non-members stay
  separate, so they neither lend to nor borrow from S and nothing they do changes S's results:
  leaving them out is *exactly* pooling within S. (A ``mutual_aid`` option with partners = S
  is not the same: it prefers a member's own unit to a closer partner's, and a freed unit
  serves its own community's waiting calls of any priority before a partner's.)

Contexts are plain data (JSON) so that workers in other processes or on Dask can rebuild the
fleet of any candidate; :func:`build_fleet` does that against a compiled region.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..engine.policies import Policy, Pooled, policy_class
from ..model.compile import (
    MINUTES_PER_WEEK,
    Fleet,
    Region,
    compile_dispatch,
    duty_intervals,
    fleet_preferences,
)
from ..schema.options import resolve_option, servable
from ..schema.scenario import Dispatch, Duty, Scenario

__all__ = [
    "HOURS_PER_YEAR",
    "Context",
    "Counts",
    "Slot",
    "UnitSpec",
    "build_fleet",
    "coalition_context",
    "coalition_name",
    "option_context",
]

HOURS_PER_YEAR = 8760.0
Counts = tuple[int, ...]


@dataclass(frozen=True)
class UnitSpec:
    """One unit a slot holds today: its duty schedule (None: always) and hourly cost."""

    duty: dict[str, Any] | None
    cost_per_hour: float

    def on_duty_fraction(self) -> float:
        """Share of the week on duty (weekly schedules repeat exactly over 52 weeks)."""
        if self.duty is None:
            return 1.0
        span = 52 * MINUTES_PER_WEEK
        d = duty_intervals(Duty.model_validate(self.duty), span)
        return float((d[:, 1] - d[:, 0]).sum()) / span


@dataclass(frozen=True)
class Slot:
    """Units of the service at one station, owned by one community."""

    station: str
    owner: str
    today: tuple[UnitSpec, ...] = ()
    added_cost: float = 0.0  # hourly cost of a unit added here (on duty round the clock)

    def units(self, count: int) -> list[UnitSpec]:
        kept = list(self.today[:count])
        return kept + [UnitSpec(None, self.added_cost)] * max(0, count - len(self.today))

    def label(self) -> str:
        return self.station if self.owner == self.station else f"{self.station} ({self.owner})"


@dataclass(frozen=True)
class Context:
    """What a search over fleets keeps fixed (see the module docstring)."""

    key: str  # unique name, e.g. "option:pooled" or "coalition:a+b"
    option: str  # the option whose dispatch rule and units are the basis
    service: str
    dispatch: dict[str, Any]  # the service's Dispatch, as data
    members: tuple[str, ...]  # communities whose calls count, in scenario order
    slots: tuple[Slot, ...]
    units_needed: int = 1  # most units any call of the service needs
    demand: tuple[str, ...] = field(default=())  # members with calls of the service

    @property
    def policy(self) -> str:
        """The dispatch policy's name."""
        return str(self.dispatch["policy"])

    @property
    def dispatch_policy(self) -> type[Policy]:
        """The dispatch policy's class: what it means for queueing and borrowing."""
        return policy_class(self.policy)

    @property
    def today(self) -> Counts:
        return tuple(len(s.today) for s in self.slots)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @staticmethod
    def from_json(text: str) -> Context:
        data = json.loads(text)
        slots = tuple(
            Slot(
                s["station"], s["owner"], tuple(UnitSpec(**u) for u in s["today"]), s["added_cost"]
            )
            for s in data.pop("slots")
        )
        return Context(
            slots=slots,
            members=tuple(data.pop("members")),
            demand=tuple(data.pop("demand")),
            **data,
        )

    # --- a candidate's units and cost ---------------------------------------------------------
    def units(self, counts: Counts) -> list[tuple[Slot, UnitSpec]]:
        return [(s, u) for s, n in zip(self.slots, counts, strict=True) for u in s.units(n)]

    def cost_per_year(self, counts: Counts) -> float:
        """On-duty unit-hours of a year times each unit's hourly cost."""
        return sum(
            u.on_duty_fraction() * HOURS_PER_YEAR * u.cost_per_hour for _, u in self.units(counts)
        )

    def owned(self, counts: Counts) -> dict[str, int]:
        out = dict.fromkeys(self.members, 0)
        for s, n in zip(self.slots, counts, strict=True):
            out[s.owner] = out.get(s.owner, 0) + n
        return out

    def allowed(self, counts: Counts) -> bool:
        """Whether every call could at all be served, by the rule scenarios are validated
        with (:func:`sim.schema.options.servable`): under ``separate`` each community with
        calls owns enough units, under ``mutual_aid`` its own and its partners' beyond their
        reserve are enough, under ``pooled`` the pool has enough for the largest call."""
        if any(n < 0 for n in counts):
            return False
        if not self.demand:  # no calls: any fleet, even none, will do
            return True
        rule = Dispatch.model_validate(self.dispatch)
        owned = self.owned(counts)
        total = sum(counts)
        return all(servable(rule, c, owned, total) >= self.units_needed for c in self.demand)


def coalition_name(members: Sequence[str]) -> str:
    return "+".join(members)


def _service_units(
    scenario: Scenario, option: str, service: str
) -> list[tuple[str, str, UnitSpec]]:
    resolved = resolve_option(scenario, option)
    return [
        (
            u.station,
            u.owner,
            UnitSpec(
                u.duty.model_dump(mode="json") if u.duty is not None else None,
                float(u.cost_per_hour),
            ),
        )
        for u in resolved.units
        if u.service == service
    ]


def _slots(
    scenario: Scenario, option: str, service: str, members: Sequence[str], placement: bool
) -> tuple[Slot, ...]:
    cost = float(scenario.services[service].cost_per_unit_hour)
    grouped: dict[tuple[str, str], list[UnitSpec]] = {}
    for station, owner, spec in _service_units(scenario, option, service):
        if owner in members:
            grouped.setdefault((station, owner), []).append(spec)
    owners = {owner for _, owner in grouped}
    for c in members:  # a community without units today may get them at its own station
        if (placement or c not in owners) and (c, c) not in grouped:
            grouped[(c, c)] = []
    return tuple(
        Slot(station, owner, tuple(specs), specs[0].cost_per_hour if specs else cost)
        for (station, owner), specs in grouped.items()
    )


def _demand(scenario: Scenario, service: str, members: Sequence[str]) -> tuple[str, ...]:
    out = []
    for c in members:
        for t in scenario.incident_types.values():
            if t.service != service:
                continue
            rate = t.rate_per_1000 if t.rate_per_1000 is not None else t.rate_per_year
            r = rate.get(c, 0.0) if isinstance(rate, dict) else rate
            if r and r > 0 and t.share > 0:
                out.append(c)
                break
    return tuple(out)


def _units_needed(scenario: Scenario, service: str) -> int:
    return max(
        (t.units_needed for t in scenario.incident_types.values() if t.service == service),
        default=1,
    )


def option_context(
    scenario: Scenario, option: str, service: str, *, placement: bool = False
) -> Context:
    """The fleets of ``service`` under pooling option ``option``, every community a member."""
    members = tuple(scenario.communities)
    rule = resolve_option(scenario, option).dispatch[service]
    return Context(
        key=f"option:{option}",
        option=option,
        service=service,
        dispatch=rule.model_dump(mode="json"),
        members=members,
        slots=_slots(scenario, option, service, members, placement),
        units_needed=_units_needed(scenario, service),
        demand=_demand(scenario, service, members),
    )


def coalition_context(
    scenario: Scenario,
    members: Sequence[str],
    service: str,
    *,
    base_option: str | None = None,
    placement: bool = False,
) -> Context:
    """Coalition ``members`` pooling their units (today's: the baseline option's) with each
    other only; see the module docstring for why this is exactly pooling within the
    coalition."""
    option = base_option or scenario.baseline_option
    order = [c for c in scenario.communities if c in set(members)]
    rule = resolve_option(scenario, option).dispatch[service]
    pooled = rule.model_copy(update={"policy": Pooled.name, "partners": None})
    return Context(
        key=f"coalition:{coalition_name(order)}",
        option=option,
        service=service,
        dispatch=pooled.model_dump(mode="json"),
        members=tuple(order),
        slots=_slots(scenario, option, service, order, placement),
        units_needed=_units_needed(scenario, service),
        demand=_demand(scenario, service, order),
    )


def build_fleet(region: Region, context: Context, counts: Counts, name: str = "") -> Fleet:
    """The engine's fleet of one candidate (only the context's service has units)."""
    s = region.services.index(context.service)
    units = context.units(counts)
    seen: dict[str, int] = {}
    labels = []
    for slot, _ in units:
        seen[slot.station] = seen.get(slot.station, 0) + 1
        labels.append(f"{context.service}-{slot.station}-{seen[slot.station]}")
    rules = tuple(
        compile_dispatch(
            Dispatch.model_validate(context.dispatch) if i == s else Dispatch(), region.communities
        )
        for i in range(len(region.services))
    )
    service = np.full(len(units), s, dtype=np.int64)
    station = np.array([region.place_of[slot.station] for slot, _ in units], dtype=np.int64)
    return Fleet(
        option=name or context.key,
        labels=tuple(labels),
        service=service,
        station=station,
        station_ids=tuple(slot.station for slot, _ in units),
        owner=np.array([region.communities.index(slot.owner) for slot, _ in units], dtype=np.int64),
        cost_per_hour=np.array([u.cost_per_hour for _, u in units], dtype=np.float64),
        duty=tuple(
            duty_intervals(
                Duty.model_validate(u.duty) if u.duty is not None else None, region.horizon
            )
            for _, u in units
        ),
        dispatch=rules,
        preference=fleet_preferences(region, service, station),
    )
