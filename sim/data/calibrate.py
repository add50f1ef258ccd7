"""``intersim calibrate``: a commented, valid scenario fitted to an incident log.

The scenario has the log's communities (with populations and locations from a communities
file), one service per service in the log, one incident type per type, and for each type its
rate per community (per 1,000 residents when populations are known, else per year), the fitted
distribution of each stage, its transport share and the hospital; the services' daily and weekly
profiles; travel times observed between communities; and units counted from the log's unit ids.
Every figure carries a comment saying how it was estimated and how sure it is, or that it is an
assumption to fill in. The scenario is validated before it is written.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, ScenarioError
from ..schema import Scenario
from .columns import Mapping
from .communities import Community, read_communities
from .estimate import (
    MIN_PROFILE,
    SEGMENTS,
    ServiceEstimate,
    TypeEstimate,
    Window,
    build_services,
    build_types,
    classify,
    estimate_segments,
    estimate_transport,
    estimate_units,
    poisson_ci,
    proportion_ci,
    travel_observations,
    units_needed,
    window,
)
from .log import Log, read_log
from .yamlwrite import Node, dump

__all__ = ["Calibration", "calibrate", "write_calibration"]

PLACEHOLDER_ON_SCENE = {"dist": "lognormal", "median": 14.0, "log_sd": 0.51}
DEFAULT_SPEED = 60.0


@dataclass
class Calibration:
    """What calibrate found: the estimates, the scenario text and what could not be fitted."""

    log: Log
    window: Window
    communities: list[Community]
    types: dict[str, TypeEstimate]
    services: dict[str, ServiceEstimate]
    facilities: dict[str, str]
    travel: dict[tuple[str, str], tuple[float, str]]  # (from, to) -> minutes, how
    travel_obs: Any
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    text: str = ""
    scenario: Scenario | None = None

    @property
    def per_1000(self) -> bool:
        return all(c.population for c in self.communities)


def calibrate(
    log_path: str | Path,
    *,
    communities: str | Path | None = None,
    mapping: Mapping | None = None,
    tz: str | None = None,
    name: str | None = None,
) -> Calibration:
    """Read the log, estimate everything, and build (and validate) the scenario text."""
    coms = read_communities(communities) if communities is not None else None
    log = read_log(log_path, mapping=mapping, communities=coms, tz=tz)
    if len(log.incidents) == 0:
        raise InputError(f"{log_path}: no usable incidents\n{log.summary()}")
    notes = list(log.notes)
    problems: list[str] = []
    kinds = classify(log, notes)
    coms = log.communities
    types = build_types(log, kinds, coms)
    services = build_services(log, kinds)
    facilities = estimate_transport(log, kinds, types, problems, notes)
    estimate_segments(log, kinds, types)
    units_needed(log, kinds, types)
    estimate_units(log, kinds, services, problems)
    obs = travel_observations(log)
    cal = Calibration(log, window(log), coms, types, services, facilities, {}, obs, problems,
                      notes)  # fmt: skip
    cal.travel = _travel(cal)
    for t in types.values():
        for seg in t.segments.values():
            if seg.level not in ("type", "fixed"):
                problems.append(f"{t.id} {seg.name}: {seg.note}")
    for s in services.values():
        if s.calls < MIN_PROFILE:
            problems.append(f"{s.id}: {s.calls} calls are too few for a daily and weekly profile "
                            f"(at least {MIN_PROFILE}): demand is flat")  # fmt: skip
    cal.text = _scenario_text(cal, name or f"Calibrated from {Path(log_path).name}")
    return cal


# --- travel -------------------------------------------------------------------------------------


def _distance(a: Community, b: Community) -> float | None:
    from ..schema.scenario import Location
    from ..travel import distance_km

    la, lb = a.location(), b.location()
    if la is None or lb is None or set(la) != set(lb):
        return None
    return distance_km(Location(**la), Location(**lb))


def _travel(cal: Calibration) -> dict[tuple[str, str], tuple[float, str]]:
    """Minutes between every pair of communities (and inside each): observed medians, else a
    speed over the distance, else the shortest chain of observed trips, else an assumption."""
    coms = {c.id: c for c in cal.communities}
    obs = cal.travel_obs
    out: dict[tuple[str, str], tuple[float, str]] = {}
    for row in obs.itertuples():
        if row.n >= 3 and row.home in coms and row.community in coms:
            out[(row.home, row.community)] = (float(row.median), f"median of {row.n} trips")
    speeds = []
    for (a, b), (m, _) in out.items():
        d = _distance(coms[a], coms[b]) if a != b else None
        if d and m > 0:
            speeds.append(d * 1.3 / m * 60)
    speed = float(np.median(speeds)) if speeds else None
    ids = list(coms)
    inside = [m for (a, b), (m, _) in out.items() if a == b]
    known = {k: v[0] for k, v in out.items()}
    for a, b in itertools.product(ids, ids):
        if (a, b) in out or (a != b and (b, a) in out):
            continue
        if a == b:
            value = float(np.median(inside)) if inside else 5.0
            how = ("no trips observed inside: the median of other communities' [assumption]"
                   if inside else "no trips observed inside [assumption]")  # fmt: skip
            out[(a, b)] = (value, how)
            continue
        d = _distance(coms[a], coms[b])
        if d is not None:
            v = speed or DEFAULT_SPEED
            src = f"{v:.0f} km/h fitted to observed trips" if speed else f"{v:.0f} km/h [assumption]"
            out[(a, b)] = (d * 1.3 / v * 60, f"no trips observed: {d:.1f} km x 1.3 at {src}")
            continue
        chain = _chain(known, ids, a, b)
        if chain is not None:
            out[(a, b)] = (chain, "no trips observed: the shortest chain of observed trips")
        else:
            worst = max(known.values(), default=10.0)
            out[(a, b)] = (1.5 * worst, "no trips observed and no locations: 1.5 x the longest "
                                        "observed trip [assumption]; FILL IN")  # fmt: skip
    return out


def _chain(known: dict[tuple[str, str], float], ids: list[str], a: str, b: str) -> float | None:
    d = {(x, y): v for (x, y), v in known.items() if x != y}
    d.update({(y, x): v for (x, y), v in known.items() if x != y and (y, x) not in d})
    dist = {x: math.inf for x in ids}
    dist[a] = 0.0
    todo = set(ids)
    while todo:
        x = min(todo, key=lambda k: dist[k])
        todo.discard(x)
        if dist[x] == math.inf:
            break
        for y in ids:
            if (x, y) in d and dist[x] + d[(x, y)] < dist[y]:
                dist[y] = dist[x] + d[(x, y)]
    return None if dist[b] == math.inf else dist[b]


# --- the scenario ------------------------------------------------------------------------------


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
        out[c.id] = Node(_r(n * scale), f"{n} calls in {cal.window.days} d; 95 % CI "
                                        f"{_r(lo * scale, 3):g}-{_r(hi * scale, 3):g}")  # fmt: skip
    return Node(out)


def _distribution(seg_name: str, t: TypeEstimate) -> Node | None:
    seg = t.segments.get(seg_name)
    if seg is None:
        return None
    if seg.spec is None:
        if seg_name != "on_scene":
            return None
        return Node(dict(PLACEHOLDER_ON_SCENE), f"{seg.note}: placeholder, NEMSIS 2010 EMS "
                    "on-scene times [assumption]; FILL IN", flow=True)  # fmt: skip
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
            above=[f"{s.id}: {s.calls} calls by local hour and weekday ({w.days} days); the "
                   f"quietest hour's figure is within about +-{100 * rel:.0f} % (95 %)"],
        )  # fmt: skip
    return out


def _units(cal: Calibration, svc: ServiceEstimate) -> tuple[list[Node], str]:
    demand = {c for t in cal.types.values() if t.service == svc.id
              for c, n in t.counts.items() if n > 0}  # fmt: skip
    need = max(t.units_needed for t in cal.types.values() if t.service == svc.id)
    if svc.units:
        groups = [Node({"station": c, "count": n}, f"{n} distinct unit id(s) based here")
                  for c, n in sorted(svc.units.items())]  # fmt: skip
        if sum(svc.units.values()) < need:
            groups.append(Node({"station": sorted(demand)[0], "count": need - sum(svc.units.values())},
                               "added so that incidents needing several units can be served "
                               "[assumption]"))  # fmt: skip
        return groups, svc.units_note
    groups = [Node({"station": c, "count": need}, "[assumption] FILL IN")
              for c in sorted(demand)]  # fmt: skip
    return groups, (f"{svc.units_note}: {need} unit(s) in every community with demand is an "
                    "ASSUMPTION; replace with the real fleet")  # fmt: skip


def _policy(cal: Calibration, svc: ServiceEstimate) -> Node:
    need = max(t.units_needed for t in cal.types.values() if t.service == svc.id)
    demand = {c for t in cal.types.values() if t.service == svc.id
              for c, n in t.counts.items() if n > 0}  # fmt: skip
    owned = svc.units or {c: need for c in demand}
    covered = all(owned.get(c, 0) >= need for c in demand)
    share = svc.cross_border
    if share is None:
        policy = "separate" if covered else "pooled"
        why = "no unit homes in the log: " + ("each community uses its own units [assumption]"
                                              if covered else "pooled [assumption]")  # fmt: skip
    else:
        pct = f"{100 * share:.1f} % of first units came from another community"
        if share < 0.01 and covered:
            policy = "separate"
        elif share < 0.2 and covered:
            policy = "mutual_aid"
        else:
            policy = "pooled"
        why = f"{pct} (log)"
        if not covered:
            why += "; some communities with demand own no unit"
    return Node({"policy": policy}, why, flow=True)


def _scenario_text(cal: Calibration, name: str) -> str:
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
        if c.zone:
            body["zone"] = c.zone
        if c.area_km2:
            body["area_km2"] = c.area_km2
        coms[c.id] = Node(body, note)
    matrix: dict[str, dict[str, Node]] = {}
    for (a, b), (minutes, how) in cal.travel.items():
        matrix.setdefault(a, {})[b] = Node(_r(minutes, 3), how)
    travel: dict[str, Any] = {"matrix": Node(matrix)}
    obs = cal.travel_obs
    if obs.attrs.get("trips", 0) >= 30:
        sd = _r(obs.attrs["log_sd"], 3)
        travel["noise"] = Node({"log_sd": sd}, f"spread of {obs.attrs['trips']} observed trips "
                               "around their pair's median (includes any time-of-day effect)",
                               flow=True)  # fmt: skip
    services: dict[str, Any] = {}
    for s in cal.services.values():
        groups, note = _units(cal, s)
        body = {"name": s.label, "units": Node(groups, note)}
        if s.calls >= MIN_PROFILE:
            body["profile"] = s.id
        services[s.id] = Node(body)
    data: dict[str, Any] = {
        "name": name,
        "description": (f"Fitted by intersim calibrate to {Path(log.file).name}: "
                        f"{len(log.incidents)} incidents over {w.days} days from "
                        f"{w.first_day.date()}."),  # fmt: skip
        "communities": Node(coms, above=_community_notes(cal)),
    }
    if cal.facilities:
        data["facilities"] = {f: Node({"community": c}, "[inferred] from transport times")
                              for f, c in cal.facilities.items()}  # fmt: skip
    data["travel"] = Node(travel, above=[
        "Median en-route -> on-scene minutes of the first unit, from its home community (row) "
        "to the incident's community; the diagonal is travel inside a community."])  # fmt: skip
    data["services"] = services
    profiles = _profiles(cal)
    if profiles:
        data["profiles"] = profiles
    data["incident_types"] = Node({t.id: _type_node(cal, t) for t in cal.types.values()}, above=[
        "Distributions: the best by AIC of exponential, lognormal, gamma and normal "
        "(maximum likelihood); KS: Kolmogorov-Smirnov test of that fit."])  # fmt: skip
    warmup = "1 d" if w.horizon_days >= 14 else 0
    data["run"] = Node({"horizon": f"{w.horizon_days} d", "warmup": warmup, "replications": 10,
                        "seed": 12345}, above=[
        f"Time 0 is {w.origin.date()} 00:00 (local), the Monday before the first call; the "
        "horizon ends with the log's last day, so the log can be replayed (--replay)."])  # fmt: skip
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


def _community_notes(cal: Calibration) -> list[str]:
    if cal.per_1000:
        return ["Populations and locations from the communities file."]
    return ["Populations are not all known: rates are per year, not per 1,000 residents."]


def validate_text(text: str, where: Path) -> Scenario:
    """Load the written text as a scenario (raise InputError naming the problems if invalid)."""
    from ..schema import load_scenario

    try:
        return load_scenario(where)
    except ScenarioError as exc:
        raise InputError(
            f"calibrate: the scenario written to {where} does not validate (a bug; please "
            f"report it): {exc.problems[0]}"
        ) from None


def write_calibration(cal: Calibration, out: str | Path, *, report: bool = True,
                      progress: Callable[[str], None] | None = None) -> list[Path]:  # fmt: skip
    """Write the scenario (validated first) and the report next to it; return the paths."""
    from ..outputs import atomic_write_text

    path = Path(out)
    if not path.parent.is_dir():
        raise InputError(f"--out: no such directory: {path.parent}")
    if path.is_dir():
        raise InputError(f"--out: {path} is a directory; give a file such as scenario.yaml")
    tmp = path.with_name(f".{path.name}.check.yaml")
    try:
        tmp.write_text(cal.text, encoding="utf-8")
        cal.scenario = validate_text(cal.text, tmp)
    finally:
        tmp.unlink(missing_ok=True)
    atomic_write_text(path, cal.text)
    written = [path]
    if report:
        from .report import write_report

        written.append(write_report(cal, path.with_suffix(".report.html")))
    return written


__all__ += ["SEGMENTS", "validate_text"]
