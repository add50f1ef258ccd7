"""A placement as a pooling option (sim.siting.options): the units land where the placement
puts them, keep their owner, duty and cost when they move, and the option validates. (Stations
at a zone, ``location: {zone: ID}``, are tested in test_zone_sites.)"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.model.compile import compile_region
from sim.schema import Scenario, scenario_from_dict
from sim.schema.options import resolve_option
from sim.siting.candidates import candidate_scenario, candidate_sites
from sim.siting.options import placement_option, siting_scenario
from sim.siting.yamltext import scenario_text
from tests.builders import siting_region


def _setup(data: dict[str, Any], base: str = "pooled") -> tuple[Scenario, list, np.ndarray]:
    sc = scenario_from_dict(data)
    today = [u.station for u in resolve_option(sc, base).units if u.service == "ambulance"]
    sites = candidate_sites(sc, "zones", list(dict.fromkeys(today)))
    region = compile_region(candidate_scenario(sc, sites))
    places = np.array([region.place_of[s.id] for s in sites])
    return sc, sites, region.travel[np.ix_(places, places)]


def _placed(data: dict[str, Any], want: dict[str, int], base: str = "pooled") -> Any:
    sc, sites, travel = _setup(data, base)
    counts = np.array([want.get(s.id, 0) for s in sites])
    owners = [s.community or "west" for s in sites]
    option = placement_option(sc, base, "ambulance", sites, counts, travel, owners, "placed")
    options = {base: sc.options[base].model_dump(mode="json"), "placed": option}
    wanted = {"placed": {s.id: int(c) for s, c in zip(sites, counts, strict=True)}}
    out = siting_scenario(sc, sites, options, base, "ambulance", wanted)
    units = [u for u in resolve_option(out, "placed").units if u.service == "ambulance"]
    return option, units


def test_moved_units_keep_owner_and_duty() -> None:
    data = siting_region()
    data["services"]["ambulance"]["units"][0] = {
        "station": "west",
        "count": 2,
        "duty": {"hours": [8, 20]},
    }
    option, units = _placed(data, {"west": 1, "east": 1, "at_m2": 1})
    assert option["move_units"] == [
        {"service": "ambulance", "from_station": "west", "to_station": "at_m2", "count": 1}
    ]
    moved = next(u for u in units if u.station == "at_m2")
    assert moved.owner == "west", "a moved unit stays its owner's"
    assert moved.duty is not None
    assert moved.duty.hours == [8, 20], "and keeps its duty"


def test_more_and_fewer_units_than_today() -> None:
    option, units = _placed(siting_region(), {"west": 2, "east": 1, "at_m1": 1})
    assert option["add_units"] == [
        {"service": "ambulance", "station": "at_m1", "count": 1, "owner": "mid"}
    ]
    assert len(units) == 4
    option, units = _placed(siting_region(), {"west": 1, "east": 1})
    assert option["remove_units"] == [{"service": "ambulance", "station": "west", "count": 1}]
    assert Counter(u.station for u in units) == {"west": 1, "east": 1}


def test_a_unit_the_base_option_adds_is_added_at_its_new_site() -> None:
    data = siting_region()
    data["options"]["pooled"]["add_units"] = [
        {"service": "ambulance", "station": "east", "owner": "east", "cost_per_hour": 150}
    ]
    option, units = _placed(data, {"west": 2, "east": 1, "at_m3": 1})
    assert "move_units" not in option
    assert {
        "service": "ambulance",
        "station": "at_m3",
        "owner": "east",
        "cost_per_hour": 150.0,
        "count": 1,
    } in option["add_units"]
    assert next(u for u in units if u.station == "at_m3").cost_per_hour == 150


def test_the_sited_text_keeps_comments_and_moves_nested_data_paths(tmp_path: Path) -> None:
    src = tmp_path / "in" / "towns.yaml"
    src.parent.mkdir()
    src.write_text(
        "# the author's comment\nname: Towns\ncommunities: {a: {population: 10}}\n"
        "travel:\n  matrix_file: times.csv\n  road_network:\n    file: roads.osm\n"
        "stations:\n  hub: {community: a}\noptions:\n  base: {description: Today}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out" / "sited"
    station = {"name": "Station in zone 7", "community": "a", "location": {"zone": "7"}}
    text, kept = scenario_text(src, {}, {"at_7": station}, "placed", {"description": "x"}, out, [])
    assert kept, "the source's own text is kept"
    assert text.startswith("# the author's comment")
    back = yaml.safe_load(text)
    assert back["travel"]["matrix_file"] == "../../in/times.csv"
    assert back["travel"]["road_network"]["file"] == "../../in/roads.osm"
    assert back["stations"]["at_7"]["location"] == {"zone": "7"}, "a numeric zone id stays text"
