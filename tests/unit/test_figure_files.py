"""Figure files are the same bytes in any process: matplotlib names a clip rectangle by a hash
of its exact corners, which the layout solver may set a few bits apart from one process to
the next; the clip paths are numbered instead. And the stage clock of a command."""

from __future__ import annotations

import time

from sim.engine.progress import Stages
from sim.plots import COST_ORDER, MODULES
from sim.plots.style import stable_clip_ids

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
