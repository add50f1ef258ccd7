"""``intersim calibrate``: a commented, valid scenario fitted to an incident log.

The scenario has the log's communities (with populations and locations from a communities
file), one service per service in the log, one incident type per type, and for each type its
rate per community (per 1,000 residents when populations are known, else per year), the fitted
distribution of each stage, its transport share and the hospital; the services' daily and weekly
profiles; travel times observed between communities; and units counted from the log's unit ids.
With ``zones`` (a zone file, or a scenario with zones), incidents are placed at zones and the
scenario gets them, with their calls and weights, in a zone file beside it
(:mod:`sim.data.zonecounts`). Every figure carries a comment saying how it was estimated and
how sure it is, or that it is an assumption to fill in. The scenario is validated before it is
written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError, ScenarioError
from ..results.files import atomic_write_text
from ..schema import Scenario, load_scenario
from .columns import Mapping
from .communities import Community, read_communities
from .log import Log, read_log
from .parameters import (
    MIN_PROFILE,
    ServiceEstimate,
    TypeEstimate,
    Window,
    build_services,
    build_types,
    classify,
    estimate_segments,
    estimate_transport,
    estimate_units,
    units_needed,
    window,
)
from .report import write_report
from .travel import complete_travel, travel_observations
from .writer import scenario_text
from .zonecounts import (
    ZONE_WEIGHTS,
    ZoneCounts,
    count_zones,
    located_communities,
    write_zone_file,
    zone_file_path,
)
from .zones import read_zone_points

__all__ = ["Calibration", "calibrate", "validate_text", "write_calibration"]


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
    travel_obs: pd.DataFrame  # observed trips (see sim.data.travel)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    text: str = ""
    scenario: Scenario | None = None
    name: str = ""
    zones: ZoneCounts | None = None
    zone_file: str = "zones.csv"  # as the scenario names it: beside the scenario file
    located: dict[str, str] = field(default_factory=dict)  # community -> how it was placed

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
    zones: str | Path | None = None,
    zone_weights: str = "file",
) -> Calibration:
    """Read the log, estimate everything, and build (and validate) the scenario text."""
    if zone_weights not in ZONE_WEIGHTS:
        raise InputError(f"--zone-weights: expected one of {', '.join(ZONE_WEIGHTS)}")
    coms = read_communities(communities) if communities is not None else None
    points = read_zone_points(zones) if zones is not None else None
    log = read_log(log_path, mapping=mapping, communities=coms, tz=tz, zones=points)
    if len(log.incidents) == 0:
        raise InputError(log.why_empty())
    notes = list(log.notes)
    problems: list[str] = []
    kinds = classify(log, notes)
    coms = log.communities
    counts: ZoneCounts | None = None
    located: dict[str, str] = {}
    if log.zones is not None:
        coms, located = located_communities(coms, log.zones, notes)
        counts = count_zones(log, kinds, zone_weights, coms)
        if counts.unplaced:
            notes.append(
                f"{counts.unplaced} incident(s) without a zone or coordinates: counted in "
                "their community's rates, in no zone"
            )
    types = build_types(log, kinds, coms)
    services = build_services(log, kinds)
    facilities = estimate_transport(log, kinds, types, problems, notes)
    estimate_segments(log, kinds, types)
    units_needed(log, kinds, types)
    estimate_units(log, kinds, services, problems)
    obs = travel_observations(log)
    cal = Calibration(log, window(log), coms, types, services, facilities, {}, obs, problems, notes)
    cal.zones, cal.located = counts, located
    if counts is not None and counts.mode == "calls":
        kept = counts.weights()[2]
        if kept:
            notes.append(
                f"no call of {', '.join(kept[:5])} has a zone: their zones keep the file's weights"
            )
    cal.travel = complete_travel(coms, obs)
    for t in types.values():
        for seg in t.segments.values():
            if seg.level not in ("type", "fixed"):
                problems.append(f"{t.id} {seg.name}: {seg.note}")
    for s in services.values():
        if s.calls < MIN_PROFILE:
            problems.append(
                f"{s.id}: {s.calls} calls are too few for a daily and weekly profile "
                f"(at least {MIN_PROFILE}): demand is flat"
            )
    cal.name = name or f"Calibrated from {Path(log_path).name}"
    cal.text = scenario_text(cal, cal.name)
    return cal


def validate_text(text: str, where: Path) -> Scenario:
    """Load the written text as a scenario (raise InputError naming the problems if invalid)."""
    try:
        return load_scenario(where)
    except ScenarioError as exc:
        raise InputError(
            f"calibrate: the scenario written to {where} does not validate (a bug; please "
            f"report it): {exc.problems[0]}"
        ) from None


def write_calibration(
    cal: Calibration,
    out: str | Path,
    *,
    report: bool = True,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write the scenario (validated first), its zone file and the report next to it;
    return the paths."""
    path = Path(out)
    if not path.parent.is_dir():
        raise InputError(f"--out: no such directory: {path.parent}")
    if path.is_dir():
        raise InputError(f"--out: {path} is a directory; give a file such as scenario.yaml")
    zone_path = zone_file_path(path, cal.zones) if cal.zones is not None else None
    if zone_path is not None and cal.zones is not None:
        cal.zone_file = zone_path.name
        cal.text = scenario_text(cal, cal.name)
        write_zone_file(cal.zones, zone_path)
    tmp = path.with_name(f".{path.name}.check.yaml")
    try:
        tmp.write_text(cal.text, encoding="utf-8")
        cal.scenario = validate_text(cal.text, tmp)
    except BaseException:
        if zone_path is not None:
            zone_path.unlink(missing_ok=True)
        raise
    finally:
        tmp.unlink(missing_ok=True)
    atomic_write_text(path, cal.text)
    written = [path] + ([zone_path] if zone_path is not None else [])
    if report:
        written.append(write_report(cal, path.with_suffix(".report.html")))
    return written
