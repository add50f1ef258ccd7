"""``intersim estimate``: instant Erlang C estimates per option and service (no simulation)."""

from __future__ import annotations

import argparse
import sys

from ..analysis.erlang import caveat_lines, estimate, overload_warnings
from ..engine.driver import compile_scenario
from ..errors import printable
from ..schema import load_scenario
from .args import add_scenario
from .command import Command
from .exits import EXIT_OK

__all__ = ["COMMANDS"]

COLUMNS = [
    "option",
    "service",
    "community",
    "fleet",
    "calls_per_day",
    "offered_load",
    "units",
    "utilisation",
    "p_wait",
    "mean_wait",
]


def _estimate(args: argparse.Namespace) -> int:
    compiled = compile_scenario(load_scenario(args.scenario))
    est = estimate(compiled.region, compiled.fleets)
    shown = est[(est["community"] != "all") | (est["fleet"] == "pooled")]
    print(shown[COLUMNS].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    for line in caveat_lines(est):
        print(f"note: Erlang C may mislead for {line}")
    for warning in overload_warnings(est):
        print(f"warning: {printable(warning)}", file=sys.stderr)
    return EXIT_OK


COMMANDS = {"estimate": Command(add_scenario, _estimate)}
