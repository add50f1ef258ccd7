"""Replay (trace-driven simulation), export-log and backtest.

A log exported from a run and replayed through the same scenario gives back that run: the same
incidents (call times, places, types, on-scene times) and, with the same option and nothing left
to draw differently, the same response times. Replications of a replay differ only in what the
log does not give.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli.main import main
from sim.data.backtest import backtest
from sim.data.export import LOG_COLUMNS, export_log, write_log
from sim.data.replay import load_replay, replay_incidents, replay_source
from sim.engine.demand import generate_incidents
from sim.engine.driver import compile_scenario
from sim.runs.run import run
from sim.schema import Scenario, scenario_from_dict
from tests.builders import shipped

SEED = 7
TOL = 1e-3  # minutes: timestamps are written to the millisecond


def two_towns(**run: object) -> dict:
    return shipped(**{"horizon": "60 d", **run})


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scenario, Path, Path]:
    tmp = tmp_path_factory.mktemp("replay")
    data = two_towns()
    scenario = scenario_from_dict(data)
    frame, _ = export_log(scenario, option="separate", seed=SEED, tz="Europe/Oslo")
    write_log(frame, tmp / "log.csv")
    path = tmp / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return scenario, tmp / "log.csv", path


def test_export_log_has_cad_columns(exported) -> None:
    _, log, _ = exported
    frame = pd.read_csv(log, dtype=str, keep_default_na=False)
    assert list(frame.columns) == LOG_COLUMNS
    assert frame["incident_id"].is_unique
    assert frame["call_time"].str.match(r"^2025-01-06T\d\d:\d\d:\d\d\.\d{3}\+01:00$").iloc[0]
    moved = frame["at_hospital"] != ""
    assert 0.5 < moved.mean() < 0.8
    assert (frame.loc[moved, "destination"] == "hospital").all()


def test_replay_reproduces_the_incidents(exported) -> None:
    scenario, log, _ = exported
    region = compile_scenario(scenario, ["separate"]).region
    original = generate_incidents(region, SEED, 0)
    replayed = replay_incidents(region, load_replay(log, scenario, tz="Europe/Oslo"), SEED, 0)
    assert len(replayed) == len(original)
    np.testing.assert_allclose(replayed.t_call, original.t_call, atol=TOL)
    np.testing.assert_array_equal(replayed.community, original.community)
    np.testing.assert_array_equal(replayed.type, original.type)
    np.testing.assert_allclose(replayed.on_scene, original.on_scene, atol=TOL)
    np.testing.assert_allclose(replayed.call_handling, original.call_handling, atol=TOL)
    np.testing.assert_array_equal(replayed.transport, original.transport)
    np.testing.assert_array_equal(replayed.noise, original.noise)


def test_replay_gives_the_same_response_times(exported) -> None:
    scenario, log, _ = exported
    replay = load_replay(log, scenario, tz="Europe/Oslo")
    sampled = run(scenario, options=["separate"], replications=1, seed=SEED).incidents
    replayed = run(
        scenario, options=["separate"], replications=1, seed=SEED, source=replay_source(replay)
    ).incidents
    np.testing.assert_allclose(replayed["response"], sampled["response"], atol=TOL)
    np.testing.assert_allclose(replayed["wait"], sampled["wait"], atol=TOL)


def test_without_randomness_left_every_seed_and_replication_agrees(tmp_path: Path) -> None:
    data = two_towns()
    del data["travel"]["noise"]
    for t in data["incident_types"].values():
        t["turnout"] = 1.0
    scenario = scenario_from_dict(data)
    frame, _ = export_log(scenario, option="pooled", seed=SEED)
    write_log(frame, tmp_path / "log.csv")
    replay = load_replay(tmp_path / "log.csv", scenario)
    original = run(scenario, options=["pooled"], replications=1, seed=SEED).incidents
    replayed = run(
        scenario, options=["pooled"], replications=2, seed=SEED + 1, source=replay_source(replay)
    ).incidents
    for r in (0, 1):
        mine = replayed[replayed["replication"] == r]
        np.testing.assert_allclose(mine["response"], original["response"], atol=TOL)


def test_replications_vary_only_what_the_log_does_not_give(exported, tmp_path: Path) -> None:
    scenario, log, _ = exported
    region = compile_scenario(scenario).region
    frame = pd.read_csv(log, dtype=str, keep_default_na=False).drop(columns=["left_scene"])
    frame.to_csv(tmp_path / "no_scene.csv", index=False)
    for path, varies in ((log, False), (tmp_path / "no_scene.csv", True)):
        replay = load_replay(path, scenario, tz="Europe/Oslo")
        a, b = (replay_incidents(region, replay, SEED, r) for r in (0, 1))
        np.testing.assert_array_equal(a.t_call, b.t_call)
        np.testing.assert_array_equal(a.community, b.community)
        assert not np.array_equal(a.noise, b.noise), "travel noise is drawn per replication"
        assert (not np.allclose(a.on_scene, b.on_scene)) == varies


def test_outside_the_horizon_and_unknown_types_are_counted(exported, tmp_path: Path) -> None:
    _, log, _ = exported
    shorter = scenario_from_dict(two_towns(horizon="30 d"))
    frame = pd.read_csv(log, dtype=str, keep_default_na=False)
    frame.loc[:2, "incident_type"] = "burglary"
    frame.to_csv(tmp_path / "log.csv", index=False)
    replay = load_replay(tmp_path / "log.csv", shorter, tz="Europe/Oslo")
    late = (
        pd.to_datetime(frame["call_time"], format="ISO8601")
        >= pd.Timestamp("2025-02-05T00:00+01:00")
    ).sum()
    assert replay.dropped["incident type not in the scenario ('burglary')"] == 3
    assert replay.dropped["after the scenario's horizon (43200 min)"] == late
    assert len(replay) == len(frame) - 3 - late
    assert replay.t_call.max() < 30 * 1440
    later = load_replay(tmp_path / "log.csv", shorter, tz="Europe/Oslo", start="2025-01-07T00:00")
    assert later.dropped["before the start (time 0)"] > 0
    shifted = np.sort(later.t_call[later.t_call < 29 * 1440]) + 1440
    base = np.sort(replay.t_call[replay.t_call >= 1440])
    np.testing.assert_allclose(shifted, base, atol=1e-6, err_msg="times count from --start")


@pytest.mark.slow
def test_run_and_compare_accept_replay(exported, tmp_path: Path, capsys) -> None:
    _, log, path = exported
    args = [
        "--replay",
        str(log),
        "--replay-tz",
        "Europe/Oslo",
        "--replications",
        "2",
        "--seed",
        str(SEED),
    ]
    assert (
        main(["run", str(path), "--option", "separate", "--out", str(tmp_path / "r"), *args]) == 0
    )
    incidents = pd.read_parquet(tmp_path / "r" / "incidents.parquet")
    n = len(pd.read_csv(log))
    assert len(incidents) == 2 * n
    assert main(["compare", str(path), "--out", str(tmp_path / "c"), "--records", *args]) == 0
    assert "replay:" in capsys.readouterr().err
    raw = pd.read_parquet(tmp_path / "c" / "incidents.parquet")
    assert len(raw) == 3 * 2 * n, "every option and replication replays the same log"


def test_backtest_compares_recorded_and_simulated_response(exported, tmp_path: Path) -> None:
    scenario, log, path = exported
    out = tmp_path / "backtest.csv"
    assert (
        main(
            [
                "backtest",
                str(path),
                str(log),
                "--tz",
                "Europe/Oslo",
                "--replications",
                "3",
                "--seed",
                str(SEED),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    table = pd.read_csv(out, dtype={"priority": str})
    frame = pd.read_csv(log)
    t = lambda c: pd.to_datetime(frame[c], format="ISO8601", utc=True)  # noqa: E731
    frame["response"] = (t("on_scene") - t("call_time")).dt.total_seconds() / 60
    frame = frame[t("call_time") >= t("call_time").min().normalize() + pd.Timedelta(days=7)]
    row = table[
        (table["community"] == "northtown")
        & (table["priority"] == "all")
        & (table["metric"] == "mean_response")
    ].iloc[0]
    recorded = frame.loc[frame["community"] == "northtown", "response"].mean()
    assert row["observed"] == pytest.approx(recorded, abs=1e-3)
    assert row["replications"] == 3
    assert row["ci_low"] <= row["simulated"] <= row["ci_high"]
    same = backtest(
        scenario, load_replay(log, scenario, tz="Europe/Oslo"), replications=1, seed=SEED
    )
    np.testing.assert_allclose(same["simulated"], same["observed"], atol=TOL)


def test_cli_errors_exit_2_with_one_line(exported, tmp_path: Path, capsys) -> None:
    _, log, path = exported
    assert (
        main(
            ["run", str(path), "--replay", str(tmp_path / "none.csv"), "--out", str(tmp_path / "r")]
        )
        == 2
    )
    (tmp_path / "bad.csv").write_text("call_time,x\n2025-01-06T00:00,1\n", encoding="utf-8")
    assert main(["backtest", str(path), str(tmp_path / "bad.csv")]) == 2
    assert main(["export-log", str(path), "--out", str(log)]) == 2, "no --overwrite"
    assert (
        main(["export-log", str(path), "--option", "nope", "--out", str(tmp_path / "l.csv")]) == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 4, err
    assert "no such file" in err[0]
    assert "community" in err[1]
    assert "exists" in err[2]
    assert "unknown option" in err[3]


def test_export_log_cli(exported, tmp_path: Path, capsys) -> None:
    _, _, path = exported
    out = tmp_path / "log.csv"
    assert (
        main(
            [
                "export-log",
                str(path),
                "--replications",
                "2",
                "--start",
                "2025-03-04T08:00",
                "--tz",
                "America/New_York",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert "not a Monday 00:00" in captured.err
    frame = pd.read_csv(out, dtype=str)
    assert frame["call_time"].iloc[0].startswith("2025-03-04T")
    assert frame["call_time"].str.endswith("-04:00").any(), "daylight saving time in New York"
    days = pd.to_datetime(frame["call_time"], format="ISO8601", utc=True)
    assert (days.max() - days.min()).days > 63, "two replications laid end to end"
