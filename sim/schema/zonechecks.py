"""Checks of explicit zones against the rest of the scenario: their ids are new, their
communities known, their weights name services or incident types and give every type with
demand somewhere to happen, and burst zones lie in the burst's community.
"""

from __future__ import annotations

import numpy as np

from .scenario import Scenario
from .zonesource import Found, ZoneSet, ZoneSource, unknown

__all__ = ["burst_problems", "has_rate", "weight_problems", "zone_problems", "zone_weights"]


def has_rate(s: Scenario, type_id: str, community: str) -> bool:
    """Whether incidents of ``type_id`` happen in ``community`` (before surges)."""
    t = s.incident_types[type_id]
    rate = t.rate_per_1000 if t.rate_per_1000 is not None else t.rate_per_year
    value = rate.get(community, 0.0) if isinstance(rate, dict) else rate
    return bool(value) and t.share > 0


def zone_problems(s: Scenario, zones: ZoneSource) -> list[Found]:
    found: list[Found] = []
    for section, group in (
        ("community", s.communities),
        ("station", s.stations),
        ("facility", s.facilities),
    ):
        taken = np.array([z in group for z in zones.ids])
        found += zones.flag(taken, lambda i, w=section: f"zone '{zones.ids[i]}' is already a {w}")
    bad = np.array([c is not None and c not in s.communities for c in zones.community])
    found += zones.flag(bad, lambda i: unknown("community", str(zones.community[i]), s.communities))
    known = set(s.services) | set(s.incident_types)
    for key in zones.weights:
        if key not in known:
            msg = f"weights for '{key}', which is neither a service nor an incident type"
            if zones.rows is None:
                found += [
                    (("zones", zid, "weights", key), msg)
                    for zid, z in (s.zones or {}).items()  # type: ignore[union-attr]
                    if key in z.weights
                ]
            else:
                found.append((("zones", "weights", key), msg))
    return found


def zone_weights(zones: ZoneSet, s: Scenario, type_id: str) -> np.ndarray:
    """Each zone's weight for incidents of ``type_id``: the type's, else its service's, else
    the zone's base weight."""
    w = zones.weight.copy()
    for key in (s.incident_types[type_id].service, type_id):
        given = zones.weights.get(key)
        if given is not None:
            w = np.where(np.isnan(given), w, given)
    return w


def weight_problems(s: Scenario, zones: ZoneSet, source: ZoneSource) -> list[Found]:
    found: list[Found] = []
    com = np.array(zones.community)
    for tid in s.incident_types:
        w = zone_weights(zones, s, tid)
        for c in dict.fromkeys(zones.community):
            if has_rate(s, tid, c) and w[com == c].sum() <= 0:
                msg = (
                    f"every zone of '{c}' weighs 0 for '{tid}', which has demand there; "
                    "give some zone a weight"
                )
                where = source.rows.about_file(msg) if source.rows else (("zones",), msg)
                found.append(where)
    return found


def burst_problems(s: Scenario, zones: ZoneSet) -> list[Found]:
    of = dict(zip(zones.ids, zones.community, strict=True))
    with_zones = set(zones.community)
    found: list[Found] = []
    for i, b in enumerate(s.bursts):
        if b.zone is None or b.community not in s.communities:
            continue
        if b.zone in of and of[b.zone] != b.community:
            found.append(
                (
                    ("bursts", i, "zone"),
                    f"zone '{b.zone}' is in '{of[b.zone]}', not in '{b.community}'",
                )
            )
        elif b.zone not in of and not (b.zone == b.community and b.community not in with_zones):
            own = [z for z, c in of.items() if c == b.community] or [b.community]
            found.append((("bursts", i, "zone"), unknown(f"zone of '{b.community}'", b.zone, own)))
    return found
