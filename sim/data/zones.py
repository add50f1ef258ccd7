"""The zones of an incident log: every incident at a demand zone of the scenario (or of a
zone file given to ``calibrate``).

A log names an incident's zone (a ``zone`` column holding zone ids), or gives its coordinates:
those go to the nearest zone, found with a k-d tree (scipy) over the zones' points in the
scenario's km frame. Longitude/latitude columns are projected with pyproj exactly as the zones
are; ``x``/``y`` columns are km in that frame (as ``export-log`` writes them). When the log
also names the community, the nearest zone *of that community* is taken, so that coordinates
never move an incident across the border the log recorded; a zone the log names places the
incident in the zone's community. Incidents placed neither way keep no zone (replay then draws
one from the community's zone weights).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from ..errors import InputError, ScenarioError
from ..model.zones import zone_table
from ..schema import load_scenario
from ..schema.datapaths import resolve_data_paths
from ..schema.geo import KM, LONLAT, Frame, frame_centred, to_lonlat
from ..schema.geography import geography
from ..schema.scenario import Scenario, ZoneFile
from ..schema.yamlio import read_yaml
from ..schema.zonefile import read_zone_file
from ..schema.zonesource import file_zones
from .columns import describe

__all__ = ["ZonePoints", "read_zone_points", "scenario_zones"]


@dataclass(frozen=True)
class ZonePoints:
    """Zones to place incidents in: ids, community ids, points (km in ``frame``, NaN where a
    zone has no point), base weights and, when the zones have polygons, their outlines."""

    ids: tuple[str, ...]
    community: tuple[str, ...]
    xy: np.ndarray  # (Z, 2)
    weight: np.ndarray  # (Z,)
    frame: Frame
    source: str  # where the zones come from, as messages name it
    geometry: Any = None  # GeoSeries in the frame (polygons, else points), or None

    def __len__(self) -> int:
        return len(self.ids)

    def community_of(self) -> dict[str, str]:
        return dict(zip(self.ids, self.community, strict=True))

    def lonlat(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Longitude and latitude of every point (None when the frame is planar)."""
        if self.frame.planar:
            return None
        return to_lonlat(self.xy[:, 0], self.xy[:, 1], self.frame.proj)

    def relabel(self, resolve: Callable[[pd.Series], pd.Series]) -> ZonePoints:
        """The zones with their communities as ``resolve`` names them (log names -> ids);
        InputError at the first zone whose community ``resolve`` does not know."""
        labels = pd.Series(list(self.community), dtype=object)
        ids = resolve(labels)
        bad = np.flatnonzero(ids.isna().to_numpy())
        if bad.size:
            i = int(bad[0])
            more = f" (and {bad.size - 1} more)" if bad.size > 1 else ""
            raise InputError(
                f"{self.source}: zone '{self.ids[i]}': unknown community "
                f"'{describe(self.community[i])}'{more}; give it in --communities"
            )
        return ZonePoints(
            self.ids,
            tuple(str(c) for c in ids),
            self.xy,
            self.weight,
            self.frame,
            self.source,
            self.geometry,
        )

    def place(
        self, rows: pd.DataFrame, community: pd.Series, file: str, notes: list[str]
    ) -> pd.Series:
        """The zone id of every row: the ``zone`` it names, else the nearest zone to its
        coordinates (of its ``community`` when that is known), else None."""
        zone = pd.Series(None, index=rows.index, dtype=object)
        if "zone" in rows:
            given = rows["zone"]
            zone = given.where(given.isin(self.ids), None).astype(object)
            unknown = given.notna() & zone.isna()
            if unknown.any():
                shown = ", ".join(
                    repr(describe(v)) for v in given[unknown].value_counts().index[:5]
                )
                notes.append(
                    f"{int(unknown.sum())} incident(s) name a zone that {self.source} does not "
                    f"have ({shown}): placed by their coordinates or community instead"
                )
        todo = zone.isna().to_numpy()
        found = self._coordinates(rows, todo & community.isna().to_numpy(), file)
        if found is None:
            return zone
        (x, y), columns = found
        have = todo & np.isfinite(x) & np.isfinite(y)
        if not have.any():
            return zone
        nearest = self._nearest(x[have], y[have], community.to_numpy(dtype=object)[have])
        zone[have] = nearest
        placed = int(pd.notna(nearest).sum())
        notes.append(f"{placed} incident(s) placed at the nearest zone by {columns}")
        return zone

    def _coordinates(
        self, rows: pd.DataFrame, needed: np.ndarray, file: str
    ) -> tuple[tuple[np.ndarray, np.ndarray], str] | None:
        """The rows' points in the frame, and the columns they came from; lon/lat first in
        a geographic frame. InputError when rows without a community have only coordinates
        of a kind the frame cannot place."""
        number = lambda c: pd.to_numeric(rows[c], errors="coerce").to_numpy(float)  # noqa: E731
        geo = "lat" in rows and "lon" in rows
        planar = "x" in rows and "y" in rows
        if geo and not self.frame.planar:
            return self.frame.project(number("lon"), number("lat"), LONLAT), "lon/lat"
        if planar:
            return (number("x"), number("y")), "x/y"
        if geo and (needed & rows["lat"].notna().to_numpy()).any():
            raise InputError(
                f"{file}: the log places incidents by lat/lon, but the places of {self.source} "
                "are in planar km: give x/y columns in km, or lat/lon locations in the scenario"
            )
        return None

    def _nearest(self, x: np.ndarray, y: np.ndarray, community: np.ndarray) -> np.ndarray:
        """Nearest zone of each point, among its community's located zones (all located zones
        for a point without a community; None for a community without located zones)."""
        from scipy.spatial import cKDTree  # only logs placed by coordinates need it

        located = np.isfinite(self.xy).all(axis=1)
        members = np.array(self.community, dtype=object)
        ids = np.array(self.ids, dtype=object)
        out = np.full(len(x), None, dtype=object)
        keys = np.array(["" if pd.isna(c) else str(c) for c in community], dtype=object)
        for key in dict.fromkeys(keys.tolist()):
            mine = keys == key
            cand = np.flatnonzero(located & (members == key)) if key else np.flatnonzero(located)
            if not cand.size:
                continue
            _, j = cKDTree(self.xy[cand]).query(np.column_stack([x[mine], y[mine]]))
            out[mine] = ids[cand[j]]
        return out


def scenario_zones(s: Scenario, *, explicit: bool = False) -> ZonePoints:
    """Every zone of a valid scenario, in compiled order: its explicit zones and one per
    community without zones, at its centre (or, with ``explicit``, only the explicit ones)."""
    table = zone_table(s)
    keep = table.explicit if explicit else np.ones(len(table.ids), dtype=bool)
    at = np.flatnonzero(keep)
    return ZonePoints(
        ids=tuple(table.ids[i] for i in at),
        community=tuple(table.community[i] for i in at),
        xy=np.column_stack([table.x, table.y])[at],
        weight=table.weight[at],
        frame=geography(s).frame,
        source="the scenario",
        geometry=None if table.geometry is None else table.geometry.iloc[at],
    )


def read_zone_points(path: str | Path) -> ZonePoints:
    """Zones for ``calibrate --zones``: a zone file (the columns of a scenario's ``zones:
    {file: ...}`` with their default names), a YAML file of such a ``zones:`` entry (``file``
    relative to it, and the column mapping), or a scenario file (its explicit zones). Every
    zone needs a community. A file's zones are in a frame of their own: planar km, or centred
    on their points (as a scenario of these zones would be)."""
    file = str(path)
    if Path(path).suffix.lower() not in (".yaml", ".yml"):
        return _file_points(ZoneFile(file=str(Path(path).resolve())), file)
    data = read_yaml(path).data
    if not (isinstance(data, dict) and "file" in data and "communities" not in data):
        zones = scenario_zones(load_scenario(path), explicit=True)
        if not zones.ids:
            raise InputError(f"--zones: {file} has no zones")
        return replace(zones, source=file)
    try:
        spec = ZoneFile.model_validate(
            resolve_data_paths({"zones": data}, Path(path).parent)["zones"]
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise InputError(f"{file}: {where}: {error['msg']}") from None
    return _file_points(spec, file)


def _file_points(spec: ZoneFile, file: str) -> ZonePoints:
    try:
        zones = file_zones(read_zone_file(spec))
    except ScenarioError as exc:
        raise InputError(f"--zones: {exc.problems[0]}") from None
    missing = [i for i, c in enumerate(zones.community) if c is None]
    if missing:
        raise InputError(
            f"{file}: zone '{zones.ids[missing[0]]}' has no community (a '{spec.community}' "
            "column naming each zone's community is needed)"
        )
    geographic = zones.crs != KM
    frame = frame_centred(*to_lonlat(zones.x, zones.y, zones.crs)) if geographic else Frame()
    zones.project(frame)
    return ZonePoints(
        ids=tuple(zones.ids),
        community=tuple(str(c) for c in zones.community),
        xy=np.column_stack([zones.x, zones.y]),
        weight=np.asarray(zones.weight, dtype=np.float64),
        frame=frame,
        source=file,
        geometry=zones.geometry,
    )
