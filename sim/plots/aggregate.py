"""Many communities in one figure: the ones that matter most to it, and the rest as one.

A figure with a row, a bar or a label per community stays readable (and its files small) up
to :data:`MAX_COMMUNITIES` communities. Beyond that it shows the communities that rank highest
by what the figure is about (help given and received, cost, shortfall against the target) and,
where a sum means something, the others together as one row or bar, named by their number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

__all__ = ["MAX_COMMUNITIES", "OTHERS", "fold", "others_label", "top"]

MAX_COMMUNITIES = 12  # communities a figure shows one by one
OTHERS = "_others"  # the id of the rest, folded together (not a valid community id)


def top(scores: Mapping[str, float], order: Sequence[str], n: int = MAX_COMMUNITIES) -> list[str]:
    """The ``n`` ids of ``order`` with the highest score (on a tie the earlier one), in the
    order of ``order``; every id when there are at most ``n + 1`` (folding one into "others"
    would hide a community and save nothing)."""
    if len(order) <= n + 1:
        return list(order)
    rank = sorted(range(len(order)), key=lambda i: (-scores.get(order[i], 0.0), i))
    chosen = set(sorted(rank[:n]))
    return [c for i, c in enumerate(order) if i in chosen]


def fold(matrix: pd.DataFrame, keep: Sequence[str]) -> pd.DataFrame:
    """A square matrix (rows and columns by community) with ``keep``'s rows and columns, and
    the other communities summed into one row and column :data:`OTHERS` (last); unchanged
    when ``keep`` holds them all."""
    rest = [c for c in matrix.index if c not in set(keep)]
    if not rest:
        return matrix.loc[list(keep), list(keep)]
    group = {c: (c if c in set(keep) else OTHERS) for c in matrix.index}
    order = [*keep, OTHERS]
    rows = matrix.groupby(group).sum().reindex(order)
    return rows.T.groupby(group).sum().reindex(order).T


def others_label(count: int) -> str:
    return f"{count} others"
