"""Checks across the parts of a scenario: every name used is defined, travel has no gaps.

Each check yields ``(path, message)`` pairs; :mod:`sim.schema.load` turns the paths into file
positions. All problems are collected, none stops the others.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

from .options import option_problems
from .scenario import Dispatch, Location, Option, Scenario, UnitChange, UnitGroup

__all__ = ["check_references", "place_locations"]

Path = tuple[str | int, ...]
Found = Iterator[tuple[Path, str]]


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    names = sorted(known)
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    return f"unknown {kind} '{name}' (known: {shown or 'none'})"


def place_locations(s: Scenario) -> dict[str, Location | None]:
    """Every place travel must connect: communities, then stations and facilities placed on
    their own location. Stations and facilities without a location sit at their community."""
    places: dict[str, Location | None] = {c: com.location for c, com in s.communities.items()}
    for group in (s.stations, s.facilities):
        for pid, p in group.items():
            if p.location is not None:
                places[pid] = p.location
    return places


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


def _not_a_place(s: Scenario, name: str, places: dict[str, Location | None]) -> str:
    site = s.stations.get(name) or s.facilities.get(name)
    if site is not None and site.community is not None:
        return (
            f"'{name}' has no location of its own: it is at the centre of '{site.community}', "
            f"so use '{site.community}' in the matrix (or give '{name}' a location)"
        )
    return _unknown("place", name, places)


def _check_location_kinds(s: Scenario) -> Found:
    """All locations must be x/y, or all lat/lon; point at the first of the minority kind."""
    found: dict[bool, list[Path]] = {True: [], False: []}
    first: bool | None = None
    for c, com in s.communities.items():
        if com.location is not None:
            first = com.location.x is not None if first is None else first
            found[com.location.x is not None].append(("communities", c, "location"))
    for section, group in (("stations", s.stations), ("facilities", s.facilities)):
        for pid, p in group.items():
            if p.location is not None:
                found[p.location.x is not None].append((section, pid, "location"))
    if found[True] and found[False]:
        other = found[not first] if first is not None else found[False]
        yield other[0], "mix of x/y and lat/lon locations; use one kind for every place"


def _has_time(s: Scenario, a: str, b: str, places: dict[str, Location | None]) -> bool:
    m = s.travel.matrix
    if b in m.get(a, {}) or a in m.get(b, {}):
        return True
    if a == b:
        com = s.communities.get(a)
        if com is None:
            return True
        if a in s.travel.inside:
            return True
        return com.area_km2 is not None and s.travel.speed_kmh is not None
    return s.travel.speed_kmh is not None and places[a] is not None and places[b] is not None


def _check_travel(s: Scenario) -> Found:
    places = place_locations(s)
    for src, row in s.travel.matrix.items():
        if src not in places:
            yield ("travel", "matrix", src), _not_a_place(s, src, places)
            continue
        for dst in row:
            if dst not in places:
                yield ("travel", "matrix", src, dst), _not_a_place(s, dst, places)
    for c in s.travel.inside:
        if c not in s.communities:
            yield ("travel", "inside", c), _unknown("community", c, s.communities)
    yield from _check_location_kinds(s)
    count, examples = _missing_pairs(s, places)
    if count:
        shown = ", ".join(f"{a}->{b}" for a, b in examples) + (" ..." if count > 6 else "")
        hint = "give them in travel.matrix, or locations and travel.speed_kmh"
        yield ("travel",), f"no travel time for {count:,} pair(s): {shown}; {hint}"


def _missing_pairs(
    s: Scenario, places: dict[str, Location | None], shown: int = 6
) -> tuple[int, list[tuple[str, str]]]:
    """How many pairs of places have no travel time, and the first ``shown`` of them (in the
    order of the places), found in time linear in the places and the matrix entries: only a
    place without a location (or any place, without a speed) needs matrix entries."""
    ids = list(places)
    index = {p: i for i, p in enumerate(ids)}
    near: dict[str, set[str]] = {p: set() for p in ids}
    for a, row in s.travel.matrix.items():
        for b in row:
            if a in index and b in index and a != b:
                near[a].add(b)
                near[b].add(a)
    speed = s.travel.speed_kmh is not None
    bare = [p for p in ids if not speed or places[p] is None]  # in place order
    bare_set = set(bare)
    inside = sum(1 for u in bare for v in near[u] if v in bare_set) // 2
    n, k = len(ids), len(bare)
    count = sum(n - 1 - len(near[u]) for u in bare) - (k * (k - 1) // 2 - inside)
    count += sum(1 for p in ids if not _has_time(s, p, p, places))
    examples: list[tuple[str, str]] = []
    for i, a in enumerate(ids):
        if len(examples) >= shown:
            break
        if not _has_time(s, a, a, places):
            examples.append((a, a))
        if a in bare_set:  # every later place needs a matrix entry
            later = ids[i + 1 :]
        else:  # only the later places without a location do
            later = bare[bisect.bisect_right(bare, i, key=index.__getitem__) :]
        for b in later:
            if len(examples) >= shown:
                break
            if b not in near[a]:
                examples.append((a, b))
    return count, examples[:shown]


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
        if t.transport is not None and t.transport.facility not in s.facilities:
            yield (
                (*base, "transport", "facility"),
                _unknown("facility", t.transport.facility, s.facilities),
            )
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
    for check in (_check_places, _check_travel, _check_services, _check_events):
        found.extend(check(s))
    found.extend(_check_dispatch(("dispatch",), s.dispatch, s))
    for name, opt in s.options.items():
        found.extend(_check_option(name, opt, s))
    if s.baseline is not None and s.baseline not in s.options:
        found.append((("baseline",), _unknown("option", s.baseline, s.options)))
    if not found:  # patches can only be applied once every name they use is known
        for name in s.options:
            found.extend(option_problems(s, name))
    return found
