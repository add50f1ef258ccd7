"""PanelLayout places a figure's panels from their measured text: every text stays on the canvas
and apart from the others, panels never overlap, colour bars stand right of their panels, a
title too wide for its panel is wrapped, and a column may stack panels of different heights."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.plots.panels import LayoutError, PanelLayout, colorbar_axes
from sim.plots.style import new_figure, style
from tests.e2e.test_decision_grade_common import text_problems


def _draw(fig: Figure) -> None:
    with style():
        fig.canvas.draw()


def _grid(width: float = 7.0, height: float = 5.0) -> tuple[Figure, list[Axes]]:
    fig = new_figure(width, height, "A figure of four panels", layout=PanelLayout())
    with style():
        axes = list(fig.subplots(2, 2).ravel())
        for i, ax in enumerate(axes):
            ax.plot([0, 1], [0, 10 ** (i + 1)], label="line")
            ax.set_title(f"panel {i}", loc="left")
            ax.set_xlabel("x label")
            ax.set_ylabel("y label")
        axes[1].set_yticks([0, 50], ["a long category name", "another long one"])
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center")
    return fig, axes


def _apart(axes: list[Axes]) -> bool:
    boxes = [ax.get_window_extent() for ax in axes]
    return not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_texts_stay_on_the_canvas_and_apart() -> None:
    fig, axes = _grid()
    assert text_problems(fig) == []
    assert _apart(axes), "no panel overlaps another"


def test_long_tick_labels_push_their_column_only() -> None:
    fig, axes = _grid()
    _draw(fig)
    left = [ax.get_position().x0 for ax in axes]
    widths = {round(ax.get_position().width, 6) for ax in axes}
    assert len(widths) == 1, "the panels of a grid are equally wide"
    gap = left[1] - axes[0].get_position().x1
    label = axes[1].get_yticklabels()[0].get_window_extent().width / fig.bbox.width
    assert gap > label, "the gap holds the right column's tick labels"


def test_the_legend_and_the_title_get_their_room() -> None:
    fig, axes = _grid()
    _draw(fig)
    legend = fig.legends[0].get_window_extent()
    lowest = min(ax.xaxis.label.get_window_extent().y0 for ax in axes[2:])
    assert legend.y1 < lowest, "the legend sits below the lowest axis labels"
    top = max(ax.title.get_window_extent().y1 for ax in axes)
    assert getattr(fig, "_suptitle").get_window_extent().y0 > top  # noqa: B009


def test_a_colour_bar_stands_right_of_its_panels() -> None:
    fig = new_figure(6.0, 4.0, "Maps", layout=PanelLayout())
    with style():
        axes = list(fig.subplots(1, 2).ravel())
        image = None
        for ax in axes:
            image = ax.imshow(np.arange(16.0).reshape(4, 4))
        bar = fig.colorbar(image, cax=colorbar_axes(fig, axes, 0.8))
        bar.set_label("a value, units")
    _draw(fig)
    cax = bar.ax.get_position()
    assert cax.x0 > max(ax.get_position().x1 for ax in axes)
    span = max(ax.get_position().y1 for ax in axes) - min(ax.get_position().y0 for ax in axes)
    assert cax.height == pytest.approx(0.8 * span)
    assert text_problems(fig) == []


def test_a_title_wider_than_its_panel_is_wrapped() -> None:
    fig = new_figure(5.0, 3.0, layout=PanelLayout())
    with style():
        left, right = fig.subplots(1, 2)
        left.set_title("a title far too long to stand above a panel of this size", loc="left")
        right.set_title("short", loc="left")
    assert text_problems(fig) == []
    assert "\n" in left.get_title(loc="left")
    assert "\n" not in right.get_title(loc="left")


def test_a_column_stacks_panels_of_its_own_heights() -> None:
    fig = new_figure(6.0, 6.0, layout=PanelLayout())
    with style():
        grid = fig.add_gridspec(10, 2)
        tall = fig.add_subplot(grid[0:7, 0])
        short = fig.add_subplot(grid[7:10, 0])
        other = [fig.add_subplot(grid[0:5, 1]), fig.add_subplot(grid[5:10, 1])]
        for ax in (tall, short, *other):
            ax.set_title("panel", loc="left")
            ax.set_xlabel("x")
    _draw(fig)
    ratio = tall.get_position().height / short.get_position().height
    assert ratio == pytest.approx(7 / 3, rel=0.05), "the other column's gap is not in them"
    assert _apart([tall, short, *other])
    assert text_problems(fig) == []


def test_panels_of_two_grids_are_refused() -> None:
    fig = new_figure(4.0, 3.0, layout=PanelLayout())
    with style():
        fig.add_subplot(fig.add_gridspec(1, 2)[0, 0])
        fig.add_subplot(fig.add_gridspec(1, 2)[0, 1])
        with pytest.raises(LayoutError, match="one grid"):
            fig.canvas.draw()
