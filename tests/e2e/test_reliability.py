"""Reliability: interrupted runs, the size guard, overload, rerun, and bad command lines."""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import ScenarioError, load_scenario
from sim.analysis.runsize import RunEstimate, check_feasible, estimate_run
from sim.cli.main import main
from sim.errors import InputError
from sim.model.compile import compile_region
from sim.schema import scenario_from_dict
from tests.builders import ROOT, grid_region, shipped

TABLES = ("incidents.parquet", "units.parquet", "levels.parquet", "summary.csv", "manifest.json")


def _small(tmp_path: Path, horizon: str = "120 d", **changes: object) -> Path:
    data = shipped(horizon=horizon, warmup="1 d")
    data.update(changes)
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _complete(out: Path) -> bool:
    """A result directory holds every table, each readable in full."""
    if not all((out / name).is_file() for name in TABLES):
        return False
    for name in TABLES:
        if name.endswith(".parquet"):
            pd.read_parquet(out / name)
    json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return True


# --- interruption: atomic outputs -----------------------------------------------------------


# when a killed run is killed: on a progress line of the run (simulating; writing the tables;
# putting the directory in place), after a random delay of at most JITTER seconds
KILL_AT = ("replications: 2/", "writing results: summary:", "writing results: 2/2 steps done")
JITTER = 0.15


@pytest.mark.slow
def test_killed_runs_leave_complete_outputs_or_none(tmp_path: Path) -> None:
    """Real runs killed (SIGKILL) while they simulate, write and put their results in place:
    the output directory is absent or complete, and a replaced directory is the previous
    complete one or the new one, never a mixture. The moments follow the run's own progress
    lines (its imports alone take longer than its work), each with a fresh and a replacing
    run; the six runs go side by side."""
    scenario = _small(tmp_path, horizon="200 d")
    rng = random.Random(7)
    kept = tmp_path / "kept"
    assert main(["run", str(scenario), "--replications", "1", "--out", str(kept)]) == 0
    before = (kept / "manifest.json").read_bytes()
    kills = []
    for i, line in enumerate(KILL_AT):
        previous = tmp_path / f"previous{i}"
        shutil.copytree(kept, previous)
        kills += [(tmp_path / f"fresh{i}", [], line), (previous, ["--overwrite"], line)]
    with ThreadPoolExecutor(len(kills)) as pool:
        runs = [
            pool.submit(_killed_run, scenario, out, extra, line, rng.uniform(0, JITTER))
            for out, extra, line in kills
        ]
        for run in runs:
            run.result()
    for out, extra, _ in kills:
        if not extra:
            assert not out.exists() or _complete(out), f"{out} should be absent or complete"
        else:
            assert _complete(out), "a replaced directory should always be complete"
            manifest = (out / "manifest.json").read_bytes()
            assert manifest == before or json.loads(manifest)["replications"] == 4
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert main(["run", str(scenario), "--replications", "1", "--out", str(tmp_path / "last")]) == 0
    stale = [
        p for p in tmp_path.iterdir() if p.name.startswith(".") and p in leftovers and p.exists()
    ]
    assert not [p for p in stale if p.name.startswith(".last.")], "stale temporaries are cleaned"


def _killed_run(scenario: Path, out: Path, extra: list[str], line: str, delay: float) -> None:
    """A run of ``scenario`` to ``out`` killed ``delay`` seconds after it prints ``line``
    (or when it ends, if it ends first)."""
    cmd = [sys.executable, "-m", "sim", "run", str(scenario), "--replications", "4"]
    proc = subprocess.Popen(
        [*cmd, "--out", str(out), *extra],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for text in proc.stderr:
        if text.startswith(line):
            time.sleep(delay)
            break
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)


def test_stale_temporaries_of_killed_runs_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "res"
    dead = tmp_path / ".res.999999999.abc.tmp"  # a pid that cannot exist
    dead.mkdir()
    scenario = _small(tmp_path, horizon="10 d")
    assert main(["run", str(scenario), "--replications", "1", "--out", str(out)]) == 0
    assert not dead.exists(), "the temporary directory of a killed run should be removed"


# --- the guard ------------------------------------------------------------------------------


def test_guard_refuses_a_run_far_beyond_the_machine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = _small(tmp_path, horizon="17000 d", demand_scale=400)
    code = main(["run", str(scenario), "--replications", "100", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2, "a run far beyond the machine should be refused with exit code 2"
    assert "refusing a run beyond this machine" in err, err
    assert "--force" in err, err
    assert "incidents per replication" in err, "the refusal should say what it estimated"
    assert not (tmp_path / "x").exists(), "nothing is written when a run is refused"


def test_guard_estimate_matches_the_simulated_count(tmp_path: Path) -> None:
    scenario = load_scenario(_small(tmp_path, horizon="60 d"))
    est = estimate_run(compile_region(scenario), options=1, replications=1)
    from sim.runs.run import run

    n = len(run(scenario, options=["separate"], replications=1).incidents)
    assert abs(n - est.incidents_per_replication) < 5 * est.incidents_per_replication**0.5, (
        f"expected incidents {est.incidents_per_replication:.0f} should match the {n} simulated "
        "within 5 Poisson standard deviations"
    )


def test_guard_counts_and_states_the_travel_matrices() -> None:
    region = compile_region(scenario_from_dict(grid_region(columns=20, rows=10, zones=5)))
    places = len(region.places)
    assert region.travel.dtype == np.float32
    assert region.travel.shape == (places, places)
    est = estimate_run(region, options=2, replications=3)
    bare = replace(region, travel=np.zeros((1, 1), dtype=np.float32))
    small = estimate_run(bare, options=2, replications=3)
    assert est.travel_bytes >= places * places * 4, "the matrix, 4 bytes a pair, counts once"
    assert est.peak_bytes - small.peak_bytes == est.travel_bytes - small.travel_bytes, (
        "and is in the peak"
    )
    assert f"{est.travel_bytes / 2**20:,.0f} MiB of it travel matrices" in est.describe()
    with pytest.raises(InputError, match="travel matrices"):
        check_feasible(est, memory=est.travel_bytes)


def test_force_overrides_the_guard() -> None:
    huge = RunEstimate(1e9, 1e10, 1e7, 1e13)
    with pytest.raises(Exception, match="refusing"):
        check_feasible(huge, force=False, memory=24 * 2**30)
    check_feasible(huge, force=True, memory=24 * 2**30)


# --- overload -------------------------------------------------------------------------------

OVERLOADED = """
name: overloaded
communities: {a: {population: 1000}}
travel: {matrix: {a: {a: 5}}}
services: {amb: {units: [{station: a, count: 1}]}}
incident_types: {k: {service: amb, rate_per_year: 80000, on_scene: {dist: exponential, mean: 10}}}
run: {horizon: 20 d, replications: 2}
"""


def test_overloaded_scenario_runs_to_the_horizon_and_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "over.yaml"
    path.write_text(OVERLOADED, encoding="utf-8")
    assert main(["estimate", str(path)]) == 0
    assert "overloaded" in capsys.readouterr().err, "estimate should flag utilisation >= 1 first"
    assert main(["run", str(path), "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "still waited for a unit at the horizon" in err, err
    assert "cannot keep up" in err, err
    inc = pd.read_parquet(tmp_path / "o" / "incidents.parquet")
    assert inc["t_call"].max() > 19 * 1440, "calls are generated up to the horizon"
    assert inc["open"].sum() > 0.3 * len(inc), "the backlog is kept and flagged open, not dropped"
    assert inc["t_dispatch"].isna().sum() == (inc["open"] & inc["t_dispatch"].isna()).sum()


# --- rerun ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_rerun_repeats_and_checks_the_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = _small(tmp_path, horizon="30 d")
    out = tmp_path / "res"
    assert main(["compare", str(scenario), "--replications", "2", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["rerun", str(out)]) == 0
    assert "identical" in capsys.readouterr().out
    summary = out / "summary.csv"
    summary.write_text(summary.read_text(encoding="utf-8").replace("0.", "1.", 1), encoding="utf-8")
    assert main(["rerun", str(out)]) == 1, "a changed table should make rerun fail"
    assert "differs: summary.csv" in capsys.readouterr().out
    scenario.write_text(scenario.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert main(["rerun", str(out)]) == 2
    assert "changed since the run" in capsys.readouterr().err


# --- bad command lines: one line, exit 2, nothing written ------------------------------------

BAD_COMMANDS = [
    (["run", "{scenario}", "--option", "nope"], "unknown option 'nope'"),
    (["run", "{scenario}", "--replications", "0"], "must be at least 1"),
    (["run", "{scenario}", "--replications", "many"], "not a whole number"),
    (["run", "{scenario}", "--seed", "-3"], "must not be negative"),
    (["compare", "{scenario}", "--precision", "2"], "between 0 and 1"),
    (["compare", "{scenario}", "--precision", "0.05", "--replications", "3"], "not both"),
    (["compare", "{scenario}", "--baseline", "nope"], "unknown option 'nope'"),
    (["run", "{missing}"], "no such file"),
    (["run", "{dir}"], "is a directory"),
    (["run", "{scenario}", "--out", "{file}"], "is not a directory"),
    (["run", "{scenario}", "--out", "{full}"], "not empty (use --overwrite"),
    (["run", "{scenario}", "--out", "/proc/intersim-test/out"], "cannot write"),
    (["frobnicate"], "invalid choice"),
    (["run"], "required"),
    (["rerun", "{dir}"], "no manifest.json"),
    (["validate"], "required"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_COMMANDS)
def test_bad_command_lines(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    # a default output directory (no --out) would be claimed in the working directory: a
    # folder of this test's own, not the repository that every test process shares
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "file").write_text("x", encoding="utf-8")
    (tmp_path / "dir").mkdir()
    names = {
        "scenario": str(_small(tmp_path, horizon="5 d")),
        "missing": str(tmp_path / "none.yaml"),
        "dir": str(tmp_path / "dir"),
        "file": str(tmp_path / "file"),
        "full": str(tmp_path / "full"),
    }
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code = main([a.format(**names) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, f"{argv} should exit 2, got {code}: {err}"
    assert message in err, f"{argv}: expected {message!r} in {err!r}"
    assert "Traceback" not in err, f"no traceback: {err!r}"
    assert len(err.strip().splitlines()) == 1, f"one line: {err!r}"
    assert sorted(p.name for p in tmp_path.rglob("*")) == before, "nothing should be written"
    assert (tmp_path / "full" / "keep.txt").read_text(encoding="utf-8") == "mine"


# --- random invalid scenarios: only ever a validation error -----------------------------------

BASE = shipped()
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(BASE)


@pytest.mark.slow
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.sampled_from(PATHS), st.sampled_from(["set", "delete"]), JUNK),
        min_size=1,
        max_size=3,
    )
)
def test_random_mutations_only_give_validation_errors(
    tmp_path: Path, edits: list[tuple[tuple[object, ...], str, object]]
) -> None:
    data = json.loads(json.dumps(BASE))
    for path, action, value in edits:
        node = data
        try:
            for key in path[:-1]:
                node = node[key]  # type: ignore[index]
            if action == "delete":
                del node[path[-1]]  # type: ignore[arg-type]
            else:
                node[path[-1]] = value  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            continue
    path = tmp_path / "mutant.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    problems = []
    try:
        load_scenario(path)
    except ScenarioError as exc:  # the only exception allowed
        problems = exc.problems or ["<none>"]
    assert "<none>" not in problems, "a ScenarioError names at least one problem"
    assert all(str(p).startswith(str(path)) for p in problems), "each problem names the file"
