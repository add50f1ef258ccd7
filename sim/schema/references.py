"""Checks across the parts of a scenario: every name used is defined.

Each check yields ``(path, message)`` pairs; :mod:`sim.schema.load` turns the paths into file
positions. All problems are collected, none stops the others. Places, zones and travel are
checked by :mod:`sim.schema.geography` and :mod:`sim.schema.travelcheck`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .options import option_problems
from .relocationcheck import relocation_fleet_problems, relocation_problems
from .scenario import (
    Dispatch,
    Option,
    Scenario,
    Transport,
    UnitChange,
    UnitGroup,
)
from .workchecks import work_problems

__all__ = ["check_references"]

Path = tuple[str | int, ...]
Found = Iterator[tuple[Path, str]]


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    names = sorted(known)
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    return f"unknown {kind} '{name}' (known: {shown or 'none'})"


def _stations(s: Scenario) -> dict[str, str | None]:
    """Station id -> its community (None for a community-less hub)."""
    out: dict[str, str | None] = {c: c for c in s.communities}
    out.update({sid: st.community for sid, st in s.stations.items()})
    return out


def _check_places(s: Scenario) -> Found:
    for section, group in (("stations", s.stations), ("facilities", s.facilities)):
        for pid, p in group.items():
            if pid in s.communities:
                yield (
                    (section, pid),
                    (f"'{pid}' is already a community (each community has a station of its id)"),
                )
            if p.community is not None and p.community not in s.communities:
                yield (section, pid, "community"), _unknown("community", p.community, s.communities)
    for pid in sorted(set(s.stations) & set(s.facilities)):
        yield ("facilities", pid), f"'{pid}' is both a station and a facility"


def _check_units(path: Path, g: UnitGroup | UnitChange, s: Scenario) -> Found:
    stations = _stations(s)
    if g.station not in stations:
        yield (*path, "station"), _unknown("station", g.station, stations)
    elif g.owner is None and stations[g.station] is None:
        yield (*path, "owner"), f"station '{g.station}' belongs to no community: name an owner"
    if g.owner is not None and g.owner not in s.communities:
        yield (*path, "owner"), _unknown("community", g.owner, s.communities)


def _check_services(s: Scenario) -> Found:
    for sid, svc in s.services.items():
        if svc.profile is not None and svc.profile not in s.profiles:
            yield ("services", sid, "profile"), _unknown("profile", svc.profile, s.profiles)
        for i, g in enumerate(svc.units):
            yield from _check_units(("services", sid, "units", i), g, s)
    for tid, t in s.incident_types.items():
        base: Path = ("incident_types", tid)
        if t.service not in s.services:
            yield (*base, "service"), _unknown("service", t.service, s.services)
        for key in ("rate_per_1000", "rate_per_year"):
            rate = getattr(t, key)
            if isinstance(rate, dict):
                for c in rate:
                    if c not in s.communities:
                        yield (*base, key, c), _unknown("community", c, s.communities)
        if t.transport is not None:
            yield from _check_transport((*base, "transport"), t.transport, s)
        if t.target is not None:
            for c in t.target.by_community:
                if c not in s.communities:
                    yield (
                        (*base, "target", "by_community", c),
                        _unknown("community", c, s.communities),
                    )
        if t.profile is not None and t.profile not in s.profiles:
            yield (*base, "profile"), _unknown("profile", t.profile, s.profiles)
    demanded = {
        t.service
        for t in s.incident_types.values()
        if _total_rate(s, t.rate_per_1000, t.rate_per_year) > 0
    }
    for sid in sorted(demanded & set(s.services)):
        if sum(g.count for g in s.services[sid].units) == 0:
            yield ("services", sid, "units"), f"service '{sid}' has demand but no units"


def _check_transport(path: Path, tr: Transport, s: Scenario) -> Found:
    if tr.facility is not None:
        if tr.facility not in s.facilities:
            yield (*path, "facility"), _unknown("facility", tr.facility, s.facilities)
        return
    kinds = sorted({f.kind for f in s.facilities.values()})
    if tr.kind not in kinds:
        shown = f"kinds: {', '.join(kinds)}" if kinds else "the scenario has no facilities"
        yield (
            (*path, "kind"),
            f"no facility of kind '{tr.kind}' to transport to ({shown}); "
            "name a facility or add one of that kind",
        )


def _total_rate(
    s: Scenario,
    per_1000: float | dict[str, float] | None,
    per_year: float | dict[str, float] | None,
) -> float:
    rate = per_1000 if per_1000 is not None else per_year
    if isinstance(rate, dict):
        return float(sum(rate.values()))
    return float(rate or 0.0)


def _check_lists(path: Path, names: list[str] | None, known: Iterable[str], kind: str) -> Found:
    known = set(known)
    for i, name in enumerate(names or []):
        if name not in known:
            yield (*path, i), _unknown(kind, name, known)


def _check_events(s: Scenario) -> Found:
    for i, sg in enumerate(s.surges):
        yield from _check_lists(
            ("surges", i, "communities"), sg.communities, s.communities, "community"
        )
        yield from _check_lists(("surges", i, "services"), sg.services, s.services, "service")
        yield from _check_lists(("surges", i, "types"), sg.types, s.incident_types, "incident type")
    for i, b in enumerate(s.bursts):
        if b.community not in s.communities:
            yield ("bursts", i, "community"), _unknown("community", b.community, s.communities)
        if b.type not in s.incident_types:
            yield ("bursts", i, "type"), _unknown("incident type", b.type, s.incident_types)
        if b.time >= s.run.horizon:
            yield ("bursts", i, "time"), "after the end of the run (horizon)"


def _check_dispatch(path: Path, rules: dict[str, Dispatch], s: Scenario) -> Found:
    for sid, rule in rules.items():
        if sid != "all" and sid not in s.services:
            yield (*path, sid), _unknown("service", sid, [*s.services, "all"])
        for c, partners in (rule.partners or {}).items():
            if c not in s.communities:
                yield (*path, sid, "partners", c), _unknown("community", c, s.communities)
            yield from _check_lists(
                (*path, sid, "partners", c), partners, s.communities, "community"
            )


def _check_option(name: str, opt: Option, s: Scenario) -> Found:
    base: Path = ("options", name)
    yield from _check_dispatch((*base, "dispatch"), opt.dispatch, s)
    for key in ("add_units", "remove_units"):
        for i, ch in enumerate(getattr(opt, key)):
            if ch.service not in s.services:
                yield (*base, key, i, "service"), _unknown("service", ch.service, s.services)
            yield from _check_units((*base, key, i), ch, s)
    stations = _stations(s)
    for i, mv in enumerate(opt.move_units):
        if mv.service not in s.services:
            yield (*base, "move_units", i, "service"), _unknown("service", mv.service, s.services)
        for key in ("from_station", "to_station"):
            if getattr(mv, key) not in stations:
                yield (*base, "move_units", i, key), _unknown("station", getattr(mv, key), stations)


def check_references(s: Scenario) -> list[tuple[Path, str]]:
    """All cross-reference problems of a structurally valid scenario."""
    found: list[tuple[Path, str]] = []
    for check in (_check_places, _check_services, _check_events):
        found.extend(check(s))
    found.extend(work_problems(s))
    found.extend(relocation_problems(s))
    found.extend(_check_dispatch(("dispatch",), s.dispatch, s))
    for name, opt in s.options.items():
        found.extend(_check_option(name, opt, s))
    if s.baseline is not None and s.baseline not in s.options:
        found.append((("baseline",), _unknown("option", s.baseline, s.options)))
    if not found:  # patches can only be applied once every name they use is known
        for name in s.options:
            found.extend(option_problems(s, name))
    if not found:
        found.extend(relocation_fleet_problems(s))
    return found
