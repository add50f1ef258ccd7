"""Commands on a result directory: ``plot`` (redraw the figures), ``report`` (rebuild
``report.html``) and ``rerun`` (repeat the run and check that the tables match)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..engine.progress import progress_bar
from ..errors import InputError
from ..plots import figure_steps, redraw_figures
from ..report.page import build_report
from ..results.read import load_result
from ..runs.rerun import rerun
from ..sweeps.plots import draw_sweep_figures, is_sweep_dir
from .command import Command
from .exits import EXIT_FAIL, EXIT_OK
from .main import main

__all__ = ["COMMANDS"]


def _dir_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", metavar="DIR", help="result directory written by 'intersim compare'")


def _plot(args: argparse.Namespace) -> int:
    if is_sweep_dir(args.dir):  # a sweep directory: metric-vs-parameter figures
        paths = draw_sweep_figures(Path(args.dir))
        print(f"{len(paths)} figure(s) in {Path(args.dir) / 'figures'}")
        return EXIT_OK
    load_result(Path(args.dir))  # a bad directory is one line, before any progress
    try:
        with progress_bar("drawing figures", "step", total=figure_steps()) as bar:
            infos = redraw_figures(Path(args.dir), on_step=bar.step)
    except OSError as exc:
        raise InputError(f"{args.dir}: cannot write figures: {exc}") from None
    print(f"{len(infos)} figure(s) (PNG and SVG) in {Path(args.dir) / 'figures'}")
    print(f"the report embeds its own copies: run 'intersim report {args.dir}' to rebuild it")
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    try:
        path = build_report(Path(args.dir))
    except OSError as exc:
        raise InputError(f"{args.dir}: cannot write the report: {exc}") from None
    print(f"report: {path}")
    return EXIT_OK


def _rerun_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "dir", metavar="DIR", help="result directory written by 'intersim run' or 'compare'"
    )


def _rerun(args: argparse.Namespace) -> int:
    report = rerun(Path(args.dir), main)
    print(report.text)
    return EXIT_OK if report.identical else EXIT_FAIL


COMMANDS = {
    "plot": Command(_dir_argument, _plot),
    "report": Command(_dir_argument, _report),
    "rerun": Command(_rerun_arguments, _rerun),
}
