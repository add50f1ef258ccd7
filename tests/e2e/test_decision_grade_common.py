"""What the decision-grade tests share: a Five Valleys-like result directory (the shipped
scenario, shortened), a small region whose average hides a missed target, and a check that no
text of a matplotlib figure leaves the canvas or overlaps another text (with the tests that
show the check can fail).

Text extents are measured with the figure's own renderer (``Text.get_window_extent``) for the
texts a draw actually draws, so tick labels outside the view and empty texts do not count.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

import numpy as np
import pytest
import yaml
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from sim.comparison.compare import Comparison, compare
from sim.comparison.output import write_comparison
from sim.plots.style import new_figure, style
from sim.schema import load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[2]
FIVE_VALLEYS = ROOT / "scenarios" / "five_valleys.yaml"

# --- a Five Valleys-like result -----------------------------------------------------------------

FV_RUN = {"horizon": "60 d", "warmup": "3 d", "replications": 3}
_BUILT: dict[str, Any] = {}


def five_valleys_data() -> dict[str, Any]:
    """The shipped Five Valleys scenario as data, shortened to 60 days and 3 replications."""
    # loaded, so that its zone and travel files are named by absolute paths
    data = load_scenario(FIVE_VALLEYS).model_dump(mode="json")
    data["run"].update(FV_RUN)
    return data


def five_valleys_result(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Comparison]:
    """Simulate and write the Five Valleys-like comparison once per session."""
    if "fv" not in _BUILT:
        base = tmp_path_factory.mktemp("five_valleys")
        data = five_valleys_data()
        scenario_file = base / "five_valleys_short.yaml"
        scenario_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        scenario = scenario_from_dict(data)
        comp = compare(scenario)
        out = base / "result"
        write_comparison(
            comp,
            out,
            scenario_file=scenario_file,
            command="intersim compare five_valleys_short.yaml",
            started=datetime.now(UTC),
            seconds=1.0,
            scenario=scenario,
        )
        _BUILT["fv"] = (out, comp)
    return _BUILT["fv"]  # type: ignore[no-any-return]


def hidden_miss() -> dict[str, Any]:
    """Three towns whose public works reach 9 calls in 10 within target over all priorities,
    while priority 1 (water-main breaks, 20-minute target) is reached in time far less often:
    the all-priorities headline alone would hide it."""
    coms = {
        "a": {"name": "Aston", "population": 20000},
        "b": {"name": "Brill", "population": 9000},
        "c": {"name": "Colne", "population": 6000},
    }
    return {
        "name": "Hidden miss",
        "communities": coms,
        "travel": {
            "matrix": {"a": {"a": 6, "b": 14, "c": 18}, "b": {"b": 7, "c": 12}, "c": {"c": 8}},
        },
        "services": {
            "works": {
                "name": "Public works",
                "cost_per_unit_hour": 90,
                "units": [{"station": s, "count": 1} for s in coms],
            }
        },
        "incident_types": {
            "main_break": {
                "service": "works",
                "priority": 1,
                "rate_per_1000": 5,
                "turnout": {"dist": "lognormal", "median": 12, "log_sd": 0.3},
                "on_scene": {"dist": "lognormal", "median": 120, "log_sd": 0.4},
                "target": {"minutes": 20, "share": 0.9},
            },
            "pothole": {
                "service": "works",
                "priority": 2,
                "rate_per_1000": 60,
                "turnout": 10,
                "on_scene": {"dist": "lognormal", "median": 40, "log_sd": 0.4},
                "target": {"minutes": "3 d", "share": 0.9},
            },
        },
        "run": {"horizon": "40 d", "warmup": "2 d", "replications": 3, "seed": 5},
        "options": {
            "separate": {"description": "Each town alone."},
            "pooled": {"description": "One crew pool.", "dispatch": {"all": {"policy": "pooled"}}},
        },
    }


def hidden_miss_result(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Comparison]:
    if "hidden" not in _BUILT:
        base = tmp_path_factory.mktemp("hidden_miss")
        data = hidden_miss()
        scenario_file = base / "hidden_miss.yaml"
        scenario_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        scenario = scenario_from_dict(data)
        comp = compare(scenario)
        out = base / "result"
        write_comparison(
            comp,
            out,
            scenario_file=scenario_file,
            command="intersim compare hidden_miss.yaml",
            started=datetime.now(UTC),
            seconds=1.0,
            scenario=scenario,
        )
        _BUILT["hidden"] = (out, comp)
    return _BUILT["hidden"]  # type: ignore[no-any-return]


# --- a region to size, and to play the coalition game on ----------------------------------------

COST = 100.0  # an hour of one unit
UNIT_YEAR = 8760 * COST


def towns(
    loads: list[float],
    today: int,
    *,
    across: float = 0.0,
    target: float = 0.01,
    share: float = 0.9,
    populations: list[int] | None = None,
) -> dict[str, Any]:
    """Communities c0, c1, ... with offered loads ``loads`` (exponential hour-long jobs),
    ``today`` round-the-clock units each, ``across`` minutes between any two of them."""
    pops = populations or [1000] * len(loads)
    coms = {f"c{i}": {"population": p} for i, p in enumerate(pops)}
    return {
        "name": "Savings check",
        "communities": coms,
        "travel": {"matrix": {a: {b: 0 if a == b else across for b in coms} for a in coms}},
        "services": {
            "amb": {
                "cost_per_unit_hour": COST,
                "units": [{"station": c, "count": today} for c in coms],
            }
        },
        "incident_types": {
            "call": {
                "service": "amb",
                "rate_per_year": {c: x * 525_600 / 60 for c, x in zip(coms, loads, strict=True)},
                "on_scene": {"dist": "exponential", "mean": 60},
                "target": {"minutes": target, "share": share},
            }
        },
        "run": {"horizon": "28 d", "warmup": "2 d", "replications": 8, "seed": 7},
        "options": {
            "separate": {"dispatch": {"amb": {"policy": "separate"}}},
            "pooled": {"dispatch": {"amb": {"policy": "pooled"}}},
        },
        "cost_sharing": {"mix": {"population": 0.5, "calls": 0.5}},
    }


# --- text on the canvas -----------------------------------------------------------------------

OUTSIDE = 1.0  # pixels a text may reach beyond the canvas (anti-aliasing)
CLEAR = 2.0  # pixels at least between two texts (a line of text is about 17 px at 150 dpi)


def drawn_texts(fig: Figure) -> tuple[list[tuple[Text, Bbox]], list[Legend], Any]:
    """The visible texts the figure's draw draws, with their extents; its legends; renderer."""
    seen: dict[int, Text] = {}
    draw = Text.draw

    def spy(self: Text, renderer: Any) -> None:
        draw(self, renderer)
        if self.get_visible() and self.get_text().strip():
            seen[id(self)] = self

    with style(), patch.object(Text, "draw", spy):
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    texts = []
    for t in seen.values():
        extent = t.get_window_extent(renderer)
        clip = t.get_clip_box() if t.get_clip_on() else None
        if clip is not None and not extent.overlaps(clip):
            continue  # clipped away entirely: not on the image
        texts.append((t, extent))
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_visible())]
    return texts, [g for g in legends if g is not None and g.get_visible()], renderer


def _touch(a: Bbox, b: Bbox, clear: float) -> bool:
    """True when ``a`` and ``b`` overlap or come closer than ``clear`` pixels."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return width > -clear and height > -clear


def _outside(box: Bbox, fig: Figure) -> bool:
    w, h = fig.bbox.width, fig.bbox.height
    return box.x0 < -OUTSIDE or box.y0 < -OUTSIDE or box.x1 > w + OUTSIDE or box.y1 > h + OUTSIDE


def text_problems(fig: Figure) -> list[str]:
    """Every text that leaves the canvas or comes within :data:`CLEAR` pixels of another, and
    every legend (its frame or the line of a handle) that covers a text outside it."""
    texts, legends, renderer = drawn_texts(fig)
    out = [f"{t.get_text()!r} leaves the canvas" for t, e in texts if _outside(e, fig)]
    for (a, ea), (b, eb) in itertools.combinations(texts, 2):
        if _touch(ea, eb, CLEAR):
            out.append(f"{a.get_text()!r} runs into {b.get_text()!r}")
    for legend in legends:
        mine = {id(t) for t in legend.get_texts()} | {id(legend.get_title())}
        others = [(t, e) for t, e in texts if id(t) not in mine]
        frame = legend.get_window_extent(renderer)
        if _outside(frame, fig):
            out.append("a legend leaves the canvas")
        out += [f"a legend covers {t.get_text()!r}" for t, e in others if _touch(frame, e, 0.0)]
        for handle in legend.legend_handles:
            if handle is None or not hasattr(handle, "get_linewidth"):
                continue
            box = handle.get_window_extent(renderer)
            half = float(np.max(handle.get_linewidth())) * fig.dpi / 72 / 2
            box = Bbox([[box.x0 - half, box.y0 - half], [box.x1 + half, box.y1 + half]])
            out += [
                f"a legend handle covers {t.get_text()!r}" for t, e in others if _touch(box, e, 0.0)
            ]
    return out


def test_text_check_finds_texts_off_the_canvas_and_collisions() -> None:
    fig = new_figure(4.0, 3.0, "A title")
    with style():
        ax = fig.subplots()
        ax.text(0.5, 0.5, "first label", transform=ax.transAxes)
        ax.text(0.52, 0.51, "second label", transform=ax.transAxes)
        fig.text(0.9, 0.05, "far too long to stay on this canvas")
    found = text_problems(fig)
    assert any("'first label' runs into 'second label'" in p for p in found), found
    assert any("'far too long to stay on this canvas' leaves the canvas" in p for p in found)


def test_text_check_finds_a_thick_legend_line_over_a_label() -> None:
    fig = new_figure(4.0, 3.0)
    with style():
        ax = fig.subplots()
        ax.plot([0, 1], [0, 1], linewidth=30, label="wide")
        ax.set_xlabel("x label")
        fig.legend(loc="outside lower center", handleheight=0.2)
    assert any("legend handle covers 'x label'" in p for p in text_problems(fig))


def test_text_check_passes_a_clean_figure() -> None:
    fig = new_figure(5.0, 3.0, "A clean figure")
    with style():
        ax = fig.subplots()
        ax.plot([0, 1], [0, 1], label="line")
        ax.set_xlabel("x")
        ax.set_title("panel", loc="left")
        fig.legend(loc="outside lower center")
    assert text_problems(fig) == []
