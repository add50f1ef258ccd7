"""The calibrated scenario as commented YAML: every figure with its source and uncertainty.

Built from a :class:`~sim.data.calibrate.Calibration` with :mod:`sim.data.yamlwrite`. Rates
carry their count and Poisson interval, distributions their fit quality (n, AIC against the
runner-up, KS test, parameter intervals), travel times their number of trips, units their
source; whatever is not from the log says ``[assumption]`` and ``FILL IN``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine.policies import MutualAid, Pooled, Separate
from .parameters import MIN_PROFILE, ServiceEstimate, TypeEstimate, poisson_ci, proportion_ci
from .travel import DEFAULT_SPEED, DETOUR
from .yamlwrite import Node, dump

if TYPE_CHECKING:
    from .calibrate import Calibration
    from .zonecounts import ZoneCounts

__all__ = ["PLACEHOLDER_ON_SCENE", "scenario_text"]

PLACEHOLDER_ON_SCENE = {"dist": "lognormal", "median": 14.0, "log_sd": 0.51}


def _r(v: float, digits: int = 4) -> float:
    if v == 0 or not math.isfinite(v):
        return 0.0
    return float(round(v, max(0, digits - 1 - math.floor(math.log10(abs(v))))))


def _rates(cal: Calibration, t: TypeEstimate) -> Node:
    years = cal.window.years
    out: dict[str, Node] = {}
    for c in cal.communities:
        n = t.counts.get(c.id, 0)
        lo, hi = poisson_ci(n)
        scale = 1000.0 / c.population / years if cal.per_1000 and c.population else 1.0 / years
        out[c.id] = Node(
            _r(n * scale),
            f"{n} calls in {cal.window.days} d; 95 % CI "
            f"{_r(lo * scale, 3):g}-{_r(hi * scale, 3):g}",
        )
    return Node(out)


def _distribution(seg_name: str, t: TypeEstimate) -> Node | None:
    seg = t.segments.get(seg_name)
    if seg is None:
        return None
    if seg.spec is None:
        if seg_name != "on_scene":
            return None
        return Node(
            dict(PLACEHOLDER_ON_SCENE),
            f"{seg.note}: placeholder, NEMSIS 2010 EMS on-scene times [assumption]; FILL IN",
            flow=True,
        )
    if seg.level == "type":
        comment = f"{seg.fit.comment()}" + (f"; {seg.note}" if seg.note else "")
    elif seg.level == "fixed":
        comment = seg.note
    else:
        comment = seg.note + (f"; {seg.fit.comment()}" if seg.level == "service" else "")
    return Node(seg.spec, comment, flow=True)


def _type_node(cal: Calibration, t: TypeEstimate) -> Node:
    key = "rate_per_1000" if cal.per_1000 else "rate_per_year"
    body: dict[str, Any] = {
        "service": t.service,
        "priority": Node(t.priority, f"log type {t.label!r}"),
        key: _rates(cal, t),
    }
    if t.units_needed > 1:
        body["units_needed"] = Node(t.units_needed, "the most common number of units per incident")
    for seg in ("call_handling", "turnout", "on_scene"):
        node = _distribution(seg, t)
        if node is not None:
            body[seg] = node
        elif seg != "on_scene":
            body[seg] = Node(0, f"{t.segments[seg].note}: 0 [assumption]; FILL IN")
    if t.transport and t.transport[0] and t.facility:
        k, n = t.transport
        lo, hi = proportion_ci(k, n)
        transport: dict[str, Any] = {
            "probability": Node(_r(k / n), f"{k} of {n} incidents; 95 % CI {lo:.3f}-{hi:.3f}"),
            "facility": t.facility,
        }
        handover = _distribution("handover", t)
        if handover is not None:
            transport["handover"] = handover
        body["transport"] = Node(transport)
    above = f"{t.label}: {sum(t.counts.values())} incidents"
    if t.transport is not None and t.transport[1] and not t.transport[0]:
        above += f"; none of {t.transport[1]} was transported"
    return Node(body, above=[above])


def _profiles(cal: Calibration) -> dict[str, Node]:
    out = {}
    w = cal.window
    for s in cal.services.values():
        if s.calls < MIN_PROFILE:
            continue
        hours = s.hours / s.hours.mean()
        per_day = np.divide(s.days, w.weekdays, out=np.full(7, np.nan), where=w.weekdays > 0)
        per_day = np.where(np.isfinite(per_day), per_day, np.nanmean(per_day))
        days = per_day / per_day.mean()
        rel = 1.96 / math.sqrt(max(s.hours.min(), 1))
        out[s.id] = Node(
            {
                "hour_of_day": Node([_r(v, 4) for v in hours], "local time, from 00:00"),
                "day_of_week": Node([_r(v, 4) for v in days], "Monday first"),
            },
            above=[
                f"{s.id}: {s.calls} calls by local hour and weekday ({w.days} days); the "
                f"quietest hour's figure is within about +-{100 * rel:.0f} % (95 %)"
            ],
        )
    return out


def _units(cal: Calibration, svc: ServiceEstimate) -> tuple[list[Node], str]:
    demand = {
        c for t in cal.types.values() if t.service == svc.id for c, n in t.counts.items() if n > 0
    }
    need = max(t.units_needed for t in cal.types.values() if t.service == svc.id)
    if svc.units:
        groups = [
            Node({"station": c, "count": n}, f"{n} distinct unit id(s) based here")
            for c, n in sorted(svc.units.items())
        ]
        if sum(svc.units.values()) < need:
            groups.append(
                Node(
                    {"station": sorted(demand)[0], "count": need - sum(svc.units.values())},
                    "added so that incidents needing several units can be served [assumption]",
                )
            )
        return groups, svc.units_note
    groups = [Node({"station": c, "count": need}, "[assumption] FILL IN") for c in sorted(demand)]
    return groups, (
        f"{svc.units_note}: {need} unit(s) in every community with demand is an "
        "ASSUMPTION; replace with the real fleet"
    )


def _policy(cal: Calibration, svc: ServiceEstimate) -> Node:
    need = max(t.units_needed for t in cal.types.values() if t.service == svc.id)
    demand = {
        c for t in cal.types.values() if t.service == svc.id for c, n in t.counts.items() if n > 0
    }
    owned = svc.units or {c: need for c in demand}
    covered = all(owned.get(c, 0) >= need for c in demand)
    share = svc.cross_border
    if share is None:
        policy = Separate.name if covered else Pooled.name
        why = "no unit homes in the log: " + (
            "each community uses its own units [assumption]" if covered else "pooled [assumption]"
        )
    else:
        pct = f"{100 * share:.1f} % of first units came from another community"
        if share < 0.01 and covered:
            policy = Separate.name
        elif share < 0.2 and covered:
            policy = MutualAid.name
        else:
            policy = Pooled.name
        why = f"{pct} (log)"
        if not covered:
            why += "; some communities with demand own no unit"
    return Node({"policy": policy}, why, flow=True)


def scenario_text(cal: Calibration, name: str) -> str:
    """The whole scenario file, with a header saying what was read and what is missing."""
    w = cal.window
    log = cal.log
    coms: dict[str, Any] = {}
    for c in cal.communities:
        body: dict[str, Any] = {}
        if c.name != c.id:
            body["name"] = c.name
        note = ""
        if c.population:
            body["population"] = c.population
        else:
            body["population"] = 1000
            note = "population unknown: 1000 [assumption]; FILL IN"
        if c.location():
            body["location"] = c.location()
            note = cal.located.get(c.id, note)
        if c.zone:
            body["zone"] = c.zone
        if c.area_km2:
            body["area_km2"] = c.area_km2
        coms[c.id] = Node(body, note)
    matrix: dict[str, dict[str, Node]] = {}
    for (a, b), (minutes, how) in cal.travel.items():
        matrix.setdefault(a, {})[b] = Node(_r(minutes, 3), how)
    travel: dict[str, Any] = {"matrix": Node(matrix)}
    if cal.zones is not None:
        travel["speed_kmh"] = _speed(cal.zones)
    obs = cal.travel_obs
    if obs.attrs.get("trips", 0) >= 30:
        sd = _r(obs.attrs["log_sd"], 3)
        travel["noise"] = Node(
            {"log_sd": sd},
            f"spread of {obs.attrs['trips']} observed trips "
            "around their pair's median (includes any time-of-day effect)",
            flow=True,
        )
    services: dict[str, Any] = {}
    for s in cal.services.values():
        groups, note = _units(cal, s)
        body = {"name": s.label, "units": Node(groups, note)}
        if s.calls >= MIN_PROFILE:
            body["profile"] = s.id
        services[s.id] = Node(body)
    data: dict[str, Any] = {
        "name": name,
        "description": (
            f"Fitted by intersim calibrate to {Path(log.file).name}: "
            f"{len(log.incidents)} incidents over {w.days} days from "
            f"{w.first_day.date()}."
        ),
        "communities": Node(coms, above=_community_notes(cal)),
    }
    if cal.zones is not None:
        data["zones"] = _zones(cal)
    if cal.facilities:
        data["facilities"] = {
            f: Node({"community": c}, "[inferred] from transport times")
            for f, c in cal.facilities.items()
        }
    data["travel"] = Node(
        travel,
        above=[
            "Median en-route -> on-scene minutes of the first unit, from its home community (row) "
            "to the incident's community; the diagonal is travel inside a community."
        ],
    )
    data["services"] = services
    profiles = _profiles(cal)
    if profiles:
        data["profiles"] = profiles
    data["incident_types"] = Node(
        {t.id: _type_node(cal, t) for t in cal.types.values()},
        above=[
            "Distributions: the best by AIC of exponential, lognormal, gamma and normal "
            "(maximum likelihood); KS: Kolmogorov-Smirnov test of that fit."
        ],
    )
    warmup = "1 d" if w.horizon_days >= 14 else 0
    data["run"] = Node(
        {"horizon": f"{w.horizon_days} d", "warmup": warmup, "replications": 10, "seed": 12345},
        above=[
            f"Time 0 is {w.origin.date()} 00:00 (local), the Monday before the first call; the "
            "horizon ends with the log's last day, so the log can be replayed (--replay)."
        ],
    )
    data["dispatch"] = {s.id: _policy(cal, s) for s in cal.services.values()}
    data["options"] = {"current": {"description": "The arrangement observed in the log."}}
    header = [
        f"Calibrated by intersim calibrate from {log.file}",
        f"on {datetime.now(UTC).strftime('%Y-%m-%d %H:%M')} UTC: {log.rows} row(s) read, "
        f"{len(log.incidents)} incident(s) used.",
    ]
    header += [f"dropped {n}: {r}" for r, n in log.dropped.most_common()]
    header += [f"partly used {n}: {r}" for r, n in log.partial.most_common()]
    if cal.problems:
        header += ["", "Not fitted from the log (see the comments below):"]
        header += [f"- {p}" for p in cal.problems]
    header += ["", "Check every [assumption] and FILL IN before using the results."]
    return dump(data, header)


def _zones(cal: Calibration) -> Node:
    """The zone file written beside the scenario, and how its weights were chosen."""
    counts = cal.zones
    assert counts is not None
    spec: dict[str, Any] = {"file": cal.zone_file}
    if counts.zones.frame.planar and cal.zone_file.endswith(".gpkg"):
        spec["crs"] = "km"
    _, per_service, _ = counts.weights()
    if per_service:
        spec["weights"] = {sid: f"weight_{sid}" for sid in per_service}
    placed = int(counts.calls.sum())
    how = (
        "the zone file's weights"
        if counts.mode == "file"
        else "the calls logged in each zone, per service (--zone-weights calls)"
    )
    return Node(
        spec,
        above=[
            f"{len(counts.zones)} zones from {counts.zones.source}; {placed} of "
            f"{placed + counts.unplaced} incidents placed in a zone. Weights: {how}; the "
            "file's calls columns count the log's calls per zone."
        ],
    )


def _speed(counts: ZoneCounts) -> Node:
    if counts.speed is None:
        return Node(DEFAULT_SPEED, "trips to zones: no trips observed [assumption]; FILL IN")
    kmh, trips = counts.speed
    return Node(
        _r(kmh, 3),
        f"trips to zones: median of {trips} first units' trips from their home to the "
        f"incident's zone, straight line x {DETOUR}",
    )


def _community_notes(cal: Calibration) -> list[str]:
    if cal.per_1000:
        return ["Populations and locations from the communities file."]
    return ["Populations are not all known: rates are per year, not per 1,000 residents."]
