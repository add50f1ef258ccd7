"""Progress on a terminal is a tqdm bar; anywhere else (a pipe, a log file) plain lines, one per
tenth of the work and at the end, never a carriage return."""

from __future__ import annotations

import io
import re

import pytest

import sim.engine.progress as progress
from sim.engine.progress import progress_bar


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_a_log_gets_a_line_per_tenth_and_a_last_line() -> None:
    log = io.StringIO()
    with progress_bar("replications", "rep", total=40, stream=log) as bar:
        for _ in range(40):
            bar.update(1)
    text = log.getvalue()
    assert "\r" not in text, "no carriage returns in a log"
    lines = text.splitlines()
    assert lines[0].startswith("replications: 1/40 reps (2 %)"), "the first piece done"
    counts = [int(m.group(1)) for m in map(re.compile(r"replications: (\d+)/40").match, lines) if m]
    assert counts == [1, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40], f"a line per tenth: {lines}"
    assert re.fullmatch(r"replications: 40/40 reps done in \d+\.\d s", lines[-1]), lines[-1]


def test_a_terminal_gets_a_bar_that_is_gone_at_the_end() -> None:
    tty = Terminal()
    with progress_bar("replications", "rep", total=5, stream=tty) as bar:
        for _ in range(5):
            bar.update(1)
    text = tty.getvalue()
    assert "\r" in text, "a bar redraws itself in place"
    assert "replications:" in text
    assert "/5 [" in text, text
    assert "done in" not in text, "the bar, not the plain lines"


def test_nothing_before_the_first_piece_of_work() -> None:
    """Bad input found before any work is done stays the only line."""
    log = io.StringIO()
    with pytest.raises(ValueError, match="bad"), progress_bar("r", "rep", total=3, stream=log):
        raise ValueError("bad")
    with progress_bar("r", "rep", total=3, stream=log):
        pass
    assert log.getvalue() == ""


def test_nothing_when_disabled() -> None:
    for stream in (io.StringIO(), Terminal()):
        with progress_bar("sweep", "task", total=3, enabled=False, stream=stream) as bar:
            bar.update(3)
        assert stream.getvalue() == ""


def test_steps_name_what_was_done() -> None:
    log = io.StringIO()
    with progress_bar("writing results", "step", stream=log) as bar:
        bar.grow(4)
        for label in ("tables", "workbook", "figures: response", "report"):
            bar.step(label)
    lines = log.getvalue().splitlines()
    assert len(lines) == 4, f"a line per step of a few: {lines}"
    assert lines[0].startswith("writing results: tables: 1/4 steps (25 %)"), lines
    assert lines[2].startswith("writing results: figures: response: 3/4 steps (75 %)"), lines
    assert lines[-1].startswith("writing results: 4/4 steps done in"), "the last step counts"
    tty = Terminal()
    with progress_bar("writing results", "step", total=2, stream=tty) as bar:
        bar.step("tables")
        bar.step("figures: zones")
    assert "writing results: figures: zones" in tty.getvalue(), "the bar names the step"


def test_work_of_unknown_length_gets_a_line_every_few_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [0.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: now[0])
    log = io.StringIO()
    with progress_bar("size", "sim", stream=log) as bar:
        for _ in range(30):
            now[0] += 1.0
            bar.update(1)
        bar.note(failed=2)
    lines = log.getvalue().splitlines()
    assert lines[0] == "size: 1 sim, 1.0 s", "the first piece of work is reported at once"
    assert [line.split(",")[0] for line in lines[1:-1]] == [
        f"size: {n} sims" for n in (6, 11, 16, 21, 26)
    ], f"a line every {progress.LINE_SECONDS:g} s: {lines}"
    assert lines[-1] == "size: 30 sims done in 30.0 s, failed 2"
