"""A scenario on a road network (the synthetic Grid Town extract, tests/data): what is read
from the file, the compiled travel (exactly as from the matrix file it exports), the cache,
GraphML, x/y scenarios, warnings and every kind of bad input."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import sim.model.roads as roads_module
from sim.errors import ScenarioError
from sim.model.compile import compile_region
from sim.model.roads import road_travel
from sim.model.travel import TRIP_DTYPE
from sim.schema import scenario_from_dict
from sim.schema.osmtags import CLASSES
from sim.schema.roadfile import read_road_file
from tests.builders import GRID_TOWN, HELSINKI_ROADS, grid_point, road_town
from tests.unit.test_roads_graph import EXPECTED, LOOP


def _problems(data: dict[str, Any]) -> str:
    with pytest.raises(ScenarioError) as caught:
        compile_region(scenario_from_dict(data))
    return str(caught.value)


# --------------------------------------------------------------------------- the file


def test_grid_town_keeps_the_drivable_roads_and_their_tags() -> None:
    rows = read_road_file(str(GRID_TOWN))
    assert len(rows.u) == 7 * 6 * 2 + 2, "rows and columns of the grid, and the dead end"
    assert len(rows.node_id) == 49 + 2, "the missing node 9999 and its segment are dropped"
    classes = {CLASSES[c] for c in rows.road_class}
    assert classes == {"primary", "residential", "service", "living_street", "tertiary"}
    assert 9999 not in rows.node_id
    speeds = set(np.round(rows.maxspeed[np.isfinite(rows.maxspeed)], 3))
    assert speeds == {30.0, 50.0, round(20 * 1.609344, 3)}, "km/h, and 20 mph in km/h"
    assert (rows.direction != 0).sum() == 6 + 6 + 2, "North, South Street and the dead end"


def test_the_trips_follow_one_way_streets() -> None:
    s = scenario_from_dict(road_town())
    trips = road_travel(s)
    at = {p: i for i, p in enumerate(trips.places)}
    up = trips.minutes[at["north_st"], at["z2"]]  # z2 lies at North Street's 6th junction
    down = trips.minutes[at["z2"], at["north_st"]]
    assert up < down, "north along North Street is direct, the way back detours"
    assert trips.pieces == 1, "one piece of the network is kept"
    assert trips.dropped_nodes == 2, "the dead end is dropped"


def test_the_region_is_exactly_the_one_its_exported_matrix_file_gives(tmp_path: Path) -> None:
    data = road_town()
    s = scenario_from_dict(data)
    trips = road_travel(s)
    a, b, minutes = trips.long_form()
    file = tmp_path / "travel.parquet"
    pd.DataFrame({"from": a, "to": b, "minutes": minutes}).to_parquet(file, index=False)
    via_file = copy.deepcopy(data)
    del via_file["travel"]["road_network"]
    via_file["travel"]["matrix_file"] = str(file)
    network, matrix = compile_region(s), compile_region(scenario_from_dict(via_file))
    assert np.array_equal(network.travel, matrix.travel), "travel as from the matrix file"
    for kind, nearest in network.nearest_facility.items():
        assert np.array_equal(nearest, matrix.nearest_facility[kind])
    assert not np.allclose(network.travel, network.travel.T), "one-way streets: asymmetric"


def test_inline_times_still_win_over_the_network() -> None:
    data = road_town()
    data["travel"]["matrix"] = {"north_st": {"z0": 99.0}}
    region = compile_region(scenario_from_dict(data))
    i, j = region.place_of["north_st"], region.place_of["z0"]
    assert region.travel[i, j] == 99.0


def test_time_factor_and_the_off_network_leg() -> None:
    base = road_travel(scenario_from_dict(road_town()))
    fast = road_travel(scenario_from_dict(road_town(time_factor=0.8)))
    np.testing.assert_allclose(fast.minutes, base.minutes * 0.8, rtol=1e-12)
    slow_leg = road_travel(scenario_from_dict(road_town(off_network_kmh=5)))
    leg = base.snap_m / 1000 * 60 * (1 / 5 - 1 / 15)
    expected = base.minutes + leg[:, None] + leg[None, :]
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(slow_leg.minutes, expected, rtol=1e-12)


def _two_services(factors: dict[str, float], services: tuple[str, ...] = ("amb", "works")):
    """Road Town with an ambulance and a works service side by side (works: half the calls,
    from the same stations), at the given time factors, keeping only ``services``."""
    data = road_town(time_factor=factors)
    data["services"]["works"] = {"units": [{"station": "north_st"}, {"station": "east"}]}
    data["incident_types"]["pothole"] = {
        "service": "works",
        "rate_per_year": 400,
        "on_scene": {"dist": "exponential", "mean": 30},
    }
    for sid in {"amb", "works"} - set(services):
        del data["services"][sid]
        del data["incident_types"]["med" if sid == "amb" else "pothole"]
    return data


def test_services_drive_at_their_own_factor() -> None:
    region = compile_region(scenario_from_dict(_two_services({"all": 0.8, "works": 1.0})))
    amb, works = region.services.index("amb"), region.services.index("works")
    assert region.trips(works) is region.travel, "normal driving is the region's base matrix"
    alike = compile_region(scenario_from_dict(_two_services({"all": 1.0})))
    np.testing.assert_array_equal(region.travel, alike.travel)
    located = np.flatnonzero(np.isfinite(region.place_xy).all(axis=1))
    off = ~np.eye(len(located), dtype=bool)
    net = np.ix_(located, located)
    kept = 2.0**-23  # each side rounded to single precision once (sim.model.travel.TRIP_DTYPE)
    np.testing.assert_allclose(region.trips(amb)[net][off], alike.travel[net][off] * 0.8, rtol=kept)
    diagonal = np.diag(region.trips(amb))
    np.testing.assert_array_equal(diagonal, np.diag(alike.travel)), "inside trips keep theirs"
    assert not alike.service_travel, "one factor for all: one matrix"


def test_each_service_is_simulated_at_its_factor() -> None:
    """Services are independent (own units, own calls, streams addressed by type), so the
    ambulance calls of the mixed scenario are exactly those of an ambulance-only scenario at
    0.6, and its works calls exactly those of the same scenario with every factor 1."""
    from sim.engine.driver import compile_scenario, run_replication

    def incidents(data: dict[str, Any], service: str) -> pd.DataFrame:
        table, *_ = run_replication(compile_scenario(scenario_from_dict(data)), 0, 11)
        table = table[table["service"] == service].drop(columns="incident")  # numbered apart
        return table.sort_values(["option", "t_call"]).reset_index(drop=True)

    def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
        assert len(a) == len(b) > 20
        pd.testing.assert_frame_equal(a, b, check_dtype=False, check_categorical=False)

    mixed = _two_services({"amb": 0.6, "works": 1.0})
    same(incidents(mixed, "amb"), incidents(_two_services({"all": 0.6}, ("amb",)), "amb"))
    same(incidents(mixed, "works"), incidents(_two_services({"all": 1.0}), "works"))
    fast = incidents(mixed, "amb")["travel"].median()
    normal = incidents(_two_services({"all": 1.0}), "amb")["travel"].median()
    assert 0.5 < fast / normal < 0.7, "lights and sirens: the ambulance trips are shorter"


# --------------------------------------------------------------------------- the cache


def test_a_second_build_reads_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    s = scenario_from_dict(road_town(speeds_kmh={"service": 14}))  # a key of this test's own
    first = road_travel(s)
    assert not first.cached

    def no_build(*_: object, **__: object) -> None:
        raise AssertionError("the graph was built again")

    monkeypatch.setattr(roads_module, "build_graph", no_build)
    again = road_travel(scenario_from_dict(road_town(speeds_kmh={"service": 14}, time_factor=0.9)))
    assert again.cached, "the time factor (and the legs' speed) apply after the cache"
    np.testing.assert_allclose(again.minutes, first.minutes * 0.9, rtol=1e-12)


def test_a_changed_setting_or_file_rebuilds(tmp_path: Path) -> None:
    road_travel(scenario_from_dict(road_town()))
    changed = road_travel(scenario_from_dict(road_town(speeds_kmh={"residential": 20})))
    assert not changed.cached, "a new speed is a new cache entry"
    copy_file = tmp_path / "grid.osm"
    copy_file.write_text(GRID_TOWN.read_text(encoding="utf-8"), encoding="utf-8")
    road_travel(scenario_from_dict(road_town(file=str(copy_file))))
    text = copy_file.read_text(encoding="utf-8").replace('v="50"', 'v="70"')
    copy_file.write_text(text, encoding="utf-8")
    os.utime(copy_file, ns=(1, 1))
    rebuilt = road_travel(scenario_from_dict(road_town(file=str(copy_file))))
    assert not rebuilt.cached, "a changed extract is a new cache entry"


def test_a_damaged_cache_entry_is_rebuilt(road_cache: Path) -> None:
    s = scenario_from_dict(road_town(off_network_kmh=13))
    road_travel(s)
    for entry in road_cache.glob("roads-*.npz"):
        entry.write_bytes(b"not a cache entry")
    assert not road_travel(s).cached


# --------------------------------------------------------------------------- GraphML, x/y


def _graphml(path: Path, segments: list[tuple[int, int, float, int]], n: int) -> list[dict]:
    """A GraphML road network as osmnx writes one (lon/lat nodes, metres, maxspeed 60);
    the lat/lon of its nodes."""
    g = nx.MultiDiGraph(crs="EPSG:4326")
    points = [{"lat": 50.0, "lon": 10.0 + i * 0.0014} for i in range(n)]
    for i, p in enumerate(points):
        g.add_node(str(i), x=p["lon"], y=p["lat"])
    for u, v, length, d in segments:
        ends = [(u, v)] if d == 1 else [(v, u)] if d == -1 else [(u, v), (v, u)]
        for a, b in ends:
            g.add_edge(str(a), str(b), highway="residential", maxspeed="60", length=length)
    nx.write_graphml(g, path)
    return points


def test_graphml_one_way_loop_compiles_to_the_exact_trips(tmp_path: Path) -> None:
    points = _graphml(tmp_path / "loop.graphml", LOOP, 5)
    data = road_town(file=str(tmp_path / "loop.graphml"), min_component_nodes=1)
    data["communities"] = {"a": {"population": 100, "location": points[0], "area_km2": 1}}
    data["stations"] = {f"s{i}": {"community": "a", "location": points[i]} for i in (1, 2)}
    data["facilities"] = {"hospital": {"kind": "hospital", "location": points[3]}}
    data["zones"] = {"z": {"community": "a", "location": points[4]}}
    data["services"]["amb"]["units"] = [{"station": "s1"}]
    region = compile_region(scenario_from_dict(data))
    order = [region.place_of[p] for p in ("a", "s1", "s2", "hospital", "z")]
    got = region.travel[np.ix_(order, order)]
    off = ~np.eye(5, dtype=bool)
    np.testing.assert_array_equal(got[off], EXPECTED[off].astype(TRIP_DTYPE))  # as kept


def test_xy_scenarios_place_the_extract_by_its_origin() -> None:
    data = road_town()
    origin = grid_point(0, 0)
    data["travel"]["road_network"]["origin"] = origin
    from tests.data.make_grid_town import SPACING_M

    def km(col: float, row: float) -> dict[str, float]:
        return {"x": col * SPACING_M / 1000, "y": row * SPACING_M / 1000}

    for part, key in (("communities", "location"), ("stations", "location")):
        for name, where in (("west", (1, 3)), ("east", (5, 3)), ("north_st", (2, 1))):
            if name in data[part]:
                data[part][name][key] = km(*where)
    data["facilities"]["hospital"]["location"] = km(6, 6)
    for i, z in enumerate(data["zones"].values()):
        z["location"] = km(0.3 + i, 4.7)
    planar = road_travel(scenario_from_dict(data))
    geographic = road_travel(scenario_from_dict(road_town()))
    # Grid Town's nodes were laid out on a sphere, the frame is azimuthal equidistant: a few m
    np.testing.assert_allclose(planar.snap_m[:3], 0.0, atol=5.0)
    np.testing.assert_allclose(planar.minutes, geographic.minutes, atol=0.05)
    data["travel"]["road_network"]["origin"] = {"x": 0, "y": 0}
    assert "origin: give the origin as lat and lon" in _problems(data)
    del data["travel"]["road_network"]["origin"]
    assert "give road_network.origin" in _problems(data)


# --------------------------------------------------------------------------- warnings and bad input


def test_a_place_far_from_every_road_is_warned_about() -> None:
    data = road_town(warn_snap_m=120)
    data["zones"]["z5"]["location"] = grid_point(5.5, 5.5)  # 141 m from the nearest junction
    trips = road_travel(scenario_from_dict(data))
    assert [w.split(" lies")[0] for w in trips.warnings] == ["'z5'"]
    assert "m from the nearest road" in trips.warnings[0]


def test_a_place_outside_the_extract_is_an_error_naming_it() -> None:
    data = road_town()
    data["zones"]["z2"]["location"] = grid_point(40, 3)
    message = _problems(data)
    assert "1 place(s) lie outside the extent of the roads" in message
    assert "'z2' (6.5 km)" in message


def test_places_on_separate_pieces_are_an_error_naming_them(tmp_path: Path) -> None:
    two = [(0, 1, 100.0, 0), (1, 2, 100.0, 0), (3, 4, 100.0, 0)]
    points = _graphml(tmp_path / "two.graphml", two, 5)
    data = road_town(file=str(tmp_path / "two.graphml"), min_component_nodes=1)
    data["communities"] = {"a": {"population": 100, "location": points[0], "area_km2": 1}}
    data["stations"] = {}
    data["facilities"] = {"hospital": {"kind": "hospital", "location": points[1]}}
    data["zones"] = {"z": {"community": "a", "location": points[4]}}
    data["services"]["amb"]["units"] = [{"station": "a"}]
    message = _problems(data)
    assert "1 place(s) cannot reach the others on the road network" in message
    assert "'z'" in message


BAD_FILES = {
    "text.osm": (b"hello, not a map\n", "text.osm:1:1: not OpenStreetMap XML: syntax error"),
    "broken.osm": (
        b'<?xml version="1.0"?>\n<osm version="0.6">\n <node id="1" lat="1" lon="1"\n</osm>\n',
        "broken.osm:4:1: not OpenStreetMap XML",
    ),
    "paths.osm": (
        b'<?xml version="1.0"?>\n<osm version="0.6">\n <node id="1" lat="46.95" lon="7.45"/>\n'
        b' <node id="2" lat="46.951" lon="7.45"/>\n <way id="3"><nd ref="1"/><nd ref="2"/>'
        b'<tag k="highway" v="footway"/></way>\n</osm>\n',
        "paths.osm: no drivable road in the file",
    ),
    "empty.osm.pbf": (b"", "empty.osm.pbf: empty file"),
    "roads.txt": (b"x", "roads.txt: unknown road network format"),
    "broken.graphml": (b"<graphml><graph>", "broken.graphml:1:17: not GraphML"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_is_one_problem_naming_it(tmp_path: Path, name: str) -> None:
    content, expected = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(road_town(file=str(path)))
    assert len(caught.value.problems) == 1, str(caught.value)
    assert expected in str(caught.value)


def test_a_truncated_extract_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "cut.osm.pbf"
    path.write_bytes(HELSINKI_ROADS.read_bytes()[:20_000])
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(road_town(file=str(path)))
    assert "not a complete OpenStreetMap file" in str(caught.value)


def test_a_matrix_file_and_a_road_network_are_not_given_together(tmp_path: Path) -> None:
    data = road_town()
    data["travel"]["matrix_file"] = str(tmp_path / "travel.parquet")
    assert "give either travel.matrix_file or travel.road_network" in _problems(data)


def test_an_unknown_road_class_or_service_is_named() -> None:
    assert "speeds_kmh.footway" in _problems(road_town(speeds_kmh={"footway": 5}))
    assert "unknown service 'fire'" in _problems(road_town(time_factor={"fire": 0.8}))
