"""Pooling options resolved: the base scenario with one option's patch applied.

An option overrides dispatch rules per service (or for ``all`` services) and adds, removes or
moves units. The result lists every unit individually, in a stable order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .scenario import Dispatch, Duty, Scenario

__all__ = ["OptionError", "ResolvedOption", "ResolvedUnit", "option_problems", "resolve_option"]

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


def _units(scenario: Scenario, name: str) -> Iterator[tuple[Path, str] | ResolvedUnit]:
    opt = scenario.options[name]
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


def _separate_gaps(
    scenario: Scenario, name: str, resolved: ResolvedOption
) -> Iterator[tuple[Path, str]]:
    """Calls that could never be served completely: too few units they may use."""
    owned: dict[tuple[str, str], int] = {}
    for u in resolved.units:
        owned[(u.service, u.owner)] = owned.get((u.service, u.owner), 0) + 1
    for tid, t in scenario.incident_types.items():
        rule = resolved.dispatch[t.service]
        rate = t.rate_per_1000 if t.rate_per_1000 is not None else t.rate_per_year
        total = sum(n for (svc, _), n in owned.items() if svc == t.service)
        if total < t.units_needed:
            yield (
                ("options", name),
                (f"{tid} needs {t.units_needed} {t.service} units but there are only {total}"),
            )
            return
        if rule.policy != "separate":
            continue
        for c in scenario.communities:
            r = rate.get(c, 0.0) if isinstance(rate, dict) else rate
            have = owned.get((t.service, c), 0)
            if r and r > 0 and have < t.units_needed:
                yield (
                    ("options", name),
                    (
                        f"under policy 'separate', community '{c}' has {tid} incidents needing "
                        f"{t.units_needed} {t.service} unit(s) but owns {have} (use mutual_aid or "
                        "pooled, or give it units)"
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
    return list(_separate_gaps(scenario, name, resolved))
