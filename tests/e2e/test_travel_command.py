"""``intersim travel``: the summary, the exported matrix file that loads as travel exactly,
the snap of every place, bad input as one line and exit 2; ``--log`` compares the network
with a CAD log's trips and offers the time factor that matches them."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli.main import main
from sim.data.log import read_log
from sim.data.roadfit import road_fit
from sim.model.compile import compile_region
from sim.model.roads import point_trips
from sim.schema import load_scenario
from sim.schema.geography import geography
from tests.builders import road_town


def _scenario_file(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "roads.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_travel_exports_a_matrix_file_that_compiles_to_the_same_region(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = road_town()
    scenario = _scenario_file(tmp_path, data)
    out = tmp_path / "travel.parquet"
    assert main(["travel", str(scenario), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "road network: " in printed
    assert "49 nodes" in printed
    assert "places: 10; pairs: 90" in printed
    assert "snap distance: median" in printed
    table = pd.read_parquet(out)
    assert list(table.columns) == ["from", "to", "minutes"]
    assert len(table) == 90
    snaps = pd.read_csv(tmp_path / "travel.snap.csv")
    assert list(snaps.columns) == ["place", "kind", "node", "snap_m"]
    assert set(snaps["kind"]) == {"community", "station", "facility", "zone"}
    via_file = copy.deepcopy(data)
    del via_file["travel"]["road_network"]
    via_file["travel"]["matrix_file"] = str(out)
    network = compile_region(load_scenario(scenario))
    matrix = compile_region(load_scenario(_scenario_file(tmp_path / "..", via_file)))
    assert np.array_equal(network.travel, matrix.travel)


def test_a_csv_export_keeps_every_digit(tmp_path: Path) -> None:
    scenario = _scenario_file(tmp_path, road_town())
    assert main(["travel", str(scenario), "--out", str(tmp_path / "a.csv"), "--quiet"]) == 0
    parquet = tmp_path / "b.parquet"
    assert main(["travel", str(scenario), "--out", str(parquet), "--quiet"]) == 0
    a, b = pd.read_csv(tmp_path / "a.csv", dtype={"from": str, "to": str}), pd.read_parquet(parquet)
    assert a["minutes"].tolist() == b["minutes"].tolist()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--out", "x.txt"], "--out: x.txt: expected a .parquet or .csv file"),
        (["--service", "fire"], "--service: unknown service 'fire'"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], expected: str
) -> None:
    scenario = _scenario_file(tmp_path, road_town())
    assert main(["travel", str(scenario), "--quiet", *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {expected}" + err[0].split(expected, 1)[1]], err


def test_a_bad_extract_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.osm"
    bad.write_text("<html><body>not a map</body></html>\n", encoding="utf-8")
    scenario = _scenario_file(tmp_path, road_town(file=str(bad)))
    assert main(["travel", str(scenario), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "bad.osm" in err[0]


def test_an_existing_output_is_kept_without_overwrite(tmp_path: Path) -> None:
    scenario = _scenario_file(tmp_path, road_town())
    out = tmp_path / "travel.parquet"
    out.write_text("keep me", encoding="utf-8")
    assert main(["travel", str(scenario), "--out", str(out), "--quiet"]) == 2
    assert out.read_text(encoding="utf-8") == "keep me"


# --------------------------------------------------------------------------- calibration

FACTOR = 1.25  # the log's units take 25 % longer than the network says


def _log(tmp_path: Path, scenario: Path, services: tuple[str, ...] = ()) -> Path:
    """A CAD log of trips from both stations to every zone, each FACTOR x the network's (at
    the time factor of its service: ``services`` taken in turn, if given)."""
    s = load_scenario(scenario)
    geo = geography(s)
    zones = list(geo.zones.ids)
    homes = ["north_st", "east"]
    at = {p: i for i, p in enumerate(geo.places)}
    scenes = geo.xy[[at[z] for z in zones]]
    sources = np.array([at[h] for h in homes])
    by_service = {sid: point_trips(s, geo, sources, scenes, sid) for sid in services}
    trips = point_trips(s, geo, sources, scenes)
    rows = []
    start = pd.Timestamp("2025-03-03 08:00", tz="UTC")
    for k, (home, zone) in enumerate((h, z) for h in homes for z in zones):
        h, z = homes.index(home), zones.index(zone)
        call = start + pd.Timedelta(hours=k)
        en_route = call + pd.Timedelta(minutes=2)
        service = services[k % len(services)] if services else None
        minutes = (by_service[service] if service else trips).minutes[h, z] * FACTOR
        spot = s.zones[zone].location  # type: ignore[index]
        rows.append(
            {
                **({"service": service} if service else {}),
                "incident_id": f"i{k}",
                "call_time": call.isoformat(),
                "community": s.zones[zone].community,  # type: ignore[index]
                "unit": f"u{h}",
                "unit_home": home,
                "en_route": en_route.isoformat(),
                "on_scene": (en_route + pd.Timedelta(minutes=minutes)).isoformat(),
                "lat": spot.lat,
                "lon": spot.lon,
            }
        )
    path = tmp_path / "log.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_a_log_offers_the_factor_its_trips_drove(tmp_path: Path) -> None:
    scenario = _scenario_file(tmp_path, road_town())
    s = load_scenario(scenario)
    from sim.data.communities import from_scenario

    log = read_log(_log(tmp_path, scenario), communities=from_scenario(s))
    fit = road_fit(s, log)
    assert len(fit.trips) == 12
    assert fit.suggested == pytest.approx(FACTOR, abs=0.01), "timestamps are whole seconds"
    by = fit.groups.set_index(["by", "value"])["ratio"]
    assert by[("all", "all")] == pytest.approx(FACTOR, abs=0.01)
    assert ("zone type", "suburban") in by.index
    assert any(b == "road class" for b, _ in by.index)


def test_travel_log_prints_the_comparison(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = _scenario_file(tmp_path, road_town())
    log = _log(tmp_path, scenario)
    assert main(["travel", str(scenario), "--log", str(log), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "log trips compared with the road network: 12" in printed
    assert "offered: travel.road_network.time_factor: 1.25" in printed


def test_services_at_their_own_factors_are_fitted_one_at_a_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = road_town(time_factor={"amb": 0.8, "works": 1.0})
    data["services"]["works"] = {"units": [{"station": "north_st"}, {"station": "east"}]}
    data["incident_types"]["pothole"] = {"service": "works", "rate_per_year": 10, "on_scene": 60}
    scenario = _scenario_file(tmp_path, data)
    log = _log(tmp_path, scenario, ("amb", "works"))
    assert main(["travel", str(scenario), "--log", str(log), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "services drive at different time factors (amb 0.8, works 1)" in err
    assert "--service ID" in err
    assert "Traceback" not in err
    assert main(["travel", str(scenario), "--log", str(log), "--service", "amb", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "log trips compared with the road network: 6" in printed
    assert "not used 6: another service than amb" in printed
    assert "offered: travel.road_network.time_factor: {amb: 1} (now 0.8;" in printed
