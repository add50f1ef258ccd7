"""The progress bar of every command: a tqdm bar on stderr, shown only on a terminal, and gone
when the work ends (the command's own report follows)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tqdm import tqdm

__all__ = ["Progress", "progress_bar"]


class Progress:
    """A bar whose total may grow as the work asks for more (searches that go on)."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def update(self, n: int = 1) -> None:
        self.bar.update(n)

    def grow(self, n: int) -> None:
        self.bar.total = (self.bar.total or 0) + n
        self.bar.refresh()

    def note(self, **values: Any) -> None:
        """Values shown after the bar, such as the number of failed tasks."""
        self.bar.set_postfix(refresh=False, **values)


@contextmanager
def progress_bar(
    desc: str, unit: str, *, total: int = 0, initial: int = 0, enabled: bool = True
) -> Iterator[Progress]:
    """A bar of ``total`` ``unit`` for the length of the block (none when not ``enabled``)."""
    with tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        leave=False,
        disable=None if enabled else True,
        dynamic_ncols=True,
    ) as bar:
        yield Progress(bar)
