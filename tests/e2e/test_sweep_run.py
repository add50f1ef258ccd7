"""Running sweeps for real: the same results on one process, two processes and a Dask cluster;
a sweep killed with SIGKILL resumes without losing or repeating a task; a failing task is
recorded and the sweep goes on."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from sim.cli.main import main
from sim.errors import InputError
from sim.results.display import fmt_size
from sim.results.files import directory_size
from sim.sweeps import draw_sweep_figures, is_sweep_dir, read_failures, read_rows, sweep
from sim.sweeps.store import STORE_NAME, count_tasks
from tests.builders import ROOT, TWO_TOWNS

# 2 points x 3 options x 3 replications = 18 tasks of a 20-day horizon
PARAMS = {"demand_scale": "1,1.5", "run.horizon": "20 d", "run.warmup": "1 d"}
REPLICATIONS = 3
TASKS = 18
CLI_ARGS = [
    str(TWO_TOWNS),
    *(a for k, v in PARAMS.items() for a in ("--param", f"{k}={v}")),
    "--replications",
    str(REPLICATIONS),
    "--quiet",
]


def _tasks(directory: Path) -> list[int]:
    with sqlite3.connect(directory / STORE_NAME) as conn:
        return [t for (t,) in conn.execute("SELECT task FROM tasks ORDER BY task")]


def _summary(directory: Path) -> pd.DataFrame:
    return pd.read_csv(directory / "summary.csv")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sweep run one task after the other in this process."""
    out = tmp_path_factory.mktemp("sweep") / "reference"
    summary = sweep(
        TWO_TOWNS, PARAMS, replications=REPLICATIONS, workers=1, out=out, progress=False
    )
    assert summary.attrs["failed"] == 0
    return out


@pytest.mark.slow
def test_reference_outputs(reference: Path) -> None:
    rows = read_rows(reference)
    assert len(rows) == TASKS, "one row per task and service (one service)"
    assert list(rows["task"]) == list(range(TASKS))
    assert {"demand_scale", "run.horizon", "mean_response", "busy_fraction"} <= set(rows.columns)
    summary = _summary(reference)
    head = summary[summary["metric"] == "mean_response"]
    assert len(head) == 2 * 3
    assert (head["n"] == REPLICATIONS).all()
    assert (head["ci_low"] <= head["mean"]).all()
    assert (head["mean"] <= head["ci_high"]).all()
    points = pd.read_csv(reference / "points.csv")
    assert list(points["demand_scale"]) == [1.0, 1.5]
    manifest = json.loads((reference / "manifest.json").read_text())
    assert manifest["kind"] == "sweep"
    assert manifest["tasks"] == TASKS
    assert manifest["failed"] == 0
    assert is_sweep_dir(reference)
    assert {p.name for p in (reference / "figures").iterdir()} >= {
        "mean_response.png",
        "within_target.png",
    }
    redrawn = draw_sweep_figures(reference, reference.parent / "redrawn")
    assert {p.name for p in redrawn} == {p.name for p in (reference / "figures").iterdir()}


@pytest.mark.slow
def test_two_local_processes_give_identical_results(reference: Path, tmp_path: Path) -> None:
    summary = sweep(
        TWO_TOWNS,
        PARAMS,
        replications=REPLICATIONS,
        workers=2,
        out=tmp_path / "two",
        progress=False,
    )
    assert_frame_equal(summary, _summary(reference), check_exact=False, rtol=1e-5)
    assert_frame_equal(read_rows(tmp_path / "two"), read_rows(reference), check_exact=True)
    assert_frame_equal(_summary(tmp_path / "two"), _summary(reference), check_exact=True)


@pytest.mark.slow
def test_dask_local_cluster_gives_identical_results(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "dask"
    code = main(["sweep", *CLI_ARGS, "--dask", "local", "--workers", "2", "--out", str(out)])
    assert code == 0
    assert json.loads((out / "manifest.json").read_text())["executor"] == "dask local"
    assert_frame_equal(read_rows(out), read_rows(reference), check_exact=True)
    assert_frame_equal(_summary(out), _summary(reference), check_exact=True)


def _stored(out: Path) -> int:
    try:
        return count_tasks(out)[0]
    except (InputError, sqlite3.OperationalError):  # not created yet
        return 0


@pytest.mark.slow
def test_killed_sweep_resumes_every_task_exactly_once(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "sim", "sweep", *CLI_ARGS, "--workers", "2", "--out", str(out)]
    log = tmp_path / "stderr.txt"
    with log.open("wb") as err:  # a file, not a pipe: nothing can hold the test up
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 120
        while _stored(out) < 2:
            assert proc.poll() is None, f"the sweep ended before it was killed: {log.read_text()}"
            assert time.monotonic() < deadline, "no task was stored in time"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    stored = _stored(out)
    assert 0 < stored < TASKS, f"killed with {stored} of {TASKS} tasks stored"
    assert not (out / "manifest.json").exists(), "outputs are written only when all tasks ran"

    code = main(["sweep", *CLI_ARGS, "--workers", "1", "--out", str(out), "--resume"])
    assert code == 0
    assert _tasks(out) == list(range(TASKS)), "every task exactly once"
    assert_frame_equal(read_rows(out), read_rows(reference), check_exact=True)
    assert_frame_equal(_summary(out), _summary(reference), check_exact=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tasks_stored_before"] == stored
    assert manifest["tasks_run"] == TASKS - stored


def _descendants(pid: int) -> list[tuple[int, int]]:
    """Every process below ``pid`` with its depth (1: child, 2: grandchild, ...), from /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: list[tuple[int, int]] = []
    todo = [(pid, 0)]
    while todo:
        parent, depth = todo.pop()
        for child in parents.get(parent, []):
            found.append((child, depth + 1))
            todo.append((child, depth + 1))
    return found


@pytest.mark.slow
def test_dying_worker_stops_the_sweep_and_resume_completes_it(
    reference: Path, tmp_path: Path
) -> None:
    """A worker process killed mid-sweep (SIGKILL): the sweep stops with exit code 1 and says to
    resume; nothing stored is lost, and --resume finishes every task exactly once."""
    out = tmp_path / "worker"
    cmd = [sys.executable, "-m", "sim", "sweep", *CLI_ARGS, "--workers", "2", "--out", str(out)]
    log = tmp_path / "stderr.txt"
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 120
        while _stored(out) < 2:
            assert proc.poll() is None, f"the sweep ended before a worker died: {log.read_text()}"
            assert time.monotonic() < deadline, "no task was stored in time"
            time.sleep(0.02)
        # forkserver: the pool's workers are the forkserver's children, two levels down
        workers = [p for p, depth in _descendants(proc.pid) if depth == 2]
        assert workers, "the sweep should run worker processes"
        os.kill(workers[0], signal.SIGKILL)
        code = proc.wait(timeout=120)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert code == 1, f"a dead worker should end the sweep with exit code 1: {log.read_text()}"
    assert "--resume" in log.read_text(), "the message should say how to continue"
    stored = _stored(out)
    assert stored < TASKS, "the sweep stopped before the end"
    assert main(["sweep", *CLI_ARGS, "--workers", "1", "--out", str(out), "--resume"]) == 0
    assert _tasks(out) == list(range(TASKS)), "every task exactly once"
    assert_frame_equal(read_rows(out), read_rows(reference), check_exact=True)


@pytest.mark.slow
def test_resume_refuses_another_definition(
    reference: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [a if a != str(REPLICATIONS) else "4" for a in CLI_ARGS]
    code = main(["sweep", *args, "--out", str(reference), "--resume"])
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert "holds a different sweep (replications changed)" in line
    code = main(["sweep", *CLI_ARGS, "--out", str(reference)])
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert "use --resume to continue the sweep stored there" in line


@pytest.mark.slow
def test_failing_task_is_recorded_and_the_sweep_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # whatever validates also runs, so the failure is injected: every task of the second
    # point raises while it is measured (in this process: one worker), those of the first succeed
    import sim.sweeps.task as task

    measure = task._measure

    def failing(compiled, *args):  # type: ignore[no-untyped-def]
        if compiled.scenario.incident_types["urgent"].rate_per_1000 == 200:
            raise ValueError("lam value too large")
        return measure(compiled, *args)

    monkeypatch.setattr(task, "_measure", failing)
    out = tmp_path / "failing"
    args = [
        "sweep",
        str(TWO_TOWNS),
        "--param",
        "incident_types.urgent.rate_per_1000=100,200",
        "--param",
        "run.horizon=5 d",
        "--param",
        "run.warmup=0",
        "--replications",
        "2",
        "--workers",
        "1",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "error: 6 of 12 task(s) failed" in err
    assert "point 1: incident_types.urgent.rate_per_1000=200" in err
    assert "ValueError: lam value too large" in err
    failures = read_failures(out)
    assert list(failures["task"]) == list(range(6, 12))
    assert failures["error"].str.contains("lam value too large").all()
    summary = _summary(out)
    assert set(summary["point"]) == {0}
    assert (summary["n"] == 2).all()
    assert json.loads((out / "manifest.json").read_text())["failed"] == 6
    assert len(pd.read_csv(out / "failures.csv")) == 6

    assert main([*args, "--resume"]) == 1, "failed tasks run again on resume, and fail again"
    assert _tasks(out) == list(range(12)), "no task twice"
    assert len(read_rows(out)) == 6


# -- the command line: bad input is exit 2 with one line -------------------------------------------


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        (
            "services.ambulance.unit.0.count=1,2",
            "nearest valid paths: services.ambulance.units.0.count",
        ),
        ("demand_scale=1:x:3", "bad range '1:x:3'"),
        ("services.ambulance.units.0.count=-1", "services.ambulance.units.0.count"),
        ("demand_scale", "expected PATH=VALUES"),
    ],
)
def test_cli_bad_param_is_exit_2_with_one_line(
    param: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "sweep",
            str(TWO_TOWNS),
            "--param",
            param,
            "--param",
            "run.horizon=10 d",
            "--param",
            "run.warmup=0",
            "--out",
            str(tmp_path / "out"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1, f"one line per problem, got {err}"
    assert expected in err[0]
    assert not (tmp_path / "out").exists(), "nothing is written for bad input"


def test_cli_bad_value_names_the_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    param = "options.pooled.dispatch.ambulance.policy=pooled,shared"
    code = main(["sweep", str(TWO_TOWNS), "--param", param, "--out", str(tmp_path / "out")])
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert "options.pooled.dispatch.ambulance.policy" in line
    assert "'shared'" in line


@pytest.mark.slow
def test_progress_in_a_log_counts_tasks_then_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "logged"
    args = [
        "sweep",
        str(TWO_TOWNS),
        "--param",
        "demand_scale=1,1.5",
        "--param",
        "run.horizon=3 d",
        "--param",
        "run.warmup=0",
        "--replications",
        "1",
        "--workers",
        "1",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "\r" not in captured.err, "plain lines in a log, no bar"
    tasks = [line for line in captured.err.splitlines() if line.startswith("sweep: ")]
    assert [t.split(" tasks")[0] for t in tasks] == [f"sweep: {n}/6" for n in range(1, 7)], tasks
    assert "done in" in tasks[-1]
    assert "writing results: figures: 2/3 steps" in captured.err, captured.err
    last = captured.out.strip().splitlines()[-1]
    assert "; done in " in last, last
    assert last.endswith(f"wrote {out}: {fmt_size(directory_size(out))}"), last
