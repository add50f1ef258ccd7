"""Errors a user can act on: each names the file, the line and column, and the field."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["InputError", "Problem", "ScenarioError"]


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
        return f"{where}:{field} {self.message}"


class InputError(Exception):
    """Bad input given by the user (file, option, argument); the CLI exits with code 2."""


class ScenarioError(InputError):
    """A scenario file with one or more problems, all reported at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
