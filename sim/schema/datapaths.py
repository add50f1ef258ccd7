"""Data files named by a scenario (zones, boundaries, travel matrix): their paths.

Relative paths are relative to the scenario file. They are made absolute in the plain data,
before validation (so that positions in the file still apply), so that a validated scenario
is self-contained: it round-trips through ``model_dump`` and runs from any directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import Problem, ScenarioError

__all__ = [
    "DATA_FILE_FIELDS",
    "checked_file_key",
    "data_file_key",
    "resolve_data_paths",
    "shown_path",
]

DATA_FILE_FIELDS: tuple[tuple[str, ...], ...] = (
    ("zones", "file"),
    ("boundaries", "file"),
    ("travel", "matrix_file"),
    ("travel", "road_network", "file"),
)


def resolve_data_paths(data: Any, base: Path) -> Any:
    """``data`` with every relative data-file path made absolute against ``base``; the
    mappings on the way are copied, ``data`` itself is left unchanged."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for field in DATA_FILE_FIELDS:
        out = _resolved(out, field, base)
    return out


def _resolved(part: dict[str, Any], field: tuple[str, ...], base: Path) -> dict[str, Any]:
    """``part`` with the path at ``field`` (keys down to it) made absolute; a copy where
    anything changes."""
    key, *rest = field
    value = part.get(key)
    if rest:
        return (
            {**part, key: _resolved(value, tuple(rest), base)} if isinstance(value, dict) else part
        )
    if not (isinstance(value, str) and value):
        return part
    path = Path(value).expanduser()
    return {**part, key: os.path.abspath(path if path.is_absolute() else base / path)}


def shown_path(path: str) -> str:
    """A data file's path as messages show it: relative to the working directory when the
    file lies below it, else absolute."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


def data_file_key(path: str) -> tuple[str, int, int]:
    """Path, modification time and size: a cache key that changes when the file does."""
    st = os.stat(path)
    return path, st.st_mtime_ns, st.st_size


def checked_file_key(path: str, max_bytes: int, too_big: str) -> tuple[str, int, int]:
    """:func:`data_file_key` of a data file a user hands over, or one ScenarioError naming the
    file: missing, unreadable, or larger than ``max_bytes`` (``too_big`` says what to do)."""

    def fail(message: str) -> ScenarioError:
        return ScenarioError([Problem(shown_path(path), None, None, "", message)])

    try:
        key = data_file_key(path)
    except FileNotFoundError:
        raise fail("no such file") from None
    except OSError as exc:
        raise fail(f"cannot read: {exc.strerror}") from None
    if key[2] > max_bytes:
        raise fail(f"larger than {max_bytes // 2**30} GiB{too_big}")
    return key
