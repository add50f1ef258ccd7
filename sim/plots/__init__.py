"""Figures of a comparison, drawn from the tables of its result directory only.

:func:`draw_figures` writes every figure as PNG and SVG into ``DIR/figures/`` with an
``index.json`` of titles and captions (read by the report; :func:`write_figures` does that for
any figures, such as an experiment's); :func:`redraw_figures` does the
same for an existing directory and swaps the new figures in atomically (``intersim plot``).
Each module draws one concept and returns :class:`matplotlib.figure.Figure` objects, which
tests inspect. Importing this package loads no plotting library: the modules that draw are
imported where figures are drawn (``compare`` draws them in worker processes, so the command's
own process never loads matplotlib).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..collector import spared
from ..engine.execute import Executor, open_executor
from ..results.files import DIR_MODE, remove_stale
from ..results.read import ResultData, load_result

if TYPE_CHECKING:
    from .style import Drawn

__all__ = [
    "FIGURES_DIR",
    "INDEX_FILE",
    "KINDS",
    "WORKER_MODULES",
    "FigureInfo",
    "draw_figures",
    "figure_steps",
    "figure_workers",
    "iter_figures",
    "read_index",
    "redraw_figures",
    "write_figures",
]

FIGURES_DIR = "figures"
INDEX_FILE = "index.json"

# The kinds of figure in report order: each a module of this package with a ``figures(data)``
# function. ``MODULES`` is those functions (see :func:`__getattr__`).
KINDS = (
    "differences",
    "response",
    "equity",
    "units",
    "help",
    "map",
    "zones",
    "coverage",
    "timeline",
    "backlog",
    "costs",
)


# What a worker process that draws figures imports: every kind (and with them matplotlib). A
# fork server that imports them before it forks the workers spares each worker the imports
# (about 0.6 s of CPU); they take effect where the fork server starts for the figures' pool or
# is started early with them (see sim.engine.execute).
WORKER_MODULES = tuple(f"{__name__}.{kind}" for kind in KINDS)


def __getattr__(name: str) -> Any:
    """``MODULES``: the ``figures`` function of every kind, in report order, imported when first
    asked for. A test may set its own ``MODULES`` to draw a few kinds only."""
    if name == "MODULES":
        return tuple(_figures_of(kind) for kind in KINDS)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _figures_of(kind: str) -> Callable[[ResultData], Iterator[Drawn]]:
    maker: Callable[[ResultData], Iterator[Drawn]] = importlib.import_module(
        f"{__name__}.{kind}"
    ).figures
    return maker


def _makers() -> tuple[Callable[[ResultData], Iterator[Drawn]], ...]:
    """``MODULES`` as it stands (the functions of :data:`KINDS`, or a test's own)."""
    makers: tuple[Callable[[ResultData], Iterator[Drawn]], ...] = sys.modules[__name__].MODULES
    return makers


def _kinds() -> list[str]:
    """The names of the kinds drawn, without importing them where ``MODULES`` was not set."""
    given = globals().get("MODULES")
    return [_kind(m) for m in given] if given is not None else list(KINDS)


# The kinds of figure, the costliest to draw first (Five Valleys): the order in which they go to
# workers, so that the last to start are short (a kind not listed goes last).
COST_ORDER = (
    "zones",
    "response",
    "timeline",
    "map",
    "equity",
    "help",
    "coverage",
    "differences",
    "units",
    "costs",
    "backlog",
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
    for make in _makers():
        if on_step is not None:
            on_step(f"figures: {_kind(make)}")
        yield from make(data)


def write_figures(drawn: Iterable[Drawn], out: Path) -> list[FigureInfo]:
    """Save each figure as PNG and SVG into ``out``, with the
    ``index.json`` of their titles and captions that reports read."""
    infos = _save_all(drawn, out)
    _write_index(infos, out)
    return infos


def _save_all(drawn: Iterable[Drawn], out: Path) -> list[FigureInfo]:
    from .style import save

    out.mkdir(parents=True, exist_ok=True)
    infos = []
    # drawing makes many objects, and a full pass of the collector would rescan every table
    # (a tenth of the drawing time). A saved figure is not cleared: clearing rebuilds every
    # axes' ticks only to drop them, while the collector frees it.
    with spared():
        for d in drawn:
            png, svg = save(d.figure, out, d.name)
            infos.append(FigureInfo(d.name, d.section, d.title, d.caption, png, svg))
    return infos


def _write_index(infos: list[FigureInfo], out: Path) -> None:
    index = [{**asdict(i), "png": i.png.name, "svg": i.svg.name} for i in infos]
    (out / INDEX_FILE).write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")


def figure_steps() -> int:
    """The steps of :func:`draw_figures` that ``on_step`` announces: one per kind of figure."""
    return len(_kinds())


def draw_figures(
    result_dir: Path,
    out_dir: Path | None = None,
    on_step: Callable[[str], None] | None = None,
    workers: int | None = 1,
    drawers: Executor | None = None,
) -> list[FigureInfo]:
    """Draw every figure of ``result_dir`` into ``out_dir`` (default ``result_dir/figures``);
    ``on_step`` is told each kind of figure before it is drawn. With ``workers`` other than 1
    (None: every CPU), or on ``drawers`` (the :func:`figure_workers` of ``result_dir``, opened
    earlier), each kind of figure is drawn in a worker process, the costliest first, and
    ``on_step`` is told each kind once drawn: the same files, in any process."""
    data = load_result(result_dir)
    out = Path(out_dir) if out_dir is not None else Path(result_dir) / FIGURES_DIR
    if workers == 1 and drawers is None:
        return write_figures(iter_figures(data, on_step), out)
    out.mkdir(parents=True, exist_ok=True)
    kinds = _kinds()
    order = sorted(kinds, key=_cost_rank)
    drawn: dict[str, list[FigureInfo]] = {}
    pool: AbstractContextManager[Executor | None] = (
        nullcontext(drawers) if drawers is not None else figure_workers(result_dir, workers)
    )
    with pool as executor:
        assert executor is not None
        for done in executor.finished(draw_kind, [(str(out), kind) for kind in order]):
            if done.error is not None:
                raise done.error
            kind = order[done.index]
            drawn[kind] = done.value
            if on_step is not None:
                on_step(f"figures: {kind}")
    infos = [info for kind in kinds for info in drawn[kind]]
    _write_index(infos, out)
    return infos


@contextmanager
def figure_workers(result_dir: Path, workers: int | None) -> Iterator[Executor | None]:
    """The worker processes that :func:`draw_figures` draws ``result_dir``'s figures on
    (``drawers``), for the length of the block; None for ``workers=1`` (this process draws).
    Each worker starts importing the drawing modules (matplotlib with them, a third of a
    second of CPU) at once: opened before the tables are written, the imports run while this
    process writes them, on the CPU it leaves free, rather than before the first figure."""
    if workers == 1:
        yield None
        return
    with open_executor(
        str(result_dir), workers=workers, tasks=len(_kinds()), preload=WORKER_MODULES
    ) as executor:
        if executor.workers > 1:  # not where the tasks run in this process
            for _ in range(executor.workers):
                executor.start(import_kinds)
        yield executor


def import_kinds(_result_dir: str) -> None:
    """The warm-up task of :func:`figure_workers`: import the module of every kind."""
    for kind in KINDS:
        importlib.import_module(f"{__name__}.{kind}")


def _cost_rank(kind: str) -> int:
    """Where ``kind`` goes to the workers: by :data:`COST_ORDER`, a kind it misses last."""
    return COST_ORDER.index(kind) if kind in COST_ORDER else len(COST_ORDER)


def draw_kind(result_dir: str, out: str, kind: str) -> list[FigureInfo]:
    """The task of :func:`draw_figures` on workers: draw and save the figures of the module
    ``kind`` (imported here: a worker loads only what it draws)."""
    return _save_all(_figures_of(kind)(load_result(Path(result_dir))), Path(out))


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
