"""Replay: real (or exported) incidents drive the simulation instead of sampled arrivals.

:func:`load_replay` reads an incident log against a scenario: each incident's call time, place
and type, and, where the log gives them, its call handling (call -> call processed), the first
unit's turnout (dispatched -> en route, when positive: a zero means the unit was sent from the
road, which the simulation decides itself), its time on scene (on scene -> left scene), whether
it was transported (a hospital arrival) and the handover (hospital arrival -> clear). Log times
become minutes since the Monday 00:00 (local) on or before the first call, or since ``start``;
incidents outside [0, horizon) of the scenario are left out and counted.

:func:`replay_source` turns it into an :data:`~sim.engine.driver.IncidentSource` for ``run``
and ``compare`` (picklable: replications may run in other processes). Whatever the log does
not give is drawn from the scenario's distributions with the usual addressed streams:
attributes per community x type from a replay stream, travel noise from the same stream as
sampled runs. So replications differ only in the drawn attributes, all options of a
replication see the same incidents, and replaying a log exported from a run with the same
seed reproduces that run's incidents exactly.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from datetime import timezone
from pathlib import Path

import numpy as np
import pandas as pd

from ..engine.demand import DURATION, Incidents, place_in_zones, transport_facilities
from ..engine.driver import IncidentSource
from ..errors import InputError
from ..model.compile import Region
from ..model.sampling import draw
from ..model.streams import NOISE, stream
from ..schema import Scenario
from .columns import Mapping, describe
from .communities import from_scenario, name_key
from .log import Log, minutes_between, read_log
from .times import to_timestamp
from .zones import scenario_zones

__all__ = [
    "REPLAY",
    "ReplayLog",
    "ReplaySource",
    "load_replay",
    "replay_incidents",
    "replay_source",
]

DROPPED_WARNING = 0.1  # share of a log's incidents dropped beyond which a run warns
REPLAY = 9  # stream kind of attributes drawn for replayed incidents (sim.streams uses 0-2)


@dataclass(frozen=True)
class ReplayLog:
    """Incidents of a log in the scenario's terms: minutes since ``origin``, community and
    type ids, and the observed durations (NaN where the log does not say)."""

    file: str
    origin: pd.Timestamp
    t_call: np.ndarray
    community: np.ndarray  # community ids (str)
    type: np.ndarray  # incident type ids (str)
    zone: np.ndarray  # zone ids (str), None where the log gives neither zone nor coordinates
    destination: np.ndarray  # facility ids (str) transports went to, None where not given
    call_handling: np.ndarray
    turnout: np.ndarray
    on_scene: np.ndarray
    transport: np.ndarray  # 1.0, 0.0, or NaN where unknown
    handover: np.ndarray
    response: np.ndarray  # observed call -> first unit on scene
    log: Log
    dropped: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.t_call)

    def summary(self) -> str:
        given = {
            "on-scene times": self.on_scene,
            "call handling": self.call_handling,
            "turnouts": self.turnout,
            "transports": self.transport,
            "handovers": self.handover,
        }
        shares = ", ".join(
            f"{name} {np.isfinite(v).mean():.0%}" for name, v in given.items() if len(v)
        )
        lines = [
            f"replay: {len(self)} incident(s) from {self.file}, time 0 = "
            f"{self.origin.isoformat()}; given by the log: {shares or 'nothing'}",
            *self.log.summary().splitlines()[1:],
            *(f"  dropped {n}: {reason}" for reason, n in self.dropped.most_common()),
            *(f"  note: {n}" for n in self.notes),
            *(f"warning: {w}" for w in self.warnings),
        ]
        return "\n".join(lines)


def _types(log: Log, scenario: Scenario, dropped: Counter[str]) -> pd.Series:
    """The scenario's incident type of every incident (None where there is none)."""
    inc = log.incidents
    types = scenario.incident_types
    by_key = {name_key(t): t for t in types}
    if "incident_type" in inc and inc["incident_type"].notna().any():
        values = inc["incident_type"]
        out = values.map(lambda v: by_key.get(name_key(v)) if isinstance(v, str) else None)
        bad = out.isna()
        if bad.any():
            examples = ", ".join(repr(v) for v in values[bad].value_counts().index[:5])
            dropped[f"incident type not in the scenario ({examples})"] += int(bad.sum())
        return out
    by_service: dict[tuple[str, int | None], list[str]] = {}
    for tid, t in types.items():
        by_service.setdefault((name_key(t.service), t.priority), []).append(tid)
        by_service.setdefault((name_key(t.service), None), []).append(tid)
    if "service" not in inc and len(types) == 1:
        return pd.Series(next(iter(types)), index=inc.index, dtype=object)
    if "service" not in inc:
        raise InputError(
            f"{log.file}: no incident_type column, and the scenario has several types: say "
            "which column holds the type with --replay-map COLUMN=incident_type"
        )
    prio = (
        pd.to_numeric(inc["priority"].str.extract(r"(\d+)", expand=False), errors="coerce")
        if "priority" in inc
        else pd.Series(np.nan, index=inc.index)
    )

    def pick(service: object, p: float) -> str | None:
        key = (name_key(service), None if np.isnan(p) else int(p))
        found = by_service.get(key) or []
        return found[0] if len(found) == 1 else None

    out = pd.Series(
        [pick(s, p) for s, p in zip(inc["service"], prio, strict=True)],
        index=inc.index,
        dtype=object,
    )
    if out.isna().any():
        dropped["no single scenario type for the service and priority"] += int(out.isna().sum())
    return out


def load_replay(
    path: str | Path,
    scenario: Scenario,
    *,
    start: str | None = None,
    tz: str | None = None,
    mapping: Mapping | None = None,
) -> ReplayLog:
    """Read a log for replay through ``scenario`` (see the module docstring)."""
    log = read_log(
        path,
        mapping=mapping,
        communities=from_scenario(scenario),
        tz=tz,
        zones=scenario_zones(scenario),
    )
    inc = log.incidents
    dropped: Counter[str] = Counter()
    notes: list[str] = []
    if len(inc) == 0:
        raise InputError(log.why_empty())
    if start is not None:
        origin = to_timestamp(start, tz, "--replay-start")
    else:  # the Monday 00:00 (local) on or before the first call
        first = int(inc["call_local"].to_numpy().argmin())
        local = inc["call_local"].iloc[first]
        monday = local.normalize() - pd.Timedelta(days=int(local.day_of_week))
        origin = inc["call_time"].iloc[first] - (local - monday)
        if tz:
            origin = origin.tz_convert(tz)
        else:  # shown in the first call's own offset
            offset = local - inc["call_time"].iloc[first].tz_localize(None)
            origin = origin.tz_convert(timezone(offset.to_pytimedelta()))
    t = minutes_between(inc["call_time"], pd.Series(origin, index=inc.index))
    kinds = _types(log, scenario, dropped)
    keep = np.array(kinds.notna(), dtype=bool)
    before, after = keep & (t < 0), keep & (t >= scenario.run.horizon)
    if before.any():
        dropped["before the start (time 0)"] += int(before.sum())
    if after.any():
        dropped[f"after the scenario's horizon ({scenario.run.horizon:g} min)"] += int(after.sum())
    keep &= ~before & ~after
    warnings = _dropped_check(str(path), len(inc), int(keep.sum()), dropped)

    def span(a: str, b: str) -> np.ndarray:
        if a not in log.stages or b not in log.stages:
            return np.full(len(inc), np.nan)
        return minutes_between(inc[b], inc[a])

    turnout = span("dispatched", "en_route")
    turnout[~(turnout > 0)] = np.nan  # zero: sent from the road, which the engine decides
    transport = np.full(len(inc), np.nan)
    if "at_hospital" in log.stages:
        known = inc["at_hospital"].notna()
        for c in ("left_scene", "clear"):
            if c in inc:
                known |= inc[c].notna()
        transport[known.to_numpy()] = inc["at_hospital"].notna()[known].astype(float)
        no_facility = {tid for tid, ty in scenario.incident_types.items() if ty.transport is None}
        odd = keep & (transport == 1) & kinds.isin(no_facility).to_numpy()
        if odd.any():
            notes.append(
                f"{int(odd.sum())} transported incident(s) of types without transport "
                "in the scenario: replayed without transport"
            )
            transport[odd] = 0.0
    return ReplayLog(
        str(path),
        origin,
        t[keep],
        inc["community"].to_numpy(dtype=object)[keep],
        kinds.to_numpy(dtype=object)[keep],
        np.array([z if isinstance(z, str) else None for z in inc["zone"]], dtype=object)[keep],
        _destinations(log, scenario, keep),
        span("call_time", "call_processed")[keep],
        turnout[keep],
        span("on_scene", "left_scene")[keep],
        transport[keep],
        span("at_hospital", "clear")[keep],
        span("call_time", "on_scene")[keep],
        log,
        dropped,
        notes,
        warnings,
    )


def _destinations(log: Log, scenario: Scenario, keep: np.ndarray) -> np.ndarray:
    """The facility id of every kept incident's ``destination`` (None where empty); the log's
    values are facility ids or names, ignoring case. InputError at the first unknown one."""
    out = np.full(int(keep.sum()), None, dtype=object)
    inc = log.incidents
    if "destination" not in inc:
        return out
    known: dict[str, str] = {}
    for fid, f in scenario.facilities.items():
        for text in (fid, f.name or fid):
            known.setdefault(name_key(text), fid)
    values = inc["destination"].to_numpy(dtype=object)[keep]
    rows = inc["row"].to_numpy()[keep]
    for i, value in enumerate(values):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        found = known.get(name_key(value))
        if found is None:
            shown = ", ".join(sorted(scenario.facilities)[:12]) or "none"
            raise InputError(
                f"{log.file}: row {rows[i]}: destination: unknown facility "
                f"'{describe(value)}' (facilities of the scenario: {shown})"
            )
        out[i] = found
    return out


def _dropped_check(file: str, total: int, kept: int, dropped: Counter[str]) -> list[str]:
    """InputError when no incident of the log is usable; a warning (for the console, the
    manifest and the report) when more than :data:`DROPPED_WARNING` of them were dropped."""
    reasons = "; ".join(f"dropped {n}: {why}" for why, n in dropped.most_common(3))
    if kept == 0:
        raise InputError(
            f"{file}: no incident of the log can be replayed in this scenario ({reasons})"
        )
    share = 1 - kept / total
    if share <= DROPPED_WARNING:
        return []
    return [
        f"replay: {total - kept} of {total} incident(s) of {file} ({share:.0%}) were dropped "
        f"({reasons}); the replayed demand is that much lower than the log's"
    ]


def _given(drawn: np.ndarray, observed: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(observed), observed, drawn)


def replay_incidents(
    region: Region, replay: ReplayLog | ReplaySource, seed: int, replication: int
) -> Incidents:
    """The log's incidents for one replication, with missing attributes drawn."""
    try:
        com = np.array([region.communities.index(c) for c in replay.community], dtype=np.int64)
        ids = [t.id for t in region.types]
        typ = np.array([ids.index(k) for k in replay.type], dtype=np.int64)
    except ValueError as exc:
        raise InputError(f"replay: the log does not fit this scenario ({exc})") from None
    n, kmax = len(replay), region.max_units_needed
    order = np.argsort(replay.t_call, kind="stable")
    zone = _zone_indices(region, replay.zone)
    cols = {
        "call_handling": np.zeros(n, dtype=DURATION),
        "on_scene": np.zeros(n, dtype=DURATION),
        "handover": np.zeros(n, dtype=DURATION),
        "transport": np.zeros(n, dtype=bool),
        "turnout": np.full((n, kmax), np.nan, dtype=DURATION),
        "noise": np.ones((n, kmax + 1), dtype=DURATION),
    }
    for c in range(len(region.communities)):
        for k, spec in enumerate(region.types):
            idx = order[(com[order] == c) & (typ[order] == k)]  # in call order, as when sampled
            m, need = len(idx), spec.units_needed
            if m == 0:
                continue
            unplaced = idx[zone[idx] < 0]  # the log gives no zone: drawn as when sampled
            zone[unplaced] = place_in_zones(region, c, k, len(unplaced), seed, replication)
            rng = stream(seed, replication, REPLAY, c, k)
            ch = _given(draw(spec.call_handling, rng, m), replay.call_handling[idx])
            turnout = draw(spec.turnout, rng, (m, need))
            turnout[:, 0] = _given(turnout[:, 0], replay.turnout[idx])
            scene = _given(draw(spec.on_scene, rng, m), replay.on_scene[idx])
            moved = rng.uniform(size=m) < spec.transport_prob
            moved = np.where(np.isfinite(replay.transport[idx]), replay.transport[idx] > 0, moved)
            handover = _given(draw(spec.handover, rng, m), replay.handover[idx])
            cols["call_handling"][idx] = ch
            cols["turnout"][idx, :need] = turnout
            cols["on_scene"][idx] = scene
            cols["transport"][idx] = moved
            cols["handover"][idx] = handover
            if region.noise_sd > 0:  # the stream and shape of sampled runs: the same noise
                nrng = stream(seed, replication, NOISE, c, k)
                noise = nrng.lognormal(0.0, region.noise_sd, (m, need + 1))
                cols["noise"][idx, :need] = noise[:, :need]
                cols["noise"][idx, kmax] = noise[:, need]
    facility = transport_facilities(region, typ, zone)
    given = np.array([isinstance(d, str) for d in replay.destination], dtype=bool) & (facility >= 0)
    facility[given] = [region.place_of[d] for d in replay.destination[given]]
    cols["transport"] &= facility >= 0
    return Incidents(
        t_call=replay.t_call[order].astype(np.float64),
        type=typ[order].astype(np.int16),
        community=com[order].astype(np.int16),
        zone=zone[order],
        facility=facility[order],
        **{name: values[order] for name, values in cols.items()},
    )


def _zone_indices(region: Region, zones: np.ndarray) -> np.ndarray:
    """Zone index of every incident (-1 where the log gives none)."""
    index = {z: i for i, z in enumerate(region.zone_ids)}
    try:
        return np.array([index[z] if isinstance(z, str) else -1 for z in zones], dtype=np.int32)
    except KeyError as exc:
        raise InputError(f"replay: the log does not fit this scenario (zone {exc})") from None


@dataclass(frozen=True)
class ReplaySource:
    """The incident source of a replay: the log's arrays alone (picklable and small), so that
    replications can run in other processes."""

    t_call: np.ndarray
    community: np.ndarray
    type: np.ndarray
    zone: np.ndarray
    destination: np.ndarray
    call_handling: np.ndarray
    turnout: np.ndarray
    on_scene: np.ndarray
    transport: np.ndarray
    handover: np.ndarray
    # what the run must be told, in its manifest and report (a large dropped share)
    warnings: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.t_call)

    def __call__(self, region: Region, seed: int, replication: int) -> Incidents:
        return replay_incidents(region, self, seed, replication)


def replay_source(replay: ReplayLog) -> IncidentSource:
    """An incident source for ``run`` and ``compare`` (:class:`ReplaySource`)."""
    fields = [f.name for f in dataclasses.fields(ReplaySource) if f.name != "warnings"]
    return ReplaySource(
        **{name: getattr(replay, name) for name in fields}, warnings=tuple(replay.warnings)
    )
