"""The workers' fork server starts as soon as ``compare`` knows it will use worker processes,
so that its imports run beside the command's own: at once with ``--workers N``, once the run is
estimated long enough by default (from the scenario's shape, before its data files are read),
and never for a run in this process or on Dask; ``sweep`` starts it before it reads its
scenario and points. A pool opened after the early start uses that fork server (its workers
fork with the preloaded modules)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

import sim.cli.compare as cli
import sim.sweeps.definition as sweep_definition
import sim.sweeps.workers as sweep_workers
from sim.analysis.runsize import RunEstimate, early_estimate
from sim.cli.main import main
from sim.cli.run import size_of_run
from sim.engine import execute
from sim.engine.execute import open_executor, start_workers
from sim.errors import InputError
from sim.schema import load_scenario
from sim.schema.load import peek_scenario
from tests.builders import TWO_TOWNS

ROOT = Path(__file__).resolve().parents[2]
STOPPED = "stopped before any work"  # the output folder is claimed after the early start


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the command did, in order, up to claiming its output folder (where it stops)."""
    seen: list[str] = []
    load = cli.load_scenario

    def loading(path: str):  # type: ignore[no-untyped-def]
        seen.append("load")
        return load(path)

    def claimed(*_args: object, **_kw: object) -> Path:
        seen.append("claim")
        raise InputError(STOPPED)

    monkeypatch.setattr(cli, "start_workers", lambda modules: seen.append(f"start {modules}"))
    monkeypatch.setattr(cli, "load_scenario", loading)
    monkeypatch.setattr(cli, "checked_out_dir", claimed)
    return seen


def _compare(*extra: str) -> int:
    return main(["compare", str(TWO_TOWNS), "--replications", "2", *extra])


def _estimated(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    size = RunEstimate(1000.0, 1000.0, seconds, 1e6)
    monkeypatch.setattr(cli, "size_of_run", lambda *_args: size)
    monkeypatch.setattr(cli, "early_estimate", lambda *_args: size)


def test_workers_asked_for_start_before_the_scenario_is_read(events: list[str]) -> None:
    assert _compare("--workers", "2") == 2
    start = f"start {cli.WORKER_MODULES}"
    assert events[:2] == [start, "load"], "before anything else"
    assert events[-1] == "claim"


def test_one_worker_starts_none(events: list[str]) -> None:
    assert _compare("--workers", "1") == 2
    assert events == ["load", "claim"]


def test_by_default_a_long_run_starts_them_before_its_data_files_are_read(
    events: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    _estimated(monkeypatch, 600.0)
    assert _compare() == 2
    start = f"start {cli.WORKER_MODULES}"
    assert events[:2] == [start, "load"], "sized from the scenario's shape, then read"
    assert events[-1] == "claim"


def test_by_default_they_start_once_estimated_when_the_shape_does_not_tell(
    events: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(cli, "peek_scenario", lambda _path: None)
    _estimated(monkeypatch, 600.0)
    assert _compare() == 2
    assert events == ["load", f"start {cli.WORKER_MODULES}", "claim"]


@pytest.mark.parametrize(
    "name", ["two_towns", "five_valleys", "five_valleys_services", "windstorm", "helsinki_roads"]
)
def test_the_early_estimate_is_the_estimate_of_the_compiled_region(name: str) -> None:
    """Sized from the scenario's shape, before any data file is read, a run has the estimate
    of its compiled region: the early start agrees with the later decision (the memory of the
    travel matrices comes with the compiled region)."""
    path = ROOT / "scenarios" / f"{name}.yaml"
    peeked = peek_scenario(path)
    assert peeked is not None
    scenario = load_scenario(path)
    options = len(scenario.options)
    early, compiled = early_estimate(peeked, options, 7), size_of_run(scenario, options, 7)
    assert compiled.travel_bytes > 0
    assert early == replace(
        compiled, peak_bytes=compiled.peak_bytes - compiled.travel_bytes, travel_bytes=0.0
    )


def test_a_scenario_that_does_not_validate_gives_no_early_estimate(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nrun: {horizon: -1}\n", encoding="utf-8")
    assert peek_scenario(bad) is None
    assert peek_scenario(tmp_path / "missing.yaml") is None


def test_by_default_a_short_run_starts_none(
    events: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    _estimated(monkeypatch, 1.0)  # runs in this process: workers would cost more than they save
    assert _compare() == 2
    assert events == ["load", "claim"]


def test_a_single_cpu_or_dask_starts_none(
    events: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _estimated(monkeypatch, 600.0)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert _compare() == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert _compare("--dask", "tcp://127.0.0.1:1") == 2  # stopped before connecting
    assert "start" not in " ".join(events)


@pytest.mark.parametrize(("workers", "started"), [("2", True), ("1", False)])
def test_a_sweep_starts_them_before_reading_its_points(
    monkeypatch: pytest.MonkeyPatch, workers: str, started: bool
) -> None:
    seen: list[str] = []

    def defined(*_args: object, **_kw: object) -> None:
        seen.append("define")
        raise InputError(STOPPED)

    monkeypatch.setattr(sweep_workers, "start_workers", lambda m: seen.append(f"start {m}"))
    monkeypatch.setattr(sweep_definition, "build_definition", defined)
    argv = ["sweep", str(TWO_TOWNS), "--param", "demand_scale=1,2", "--workers", workers]
    assert main(argv) == 2
    start = [f"start {sweep_workers.WORKER_MODULES}"] if started else []
    assert seen == [*start, "define"]


def test_a_sweep_of_geo_files_preloads_their_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Five Valleys reads its zones from a GeoPackage: each worker compiles the points it
    runs, so the fork server imports the geo readers; Two Towns has none to read."""
    seen: list[tuple[str, ...]] = []
    monkeypatch.setattr(sweep_workers, "start_workers", lambda m: seen.append(m) or True)
    five_valleys = ROOT / "scenarios" / "five_valleys.yaml"
    assert sweep_workers.start_sweep_workers(2, None, five_valleys)
    assert sweep_workers.start_sweep_workers(2, None, TWO_TOWNS)
    assert sweep_workers.start_sweep_workers(2, None, {"name": "data, not a file"})
    geo = (*sweep_workers.WORKER_MODULES, *sweep_workers.GEO_MODULES)
    assert seen == [geo, sweep_workers.WORKER_MODULES, sweep_workers.WORKER_MODULES]
    assert not sweep_workers.start_sweep_workers(1, None, five_valleys)  # runs in this process


def _pid(_shared: str) -> int:
    return os.getpid()


@pytest.mark.skipif(execute._start_method() != "forkserver", reason="workers are spawned")
def test_a_pool_after_the_early_start_forks_from_it() -> None:
    assert start_workers(("tests.e2e.test_worker_start",))
    server = _fork_server()
    assert server is not None, "a child of this process serves the forks"
    with open_executor("data", workers=2) as ex:
        pids = set(ex.map(_pid, [()] * 4))
        parents = {_parent(pid) for pid in pids}  # while the workers live
    assert os.getpid() not in pids
    assert parents == {server}, "the workers are the server's children"


def test_without_a_fork_server_nothing_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(execute, "_start_method", lambda: "spawn")
    assert start_workers() is False


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


def _fork_server() -> int | None:
    """The child of this process that runs the fork server, if any."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or _parent(int(entry)) != os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                if b"forkserver" in fh.read():
                    return int(entry)
        except OSError:
            continue
    return None
