"""A placement as a pooling option (sim.siting.options): the units land where the placement
puts them, keep their owner, duty and cost when they move, and the option validates; stations
standing in a zone (``zone:``) have the zone's place and travel times."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.model.compile import compile_region
from sim.schema import Scenario, scenario_from_dict
from sim.schema.options import resolve_option
from sim.siting.candidates import candidate_scenario, candidate_sites
from sim.siting.options import placement_option, siting_scenario
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


def test_a_station_in_a_zone_has_the_zones_place_and_travel() -> None:
    data = siting_region()
    data["stations"] = {"depot": {"zone": "m2", "community": "mid"}}
    region = compile_region(scenario_from_dict(data))
    assert region.place_of["depot"] == region.place_of["m2"]
    assert len(region.places) == len(compile_region(scenario_from_dict(siting_region())).places)


@pytest.mark.parametrize(
    ("station", "message"),
    [
        ({"zone": "nowhere"}, "stations.depot.zone: unknown zone 'nowhere'"),
        ({"zone": "m2", "community": "east"}, "zone 'm2' is in 'mid', not in 'east'"),
        ({"zone": "m2", "location": {"x": 1, "y": 1}}, "a location or a zone, not both"),
    ],
)
def test_bad_station_zones_are_reported(station: dict[str, Any], message: str) -> None:
    data = siting_region()
    data["stations"] = {"depot": station}
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data)
    assert message in str(err.value)


def test_travel_matrix_naming_a_zone_station_says_to_use_the_zone() -> None:
    data = siting_region()
    data["stations"] = {"depot": {"zone": "m2", "community": "mid"}}
    data["travel"]["matrix"] = {"depot": {"west": 9}}
    with pytest.raises(ScenarioError, match="stands in zone 'm2'"):
        scenario_from_dict(data)
