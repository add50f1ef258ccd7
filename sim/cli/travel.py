"""``intersim travel``: the trips of a scenario's road network, built (or read from the cache),
summarised, and exported as a long matrix file (``from, to, minutes``) that
``travel.matrix_file`` loads as it is; with ``--log``, compared with a CAD log's trips."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.communities import from_scenario
from ..data.log import read_log
from ..data.roadfit import format_road_fit, road_fit
from ..engine.progress import progress_bar
from ..errors import InputError, printable
from ..model.roads import RoadTravel, road_travel
from ..results.files import atomic_write_text, write_parquet
from ..schema import Scenario, load_scenario
from ..schema.datapaths import shown_path
from ..schema.geography import geography
from .args import add_out, add_overwrite, add_quiet, add_scenario
from .command import Command
from .exits import EXIT_OK
from .replay import add_log_arguments, log_mapping

__all__ = ["COMMANDS", "snap_table", "travel_table"]

SUFFIXES = (".parquet", ".pq", ".csv")
FARTHEST = 5


def _arguments(p: argparse.ArgumentParser) -> None:
    add_scenario(p)
    add_out(
        p,
        "write the trips here: long form from, to, minutes (.parquet or .csv), loadable as "
        "travel.matrix_file; a .snap.csv beside it lists each place's snap",
        metavar="TRAVEL.parquet",
    )
    p.add_argument(
        "--service",
        metavar="ID",
        help="trips at this service's time factor, and with --log only its trips in the log "
        "(default: the factor every service shares)",
    )
    p.add_argument("--log", metavar="LOG.csv", help="compare the trips with this CAD log's")
    add_log_arguments(p)
    add_overwrite(p, "replace existing files")
    add_quiet(p)


def travel_table(roads: RoadTravel) -> pd.DataFrame:
    """The long form of the trips: one row per ordered pair of distinct located places."""
    a, b, minutes = roads.long_form()
    return pd.DataFrame({"from": a, "to": b, "minutes": minutes})


def snap_table(s: Scenario, roads: RoadTravel) -> pd.DataFrame:
    """Each located place, its kind, the OSM node it is snapped to and how far away."""
    kinds = {
        **dict.fromkeys(s.communities, "community"),
        **dict.fromkeys(s.stations, "station"),
        **dict.fromkeys(s.facilities, "facility"),
    }
    return pd.DataFrame(
        {
            "place": list(roads.places),
            "kind": [kinds.get(p, "zone") for p in roads.places],
            "node": roads.node,
            "snap_m": np.round(roads.snap_m, 1),
        }
    )


def _outputs(out: str | None, overwrite: bool) -> tuple[Path, Path] | None:
    if out is None:
        return None
    path = Path(out)
    if not path.name.lower().endswith(SUFFIXES):
        raise InputError(f"--out: {out}: expected a .parquet or .csv file")
    snaps = path.with_name(f"{path.name.rsplit('.', 1)[0]}.snap.csv")
    for p in (path, snaps):
        if p.exists() and not overwrite:
            raise InputError(f"--out: {p} exists (use --overwrite to replace it)")
    if not path.parent.is_dir():
        raise InputError(f"--out: {path.parent} is not a directory")
    return path, snaps


def _write(table: pd.DataFrame, path: Path) -> None:
    if path.suffix.lower() == ".csv":  # every digit: the file loads as exactly these times
        atomic_write_text(path, table.to_csv(index=False, lineterminator="\n"))
    else:
        write_parquet(table, path)


def _summary(s: Scenario, roads: RoadTravel) -> list[str]:
    net = s.travel.road_network
    assert net is not None
    how = "read from the cache" if roads.cached else "built"
    dropped = (
        f", {roads.dropped_nodes:,} nodes of small pieces dropped" if roads.dropped_nodes else ""
    )
    lines = [
        f"road network: {shown_path(net.file)}: {roads.nodes:,} nodes, {roads.arcs:,} arcs "
        f"in {roads.pieces} piece(s){dropped}",
        f"places: {len(roads.places):,}; pairs: {len(roads.places) * (len(roads.places) - 1):,}; "
        f"{how} in {roads.seconds:.2f} s",
    ]
    if len(roads.places):
        snap = roads.snap_m
        order = np.argsort(-snap, kind="stable")[:FARTHEST]
        far = ", ".join(f"{roads.places[i]} {snap[i]:,.0f} m" for i in order)
        lines.append(
            f"snap distance: median {np.median(snap):,.0f} m, 90th percentile "
            f"{np.quantile(snap, 0.9):,.0f} m, max {snap.max():,.0f} m (farthest: {far})"
        )
    if len(roads.places) > 1:
        off = roads.minutes[~np.eye(len(roads.places), dtype=bool)]
        asym = np.abs(roads.minutes - roads.minutes.T).max()
        lines.append(
            f"trips: median {np.median(off):.2f} min, max {off.max():.2f} min, time factor "
            f"{roads.factor:g}; largest difference between the two ways of a pair "
            f"{asym:.2f} min (one-way streets)"
        )
    return lines


def _build(s: Scenario, service: str | None, quiet: bool) -> RoadTravel:
    with progress_bar("shortest paths", "sources", enabled=not quiet) as bar:
        done = [0]

        def advance(now: int, total: int) -> None:
            if bar.bar.total != total:
                bar.bar.total = total
            bar.update(now - done[0])
            done[0] = now

        return road_travel(s, geography(s), service=service, progress=advance)


def _travel(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    if scenario.travel.road_network is None:
        raise InputError(f"{args.scenario}: no travel.road_network to build")
    if args.service is not None and args.service not in scenario.services:
        known = ", ".join(scenario.services)
        raise InputError(f"--service: unknown service '{args.service}' (known: {known})")
    outputs = _outputs(args.out, args.overwrite)
    mapping = log_mapping(args.map, args.mapping, args.tz)
    roads = _build(scenario, args.service, args.quiet)
    for line in _summary(scenario, roads):
        print(printable(line))
    for warning in roads.warnings:
        print(f"warning: {printable(warning)}", file=sys.stderr)
    if outputs is not None:
        path, snaps = outputs
        _write(travel_table(roads), path)
        atomic_write_text(
            snaps, snap_table(scenario, roads).to_csv(index=False, lineterminator="\n")
        )
        print(printable(f"written: {path} (from, to, minutes), {snaps} (snap per place)"))
    if args.log:
        log = read_log(
            args.log, mapping=mapping, communities=from_scenario(scenario), tz=mapping.tz
        )
        print(printable(format_road_fit(road_fit(scenario, log, args.service))))
    return EXIT_OK


COMMANDS = {"travel": Command(_arguments, _travel)}
