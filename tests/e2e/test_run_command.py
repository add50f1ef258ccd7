"""``intersim run``: one or all options of a scenario, raw tables, manifest, reproducibility."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.cli.main import main
from sim.engine.driver import RunResult
from sim.runs.run import run
from sim.schema import scenario_from_dict
from tests.builders import shipped

INCIDENT_COLUMNS = [
    "replication", "option", "incident", "type", "service", "priority", "community", "t_call",
    "t_dispatch", "t_first_arrival", "t_full_arrival", "t_clear", "first_unit",
    "first_unit_owner", "units_sent", "wait", "travel", "response", "met_target", "own_unit",
    "open",
]  # fmt: skip
UNIT_COLUMNS = [
    "replication", "option", "unit", "service", "station", "owner", "on_duty_min", "busy_min",
    "busy_fraction", "dispatches", "busy_min_for_others",
]  # fmt: skip
RUN_FILES = ("incidents.parquet", "units.parquet", "summary.csv", "manifest.json")


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two Towns with a 60-day horizon (7-day warm-up as shipped), written as a file."""
    data = shipped(horizon="60 d")
    path = tmp_path_factory.mktemp("scenario") / "two_towns_short.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def run_cli(scenario: Path, out: Path, *extra: str) -> int:
    return main(["run", str(scenario), "--option", "pooled", "--replications", "2",
                 "--seed", "123", "--out", str(out), *extra])  # fmt: skip


def test_run_writes_tables_and_manifest(scenario_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert run_cli(scenario_file, out) == 0
    for name in RUN_FILES:
        assert (out / name).is_file(), f"run should write {name}"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    sha = hashlib.sha256(scenario_file.read_bytes()).hexdigest()
    assert manifest["scenario_sha256"] == sha, "manifest records the scenario file's sha256"
    assert manifest["seed"] == 123
    assert manifest["replications"] == 2
    assert manifest["options"] == ["pooled"], "only the option asked for is run"
    command = manifest["intersim_command"]
    assert command.startswith("intersim run "), f"manifest records the command: {command}"
    assert "--option pooled --replications 2 --seed 123" in command, command
    assert manifest["runtime_s"] >= 0
    versions = manifest["versions"]
    for package in ("python", "intersim", "numpy", "pandas", "simpy"):
        assert versions.get(package), f"manifest versions should name {package}"
    incidents = pd.read_parquet(out / "incidents.parquet")
    assert set(incidents["option"].astype(str)) == {"pooled"}
    assert set(incidents["replication"]) == {0, 1}
    units = pd.read_parquet(out / "units.parquet")
    assert len(units) == 2 * 3, "three ambulances in each of the two replications"
    summary = pd.read_csv(out / "summary.csv")
    for col in ("option", "metric", "mean", "ci_low", "ci_high"):
        assert col in summary, f"summary.csv should have column {col}"


def test_same_seed_gives_identical_files(scenario_file: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    assert run_cli(scenario_file, first) == 0
    assert run_cli(scenario_file, second) == 0
    for name in ("incidents.parquet", "units.parquet"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), (
            f"the same scenario and seed should give a byte-identical {name}"
        )
    third = tmp_path / "third"
    assert main(["run", str(scenario_file), "--option", "pooled", "--replications", "2",
                 "--seed", "124", "--out", str(third)]) == 0  # fmt: skip
    assert (third / "incidents.parquet").read_bytes() != (first / "incidents.parquet").read_bytes()


def test_unknown_option_is_input_error(
    scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code = main(["run", str(scenario_file), "--option", "shared", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, "an unknown --option is an input error (exit 2)"
    assert "unknown option 'shared'" in err, err
    assert "separate" in err, f"the message lists the known options: {err}"
    assert not out.exists(), "nothing is written"


@pytest.fixture(scope="module")
def result(scenario_file: Path) -> RunResult:
    scenario = scenario_from_dict(yaml.safe_load(scenario_file.read_text(encoding="utf-8")))
    return run(scenario, options=["separate", "pooled"], replications=2, seed=9)


def test_runner_returns_the_tables(result: RunResult) -> None:
    for name in ("incidents", "units", "levels", "help"):
        table = getattr(result, name)
        assert isinstance(table, pd.DataFrame), f"RunResult.{name} should be a DataFrame"
        assert len(table) > 0, f"RunResult.{name} should not be empty"
    assert result.options == ["separate", "pooled"]
    assert result.replications == 2
    assert result.seed == 9
    assert result.seconds > 0


def test_incident_table_columns(result: RunResult) -> None:
    inc = result.incidents
    missing = [c for c in INCIDENT_COLUMNS if c not in inc]
    assert not missing, f"incident table should have columns {missing}"
    assert set(inc["option"].astype(str)) == {"separate", "pooled"}
    assert set(inc["replication"]) == {0, 1}
    for option in ("separate", "pooled"):
        mine = inc[inc["option"] == option]
        assert mine.groupby("replication")["incident"].apply(lambda s: s.is_unique).all()
    done = inc[~inc["open"]]
    assert (done["t_dispatch"] >= done["t_call"]).all(), "dispatch after the call"
    assert (done["t_first_arrival"] >= done["t_dispatch"]).all(), "arrival after dispatch"
    assert (done["t_full_arrival"] >= done["t_first_arrival"]).all()
    assert (done["t_clear"] >= done["t_full_arrival"]).all(), "clear after the last arrival"
    resp = done["t_first_arrival"] - done["t_call"]
    assert (done["response"] - resp).abs().max() < 1e-9, "response = first arrival - call"
    assert (done["wait"] >= 0).all()
    assert (done["travel"] >= 0).all()
    assert (done["units_sent"] >= 1).all()
    owner_is_caller = done["first_unit_owner"].astype(str) == done["community"].astype(str)
    assert (done["own_unit"].astype(bool) == owner_is_caller).all(), "own_unit: unit's owner"
    separate = done[done["option"] == "separate"]
    assert separate["own_unit"].astype(bool).all(), "separate: always the community's own unit"


def test_unit_table_columns(result: RunResult) -> None:
    units = result.units
    missing = [c for c in UNIT_COLUMNS if c not in units]
    assert not missing, f"unit table should have columns {missing}"
    assert len(units) == 2 * 2 * 3, "3 units x 2 options x 2 replications"
    ratio = units["busy_min"] / units["on_duty_min"]
    assert (units["busy_fraction"] - ratio).abs().max() < 1e-12, "busy_fraction = busy / on duty"
    assert units["busy_fraction"].between(0, 1).all()
    assert (units["busy_min_for_others"] <= units["busy_min"] + 1e-9).all()
    separate = units[units["option"] == "separate"]
    assert (separate["busy_min_for_others"] == 0).all(), "separate: nobody works for others"
