"""Travel-time matrix files: CSV or Parquet, long (``from, to, minutes``) or wide (first
column = from, header = to ids), read with pyarrow so that a million rows load in a fraction
of a second.

The reader checks what the file says about itself: ids as text (never ``1391.0``), every
time present, finite and non-negative, no pair twice; problems name the file and the line
(CSV) or row (Parquet). Which ids are places, and whether every pair the model needs is
there, is checked by :mod:`sim.schema.travelcheck`. The YAML size cap does not apply: a
matrix file has its own (:data:`MAX_BYTES`, :data:`MAX_IDS`). Results are cached by path,
modification time and size, so that validating and compiling read the file once.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ..errors import Problem, ScenarioError
from .datapaths import checked_file_key, shown_path

__all__ = ["LONG_COLUMNS", "MAX_BYTES", "MAX_IDS", "MatrixRows", "read_matrix_file"]

MAX_BYTES = 2 * 2**30
MAX_IDS = 20_000
LONG_COLUMNS = ("from", "to", "minutes")


@dataclass(frozen=True)
class MatrixRows:
    """The times of a matrix file, one entry per given pair."""

    source: str  # the file as messages name it
    ids: tuple[str, ...]  # every id the file names
    src: np.ndarray  # (n,) index into ids
    dst: np.ndarray  # (n,)
    minutes: np.ndarray  # (n,) float64
    row: np.ndarray  # (n,) data row of each entry, 0-based
    wide: bool
    parquet: bool

    def entries(self, index: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(from, to, minutes) with places numbered by ``index``; -1 for ids not in it."""
        codes = np.array([index.get(i, -1) for i in self.ids], dtype=np.int64)
        return codes[self.src], codes[self.dst], self.minutes

    def first_use(self, id_index: int) -> int:
        """The first entry that names ``ids[id_index]``."""
        return int(np.flatnonzero((self.src == id_index) | (self.dst == id_index))[0])

    def problem(self, entry: int, message: str) -> Problem:
        """A problem at the row (and, in a wide file, the column) of one entry."""
        column = f"column '{self.ids[self.dst[entry]]}'" if self.wide else ""
        return _at(self.source, self.parquet, int(self.row[entry]), message, column)


def _at(source: str, parquet: bool, row: int, message: str, column: str = "") -> Problem:
    """A problem at data row ``row`` (0-based): a line of a CSV file, a row of Parquet."""
    if parquet:
        return Problem(
            source, None, None, f"row {row + 1}" + (f", {column}" if column else ""), message
        )
    return Problem(source, row + 2, None, column, message)  # line 1 is the header


def _fail(path: str, message: str, line: int | None = None, field: str = "") -> ScenarioError:
    return ScenarioError([Problem(shown_path(path), line, None, field, message)])


def read_matrix_file(path: str) -> MatrixRows:
    """The entries of the matrix file ``path``; raise ScenarioError naming the file and row."""
    return _cached(*checked_file_key(path, MAX_BYTES, "; not a travel matrix"))


# --------------------------------------------------------------------------- reading


def _header(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            return [c.strip() for c in next(csv.reader(fh), [])]
    except UnicodeDecodeError as exc:
        raise _fail(path, f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x})") from None


def _read_csv(path: str) -> tuple[Any, bool]:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names = _header(path)
    if not names or names == [""]:
        raise _fail(path, "empty file: expected a header line (from, to, minutes, or to ids)")
    if len(set(names)) < len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise _fail(path, f"column '{twice}' appears twice in the header", line=1)
    long = _is_long(path, names)
    ids = ("from", "to") if long else (names[0],)
    types = {n: (pa.string() if n in ids else pa.float64()) for n in names}
    options = pcsv.ConvertOptions(
        column_types=types,
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    read = pcsv.ReadOptions(encoding="utf-8", column_names=names, skip_rows=1)
    try:
        return pcsv.read_csv(path, read_options=read, convert_options=options), long
    except pa.ArrowInvalid as exc:
        raise _bad_cell(path, names, ids, str(exc)) from None


def _bad_cell(path: str, names: list[str], ids: tuple[str, ...], why: str) -> ScenarioError:
    """Locate the cell pyarrow could not read (its message has no line)."""
    import pandas as pd

    if "conversion error" not in why:
        return _fail(path, f"not a CSV table: {why.strip()}")
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    for name in names:
        if name in ids:
            continue
        text = table[name].str.strip()
        bad = (text != "") & pd.to_numeric(text.where(text != "", None), errors="coerce").isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            field = f"column '{name}'" if name != "minutes" else ""
            return _fail(path, f"not a number: '{text.iloc[i]}'", line=i + 2, field=field)
    return _fail(path, f"not a CSV table: {why.strip()}")


def _read_parquet(path: str) -> tuple[Any, bool]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several classes for a file that is not Parquet
        raise _fail(path, f"cannot read as Parquet: {str(exc).strip()}") from None
    index = (table.schema.pandas_metadata or {}).get("index_columns", [])
    stored = [c for c in index if isinstance(c, str) and c in table.column_names]
    if stored:  # a DataFrame's index that pandas wrote beside the columns: not a column
        table = table.drop_columns(stored)
    return table, _is_long(path, table.column_names)


def _is_long(path: str, names: list[str]) -> bool:
    """Whether the header is that of a long matrix; refuse one with other columns too."""
    given = [str(n).strip() for n in names]
    if set(given) == set(LONG_COLUMNS):
        return True
    if set(LONG_COLUMNS) <= set(given):
        more = ", ".join(f"'{n}'" for n in given if n not in LONG_COLUMNS)
        raise _fail(
            path,
            f"columns from, to, minutes and also {more}: a long matrix has exactly these three"
            " (a wide one: the from ids first, then a column per to id)",
            line=None if path.lower().endswith((".parquet", ".pq")) else 1,
        )
    return False


def _id_text(value: object) -> str | None:
    """One id as text: strings trimmed, whole numbers without a decimal point."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None


def _ids(path: str, column: Any, name: str) -> Any:
    """An id column as one array (string, integer or float; dictionary-encoded is decoded)."""
    import pyarrow as pa

    column = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    kind = column.type
    if pa.types.is_large_string(kind):
        column = column.cast(pa.string())
    elif not (pa.types.is_string(kind) or pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        raise _fail(path, f"column '{name}' holds {kind}, not ids (text or whole numbers)")
    return column


def _minutes(path: str, table: Any, name: str, parquet: bool) -> np.ndarray:
    """Column ``name`` of times as float64, NaN where empty; a cell that is not a number is
    an error naming its row and column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = table.column(name).combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    try:
        values = pc.fill_null(column.cast(pa.float64()), float("nan"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise _not_minutes(path, column, name, parquet) from None
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)


def _not_minutes(path: str, column: Any, name: str, parquet: bool) -> ScenarioError:
    """The error for a column of times that does not read as numbers: its first bad cell."""
    import pandas as pd
    import pyarrow as pa

    field = f"column '{name}'" if name != "minutes" else ""
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return _fail(path, f"column '{name}' holds {column.type}, not minutes")
    text = pd.Series(column.to_pylist(), dtype=object).fillna("").astype(str).str.strip()
    bad = (text != "") & pd.to_numeric(text.where(text != "", None), errors="coerce").isna()
    row = int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else 0
    message = f"not a number: '{text.iloc[row]}'"
    return ScenarioError([_at(shown_path(path), parquet, row, message, field)])


# --------------------------------------------------------------------------- entries


def _distinct(path: str, column: Any) -> tuple[list[str], np.ndarray]:
    """The distinct values of an id array as text, and the array as indices into them."""
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(column)
    texts: list[str] = []
    for value in encoded.dictionary.to_pylist():
        text = _id_text(value)
        if not text:
            raise _fail(path, f"place id {value!r} is neither text nor a whole number")
        texts.append(text)
    return texts, encoded.indices.to_numpy(zero_copy_only=False)


def _encode(path: str, src: Any, dst: Any) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """The distinct ids of two id arrays, and each array as indices into them. Only distinct
    values are turned into text (a million rows name a few thousand places)."""
    (src_ids, src_codes), (dst_ids, dst_codes) = _distinct(path, src), _distinct(path, dst)
    ids = tuple(dict.fromkeys([*src_ids, *dst_ids]))
    at = {pid: i for i, pid in enumerate(ids)}
    src_at = np.array([at[i] for i in src_ids], dtype=np.int64)
    dst_at = np.array([at[i] for i in dst_ids], dtype=np.int64)
    return ids, src_at[src_codes], dst_at[dst_codes]


def _long(path: str, table: Any, parquet: bool) -> MatrixRows:
    src, dst = (_ids(path, table.column(n), n) for n in ("from", "to"))
    minutes = _minutes(path, table, "minutes", parquet)
    for null, what in (
        (np.asarray(src.is_null()) | np.asarray(dst.is_null()), "no place id (from or to)"),
        (np.asarray(table.column("minutes").is_null()), "no minutes"),
    ):
        if null.any():
            row = int(np.flatnonzero(null)[0])
            raise ScenarioError([_at(shown_path(path), parquet, row, what)])
    ids, a, b = _encode(path, src, dst)
    rows = np.arange(len(minutes))
    return MatrixRows(shown_path(path), ids, a, b, minutes, rows, False, parquet)


def _wide(path: str, table: Any, parquet: bool) -> MatrixRows:
    import pyarrow as pa

    first_name, *to_names = table.column_names
    if not to_names:
        raise _fail(path, "one column only: expected from, to, minutes or a wide matrix")
    from_ids = _ids(path, table.column(first_name), first_name)
    null = np.asarray(from_ids.is_null())
    if null.any():
        row = int(np.flatnonzero(null)[0])
        raise ScenarioError(
            [_at(shown_path(path), parquet, row, "no place id in the first column")]
        )
    values = np.column_stack([_minutes(path, table, n, parquet) for n in to_names])
    empty = np.column_stack([np.asarray(table.column(n).is_null()) for n in to_names])
    rows, cols = np.nonzero(~empty)  # an empty cell gives no time for its pair
    names = pa.array([str(n).strip() for n in to_names], pa.string())
    ids, a, b = _encode(path, from_ids, names)
    source = shown_path(path)
    return MatrixRows(source, ids, a[rows], b[cols], values[rows, cols], rows, True, parquet)


def _check(rows: MatrixRows) -> None:
    """Times present, finite, non-negative; each pair once; not too many ids."""
    m = rows.minutes
    for bad, what in (
        (np.isnan(m), "minutes is NaN"),
        (np.isinf(m), "minutes is infinite"),
        (m < 0, "minutes is negative"),
    ):
        idx = np.flatnonzero(bad)
        if idx.size:
            more = f" (and {idx.size - 1} more)" if idx.size > 1 else ""
            detail = f" ({m[idx[0]]:g})" if what.endswith("negative") else ""
            raise ScenarioError([rows.problem(int(idx[0]), what + detail + more)])
    if len(rows.ids) > MAX_IDS:
        raise ScenarioError(
            [
                Problem(
                    rows.source, None, None, "", f"{len(rows.ids):,} place ids (over {MAX_IDS:,})"
                )
            ]
        )
    n = max(len(rows.ids), 1)
    keys = rows.src * n + rows.dst
    order = np.argsort(keys, kind="stable")
    twice = np.flatnonzero(np.diff(keys[order]) == 0)
    if twice.size:
        first, again = int(order[twice[0]]), int(order[twice[0] + 1])
        pair = f"{rows.ids[rows.src[again]]}->{rows.ids[rows.dst[again]]}"
        where = "line" if not rows.parquet else "row"
        at = int(rows.row[first]) + (2 if not rows.parquet else 1)
        raise ScenarioError(
            [rows.problem(again, f"pair {pair} given twice (first at {where} {at})")]
        )


@lru_cache(maxsize=2)
def _cached(path: str, _mtime: int, _size: int) -> MatrixRows:
    parquet = path.lower().endswith((".parquet", ".pq"))
    table, long = _read_parquet(path) if parquet else _read_csv(path)
    if table.num_rows == 0:
        raise _fail(path, "no rows")
    rows = _long(path, table, parquet) if long else _wide(path, table, parquet)
    _check(rows)
    return rows
