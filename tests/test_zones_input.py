"""Zones and geography in the scenario format: ids, zones inline and from files, boundaries,
projection of lon/lat, asymmetric travel, return settings, transport to the nearest facility,
and the compiled region (places, zones, zone choice, nearest facilities).

Every bad input is checked through ``intersim validate``: one clear line, exit code 2.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from sim.cli.main import main
from sim.errors import ScenarioError
from sim.model.compile import compile_region
from sim.schema import load_scenario, scenario_from_dict

BASE: dict[str, Any] = {
    "name": "two towns",
    "communities": {
        "north": {"population": 20000, "location": {"x": 0, "y": 0}},
        "south": {"population": 10000, "location": {"x": 0, "y": -12}},
    },
    "travel": {"speed_kmh": 60, "inside": {"north": 5, "south": 7}},
    "services": {
        "ambulance": {"units": [{"station": "north", "count": 2}, {"station": "south"}]},
        "fire": {"units": [{"station": "north"}]},
    },
    "incident_types": {
        "medical": {"service": "ambulance", "rate_per_1000": 90, "on_scene": 14},
        "blaze": {"service": "fire", "rate_per_1000": 2, "on_scene": 40},
    },
    "run": {"horizon": "30 d", "replications": 2},
    "dispatch": {"all": {"policy": "pooled"}},
}


def scenario(**changes: Any) -> dict[str, Any]:
    """The base scenario with top-level keys replaced (None removes a key)."""
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def write(tmp_path: Path, data: dict[str, Any], name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def fails(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """``intersim validate path`` fails with exit 2 and exactly one problem line: return it."""
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, f"exit {code}; out={out!r} err={err!r}"
    assert "Traceback" not in err
    assert len(lines) == 1, f"expected one problem, got:\n{err}"
    return lines[0]


def passes(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert (code, err) == (0, ""), err
    assert out == f"{path}: ok\n"


# --------------------------------------------------------------------------- ids


def test_numeric_codes_are_ids_for_zones_stations_and_facilities(tmp_path: Path) -> None:
    """YAML reads 1391 as a number; as a zone, station or facility id it is the text '1391'."""
    text = yaml.safe_dump(scenario(), sort_keys=False) + (
        "stations:\n  1391: {community: south, location: {x: 1, y: -11}}\n"
        "facilities:\n  8001: {location: {x: 2, y: 0}}\n"
        "zones:\n"
        "  4051: {community: north, location: {x: 0.5, y: 0.5}}\n"
        "  4052: {community: north, location: {x: -0.5, y: 0.5}}\n"
    )
    text = text.replace("- station: south", "- station: 1391")
    path = tmp_path / "codes.yaml"
    path.write_text(text, encoding="utf-8")
    s = load_scenario(path)
    assert list(s.stations) == ["1391"]
    assert list(s.facilities) == ["8001"]
    assert isinstance(s.zones, dict)
    assert list(s.zones) == ["4051", "4052"]
    assert s.services["ambulance"].units[1].station == "1391"


def test_numeric_keys_given_in_python_become_text() -> None:
    data = scenario(stations={1391: {"community": "north"}})
    data["services"]["fire"]["units"] = [{"station": 1391}]
    s = scenario_from_dict(data)
    assert list(s.stations) == ["1391"]
    assert s.services["fire"].units[0].station == "1391"


@pytest.mark.parametrize("bad", ["a/b", "<b>", "1.5", "-x", "a b", "x" * 65])
def test_ids_that_break_file_names_or_html_are_refused(bad: str) -> None:
    with pytest.raises(ScenarioError, match="string should"):
        scenario_from_dict(scenario(stations={bad: {"community": "north"}}))


def test_community_ids_still_start_with_a_letter() -> None:
    data = scenario()
    data["communities"]["1391"] = data["communities"].pop("south")
    with pytest.raises(ScenarioError, match="string should match pattern"):
        scenario_from_dict(data)


# --------------------------------------------------------------------------- zones: shape


def test_inline_zone_typo_names_the_key_and_suggests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zones = {"n1": {"community": "north", "location": {"x": 1, "y": 0}, "wieght": 3}}
    line = fails(write(tmp_path, scenario(zones=zones)), capsys)
    assert "zones.n1.wieght: unknown key 'wieght'; did you mean 'weight'?" in line


def test_zone_file_mapping_typo_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = fails(write(tmp_path, scenario(zones={"file": "z.csv", "comunity": "town"})), capsys)
    assert "zones.comunity: unknown key 'comunity'; did you mean 'community'?" in line


def test_zone_file_needs_a_text_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = fails(write(tmp_path, scenario(zones={"file": 3})), capsys)
    assert "zones.file: input should be a valid string" in line


def test_an_inline_zone_may_be_called_file() -> None:
    zones = {"file": {"community": "north", "location": {"x": 1, "y": 0}}}
    s = scenario_from_dict(scenario(zones=zones))
    assert isinstance(s.zones, dict)
    assert list(s.zones) == ["file"]


def test_zone_polygon_needs_three_points(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zones = {
        "n1": {"community": "north", "location": {"x": 1, "y": 0}, "polygon": [[0, 0], [1, 1]]}
    }
    line = fails(write(tmp_path, scenario(zones=zones)), capsys)
    assert "zones.n1.polygon" in line
    assert "at least 3 items" in line


def test_scenario_round_trips_through_json() -> None:
    zones = {
        "n1": {
            "community": "north",
            "location": {"x": 1, "y": 0},
            "weight": 3,
            "weights": {"blaze": 0.5},
            "polygon": [[0, -1], [2, -1], [2, 1], [0, 1]],
        }
    }
    s = scenario_from_dict(scenario(zones=zones))
    again = scenario_from_dict(s.model_dump(mode="json"))
    assert again == s


# --------------------------------------------------------------------------- travel settings


def test_asymmetric_inline_matrix_keeps_both_directions() -> None:
    travel = {"matrix": {"north": {"north": 5, "south": 14}, "south": {"north": 16, "south": 7}}}
    region = compile_region(scenario_from_dict(scenario(travel=travel)))
    n, s = region.place_of["north"], region.place_of["south"]
    assert region.travel[n, s] == 14
    assert region.travel[s, n] == 16
    assert region.travel[n, n] == 5
    assert region.travel[s, s] == 7


def test_one_direction_is_mirrored() -> None:
    travel = {"matrix": {"south": {"north": 16}}, "inside": {"north": 5, "south": 7}}
    region = compile_region(scenario_from_dict(scenario(travel=travel)))
    assert region.travel[0, 1] == region.travel[1, 0] == 16


def test_return_settings_have_defaults_and_bounds() -> None:
    s = scenario_from_dict(scenario())
    assert (s.travel.return_speed_factor, s.travel.return_position) == (1.0, "nearest_zone")
    travel = {**BASE["travel"], "return_speed_factor": 0.95, "return_position": "interpolate"}
    s = scenario_from_dict(scenario(travel=travel))
    assert (s.travel.return_speed_factor, s.travel.return_position) == (0.95, "interpolate")
    for bad in (0, 1.2, float("nan")):
        with pytest.raises(ScenarioError, match="return_speed_factor"):
            scenario_from_dict(scenario(travel={**BASE["travel"], "return_speed_factor": bad}))
    with pytest.raises(ScenarioError, match="return_position"):
        scenario_from_dict(scenario(travel={**BASE["travel"], "return_position": "station"}))


# --------------------------------------------------------------------------- transports


def _with_transport(transport: dict[str, Any], facilities: dict[str, Any]) -> dict[str, Any]:
    data = scenario(facilities=facilities)
    data["incident_types"]["medical"]["transport"] = transport
    return data


def test_transport_without_facility_goes_to_the_nearest_of_its_kind() -> None:
    facilities = {
        "general": {"kind": "hospital", "location": {"x": 0, "y": 1}},
        "depot": {"kind": "depot", "community": "south"},
    }
    s = scenario_from_dict(_with_transport({"probability": 0.6}, facilities))
    region = compile_region(s)
    medical = region.types[0]
    assert (medical.facility, medical.facility_kind) == (-1, "hospital")
    named = scenario_from_dict(
        _with_transport({"probability": 0.6, "facility": "depot"}, facilities)
    )
    medical = compile_region(named).types[0]
    assert (medical.facility, medical.facility_kind) == (
        compile_region(named).place_of["south"],
        None,
    )


def test_transport_to_a_kind_without_facility_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facilities = {"depot": {"kind": "depot", "community": "south"}}
    data = _with_transport({"probability": 0.6, "kind": "trauma_centre"}, facilities)
    line = fails(write(tmp_path, data), capsys)
    assert "incident_types.medical.transport.kind: no facility of kind 'trauma_centre'" in line
    assert "(kinds: depot)" in line


def test_transport_needs_some_facility(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = fails(write(tmp_path, _with_transport({"probability": 0.6}, {})), capsys)
    assert "no facility of kind 'hospital'" in line
    assert "the scenario has no facilities" in line


def test_valid_base_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    passes(write(tmp_path, scenario()), capsys)
    assert np.isfinite(compile_region(scenario_from_dict(scenario())).travel).all()
