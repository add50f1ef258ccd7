"""``run`` and ``compare`` on several workers give the same bytes as in one process: the
replications are pure tasks of the engine driver, gathered in replication order. Also the
executor itself: results in task order, a dead worker reported, data that cannot be pickled run
in this process with a warning."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pandas.testing import assert_frame_equal

from sim.cli.main import main
from sim.comparison.compare import TABLES as COMPARISON_TABLES
from sim.comparison.compare import compare
from sim.data.export import export_log, write_log
from sim.data.replay import load_replay, replay_source
from sim.engine.demand import Incidents, generate_incidents
from sim.engine.execute import Finished, WorkerLost, dask_cluster, open_executor
from sim.model.compile import Region
from sim.runs.run import run
from sim.schema import Scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[2]
TWO_TOWNS = ROOT / "scenarios" / "two_towns.yaml"
TABLES = ("incidents", "units", "levels", "help")
COMPARISON = ("summary", "comparison", "units", "help", "balance", "costs", "shares", "equity")


def _data() -> dict:
    data = yaml.safe_load(TWO_TOWNS.read_text(encoding="utf-8"))
    data["run"].update({"horizon": "20 d", "warmup": "1 d", "replications": 3, "seed": 5})
    return data


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return scenario_from_dict(_data())


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("workers") / "tiny.yaml"
    path.write_text(yaml.safe_dump(_data(), sort_keys=False), encoding="utf-8")
    return path


def _same_run(a, b) -> None:  # type: ignore[no-untyped-def]
    for name in TABLES:
        assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=name)


def _same_comparison(a, b) -> None:  # type: ignore[no-untyped-def]
    for name in COMPARISON:
        assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=name)
    _same_run(a.raw, b.raw)


def test_run_on_two_workers_gives_the_same_tables(scenario: Scenario) -> None:
    one = run(scenario, workers=1)
    two = run(scenario, workers=2)
    _same_run(one, two)
    assert list(two.incidents["replication"].unique()) == [0, 1, 2], "in replication order"
    assert two.warnings == one.warnings


def test_compare_on_two_workers_gives_the_same_tables(scenario: Scenario) -> None:
    _same_comparison(compare(scenario, workers=1), compare(scenario, workers=2))


def test_compare_without_records_gives_the_same_tables(scenario: Scenario) -> None:
    """Without ``records`` the workers keep the per-incident table: every table is the same
    (measured where each replication ran), and ``raw.incidents`` keeps its columns only."""
    one = compare(scenario, workers=1)
    two = compare(scenario, workers=2, records=False)
    for name in COMPARISON_TABLES:
        assert_frame_equal(getattr(one, name), getattr(two, name), check_exact=True, obj=name)
    assert two.warnings == one.warnings
    for name in ("units", "levels", "help"):
        assert_frame_equal(getattr(one.raw, name), getattr(two.raw, name), check_exact=True)
    assert len(one.raw.incidents) > 0
    assert len(two.raw.incidents) == 0
    assert (two.raw.incidents.dtypes == one.raw.incidents.dtypes).all()


def test_precision_rounds_on_two_workers_give_the_same_tables(scenario: Scenario) -> None:
    """Replications are added in rounds until the precision is reached: the same rounds, the
    same replications, whatever the number of workers."""
    one = compare(scenario, precision=0.05, max_replications=8, workers=1)
    two = compare(scenario, precision=0.05, max_replications=8, workers=2)
    assert one.replications > 5, "the precision should need more than one added round"
    assert two.replications == one.replications
    assert two.precision_reached == one.precision_reached
    _same_comparison(one, two)


def test_run_command_writes_identical_bytes_on_two_workers(
    scenario_file: Path, tmp_path: Path
) -> None:
    outs = {}
    for workers in ("1", "2"):
        outs[workers] = tmp_path / f"w{workers}"
        argv = ["run", str(scenario_file), "--workers", workers, "--out", str(outs[workers])]
        assert main(argv) == 0
    tables = sorted(p.name for p in outs["1"].iterdir() if p.suffix in (".csv", ".parquet"))
    assert tables == ["incidents.parquet", "levels.parquet", "summary.csv", "units.parquet"]
    for name in tables:
        assert (outs["1"] / name).read_bytes() == (outs["2"] / name).read_bytes(), name


def test_run_on_a_local_dask_cluster_gives_the_same_tables(scenario: Scenario) -> None:
    _same_run(run(scenario, workers=1), run(scenario, workers=2, dask="local"))


@pytest.mark.slow
def test_two_local_dask_clusters_run_side_by_side() -> None:
    """Two ``--dask local`` commands at once on one machine (two test processes, two users):
    neither takes a fixed port, so neither is told that the port is in use (a warning, an
    error under this suite's filterwarnings) nor fails to start."""
    with dask_cluster("local", 1) as one, dask_cluster("local", 1) as two:
        infos = [client.scheduler_info() for client in (one, two)]
    assert all(info["address"].startswith("tcp://127.0.0.1:") for info in infos), infos
    http = [info["services"]["dashboard"] for info in infos]
    assert len(set(http)) == 2, f"one HTTP server each: {http}"
    assert 8787 not in http, f"HTTP servers on free ports: {http}"


def test_replayed_log_runs_on_two_workers(scenario: Scenario, tmp_path: Path) -> None:
    """A replay source is picklable: its replications go to the workers too."""
    frame, _ = export_log(scenario, option="separate", seed=3)
    write_log(frame, tmp_path / "log.csv")
    source = replay_source(load_replay(tmp_path / "log.csv", scenario))
    one = run(scenario, options=["pooled"], source=source, workers=1)
    two = run(scenario, options=["pooled"], source=source, workers=2)
    _same_run(one, two)
    assert not any("cannot be sent" in w for w in two.warnings)


def test_a_source_that_cannot_be_pickled_runs_in_this_process(scenario: Scenario) -> None:
    calls: list[int] = []

    def source(region: Region, seed: int, replication: int) -> Incidents:  # a closure
        calls.append(replication)
        return generate_incidents(region, seed, replication)

    two = run(scenario, source=source, workers=2)
    assert calls == [0, 1, 2], "every replication ran here, in order"
    assert any("cannot be sent to other processes" in w for w in two.warnings)
    _same_run(run(scenario, workers=1), two)


# --- the executor -----------------------------------------------------------------------------
def _slow_echo(shared: str, i: int, n: int) -> str:
    time.sleep(0.05 * (n - i))  # the first tasks finish last
    return f"{shared}:{i}"


def _die(shared: str, i: int) -> int:
    if i == 1:
        os._exit(9)  # a worker process killed mid-task
    time.sleep(0.2)
    return i


def test_results_come_back_in_task_order() -> None:
    args = [(i, 6) for i in range(6)]
    with open_executor("data", workers=2) as ex:
        assert ex.workers == 2
        assert ex.kind == "2 local processes"
        order = [f.index for f in ex.finished(_slow_echo, args)]
        assert sorted(order) == list(range(6))
        assert ex.map(_slow_echo, args) == [f"data:{i}" for i in range(6)]
    with open_executor("data", workers=1) as ex:
        assert ex.kind == "this process"
        assert ex.map(_slow_echo, args) == [f"data:{i}" for i in range(6)]


def test_a_dead_worker_is_reported_not_hidden() -> None:
    with open_executor("data", workers=2) as ex:
        done = list(ex.finished(_die, [(i,) for i in range(8)]))
    assert sorted(f.index for f in done) == list(range(8)), "every task accounted for once"
    assert any(f.lost for f in done)
    assert all(f.value == f.index for f in done if f.error is None)
    with pytest.raises(WorkerLost, match="run again"), open_executor("data", workers=2) as ex:
        ex.map(_die, [(i,) for i in range(8)])


def test_a_failing_task_is_its_error() -> None:
    with open_executor("data", workers=1) as ex:
        (done,) = list(ex.finished(_slow_echo, [("not a number", 1)]))
    assert isinstance(done, Finished)
    assert isinstance(done.error, TypeError)
    assert not done.lost


def test_single_task_runs_here_and_unpicklable_data_falls_back() -> None:
    with open_executor("data", workers=4, tasks=1) as ex:
        assert ex.kind == "this process"
        assert ex.fallback is None
    with open_executor(lambda: None, workers=2) as ex:
        assert ex.kind == "this process"
        assert ex.fallback is not None
        assert "cannot be sent" in ex.fallback


def test_replications_stay_in_order_in_the_tables(scenario: Scenario) -> None:
    inc = run(scenario, workers=2).incidents
    first = inc.groupby("replication", observed=True).head(1).index
    assert pd.Index(first).is_monotonic_increasing


def test_compare_command_writes_identical_files_on_two_workers(
    scenario_file: Path, tmp_path: Path
) -> None:
    """Every table and every figure (PNG and SVG, drawn in worker processes, the costliest
    first) is the same file as from one process; the manifest times each stage."""
    outs = {}
    for workers in ("1", "2"):
        outs[workers] = tmp_path / f"w{workers}"
        argv = ["compare", str(scenario_file), "--workers", workers, "--out", str(outs[workers])]
        assert main(argv) == 0
    one, two = outs["1"], outs["2"]
    files = sorted(
        str(p.relative_to(one))
        for p in one.rglob("*")
        if p.suffix in (".csv", ".parquet", ".png", ".svg") or p.name == "index.json"
    )
    assert "figures/index.json" in files
    assert sum(f.endswith(".svg") for f in files) >= 5, files
    for name in files:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    made = sorted(str(p.relative_to(two)) for p in two.rglob("*"))
    assert [f for f in made if f in files] == files, "the same files on two workers"
    for out in (one, two):
        stages = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["stages"]
        assert list(stages) == ["simulation", "tables", "figures", "report"]
        assert all(s["wall_s"] > 0 and s["cpu_s"] >= 0 for s in stages.values()), stages


def _spin(shared: str, seconds: float) -> str:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return shared


def test_the_workers_cpu_time_is_counted() -> None:
    with open_executor("data", workers=2) as ex:
        assert ex.map(_spin, [(0.2,)] * 4) == ["data"] * 4
        assert ex.worker_cpu >= 0.8, "4 tasks of 0.2 s of CPU each, in the workers"
    with open_executor("data", workers=1) as ex:
        ex.map(_spin, [(0.05,)])
        assert ex.worker_cpu == 0.0, "in this process: its own CPU time counts the task"


def test_a_started_task_runs_on_a_worker_and_its_cpu_time_counts() -> None:
    """``start`` leaves the task's value (a warm-up of the workers): the pool still runs it,
    and its worker's CPU time counts once it is done."""
    with open_executor("data", workers=2) as ex:
        ex.start(_spin, 0.3)
    assert ex.worker_cpu >= 0.3, "counted although nobody asked for the value"
