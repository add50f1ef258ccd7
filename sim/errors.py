"""Errors a user can act on: each names the file, the line and column, and the field.

Every message is shown on one line with its control characters escaped (:func:`printable`): a
name, key or file name read from an input can neither split a message over lines nor send
escape sequences to the terminal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["InputError", "OutputError", "Problem", "ScenarioError", "Terminated", "printable"]

# C0 and C1 controls, DEL, and the invisible marks that reorder or hide text on a terminal
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character written as an escape (``\\n``, ``\\x1b``)."""
    return _CONTROL.sub(_escape, text)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file."""

    file: str
    line: int | None
    column: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = f" {self.field}:" if self.field else ""
        return printable(f"{where}:{field} {self.message}")


class InputError(Exception):
    """Bad input given by the user (file, option, argument); the CLI exits with code 2."""

    def __str__(self) -> str:
        return printable(super().__str__())


class ScenarioError(InputError):
    """A scenario file with one or more problems, all reported at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class OutputError(Exception):
    """Results that could not be written after the work was done (disk full, a destination
    that changed meanwhile); the message says where the results are, if anywhere. The CLI
    exits with code 1."""

    def __str__(self) -> str:
        return printable(super().__str__())


class Terminated(KeyboardInterrupt):
    """The process was asked to stop (SIGTERM): unwinds like an interrupt, so that every
    temporary output is removed; the CLI exits with code 143.

    ``requested`` stays true once the signal came: where Python had to swallow the exception
    (it arrived inside a finaliser), the next point that checks it raises it again, so that
    results of a terminated command are never put in place."""

    requested = False
