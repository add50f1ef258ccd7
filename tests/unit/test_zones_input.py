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
from sim.model.travel import TRIP_DTYPE
from sim.schema import load_scenario, scenario_from_dict
from sim.schema.scenario import ZoneFile

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


# --------------------------------------------------------------------------- zone files

LL_BASE = {
    "north": {"population": 20000, "location": {"lat": 46.52, "lon": 6.63}},
    "south": {"population": 10000, "location": {"lat": 46.42, "lon": 6.64}},
}


def lonlat(**changes: Any) -> dict[str, Any]:
    """The base scenario with communities on lat/lon (near Lausanne)."""
    return scenario(communities=copy.deepcopy(LL_BASE), **changes)


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def zone_frame(crs: str | None = "EPSG:4326", polygons: bool = False) -> Any:
    """Three zones near Lausanne: two in north, one in south; 1 km squares in LV95 when
    ``polygons`` (then in EPSG:2056)."""
    import geopandas as gpd
    import shapely

    data = {
        "id": [1391, 1392, 1400],
        "community": ["north", "north", "south"],
        "residents": [1200, 800, 500],
    }
    if polygons:
        corners = [(2538000, 1152000), (2540000, 1152000), (2539000, 1141000)]
        shapes = [shapely.box(x, y, x + 1000, y + 1000) for x, y in corners]
        return gpd.GeoDataFrame(data, geometry=shapes, crs="EPSG:2056")
    points = gpd.points_from_xy([6.62, 6.64, 6.64], [46.52, 46.53, 46.42])
    return gpd.GeoDataFrame(data, geometry=points, crs=crs)


def to_file(gdf: Any, path: Path, **kwargs: Any) -> Path:
    import warnings

    with warnings.catch_warnings():  # writing a file without a CRS warns; that is the point
        warnings.simplefilter("ignore", UserWarning)
        gdf.to_file(path, **kwargs)
    return path


def geo_of(data: dict[str, Any], tmp_path: Path) -> Any:
    from sim.schema.geography import geography

    return geography(load_scenario(write(tmp_path, data)))


def test_inline_zones_are_grouped_by_community(tmp_path: Path) -> None:
    zones = {
        "s1": {"community": "south", "location": {"x": 0, "y": -11}, "weight": 5},
        "n1": {"community": "north", "location": {"x": 1, "y": 0}, "weight": 2},
        "n2": {"community": "north", "location": {"x": -1, "y": 0}, "weights": {"blaze": 4}},
    }
    geo = geo_of(scenario(zones=zones), tmp_path)
    assert geo.places == ("north", "south", "n1", "n2", "s1")
    assert geo.zones.community == ("north", "north", "south")
    assert geo.zones.weight.tolist() == [2.0, 1.0, 5.0]
    assert np.isnan(geo.zones.weights["blaze"][[0, 2]]).all()
    assert geo.zones.weights["blaze"][1] == 4
    assert geo.xy[2:].tolist() == [[1.0, 0.0], [-1.0, 0.0], [0.0, -11.0]]
    assert geo.frame.planar


def test_csv_zones_in_km_keep_their_codes_as_text(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "zones.csv",
        "id,community,x,y,weight,fires\n01391,north,0.5,0.5,1200,3\nn2,north,-0.5,1,800,\n"
        "1400,south,0,-12,500,1\n",
    )
    data = scenario(zones={"file": "zones.csv", "weights": {"blaze": "fires"}})
    geo = geo_of(data, tmp_path)
    assert geo.zones.ids == ("01391", "n2", "1400")
    assert geo.zones.weight.tolist() == [1200, 800, 500]
    fires = geo.zones.weights["blaze"]
    assert fires[0] == 3
    assert np.isnan(fires[1])
    assert fires[2] == 1
    assert geo.xy[-3:].tolist() == [[0.5, 0.5], [-0.5, 1.0], [0.0, -12.0]]


def test_csv_lonlat_is_projected_to_one_km_frame(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "zones.csv",
        "id,community,lon,lat\nn1,north,6.62,46.52\nn2,north,6.64,46.53\ns1,south,6.64,46.42\n",
    )
    geo = geo_of(lonlat(zones={"file": "zones.csv"}), tmp_path)
    lon0, lat0 = geo.frame.centre
    assert lon0 == pytest.approx(np.mean([6.63, 6.64, 6.62, 6.64, 6.64]))
    assert lat0 == pytest.approx(np.mean([46.52, 46.42, 46.52, 46.53, 46.42]))
    # the communities and zones sit where a geodesic says they are
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    _, _, metres = geod.inv(6.63, 46.52, 6.64, 46.42)
    north, south = geo.xy[0], geo.xy[1]
    assert np.hypot(*(north - south)) == pytest.approx(metres / 1000, rel=1e-4)
    assert geo.source_crs == "EPSG:4326"


def test_a_point_one_km_east_is_one_km_from_the_centre() -> None:
    from pyproj import Geod

    from sim.schema.geo import LONLAT, frame_centred

    lon0, lat0 = 8.5, 47.4
    east_lon, east_lat, _ = Geod(ellps="WGS84").fwd(lon0, lat0, 90, 1000)
    frame = frame_centred(np.array([lon0 - 0.1, lon0 + 0.1]), np.array([lat0, lat0]))
    x, y = frame.project(np.array([lon0, east_lon]), np.array([lat0, east_lat]), LONLAT)
    assert (x[0], y[0]) == pytest.approx((0, 0), abs=1e-9)
    assert (x[1], y[1]) == pytest.approx((1.0, 0.0), abs=1e-6)


def test_lonlat_distances_come_from_the_projection() -> None:
    from pyproj import Geod

    from sim.model.travel import distance_km
    from sim.schema.scenario import Location

    a, b = Location(lat=46.52, lon=6.63), Location(lat=46.02, lon=7.13)
    _, _, metres = Geod(ellps="WGS84").inv(6.63, 46.52, 7.13, 46.02)
    assert distance_km(a, b) == pytest.approx(metres / 1000, rel=1e-5)


def test_geojson_points(tmp_path: Path) -> None:
    to_file(zone_frame(), tmp_path / "zones.geojson", driver="GeoJSON")
    geo = geo_of(lonlat(zones={"file": "zones.geojson", "weight": "residents"}), tmp_path)
    assert geo.zones.ids == ("1391", "1392", "1400")
    assert geo.zones.weight.tolist() == [1200, 800, 500]
    assert geo.zones.geometry is None  # points only
    assert np.isnan(geo.zones.area_km2).all()


def test_geopackage_polygons_give_location_and_area(tmp_path: Path) -> None:
    import shapely

    to_file(zone_frame(polygons=True), tmp_path / "zones.gpkg", layer="zones", driver="GPKG")
    geo = geo_of(lonlat(zones={"file": "zones.gpkg"}), tmp_path)
    assert geo.zones.area_km2 == pytest.approx([1.0, 1.0, 1.0], rel=2e-3)
    shapes = geo.zones.geometry
    assert shapes is not None
    assert len(shapes) == 3
    assert all(shapely.contains_xy(shapes.iloc[i], *geo.zones.xy[i]) for i in range(3))
    assert geo.source_crs == "EPSG:2056"
    # neighbouring squares of LV95 stay 1 km apart in the scenario's frame
    assert np.hypot(*(geo.zones.xy[0] - geo.zones.xy[1])) == pytest.approx(2.0, rel=2e-3)


def test_geopackage_with_several_layers_needs_a_layer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = to_file(zone_frame(polygons=True), tmp_path / "zones.gpkg", layer="zones")
    to_file(zone_frame(polygons=True), path, layer="old")
    line = fails(write(tmp_path, lonlat(zones={"file": "zones.gpkg"})), capsys)
    assert "zones.gpkg: several layers (zones, old): name one with `layer:`" in line
    geo = geo_of(lonlat(zones={"file": "zones.gpkg", "layer": "old"}), tmp_path)
    assert len(geo.zones.ids) == 3


def test_shapefile_with_a_crs(tmp_path: Path) -> None:
    to_file(zone_frame(crs="EPSG:4326"), tmp_path / "zones.shp")
    geo = geo_of(lonlat(zones={"file": "zones.shp"}), tmp_path)
    assert geo.zones.ids == ("1391", "1392", "1400")


def test_geo_file_without_crs_and_lonlat_values_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    to_file(zone_frame(crs=None), tmp_path / "zones.shp")
    line = fails(write(tmp_path, lonlat(zones={"file": "zones.shp"})), capsys)
    assert line.startswith("zones.shp: no CRS") or "/zones.shp: no CRS" in line
    assert "look like longitude/latitude; declare `crs: EPSG:4326`" in line
    geo = geo_of(lonlat(zones={"file": "zones.shp", "crs": "EPSG:4326"}), tmp_path)
    assert not geo.frame.planar


def test_geo_file_in_km_without_crs_is_planar(tmp_path: Path) -> None:
    import geopandas as gpd

    gdf = zone_frame(crs=None)
    gdf.geometry = gpd.points_from_xy([0.5, -30.0, 20.0], [0.5, 1.0, -12.0])
    to_file(gdf, tmp_path / "zones.shp")
    geo = geo_of(scenario(zones={"file": "zones.shp"}), tmp_path)
    assert geo.frame.planar
    assert geo.zones.xy[0].tolist() == [0.5, 0.5]


def test_zones_without_community_are_joined_to_boundaries(tmp_path: Path) -> None:
    import shapely

    gdf = zone_frame(polygons=True).drop(columns="community")
    to_file(gdf, tmp_path / "zones.gpkg")
    bounds = gdf.iloc[:0].copy()
    bounds = type(gdf)(
        {"name": ["north", "south"]},
        geometry=[
            shapely.box(2537000, 1150000, 2543000, 1156000),
            shapely.box(2537000, 1138000, 2543000, 1145000),
        ],
        crs="EPSG:2056",
    )
    to_file(bounds, tmp_path / "communes.geojson", driver="GeoJSON")
    data = lonlat(
        zones={"file": "zones.gpkg"}, boundaries={"file": "communes.geojson", "id": "name"}
    )
    geo = geo_of(data, tmp_path)
    assert geo.zones.community == ("north", "north", "south")
    assert list(geo.boundaries.index) == ["north", "south"]


def test_zone_in_no_boundary_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shapely

    gdf = zone_frame(polygons=True).drop(columns="community")
    to_file(gdf, tmp_path / "zones.gpkg")
    bounds = type(gdf)(
        {"id": ["north"]},
        geometry=[shapely.box(2537000, 1150000, 2543000, 1156000)],
        crs="EPSG:2056",
    )
    to_file(bounds, tmp_path / "communes.gpkg")
    data = lonlat(zones={"file": "zones.gpkg"}, boundaries={"file": "communes.gpkg"})
    line = fails(write(tmp_path, data), capsys)
    assert "zones.gpkg: feature 3: zone '1400' lies in no community boundary" in line


def test_boundary_of_an_unknown_community(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shapely

    gdf = zone_frame(polygons=True)
    bounds = type(gdf)(
        {"id": ["north", "west"]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
        crs="EPSG:2056",
    )
    to_file(bounds, tmp_path / "communes.gpkg")
    line = fails(write(tmp_path, lonlat(boundaries={"file": "communes.gpkg"})), capsys)
    assert "communes.gpkg: feature 2: unknown community 'west'" in line


def test_csv_zone_with_unknown_community(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_csv(tmp_path / "zones.csv", "id,community,x,y\nn1,north,0,0\nw1,west,5,5\n")
    line = fails(write(tmp_path, scenario(zones={"file": "zones.csv"})), capsys)
    assert line.endswith("zones.csv:3: unknown community 'west' (known: north, south)")


def test_inline_zone_with_unknown_community(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zones = {"w1": {"community": "west", "location": {"x": 5, "y": 5}}}
    line = fails(write(tmp_path, scenario(zones=zones)), capsys)
    assert "zones.w1: unknown community 'west'" in line


def test_zone_without_community_needs_boundaries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zones = {"z1": {"location": {"x": 5, "y": 5}}}
    line = fails(write(tmp_path, scenario(zones=zones)), capsys)
    assert "zones.z1: no community: give one, or `boundaries` to find it by location" in line


def test_zone_id_that_is_already_a_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zones = {"south": {"community": "south", "location": {"x": 5, "y": 5}}}
    line = fails(write(tmp_path, scenario(zones=zones)), capsys)
    assert "zones.south: zone 'south' is already a community" in line


def test_weights_of_an_unknown_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_csv(tmp_path / "zones.csv", "id,community,x,y,f\nn1,north,0,0,1\n")
    line = fails(
        write(tmp_path, scenario(zones={"file": "zones.csv", "weights": {"flood": "f"}})), capsys
    )
    assert (
        "zones.weights.flood: weights for 'flood', which is neither a service nor an incident type"
        in line
    )


def test_zones_that_all_weigh_nothing_for_a_demanded_type(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zones = {
        "n1": {"community": "north", "location": {"x": 1, "y": 0}, "weights": {"fire": 0}},
        "n2": {"community": "north", "location": {"x": -1, "y": 0}, "weights": {"fire": 0}},
    }
    line = fails(write(tmp_path, scenario(zones=zones)), capsys)
    assert "every zone of 'north' weighs 0 for 'blaze', which has demand there" in line
    zones["n2"]["weights"]["blaze"] = 1  # the type's own weight beats its service's
    passes(write(tmp_path, scenario(zones=zones)), capsys)


def test_burst_zone_must_be_in_the_burst_community(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zones = {"n1": {"community": "north", "location": {"x": 1, "y": 0}}}
    burst = {"name": "crash", "time": "2 d", "community": "south", "type": "medical", "count": 5}
    line = fails(write(tmp_path, scenario(zones=zones, bursts=[{**burst, "zone": "n1"}])), capsys)
    assert "bursts.0.zone: zone 'n1' is in 'north', not in 'south'" in line
    line = fails(write(tmp_path, scenario(zones=zones, bursts=[{**burst, "zone": "n9"}])), capsys)
    assert "bursts.0.zone: unknown zone of 'south' 'n9' (known: south)" in line
    passes(write(tmp_path, scenario(zones=zones, bursts=[{**burst, "zone": "south"}])), capsys)


def test_planar_places_and_lonlat_zones_do_not_mix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_csv(tmp_path / "zones.csv", "id,community,lon,lat\nn1,north,6.62,46.52\n")
    line = fails(write(tmp_path, scenario(zones={"file": "zones.csv"})), capsys)
    assert (
        "zones.file: the file's coordinates are lon/lat or a CRS, unlike the other places" in line
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "id,community,x,y\nn1,north,0,0\nn1,north,1,1\n",
            ":3: zone 'n1' given twice (first at line 2)",
        ),
        ("id,community,x,y\nn1,north,zero,0\n", ":2: x is not a finite number (got 'zero')"),
        ("id,community,x,y\nn1,north,0,inf\n", ":2: y is not a finite number (got 'inf')"),
        ("id,community,x,y,weight\nn1,north,0,0,-3\n", ":2: weight -3 is negative"),
        ("id,community,x,y,weight\nn1,north,0,0,\n", ":2: no weight"),
        ("id,community,x,y\nn/1,north,0,0\n", ":2: zone id 'n/1' is not a valid id"),
        ("id,community,x,y\n,north,0,0\n", ":2: no zone id"),
        ("zone,community,x,y\nn1,north,0,0\n", ": no column 'id' for the zone ids"),
        (
            "id,community,east,north\nn1,north,0,0\n",
            ": no coordinates: expected columns 'x' and 'y'",
        ),
        ("id;community;x;y\nn1;north;0;0\n", ": columns are separated by ';'"),
        ("", ": empty file"),
    ],
)
def test_bad_zone_csv(
    text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_csv(tmp_path / "zones.csv", text)
    line = fails(write(tmp_path, scenario(zones={"file": "zones.csv"})), capsys)
    assert f"zones.csv{message}" in line


def test_bad_rows_are_counted_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = "".join(f"n{i},north,0,0,-1\n" for i in range(5))
    write_csv(tmp_path / "zones.csv", "id,community,x,y,weight\n" + rows)
    line = fails(write(tmp_path, scenario(zones={"file": "zones.csv"})), capsys)
    assert "zones.csv:2: weight -1 is negative (and 4 more row(s))" in line


def test_missing_zone_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = fails(write(tmp_path, scenario(zones={"file": "nowhere.csv"})), capsys)
    assert line.endswith("nowhere.csv: no such file")


def test_unknown_crs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_csv(tmp_path / "zones.csv", "id,community,x,y\nn1,north,0,0\n")
    line = fails(
        write(tmp_path, scenario(zones={"file": "zones.csv", "crs": "EPSG:99999"})), capsys
    )
    assert "unknown CRS 'EPSG:99999'" in line


def test_data_paths_are_relative_to_the_scenario_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "region"
    (folder / "data").mkdir(parents=True)
    write_csv(folder / "data" / "zones.csv", "id,community,x,y\nn1,north,0,0\n")
    path = write(folder, scenario(zones={"file": "data/zones.csv"}))
    monkeypatch.chdir(tmp_path)
    s = load_scenario(Path("region") / path.name)
    assert isinstance(s.zones, ZoneFile)
    assert s.zones.file == str(folder / "data" / "zones.csv")
    monkeypatch.chdir(folder / "data")  # a self-contained scenario: runs from anywhere
    again = scenario_from_dict(s.model_dump(mode="json"))
    assert compile_region(again).places[-1] == "n1"


def test_zone_files_are_read_once(tmp_path: Path) -> None:
    import os

    from sim.schema.zonefile import read_zone_file

    path = write_csv(tmp_path / "zones.csv", "id,community,x,y\nn1,north,0,0\n")
    spec = ZoneFile(file=str(path))
    first = read_zone_file(spec)
    assert read_zone_file(ZoneFile(file=str(path))) is first
    path.write_text("id,community,x,y\nn1,north,0,0\nn2,north,1,1\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a new modification time, whatever the clock's resolution
    assert read_zone_file(spec).ids == ("n1", "n2")


# --------------------------------------------------------------------------- compiled region

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


def _old_travel(s: Any) -> np.ndarray:
    """The travel matrix as intersim built it before zones: a loop over pairs of places."""
    import math

    places: dict[str, Any] = {c: com.location for c, com in s.communities.items()}
    for group in (s.stations, s.facilities):
        places.update({p: site.location for p, site in group.items() if site.location})
    ids = list(places)
    m = np.full((len(ids), len(ids)), np.nan)
    for i, a in enumerate(ids):
        for j in range(i, len(ids)):
            b = ids[j]
            given = s.travel.matrix.get(a, {}).get(b, s.travel.matrix.get(b, {}).get(a))
            if given is None and i == j:
                com = s.communities.get(a)
                if a in s.travel.inside:
                    given = s.travel.inside[a]
                elif com is not None:
                    radius = math.sqrt(com.area_km2 / math.pi)
                    given = 2 * radius / 3 * s.travel.detour_factor / s.travel.speed_kmh * 60.0
                else:
                    given = 0.0
            if given is None:
                la, lb = places[a], places[b]
                d = math.hypot(la.x - lb.x, la.y - lb.y)
                given = d * s.travel.detour_factor / s.travel.speed_kmh * 60.0
            m[i, j] = m[j, i] = given
    return m


UNZONED = [
    p for p in SHIPPED if not p.stem.startswith("five_valleys") and p.stem != "helsinki_roads"
]  # zoned: both Five Valleys and the road example


def test_zoned_five_valleys_keeps_its_community_travel() -> None:
    s = load_scenario(ROOT / "scenarios" / "five_valleys.yaml")
    region = compile_region(s)
    old = _old_travel(s)
    n = len(old)
    assert np.array_equal(region.travel[:n, :n], old), "centres, hub: the table as before"
    assert region.explicit_zones
    assert len(region.zone_ids) == 327


@pytest.mark.parametrize("path", UNZONED, ids=[p.stem for p in UNZONED])
def test_shipped_scenarios_compile_as_before(path: Path) -> None:
    s = load_scenario(path)
    region = compile_region(s)
    assert np.array_equal(region.travel, _old_travel(s))
    n = len(region.communities)
    assert region.zone_ids == region.communities
    assert region.zone_place.tolist() == list(range(n))
    assert region.zone_community.tolist() == list(range(n))
    assert np.array_equal(region.zone_weight, region.population)
    assert not region.explicit_zones
    for c in range(n):
        for k in range(len(region.types)):
            zones, probs = region.zone_choice[c][k]
            assert (zones.tolist(), probs.tolist()) == ([c], [1.0])
    assert region.places[:n] == region.communities


def test_derived_travel_equals_the_pairwise_definition() -> None:
    rng = np.random.default_rng(3)
    communities = {
        f"c{i}": {
            "population": 1000 + i,
            "location": {"x": float(x), "y": float(y)},
            "area_km2": float(a),
        }
        for i, (x, y, a) in enumerate(rng.uniform(1, 40, (25, 3)))
    }
    stations = {f"s{i}": {"location": {"x": float(i), "y": 2.0 * i}} for i in range(5)}
    data = scenario(
        communities=communities,
        stations=stations,
        travel={"speed_kmh": 55, "detour_factor": 1.4, "matrix": {"c1": {"c2": 3, "c1": 2}}},
    )
    data["services"] = {"ambulance": {"units": [{"station": "c0"}]}}
    data["services"]["ambulance"]["units"] += [
        {"station": f"s{i}", "owner": "c0"} for i in range(5)
    ]
    data["incident_types"] = {
        "medical": {"service": "ambulance", "rate_per_1000": 1, "on_scene": 9}
    }
    s = scenario_from_dict(data)
    region = compile_region(s)
    old = _old_travel(s)
    # kept in single precision (TRIP_DTYPE): hypot may differ by an ulp, then rounds once
    assert np.allclose(region.travel, old, rtol=2.0**-24, atol=0)
    assert np.array_equal(np.diag(region.travel), np.diag(old).astype(TRIP_DTYPE))
    assert region.place_xy[0].tolist() == [
        communities["c0"]["location"]["x"],
        communities["c0"]["location"]["y"],
    ]


def _zoned() -> dict[str, Any]:
    zones = {
        "n1": {"community": "north", "location": {"x": 1, "y": 0}, "weight": 3},
        "n2": {
            "community": "north",
            "location": {"x": -1, "y": 0},
            "weight": 1,
            "weights": {"fire": 6, "medical": 0},
        },
        "n3": {
            "community": "north",
            "location": {"x": 0, "y": 1},
            "weight": 0,
            "weights": {"blaze": 2},
        },
    }
    return scenario(zones=zones)


def test_zone_choice_probabilities_follow_type_then_service_then_base_weight() -> None:
    region = compile_region(scenario_from_dict(_zoned()))
    assert region.zone_ids == ("n1", "n2", "n3", "south")
    north, south = 0, 1
    medical, blaze = 0, 1
    zones, probs = region.zone_choice[north][medical]
    assert zones.tolist() == [0, 1, 2]
    assert probs.tolist() == [1.0, 0.0, 0.0]  # n2's medical weight 0 wins over its base 1
    zones, probs = region.zone_choice[north][blaze]
    assert probs == pytest.approx([3 / 11, 6 / 11, 2 / 11])  # n2 by its service, n3 by type
    assert region.zone_choice[south][medical][0].tolist() == [3]
    assert region.zone_choice[south][medical][1].tolist() == [1.0]
    assert region.explicit_zones
    assert region.zone_community.tolist() == [0, 0, 0, 1]
    assert region.zone_weight.tolist() == [3, 1, 0, 10000]
    # places: communities, then zones; the implicit zone is its community's place
    assert region.places == ("north", "south", "n1", "n2", "n3")
    assert region.zone_place.tolist() == [2, 3, 4, 1]
    assert region.place_of["n2"] == 3
    assert region.place_of["south"] == 1
    assert region.place_xy[2:].tolist() == [[1, 0], [-1, 0], [0, 1]]
    assert region.community_kinds == ("suburban", "suburban")


def test_zone_choice_draws_match_the_weights() -> None:
    """A chi-square check that drawing by zone_choice gives the weights' proportions."""
    from scipy.stats import chisquare

    region = compile_region(scenario_from_dict(_zoned()))
    zones, probs = region.zone_choice[0][1]
    draws = np.random.default_rng(11).choice(zones, size=20_000, p=probs)
    counts = np.bincount(draws, minlength=3)[:3]
    assert chisquare(counts, probs * counts.sum()).pvalue > 1e-3


def test_zone_travel_inside_a_polygon() -> None:
    data = _zoned()
    data["zones"]["n1"]["polygon"] = [[0, -1], [2, -1], [2, 1], [0, 1]]  # 4 km²
    region = compile_region(scenario_from_dict(data))
    n1 = region.place_of["n1"]
    radius = np.sqrt(4 / np.pi)
    assert region.travel[n1, n1] == pytest.approx(2 * radius / 3 * 1.3 / 60 * 60)
    assert region.travel[region.place_of["n2"], region.place_of["n2"]] == 0


def test_nearest_facility_of_each_kind_from_each_zone() -> None:
    data = _zoned()
    data["facilities"] = {
        "west": {"kind": "hospital", "location": {"x": -3, "y": 0}},
        "east": {"kind": "hospital", "location": {"x": 3, "y": -1}},
        "yard": {"kind": "depot", "community": "south"},
    }
    region = compile_region(scenario_from_dict(data))
    west, east = region.place_of["west"], region.place_of["east"]
    assert region.nearest_facility["hospital"].tolist() == [east, west, west, east]
    assert region.nearest_facility["depot"].tolist() == [region.place_of["south"]] * 4


def test_burst_zone_named_or_the_heaviest() -> None:
    data = _zoned()
    burst = {"name": "crash", "time": "2 d", "community": "north", "type": "medical", "count": 3}
    data["bursts"] = [burst, {**burst, "zone": "n2"}, {**burst, "community": "south"}]
    bursts = compile_region(scenario_from_dict(data)).bursts
    assert [b.zone for b in bursts] == [0, 1, 3]


def test_return_settings_are_compiled() -> None:
    travel = {**BASE["travel"], "return_speed_factor": 0.95, "return_position": "interpolate"}
    region = compile_region(scenario_from_dict(scenario(travel=travel)))
    assert (region.return_speed_factor, region.return_position) == (0.95, "interpolate")


def test_zone_table_of_points_and_polygons(tmp_path: Path) -> None:
    from sim.model.zones import zone_table

    table = zone_table(scenario_from_dict(_zoned()))
    assert table.ids == ("n1", "n2", "n3", "south")
    assert table.community == ("north", "north", "north", "south")
    assert table.explicit.tolist() == [True, True, True, False]
    assert table.x.tolist() == [1, -1, 0, 0]
    assert table.y.tolist() == [0, 0, 1, -12]
    assert table.geometry is None
    assert table.crs is None
    assert table.source_crs is None
    assert np.isnan(table.weights["fire"][[0, 2, 3]]).all()
    assert table.weights["fire"][1] == 6
    assert list(table.frame().columns) == [
        "zone",
        "community",
        "x_km",
        "y_km",
        "weight",
        "explicit",
        "weight_blaze",
        "weight_fire",
        "weight_medical",
    ]
    to_file(zone_frame(polygons=True), tmp_path / "zones.gpkg")
    table = zone_table(load_scenario(write(tmp_path, lonlat(zones={"file": "zones.gpkg"}))))
    assert table.source_crs == "EPSG:2056"
    assert table.geometry is not None
    assert table.geometry.area.tolist() == pytest.approx([1, 1, 1], rel=2e-3)
    assert table.geometry.crs == table.crs
    back = table.geometry.to_crs(table.source_crs)  # the outlines go back to the file's CRS
    assert back.iloc[0].bounds == pytest.approx((2538000, 1152000, 2539000, 1153000), abs=0.01)
