"""What a command module of :mod:`sim.cli` gives :mod:`sim.cli.main`: per subcommand, the
function that adds its arguments and the function that runs it (returning the exit code)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NamedTuple

__all__ = ["Command"]


class Command(NamedTuple):
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
