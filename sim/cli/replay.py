"""Reading an incident log from the command line: the mapping arguments of ``calibrate`` and
``backtest``, and ``--replay LOG.csv`` of ``run`` and ``compare`` (the log's incidents drive the
simulation instead of sampled arrivals)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, Protocol

from ..schema import Scenario

if TYPE_CHECKING:  # the readers load pandas: imported when a log is read, not with the parser
    from ..data.columns import Mapping
    from ..engine.driver import IncidentSource

__all__ = ["add_log_arguments", "add_replay_arguments", "log_mapping", "replay_source_for"]


class _Arguments(Protocol):
    """A parser or an argument group."""

    def add_argument(self, *names: str, **options: Any) -> Any: ...


def add_log_arguments(p: _Arguments, prefix: str = "") -> None:
    """``--tz``, ``--map`` and ``--mapping`` (each after ``prefix``): how to read a log."""
    p.add_argument(
        f"--{prefix}tz",
        metavar="ZONE",
        help="time zone of timestamps without an offset, and of local hours "
        "(e.g. Europe/Oslo; default UTC)",
    )
    p.add_argument(
        f"--{prefix}map",
        action="append",
        metavar="COLUMN=FIELD",
        help="the log's COLUMN holds FIELD (call_time, community, incident_type, "
        "on_scene, ...); repeatable",
    )
    p.add_argument(
        f"--{prefix}mapping",
        metavar="FILE",
        help="YAML mapping file: columns, value recodes, time_format, tz",
    )


def log_mapping(items: list[str] | None, file: str | None, tz: str | None = None) -> Mapping:
    """The mapping given by ``--map`` items over a ``--mapping`` file, with ``--tz``."""
    from ..data.columns import Mapping, load_mapping, parse_map_options

    given = Mapping(columns=parse_map_options(items), tz=tz)
    return load_mapping(file).merged(given) if file else given


def add_replay_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("replay (trace-driven simulation)")
    g.add_argument(
        "--replay",
        metavar="LOG.csv",
        help="the incidents of this log drive the simulation instead of sampled arrivals",
    )
    g.add_argument(
        "--replay-start",
        metavar="WHEN",
        help="date and time of simulated time 0 (default: the Monday 00:00 before the first call)",
    )
    add_log_arguments(g, "replay-")


def replay_source_for(args: argparse.Namespace, scenario: Scenario) -> IncidentSource | None:
    """The replay source asked for with ``--replay`` (None without it); says what was read."""
    if not args.replay:
        return None
    from ..data.replay import load_replay, replay_source

    mapping = log_mapping(args.replay_map, args.replay_mapping, args.replay_tz)
    replay = load_replay(
        args.replay, scenario, start=args.replay_start, tz=mapping.tz, mapping=mapping
    )
    print(replay.summary(), file=sys.stderr)
    return replay_source(replay)
