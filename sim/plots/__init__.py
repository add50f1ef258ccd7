"""Figures of a comparison, drawn from the tables of its result directory only.

:func:`draw_figures` writes every figure as PNG and SVG into ``DIR/figures/`` with an
``index.json`` of titles and captions (read by the report; :func:`write_figures` does that for
any figures, such as an experiment's); :func:`redraw_figures` does the
same for an existing directory and swaps the new figures in atomically (``intersim plot``).
Each module draws one concept and returns :class:`matplotlib.figure.Figure` objects, which
tests inspect.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from ..results.files import DIR_MODE, remove_stale
from ..results.read import ResultData, load_result
from . import backlog, costs, coverage, differences, equity, response, timeline, units, zones
from .help import figures as help_figures
from .map import figures as map_figures
from .style import Drawn, save

__all__ = [
    "FIGURES_DIR",
    "INDEX_FILE",
    "FigureInfo",
    "draw_figures",
    "figure_steps",
    "iter_figures",
    "read_index",
    "redraw_figures",
    "write_figures",
]

FIGURES_DIR = "figures"
INDEX_FILE = "index.json"

# In report order.
MODULES: tuple[Callable[[ResultData], Iterator[Drawn]], ...] = (
    differences.figures,
    response.figures,
    equity.figures,
    units.figures,
    help_figures,
    map_figures,
    zones.figures,
    coverage.figures,
    timeline.figures,
    backlog.figures,
    costs.figures,
)


@dataclass(frozen=True)
class FigureInfo:
    """A figure written to disk: its files, title and one-sentence caption."""

    name: str
    section: str
    title: str
    caption: str
    png: Path
    svg: Path


def iter_figures(data: ResultData, on_step: Callable[[str], None] | None = None) -> Iterator[Drawn]:
    """Every figure of a result directory, drawn in memory, in report order; ``on_step`` is
    told each kind of figure (e.g. 'figures: response') before it is drawn."""
    for make in MODULES:
        if on_step is not None:
            on_step(f"figures: {_kind(make)}")
        yield from make(data)


def write_figures(drawn: Iterable[Drawn], out: Path) -> list[FigureInfo]:
    """Save each figure as PNG and SVG into ``out`` (freeing it once saved), with the
    ``index.json`` of their titles and captions that reports read."""
    out.mkdir(parents=True, exist_ok=True)
    infos = []
    for d in drawn:
        png, svg = save(d.figure, out, d.name)
        d.figure.clear()
        infos.append(FigureInfo(d.name, d.section, d.title, d.caption, png, svg))
    index = [{**asdict(i), "png": i.png.name, "svg": i.svg.name} for i in infos]
    (out / INDEX_FILE).write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    return infos


def figure_steps() -> int:
    """The steps of :func:`draw_figures` that ``on_step`` announces: one per kind of figure."""
    return len(MODULES)


def draw_figures(
    result_dir: Path,
    out_dir: Path | None = None,
    on_step: Callable[[str], None] | None = None,
) -> list[FigureInfo]:
    """Draw every figure of ``result_dir`` into ``out_dir`` (default ``result_dir/figures``);
    ``on_step`` is told each kind of figure before it is drawn."""
    data = load_result(result_dir)
    out = Path(out_dir) if out_dir is not None else Path(result_dir) / FIGURES_DIR
    return write_figures(iter_figures(data, on_step), out)


def _kind(make: Callable[[ResultData], Iterator[Drawn]]) -> str:
    """'response' for ``sim.plots.response.figures``."""
    return make.__module__.rsplit(".", 1)[-1]


def read_index(figures_dir: Path) -> list[FigureInfo] | None:
    """The figures listed in ``figures_dir/index.json``, or None if any is missing."""
    path = figures_dir / INDEX_FILE
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
        infos = [
            FigureInfo(
                e["name"],
                e["section"],
                e["title"],
                e["caption"],
                figures_dir / e["png"],
                figures_dir / e["svg"],
            )
            for e in index
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not all(i.png.is_file() for i in infos):
        return None
    return infos


def redraw_figures(
    result_dir: Path, on_step: Callable[[str], None] | None = None
) -> list[FigureInfo]:
    """Redraw the figures of an existing result directory and swap them in atomically: the
    old figures stay in place until the new ones are complete (``on_step``: as for
    :func:`draw_figures`)."""
    root = Path(result_dir)
    load_result(root)  # InputError before any work for a bad directory
    remove_stale(root / FIGURES_DIR)  # left by a redraw that was killed
    tmp = Path(tempfile.mkdtemp(prefix=f".{FIGURES_DIR}.{os.getpid()}.", suffix=".tmp", dir=root))
    try:
        tmp.chmod(DIR_MODE)  # mkdtemp makes it private; results are meant to be shared
        draw_figures(root, tmp, on_step)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    final = root / FIGURES_DIR
    old = None
    if final.exists():
        old = root / f".{FIGURES_DIR}.old-{os.getpid()}"
        final.rename(old)
    tmp.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    infos = read_index(final)
    assert infos is not None
    return infos
