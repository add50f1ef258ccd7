"""Pooling options resolved: the base scenario with one option's patch applied.

An option overrides dispatch rules per service (or for ``all`` services) and adds, removes or
moves units. The result lists every unit individually, in a stable order.

An option is refused when its fleet exceeds :data:`~sim.schema.scenario.MAX_UNITS` units in
all (counted before any unit is listed), or when some incident type of some community could
never be served under its dispatch rule: too few units of its own under ``separate``, too few
of its own and lendable by its partners (beyond their reserve) under ``mutual_aid``, too few
in all under ``pooled``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from .scenario import MAX_UNITS, Dispatch, Duty, IncidentType, Scenario

__all__ = [
    "OptionError",
    "ResolvedOption",
    "ResolvedUnit",
    "coverage_gaps",
    "lenders",
    "option_problems",
    "resolve_option",
    "servable",
]

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class ResolvedUnit:
    service: str
    station: str
    owner: str
    duty: Duty | None
    cost_per_hour: float
    label: str


@dataclass(frozen=True)
class ResolvedOption:
    name: str
    description: str
    dispatch: dict[str, Dispatch]
    units: tuple[ResolvedUnit, ...]


class OptionError(ValueError):
    def __init__(self, problems: list[tuple[Path, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(m for _, m in problems))


def _dispatch_for(scenario: Scenario, name: str) -> dict[str, Dispatch]:
    opt = scenario.options[name]
    out = {}
    for sid in scenario.services:
        for rules in (opt.dispatch, scenario.dispatch):
            rule = rules.get(sid) or rules.get("all")
            if rule is not None:
                out[sid] = rule
                break
        else:
            out[sid] = Dispatch()
    return out


def _station_owner(scenario: Scenario, station: str) -> str | None:
    if station in scenario.communities:
        return station
    return scenario.stations[station].community


def _fleet_size(scenario: Scenario, name: str) -> int:
    """Units of option ``name`` at most (before removals), counted without listing them."""
    base = sum(g.count for svc in scenario.services.values() for g in svc.units)
    return base + sum(ch.count for ch in scenario.options[name].add_units)


def _units(scenario: Scenario, name: str) -> Iterator[tuple[Path, str] | ResolvedUnit]:
    opt = scenario.options[name]
    size = _fleet_size(scenario, name)
    if size > MAX_UNITS:
        where: Path = ("options", name, "add_units") if opt.add_units else ("services",)
        yield where, f"{size:,} units in all: at most {MAX_UNITS:,} (all services together)"
        return
    units: list[ResolvedUnit] = []
    for sid, svc in scenario.services.items():
        for g in svc.units:
            owner = g.owner or _station_owner(scenario, g.station) or ""
            cost = svc.cost_per_unit_hour if g.cost_per_hour is None else g.cost_per_hour
            units += [ResolvedUnit(sid, g.station, owner, g.duty, cost, "")] * g.count
    for i, ch in enumerate(opt.remove_units):
        matching = [
            k
            for k, u in enumerate(units)
            if u.service == ch.service
            and u.station == ch.station
            and (ch.owner is None or u.owner == ch.owner)
        ]
        if len(matching) < ch.count:
            yield (
                ("options", name, "remove_units", i, "count"),
                (
                    f"removes {ch.count} {ch.service} unit(s) at '{ch.station}' but only "
                    f"{len(matching)} are there"
                ),
            )
            continue
        for k in reversed(matching[-ch.count :]):
            del units[k]
    for i, mv in enumerate(opt.move_units):
        matching = [
            k
            for k, u in enumerate(units)
            if u.service == mv.service and u.station == mv.from_station
        ]
        if len(matching) < mv.count:
            yield (
                ("options", name, "move_units", i, "count"),
                (
                    f"moves {mv.count} {mv.service} unit(s) from '{mv.from_station}' but only "
                    f"{len(matching)} are there"
                ),
            )
            continue
        for k in matching[-mv.count :]:
            u = units[k]
            units[k] = ResolvedUnit(u.service, mv.to_station, u.owner, u.duty, u.cost_per_hour, "")
    for ch in opt.add_units:
        owner = ch.owner or _station_owner(scenario, ch.station) or ""
        svc = scenario.services[ch.service]
        cost = svc.cost_per_unit_hour if ch.cost_per_hour is None else ch.cost_per_hour
        units += [ResolvedUnit(ch.service, ch.station, owner, ch.duty, cost, "")] * ch.count
    order = {sid: k for k, sid in enumerate(scenario.services)}
    units.sort(key=lambda u: order[u.service])  # stable: keeps the written order per service
    seen: dict[tuple[str, str], int] = {}
    for u in units:
        n = seen[(u.service, u.station)] = seen.get((u.service, u.station), 0) + 1
        yield ResolvedUnit(
            u.service, u.station, u.owner, u.duty, u.cost_per_hour, f"{u.service}-{u.station}-{n}"
        )


def lenders(rule: Dispatch, community: str, communities: Iterable[str]) -> list[str]:
    """The communities that may lend units to ``community`` under a mutual-aid rule."""
    if rule.partners is None:
        return [c for c in communities if c != community]
    return [p for p in rule.partners.get(community, []) if p != community]


def servable(rule: Dispatch, community: str, owned: dict[str, int], total: int) -> int:
    """The most units a call of ``community`` can ever have at once under ``rule``, given the
    units each community owns (``total`` in all): a lender keeps its reserve."""
    if rule.policy == "pooled":
        return total
    own = owned.get(community, 0)
    if rule.policy == "separate":
        return own
    lent = (max(0, owned.get(p, 0) - rule.reserve) for p in lenders(rule, community, owned))
    return own + sum(lent)


def _demanded(scenario: Scenario, tid: str, t: IncidentType) -> Iterator[str]:
    """The communities where incidents of type ``tid`` happen."""
    rate = t.rate_per_1000 if t.rate_per_1000 is not None else t.rate_per_year
    burst = {b.community for b in scenario.bursts if b.type == tid}
    for c in scenario.communities:
        r = rate.get(c, 0.0) if isinstance(rate, dict) else rate
        if (r and r > 0 and t.share > 0) or c in burst:
            yield c


Reach = Callable[[ResolvedUnit, str], bool]


def coverage_gaps(
    scenario: Scenario, name: str, resolved: ResolvedOption, reach: Reach | None = None
) -> Iterator[tuple[Path, str]]:
    """Incident types of communities that could never be served completely: too few units
    they may use. ``reach(unit, community)`` says whether a partner's unit may ever be lent
    to the community (default: always; the compiled model passes ``max_travel``)."""
    for tid, t in scenario.incident_types.items():
        rule = resolved.dispatch[t.service]
        mine = [u for u in resolved.units if u.service == t.service]
        total = len(mine)
        if total < t.units_needed:
            yield (
                ("options", name),
                (f"{tid} needs {t.units_needed} {t.service} units but there are only {total}"),
            )
            return
        if rule.policy == "pooled":
            continue
        all_owned = dict.fromkeys(scenario.communities, 0) | Counter(u.owner for u in mine)
        limited = reach is not None and rule.policy == "mutual_aid"
        for c in _demanded(scenario, tid, t):
            owned = all_owned
            if limited:
                assert reach is not None
                near = Counter(u.owner for u in mine if u.owner == c or reach(u, c))
                owned = dict.fromkeys(scenario.communities, 0) | near
            have = servable(rule, c, owned, total)
            if have >= t.units_needed:
                continue
            need = f"{tid} incidents needing {t.units_needed} {t.service} unit(s)"
            if rule.policy == "separate":
                why = f"owns {all_owned.get(c, 0)}"
            else:
                partners = lenders(rule, c, scenario.communities)
                why = (
                    f"owns {all_owned.get(c, 0)} and its partners ("
                    f"{', '.join(partners) or 'none'}) may lend {have - all_owned.get(c, 0)}"
                    + (f" beyond their reserve of {rule.reserve}" if rule.reserve else "")
                    + (" within max_travel" if reach is not None and rule.max_travel else "")
                )
            yield (
                ("options", name),
                (
                    f"under policy '{rule.policy}', community '{c}' has {need} but {why}: they "
                    "could never be served (give it units or partners, lower the reserve, or "
                    "use pooled)"
                ),
            )
            return


def resolve_option(scenario: Scenario, name: str) -> ResolvedOption:
    """The base scenario with option ``name`` applied; raise OptionError if it cannot be."""
    problems = option_problems(scenario, name)
    if problems:
        raise OptionError(problems)
    return _resolve(scenario, name)


def _resolve(scenario: Scenario, name: str) -> ResolvedOption:
    units = tuple(u for u in _units(scenario, name) if isinstance(u, ResolvedUnit))
    return ResolvedOption(
        name, scenario.options[name].description, _dispatch_for(scenario, name), units
    )


def option_problems(scenario: Scenario, name: str) -> list[tuple[Path, str]]:
    """Problems of option ``name`` (assumes its references are valid)."""
    problems = [p for p in _units(scenario, name) if not isinstance(p, ResolvedUnit)]
    if problems:
        return problems
    resolved = _resolve(scenario, name)
    return list(coverage_gaps(scenario, name, resolved))
