"""The progress of every command, on stderr: a tqdm bar on a terminal (gone when the work ends,
the command's own report follows), and plain lines anywhere else (a pipe, a log file), so that a
log shows how far the work got without carriage returns.

A plain line is written when the first piece of work is done, each time another tenth of it
is done (each piece, for work of at most :data:`EVERY_PIECE` pieces), at least every
:data:`LINE_SECONDS` otherwise (work of unknown length), and when it ends, e.g.
``replications: 4/10 reps (40 %), 12.3 s`` and ``replications: 10/10 reps done in 31.0 s``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from tqdm import tqdm

from .execute import worker_cpu_seconds

__all__ = ["LINE_SECONDS", "Progress", "Stages", "progress_bar"]

LINE_SECONDS = 5.0  # a plain line at least this often while the total is unknown or growing
TENTHS = 10
EVERY_PIECE = 20  # work of at most this many pieces gets a line per piece


class Progress:
    """A bar whose total may grow as the work asks for more (searches that go on), counting
    units of work (:meth:`update`) or named steps (:meth:`step`)."""

    def __init__(self, bar: Any, desc: str) -> None:
        self.bar, self.desc = bar, desc
        self._step_open = False

    def update(self, n: int = 1) -> None:
        self.bar.update(n)

    def grow(self, n: int) -> None:
        self.bar.total = (self.bar.total or 0) + n
        self.bar.refresh()

    def note(self, **values: Any) -> None:
        """Values shown after the bar, such as the number of failed tasks."""
        self.bar.set_postfix(refresh=False, **values)

    def step(self, label: str) -> None:
        """Step ``label`` starts (the bar names it); the step before it is done."""
        self.finish_step()
        self._step_open = True
        self.bar.set_description(f"{self.desc}: {label}")

    def finish_step(self) -> None:
        """The running step is done (the last step is also counted when the bar closes)."""
        if self._step_open:
            self._step_open = False
            self.update(1)


class Stages:
    """Wall and CPU time of a command's stages, in the order they ran: CPU time is this
    process's and that of the worker processes whose executors closed during the stage
    (:func:`sim.engine.execute.worker_cpu_seconds`)."""

    def __init__(self) -> None:
        self.times: dict[str, dict[str, float]] = {}
        self._open: tuple[str, float, float] | None = None

    @staticmethod
    def _cpu() -> float:
        return time.process_time() + worker_cpu_seconds()

    def start(self, name: str) -> None:
        """Stage ``name`` starts; the stage before it ends."""
        self.stop()
        self._open = (name, time.perf_counter(), self._cpu())

    def stop(self) -> None:
        if self._open is not None:
            name, wall, cpu = self._open
            self.times[name] = {
                "wall_s": round(time.perf_counter() - wall, 3),
                "cpu_s": round(self._cpu() - cpu, 3),
            }
            self._open = None

    def summary(self) -> str:
        """'simulation 9.8 s, tables 0.6 s, ...': the wall time of each stage."""
        return ", ".join(f"{name} {t['wall_s']:.1f} s" for name, t in self.times.items())


class _Lines:
    """What a tqdm bar shows, as plain lines on a stream that is not a terminal."""

    def __init__(self, desc: str, unit: str, total: int, initial: int, stream: TextIO) -> None:
        self.name = self.desc = desc
        self.unit, self.stream = unit, stream
        self.total, self.n = total, initial
        self.t0 = self.last = time.perf_counter()
        self.tenth = self._tenth()
        self.postfix: dict[str, Any] = {}
        self.started = False  # the first line comes with the first piece of work done, so
        # that bad input found before any work is the only line

    def set_description(self, desc: str) -> None:
        self.desc = desc

    def _tenth(self) -> int:
        """The tenths done; for work of a few pieces (steps), the pieces."""
        if not self.total:
            return 0
        return self.n if self.total <= EVERY_PIECE else self.n * TENTHS // self.total

    def _line(self, end: bool = False) -> None:
        seconds = time.perf_counter() - self.t0
        done = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        share = f" ({100 * self.n / self.total:.0f} %)" if self.total else ""
        unit = self.unit if (self.total or self.n) == 1 else f"{self.unit}s"
        after = "".join(f", {k} {v}" for k, v in self.postfix.items())
        if end:
            text = f"{self.name}: {done} {unit} done in {seconds:.1f} s{after}"
        else:
            text = f"{self.desc}: {done} {unit}{share}{after}, {seconds:.1f} s"
        self.stream.write(text + "\n")
        self.stream.flush()
        self.last = time.perf_counter()
        self.started = True

    def update(self, n: int = 1) -> None:
        self.n += n
        tenth = self._tenth()
        finished = self.total and self.n >= self.total  # the closing line says so
        late = time.perf_counter() - self.last >= LINE_SECONDS
        if not finished and (not self.started or tenth > self.tenth or late):
            self.tenth = tenth
            self._line()

    def refresh(self) -> None:
        self.tenth = self._tenth()

    def set_postfix(self, refresh: bool = False, **values: Any) -> None:
        self.postfix.update(values)

    def close(self) -> None:
        if self.started or self.n:
            self._line(end=True)


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except (OSError, ValueError):  # a closed stream
        return False


@contextmanager
def progress_bar(
    desc: str,
    unit: str,
    *,
    total: int = 0,
    initial: int = 0,
    enabled: bool = True,
    stream: TextIO | None = None,
) -> Iterator[Progress]:
    """A bar of ``total`` ``unit`` for the length of the block on ``stream`` (default stderr):
    tqdm on a terminal, plain lines elsewhere, nothing when not ``enabled``."""
    out = sys.stderr if stream is None else stream
    if enabled and not _is_terminal(out):
        lines = _Lines(desc, unit, total, initial, out)
        progress = Progress(lines, desc)
        yield progress
        progress.finish_step()
        lines.close()  # not on an error: the error is the last word
        return
    with tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit=unit,
        file=out,
        leave=False,
        disable=not enabled,
        dynamic_ncols=True,
    ) as bar:
        progress = Progress(bar, desc)
        yield progress
        progress.finish_step()
