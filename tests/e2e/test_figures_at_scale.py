"""Figures of a large region stay small and readable: 200 communities and 1,000 zones.

Every figure kind is drawn from one comparison of ``grid_region`` (tables, region.json and
zones.gpkg: the workbook and the report are left out, they are not figures). Sizes are
checked, never times: ``python -m benchmarks`` times the figure stage.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.comparison import output
from sim.comparison.compare import compare
from sim.plots import iter_figures
from sim.plots.aggregate import MAX_COMMUNITIES, OTHERS, fold, top
from sim.plots.map import MAX_ARROWS, MAX_LABELLED
from sim.plots.style import save
from sim.results.derived import help_matrix
from sim.results.read import ResultData, load_result
from sim.schema import load_scenario
from tests.builders import grid_region

MAX_SVG = 2 * 2**20
MAX_PNG = 2**20
KINDS = {
    "help_heatmap",
    "map_help",
    "zones_p90_ambulance",
    "zones_difference_ambulance",
    "zones_border",
    "equity_within_target",
    "costs_shares",
}


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> ResultData:
    tmp = tmp_path_factory.mktemp("large")
    path = tmp / "grid.yaml"
    path.write_text(yaml.safe_dump(grid_region(), sort_keys=False), encoding="utf-8")
    scenario = load_scenario(path)
    with pytest.MonkeyPatch.context() as mp:  # tables only: the figures are drawn below
        for name in ("write_workbook", "draw_figures", "build_report"):
            mp.setattr(output, name, lambda *_args, **_kw: None)
        output.write_comparison(
            compare(scenario),
            tmp / "result",
            scenario_file=path,
            command="test",
            started=datetime.now(UTC),
            seconds=1.0,
            scenario=scenario,
        )
    return load_result(tmp / "result")


@pytest.fixture(scope="module")
def drawn(large: ResultData, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Every figure: the figure itself, and the sizes of its files."""
    out = tmp_path_factory.mktemp("figures")
    figures = {}
    for d in iter_figures(large):
        png, svg = save(d.figure, out, d.name)
        figures[d.name] = {
            "figure": d.figure,
            "caption": d.caption,
            "svg": svg.stat().st_size,
            "png": png.stat().st_size,
        }
    return figures


@pytest.mark.slow
def test_the_region_is_large(large: ResultData) -> None:
    assert len(large.communities) == 200
    assert len((large.region or {})["zones"]) == 1000


@pytest.mark.slow
def test_every_figure_kind_is_drawn_and_small(drawn: dict[str, dict]) -> None:
    assert set(drawn) >= KINDS, f"missing: {KINDS - set(drawn)}"
    for name, d in drawn.items():
        assert d["svg"] < MAX_SVG, f"{name}.svg is {d['svg'] / 2**20:.1f} MiB (< 2 MiB)"
        assert d["png"] < MAX_PNG, f"{name}.png is {d['png'] / 2**20:.1f} MiB (< 1 MiB)"


@pytest.mark.slow
def test_the_help_heat_map_folds_the_others(large: ResultData, drawn: dict[str, dict]) -> None:
    fig = drawn["help_heatmap"]["figure"]
    images = {im.get_gid(): im for ax in fig.axes for im in ax.get_images() if im.get_gid()}
    assert set(images) == {f"help:{o}" for o in large.options}
    for gid, im in images.items():
        shown = np.ma.getdata(im.get_array())
        assert shown.shape == (MAX_COMMUNITIES + 1, MAX_COMMUNITIES + 1), "top N and others"
        full = help_matrix(large, gid.split(":")[1])
        assert shown.sum() == pytest.approx(full.to_numpy().sum()), "every unit-hour is kept"
    assert "the other 188 summed as one" in drawn["help_heatmap"]["caption"]


@pytest.mark.slow
def test_the_help_map_draws_the_largest_flows_and_names(
    large: ResultData, drawn: dict[str, dict]
) -> None:
    fig = drawn["map_help"]["figure"]
    for opt in large.options:
        arrows = [
            p for ax in fig.axes for p in ax.patches if str(p.get_gid()).startswith(f"flow:{opt}:")
        ]
        assert len(arrows) <= MAX_ARROWS
    labels = [t for t in fig.axes[0].texts if t.get_text().startswith("Town")]
    assert len(labels) == MAX_LABELLED
    layers = [c for c in fig.axes[0].collections if c.get_gid() == "communities"]
    assert len(layers) == 1, "many communities: one layer of dots"
    assert len(layers[0].get_offsets()) == 200


@pytest.mark.slow
def test_bar_charts_show_at_most_the_top_communities(drawn: dict[str, dict]) -> None:
    for name in ("equity_within_target", "costs_shares"):
        ax = drawn[name]["figure"].axes[0]
        assert len(ax.get_xticks()) <= MAX_COMMUNITIES + 1, name
    labels = [t.get_text() for t in drawn["costs_shares"]["figure"].axes[0].get_xticklabels()]
    assert labels[-1] == "188 others"
    assert (
        "the 12 of 200 communities furthest below target"
        in drawn["equity_within_target"]["caption"]
    )


@pytest.mark.slow
def test_zone_layers_are_rasterised(drawn: dict[str, dict]) -> None:
    for name in ("zones_p90_ambulance", "zones_difference_ambulance", "zones_border"):
        layers = [
            c
            for ax in drawn[name]["figure"].axes
            for c in ax.collections
            if str(c.get_gid()).startswith("zones:")
        ]
        assert layers, name
        assert all(c.get_rasterized() for c in layers), name


def test_top_keeps_the_highest_in_their_order() -> None:
    order = [f"c{i}" for i in range(20)]
    scores = {c: float(i % 7) for i, c in enumerate(order)}
    kept = top(scores, order, n=4)
    assert kept == ["c5", "c6", "c12", "c13"], "scores 5, 6, 5, 6: the earlier on a tie"
    assert top(scores, order[:5], n=4) == order[:5], "no others of one community"


def test_fold_keeps_every_sum() -> None:
    ids = ["a", "b", "c", "d", "e"]
    m = pd.DataFrame(np.arange(25.0).reshape(5, 5), index=ids, columns=ids)
    f = fold(m, ["b", "d"])
    assert list(f.index) == list(f.columns) == ["b", "d", OTHERS]
    assert f.to_numpy().sum() == m.to_numpy().sum()
    assert f.loc["b", "d"] == m.loc["b", "d"]
    assert f.loc[OTHERS, OTHERS] == m.loc[["a", "c", "e"], ["a", "c", "e"]].to_numpy().sum()
    assert fold(m, ids).equals(m)
