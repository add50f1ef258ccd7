"""Zone maps of a scenario on a road network draw its roads, from the same extract, beneath
every zone map; results without a road network draw none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import pytest
import yaml

from sim.cli.main import main
from sim.plots import iter_figures
from sim.plots.zones import read_roads
from sim.results.read import load_result
from sim.schema.roadfile import read_road_file
from tests.builders import GRID_TOWN, road_town


@pytest.fixture(scope="module")
def road_result(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("roads")
    path = base / "roads.yaml"
    path.write_text(yaml.safe_dump(road_town(), sort_keys=False), encoding="utf-8")
    out = base / "result"
    assert main(["compare", str(path), "--out", str(out)]) == 0
    return out


def test_the_zone_layer_holds_the_roads_by_class(road_result: Path) -> None:
    layers = {str(name) for name, _ in pyogrio.list_layers(road_result / "zones.gpkg")}
    assert layers == {"zones", "roads"}
    roads = read_roads(load_result(road_result))
    assert roads is not None
    segments = sum(len(s) for s, _ in roads)
    assert segments == len(read_road_file(str(GRID_TOWN)).u), "every drivable segment"
    assert [major for _, major in roads].count(True) == 1, "the primary road is drawn wider"


def test_every_zone_map_draws_the_roads(road_result: Path) -> None:
    data = load_result(road_result)
    maps = [d for d in iter_figures(data) if d.name.startswith("zones_")]
    assert {d.name for d in maps} >= {"zones_p90_amb", "zones_difference_amb"}
    for drawn in maps:
        gids = {a.get_gid() for ax in drawn.figure.axes for a in ax.collections}
        assert "roads" in gids, f"{drawn.name} should draw the road network"
    xy = np.concatenate([s.reshape(-1, 2) for s, _ in read_roads(data) or []])
    assert np.ptp(xy[:, 0]) == pytest.approx(1.5, abs=0.05), "km in the scenario's frame"


def test_results_without_a_road_network_have_no_roads(result_dir: Path) -> None:
    assert read_roads(load_result(result_dir)) is None
