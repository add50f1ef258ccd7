"""Reading an incident log: the CSV file, its column names, and what each column means.

A log is any delimited text file with a header row. Its columns are matched to the *fields*
intersim understands (``call_time``, ``community``, ``on_scene``, ...) by name, ignoring case,
spaces, dashes and underscores, through a table of common CAD names; ``--map COLUMN=FIELD`` or a
small YAML mapping file overrides the guess. Everything in the file is read as text: parsing
times and names is left to :mod:`sim.data.times` and :mod:`sim.data.log`.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..schema.yamlio import read_input, read_yaml

__all__ = [
    "FIELDS",
    "STAGES",
    "TIME_FIELDS",
    "Mapping",
    "RawLog",
    "describe",
    "load_mapping",
    "parse_map_options",
    "read_log_file",
    "require",
]

# the timestamps of an incident, in the order they happen
STAGES = (
    "call_time",
    "call_processed",
    "dispatched",
    "en_route",
    "on_scene",
    "left_scene",
    "at_hospital",
    "clear",
)
TIME_FIELDS = STAGES

FIELDS: dict[str, tuple[str, ...]] = {
    "incident_id": (
        "id",
        "incident",
        "incident_number",
        "incident_no",
        "event_id",
        "event",
        "cad_id",
        "cad_number",
        "call_id",
        "case_id",
        "case_number",
    ),
    "call_time": (
        "call",
        "call_received",
        "received",
        "time_received",
        "call_datetime",
        "call_start",
        "created",
        "created_at",
        "alarm",
        "alarm_time",
        "psap_time",
        "time_call",
        "call_date",
    ),
    "call_processed": (
        "processed",
        "queued",
        "call_entered",
        "entered",
        "pending",
        "call_queued",
        "ready",
        "time_queued",
    ),
    "dispatched": (
        "dispatch",
        "dispatch_time",
        "time_dispatched",
        "assigned",
        "unit_assigned",
        "alerted",
        "notified",
    ),
    "en_route": (
        "enroute",
        "responding",
        "mobile",
        "departed",
        "wheels_rolling",
        "time_enroute",
        "en_route_time",
    ),
    "on_scene": (
        "onscene",
        "at_scene",
        "arrived",
        "arrival",
        "arrived_scene",
        "time_arrived",
        "on_scene_time",
    ),
    "left_scene": (
        "depart_scene",
        "departed_scene",
        "leave_scene",
        "left",
        "transporting",
        "transport_start",
        "left_scene_time",
    ),
    "at_hospital": (
        "at_destination",
        "arrived_hospital",
        "hospital_arrival",
        "at_facility",
        "arrived_destination",
        "transport_end",
    ),
    "clear": (
        "cleared",
        "available",
        "in_service",
        "back_in_service",
        "completed",
        "closed",
        "time_clear",
        "clear_time",
    ),
    "community": (
        "municipality",
        "town",
        "city",
        "district",
        "commune",
        "kommune",
        "area",
        "borough",
        "incident_community",
        "location",
    ),
    "incident_type": (
        "type",
        "nature",
        "call_type",
        "category",
        "problem",
        "event_type",
        "incident_category",
        "complaint",
    ),
    "priority": ("prio", "urgency", "priority_level", "response_priority", "category_priority"),
    "service": ("agency", "discipline", "service_type", "department"),
    "unit_id": ("unit", "vehicle", "resource", "callsign", "call_sign", "apparatus"),
    "unit_home": (
        "home",
        "home_station",
        "station",
        "unit_station",
        "base",
        "unit_community",
        "unit_base",
        "home_community",
    ),
    "destination": ("hospital", "facility", "destination_name"),
    "zone": ("zone_id", "demand_zone"),
    "x": ("x_km", "easting", "east", "x_coord", "coord_x"),
    "y": ("y_km", "northing", "north", "y_coord", "coord_y"),
    "lat": ("latitude",),
    "lon": ("lng", "long", "longitude"),
}


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-./()]+", "", str(name)).lower()


_ALIASES = {_norm(a): f for f, names in FIELDS.items() for a in (f, *names)}


@dataclass
class Mapping:
    """What the user told us about the log: column -> field, value recodes, time settings."""

    columns: dict[str, str] = field(default_factory=dict)
    communities: dict[str, str] = field(default_factory=dict)
    incident_types: dict[str, str] = field(default_factory=dict)
    time_format: str | None = None
    tz: str | None = None
    dayfirst: bool | None = None

    def merged(self, other: Mapping) -> Mapping:
        """``other`` (command-line options) over ``self`` (a mapping file)."""
        return Mapping(
            {**self.columns, **other.columns},
            {**self.communities, **other.communities},
            {**self.incident_types, **other.incident_types},
            other.time_format or self.time_format,
            other.tz or self.tz,
            other.dayfirst if other.dayfirst is not None else self.dayfirst,
        )


def _known_field(name: str, where: str) -> str:
    found = next((f for f in FIELDS if _norm(f) == _norm(name)), None)
    if found is None:
        raise InputError(f"{where}: unknown field '{name}' (fields: {', '.join(FIELDS)})")
    return found


def parse_map_options(items: Sequence[str] | None) -> dict[str, str]:
    """``--map COLUMN=FIELD`` options as a dict column -> field."""
    out: dict[str, str] = {}
    for item in items or ():
        column, sep, name = item.rpartition("=")
        if not sep or not column.strip() or not name.strip():
            raise InputError(f"--map: expected COLUMN=FIELD, got {item!r}")
        out[column.strip()] = _known_field(name.strip(), "--map")
    return out


def load_mapping(path: str | Path) -> Mapping:
    """A mapping file: YAML with ``columns: {LOG COLUMN: field}``, optional ``communities`` and
    ``incident_types`` (log value -> scenario id), ``time_format``, ``tz`` and ``dayfirst``.
    A plain mapping of column names is read as ``columns``."""
    data = read_yaml(path).data
    file = str(path)
    if not isinstance(data, dict):
        raise InputError(f"{file}: a mapping file must be a mapping of keys")
    sections = {"columns", "communities", "incident_types", "time_format", "tz", "dayfirst"}
    if not set(data) & sections:
        data = {"columns": data}
    unknown = sorted(set(data) - sections)
    if unknown:
        raise InputError(
            f"{file}: unknown key '{unknown[0]}' (allowed: {', '.join(sorted(sections))})"
        )
    out = Mapping()
    for key in ("columns", "communities", "incident_types"):
        part = data.get(key) or {}
        if not isinstance(part, dict) or not all(isinstance(v, str) for v in part.values()):
            raise InputError(f"{file}: {key} must map names to names")
        setattr(out, key, {str(k): str(v) for k, v in part.items()})
    out.columns = {c: _known_field(f, f"{file}: columns") for c, f in out.columns.items()}
    for key in ("time_format", "tz"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise InputError(f"{file}: {key} must be text")
        setattr(out, key, data.get(key))
    if data.get("dayfirst") is not None and not isinstance(data["dayfirst"], bool):
        raise InputError(f"{file}: dayfirst must be true or false")
    out.dayfirst = data.get("dayfirst")
    return out


@dataclass
class RawLog:
    """The log as text: one column per recognised field, plus what was read and how."""

    file: str
    frame: pd.DataFrame  # columns are field names; values are str or NA
    columns: dict[str, str]  # field -> the log's column
    ignored: list[str]  # log columns matched to no field
    rows: int  # data rows in the file, including malformed ones
    counts: Counter[str]  # rows left out while reading, by reason
    encoding: str
    lines: np.ndarray  # line of each row of ``frame`` (exact for one line per record)

    def has(self, name: str) -> bool:
        return name in self.frame.columns


MAX_LOG_BYTES = 8 * 2**30
_NA = ["", "NA", "N/A", "NaN", "nan", "NULL", "null", "None", "none", "-", "--", "NaT"]


def _sniff(text: str) -> str:
    try:
        return csv.Sniffer().sniff(text, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_log_file(path: str | Path, mapping: Mapping | None = None) -> RawLog:
    """Read ``path`` as a delimited text log; raise InputError if it cannot be read at all."""
    file = str(path)
    raw = read_input(file, MAX_LOG_BYTES, "log file")  # by kind: a FIFO or device is refused
    if b"\x00" in raw[:65536]:
        raise InputError(f"{file}: binary file, not a delimited text log (CSV)")
    encoding = "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        encoding = "latin-1"
        text = raw.decode(encoding)
    if not text.strip():
        raise InputError(f"{file}: empty file: expected a header row and incidents")
    sep = _sniff(text[:65536])
    counts: Counter[str] = Counter()

    def bad_line(_line: list[str]) -> None:
        counts["malformed line (wrong number of fields)"] += 1
        return None

    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_values=_NA,
            skipinitialspace=True,
            engine="python",
            on_bad_lines=bad_line,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{file}: not a readable CSV log: {reason}") from None
    rows = len(frame) + counts["malformed line (wrong number of fields)"]
    before = len(frame)
    frame = frame.dropna(how="all")
    if before > len(frame):
        counts["empty row"] += before - len(frame)
    columns = _match_columns([str(c) for c in frame.columns], (mapping or Mapping()).columns, file)
    ignored = [c for c in frame.columns if c not in columns.values()]
    out = pd.DataFrame({f: frame[c].str.strip() for f, c in columns.items()}, index=frame.index)
    lines = frame.index.to_numpy() + 2  # line 1 is the header
    out = out.reset_index(drop=True)
    return RawLog(file, out, columns, ignored, rows, counts, encoding, lines)


def _match_columns(names: list[str], given: dict[str, str], file: str) -> dict[str, str]:
    """Field -> log column: the user's mapping first, then the names intersim knows."""
    out: dict[str, str] = {}
    lowered = {_norm(n): n for n in names}
    for column, name in given.items():
        actual = column if column in names else lowered.get(_norm(column))
        if actual is None:
            shown = ", ".join(names[:15]) + (", ..." if len(names) > 15 else "")
            raise InputError(f"{file}: --map: no column '{column}' in the log (columns: {shown})")
        out[name] = actual
    taken = set(out.values())
    for n in names:
        f = _ALIASES.get(_norm(n))
        if f is not None and f not in out and n not in taken:
            out[f] = n
            taken.add(n)
    return out


def require(log: RawLog, *alternatives: Sequence[str], what: str) -> None:
    """Raise InputError unless the log has all fields of at least one of ``alternatives``."""
    if any(all(log.has(f) for f in alt) for alt in alternatives):
        return
    wanted = " or ".join("+".join(alt) for alt in alternatives)
    first = alternatives[0][0]
    names = ", ".join(FIELDS[first][:4])
    raise InputError(
        f"{log.file}: no {what} column (a column named {wanted}, or {names}, ...; "
        f"or say which with --map COLUMN={first})"
    )


def describe(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."
