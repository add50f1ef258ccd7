"""One incident table as the per-replication measures read it, worked out once and shared.

The metrics, the zone rows, the response counts, the backlog rows and the unreached counts of
a replication all read the same table: the calls after the warm-up, the same columns as numpy
arrays, the same grouping keys (:mod:`sim.analysis.grouping`) and, for the fractiles, the same
order of the response times. An :class:`IncidentView` computes each of these the first time a
measure asks and keeps it for the next; every measure also takes a plain DataFrame.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TypeAlias

import numpy as np
import pandas as pd

from .grouping import Key, Ranking, category_key, number_key, text_key

__all__ = ["IncidentTable", "IncidentView"]

_KEYS = {"text": text_key, "number": number_key, "category": category_key}


class IncidentView:
    """Lazily computed, cached arrays and keys of one incident ``table``."""

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table
        self._keys: dict[tuple[str, str], Key] = {}
        self._arrays: dict[str, np.ndarray] = {}
        self._flags: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    @classmethod
    def of(cls, incidents: IncidentTable) -> IncidentView:
        return incidents if isinstance(incidents, IncidentView) else cls(incidents)

    def __len__(self) -> int:
        return len(self.table)

    def key(self, column: str, kind: str = "text") -> Key:
        """The grouping key of ``column``: ``text`` (as pandas groups ``astype(str)``),
        ``number`` (an integer column in numeric order) or ``category`` (a categorical in the
        order of its categories)."""
        if (column, kind) not in self._keys:
            self._keys[column, kind] = _KEYS[kind](self.table[column])
        return self._keys[column, kind]

    def floats(self, column: str) -> np.ndarray:
        """The column as float64 (missing values NaN)."""
        return self._cached(
            column, lambda: self.table[column].to_numpy(dtype=np.float64, na_value=np.nan)
        )

    def _cached(self, name: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        if name not in self._arrays:
            self._arrays[name] = make()
        return self._arrays[name]

    def flags(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """A boolean column (nullable or not): its values as 0.0/1.0, and where it is known."""
        column_ = self.table[column]
        known = column_.notna().to_numpy()
        return column_.to_numpy(dtype=np.float64, na_value=0.0), known

    @cached_property
    def counted(self) -> np.ndarray:
        """The rows of calls after the warm-up (what every measure counts)."""
        return np.flatnonzero(~self.table["warmup"].to_numpy(dtype=bool))

    def counted_floats(self, column: str) -> np.ndarray:
        """:meth:`floats` at the :attr:`counted` rows."""
        return self._cached(f"counted {column}", lambda: self.floats(column)[self.counted])

    def counted_flags(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`flags` at the :attr:`counted` rows."""
        if column not in self._flags:
            values, known = self.flags(column)
            self._flags[column] = values[self.counted], known[self.counted]
        return self._flags[column]

    @cached_property
    def responses(self) -> Ranking:
        """The responses of the counted calls in ascending order (never reached last), and
        their positions among them: one sort for every fractile of every grouping."""
        return Ranking.of(self.counted_floats("response"))


IncidentTable: TypeAlias = pd.DataFrame | IncidentView
"""An incident table, or its view when several measures read it."""
