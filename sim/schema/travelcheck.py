"""Travel has no gaps: every place reaches every other, by a given time or a derived one.

Places are the communities, the stations and facilities with a location of their own, and
the zones. A pair is covered when the inline matrix or the matrix file gives either direction,
or when both places have a location and ``travel.speed_kmh`` or ``travel.road_network`` is
given (pairs missing from a matrix file are derived only then; the road network gives every
pair of located places, :mod:`sim.schema.roadcheck`). The count of missing pairs is computed
from per-row counts, never by listing all pairs of thousands of places.
"""

from __future__ import annotations

import numpy as np

from ..errors import Problem, ScenarioError
from .datapaths import shown_path
from .geography import Found, Geography, unknown
from .matrixfile import MatrixRows, read_matrix_file
from .roadcheck import road_problems
from .scenario import Scenario
from .zonesource import site_zone

__all__ = ["covered_pairs", "missing_pairs", "travel_problems"]

Path = tuple[str | int, ...]
SHOWN = 6


def _not_a_place(s: Scenario, name: str, places: dict[str, int]) -> str:
    site = s.stations.get(name) or s.facilities.get(name)
    zone = site_zone(site) if site is not None else None
    if zone is not None:
        return (
            f"'{name}' sits at zone '{zone}': its trips are the zone's, so use '{zone}' in the "
            "matrix"
        )
    if site is not None and site.community is not None and site.location is None:
        return (
            f"'{name}' has no location of its own: it is at the centre of '{site.community}', "
            f"so use '{site.community}' in the matrix (or give '{name}' a location)"
        )
    return unknown("place", name, places)


def _inline_entries(
    s: Scenario, index: dict[str, int]
) -> tuple[np.ndarray, np.ndarray, list[Found]]:
    """Index pairs (from, to) of the inline matrix, and a problem for each name that is not
    a place."""
    src: list[int] = []
    dst: list[int] = []
    found: list[Found] = []
    for a, row in s.travel.matrix.items():
        if a not in index:
            found.append((("travel", "matrix", a), _not_a_place(s, a, index)))
            continue
        for b in row:
            if b not in index:
                found.append((("travel", "matrix", a, b), _not_a_place(s, b, index)))
            else:
                src.append(index[a])
                dst.append(index[b])
    return np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64), found


def covered_pairs(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Unordered pairs (as ``low * n + high``, unique, sorted) given in either direction."""
    low, high = np.minimum(src, dst), np.maximum(src, dst)
    keys = np.sort(low.astype(np.int64) * n + high)
    return keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if keys.size else keys


def missing_pairs(
    n: int, free: np.ndarray, keys: np.ndarray, diagonal_missing: np.ndarray
) -> tuple[int, list[tuple[int, int]]]:
    """The number of unordered pairs without a time, and the first few in row order.

    ``free``: places whose pairs to other free places are derived (located, with a speed);
    ``keys``: the given pairs (:func:`covered_pairs`); ``diagonal_missing``: places whose
    own time (travel inside) is missing."""
    off = keys[(keys // n) != (keys % n)]
    low, high = off // n, off % n
    needed = ~(free[low] & free[high])  # pairs between free places are covered anyway
    given = np.bincount(low[needed], minlength=n)
    free_after = np.cumsum(free[::-1])[::-1] - free  # free places after each row
    after = np.arange(n - 1, -1, -1)  # all places after each row
    required = np.where(free, after - free_after, after)
    per_row = required - given + diagonal_missing
    total = int(per_row.sum())
    shown: list[tuple[int, int]] = []
    for i in np.flatnonzero(per_row > 0):
        if diagonal_missing[i]:
            shown.append((int(i), int(i)))
        have = np.zeros(n, dtype=bool)
        have[high[low == i]] = True
        todo = ~have
        todo[: i + 1] = False
        if free[i]:
            todo &= ~free
        shown += [(int(i), int(j)) for j in np.flatnonzero(todo)[: SHOWN - len(shown)]]
        if len(shown) >= SHOWN:
            break
    return total, shown[:SHOWN]


def _file_entries(
    s: Scenario, rows: MatrixRows, index: dict[str, int]
) -> tuple[np.ndarray, np.ndarray, list[Found]]:
    """Index pairs of the matrix file, and one problem naming the first unknown id."""
    src, dst, _ = rows.entries(index)
    unknown_ids = [k for k, pid in enumerate(rows.ids) if pid not in index]
    if not unknown_ids:
        return src, dst, []
    entries = sorted((rows.first_use(k), k) for k in unknown_ids)
    entry, k = entries[0]
    more = f" (and {len(entries) - 1} more unknown id(s))" if len(entries) > 1 else ""
    message = _not_a_place(s, rows.ids[k], index) + more
    return src, dst, [rows.problem(entry, message)]


def travel_problems(s: Scenario, geo: Geography) -> list[Found]:
    """Unknown names in the travel matrix and its file, inside times of unknown
    communities, gaps."""
    index = {pid: i for i, pid in enumerate(geo.places)}
    src, dst, found = _inline_entries(s, index)
    roads = road_problems(s, geo)
    if roads:
        return found + roads  # the pairs it would give are unknown
    file = s.travel.matrix_file
    if file is not None:
        try:
            rows = read_matrix_file(file)
        except ScenarioError as exc:
            return found + exc.problems  # without its times, gaps would only be noise
        f_src, f_dst, bad = _file_entries(s, rows, index)
        if bad:
            return found + bad
        src, dst = np.concatenate([src, f_src]), np.concatenate([dst, f_dst])
    for c in s.travel.inside:
        if c not in s.communities:
            found.append((("travel", "inside", c), unknown("community", c, s.communities)))
    n = len(geo.places)
    keys = covered_pairs(n, src, dst)
    derived = s.travel.speed_kmh is not None or s.travel.road_network is not None
    free = ~np.isnan(geo.xy[:, 0]) & derived
    own = set(src[src == dst].tolist())
    diagonal = np.zeros(n, dtype=np.int64)
    for i, (cid, com) in enumerate(s.communities.items()):
        derived = com.area_km2 is not None and s.travel.speed_kmh is not None
        inside = cid in s.travel.inside or derived
        diagonal[i] = not (inside or i in own)
    total, shown = missing_pairs(n, free, keys, diagonal)
    if total:
        names = ", ".join(f"{geo.places[a]}->{geo.places[b]}" for a, b in shown)
        more = " ..." if total > len(shown) else ""
        where = "this file or travel.matrix" if file is not None else "travel.matrix"
        message = (
            f"no travel time for {total:,} pair(s): {names}{more}; "
            f"give them in {where}, or locations and travel.speed_kmh (or a road_network)"
        )
        if file is not None:  # the file is where the user looks for them
            found.append(Problem(shown_path(file), None, None, "", message))
        else:
            found.append((("travel",), message))
    return found
