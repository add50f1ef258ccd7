"""Writing results: every output directory appears complete or not at all.

Files are written into a temporary sibling directory which is renamed into place at the end,
so a run killed at any moment leaves either the previous complete outputs or none. An existing
non-empty directory is replaced only when the caller allows it (``--overwrite``).

A command claims its destination before any work (:func:`claim_out_dir`): the destination is
checked (not the current directory, not a mount point, a name the file system takes, a parent
that can be written), an exclusive lock is taken on it for the whole command (a second
command writing the same directory is refused at once), and the temporary directory is
reserved. Whatever ends the command (an error, Ctrl-C, SIGTERM) removes the temporary
directory and the lock (:func:`release_claims`). A failure to write after the work is done
(disk full) is one line (:class:`~sim.errors.OutputError`) that says where the results are.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import json
import os
import platform
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, OutputError, Terminated

__all__ = [
    "atomic_write_text",
    "check_out_dir",
    "claim_out_dir",
    "directory_size",
    "file_sha256",
    "inside",
    "manifest",
    "output_dir",
    "release_claims",
    "write_csv",
    "write_json",
    "write_parquet",
]

DIR_MODE, FILE_MODE = 0o755, 0o644
PACKAGES = ("intersim", "numpy", "simpy", "pandas", "pyarrow", "scipy", "pydantic", "matplotlib")
_SUFFIX_ROOM = 40  # characters that the temporary and lock names add to the directory's name


def _destination(path: str | Path) -> Path:
    """The absolute destination of ``path``; InputError for a name that cannot be one."""
    text = os.fspath(path)
    if not text.strip():
        raise InputError("--out: the output directory name is empty")
    dest = Path(os.path.abspath(text))
    if dest.parent == dest:
        raise InputError(f"{text}: the root directory cannot be an output directory")
    return dest


def _name_max(directory: Path) -> int:
    probe = directory
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    try:
        return os.pathconf(probe, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _first_existing(directory: Path) -> Path:
    probe = directory
    while not probe.exists():
        probe = probe.parent
    return probe


def check_out_dir(path: str | Path, overwrite: bool, *, in_place: bool = False) -> None:
    """Refuse, before any work, a target that cannot or must not be written.

    ``in_place``: the directory is written into directly (a sweep), not replaced by a
    rename, so it may be a mount point or the current directory.
    """
    dest = _destination(path)
    try:
        if len(os.fsencode(dest.name)) + (0 if in_place else _SUFFIX_ROOM) > _name_max(dest.parent):
            raise InputError(f"{path}: the name {dest.name[:40]!r}... is too long")
        if dest.exists() and not dest.is_dir():
            raise InputError(f"{path}: exists and is not a directory")
        if not in_place:
            cwd = Path.cwd()
            if dest == cwd or dest in cwd.parents:
                raise InputError(
                    f"{path}: the current directory (or one above it) cannot be replaced by "
                    "the results; name a new directory, e.g. results/run1"
                )
            if dest.is_dir() and os.path.ismount(dest):
                raise InputError(
                    f"{path}: is a mount point; results are written beside the output "
                    f"directory and renamed into place, so give a directory inside it, e.g. "
                    f"{Path(path) / 'run1'}"
                )
        if dest.is_dir() and any(dest.iterdir()) and not overwrite:
            raise InputError(
                f"{path}: output directory is not empty (use --overwrite to replace it)"
            )
        probe = _first_existing(dest.parent)
        if not probe.is_dir():
            raise InputError(f"{path}: {probe} is not a directory")
        if not os.access(probe, os.W_OK | os.X_OK):
            raise InputError(f"{path}: cannot write in {probe}")
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None


@dataclass
class _Claim:
    """A destination locked by this process, and the temporary directory reserved for it."""

    dest: Path
    lock: Path
    fd: int
    tmp: Path | None = None

    def release(self, keep: bool = False) -> None:
        """Remove the temporary directory (unless ``keep``) and the lock; once."""
        if self.tmp is not None and not keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp = None
        if self.fd >= 0:
            self.lock.unlink(missing_ok=True)  # before unlocking: see _lock
            os.close(self.fd)
            self.fd = -1
        _CLAIMS.pop(self.dest, None)


_CLAIMS: dict[Path, _Claim] = {}


def _lock(dest: Path) -> tuple[Path, int]:
    """An exclusive lock on ``dest`` (a lock file beside it), or InputError if another process
    holds it. A holder removes the file before unlocking it, so a lock taken on a file that no
    longer has the name is retried."""
    lock = dest.parent / f".{dest.name}.lock"
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise InputError(
                f"{dest}: another intersim command is writing this output directory now; "
                "wait for it to finish or give another --out"
            ) from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return lock, fd
        os.close(fd)


def _claim(path: str | Path, overwrite: bool) -> _Claim:
    check_out_dir(path, overwrite)
    dest = _destination(path)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        lock, fd = _lock(dest)
    except OSError as exc:
        raise InputError(f"{path}: cannot write there ({exc.strerror or exc})") from None
    claim = _Claim(dest, lock, fd)
    try:
        check_out_dir(path, overwrite)  # again, now that no other command can change it
        remove_stale(dest)
        claim.tmp = Path(
            tempfile.mkdtemp(prefix=f".{dest.name}.{os.getpid()}.", suffix=".tmp", dir=dest.parent)
        )
        claim.tmp.chmod(DIR_MODE)  # mkdtemp makes it private; results are meant to be shared
    except BaseException as exc:
        claim.release()
        if isinstance(exc, OSError):
            raise InputError(f"{path}: cannot write there ({exc.strerror or exc})") from None
        raise
    _CLAIMS[dest] = claim
    return claim


def claim_out_dir(path: str | Path, overwrite: bool) -> None:
    """Check, lock and reserve the output directory ``path`` before any work; the claim holds
    until the results are in place (:func:`output_dir`) or :func:`release_claims`."""
    if _destination(path) not in _CLAIMS:
        _claim(path, overwrite)


def release_claims() -> None:
    """Give up every claim of this process: temporary directories and locks are removed."""
    for claim in list(_CLAIMS.values()):
        claim.release()


atexit.register(release_claims)


def _swap(claim: _Claim, tmp: Path, path: str | Path) -> None:
    """Rename the complete temporary directory into place (the old one out of the way)."""
    dest = claim.dest
    old = None
    try:
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
            dest.rename(old)
        tmp.rename(dest)
    except OSError as exc:
        if old is not None and not dest.exists():
            old.rename(dest)  # the previous results back in place
        kept = tmp.with_name(f"{dest.name}-unplaced-{os.getpid()}")
        try:
            tmp.rename(kept)
        except OSError:
            kept = tmp
        claim.release(keep=True)
        raise OutputError(
            f"{path}: the results could not be put in place ({exc.strerror or exc}); they are "
            f"complete in {kept}"
        ) from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextmanager
def output_dir(path: Path, overwrite: bool = False) -> Iterator[Path]:
    """A temporary directory to write into; renamed to ``path`` when the block succeeds. It is
    the one reserved by :func:`claim_out_dir`, or reserved now."""
    claim = _CLAIMS.get(_destination(path)) or _claim(path, overwrite)
    tmp = claim.tmp
    assert tmp is not None
    try:
        yield tmp
    except OSError as exc:
        claim.release()
        where = f" ({exc.filename})" if exc.filename else ""
        raise OutputError(
            f"{path}: writing the results failed: {exc.strerror or exc}{where}; nothing was "
            "written (the previous contents, if any, are unchanged)"
        ) from None
    except BaseException:
        claim.release()
        raise
    try:
        if Terminated.requested:  # a SIGTERM whose exception a finaliser swallowed
            raise Terminated()
        _swap(claim, tmp, path)
    except Terminated:
        claim.release()
        raise
    finally:
        claim.release(keep=True)  # renamed into place (or kept, and said where)


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


FLOAT_FORMAT = "%.6g"


def csv_text(df: pd.DataFrame) -> str:
    """``df.to_csv(index=False, float_format="%.6g", lineterminator="\n")``, with the floats
    formatted beforehand, a column at a time: the same text (``%.6g`` of each value, an empty
    field for a missing one), without pandas' several calls per value (a second for the
    zone table of a comparison)."""
    out = df.copy(deep=False)
    for i in range(df.shape[1]):
        column = df.iloc[:, i]
        if column.dtype.kind == "f":
            missing = column.isna().to_numpy()
            values = column.to_numpy(dtype=np.float64, na_value=np.nan).tolist()
            text = np.array([FLOAT_FORMAT % v for v in values], dtype=object)
            text[missing] = ""
            out.isetitem(i, pd.Series(text, index=df.index, dtype=object, copy=False))
    return out.to_csv(index=False, lineterminator="\n")


def write_csv(df: pd.DataFrame, path: Path) -> None:
    atomic_write_text(path, csv_text(df))


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


def directory_size(path: Path) -> int:
    """Bytes of the regular files under ``path`` (links not followed)."""
    total = 0
    for root, _dirs, files in os.walk(path, followlinks=False):
        for name in files:
            try:
                st = os.lstat(Path(root) / name)
            except OSError:
                continue
            total += st.st_size if stat.S_ISREG(st.st_mode) else 0
    return total


def inside(root: Path, path: Path) -> bool:
    """Whether ``path`` is a regular file inside ``root`` once every link is resolved: what a
    result directory names (figures in an index) must not lead anywhere else on the disk."""
    try:
        target = Path(path).resolve(strict=True)
        return target.is_relative_to(Path(root).resolve(strict=True)) and target.is_file()
    except (OSError, RuntimeError):  # missing, unreadable, or a loop of links
        return False


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
