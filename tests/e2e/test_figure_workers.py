"""The figures' worker processes start before the tables are written: ``compare`` opens them
first, each imports the drawing modules at once, and the figures are then drawn on them; with
one worker the figures are drawn in this process and no worker starts."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

import sim.comparison.output as output
import sim.plots as plots
from sim.comparison.compare import compare
from sim.engine.execute import Executor
from sim.schema import scenario_from_dict
from tests.builders import TWO_TOWNS


def test_each_figure_worker_starts_importing_the_drawing_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Any] = []
    monkeypatch.setattr(Executor, "start", lambda self, fn, *args: started.append((fn, args)))
    with plots.figure_workers(tmp_path, 2) as drawers:
        assert drawers is not None
        assert drawers.workers == 2
        assert started == [(plots.import_kinds, ())] * 2, "one warm-up per worker"


def test_with_one_worker_this_process_draws(tmp_path: Path) -> None:
    with plots.figure_workers(tmp_path, 1) as drawers:
        assert drawers is None


def test_the_warm_up_imports_every_kind_of_figure() -> None:
    """In a fresh interpreter, which has loaded no drawing module before."""
    code = (
        "import sys, sim.plots as p; before = 'matplotlib' in sys.modules; p.import_kinds('');"
        "print(before, all(f'sim.plots.{k}' in sys.modules for k in p.KINDS))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]


def test_compare_opens_the_figure_workers_before_it_writes_the_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []

    @contextmanager
    def workers(_tmp: Path, count: int | None) -> Iterator[None]:
        events.append(f"open {count}")
        yield None  # this process draws (here: nothing)
        events.append("close")

    write_csv = output.write_csv
    monkeypatch.setattr(output, "figure_workers", workers)
    monkeypatch.setattr(
        output, "write_csv", lambda *a, **k: (events.append("csv"), write_csv(*a, **k))
    )
    for name in ("write_workbook", "draw_figures"):
        monkeypatch.setattr(output, name, lambda *_a, **_k: None)
    monkeypatch.setattr(output, "build_report", lambda *_a, **_k: events.append("report"))
    data = yaml.safe_load(TWO_TOWNS.read_text(encoding="utf-8"))
    data["run"].update({"horizon": "5 d", "warmup": "1 d", "replications": 2})
    scenario = scenario_from_dict(data)
    output.write_comparison(
        compare(scenario),
        tmp_path / "out",
        scenario_file=TWO_TOWNS,
        command="test",
        started=datetime.now(UTC),
        seconds=1.0,
        scenario=scenario,
        workers=2,
    )
    assert events[0] == "open 2", "before any table"
    assert "csv" in events[1:-2]
    assert events[-2:] == ["close", "report"], "closed once the figures are drawn"
