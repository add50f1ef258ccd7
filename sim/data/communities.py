"""Communities of a log: read from a file (YAML or CSV) or a scenario, and matched to the names
and coordinates written in the log.

A communities file is either YAML (``id: {population, name, location: {x, y} | {lat, lon},
zone, area_km2}``, or a whole scenario file, whose ``communities`` are used) or CSV with a
header (``id`` or ``community``, ``name``, ``population``, ``x``/``y`` or ``lat``/``lon``,
``zone``, ``area_km2``). Populations and locations are optional: without populations rates are
written per year, without locations coordinates in the log cannot be placed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..schema.yamlio import read_yaml

__all__ = ["Community", "Resolver", "from_scenario", "make_id", "name_key", "read_communities"]

ZONES = ("urban", "suburban", "rural", "remote")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "all"}


def make_id(text: str, prefix: str = "c", taken: set[str] | None = None) -> str:
    """A scenario id (letter first; letters, digits, _ and -; at most 64 characters) for
    ``text``, different from the ids in ``taken``."""
    base = re.sub(r"[^A-Za-z0-9_\-]+", "_", str(text).strip()).strip("_") or prefix
    if not base[0].isalpha():
        base = f"{prefix}_{base}"
    if base.lower() in _RESERVED:
        base = f"{prefix}_{base}"
    base = base[:60]
    out, k = base, 2
    while taken is not None and out in taken:
        out, k = f"{base}_{k}", k + 1
    if taken is not None:
        taken.add(out)
    return out


@dataclass(frozen=True)
class Community:
    id: str
    name: str
    population: int | None = None
    x: float | None = None
    y: float | None = None
    lat: float | None = None
    lon: float | None = None
    zone: str | None = None
    area_km2: float | None = None

    @property
    def located(self) -> bool:
        return (self.x is not None and self.y is not None) or (
            self.lat is not None and self.lon is not None
        )

    def location(self) -> dict[str, float] | None:
        if self.x is not None and self.y is not None:
            return {"x": self.x, "y": self.y}
        if self.lat is not None and self.lon is not None:
            return {"lat": self.lat, "lon": self.lon}
        return None


def _number(value: Any, what: str, file: str, integer: bool = False) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    try:
        number = float(str(value).replace(" ", "").replace("_", ""))
    except ValueError:
        raise InputError(f"{file}: {what}: not a number: {value!r}") from None
    if not math.isfinite(number):
        raise InputError(f"{file}: {what}: not a finite number: {value!r}")
    if integer:
        if number <= 0:
            raise InputError(f"{file}: {what}: a population must be positive, got {value!r}")
        return round(number)
    return number


def _community(key: Any, entry: dict[str, Any], file: str, taken: set[str]) -> Community:
    if not isinstance(entry, dict):
        raise InputError(f"{file}: community {key!r}: expected a mapping (population, location)")
    loc = entry.get("location") or {}
    if not isinstance(loc, dict):
        raise InputError(f"{file}: community {key!r}: location must be a mapping")
    get = lambda k: loc.get(k, entry.get(k))  # noqa: E731
    zone = entry.get("zone")
    what = f"community {key!r}"
    return Community(
        id=make_id(str(key), "c", taken),
        name=str(entry.get("name") or key),
        population=_number(entry.get("population"), f"{what} population", file, integer=True),
        x=_number(get("x"), f"{what} x", file),
        y=_number(get("y"), f"{what} y", file),
        lat=_number(get("lat"), f"{what} lat", file),
        lon=_number(get("lon"), f"{what} lon", file),
        zone=str(zone) if zone in ZONES else None,
        area_km2=_number(entry.get("area_km2"), f"{what} area_km2", file),
    )


def read_communities(path: str | Path) -> list[Community]:
    """Communities from a YAML or CSV file (see the module docstring)."""
    file = str(path)
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{file}: no such file" if not p.exists() else f"{file}: not a file")
    taken: set[str] = set()
    if p.suffix.lower() in (".csv", ".tsv", ".txt"):
        try:
            table = pd.read_csv(p, sep=None, engine="python", dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise InputError(f"{file}: not a readable CSV file: {exc}") from None
        cols = {c.strip().lower(): c for c in table.columns}
        key = cols.get("id") or cols.get("community") or cols.get("name")
        if key is None:
            raise InputError(f"{file}: needs a column 'id' (or 'community' or 'name')")
        rows = [
            {k.strip().lower(): v.strip() for k, v in row.items() if v is not None}
            for row in table.to_dict("records")
        ]
        return [_community(r[key.strip().lower()], r, file, taken) for r in rows]

    data = read_yaml(p).data
    if isinstance(data, dict) and isinstance(data.get("communities"), dict | list):
        data = data["communities"]
    if isinstance(data, list):
        if not all(isinstance(e, dict) and "id" in e for e in data):
            raise InputError(f"{file}: a list of communities needs an 'id' in every entry")
        return [_community(e["id"], e, file, taken) for e in data]
    if not isinstance(data, dict) or not data:
        raise InputError(f"{file}: expected a mapping of community id -> population, location")
    return [_community(k, v, file, taken) for k, v in data.items()]


def from_scenario(scenario: Any) -> list[Community]:
    """The communities of a validated scenario."""
    out = []
    for cid, c in scenario.communities.items():
        loc = c.location
        out.append(
            Community(
                cid,
                c.name or cid,
                c.population,
                loc.x if loc else None,
                loc.y if loc else None,
                loc.lat if loc else None,
                loc.lon if loc else None,
                c.zone,
                c.area_km2,
            )
        )
    return out


def name_key(text: object) -> str:
    """A name as matched: case, spaces, underscores, dashes and dots ignored."""
    return re.sub(r"[\s_\-.]+", "", str(text)).casefold()


class Resolver:
    """Log values (ids, names, recoded names) and coordinates -> community ids."""

    def __init__(self, communities: list[Community], recode: dict[str, str] | None = None):
        self.communities = communities
        self._by_key: dict[str, str] = {}
        for c in communities:
            for text in (c.name, c.id):
                self._by_key.setdefault(name_key(text), c.id)
        for value, target in (recode or {}).items():
            cid = self._by_key.get(name_key(target))
            if cid is None:
                known = ", ".join(c.id for c in communities[:12])
                raise InputError(
                    f"mapping: communities: {value!r} -> unknown community {target!r} "
                    f"(known: {known})"
                )
            self._by_key[name_key(value)] = cid

    def names(self, values: pd.Series) -> pd.Series:
        """Community id per value; NA where the value names no known community."""
        keys = values.astype("string").map(lambda v: name_key(v) if isinstance(v, str) else None)
        out = keys.map(self._by_key).astype(object)
        return out.where(out.notna() & values.notna().to_numpy(), None)

    def nearest(self, a: pd.Series, b: pd.Series, geo: bool) -> pd.Series:
        """Community whose location is nearest to each point (x/y km, or lat/lon degrees)."""
        placed = [c for c in self.communities if c.located and ((c.lat is not None) == geo)]
        if not placed:
            kind = "lat/lon" if geo else "x/y"
            raise InputError(
                f"the log places incidents by {kind} coordinates, but no community has a "
                f"{kind} location: give locations in the communities file"
            )
        pa = pd.to_numeric(a, errors="coerce").to_numpy(dtype=float)
        pb = pd.to_numeric(b, errors="coerce").to_numpy(dtype=float)
        ca = np.array([c.lat if geo else c.x for c in placed], dtype=float)
        cb = np.array([c.lon if geo else c.y for c in placed], dtype=float)
        if geo:  # equirectangular distance: enough to find the nearest centre
            scale = np.cos(np.radians(np.nan_to_num(pa)))[:, None]
            d = (pa[:, None] - ca[None, :]) ** 2 + ((pb[:, None] - cb[None, :]) * scale) ** 2
        else:
            d = (pa[:, None] - ca[None, :]) ** 2 + (pb[:, None] - cb[None, :]) ** 2
        ok = np.isfinite(pa) & np.isfinite(pb)
        best = np.argmin(np.where(np.isfinite(d), d, np.inf), axis=1)
        ids = pd.Series(np.array([c.id for c in placed], dtype=object)[best], index=a.index)
        return ids.where(ok, None)
