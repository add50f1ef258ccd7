"""Grouped reductions on integer keys: what ``DataFrame.groupby`` gives for the incident
tables, bit for bit, without turning categories into strings or hashing them row by row.

The measures of every replication group some 200,000 incidents several ways (by option,
service, priority, community, zone). Done by pandas on the keys as text, most of the time went
into converting categoricals to strings and factorising them again for each grouping. Here a
:class:`Key` is one grouping column as integer codes, numbered in the order pandas sorts its
values (as text when the pandas version grouped ``astype(str)``), and :class:`Groups` numbers
the observed combinations of some keys densely in that sorted order. Reductions then work on
the dense numbers: counts and integer sums by ``bincount``; quantiles and medians with pandas'
own formulas on one sort per grouping (which can start from one shared sort of the values);
means through pandas' groupby on the dense numbers, since its compensated sum is what the
tables always held and no numpy reduction reproduces it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

__all__ = [
    "Groups",
    "Key",
    "Ranking",
    "category_key",
    "flag_means",
    "median_of",
    "number_key",
    "quantile_of",
    "text_key",
]

DENSE_LIMIT = 1 << 20  # combined key spaces up to this size are numbered by bincount
Sorted = tuple[np.ndarray, np.ndarray, np.ndarray]  # see Groups.sorted_values


@dataclass(frozen=True)
class Key:
    """One grouping column: ``codes`` per row (-1: missing, left out as groupby drops it),
    numbered so that sorting codes sorts the values; ``labels`` holds the value of each code."""

    codes: np.ndarray
    labels: np.ndarray

    @property
    def size(self) -> int:
        return len(self.labels)

    @cached_property
    def text(self) -> pd.api.extensions.ExtensionArray:
        """The labels as a pandas string array (what groupby on text gives back), to take
        from: far quicker than building strings for every group."""
        return pd.array(self.labels, dtype="str")


def _factor_integers(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes in numeric order and the distinct values of integer ``values``."""
    if not len(values):
        return np.zeros(0, dtype=np.int64), values[:0]
    lo, hi = int(values.min()), int(values.max())
    if hi - lo < DENSE_LIMIT:
        shifted = values.astype(np.int64) - lo
        present = np.bincount(shifted, minlength=hi - lo + 1) > 0
        number = np.cumsum(present) - 1
        return number[shifted], (np.flatnonzero(present) + lo).astype(values.dtype)
    uniques, codes = np.unique(values, return_inverse=True)
    return codes.ravel().astype(np.int64), uniques


def _ranked(names: list[str], codes: np.ndarray) -> Key:
    """``codes`` into ``names`` renumbered in the order the names sort (as text)."""
    order = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names) + 1, dtype=np.int64)
    rank[order] = np.arange(len(names))
    rank[-1] = -1  # a missing value stays missing
    return Key(rank[codes], np.array([names[i] for i in order], dtype=object))


def text_key(column: pd.Series) -> Key:
    """The column as pandas groups ``column.astype(str)``: its values as text, sorted as text."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        names = [str(c) for c in column.cat.categories]
        return _ranked(names, column.cat.codes.to_numpy().astype(np.int64))
    values = column.to_numpy()
    if np.issubdtype(values.dtype, np.integer):
        codes, uniques = _factor_integers(values)
        return _ranked([str(u) for u in uniques], codes)
    codes, uniques = pd.factorize(column.astype(str), sort=True)
    return Key(np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object))


def category_key(column: pd.Series) -> Key:
    """A categorical column in the order of its categories (as pandas groups a categorical);
    any other column as :func:`text_key`."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return text_key(column)
    labels = np.array([str(c) for c in column.cat.categories], dtype=object)
    return Key(column.cat.codes.to_numpy().astype(np.int64), labels)


def number_key(column: pd.Series) -> Key:
    """A numeric column in numeric order (labels keep the column's dtype); any other column
    as :func:`text_key`."""
    values = column.to_numpy()
    if np.issubdtype(values.dtype, np.integer):
        codes, uniques = _factor_integers(values)
        return Key(codes, uniques)
    if np.issubdtype(values.dtype, np.floating):
        codes, distinct = pd.factorize(values, sort=True)
        return Key(np.asarray(codes, dtype=np.int64), np.asarray(distinct))
    return text_key(column)


@dataclass(frozen=True)
class Ranking:
    """Values in ascending order (NaN last), and where each came from (``order``)."""

    order: np.ndarray
    sorted: np.ndarray

    @property
    def values(self) -> np.ndarray:
        """The values in their own order."""
        out = np.empty_like(self.sorted)
        out[self.order] = self.sorted
        return out

    @classmethod
    def of(cls, values: np.ndarray) -> Ranking:
        order = np.argsort(values)
        return cls(order, values[order])


class Groups:
    """The observed combinations of ``keys`` over ``rows`` (indices; default every row),
    numbered 0, 1, ... in sorted order of the keys: ``ids`` gives each row's group, and the
    reductions give one value per group of ``values`` given one per row of ``rows``."""

    def __init__(self, keys: Sequence[Key], rows: np.ndarray | None = None) -> None:
        combined = np.zeros(len(keys[0].codes) if keys else 0, dtype=np.int64)
        for key in keys:
            combined *= key.size
            combined += key.codes
        if rows is not None:
            combined = combined[rows]
        self._keep: np.ndarray | None = None
        if any(k.codes.min(initial=0) < 0 for k in keys):  # groupby leaves such rows out
            known = np.ones(len(combined), dtype=bool)
            for key in keys:
                known &= (key.codes if rows is None else key.codes[rows]) >= 0
            self._keep, combined = known, combined[known]
        observed, ids = _numbered(combined, int(np.prod([k.size for k in keys])))
        self.keys = tuple(keys)
        self.ids = ids
        self._observed = observed
        self.parent: np.ndarray | None = None  # set by coarser(): the finer grouping's map
        self._finer: Groups | None = None
        self._ranked: tuple[Ranking, np.ndarray] | None = None

    @property
    def count(self) -> int:
        return len(self._observed)

    def __len__(self) -> int:
        return self.count

    def coarser(self, keep: Sequence[int]) -> Groups:
        """The grouping by the keys numbered ``keep`` alone, made from this one: each of its
        groups is a union of some of these (``parent``: this grouping's group -> its own),
        so that integer sums can be added up from these (:meth:`roll_up`)."""
        out = object.__new__(Groups)
        keys = [self.keys[i] for i in keep]
        combined = np.zeros(self.count, dtype=np.int64)
        for i, key in zip(keep, keys, strict=True):
            combined *= key.size
            combined += self.codes(i)
        out._observed, out.parent = np.unique(combined, return_inverse=True)
        out.parent = out.parent.ravel()
        out.keys, out._keep = tuple(keys), self._keep
        out.ids = out.parent[self.ids]
        out._finer, out._ranked = self, None
        return out

    def roll_up(self, finer: np.ndarray) -> np.ndarray:
        """Sums of the finer grouping's integer-valued ``finer`` sums, per group (exact)."""
        assert self.parent is not None, "only a coarser() grouping rolls up"
        return np.bincount(self.parent, weights=finer, minlength=self.count)

    def codes(self, i: int) -> np.ndarray:
        """The code of key ``i`` of each group."""
        rest = self._observed
        for key in reversed(self.keys[i + 1 :]):
            rest = rest // key.size
        return rest % self.keys[i].size

    def labels(self, i: int) -> np.ndarray:
        """The value of key ``i`` of each group."""
        return self.keys[i].labels[self.codes(i)]

    def text(self, i: int, at: np.ndarray | None = None) -> pd.api.extensions.ExtensionArray:
        """The value of key ``i`` of each group as text (a pandas string array); of the
        groups numbered ``at``, if given."""
        codes = self.codes(i)
        return self.keys[i].text.take(codes if at is None else codes[at])

    @cached_property
    def order(self) -> np.ndarray:
        """The rows (positions) sorted by group, in their order within each group."""
        small = self.ids.astype(np.uint16) if self.count <= 1 << 16 else self.ids  # radix sort
        return np.argsort(small, kind="stable")

    @cached_property
    def sizes(self) -> np.ndarray:
        """Rows per group."""
        return np.bincount(self.ids, minlength=self.count)

    def total(self, values: np.ndarray) -> np.ndarray:
        """Sum per group; exact for counts and other integer-valued floats, which is what it
        is for."""
        return np.bincount(self.ids, weights=self._at(values), minlength=self.count)

    def means(self, columns: dict[str, np.ndarray]) -> pd.DataFrame:
        """Mean per group of each column, NaN left out: pandas' groupby mean (its compensated
        sum), one row per group in group order."""
        frame = pd.DataFrame({c: self._at(v) for c, v in columns.items()})
        # as a categorical of the dense numbers, groupby takes them as they are (no hashing)
        number = pd.Categorical.from_codes(self.ids, categories=pd.RangeIndex(self.count))
        return frame.groupby(pd.CategoricalIndex(number), observed=False).mean()

    def sorted_values(self, values: np.ndarray | Ranking) -> Sorted:
        """Each group's values ascending (NaN last), concatenated in group order; where each
        group starts; how many values each has that are not NaN. Given a :class:`Ranking`
        of the values (one sort shared by several groupings of the same rows), only the
        groups are sorted, and those of a coarser grouping are read off the finer one's."""
        if not isinstance(values, Ranking) or self._keep is not None:
            values = Ranking.of(self._at(values.values if isinstance(values, Ranking) else values))
        small = self._ids_by(values)
        perm = np.argsort(small, kind="stable")  # 16-bit group numbers: a radix sort
        starts = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.intp)
        valid = np.bincount(small, ~np.isnan(values.sorted), self.count).astype(np.intp)
        return values.sorted[perm], starts, valid

    def _ids_by(self, ranking: Ranking) -> np.ndarray:
        """The group of each value in the order of ``ranking`` (kept for the last ranking)."""
        if self._ranked is None or self._ranked[0] is not ranking:
            if self.parent is not None and self._finer is not None:
                ids = self.parent[self._finer._ids_by(ranking)]
            else:
                ids = self.ids[ranking.order]
            small = ids.astype(np.uint16) if self.count <= 1 << 16 else ids
            self._ranked = (ranking, small)
        return self._ranked[1]

    def _at(self, values: np.ndarray) -> np.ndarray:
        return values if self._keep is None else values[self._keep]


def _numbered(combined: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``combined`` (sorted) and each one's number among them."""
    if space <= max(DENSE_LIMIT, 4 * len(combined)):
        present = np.bincount(combined, minlength=space) > 0
        return np.flatnonzero(present), (np.cumsum(present) - 1)[combined]
    observed, ids = np.unique(combined, return_inverse=True)
    return observed, ids.ravel()


def flag_means(ones: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Means of 0/1 values from their sums and counts per group (NaN where none is known):
    the sums are exact, so this is what any mean gives."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(known > 0, ones / known, np.nan)


def quantile_of(groups: Sorted, q: float) -> np.ndarray:
    """The ``q`` quantile of each group of :meth:`Groups.sorted_values`, as pandas' groupby
    interpolates it: the value at ``int(q * (n - 1))``, plus ``frac`` of the step to the next
    one unless the position is whole."""
    values, starts, n = groups
    out = np.full(len(n), np.nan)
    has = n > 0
    position = q * (n[has] - 1).astype(np.float64)
    i = position.astype(np.int64)
    frac = np.fmod(position, 1.0)
    at = starts[has] + i
    val = values[at]
    step = frac != 0.0
    nxt = values[np.where(step, at + 1, at)]
    out[has] = np.where(step, val + (nxt - val) * frac, val)
    return out


def median_of(groups: Sorted) -> np.ndarray:
    """The median of each group of :meth:`Groups.sorted_values`, as pandas' groupby takes it:
    the middle value, or the mean of the two middle ones."""
    values, starts, n = groups
    out = np.full(len(n), np.nan)
    has = n > 0
    m = n[has]
    upper = values[starts[has] + m // 2]
    lower = values[starts[has] + np.maximum(m // 2 - 1, 0)]
    out[has] = np.where(m % 2 == 1, upper, (upper + lower) / 2)
    return out
