"""Time and size of a result directory: ``compare`` writes the per-incident table only with
``--records`` (the figures, the report and ``plot``/``report``/``rerun`` work from summaries
without it), says how large the directory is and how long the whole command took, and shows
its progress while it writes and draws (plain lines in a log)."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

import sim.plots
from sim.cli.main import main
from sim.plots import response, timeline
from sim.plots.response import ecdf_figure
from sim.plots.timeline import surge_bins, surge_windows
from sim.results.display import fmt_size
from sim.results.files import directory_size
from sim.results.read import INCIDENTS_FILE, RESPONSES_FILE, TIMELINE_FILE, load_result

SCENARIO = """\
name: two towns
communities:
  north: {population: 20000}
  south: {population: 10000}
travel:
  matrix:
    north: {north: 5, south: 14}
    south: {south: 7}
services:
  ambulance:
    units: [{station: north, count: 2}, {station: south}]
incident_types:
  medical:
    service: ambulance
    rate_per_1000: 90
    on_scene: {dist: exponential, mean: 30}
    target: {minutes: 12, share: 0.9}
surges:
  - {name: storm, start: "4 d", duration: "12 h", multiplier: 3}
run: {horizon: 8 d, warmup: 1 d, replications: 2}
options:
  separate: {}
  pooled: {dispatch: {all: {policy: pooled}}}
"""
FINAL = re.compile(r"done in (\d+\.\d) s; wrote (.+): (\S+ \S+) \(report: .+\)")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("size") / "s.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


@pytest.mark.slow
def test_default_compare_writes_summaries_not_incidents(
    scenario: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "result"
    started = time.perf_counter()
    assert main(["compare", str(scenario), "--out", str(out)]) == 0
    wall = time.perf_counter() - started
    captured = capsys.readouterr()
    assert not (out / INCIDENTS_FILE).exists(), "no per-incident table without --records"
    for name in (RESPONSES_FILE, TIMELINE_FILE, "units.parquet", "levels.parquet"):
        assert (out / name).is_file(), f"{name} is written"
    assert json.loads((out / "manifest.json").read_text())["records"] is False
    # the last line: the whole command's time and the directory's size
    match = FINAL.search(captured.out.strip().splitlines()[-1])
    assert match, captured.out[-300:]
    seconds, where, size = match.groups()
    assert where == str(out)
    assert size == fmt_size(directory_size(out))
    assert wall - 1.0 <= float(seconds) <= wall + 0.1, f"done in {seconds} s of {wall:.1f} s"
    # progress in a log (stderr is no terminal here): plain lines, writing and drawing included
    err = captured.err
    assert "\r" not in err, "no carriage returns in a log"
    assert "replications: 2/2 reps done in" in err
    assert re.search(r"writing results: figures: response: \d+/\d+ steps", err), err
    assert re.search(r"writing results: \d+/\d+ steps done in", err), err
    # everything the figures need is in the summaries
    data = load_result(out)
    assert ecdf_figure(data, "ambulance") is not None
    (window,) = surge_windows(data)
    bins = surge_bins(data, window, "ambulance", "separate")
    assert bins["waiting_calls"].notna().all()
    assert bins["mean_response"].notna().any()
    # the figures of the incidents (the others are redrawn from tables as before)
    monkeypatch.setattr(sim.plots, "MODULES", (response.figures, timeline.figures))
    assert main(["plot", str(out)]) == 0
    assert main(["report", str(out)]) == 0
    plot_err = capsys.readouterr().err
    assert re.search(r"drawing figures: \d+/\d+ steps done in", plot_err), plot_err
    names = {i["name"] for i in json.loads((out / "figures" / "index.json").read_text())}
    assert names == {"response_ecdf_ambulance", "levels_by_hour", "surge_1"}
    # rerun of a default directory: tests/e2e/test_reliability.py


@pytest.mark.slow
def test_records_adds_the_incident_table_and_rerun_repeats_it(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "result"
    assert main(["compare", str(scenario), "--out", str(out), "--records"]) == 0
    assert (out / INCIDENTS_FILE).is_file()
    assert json.loads((out / "manifest.json").read_text())["records"] is True
    capsys.readouterr()
    assert main(["rerun", str(out)]) == 0
    text = capsys.readouterr().out
    assert "identical:" in text, text
    assert "ignored" not in text, "--records is repeated, not ignored"
    # a directory written before the summaries existed draws the same from its incidents
    old = tmp_path / "old"
    shutil.copytree(out, old)
    (old / RESPONSES_FILE).unlink()
    (old / TIMELINE_FILE).unlink()
    for name in ("ecdf:separate:1", "ecdf:pooled:1"):
        lines = [
            next(
                a for a in ecdf_figure(load_result(d), "ambulance").findobj() if a.get_gid() == name
            )
            for d in (out, old)
        ]
        np.testing.assert_allclose(lines[0].get_xydata(), lines[1].get_xydata(), err_msg=name)
    new_data, old_data = load_result(out), load_result(old)
    (window,) = surge_windows(old_data)
    np.testing.assert_allclose(
        surge_bins(old_data, window, "ambulance", "pooled")["waiting_calls"],
        surge_bins(new_data, window, "ambulance", "pooled")["waiting_calls"],
        rtol=1e-5,
    )
    (old / INCIDENTS_FILE).unlink()
    assert main(["plot", str(old)]) == 2
    assert "missing response_histogram.parquet" in capsys.readouterr().err
