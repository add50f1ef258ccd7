"""The on-disk cache of road-network trips, so that a second run starts at once.

An entry holds the network minutes between the snapped nodes of a scenario's places (before
the legs off the network and the time factor, which are applied after reading: changing them
needs no rebuild) and each place's snap. Its key is the SHA-256 of the extract's bytes and of
everything else the trips depend on: the speed settings, the piece size kept, the km frame and
the coordinates of the places. A changed file or setting is a new key, so an entry is never
stale; a damaged entry is rebuilt.

Where: ``$INTERSIM_CACHE_DIR`` when set; else ``.intersim-cache/`` beside the extract; else,
where that folder cannot be written, the user cache (``$XDG_CACHE_HOME/intersim`` or
``~/.cache/intersim``). Entries are written to a temporary file and renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..schema.datapaths import data_file_key
from ..schema.geo import Frame
from ..schema.scenario import RoadNetwork

__all__ = ["CACHE_ENV", "CACHE_FOLDER", "CachedTrips", "cache_dir", "cache_key", "load", "save"]

CACHE_ENV = "INTERSIM_CACHE_DIR"
CACHE_FOLDER = ".intersim-cache"
_FORMAT = 1  # bump when what an entry holds changes


@dataclass(frozen=True)
class CachedTrips:
    node_minutes: np.ndarray  # (L, L) network minutes between the places' nodes
    snap_m: np.ndarray  # (L,) metres from each place to its node
    node: np.ndarray  # (L,) OSM id of each place's node
    stats: np.ndarray  # nodes, arcs, dropped nodes, pieces of the network


@lru_cache(maxsize=8)
def _file_hash(path: str, _mtime: int, _size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_key(net: RoadNetwork, frame: Frame, xy: np.ndarray) -> str:
    """The key of the trips between places at ``xy`` (km in ``frame``) on ``net``."""
    settings = {
        "format": _FORMAT,
        "file": _file_hash(*data_file_key(net.file)),
        "speeds_kmh": sorted(net.speeds_kmh.items()),
        "use_maxspeed": net.use_maxspeed,
        "min_component_nodes": net.min_component_nodes,
        "frame": frame.proj,
        "places": hashlib.sha256(np.ascontiguousarray(xy, dtype=np.float64).tobytes()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


def cache_dir(extract: str) -> Path | None:
    """The folder of cache entries for ``extract`` (None when no folder can be written)."""
    given = os.environ.get(CACHE_ENV)
    if given:
        return Path(given) if _writable(Path(given)) else None
    beside = Path(extract).parent / CACHE_FOLDER
    if _writable(beside):
        return beside
    home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    user = Path(home) / "intersim"
    return user if _writable(user) else None


def _entry(extract: str, key: str) -> Path | None:
    folder = cache_dir(extract)
    return None if folder is None else folder / f"roads-{key[:32]}.npz"


def load(extract: str, key: str) -> CachedTrips | None:
    """The entry of ``key``, or None (none yet, or unreadable)."""
    path = _entry(extract, key)
    if path is None or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["key"]) != key:
                return None
            return CachedTrips(data["node_minutes"], data["snap_m"], data["node"], data["stats"])
    except (OSError, ValueError, KeyError):
        return None


def save(extract: str, key: str, trips: CachedTrips) -> Path | None:
    """Write the entry of ``key``; where it went, or None when it could not be written (the
    trips are still used: a cache is an optimisation)."""
    path = _entry(extract, key)
    if path is None:
        return None
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".roads-", suffix=".npz")
        with os.fdopen(fd, "wb") as fh:
            np.savez(
                fh,
                key=np.array(key),
                node_minutes=trips.node_minutes,
                snap_m=trips.snap_m,
                node=trips.node,
                stats=trips.stats,
            )
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        return None
    return path
