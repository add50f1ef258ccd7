"""Argument types shared by the command-line parsers: each rejects bad values with a clear
message that argparse turns into a one-line usage error (exit code 2)."""

from __future__ import annotations

import argparse

__all__ = ["fraction", "non_negative_int", "positive_int"]


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
