"""A placement as a pooling option of the scenario format, ready for ``compare``.

The option is the base option (its dispatch rules and its changes to other services' units)
with the service's units placed: units leave a station that holds more than the placement
gives it and go, nearest first, to the sites that need them, keeping their owner, duty and
cost (``move_units``; a unit the base option adds is added at its new site instead). Units
beyond today's number are added at the sites (owned by the community the site lies in, on
duty round the clock), units short of it removed. The result is checked by resolving the
option: its units of the service per station must be the placement's.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from ..schema import Scenario, scenario_from_dict
from ..schema.options import resolve_option
from .candidates import Site

__all__ = ["placement_option", "siting_scenario", "station_counts"]


@dataclass
class _Token:
    """One unit that leaves a station: a scenario unit (moved) or an added one (re-added)."""

    station: str
    added: dict[str, Any] | None  # the base option's add_units entry it comes from


def station_counts(scenario: Scenario, option: str, service: str) -> Counter[str]:
    """Units of ``service`` per station under ``option``."""
    return Counter(
        u.station for u in resolve_option(scenario, option).units if u.service == service
    )


def _tokens(base: dict[str, Any], service: str, leaving: dict[str, int]) -> list[_Token]:
    """The units that leave each station: the base option's added ones first."""
    out = []
    for station, n in leaving.items():
        for entry in base["add_units"]:
            if n <= 0:
                break
            if entry["service"] == service and entry["station"] == station:
                k = min(n, int(entry.get("count", 1)))
                entry["count"] = int(entry.get("count", 1)) - k
                one = {key: v for key, v in entry.items() if key != "count"}
                out += [_Token(station, one) for _ in range(k)]
                n -= k
        out += [_Token(station, None) for _ in range(n)]
    return out


def placement_option(
    scenario: Scenario,
    base_option: str,
    service: str,
    sites: list[Site],
    counts: np.ndarray,
    travel: np.ndarray,
    owners: list[str],
    description: str,
) -> dict[str, Any]:
    """The option (as scenario data) that puts ``counts[i]`` units at ``sites[i]``;
    ``travel[a, b]`` is the trip between sites, ``owners[i]`` the community owning a unit
    added at site ``i``."""
    base = scenario.options[base_option].model_dump(mode="json", exclude_defaults=True)
    base.setdefault("add_units", [])
    today = station_counts(scenario, base_option, service)
    ids = [s.id for s in sites]
    want = dict(zip(ids, (int(c) for c in counts), strict=True))
    leaving = {s: n - want.get(s, 0) for s, n in today.items() if n > want.get(s, 0)}
    needing = [
        (i, want[s] - today.get(s, 0)) for i, s in enumerate(ids) if want[s] > today.get(s, 0)
    ]
    tokens = _tokens(base, service, leaving)
    at = {s: i for i, s in enumerate(ids)}
    moves: Counter[tuple[str, str]] = Counter()
    readded: list[dict[str, Any]] = []
    added: Counter[str] = Counter()
    for i, need in needing:
        for _ in range(need):
            if not tokens:
                added[ids[i]] += 1
                continue
            k = min(range(len(tokens)), key=lambda t: (travel[at[tokens[t].station], i], t))
            token = tokens.pop(k)
            if token.added is None:
                moves[(token.station, ids[i])] += 1
            else:
                readded.append({**token.added, "station": ids[i], "count": 1})
    removed = Counter(t.station for t in tokens if t.added is None)
    if removed and any(m["service"] == service for m in base.get("move_units", [])):
        raise InputError(
            f"option '{base_option}' moves {service} units, so fewer units than today cannot be "
            "placed from it; choose another --option or keep --units"
        )
    option = copy.deepcopy(base)
    option["description"] = description
    option["add_units"] = [e for e in base["add_units"] if int(e.get("count", 1)) > 0]
    option["add_units"] += _merged(readded)
    option["add_units"] += [
        {"service": service, "station": s, "count": n, "owner": owners[at[s]]}
        for s, n in added.items()
    ]
    option["remove_units"] = [
        *base.get("remove_units", []),
        *({"service": service, "station": s, "count": n} for s, n in removed.items()),
    ]
    option["move_units"] = [
        *base.get("move_units", []),
        *(
            {"service": service, "from_station": a, "to_station": b, "count": n}
            for (a, b), n in moves.items()
        ),
    ]
    return {k: v for k, v in option.items() if v or k == "description"}


def _merged(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Equal add_units entries as one, with their counts summed."""
    out: dict[str, dict[str, Any]] = {}
    for e in entries:
        key = repr(sorted((k, repr(v)) for k, v in e.items() if k != "count"))
        if key in out:
            out[key]["count"] += e["count"]
        else:
            out[key] = dict(e)
    return list(out.values())


def siting_scenario(
    scenario: Scenario,
    sites: list[Site],
    options: dict[str, dict[str, Any]],
    baseline: str,
    service: str,
    wanted: dict[str, dict[str, int]],
) -> Scenario:
    """``scenario`` with the new sites the options use and only ``options`` (``baseline``
    first), checked: each option's units of ``service`` per station are ``wanted[option]``."""
    data = scenario.model_dump(mode="json")
    used = {s for counts in wanted.values() for s, n in counts.items() if n > 0}
    data["stations"] = {
        **data.get("stations", {}),
        **{s.id: s.entry for s in sites if s.entry is not None and s.id in used},
    }
    data["options"] = options
    data["baseline"] = baseline
    out = scenario_from_dict(data)
    for name, counts in wanted.items():
        got = station_counts(out, name, service)
        expected = Counter({s: n for s, n in counts.items() if n > 0})
        assert got == expected, f"option {name}: {dict(got)} instead of {dict(expected)}"
    return out
