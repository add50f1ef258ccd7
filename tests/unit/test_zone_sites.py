"""Stations and facilities at a zone: ``location: {zone: ZONE_ID}``.

A site at a zone takes the zone's point and is the zone's place: its trips are the zone's, so
a travel matrix file needs no row of its own for it. An unknown zone, a zone beside
coordinates, or a matrix row naming the site is one clear line and exit code 2.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from sim.cli.main import main
from sim.model.compile import compile_fleet, compile_region
from sim.results.region import region_record
from sim.schema import load_scenario, scenario_from_dict

ZONES = {  # two zones each; e_west lies 1 km from West's east zone
    "w_west": {"community": "west", "location": {"x": -2, "y": 0}, "weight": 100},
    "w_east": {"community": "west", "location": {"x": 5, "y": 0}, "weight": 100},
    "e_west": {"community": "east", "location": {"x": 6, "y": 0}, "weight": 100},
    "e_east": {"community": "east", "location": {"x": 12, "y": 0}, "weight": 100},
}
BASE: dict[str, Any] = {
    "name": "sites at zones",
    "communities": {
        "west": {"population": 20000, "location": {"x": 0, "y": 0}},
        "east": {"population": 10000, "location": {"x": 10, "y": 0}},
    },
    "zones": ZONES,
    "stations": {"border": {"community": "west", "location": {"zone": "w_east"}}},
    "facilities": {"clinic": {"location": {"zone": "e_east"}}},
    "travel": {"speed_kmh": 60, "inside": {"west": 4, "east": 4}},
    "services": {"ambulance": {"units": [{"station": "border"}, {"station": "east"}]}},
    "incident_types": {
        "medical": {
            "service": "ambulance",
            "rate_per_1000": 50,
            "on_scene": 20,
            "transport": {"probability": 0.5},
        }
    },
    "run": {"horizon": "7 d", "replications": 1},
}


def data(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(BASE)
    out.update(copy.deepcopy(changes))
    return out


def write(tmp_path: Path, scenario: dict[str, Any]) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False), encoding="utf-8")
    return path


def fails(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """``intersim validate`` exits 2 with one line and no traceback: return the line."""
    code = main(["validate", str(path)])
    _, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, err
    assert "Traceback" not in err
    assert len(lines) == 1, f"expected one problem, got:\n{err}"
    return lines[0]


def test_a_site_at_a_zone_is_the_zone_s_place() -> None:
    s = scenario_from_dict(data())
    region = compile_region(s)
    zone = region.place_of["w_east"]
    assert region.place_of["border"] == zone, "the station is at its zone's place"
    assert region.place_of["clinic"] == region.place_of["e_east"]
    assert "border" not in region.places, "a site at a zone is no place of its own"
    np.testing.assert_array_equal(region.travel[region.place_of["border"]], region.travel[zone])
    fleet = compile_fleet(s, region, s.baseline_option)
    assert fleet.station.tolist() == [zone, region.place_of["east"]]
    nearest = region.nearest_facility["hospital"]
    assert set(nearest.tolist()) == {region.place_of["e_east"]}, "the only hospital"


def test_with_a_matrix_file_the_site_needs_no_row_of_its_own(tmp_path: Path) -> None:
    places = ["west", "east", *ZONES]
    rows = ["from,to,minutes"]
    rows += [
        f"{a},{b},{1 + i + 2 * j}"
        for i, a in enumerate(places)
        for j, b in enumerate(places)
        if i <= j
    ]
    (tmp_path / "travel.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    scenario = data(travel={"matrix_file": "travel.csv"})
    s = load_scenario(write(tmp_path, scenario))
    region = compile_region(s)
    border, w_east = region.place_of["border"], region.place_of["w_east"]
    assert border == w_east
    i, j = places.index("w_east"), places.index("e_west")
    assert region.travel[border, region.place_of["e_west"]] == 1 + i + 2 * j, "the zone's row"


def test_a_matrix_row_naming_the_site_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = data()
    scenario["travel"] = {**scenario["travel"], "matrix": {"border": {"east": 3}}}
    line = fails(write(tmp_path, scenario), capsys)
    assert "travel.matrix.border" in line
    assert "'border' sits at zone 'w_east'" in line
    assert "use 'w_east' in the matrix" in line


def test_unknown_zone_names_the_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = data(stations={"border": {"community": "west", "location": {"zone": "w_eats"}}})
    path = write(tmp_path, scenario)
    line = fails(path, capsys)
    text = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, ln in enumerate(text, 1) if "w_eats" in ln)
    assert line.startswith(f"{path}:{at}:"), line
    assert "stations.border.location.zone" in line
    assert "unknown zone 'w_eats'" in line
    assert "w_east" in line, "the known zones are listed"


def test_a_zone_in_a_scenario_without_zones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = data(facilities={"clinic": {"location": {"zone": "e_east"}}})
    del scenario["zones"]
    del scenario["stations"]
    scenario["services"]["ambulance"]["units"] = [{"station": "west"}, {"station": "east"}]
    line = fails(write(tmp_path, scenario), capsys)
    assert "facilities.clinic.location.zone" in line
    assert "the scenario has no zones" in line


def test_a_zone_beside_coordinates_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = {"community": "west", "location": {"zone": "w_east", "x": 1, "y": 2}}
    line = fails(write(tmp_path, data(stations={"border": site})), capsys)
    assert "stations.border.location" in line
    assert "give either a zone, or x and y (km), or lat and lon (degrees)" in line


def test_communities_and_zones_take_no_zone_location() -> None:
    scenario = data()
    scenario["communities"]["west"]["location"] = {"zone": "w_east"}
    with pytest.raises(Exception, match="zone"):
        scenario_from_dict(scenario)


def test_region_record_places_the_site_at_the_zone_s_point() -> None:
    record = region_record(scenario_from_dict(data()))
    stations = {st["id"]: st for st in record["stations"]}
    assert stations["border"]["location"] == {"x": 5.0, "y": 0.0}
    (clinic,) = record["facilities"]
    assert clinic["location"] == {"x": 12.0, "y": 0.0}
    json.dumps(record)  # written as region.json


def test_region_record_of_a_lonlat_zone_is_lonlat() -> None:
    scenario = data()
    for com, lon in (("west", 10.0), ("east", 10.1)):
        scenario["communities"][com]["location"] = {"lat": 60.0, "lon": lon}
    for z, lon in zip(ZONES, (9.97, 10.09, 10.105, 10.2), strict=True):
        scenario["zones"][z]["location"] = {"lat": 60.0, "lon": lon}
    record = region_record(scenario_from_dict(scenario))
    border = next(st for st in record["stations"] if st["id"] == "border")
    assert border["location"] == pytest.approx({"lat": 60.0, "lon": 10.09}, abs=1e-9)
