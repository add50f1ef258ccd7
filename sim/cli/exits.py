"""The exit codes of every ``intersim`` command."""

from __future__ import annotations

__all__ = ["EXIT_FAIL", "EXIT_INPUT", "EXIT_INTERRUPTED", "EXIT_OK"]

EXIT_OK = 0
"""Done, and every table was written."""
EXIT_FAIL = 1
"""Ran, but something did not hold: failed sweep tasks, a lost worker, a rerun that differs."""
EXIT_INPUT = 2
"""Bad input (file, line, field or argument), one line per problem; nothing ran."""
EXIT_INTERRUPTED = 130
"""Stopped with Ctrl-C (a sweep keeps its finished tasks)."""
