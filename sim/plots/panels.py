"""Panels placed on their grid from their measured text: :class:`PanelLayout`.

Constrained layout finds each panel's decorations by drawing them in memory: every tick, tick
label, title and spine of every axes, twice before each draw (a decoration may change size once
the panels move); and a figure is drawn twice (PNG, SVG). With a few dozen panels that is a
third of the drawing time. The figures of this package are grids of panels whose decorations
are strings known before drawing: tick labels (each axis's locator and formatter give them),
axis labels, titles, texts beside a panel, the figure's title and legends, and colour bars
beside the grid. :class:`PanelLayout` measures only those strings and sets every panel's
position: each column and row as far from the next as their decorations need, the panels of
the grid equally large (or by the grid's ratios), nothing outside the canvas. It measures
until the panels stay put (twice, as a rule), because an axis's ticks follow its length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.layout_engine import LayoutEngine
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from .style import fit_text

__all__ = ["PAD", "LayoutError", "PanelLayout", "colorbar_axes"]

PAD = 3.0  # points between a decoration and the next panel or the canvas's edge
BAR_WIDTH = 0.16  # inches: a colour bar's width
BAR_GAP = 0.02  # share of the figure's width between the grid and a colour bar
MAX_STEPS = 8  # placements at most (each halves the error left by a title wider than its panel)
STILL = 0.5  # pixels: panels that move less than this are where they belong
_HALIGN = {"center": 0.5, "right": 1.0, "left": 0.0}
_VALIGN = {"center": 0.5, "center_baseline": 0.5, "top": 1.0, "bottom": 0.0, "baseline": 0.2}


class LayoutError(RuntimeError):
    """A figure that PanelLayout does not place: panels on more than one grid (a programming
    error of a figure, refused loudly; not ValueError, which a figure's draw passes over)."""


@dataclass(frozen=True)
class _Bar:
    """A colour bar right of the grid: its axes, the panels it belongs to, its length as a
    share of theirs."""

    cax: Axes
    panels: tuple[Axes, ...]
    shrink: float


@dataclass
class _Edges:
    """Pixels that a panel's decorations reach beyond its box on each side."""

    left: float = 0.0
    right: float = 0.0
    bottom: float = 0.0
    top: float = 0.0

    def cover(self, box: Bbox, ref: Bbox) -> None:
        """Reach at least as far beyond ``ref`` as ``box`` does."""
        self.left = max(self.left, ref.x0 - box.x0)
        self.right = max(self.right, box.x1 - ref.x1)
        self.bottom = max(self.bottom, ref.y0 - box.y0)
        self.top = max(self.top, box.y1 - ref.y1)


class PanelLayout(LayoutEngine):
    """Places the panels of one grid (``fig.subplots``), the colour bars made with
    :meth:`colorbar_axes`, and leaves room for the figure's title and for its legends, which
    sit at the canvas's edge (``loc='outside lower center'``, ``'outside right lower'``...)."""

    _adjust_compatible = False
    _colorbar_gridspec = False

    def __init__(self, pad: float = PAD) -> None:
        super().__init__()
        self.pad = pad
        self._bars: list[_Bar] = []

    def colorbar_axes(self, fig: Figure, panels: Sequence[Axes], shrink: float = 0.8) -> Axes:
        """New axes for a colour bar right of ``panels``, ``shrink`` times as high as they."""
        cax = fig.add_axes((0.0, 0.0, 0.01, 0.01))
        self._bars.append(_Bar(cax, tuple(panels), shrink))
        return cax

    def execute(self, fig: Figure) -> None:
        """Measure and place until the panels stay where they are (twice, as a rule: their
        ticks follow their sizes; a title wider than its panel takes a few steps more)."""
        sizes = _Sizes(fig, fig.canvas.get_renderer())  # type: ignore[attr-defined]
        for _ in range(MAX_STEPS):
            before = [tuple(ax.get_position().bounds) for ax in fig.axes]
            _place(fig, sizes, self.pad * fig.dpi / 72, self._bars)
            after = [tuple(ax.get_position().bounds) for ax in fig.axes]
            if np.allclose(before, after, rtol=0.0, atol=STILL / max(fig.bbox.size)):
                return


def colorbar_axes(fig: Figure, panels: Sequence[Axes], shrink: float = 0.8) -> Axes:
    """Axes for a colour bar right of ``panels`` of a figure laid out by :class:`PanelLayout`."""
    engine = fig.get_layout_engine()
    if not isinstance(engine, PanelLayout):
        raise TypeError("colorbar_axes needs a figure with a PanelLayout")
    return engine.colorbar_axes(fig, panels, shrink)


# --- measuring --------------------------------------------------------------------------------
def _labels(axis: Axis) -> list[tuple[float, str, Text]]:
    """The tick labels ``axis`` will draw: position (data), text, and the label whose font and
    rotation it has (its tick's where that exists, else the first tick's)."""
    lo, hi = sorted(axis.get_view_interval())
    slack = 1e-9 * max(hi - lo, 1e-300)
    out = []
    for locs, formatter, ticks in (
        (axis.get_majorticklocs(), axis.get_major_formatter(), axis.majorTicks),
        (axis.get_minorticklocs(), axis.get_minor_formatter(), axis.minorTicks),
    ):
        inside = [float(v) for v in locs if lo - slack <= v <= hi + slack]
        texts = formatter.format_ticks(inside) if inside else []
        for i, (v, s) in enumerate(zip(inside, texts, strict=True)):
            if s:
                out.append((v, s, (ticks[i] if i < len(ticks) else ticks[0]).label1))
    return out


class _Sizes:
    """Width and height (pixels) of tick label strings, measured once per string and font: the
    panels of a figure repeat their tick labels, and the layout measures twice."""

    def __init__(self, fig: Figure, renderer: Any) -> None:
        self.renderer = renderer
        self.scratch = Text()
        self.scratch.set_figure(fig)
        self.known: dict[tuple[Any, ...], tuple[float, float]] = {}

    def of(self, text: str, like: Text) -> tuple[float, float]:
        """The size of ``text`` drawn with the font and rotation of ``like``."""
        key = (
            text,
            like.get_fontsize(),
            like.get_fontweight(),
            like.get_fontstyle(),
            tuple(like.get_fontfamily()),
            like.get_rotation(),
        )
        size = self.known.get(key)
        if size is None:
            self.scratch.update_from(like)
            self.scratch.set_visible(True)  # label1 or label2: the same font either way
            self.scratch.set_text(text)
            ext = self.scratch.get_window_extent(self.renderer)
            size = self.known[key] = (ext.width, ext.height)
        return size


def _axis_edges(ax: Axes, axis: Axis, sizes: _Sizes, edges: _Edges) -> None:
    """How far ``axis``'s tick labels, its label and its offset text reach beyond the box."""
    renderer = sizes.renderer
    points = ax.get_figure(root=True).dpi / 72  # type: ignore[union-attr]
    tick = axis.majorTicks[0]
    first, second = tick.label1.get_visible(), tick.label2.get_visible()
    across = 0.0  # the labels' extent away from the axis
    box = ax.bbox
    horizontal = axis is ax.xaxis
    for value, text, like in _labels(axis) if first or second else []:
        w, h = sizes.of(text, like)
        x, y = ax.transData.transform((value, 0.0) if horizontal else (0.0, value))
        if horizontal:
            x0 = x - _HALIGN.get(like.get_horizontalalignment(), 0.5) * w
            edges.left = max(edges.left, box.x0 - x0)
            edges.right = max(edges.right, x0 + w - box.x1)
            across = max(across, h)
        else:
            y0 = y - _VALIGN.get(like.get_verticalalignment(), 0.5) * h
            edges.bottom = max(edges.bottom, box.y0 - y0)
            edges.top = max(edges.top, y0 + h - box.y1)
            across = max(across, w)
    gap = tick.get_tick_padding() + tick.get_pad()  # type: ignore[func-returns-value, operator]
    ticks = gap * points + across if across else 0.0
    label = 0.0
    if axis.label.get_visible() and axis.label.get_text():
        ext = axis.label.get_window_extent(renderer)
        label = (ext.height if horizontal else ext.width) + axis.labelpad * points
    low = axis.get_label_position() in ("bottom", "left")
    near = (ticks if first else 0.0) + (label if low else 0.0)
    far = (ticks if second else 0.0) + (0.0 if low else label)
    if horizontal:
        edges.bottom, edges.top = max(edges.bottom, near), max(edges.top, far)
    else:
        edges.left, edges.right = max(edges.left, near), max(edges.right, far)
    offset = axis.get_offset_text()
    if offset.get_visible() and axis.get_major_formatter().get_offset():
        h = offset.get_window_extent(renderer).height
        if horizontal:
            edges.bottom = max(edges.bottom, near + h)
        else:
            edges.top = max(edges.top, h)


def _edges(ax: Axes, sizes: _Sizes, room: float) -> _Edges:
    """Everything of a panel that lies outside its box: tick labels, axis labels, titles,
    texts that are not clipped to it, its legend."""
    renderer = sizes.renderer
    edges = _Edges()
    _axis_edges(ax, ax.xaxis, sizes, edges)
    _axis_edges(ax, ax.yaxis, sizes, edges)
    box = ax.bbox
    for title in (ax.title, getattr(ax, "_left_title"), getattr(ax, "_right_title")):  # noqa: B009
        if title.get_visible() and title.get_text():
            if "\n" in title.get_text() or title.get_window_extent(renderer).width > room:
                fit_text(title, room)  # wrapped where it would reach the next panel or the edge
            edges.top = max(edges.top, title.get_window_extent(renderer).y1 - box.y1)
    for text in ax.texts:
        if text.get_visible() and text.get_text() and not _clipped(text, ax):
            edges.cover(text.get_window_extent(renderer), box)
    legend = ax.get_legend()
    if legend is not None and legend.get_visible():
        edges.cover(legend.get_window_extent(renderer), box)
    return edges


def _first_column(ax: Axes) -> int:
    spec = ax.get_subplotspec()
    return -1 if spec is None else spec.colspan.start


def _clipped(text: Text, ax: Axes) -> bool:
    return bool(text.get_clip_on()) and text.get_clip_box() is ax.bbox


# --- placing ----------------------------------------------------------------------------------
def _place(fig: Figure, sizes: _Sizes, pad: float, bars: list[_Bar]) -> None:
    """Set the position of every panel and colour bar of ``fig`` from their edges."""
    bar_axes = {id(b.cax) for b in bars}
    panels = [
        ax
        for ax in fig.axes
        if ax.get_visible() and id(ax) not in bar_axes and ax.get_subplotspec() is not None
    ]
    if not panels:
        return
    grid = panels[0].get_subplotspec().get_gridspec()  # type: ignore[union-attr]
    if any(ax.get_subplotspec().get_gridspec() is not grid for ax in panels):  # type: ignore[union-attr]
        raise LayoutError("PanelLayout places the panels of one grid only")
    nrows, ncols = grid.get_geometry()
    left, right = np.zeros(ncols), np.zeros(ncols)
    top, bottom = np.zeros(nrows), np.zeros(nrows)
    # where panels meet, per column (panels span rows: the columns of a figure may stack
    # panels of different heights), and between columns; there is no gap inside a panel
    row_edge = np.zeros((ncols, nrows + 1), dtype=bool)
    col_edge = np.zeros(ncols + 1, dtype=bool)
    width, height = fig.bbox.width, fig.bbox.height
    outer = _outer(fig, sizes.renderer, pad)
    bar_room = [_bar_room(b, sizes, max(pad, BAR_GAP * width)) for b in bars]
    edge = width - outer.right - sum(bar_room)  # where the last column's titles must end
    starts = [
        min((p.bbox.x0 for p in panels if _first_column(p) == j), default=np.inf)
        for j in range(ncols + 1)
    ]
    for ax in panels:
        spec = ax.get_subplotspec()
        assert spec is not None
        end = min(starts[spec.colspan.stop :], default=np.inf)
        limit = end - 2 * pad if np.isfinite(end) else edge
        e = _edges(ax, sizes, limit - ax.bbox.x0)
        rows, cols = spec.rowspan, spec.colspan
        left[cols.start] = max(left[cols.start], e.left)
        right[cols.stop - 1] = max(right[cols.stop - 1], e.right)
        top[rows.start] = max(top[rows.start], e.top)
        bottom[rows.stop - 1] = max(bottom[rows.stop - 1], e.bottom)
        row_edge[cols.start : cols.stop, [rows.start, rows.stop]] = True
        col_edge[[cols.start, cols.stop]] = True
    x0 = outer.left + left[0]
    x1 = width - outer.right - right[-1] - sum(bar_room)
    y1 = height - outer.top - top[0]
    y0 = outer.bottom + bottom[-1]
    col_gaps = (right[:-1] + left[1:] + 2 * pad) * col_edge[1:-1]
    row_gaps = bottom[:-1] + top[1:] + 2 * pad
    xs, ws = _cells(x0, x1, col_gaps, grid.get_width_ratios())
    ratios = grid.get_height_ratios()
    column_rows = [_cells(y0, y1, row_gaps * edge[1:-1], ratios, True) for edge in row_edge]
    for ax in panels:
        spec = ax.get_subplotspec()
        assert spec is not None
        rows, cols = spec.rowspan, spec.colspan
        ys, hs = column_rows[cols.start]
        a, b = xs[cols.start], xs[cols.stop - 1] + ws[cols.stop - 1]
        c, d = ys[rows.stop - 1], ys[rows.start] + hs[rows.start]
        ax.set_position(Bbox([[a / width, c / height], [b / width, d / height]]))
    start = x1 + right[-1] + max(pad, BAR_GAP * width)
    for bar, room in zip(bars, bar_room, strict=True):
        _place_bar(bar, start, width, height)
        start += room


def _cells(
    lo: float, hi: float, gaps: np.ndarray, ratios: Any, downwards: bool = False
) -> tuple[list[float], list[float]]:
    """Start and size of each cell between ``lo`` and ``hi`` with ``gaps`` between cells, sized
    by ``ratios`` (the first cell at the top when ``downwards``)."""
    n = len(gaps) + 1
    share = np.ones(n) if ratios is None else np.asarray(ratios, dtype=float)
    room = max(hi - lo - float(gaps.sum()), 1.0)
    sizes = room * share / share.sum()
    starts, at = [], hi if downwards else lo
    for i in range(n):
        if downwards:
            at -= sizes[i]
        starts.append(at)
        if not downwards:
            at += sizes[i]
        if i < n - 1:
            at += -gaps[i] if downwards else gaps[i]
    return starts, list(sizes)


@dataclass(frozen=True)
class _Outer:
    left: float
    right: float
    bottom: float
    top: float


def _outer(fig: Figure, renderer: Any, pad: float) -> _Outer:
    """Room at the canvas's edges: the padding, the figure's title above, its legends at the
    side they sit on (a figure legend is placed against the canvas, so its extent is final)."""
    width, height = fig.bbox.width, fig.bbox.height
    left = right = bottom = top = pad
    title = getattr(fig, "_suptitle", None)  # no public accessor of the title's Text
    if title is not None and title.get_visible() and title.get_text():
        top = max(top, height - title.get_window_extent(renderer).y0 + 2 * pad)
    for legend in fig.legends:
        if not legend.get_visible():
            continue
        ext = legend.get_window_extent(renderer)
        side = getattr(legend, "_outside_loc", None) or "lower"
        if side == "lower":
            bottom = max(bottom, ext.y1 + pad)
        elif side == "upper":
            top = max(top, height - ext.y0 + pad)
        elif side == "right":
            right = max(right, width - ext.x0 + pad)
        elif side == "left":
            left = max(left, ext.x1 + pad)
    return _Outer(left, right, bottom, top)


def _bar_room(bar: _Bar, sizes: _Sizes, gap: float) -> float:
    """Pixels a colour bar takes right of the grid: ``gap``, bar, its tick labels and label."""
    dpi = bar.cax.get_figure(root=True).dpi  # type: ignore[union-attr]
    edges = _Edges()
    _axis_edges(bar.cax, bar.cax.yaxis, sizes, edges)
    return gap + BAR_WIDTH * dpi + edges.right


def _place_bar(bar: _Bar, x0: float, width: float, height: float) -> None:
    dpi = bar.cax.get_figure(root=True).dpi  # type: ignore[union-attr]
    lo = min(ax.get_position().y0 for ax in bar.panels)
    hi = max(ax.get_position().y1 for ax in bar.panels)
    mid, half = (lo + hi) / 2, (hi - lo) * bar.shrink / 2
    bar.cax.set_position(
        Bbox([[x0 / width, mid - half], [(x0 + BAR_WIDTH * dpi) / width, mid + half]])
    )
