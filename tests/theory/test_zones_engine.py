"""Zones in the engine: incidents land in zones by weight, every option sees the same zones,
the closest unit is measured to the incident's zone (the border effect of automatic aid), zones
at the community centres reproduce the community-level results, and returning units are placed
at the nearest zone or interpolated as asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import compare, run, scenario_from_dict
from sim.engine.demand import generate_incidents
from sim.engine.driver import compile_scenario

MINUTES_PER_DAY = 1440.0


def _region(zones: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """Two towns 10 km apart, one ambulance each, fixed 30 min on scene, no noise."""
    data: dict[str, Any] = {
        "name": "zones",
        "communities": {
            "west": {"population": 10_000, "location": {"x": 0.0, "y": 0.0}, "area_km2": 20},
            "east": {"population": 10_000, "location": {"x": 10.0, "y": 0.0}, "area_km2": 20},
        },
        "travel": {"speed_kmh": 60, "detour_factor": 1.0},
        "services": {"amb": {"units": [{"station": "west"}, {"station": "east"}]}},
        "incident_types": {
            "call": {
                "service": "amb",
                "rate_per_year": 2000,
                "on_scene": 30,
                "target": {"minutes": 8, "share": 0.9},
            }
        },
        "run": {"horizon": 60 * MINUTES_PER_DAY, "warmup": 0, "replications": 3, "seed": 7},
        "options": {
            "separate": {"dispatch": {"amb": {"policy": "separate"}}},
            "pooled": {"dispatch": {"amb": {"policy": "pooled"}}},
        },
    }
    if zones is not None:
        data["zones"] = zones
    data.update(extra)
    return data


BORDER = {
    "w_centre": {"community": "west", "location": {"x": 0.5, "y": 0.0}, "weight": 3},
    "w_border": {"community": "west", "location": {"x": 9.0, "y": 0.0}, "weight": 1},
    "east_all": {"community": "east", "location": {"x": 10.0, "y": 0.0}, "weight": 1},
}


def test_zones_are_drawn_in_proportion_to_their_weight() -> None:
    compiled = compile_scenario(scenario_from_dict(_region(BORDER)))
    region = compiled.region
    counts = pd.Series(0, index=list(region.zone_ids))
    for r in range(3):
        inc = generate_incidents(region, 7, r)
        west = inc.zone[inc.community == region.communities.index("west")]
        counts += pd.Series(np.asarray(region.zone_ids)[west]).value_counts()
    observed = counts[["w_centre", "w_border"]].to_numpy()
    expected = observed.sum() * np.array([0.75, 0.25])
    p = stats.chisquare(observed, expected).pvalue
    assert p > 0.001, f"zone counts {observed} should follow weights 3:1 (chi-square p={p:.2g})"


def test_every_option_sees_the_same_incidents_in_the_same_zones() -> None:
    result = run(scenario_from_dict(_region(BORDER)), replications=2)
    inc = result.incidents
    a = inc[inc["option"] == "separate"].reset_index(drop=True)
    b = inc[inc["option"] == "pooled"].reset_index(drop=True)
    for column in ("t_call", "community", "zone", "type"):
        assert a[column].astype(str).equals(b[column].astype(str)), f"CRN: {column} differs"


def test_pooled_sends_the_neighbours_unit_to_a_border_zone_and_separate_does_not() -> None:
    result = run(scenario_from_dict(_region(BORDER)), replications=1)
    inc = result.incidents
    border = inc[(inc["zone"] == "w_border") & (inc["wait"] == 0)]
    pooled = border[border["option"] == "pooled"]
    separate = border[border["option"] == "separate"]
    assert len(pooled) > 20
    # east's unit is 1 km away, west's 9 km: closest available sends east's when it is free
    assert (pooled["first_unit_owner"] == "east").mean() > 0.5
    assert (separate["first_unit_owner"] == "west").all(), "separate: own units only"
    assert pooled["travel"].mean() < separate["travel"].mean() / 3


def test_zones_at_the_community_centres_reproduce_community_results() -> None:
    plain = _region()
    plain["travel"]["inside"] = {"west": 0.0, "east": 0.0}
    centred = _region(
        {
            "w": {"community": "west", "location": {"x": 0.0, "y": 0.0}},
            "e": {"community": "east", "location": {"x": 10.0, "y": 0.0}},
        }
    )
    centred["travel"]["return_position"] = "interpolate"  # the community-level rule
    a = run(scenario_from_dict(plain), replications=2).incidents
    b = run(scenario_from_dict(centred), replications=2).incidents
    columns = ["t_call", "t_dispatch", "t_first_arrival", "response", "travel"]
    pd.testing.assert_frame_equal(a[columns], b[columns])


@pytest.mark.parametrize("position", ["nearest_zone", "interpolate"])
def test_returning_units_are_placed_as_asked(position: str) -> None:
    data = _region(BORDER)
    data["travel"]["return_position"] = position
    data["travel"]["return_speed_factor"] = 0.5  # slow drives back: many dispatches from the road
    data["incident_types"]["call"]["rate_per_year"] = 8000
    result = run(scenario_from_dict(data), options=["pooled"], replications=1)
    inc = result.incidents
    assert inc["response"].notna().mean() > 0.95
    assert (inc["t_dispatch"].dropna() >= inc["t_ready"][inc["t_dispatch"].notna()]).all()


def test_the_return_rule_changes_trips_from_the_road() -> None:
    base = _region(BORDER)
    base["travel"]["return_speed_factor"] = 0.5
    base["incident_types"]["call"]["rate_per_year"] = 8000
    trips = {}
    for position in ("nearest_zone", "interpolate"):
        data = {**base, "travel": {**base["travel"], "return_position": position}}
        inc = run(scenario_from_dict(data), options=["pooled"], replications=1).incidents
        trips[position] = inc["travel"].to_numpy()
    assert not np.array_equal(trips["nearest_zone"], trips["interpolate"]), (
        "units dispatched from the road measure from a zone under nearest_zone"
    )


def test_a_slower_drive_back_keeps_units_busy_longer() -> None:
    busy = {}
    for factor in (1.0, 0.5):
        data = _region(BORDER)
        data["travel"]["return_speed_factor"] = factor
        for option in data["options"].values():
            option["dispatch"]["amb"]["from_road"] = False  # the way back counts as busy time
        units = run(scenario_from_dict(data), options=["pooled"], replications=1).units
        busy[factor] = float(units["busy_fraction"].sum())
    assert busy[0.5] > busy[1.0], f"half speed back should add busy time: {busy}"


def test_transport_goes_to_the_nearest_facility_of_its_kind() -> None:
    data = _region(BORDER)
    data["facilities"] = {
        "h_west": {"kind": "hospital", "location": {"x": -1.0, "y": 0.0}},
        "h_east": {"kind": "hospital", "location": {"x": 11.0, "y": 0.0}},
    }
    data["incident_types"]["call"]["transport"] = {"probability": 1.0, "kind": "hospital"}
    region = compile_scenario(scenario_from_dict(data)).region
    nearest = region.nearest_facility["hospital"]
    place = {p: i for i, p in enumerate(region.places)}
    zone = {z: i for i, z in enumerate(region.zone_ids)}
    assert nearest[zone["w_centre"]] == place["h_west"]
    assert nearest[zone["w_border"]] == place["h_east"]
    inc = run(scenario_from_dict(data), options=["separate"], replications=1).incidents
    done = inc[inc["t_clear"].notna()]
    busy = (done["t_clear"] - done["t_first_arrival"]).groupby(done["zone"].astype(str)).mean()
    # 30 min on scene + the trip to the nearest hospital (1.5 km from w_centre, 2 km from w_border)
    assert busy["w_centre"] == pytest.approx(30 + 1.5, abs=0.01)
    assert busy["w_border"] == pytest.approx(30 + 2.0, abs=0.01)


def test_compare_writes_zone_results_and_layer(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    import geopandas as gpd

    from sim.comparison.output import write_comparison

    polygons = {
        z: {**spec, "polygon": [[x - 0.4, -0.4], [x + 0.4, -0.4], [x + 0.4, 0.4], [x - 0.4, 0.4]]}
        for z, spec in BORDER.items()
        for x in [spec["location"]["x"]]
    }
    scenario = scenario_from_dict(_region(polygons))
    comp = compare(scenario, replications=3)
    zones = comp.zones
    keys = {"option", "service", "zone", "community", "calls", "mean_response", "p90_response"}
    assert keys | {"within_target", "diff_p90_response"} <= set(zones.columns)
    border = zones[(zones["zone"] == "w_border") & (zones["priority"] == "all")]
    pooled = border[border["option"] == "pooled"].iloc[0]
    assert pooled["diff_mean_response"] < 0, "pooled helps the border zone"
    assert pooled["verdict_mean_response"] == "better"
    out = tmp_path / "out"
    (tmp_path / "s.yaml").write_text("name: zones\n", encoding="utf-8")  # for the manifest
    write_comparison(
        comp, out, scenario_file=tmp_path / "s.yaml", command="test",
        started=datetime.now(UTC), seconds=0.0, scenario=scenario,
    )  # fmt: skip
    layer = gpd.read_file(out / "zones.gpkg")
    assert set(layer["zone"]) == set(BORDER)
    assert (layer.geom_type == "Polygon").all()
    csv = pd.read_csv(out / "zones.csv")
    assert len(csv) == len(layer)


def test_a_geopackage_of_polygons_in_km_validates(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    frame = gpd.GeoDataFrame(
        {"id": ["a", "b"], "community": ["west", "east"], "weight": [1.0, 2.0]},
        geometry=[box(-1, -1, 1, 1), box(9, -1, 11, 1)],
        crs=None,
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame.to_file(tmp_path / "z.gpkg", layer="zones", driver="GPKG")
    data = _region({"file": str(tmp_path / "z.gpkg"), "layer": "zones", "crs": "km"})
    region = compile_scenario(scenario_from_dict(data)).region
    assert region.zone_ids == ("a", "b")
