"""Response-time distributions on a fixed grid of :data:`BIN` minutes: what the response figures
and their captions are drawn from, so that a result directory needs no per-incident table.

:func:`response_counts` counts the calls of a table of incidents (after the warm-up) per option
x service x priority x community and bin ``[k * BIN, (k + 1) * BIN)``, with bin -1 for calls
never reached by the horizon. Counts add up, so each replication is counted where it ran and
:func:`response_histogram` sums them into the table of ``response_histogram.parquet``.

Read back (:class:`Distribution`), the empirical CDF is exact at every bin's upper edge and at
most one bin off in between; a quantile is the upper edge of the bin it falls in, so "90 % of
calls are reached within" it holds. Calls never reached count in the denominator: a curve ends
below 100 %, and a quantile that falls among them is infinite.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .grouping import Groups
from .incidentview import IncidentTable, IncidentView

__all__ = [
    "BIN",
    "HISTOGRAM_COLUMNS",
    "Distribution",
    "distribution",
    "response_counts",
    "response_histogram",
]

BINS_PER_MINUTE = 10
BIN = 1.0 / BINS_PER_MINUTE  # minutes: 6 seconds
KEYS = ["option", "service", "priority", "community"]
HISTOGRAM_COLUMNS = (*KEYS, "response_from", "response_to", "calls")
NEVER = -1  # the bin of calls never reached


def response_counts(incidents: IncidentTable) -> pd.DataFrame:
    """Calls per option, service, priority, community and ``bin`` (its index on the grid; -1:
    never reached), after the warm-up, in sorted order of those (the option, service and
    community as text, the priority and the bin as numbers)."""
    view = IncidentView.of(incidents)
    r = view.counted_floats("response")
    reached = np.isfinite(r)
    bins = np.full(len(r), NEVER, dtype=np.int64)
    bins[reached] = np.floor(r[reached] * BINS_PER_MINUTE).astype(np.int64)
    keys = [view.key("option"), view.key("service"), view.key("priority", "number")]
    groups = Groups([*keys, view.key("community")], view.counted)
    width = int(bins.max(initial=NEVER)) + 2  # bins -1, 0, 1, ... as 0, 1, 2, ...
    pairs, calls = np.unique(groups.ids * width + (bins + 1), return_counts=True)
    group, shifted = np.divmod(pairs, width)
    columns: dict[str, object] = {  # no calls: empty columns of objects, as groupby gives
        k: groups.text(i, group) if len(group) else np.array([], dtype=object)
        for i, k in enumerate(KEYS)
    }
    columns["priority"] = groups.labels(2)[group].astype(np.int64)
    columns |= {"bin": shifted - 1, "calls": calls.astype(np.int64)}
    return pd.DataFrame(columns)


def response_histogram(counts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The counts of every replication summed: ``response_from`` and ``response_to`` (minutes)
    bound each bin; both are empty for the calls never reached."""
    frames = [c for c in counts if len(c)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in HISTOGRAM_COLUMNS})
    total = pd.concat(frames, ignore_index=True).groupby([*KEYS, "bin"], sort=True)["calls"].sum()
    out = total.reset_index()
    bins = out["bin"].to_numpy(dtype=np.float64)
    reached = bins >= 0
    out["response_from"] = np.where(reached, bins / BINS_PER_MINUTE, np.nan)
    out["response_to"] = np.where(reached, (bins + 1) / BINS_PER_MINUTE, np.nan)
    out["calls"] = out["calls"].astype(np.int64)
    return out[list(HISTOGRAM_COLUMNS)]


def _dtype(column: str) -> str:
    if column in ("priority", "calls"):
        return "int64"
    return "float64" if column.startswith("response") else "object"


@dataclass(frozen=True)
class Distribution:
    """The response times of a set of calls on the grid: ``upper`` edges of the bins that hold
    calls (increasing), their ``counts``, and the calls ``never`` reached."""

    upper: np.ndarray
    counts: np.ndarray
    never: int

    @property
    def calls(self) -> int:
        return int(self.counts.sum()) + self.never

    def ecdf(self, max_points: int) -> tuple[np.ndarray, np.ndarray]:
        """Points (x, F(x)) at bin upper edges, at most ``max_points`` (at evenly spaced ranks),
        the calls never reached in the denominator."""
        if self.calls == 0 or len(self.upper) == 0:
            return np.zeros(0), np.zeros(0)
        cum = np.cumsum(self.counts)
        keep = np.arange(len(cum))
        if len(cum) > max_points:
            ranks = np.linspace(1, cum[-1], max_points)
            keep = np.unique(np.searchsorted(cum, ranks, side="left"))
        return self.upper[keep], cum[keep] / self.calls

    def quantile(self, q: float, reached_only: bool = False) -> float:
        """The ``q`` quantile (numpy's 'higher'): the upper edge of the bin holding it; calls
        never reached count as infinitely late unless ``reached_only``."""
        n = int(self.counts.sum()) + (0 if reached_only else self.never)
        if n == 0:
            return math.nan
        position = math.ceil(q * (n - 1))
        cum = np.cumsum(self.counts)
        i = int(np.searchsorted(cum, position, side="right"))
        return float(self.upper[i]) if i < len(cum) else math.inf


def distribution(histogram: pd.DataFrame) -> Distribution:
    """The calls of the rows of ``histogram`` (e.g. one option, service and priority, every
    community) as one distribution."""
    reached = histogram["response_to"].notna()
    never = int(histogram.loc[~reached, "calls"].sum())
    by_bin = histogram[reached].groupby("response_to", sort=True)["calls"].sum()
    return Distribution(
        by_bin.index.to_numpy(dtype=np.float64), by_bin.to_numpy(dtype=np.int64), never
    )
