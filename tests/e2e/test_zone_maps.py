"""Zone maps: drawn only for results with zones, drawing what zones.csv says.

A small two-community region with three square zones each (inline polygons, travel from
locations) is compared once per module; Two Towns style results without zones draw none.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.colors import TwoSlopeNorm

from sim.cli.main import main
from sim.plots import iter_figures
from sim.plots.zones import (
    border_zones,
    difference_counts,
    difference_figure,
    map_service,
    p90_figure,
    read_layer,
    zone_shapes,
)
from sim.results.read import ResultData, load_result


def _square(x: float, y: float) -> list[list[float]]:
    return [[x - 1, y - 1], [x + 1, y - 1], [x + 1, y + 1], [x - 1, y + 1]]


def zoned_region() -> dict[str, Any]:
    """West and East, 8 km apart, three zones each; West's east zone lies next to East."""
    centres = {
        "w_west": ("west", -2.0, 0.0),
        "w_mid": ("west", 0.0, 0.0),
        "w_east": ("west", 6.0, 0.0),  # 1 km from East's station
        "e_west": ("east", 8.0, 2.0),
        "e_mid": ("east", 10.0, 0.0),
        "e_east": ("east", 12.0, 0.0),
    }
    return {
        "name": "Zoned pair",
        "communities": {
            "west": {"name": "Westby", "population": 20000, "location": {"x": 0, "y": 0}},
            "east": {"name": "Eastby", "population": 10000, "location": {"x": 7, "y": 0}},
        },
        "zones": {
            z: {
                "community": c,
                "location": {"x": x, "y": y},
                "weight": 100 + 10 * i,
                "polygon": _square(x, y),
            }
            for i, (z, (c, x, y)) in enumerate(centres.items())
        },
        "travel": {"speed_kmh": 50, "inside": {"west": 3, "east": 3}},
        "services": {
            "ambulance": {
                "name": "Ambulance",
                "units": [{"station": "west"}, {"station": "east"}],
            }
        },
        "incident_types": {
            "med": {
                "service": "ambulance",
                "priority": 1,
                "rate_per_1000": 150,
                "on_scene": {"dist": "exponential", "mean": 40},
                "target": {"minutes": 10, "share": 0.9},
            }
        },
        "options": {
            "separate": {"dispatch": {"ambulance": {"policy": "separate"}}},
            "pooled": {"dispatch": {"ambulance": {"policy": "pooled"}}},
        },
        "run": {"horizon": "20 d", "warmup": "1 d", "replications": 3, "seed": 5},
    }


@pytest.fixture(scope="module")
def zoned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("zoned")
    path = base / "zoned.yaml"
    path.write_text(yaml.safe_dump(zoned_region(), sort_keys=False), encoding="utf-8")
    out = base / "result"
    assert main(["compare", str(path), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def data(zoned: Path) -> ResultData:
    return load_result(zoned)


def zones_csv(root: Path) -> pd.DataFrame:
    return pd.read_csv(root / "zones.csv", dtype={"zone": str, "priority": str})


def test_zone_figures_exist_with_zones(zoned: Path) -> None:
    names = {p.stem for p in (zoned / "figures").glob("*.png")}
    assert {"zones_p90_ambulance", "zones_difference_ambulance", "zones_border"} <= names
    html = (zoned / "report.html").read_text(encoding="utf-8")
    assert '<section id="zones">' in html
    assert 'id="fig-zones_difference_ambulance"' in html


def test_no_zone_figures_with_one_zone_per_community(result_dir: Path) -> None:
    # the plot test region has no zones: one implicit zone per community, at its centre
    layer = gpd.read_file(result_dir / "zones.gpkg")
    assert layer.drop_duplicates("zone").groupby("community").size().max() == 1
    data = load_result(result_dir)
    assert read_layer(data) is None
    assert not [d for d in iter_figures(data) if d.name.startswith("zones_")]
    assert '<section id="zones">' not in (result_dir / "report.html").read_text(encoding="utf-8")


def test_no_zone_figures_without_the_layer(tmp_path: Path, zoned: Path) -> None:
    copy = tmp_path / "nolayer"
    shutil.copytree(zoned, copy, ignore=shutil.ignore_patterns("figures", "report.html"))
    (copy / "zones.gpkg").unlink()
    data = load_result(copy)
    assert read_layer(data) is None
    assert not [d for d in iter_figures(data) if d.name.startswith("zones_")]


def test_p90_map_draws_zones_csv(data: ResultData, zoned: Path) -> None:
    layer = read_layer(data)
    assert map_service(data, layer) == "ambulance"
    shapes = zone_shapes(data, layer)
    assert list(shapes["zone"]) == ["w_west", "w_mid", "w_east", "e_west", "e_mid", "e_east"]
    fig = p90_figure(data, layer, "ambulance")
    assert fig is not None
    z = zones_csv(zoned)
    z = z[(z["service"] == "ambulance") & (z["priority"] == "all")]
    for opt in data.options:
        coll = next(
            c for ax in fig.axes for c in ax.collections if c.get_gid() == f"zones:p90:{opt}"
        )
        assert coll.get_rasterized()
        drawn = np.asarray(coll.get_array())
        expect = z[z["option"] == opt].set_index("zone").reindex(shapes["zone"])["p90_response"]
        np.testing.assert_allclose(
            drawn, expect.dropna().to_numpy(), rtol=1e-5
        )  # zones.csv keeps 6 significant digits
        # one colour scale shared by every panel
        assert coll.norm.vmin == 0.0
    norms = {
        (c.norm.vmin, c.norm.vmax)
        for ax in fig.axes
        for c in ax.collections
        if str(c.get_gid()).startswith("zones:p90:")
    }
    assert len(norms) == 1


def test_difference_map_centred_on_zero_and_greys_non_significant(
    data: ResultData, zoned: Path
) -> None:
    layer = read_layer(data)
    shapes = zone_shapes(data, layer)
    fig = difference_figure(data, layer, "ambulance")
    assert fig is not None
    z = zones_csv(zoned)
    z = z[(z["service"] == "ambulance") & (z["priority"] == "all")]
    others = [o for o in data.options if o != data.baseline]
    for opt in others:
        colls = {str(c.get_gid()): c for ax in fig.axes for c in ax.collections}
        coll = colls[f"zones:diff:{opt}"]
        assert isinstance(coll.norm, TwoSlopeNorm)
        assert coll.norm.vcenter == 0.0
        assert coll.norm.vmin == -coll.norm.vmax
        rows = z[z["option"] == opt].set_index("zone").reindex(shapes["zone"])
        sig = rows["verdict_p90_response"].isin(["better", "worse"])
        np.testing.assert_allclose(
            np.asarray(coll.get_array()), rows.loc[sig, "diff_p90_response"].to_numpy(), rtol=1e-5
        )
        grey = colls[f"zones:notsig:{opt}"]
        assert len(grey.get_paths()) == int((~sig & rows["diff_p90_response"].notna()).sum())


def test_difference_caption_counts_from_zones_csv(data: ResultData, zoned: Path) -> None:
    drawn = {d.name: d for d in iter_figures(data)}
    caption = drawn["zones_difference_ambulance"].caption
    z = zones_csv(zoned)
    z = z[(z["service"] == "ambulance") & (z["priority"] == "all")]
    layer = read_layer(data)
    for opt in data.options:
        if opt == data.baseline:
            continue
        rows = z[z["option"] == opt]
        better = int((rows["verdict_p90_response"] == "better").sum())
        worse = int((rows["verdict_p90_response"] == "worse").sum())
        assert (
            f"{opt} cuts the 90th percentile response in {better} of {len(rows)} zones" in caption
        )
        assert f"lengthens it in {worse}" in caption
        counts = difference_counts(data, layer, "ambulance", opt)
        assert int(counts["better"].sum()) == better
        if better:
            top = rows.loc[rows["verdict_p90_response"] == "better", "community"].value_counts()
            name = data.community_name(str(top.index[0]))
            assert f"{better} of {len(rows)} zones with calls, most in {name}" in caption


def test_border_map_and_caption(data: ResultData) -> None:
    border = border_zones(data)
    # West's east zone lies 1 km from East's station, 6 km from its own
    assert list(border["id"]) == ["w_east"]
    assert list(border["closest_station_community"]) == ["east"]
    drawn = {d.name: d for d in iter_figures(data)}
    cap = drawn["zones_border"].caption
    assert cap.startswith("1 of 6 zones (")
    weights = {z["id"]: z["weight"] for z in data.region["zones"]}  # type: ignore[index]
    share = weights["w_east"] / sum(weights.values())
    assert f"({share:.0%} of the demand weight)" in cap
    assert "1 zones of Westby nearest to Eastby's station" in cap
    fig = drawn["zones_border"].figure
    colls = {str(c.get_gid()): c for ax in fig.axes for c in ax.collections}
    assert len(colls["zones:border"].get_paths()) == 1
