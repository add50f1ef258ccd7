"""Logs at zone level: export-log writes each incident's zone and its point, replay and
backtest put every logged incident back at its zone (named, or the nearest to its
coordinates) and send its transport where the log says it went, and calibrate counts calls
per zone and writes the zones beside the scenario.

The region: West and East, three zones each, a station at West's border zone, two hospitals
(one at a zone). A log exported from a run and replayed through the same scenario must give
back that run's zones, facilities and response times exactly.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli.main import main
from sim.data.backtest import backtest
from sim.data.calibrate import calibrate, write_calibration
from sim.data.export import GEO_COLUMNS, LOG_COLUMNS, export_log, write_log
from sim.data.replay import load_replay, replay_incidents
from sim.data.zones import scenario_zones
from sim.engine.demand import generate_incidents
from sim.engine.driver import compile_scenario
from sim.schema import Scenario, load_scenario, scenario_from_dict
from sim.schema.scenario import ZoneFile

SEED = 11
TOL = 1e-3  # minutes: timestamps are written to the millisecond
POINTS = {
    "w_west": ("west", -3.0, 0.0),
    "w_mid": ("west", 0.0, 1.0),
    "w_east": ("west", 4.0, 0.0),  # 1.5 km from e_west
    "e_west": ("east", 5.5, 0.0),
    "e_mid": ("east", 9.0, -1.0),
    "e_east": ("east", 12.0, 0.0),
}
REGION: dict[str, Any] = {
    "name": "Zoned logs",
    "communities": {
        "west": {"name": "Westby", "population": 20000, "location": {"x": 0, "y": 0}},
        "east": {"name": "Eastby", "population": 12000, "location": {"x": 9, "y": 0}},
    },
    "zones": {
        z: {"community": c, "location": {"x": x, "y": y}, "weight": 100 + 40 * i}
        for i, (z, (c, x, y)) in enumerate(POINTS.items())
    },
    "stations": {"border": {"community": "west", "location": {"zone": "w_east"}}},
    "facilities": {
        "h_west": {"name": "West Hospital", "location": {"zone": "w_mid"}},
        "h_east": {"name": "East Hospital", "location": {"x": 11, "y": 1}},
    },
    "travel": {"speed_kmh": 50, "inside": {"west": 3, "east": 3}, "noise": {"log_sd": 0.15}},
    "services": {
        "ambulance": {"units": [{"station": "west"}, {"station": "border"}, {"station": "east"}]}
    },
    "incident_types": {
        "medical": {
            "service": "ambulance",
            "priority": 1,
            "rate_per_1000": 300,
            "on_scene": {"dist": "lognormal", "median": 15, "log_sd": 0.4},
            "turnout": 1.0,
            "transport": {"probability": 0.6, "handover": 10},
        }
    },
    "run": {"horizon": "21 d", "warmup": "1 d", "replications": 2, "seed": SEED},
    "options": {
        "separate": {"dispatch": {"ambulance": {"policy": "separate"}}},
        "pooled": {"dispatch": {"ambulance": {"policy": "pooled"}}},
    },
    "baseline": "separate",
}


def region(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(REGION)
    out.update(copy.deepcopy(changes))
    return out


def lonlat_region() -> dict[str, Any]:
    """The same region on the globe (about 1 km per 0.018 degrees of longitude at 60 N)."""
    out = region()
    to = lambda x, y: {"lat": round(60 + y / 111.4, 6), "lon": round(10 + x / 55.8, 6)}  # noqa: E731
    for c in out["communities"].values():
        c["location"] = to(c["location"]["x"], c["location"]["y"])
    for z in out["zones"].values():
        z["location"] = to(z["location"]["x"], z["location"]["y"])
    out["facilities"]["h_east"]["location"] = to(11, 1)
    return out


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scenario, Path, Path]:
    tmp = tmp_path_factory.mktemp("zone_logs")
    path = write_yaml(tmp / "zoned.yaml", region())
    scenario = load_scenario(path)
    frame, _ = export_log(scenario, seed=SEED)
    write_log(frame, tmp / "log.csv")
    return scenario, tmp / "log.csv", path


def read(log: Path) -> pd.DataFrame:
    return pd.read_csv(log, dtype=str, keep_default_na=False)


def incidents(scenario: Scenario, log: Path) -> tuple[Any, Any]:
    """The run's incidents and the log's, replayed (replication 0)."""
    compiled = compile_scenario(scenario, [scenario.baseline_option])
    original = generate_incidents(compiled.region, SEED, 0)
    return original, replay_incidents(compiled.region, load_replay(log, scenario), SEED, 0)


# --------------------------------------------------------------------------- export-log


def test_export_log_writes_each_incident_s_zone_and_its_point(exported) -> None:
    scenario, log, _ = exported
    frame = read(log)
    assert list(frame.columns) == LOG_COLUMNS, "planar: x/y, no lon/lat"
    region_ = compile_scenario(scenario, ["separate"]).region
    original = generate_incidents(region_, SEED, 0)
    zone_ids = np.array(region_.zone_ids, dtype=object)
    assert frame["zone"].tolist() == zone_ids[original.zone].tolist()
    points = {z: (x, y) for z, (_, x, y) in POINTS.items()}
    xy = np.array([points[z] for z in frame["zone"]])
    np.testing.assert_allclose(frame[["x", "y"]].astype(float).to_numpy(), xy)
    moved = frame["at_hospital"] != ""
    assert set(frame.loc[moved, "destination"]) == {"h_west", "h_east"}, "nearest by zone"
    west = frame["community"] == "west"
    assert (frame.loc[moved & west, "destination"] == "h_west").all(), "West's zones: h_west"


def test_export_log_of_a_lonlat_scenario_writes_lon_lat(tmp_path: Path) -> None:
    scenario = scenario_from_dict(lonlat_region())
    frame, _ = export_log(scenario, seed=SEED)
    assert list(frame.columns) == LOG_COLUMNS + GEO_COLUMNS
    given = lonlat_region()["zones"]
    first = frame.drop_duplicates("zone").set_index("zone")
    for z, row in first.iterrows():
        loc = given[z]["location"]
        assert float(row["lon"]) == pytest.approx(loc["lon"], abs=1e-7)
        assert float(row["lat"]) == pytest.approx(loc["lat"], abs=1e-7)


# --------------------------------------------------------------------------- replay


def test_replay_puts_every_incident_back_at_its_zone_and_facility(exported) -> None:
    scenario, log, _ = exported
    original, replayed = incidents(scenario, log)
    assert len(replayed) == len(original)
    np.testing.assert_array_equal(replayed.zone, original.zone)
    np.testing.assert_array_equal(replayed.community, original.community)
    done = original.t_call < scenario.run.horizon - 1440  # the log knows how they ended
    np.testing.assert_array_equal(replayed.transport[done], original.transport[done])
    moved = original.transport & done
    np.testing.assert_array_equal(replayed.facility[moved], original.facility[moved])


def test_backtest_of_an_exported_log_reproduces_the_run(exported) -> None:
    """Nothing but the replication's own draws differs: with the run's seed and one
    replication the simulated response times are the recorded ones, zone by zone."""
    scenario, log, _ = exported
    table = backtest(scenario, load_replay(log, scenario), replications=1, seed=SEED)
    np.testing.assert_allclose(table["simulated"], table["observed"], atol=TOL)


@pytest.mark.parametrize("drop", [["zone"], ["zone", "community"]])
def test_coordinates_alone_give_back_the_zones(exported, tmp_path: Path, drop) -> None:
    scenario, log, _ = exported
    read(log).drop(columns=drop).to_csv(tmp_path / "log.csv", index=False)
    original, replayed = incidents(scenario, tmp_path / "log.csv")
    np.testing.assert_array_equal(replayed.zone, original.zone)
    np.testing.assert_array_equal(replayed.community, original.community)
    notes = load_replay(tmp_path / "log.csv", scenario).log.notes
    assert any("placed at the nearest zone by x/y" in n for n in notes)


def test_lon_lat_go_to_the_nearest_zone_in_the_projected_frame(tmp_path: Path) -> None:
    scenario = scenario_from_dict(lonlat_region())
    frame, _ = export_log(scenario, seed=SEED)
    frame.drop(columns=["zone", "x", "y"]).to_csv(tmp_path / "log.csv", index=False)
    replay = load_replay(tmp_path / "log.csv", scenario)
    np.testing.assert_array_equal(replay.zone.astype(str), frame["zone"].to_numpy(dtype=str))
    assert any("by lon/lat" in n for n in replay.log.notes)


def _rows(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    path = tmp_path / "log.csv"
    base = {"call_time": "2025-01-06T10:00:00+00:00", "incident_type": "medical"}
    pd.DataFrame([{**base, **r} for r in rows]).to_csv(path, index=False)
    return path


def test_coordinates_go_to_the_nearest_zone_of_the_logged_community(
    exported, tmp_path: Path
) -> None:
    """A point 0.5 km from East's west zone, logged in West: West's nearest zone (w_east);
    without a community: East's zone."""
    scenario, _, _ = exported
    log = _rows(tmp_path, [{"community": "west", "x": 5.0, "y": 0}, {"x": 5.0, "y": 0}])
    replay = load_replay(log, scenario)
    assert replay.zone.tolist() == ["w_east", "e_west"]
    assert replay.community.tolist() == ["west", "east"]


def test_a_zone_column_wins_and_unknown_zones_fall_back(exported, tmp_path: Path) -> None:
    scenario, _, _ = exported
    rows = [
        {"community": "west", "zone": "e_mid", "x": -3, "y": 0},  # the zone's community wins
        {"community": "west", "zone": "nowhere", "x": -3, "y": 0},  # by coordinates
        {"community": "east", "zone": "nowhere"},  # drawn from East's weights
    ]
    replay = load_replay(_rows(tmp_path, rows), scenario)
    assert replay.zone.tolist() == ["e_mid", "w_west", None]
    assert replay.community.tolist() == ["east", "west", "east"]
    notes = " ".join(replay.log.notes)
    assert "2 incident(s) name a zone that the scenario does not have ('nowhere')" in notes
    assert "1 incident(s) in a zone of another community than the log's" in notes
    region_ = compile_scenario(scenario, ["separate"]).region
    drawn = replay_incidents(region_, replay, SEED, 0).zone[2]
    assert region_.zone_community[drawn] == region_.communities.index("east")


def test_zones_missing_from_the_log_are_drawn_from_the_weights(exported, tmp_path: Path) -> None:
    """A log of communities only: each replication draws its zones from the zone weights,
    from the stream of sampled runs (so the run's own zones come back when every incident
    lacks one), the same for every option."""
    scenario, log, _ = exported
    read(log).drop(columns=["zone", "x", "y"]).to_csv(tmp_path / "log.csv", index=False)
    original, replayed = incidents(scenario, tmp_path / "log.csv")
    np.testing.assert_array_equal(replayed.zone, original.zone)
    region_ = compile_scenario(scenario, ["separate"]).region
    other = replay_incidents(region_, load_replay(tmp_path / "log.csv", scenario), SEED, 1)
    assert not np.array_equal(other.zone, replayed.zone), "another replication, other draws"


def test_the_logged_destination_is_where_the_transport_goes(exported, tmp_path: Path) -> None:
    scenario, log, _ = exported
    frame = read(log)
    moved = frame["destination"] != ""
    frame.loc[moved, "destination"] = "East Hospital"  # by name, any case
    frame.loc[moved & (frame.index % 2 == 0), "destination"] = "H_EAST"
    frame.to_csv(tmp_path / "log.csv", index=False)
    original, replayed = incidents(scenario, tmp_path / "log.csv")
    region_ = compile_scenario(scenario, ["separate"]).region
    done = original.t_call < scenario.run.horizon - 1440
    np.testing.assert_array_equal(replayed.transport[done], original.transport[done])
    moved = replayed.transport & done
    assert (replayed.facility[moved] == region_.place_of["h_east"]).all()
    assert (original.facility[original.transport] == region_.place_of["h_west"]).any()


def test_an_unknown_destination_exits_2_naming_file_row_and_value(
    exported, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, log, path = exported
    frame = read(log)
    row = int(np.flatnonzero(frame["destination"] != "")[2])
    frame.loc[row, "destination"] = "St Elsewhere"
    bad = tmp_path / "log.csv"
    frame.to_csv(bad, index=False)
    code = main(["backtest", str(path), str(bad), "--out", str(tmp_path / "b.csv")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1, err
    assert err[0] == (
        f"error: {bad}: row {row + 2}: destination: unknown facility 'St Elsewhere' "
        "(facilities of the scenario: h_east, h_west)"
    )
    assert not (tmp_path / "b.csv").exists(), "nothing written"


# --------------------------------------------------------------------------- calibrate


def zone_csv(path: Path, communities: dict[str, str] | None = None) -> Path:
    names = communities or {}
    rows = [
        {"id": z, "community": names.get(c, c), "x": x, "y": y, "weight": 100 + 40 * i}
        for i, (z, (c, x, y)) in enumerate(POINTS.items())
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def calibrated(exported, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    _, log, _ = exported
    tmp = tmp_path_factory.mktemp("zone_calibrate")
    cal = calibrate(log, zones=zone_csv(tmp / "zones.csv"), zone_weights="calls")
    write_calibration(cal, tmp / "calibrated.yaml")
    return cal, tmp


def test_calibrate_counts_the_calls_of_every_zone(exported, calibrated) -> None:
    _, log, _ = exported
    _, tmp = calibrated
    written = pd.read_csv(tmp / "calibrated.zones.csv", dtype={"id": str})
    logged = read(log)["zone"].value_counts()
    assert written.set_index("id")["calls"].to_dict() == logged.to_dict()
    assert written["calls"].sum() == len(read(log))
    np.testing.assert_array_equal(written["weight"], written["calls"])  # --zone-weights calls
    np.testing.assert_array_equal(written["weight_ambulance"], written["calls_ambulance"])
    assert "<h2>Zones</h2>" in (tmp / "calibrated.report.html").read_text(encoding="utf-8")


def test_the_calibrated_scenario_has_the_zones(calibrated) -> None:
    cal, tmp = calibrated
    s = load_scenario(tmp / "calibrated.yaml")
    points = scenario_zones(s, explicit=True)
    assert points.ids == tuple(POINTS)
    assert set(points.community) == {"west", "east"}
    assert isinstance(s.zones, ZoneFile)
    assert Path(s.zones.file) == tmp / "calibrated.zones.csv"
    assert s.zones.weights == {"ambulance": "weight_ambulance"}
    assert s.travel.speed_kmh is not None
    assert cal.zones is not None
    assert cal.zones.speed is not None, "fitted to the trips from home to the zones"
    assert s.travel.speed_kmh == pytest.approx(cal.zones.speed[0], rel=1e-3)
    text = (tmp / "calibrated.yaml").read_text(encoding="utf-8")
    assert "demand-weighted centre of its zones" in text, "communities located by their zones"
    assert set(s.facilities) == {"h_west", "h_east"}, "the log's destinations"


def test_calibrate_keeps_the_file_s_weights_by_default(exported, tmp_path: Path) -> None:
    _, log, _ = exported
    cal = calibrate(log, zones=zone_csv(tmp_path / "zones.csv"))
    written = write_calibration(cal, tmp_path / "cal.yaml", report=False)
    assert written == [tmp_path / "cal.yaml", tmp_path / "cal.zones.csv"]
    table = pd.read_csv(tmp_path / "cal.zones.csv")
    assert table["weight"].tolist() == [100 + 40 * i for i in range(len(POINTS))]
    assert "weight_ambulance" not in table.columns


def test_calibrate_places_a_zone_only_log_and_takes_the_zones_communities(
    exported, tmp_path: Path
) -> None:
    _, log, _ = exported
    read(log).drop(columns=["community", "x", "y"]).to_csv(tmp_path / "log.csv", index=False)
    cal = calibrate(tmp_path / "log.csv", zones=zone_csv(tmp_path / "zones.csv"))
    assert [c.id for c in cal.communities] == ["west", "east"]
    assert cal.zones is not None
    assert int(cal.zones.calls.sum()) == len(read(log))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("unknown", "zones.csv: zone 'e_west': unknown community 'Nowhere' (and 2 more)"),
        ("lonlat", "are in lon/lat, but community 'west' is located by x/y km"),
    ],
)
def test_calibrate_zone_errors_exit_2(
    exported, tmp_path: Path, capsys: pytest.CaptureFixture[str], change: str, message: str
) -> None:
    _, log, _ = exported
    zones = tmp_path / "zones.csv"
    communities = tmp_path / "communities.yaml"
    write_yaml(communities, REGION["communities"])
    if change == "unknown":
        zone_csv(zones, {"east": "Nowhere"})
    else:
        table = pd.read_csv(zone_csv(zones))
        table["lon"], table["lat"] = 10 + table.pop("x") / 55.8, 60 + table.pop("y") / 111.4
        table.to_csv(zones, index=False)
    args = ["calibrate", str(log), "--communities", str(communities), "--zones", str(zones)]
    code = main([*args, "--out", str(tmp_path / "cal.yaml")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1, err
    assert message in err[0]
    assert not list(tmp_path.glob("cal*")), "nothing written"
