"""One look for every figure: Okabe-Ito colours, fonts, number formats, saving.

Figures are :class:`matplotlib.figure.Figure` objects drawn on an explicit Agg canvas, never
through pyplot, so drawing leaves no global state behind. The style is applied with
:func:`matplotlib.rc_context` only while a figure is created and saved.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, MultipleLocator
from PIL import Image

__all__ = [
    "BASELINE_COLOUR",
    "DPI",
    "FORMULA_COLOURS",
    "LINESTYLES",
    "MARKERS",
    "OKABE_ITO",
    "VERDICT_COLOURS",
    "Drawn",
    "fit_text",
    "minutes_axis",
    "new_figure",
    "option_styles",
    "save",
    "style",
]

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
# deficiency. Grey (#999999) is the palette's neutral, used for the baseline.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#999999",
}
BASELINE_COLOUR = OKABE_ITO["grey"]
_OPTION_COLOURS = ("blue", "orange", "green", "purple", "sky_blue", "vermillion", "black", "yellow")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)))
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")
VERDICT_COLOURS = {
    "better": OKABE_ITO["green"],
    "worse": OKABE_ITO["vermillion"],
    "equivalent": OKABE_ITO["sky_blue"],
    "no significant difference": OKABE_ITO["grey"],
    "higher": OKABE_ITO["blue"],
    "lower": OKABE_ITO["blue"],
}
FORMULA_COLOURS = {
    "per_capita": OKABE_ITO["sky_blue"],
    "per_call": OKABE_ITO["orange"],
    "per_unit_hour": OKABE_ITO["green"],
    "mix": OKABE_ITO["purple"],
}
TARGET_COLOUR = "#333333"
DPI = 150


@dataclass(frozen=True)
class Drawn:
    """A drawn figure with what the report says of it."""

    name: str  # file stem in figures/
    section: str  # report section: response, equity, units, help, map, levels, surge, ...
    title: str
    caption: str  # one sentence: what to read from it
    figure: Figure


RC: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    # titles at the top of their axes, not moved above whatever axis decorations reach higher
    # (none do here): finding those measures every tick label of the axes again at each draw
    "axes.titley": 1.0,
    "axes.labelsize": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.6,
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "figure.titlesize": 11,
    "figure.titleweight": "bold",
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "svg.fonttype": "none",
    "svg.hashsalt": "intersim",
    "path.simplify": True,
}


@contextmanager
def style() -> Iterator[None]:
    """The house style, for the duration of the block only."""
    with matplotlib.rc_context(RC):  # type: ignore[arg-type]
        yield


def new_figure(
    width: float, height: float, title: str | None = None, layout: Any = "constrained"
) -> Figure:
    """A figure on its own Agg canvas (no pyplot), with constrained layout or the ``layout``
    engine given (:class:`~sim.plots.panels.PanelLayout`); a title too long for the figure's
    width is wrapped, never cut."""
    with style():
        fig = Figure(figsize=(width, height), layout=layout, dpi=DPI)
        FigureCanvasAgg(fig)
        if title:
            fit_text(fig.suptitle(title, ha="left", x=0.01), 0.97 * fig.bbox.width)
    return fig


def fit_text(text: Text, pixels: float) -> None:
    """Wrap ``text`` at spaces into as few lines as keep it within ``pixels`` (measured with
    the figure's renderer)."""
    fig = text.get_figure()
    assert fig is not None
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    whole = text.get_text()
    for chars in range(len(whole), 9, -1):
        text.set_text(textwrap.fill(whole, chars))
        if text.get_window_extent(renderer).width <= pixels:
            return


def save(fig: Figure, out_dir: Path, name: str) -> tuple[Path, Path]:
    """Write ``name.png`` and ``name.svg``; return their paths.

    The layout is computed once, in the Agg draw that makes the PNG; the SVG reuses it."""
    png, svg = out_dir / f"{name}.png", out_dir / f"{name}.svg"
    with style():
        canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
        fig.set_dpi(DPI)
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba())
        image = Image.fromarray(rgba[..., :3].copy(), "RGB")
        # 256 colours are plenty for flat-coloured charts and make the PNG (and so the
        # report, which inlines it) about three times smaller
        image.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
            png, format="PNG"
        )
        engine = fig.get_layout_engine()
        # None, not "none": a figure with any layout engine (even the "none" placeholder) is
        # drawn once more, without output, before the SVG is written
        fig.set_layout_engine(None)
        buffer = io.BytesIO()
        try:
            fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
        finally:
            fig.set_layout_engine(engine)
        svg.write_bytes(stable_clip_ids(buffer.getvalue().decode("utf-8")).encode("utf-8"))
    return png, svg


_CLIP_ID = re.compile(r'<clipPath id="(p[0-9a-f]+)"')


def stable_clip_ids(svg: str) -> str:
    """``svg`` with its clip paths named ``clip1``, ``clip2``... in the order they are
    defined. Matplotlib names a clip rectangle by a hash of its exact corners, whose last bits
    the layout solver may set differently from one process to the next although the drawing
    is the same: numbered, the same figure gives the same bytes in any process."""
    names = {old: f"clip{i}" for i, old in enumerate(dict.fromkeys(_CLIP_ID.findall(svg)), 1)}
    if not names:
        return svg
    pattern = re.compile(r'(id="|url\(#)(' + "|".join(map(re.escape, names)) + r')(?=[")])')
    return pattern.sub(lambda m: m.group(1) + names[m.group(2)], svg)


def option_styles(options: Sequence[str], baseline: str | None) -> dict[str, dict[str, Any]]:
    """Colour, line style and marker of every option, the same in every figure."""
    out: dict[str, dict[str, Any]] = {}
    k = 0
    for i, opt in enumerate(options):
        if opt == baseline:
            colour = BASELINE_COLOUR
        else:
            colour = OKABE_ITO[_OPTION_COLOURS[k % len(_OPTION_COLOURS)]]
            k += 1
        out[opt] = {
            "color": colour,
            "linestyle": LINESTYLES[i % len(LINESTYLES)],
            "marker": MARKERS[i % len(MARKERS)],
        }
    return out


def minutes_axis(ax: Axes, upper: float, axis: str = "x", what: str = "Response time") -> None:
    """Label a time axis whose data are minutes, in minutes or (for long spans) hours."""
    target = ax.xaxis if axis == "x" else ax.yaxis
    setter = ax.set_xlabel if axis == "x" else ax.set_ylabel
    if upper > 240:
        target.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 60:g}"))

        hours = upper / 60
        step = next(s for s in (1, 2, 3, 6, 12, 24, 48, 72, 168, 336, 720, 1e9) if hours / s <= 8)
        target.set_major_locator(MultipleLocator(step * 60))
        setter(f"{what}, hours")
    else:
        setter(f"{what}, minutes")
