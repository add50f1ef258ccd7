"""Every figure of a Five Valleys-like result keeps its text on the canvas and apart: no title,
label, tick label or legend cut off or running into another (measured with the figure's
renderer, see test_decision_grade_common); a single-panel response figure is drawn as wide as
a two-panel one, so that the report shows it as large."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

import sim.decide
from sim.comparison.compare import Comparison
from sim.decide.figures import coalition_figures, sizing_figures
from sim.plots import iter_figures, read_index
from sim.results.read import load_result
from tests.e2e.test_decision_grade_common import (
    five_valleys_data,
    five_valleys_result,
    text_problems,
    towns,
)


@pytest.fixture(scope="module")
def valleys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Comparison]:
    return five_valleys_result(tmp_path_factory)


def test_every_figure_keeps_its_text_on_the_canvas_and_apart(
    valleys: tuple[Path, Comparison],
) -> None:
    out, _ = valleys
    problems = {}
    names = []
    for drawn in iter_figures(load_result(out)):
        names.append(drawn.name)
        found = text_problems(drawn.figure)
        if found:
            problems[drawn.name] = found
        drawn.figure.clear()
    assert {"response_ecdf_public_works", "response_ecdf_social_services", "map_help"} <= set(
        names
    ), "the figures of the issue are among those checked"
    assert not problems, problems


def test_coalition_figures_keep_their_text_apart() -> None:
    """Five communities: 31 coalitions and their short names on one axis."""
    res = sim.decide.coalitions(five_valleys_data(), "ambulance", fast=True)
    problems = {d.name: text_problems(d.figure) for d in coalition_figures(res)}
    assert not any(problems.values()), problems


def test_sizing_figures_keep_their_text_apart() -> None:
    three = towns([1.0, 1.0, 0.5], today=3, share=0.85)
    three["options"]["mutual_aid"] = {"dispatch": {"amb": {"policy": "mutual_aid"}}}
    res = sim.decide.size(three, "amb", workers=1, replications=3)
    problems = {d.name: text_problems(d.figure) for d in sizing_figures(res)}
    assert not any(problems.values()), problems


def test_a_single_panel_response_figure_is_as_wide_as_two(
    valleys: tuple[Path, Comparison],
) -> None:
    out, _ = valleys
    infos = read_index(out / "figures")
    assert infos is not None
    widths = {}
    for info in infos:
        if info.name.startswith("response_ecdf_"):
            with Image.open(info.png) as im:
                widths[info.name] = im.size[0]
    single = widths["response_ecdf_public_works"]  # priority 1 only
    two = widths["response_ecdf_social_services"]  # priorities 1 and 2
    assert single >= two, widths
