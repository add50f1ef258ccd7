"""Figure files are the same bytes in any process: matplotlib names a clip rectangle by a hash
of its exact corners, which the layout solver may set a few bits apart from one process to
the next; the clip paths are numbered instead. A figure is laid out once and drawn once per
file. And the stage clock of a command."""

from __future__ import annotations

import gc
import time
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from sim.engine.progress import Stages
from sim.plots import COST_ORDER, MODULES, write_figures
from sim.plots.style import Drawn, new_figure, save, stable_clip_ids

SVG = """<svg><defs>
 <clipPath id="{a}"><rect x="1" y="2" width="3" height="4"/></clipPath>
 <clipPath id="{b}"><rect x="5" y="6" width="7" height="8"/></clipPath>
</defs>
<path clip-path="url(#{b})" d="M 0 0"/><path clip-path="url(#{a})" d="M 1 1"/>
<use xlink:href="#m0123456789" clip-path="url(#{b})"/></svg>"""


def test_clip_paths_are_numbered_in_the_order_defined() -> None:
    one = stable_clip_ids(SVG.format(a="p6290456a52", b="p1e60c2025a"))
    two = stable_clip_ids(SVG.format(a="p9cd1bb0608", b="p1e60c2025a"))
    assert one == two
    assert '<clipPath id="clip1"><rect x="1"' in one
    assert '<clipPath id="clip2"><rect x="5"' in one
    assert one.count("url(#clip2)") == 2
    assert one.count("url(#clip1)") == 1
    assert "#m0123456789" in one, "other ids are left alone"
    assert "url(#p" not in one


def test_an_svg_without_clip_paths_is_unchanged() -> None:
    text = '<svg><path id="p0123456789" d="M 0 0"/></svg>'
    assert stable_clip_ids(text) == text


def test_stages_time_each_stage_in_order() -> None:
    stages = Stages()
    stages.start("simulation")
    end = time.process_time() + 0.05
    while time.process_time() < end:
        pass
    stages.start("figures")
    time.sleep(0.05)
    stages.stop()
    sim, fig = stages.times["simulation"], stages.times["figures"]
    assert list(stages.times) == ["simulation", "figures"]
    assert sim["cpu_s"] >= 0.04
    assert fig["wall_s"] >= 0.04
    assert fig["cpu_s"] < 0.04, "sleeping is not CPU time"
    assert stages.summary().startswith("simulation 0.")


def test_every_kind_of_figure_has_its_place_in_the_workers_order() -> None:
    kinds = [m.__module__.rsplit(".", 1)[-1] for m in MODULES]
    assert sorted(COST_ORDER) == sorted(kinds), "a kind of figure missing from COST_ORDER"


def _figure() -> Figure:
    fig = new_figure(4.0, 3.0, "A figure")
    ax = fig.subplots()
    ax.plot([0, 1, 2], [1, 0, 2], label="line")
    ax.set_xlabel("x")
    fig.legend(loc="outside lower center")
    return fig


def test_a_figure_is_drawn_once_per_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fig = _figure()
    engine = fig.get_layout_engine()
    draws: list[str] = []
    draw = Figure.draw

    def counted(self: Figure, renderer: object) -> None:
        draws.append(type(renderer).__name__)
        draw(self, renderer)

    monkeypatch.setattr(Figure, "draw", counted)
    png, svg = save(fig, tmp_path, "f")
    assert draws == ["RendererAgg", "MixedModeRenderer"], "no draw without output before the SVG"
    assert png.stat().st_size > 0
    assert svg.read_text(encoding="utf-8").startswith("<?xml")
    assert fig.get_layout_engine() is engine, "the figure keeps its layout engine"


def test_drawing_leaves_the_collector_as_it_was(tmp_path: Path) -> None:
    def drawn() -> list[Drawn]:
        return [Drawn("f", "s", "title", "caption", _figure())]

    write_figures(drawn(), tmp_path)
    assert gc.get_freeze_count() == 0

    def failing():  # type: ignore[no-untyped-def]
        yield from drawn()
        raise RuntimeError("a figure failed")

    with pytest.raises(RuntimeError):
        write_figures(failing(), tmp_path)
    assert gc.get_freeze_count() == 0, "nothing stays frozen after an error"
