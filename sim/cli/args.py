"""Argument types shared by the command-line parsers: each rejects bad values with a clear
message that argparse turns into a one-line usage error (exit code 2)."""

from __future__ import annotations

import argparse

__all__ = ["add_executor_arguments", "fraction", "non_negative_int", "positive_int"]


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def fraction(text: str) -> float:
    """A number strictly between 0 and 1, such as a precision or a share."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, e.g. 0.05: {text!r}")
    return value


def add_executor_arguments(p: argparse.ArgumentParser) -> None:
    """``--workers`` and ``--dask``: where the tasks of a sweep, sizing or coalition game run."""
    p.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="worker processes (default: all CPUs; 1 runs in this process; with "
        "--dask local: Dask workers, default 2)",
    )
    p.add_argument(
        "--dask",
        metavar="local|ADDRESS",
        help="run on Dask: 'local' starts a local cluster, or a scheduler address",
    )
