"""Checks of relocation rules across a scenario.

Each yields ``(path, message)`` pairs like :mod:`sim.schema.references`: posts and table
entries that name no station, a table row whose length is not its number of free units, a
row for more free units than an option's fleet has, cross-border rules of unknown
communities, and move-up on services that work on a calendar or hold cases.
"""

from __future__ import annotations

from collections.abc import Iterator

from .options import resolve_option
from .relocation import Relocation
from .scenario import Dispatch, Scenario

__all__ = ["any_relocation", "relocation_fleet_problems", "relocation_path", "relocation_problems"]

Path = tuple[str | int, ...]
Found = Iterator[tuple[Path, str]]


def _rules(s: Scenario) -> Iterator[tuple[Path, str, Relocation]]:
    """Every relocation rule written in the scenario: its path, its service key, the rule."""
    sources: list[tuple[Path, dict[str, Dispatch]]] = [(("dispatch",), s.dispatch)]
    sources += [(("options", o, "dispatch"), opt.dispatch) for o, opt in s.options.items()]
    for path, rules in sources:
        for sid, rule in rules.items():
            if rule.relocation is not None:
                yield (*path, sid, "relocation"), sid, rule.relocation


def any_relocation(s: Scenario) -> bool:
    """Whether some dispatch rule of the scenario moves units."""
    return any(rule.moves for _, _, rule in _rules(s))


def _stations(s: Scenario) -> set[str]:
    return set(s.communities) | set(s.stations)


def _known(known: set[str]) -> str:
    shown = ", ".join(sorted(known)[:12]) + (", ..." if len(known) > 12 else "")
    return f"(stations: {shown})"


def _posts(path: Path, rule: Relocation, stations: set[str]) -> Found:
    for i, post in enumerate(rule.posts or []):
        if post not in stations:
            yield (*path, "posts", i), f"unknown station '{post}' {_known(stations)}"
    for k, row in (rule.table or {}).items():
        if len(row) != k:
            yield (
                (*path, "table", str(k)),
                f"the row for {k} free unit(s) names {len(row)} station(s): it needs {k}, one "
                "per free unit (list a station twice for two units)",
            )
        for i, post in enumerate(row):
            if post not in stations:
                yield (
                    (*path, "table", str(k), i),
                    f"unknown station '{post}' {_known(stations)}",
                )


def _communities(path: Path, rule: Relocation, s: Scenario) -> Found:
    for c in rule.by_community:
        if c not in s.communities:
            shown = ", ".join(sorted(s.communities))
            yield (*path, "by_community", c), f"unknown community '{c}' (known: {shown})"


def _services(path: Path, sid: str, s: Scenario) -> Found:
    for name in s.services if sid == "all" else [sid]:
        svc = s.services.get(name)
        if svc is None:
            continue  # an unknown service is reported by the references
        if svc.calendar is not None or svc.caseload is not None:
            yield (
                path,
                f"service '{name}' works on a calendar or holds cases: move-up is for "
                "services that answer calls round the clock",
            )


def relocation_problems(s: Scenario) -> list[tuple[Path, str]]:
    """Problems of the relocation rules that need no resolved option."""
    stations = _stations(s)
    found: list[tuple[Path, str]] = []
    for path, sid, rule in _rules(s):
        if not rule.moves:
            continue
        found += _posts(path, rule, stations)
        found += _communities(path, rule, s)
        found += _services(path, sid, s)
    return found


def relocation_fleet_problems(s: Scenario) -> list[tuple[Path, str]]:
    """Table rows for more free units than an option's fleet of the service has."""
    found: list[tuple[Path, str]] = []
    for name in s.options:
        resolved = resolve_option(s, name)
        for sid, rule in resolved.dispatch.items():
            reloc = rule.relocation
            if reloc is None or not reloc.table:
                continue
            size = sum(u.service == sid for u in resolved.units)
            too_many = [k for k in reloc.table if k > size]
            if too_many:
                path = relocation_path(s, name, sid)
                found.append(
                    (
                        (*path, "table", str(max(too_many))),
                        f"a row for {max(too_many)} free units, but option '{name}' has "
                        f"{size} {sid} unit(s)",
                    )
                )
    return list(dict.fromkeys(found))  # a base rule is reported once


def relocation_path(s: Scenario, option: str, sid: str) -> Path:
    """Where the dispatch rule of ``sid`` under ``option`` is written."""
    for path, rules in (
        (("options", option, "dispatch"), s.options[option].dispatch),
        (("dispatch",), s.dispatch),
    ):
        for key in (sid, "all"):
            if key in rules:
                return (*path, key, "relocation")
    return ("dispatch",)
