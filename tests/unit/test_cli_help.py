"""Every argument of every command says what it is for in ``--help``."""

from __future__ import annotations

import argparse

from sim.cli.main import COMMANDS, build_parser


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_argument_of_every_command_has_help() -> None:
    commands = _subparsers(build_parser())
    assert set(commands) == set(COMMANDS)
    missing = [
        f"intersim {name} {'/'.join(action.option_strings) or action.dest}"
        for name, parser in commands.items()
        for action in parser._actions
        if not (action.help or "").strip() or action.help == argparse.SUPPRESS
    ]
    assert not missing, "arguments without help text:\n" + "\n".join(missing)
