"""``intersim validate`` and ``intersim schema``: the scenario format alone (no simulation, so
these start fast)."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import ScenarioError, printable
from ..model.compile import check_compiled
from ..schema import load_scenario
from ..schema.jsonschema import scenario_json_schema
from ..schema.reference import format_reference
from .command import Command
from .exits import EXIT_INPUT, EXIT_OK

__all__ = ["COMMANDS"]


def _validate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help="scenario files to check")


def _validate(args: argparse.Namespace) -> int:
    failed = False
    for path in args.files:
        try:
            check_compiled(load_scenario(path))  # what the run compiles: whatever validates runs
        except ScenarioError as exc:
            failed = True
            for problem in exc.problems:
                print(problem, file=sys.stderr)
        else:
            print(printable(f"{path}: ok"))
    return EXIT_INPUT if failed else EXIT_OK


def _schema_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--markdown", action="store_true", help="print the format reference instead")


def _schema(args: argparse.Namespace) -> int:
    if args.markdown:
        print(format_reference(), end="")
    else:
        print(json.dumps(scenario_json_schema(), indent=2))
    return EXIT_OK


COMMANDS = {
    "validate": Command(_validate_arguments, _validate),
    "schema": Command(_schema_arguments, _schema),
}
