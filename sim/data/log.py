"""A cleaned incident log: one row per incident, every row the file had accounted for.

:func:`read_log` reads a CAD-style log (see :mod:`sim.data.columns`), parses its timestamps
(:mod:`sim.data.times`), places each incident in a community (by name or by coordinates) and
merges rows of the same incident (one row per responding unit) into one. Nothing is dropped
silently: rows that cannot be used at all are counted by reason in ``dropped``; rows used with
some of their times left out are counted by reason in ``partial``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .columns import STAGES, Mapping, RawLog, describe, read_log_file, require
from .communities import Community, Resolver, make_id, name_key
from .times import Times, check_tz, parse_times
from .zones import ZonePoints

__all__ = ["MAX_SPAN_DAYS", "Log", "minutes_between", "read_log"]

MAX_SPAN_DAYS = 30  # a time later than this after its call is taken as a typing error
DUPLICATE = "duplicate row (identical to an earlier row)"
REPEATED = "same incident id and unit as an earlier row (first kept)"
OUT_OF_ORDER = "out-of-order times (call kept; its durations not used)"
TOO_LATE = f"a time more than {MAX_SPAN_DAYS} days after the call (call kept; durations not used)"


@dataclass
class Log:
    """An incident log, cleaned: ``incidents`` has one row per incident, sorted by call time,
    with the community id, the zone id (None without zones), the log's type, service and
    priority (text), the first unit on scene and its home, the line of its row (``row``), and a
    UTC time per stage that the log has (``call_time``, ``dispatched``, ...), plus
    ``call_local`` (wall-clock call time). ``responses`` has one row per unit
    response (incident id, unit, home, service, en route and on-scene times)."""

    file: str
    incidents: pd.DataFrame
    responses: pd.DataFrame
    stages: tuple[str, ...]
    rows: int
    dropped: Counter[str]
    partial: Counter[str]
    merged: int
    communities: list[Community]
    columns: dict[str, str]
    ignored: list[str]
    notes: list[str] = field(default_factory=list)
    zones: ZonePoints | None = None  # the zones incidents were placed in (community ids)

    def has(self, name: str) -> bool:
        return name in self.incidents.columns and bool(self.incidents[name].notna().any())

    def accounting(self) -> pd.DataFrame:
        """Every row of the file: used, merged into its incident, partly used, or dropped."""
        rows = [("used", "incidents (one row each)", len(self.incidents))]
        if self.merged:
            rows.append(
                ("merged", "further unit responses merged into their incident", self.merged)
            )
        rows += [("dropped", reason, n) for reason, n in self.dropped.most_common()]
        rows += [("partly used", reason, n) for reason, n in self.partial.most_common()]
        return pd.DataFrame(rows, columns=["status", "reason", "rows"])

    def why_empty(self) -> str:
        """One line: why no incident could be used."""
        reasons = "; ".join(f"{n} {r}" for r, n in self.dropped.most_common(4)) or "no data rows"
        return f"{self.file}: no usable incidents in {self.rows} row(s) ({reasons})"

    def summary(self) -> str:
        """A few lines for the console."""
        lines = [f"{self.file}: {self.rows} row(s) read, {len(self.incidents)} incident(s) used"]
        if self.merged:
            lines.append(f"  {self.merged} further unit response row(s) merged into their incident")
        for reason, n in self.dropped.most_common():
            lines.append(f"  dropped {n}: {reason}")
        for reason, n in self.partial.most_common():
            lines.append(f"  partly used {n}: {reason}")
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def minutes_between(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    """``later - earlier`` in minutes (float; NaN where either is missing)."""
    delta = (later - earlier).dt.total_seconds() / 60.0
    return np.array(delta.to_numpy(dtype=np.float64, na_value=np.nan))  # writable


def _communities_from_log(
    raw: RawLog, recode: dict[str, str], zones: ZonePoints | None
) -> list[Community]:
    """The log's community names (most calls first), then those of zones without calls."""
    if not raw.has("community") and zones is None:
        raise InputError(
            f"{raw.file}: incidents are placed by coordinates only: give --communities with "
            "the communities' locations"
        )
    values = raw.frame["community"].dropna() if raw.has("community") else pd.Series([])
    names = list(values.map(lambda v: recode.get(v, v)).value_counts().index)
    seen = {name_key(n) for n in names}
    for c in zones.community if zones is not None else ():
        if name_key(c) not in seen:
            seen.add(name_key(c))
            names.append(c)
    taken: set[str] = set()
    return [Community(make_id(v, "c", taken), v) for v in names]


def _place(
    raw: RawLog,
    frame: pd.DataFrame,
    resolver: Resolver,
    zones: ZonePoints | None,
    dropped: Counter[str],
    notes: list[str],
) -> tuple[pd.Series, pd.Series]:
    """Community id and zone id of every row (None where it cannot be placed; rows without a
    community are counted by reason). With zones, a row's zone (named, or nearest to its
    coordinates) gives its community; without, coordinates give the nearest community."""
    named = pd.Series(None, index=frame.index, dtype=object)
    if raw.has("community"):
        named = resolver.names(frame["community"])
    zone = pd.Series(None, index=frame.index, dtype=object)
    out = named.copy()
    if zones is not None:
        zone = zones.place(frame, named, raw.file, notes)
        of_zone = zone.map(zones.community_of()).astype(object)
        differs = zone.notna() & named.notna() & (of_zone != named)
        if differs.any():
            notes.append(
                f"{int(differs.sum())} incident(s) in a zone of another community than the "
                "log's: placed in the zone's community"
            )
        out = of_zone.where(zone.notna(), named)
    if raw.has("community"):
        names = frame["community"]
        unknown = names.notna() & out.isna()
        if unknown.any():
            examples = ", ".join(repr(describe(v)) for v in names[unknown].value_counts().index[:5])
            dropped[f"unknown community ({examples})"] += int(unknown.sum())
        todo = names.isna() & out.isna()
    else:
        todo = out.isna()
        unknown = pd.Series(False, index=frame.index)
    for a, b, geo in (("x", "y", False), ("lat", "lon", True)):
        if zones is None and todo.any() and raw.has(a) and raw.has(b):
            have = todo & frame[a].notna() & frame[b].notna()
            if have.any():
                out[have] = resolver.nearest(frame.loc[have, a], frame.loc[have, b], geo)
                placed = int(out[have].notna().sum())
                notes.append(f"{placed} incident(s) placed in the nearest community by {a}/{b}")
                todo = todo & out.isna()
    missing = todo & out.isna() & ~unknown
    if missing.any():
        dropped["no community (and no coordinates)"] += int(missing.sum())
    return out, zone


def read_log(
    path: str | Path,
    *,
    mapping: Mapping | None = None,
    communities: list[Community] | None = None,
    tz: str | None = None,
    zones: ZonePoints | None = None,
) -> Log:
    """Read and clean the log at ``path``; InputError if it is unreadable or lacks a required
    column (a call time, and a community, coordinates or, with ``zones``, a zone).

    With ``zones`` every incident gets the zone it names or the nearest one to its
    coordinates (:mod:`sim.data.zones`), in the ``zone`` column (None where neither is
    given); zones name their communities as ``communities`` do (ids or names)."""
    mapping = mapping or Mapping()
    tz = check_tz(tz or mapping.tz)
    raw = read_log_file(path, mapping)
    require(raw, ("call_time",), what="call time")
    places: list[tuple[str, ...]] = [("community",), ("x", "y"), ("lat", "lon")]
    require(raw, *places, *([("zone",)] if zones is not None else []), what="community")
    dropped: Counter[str] = Counter(raw.counts)
    partial: Counter[str] = Counter()
    notes: list[str] = []
    frame = raw.frame
    dup = frame.duplicated(keep="first")
    if dup.any():
        dropped[DUPLICATE] += int(dup.sum())
        frame = frame[~dup]
    stages = tuple(s for s in STAGES if raw.has(s))
    times: dict[str, Times] = {}
    for s in stages:
        times[s] = parse_times(
            frame[s],
            tz=tz,
            fmt=mapping.time_format,
            dayfirst=mapping.dayfirst,
            wall_clock=s == "call_time",
        )
        notes += [f"{s}: {text}: {n}" for text, n in times[s].notes.items()]
    formats = Counter(t.format for t in times.values())
    notes.insert(
        0,
        "time format: "
        + ", ".join(
            f"{f} ({', '.join(s for s in stages if times[s].format == f)})"
            if len(formats) > 1
            else f
            for f in formats
        ),
    )
    offsets = times["call_time"].offsets
    if len(offsets) > 1 and tz is None:
        shown = ", ".join(f"{k}: {v}" for k, v in offsets.most_common())
        notes.append(
            f"call times carry {len(offsets)} UTC offsets ({shown}), e.g. summer and "
            "winter time: local hours are read as written (give --tz to convert all "
            "times to one zone)"
        )
    call = times["call_time"]
    ok = ~call.missing & ~call.bad
    dropped["no call time"] += int(call.missing.sum())
    dropped["unparseable call time"] += int(call.bad.sum())
    communities = communities or _communities_from_log(raw, mapping.communities, zones)
    resolver = Resolver(communities, mapping.communities)
    if zones is not None:
        zones = zones.relabel(resolver.names)
    place, zone = _place(raw, frame[ok], resolver, zones, dropped, notes)
    ok = ok & place.reindex(frame.index).notna()
    data = pd.DataFrame(index=frame.index[ok])
    data["community"] = place[ok[ok].index]
    data["zone"] = zone[ok[ok].index]
    data["row"] = raw.lines[data.index.to_numpy()]
    for name in (
        "incident_id",
        "incident_type",
        "service",
        "priority",
        "unit_id",
        "unit_home",
        "destination",
        "x",
        "y",
        "lat",
        "lon",
    ):
        if raw.has(name):
            data[name] = frame.loc[ok, name]
    if raw.has("incident_type"):
        recode = mapping.incident_types
        data["incident_type"] = data["incident_type"].map(lambda v: recode.get(v, v))
    for s in stages:
        t = times[s]
        data[s] = t.utc[ok]
        if s != "call_time" and t.bad[ok].any():
            partial[f"unparseable {s} time (that time not used)"] += int(t.bad[ok].sum())
    data["call_local"] = call.local[ok]
    incidents, responses, merged = _merge(data, dropped)
    _check_order(incidents, stages, partial)
    incidents = incidents.sort_values("call_time", kind="stable").reset_index(drop=True)
    for k in [k for k, v in dropped.items() if v == 0]:
        del dropped[k]
    return Log(
        str(path),
        incidents,
        responses,
        stages,
        raw.rows,
        dropped,
        partial,
        merged,
        communities,
        raw.columns,
        raw.ignored,
        notes,
        zones,
    )


def _merge(data: pd.DataFrame, dropped: Counter[str]) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """One row per incident: rows sharing an incident id are the responses of several units.
    The incident's row is the first unit on scene, with the earliest call, dispatch and
    hospital times and the latest clear time of all its units."""
    if "incident_id" not in data:
        data = data.assign(incident_id=[f"row{i + 2}" for i in data.index])
    else:
        blank = data["incident_id"].isna()
        data.loc[blank, "incident_id"] = [f"row{i + 2}" for i in data.index[blank]]
    keys = ["incident_id", "unit_id"] if "unit_id" in data else ["incident_id"]
    repeated = data.duplicated(subset=keys, keep="first")
    if repeated.any():
        dropped[REPEATED] += int(repeated.sum())
        data = data[~repeated]
    responses = data[
        [
            c
            for c in (
                "incident_id",
                "unit_id",
                "unit_home",
                "service",
                "community",
                "en_route",
                "on_scene",
                "dispatched",
            )
            if c in data
        ]
    ].copy()
    order = (
        data.sort_values(["on_scene"], na_position="last", kind="stable")
        if "on_scene" in data
        else data
    )
    first = order.drop_duplicates("incident_id", keep="first").set_index("incident_id")
    merged = len(data) - len(first)
    if merged:
        g = data.groupby("incident_id", sort=False)
        for col, how in (
            ("call_time", "min"),
            ("call_processed", "min"),
            ("dispatched", "min"),
            ("at_hospital", "min"),
            ("clear", "max"),
            ("call_local", "min"),
        ):
            if col in data:
                first[col] = getattr(g[col], how)()
        if "unit_id" in data:
            first["units"] = g["unit_id"].nunique()
    return first.reset_index(), responses.reset_index(drop=True), merged


def _check_order(inc: pd.DataFrame, stages: tuple[str, ...], partial: Counter[str]) -> None:
    """Times must follow each other (call <= dispatch <= ... <= clear). Where they do not, or
    one lies implausibly far after the call, the call is kept but its durations are not."""
    later = [s for s in stages if s != "call_time"]
    if not later:
        return
    mins = np.column_stack([minutes_between(inc[s], inc["call_time"]) for s in later])
    with np.errstate(invalid="ignore"):
        before = np.fmax.accumulate(np.column_stack([np.zeros(len(inc)), mins]), axis=1)[:, :-1]
        backwards = (mins < before - 1e-9).any(axis=1)
        too_late = (mins > MAX_SPAN_DAYS * 1440).any(axis=1) & ~backwards
    for mask, reason in ((backwards, OUT_OF_ORDER), (too_late, TOO_LATE)):
        if mask.any():
            partial[reason] += int(mask.sum())
            inc.loc[mask, later] = pd.NaT
