"""The ``intersim`` command line.

Every subcommand turns bad input into one clear line per problem on stderr and exit code 2,
never a traceback (exit codes: :mod:`sim.cli.exits`). Each subcommand is defined in one module
of this package (its arguments from :mod:`sim.cli.args`); :data:`COMMANDS` says which, and only
the module of the subcommand being run is imported, so that ``intersim validate`` does not load
pandas and ``intersim estimate`` does not load matplotlib.
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys
import time
from collections.abc import Iterable, Sequence

from ..errors import InputError, OutputError, ScenarioError, Terminated
from ..version import __version__
from .command import Command
from .exits import EXIT_FAIL, EXIT_INPUT, EXIT_INTERRUPTED
from .signals import EXIT_TERMINATED, received, sigterm_as_interrupt

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS: dict[str, tuple[str, str]] = {
    # subcommand: (module of sim.cli defining it, one-line help), in the order --help lists them
    "validate": ("validate", "check scenario files; print ok or every problem"),
    "schema": ("validate", "print the JSON Schema of the scenario format"),
    "run": ("run", "simulate a scenario and write incident and unit tables"),
    "compare": ("compare", "compare the pooling options of a scenario (the main job)"),
    "plot": ("results", "redraw the figures of a compare result directory"),
    "report": ("results", "rebuild report.html of a compare result directory"),
    "rerun": ("results", "repeat the run of a result directory and check the tables match"),
    "estimate": ("estimate", "instant Erlang C estimates per option and service"),
    "travel": ("travel", "trips on the scenario's road network: build, cache, export, check"),
    "sweep": ("sweep", "parameter sweep: design points x options x replications"),
    "export-log": ("data", "write a simulated run as a CAD-style incident log (CSV)"),
    "calibrate": ("data", "fit a commented scenario to an incident log"),
    "backtest": ("data", "replay a log and compare simulated with recorded response"),
    "size": ("decide", "smallest fleet per option that meets every target"),
    "coalitions": ("decide", "coalition game: pooling gains, Shapley, core"),
    "site": ("site", "where to put stations and units: location models, then simulation"),
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as InputError (exit 2, one line)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{self.prog}: {message}")

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> object:
        # an empty value ('--out ""') is a mistake, never a request for the default
        if any(not a.strip() for a in arg_strings) and action.option_strings:
            self.error(f"argument {'/'.join(action.option_strings)}: empty value")
        return super()._get_values(action, arg_strings)  # type: ignore[misc]


def _command(name: str) -> Command:
    module = importlib.import_module(f"{__package__}.{COMMANDS[name][0]}")
    command: Command = module.COMMANDS[name]
    return command


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The parser of ``intersim``, with the arguments of ``commands`` (default: every one)."""
    full = set(COMMANDS if commands is None else commands)
    parser = _Parser(
        prog="intersim",
        description="Simulate shared emergency and public services between neighbouring "
        "communities, and compare pooling options.",
    )
    parser.add_argument("--version", action="version", version=f"intersim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (_, help) in COMMANDS.items():
        p = sub.add_parser(name, help=help)
        if name in full:
            command = _command(name)
            command.add_arguments(p)
            p.set_defaults(func=command.run)
    return parser


def _subcommand(args: Sequence[str]) -> str | None:
    """The subcommand named in ``args``: the first word that is not an option."""
    return next((a for a in args if not a.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    try:
        with sigterm_as_interrupt():  # SIGTERM unwinds like Ctrl-C, cleanup included
            return _run(argv)
    except Terminated:  # the signal came as the command finished (in its cleanup)
        _release_claims()
        print("terminated", file=sys.stderr)
        return EXIT_TERMINATED


def _run(argv: Sequence[str] | None) -> int:
    clock = time.perf_counter()  # the command's own time counts from here, imports included
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        wanted = _subcommand(args)
        parsed = build_parser([wanted] if wanted in COMMANDS else []).parse_args(args)
        parsed.command_line = shlex.join(["intersim", *args])
        parsed.clock = clock
        code: int = parsed.func(parsed)
        return EXIT_TERMINATED if received() else code
    except ScenarioError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_INPUT
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except OutputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except Terminated:
        print("terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        _release_claims()


def _release_claims() -> None:
    """Remove the temporary directories and locks of an unfinished command: only a command
    that loaded the result writers (which load pandas, unlike validate and estimate) can hold
    any."""
    files = sys.modules.get("sim.results.files")
    if files is not None:
        files.release_claims()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
