"""The ``intersim`` command line.

Every subcommand turns bad input into one clear line per problem on stderr and exit code 2,
never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from .errors import InputError, ScenarioError

__all__ = ["main"]

EXIT_OK, EXIT_FAIL, EXIT_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as InputError (exit 2, one line)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{self.prog}: {message}")


def _cmd_validate(args: argparse.Namespace) -> int:
    from .schema import load_scenario

    failed = False
    for path in args.files:
        try:
            load_scenario(path)
        except ScenarioError as exc:
            failed = True
            for problem in exc.problems:
                print(problem, file=sys.stderr)
        else:
            print(f"{path}: ok")
    return EXIT_INPUT if failed else EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    from .schema.jsonschema import scenario_json_schema

    print(json.dumps(scenario_json_schema(), indent=2))
    return EXIT_OK


def _build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(
        prog="intersim",
        description="Simulate shared emergency and public services between neighbouring "
        "communities, and compare pooling options.",
    )
    parser.add_argument("--version", action="version", version=f"intersim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("validate", help="check scenario files; print ok or every problem")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=_cmd_validate)
    p = sub.add_parser("schema", help="print the JSON Schema of the scenario format")
    p.set_defaults(func=_cmd_schema)
    for register in _EXTRA_COMMANDS:
        register(sub)
    return parser


_EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []  # type: ignore[type-arg]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    try:
        args = _build_parser().parse_args(argv)
        code: int = args.func(args)
        return code
    except ScenarioError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_INPUT
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
