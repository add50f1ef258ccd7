"""Writing results: every output directory appears complete or not at all.

Files are written into a temporary sibling directory which is renamed into place at the end,
so a run killed at any moment leaves either the previous complete outputs or none. An existing
non-empty directory is replaced only when the caller allows it (``--overwrite``).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError

__all__ = [
    "atomic_write_text",
    "check_out_dir",
    "file_sha256",
    "manifest",
    "output_dir",
    "write_csv",
    "write_json",
    "write_parquet",
]

DIR_MODE, FILE_MODE = 0o755, 0o644
PACKAGES = ("intersim", "numpy", "simpy", "pandas", "pyarrow", "scipy", "pydantic", "matplotlib")


def check_out_dir(path: Path, overwrite: bool) -> None:
    """Refuse, before any work, a target that cannot or must not be written."""
    if path.exists() and not path.is_dir():
        raise InputError(f"{path}: exists and is not a directory")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise InputError(f"{path}: output directory is not empty (use --overwrite to replace it)")
    parent = path.resolve().parent
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not os.access(probe, os.W_OK):
        raise InputError(f"{path}: cannot write in {probe}")


@contextmanager
def output_dir(path: Path, overwrite: bool = False) -> Iterator[Path]:
    """A temporary directory to write into; renamed to ``path`` when the block succeeds."""
    check_out_dir(path, overwrite)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(path)
        tmp = Path(
            tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
        )
        tmp.chmod(DIR_MODE)  # mkdtemp makes it private; results are meant to be shared
    except OSError as exc:
        raise InputError(f"{path}: cannot write there ({exc.strerror})") from None
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if path.exists():
        old = path.with_name(f".{path.name}.old-{os.getpid()}")
        path.rename(old)
    tmp.rename(path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def remove_stale(path: Path) -> None:
    """Remove temporary directories left by runs of ``path`` that were killed."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        pid = tmp.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(tmp, ignore_errors=True)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(df: pd.DataFrame, path: Path) -> None:
    atomic_write_text(path, df.to_csv(index=False, float_format="%.6g", lineterminator="\n"))


def write_json(data: Any, path: Path) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")
    os.replace(tmp, path)


def write_raw_tables(out: Path, incidents: pd.DataFrame, units: pd.DataFrame) -> None:
    """The per-incident and per-unit tables of every option and replication."""
    write_parquet(incidents, out / "incidents.parquet")
    write_parquet(units, out / "units.parquet")


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def manifest(
    *,
    scenario_file: Path,
    command: str,
    seed: int,
    replications: int,
    options: list[str],
    started: datetime,
    seconds: float,
    warnings: list[str],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What is needed to repeat a run, and what it was run with."""
    return {
        "intersim_command": command,
        "scenario_file": str(scenario_file),
        "scenario_sha256": file_sha256(scenario_file),
        "seed": seed,
        "replications": replications,
        "options": options,
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "runtime_s": round(seconds, 3),
        "warnings": warnings,
        "versions": _versions(),
        "platform": platform.platform(),
        **(extra or {}),
    }
