"""The results store of a sweep: one SQLite file, ``DIR/sweep.sqlite``.

Why SQLite (and not one Parquet file per task): a finished task is recorded in one transaction
(its status row and its result rows together), so after Ctrl-C, ``kill -9`` or a power cut a
task is either stored completely or not at all, and a primary key on the task index makes a
duplicate impossible. Resuming is one query (which tasks are stored?), the store is one file
that any tool can read (Python's sqlite3, R's RSQLite, the ``sqlite3`` shell), and thousands of
tasks do not become thousands of small files. Only the parent process writes (workers return
their rows), in WAL mode so that readers, e.g. a notebook watching progress, never block it.

Tables:

``meta``     key/value: the definition hash, the definition (JSON), intersim version, created.
``points``   one row per design point: ``point`` and one column per parameter path.
``tasks``    one row per finished task: ``task``, ``point``, ``option``, ``replication``,
             ``status`` (``ok`` or ``failed``), ``error``, ``traceback``, ``warnings``,
             ``seconds``, ``finished``.
``results``  tidy rows, one per task x service: ``task``, ``point``, ``option``,
             ``replication``, ``service``, the parameter columns, then the metrics
             (``incidents``, ``mean_response``, ``p90_response``, ``within_target``,
             ``mean_wait``, ``waited``, ``open``, ``busy_fraction``; NULL when undefined).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError
from ..version import __version__
from .definition import SweepDefinition, Task
from .task import METRICS

__all__ = ["STORE_NAME", "Store", "read_failures", "read_points", "read_rows"]

STORE_NAME = "sweep.sqlite"
LOCK_NAME = "sweep.lock"
KEYS = ("task", "point", "option", "replication", "service")


def _q(name: str) -> str:
    """A quoted SQL identifier (parameter paths contain dots)."""
    return '"' + name.replace('"', '""') + '"'


def _connect(path: Path, *, reader: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30)
    if not reader:  # readers only read; WAL lets them do so while the parent writes
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL: durable across process crashes
    return conn


class Store:
    """The parent's handle on the store: open (create or check), record tasks, read back."""

    def __init__(self, directory: Path, definition: SweepDefinition) -> None:
        self.directory = directory
        self.path = directory / STORE_NAME
        self.definition = definition
        self.params = definition.paths
        self._lock_fd = lock_store(directory / LOCK_NAME)
        fresh = not self.path.exists()
        self.conn = _connect(self.path)
        try:
            if fresh:
                self._create()
            else:
                self._check()
        except BaseException:
            self.close()
            raise

    # -- setup -------------------------------------------------------------------------------

    def _create(self) -> None:
        d = self.definition
        params = "".join(f", {_q(p)}" for p in self.params)
        metrics = "".join(f", {_q(m)} REAL" for m in METRICS)
        with self.conn:
            self.conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self.conn.execute(f"CREATE TABLE points (point INTEGER PRIMARY KEY{params})")
            self.conn.execute(
                "CREATE TABLE tasks (task INTEGER PRIMARY KEY, point INTEGER NOT NULL, "
                "option TEXT NOT NULL, replication INTEGER NOT NULL, "
                "status TEXT NOT NULL CHECK (status IN ('ok', 'failed')), error TEXT, "
                "traceback TEXT, warnings TEXT, seconds REAL, finished TEXT)"
            )
            self.conn.execute(
                "CREATE TABLE results (task INTEGER NOT NULL REFERENCES tasks (task), "
                "seq INTEGER NOT NULL, point INTEGER NOT NULL, option TEXT NOT NULL, "
                f"replication INTEGER NOT NULL, service TEXT NOT NULL{params}{metrics}, "
                "PRIMARY KEY (task, seq))"
            )

            meta = {
                "definition_hash": d.hash(),
                "definition": json.dumps(d.spec(), sort_keys=True),
                "params": json.dumps(self.params),
                "intersim": __version__,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            self.conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
            marks = ", ".join("?" * (len(self.params) + 1))
            self.conn.executemany(
                f"INSERT INTO points VALUES ({marks})",
                [(i, *(_sql(pt[p]) for p in self.params)) for i, pt in enumerate(d.points)],
            )

    def _check(self) -> None:
        try:
            meta = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path}: not a sweep store ({exc})") from None
        if meta.get("definition_hash") == self.definition.hash():
            return
        try:
            old = json.loads(meta.get("definition", "{}"))
        except json.JSONDecodeError:
            old = {}
        new = self.definition.spec()
        changed = [k for k in new if old.get(k) != new[k]] or ["definition"]
        raise InputError(
            f"{self.directory}: holds a different sweep ({', '.join(changed)} changed); "
            "--resume continues only the same sweep: use another --out, or --overwrite"
        )

    # -- writing -----------------------------------------------------------------------------

    def record(self, task: Task, outcome: dict[str, Any]) -> bool:
        """Store one finished task and its rows in one transaction; True if it succeeded."""
        point = self.definition.points[task.point]
        values = [_sql(point[p]) for p in self.params]
        ok = outcome.get("error") is None
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self.conn:
            self.conn.execute(
                "DELETE FROM tasks WHERE task = ? AND status = 'failed'", (task.index,)
            )
            self.conn.execute(
                "INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    task.index,
                    task.point,
                    task.option,
                    task.replication,
                    "ok" if ok else "failed",
                    outcome.get("error"),
                    outcome.get("traceback"),
                    json.dumps(outcome.get("warnings") or []),
                    outcome.get("seconds"),
                    now,
                ),
            )
            if ok:
                marks = ", ".join("?" * (6 + len(self.params) + len(METRICS)))
                self.conn.executemany(
                    f"INSERT INTO results VALUES ({marks})",
                    [
                        (
                            task.index,
                            k,
                            task.point,
                            task.option,
                            task.replication,
                            row[0],
                            *values,
                            *row[1:],
                        )
                        for k, row in enumerate(outcome["rows"])
                    ],
                )
        return ok

    # -- reading -----------------------------------------------------------------------------

    def done(self) -> set[int]:
        """Indices of the tasks stored as succeeded."""
        return {t for (t,) in self.conn.execute("SELECT task FROM tasks WHERE status = 'ok'")}

    def failed(self) -> set[int]:
        return {t for (t,) in self.conn.execute("SELECT task FROM tasks WHERE status = 'failed'")}

    def close(self) -> None:
        conn = getattr(self, "conn", None)
        if conn is not None:
            conn.close()
            self.conn = None  # type: ignore[assignment]
        unlock_store(self._lock_fd, self.directory / LOCK_NAME)


def _sql(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value


# -- a lock, so that two processes never run the same sweep directory ------------------------


def lock_store(path: Path) -> int | None:
    try:  # imported here: POSIX only
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks; documented
        return None
    for _ in range(100):  # a holder that finishes removes the file: lock the one in place
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise InputError(f"{path.parent}: another sweep is running in this directory") from None
        if _locks_the_file_in_place(fd, path):
            return fd
        os.close(fd)
    raise InputError(f"{path}: the sweep's lock file keeps changing")  # pragma: no cover


def _locks_the_file_in_place(fd: int, path: Path) -> bool:
    """Whether ``fd`` is the file now at ``path`` (not one a finished sweep just removed)."""
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def unlock_store(fd: int | None, path: Path | None = None) -> None:
    """Release the lock; with ``path``, remove the lock file first (while still holding it), so
    that a finished sweep leaves none behind."""
    if fd is None:
        return
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    os.close(fd)  # closing the descriptor releases the lock


# -- readers for finished (or running) sweeps -------------------------------------------------


@contextmanager
def _reader(directory: Path) -> Iterator[sqlite3.Connection]:
    path = Path(directory) / STORE_NAME
    if not path.is_file():
        raise InputError(f"{directory}: no sweep store ({STORE_NAME}) here")
    conn = _connect(path, reader=True)
    try:
        yield conn
    finally:
        conn.close()


def read_rows(directory: str | Path) -> pd.DataFrame:
    """The tidy per-replication rows of a sweep, in task order (then service order)."""
    with _reader(Path(directory)) as conn:
        df = pd.read_sql_query("SELECT * FROM results ORDER BY task, seq", conn)
    for m in METRICS:
        df[m] = df[m].astype("float64")
    return df.drop(columns="seq")


def read_points(directory: str | Path) -> pd.DataFrame:
    with _reader(Path(directory)) as conn:
        return pd.read_sql_query("SELECT * FROM points ORDER BY point", conn)


def read_failures(directory: str | Path) -> pd.DataFrame:
    with _reader(Path(directory)) as conn:
        return pd.read_sql_query(
            "SELECT task, point, option, replication, error, traceback FROM tasks "
            "WHERE status = 'failed' ORDER BY task",
            conn,
        )


def count_tasks(directory: str | Path) -> tuple[int, int]:
    """Succeeded and failed tasks stored so far (for monitoring a running sweep)."""
    with _reader(Path(directory)) as conn:
        rows = dict(conn.execute("SELECT status, count(*) FROM tasks GROUP BY status").fetchall())
    return rows.get("ok", 0), rows.get("failed", 0)
