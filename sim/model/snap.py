"""Where a unit on its way back is: the zone nearest to its position, as pieces of the way.

A unit heading back from place ``a`` to its station ``b`` is taken to move along the straight
line at constant speed; a new call measures its trip from the zone nearest to where it is
(``travel.return_position: nearest_zone``). Along the line ``p(d) = a + d (b - a)``,
``0 <= d <= 1``, the squared distance to zone ``z`` is
``|a - z|^2 - 2 d (z - a).(b - a) + d^2 |b - a|^2``; the last term is the same for every zone,
so the nearest zone is the lowest of straight lines in ``d``, and the way back falls into a few
pieces, each with one nearest zone: the lower envelope of those lines, computed exactly here
once per (origin, station) pair and remembered. The engine then finds a returning unit's zone
with a bisection, and knows in advance when it changes.

The envelope is found by walking the zones' Voronoi cells (their Delaunay neighbours, from
scipy's Qhull): from the zone nearest to the start, into the neighbour whose line falls below
the current one first, a few steps for a way back. Few zones, or zones on one line or on the
same spot, are compared all at once instead.

A search for the nearest free unit does not look at every zone a returning unit may be at: it
looks at *tiles*, groups of a few neighbouring zones (:func:`tiles`, split at medians like a
k-d tree, so that a tile holds the same few zones wherever zones are dense or sparse). A
returning unit is kept at the tiles of its way; a tile's trip to a place is the shortest of its
zones' trips (:mod:`sim.model.preference`), so the search meets the unit no later than it
should, after far fewer steps than one per zone.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TILE", "Pieces", "Snapper", "Way", "tiles"]

Pieces = tuple[list[float], list[int]]  # starts (fractions of the way, first 0.0), zone places
Way = tuple[list[float], list[int], tuple[int, ...]]
"""A way back: its :data:`Pieces` and the positions of the tiles of its zones, each once: where
a search looks for a unit on that way."""
SMALL = 64  # up to this many zones, every zone is a candidate
TILE = 16  # zones in a tile, at most: fewer, shorter search rows; a few more units measured


class Snapper:
    """Nearest-zone pieces of the ways back between places, remembered once computed.

    ``xy``: (P, 2) coordinates of every place (km); ``zone_places``: the places of the zones.
    ``tile_of[place]``: where a unit at that zone is kept, ``P`` + its tile (:func:`tiles`), or
    -1 for a place that is no zone.
    """

    def __init__(
        self, xy: np.ndarray, zone_places: np.ndarray, small: int = SMALL, tile: int = TILE
    ) -> None:
        self.xy = np.asarray(xy, dtype=np.float64)
        self.zone_places = np.asarray(zone_places, dtype=np.int64)
        self.zone_xy = self.xy[self.zone_places]
        self._zx, self._zy = self.zone_xy[:, 0].tolist(), self.zone_xy[:, 1].tolist()
        self._zone_place_list = self.zone_places.tolist()
        self._small = small
        self._cells: tuple[list[list[int]] | None, np.ndarray] | None = None
        self._memo: dict[tuple[int, int], Pieces] = {}
        self._ways: dict[tuple[int, int], Way] = {}
        self.tile_of = np.full(len(self.xy), -1, dtype=np.int64)
        self.tile_of[self.zone_places] = len(self.xy) + tiles(self.zone_xy, tile)
        self.n_positions = int(self.tile_of.max()) + 1  # the places, then the tiles
        self._tile_list = self.tile_of.tolist()

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_memo"], state["_ways"] = {}, {}  # memos, not state: each process fills its own
        return state

    def _geometry(self) -> tuple[list[list[int]] | None, np.ndarray]:
        """Each zone's Delaunay neighbours (None when every zone is compared) and the zone
        nearest to each place (its index among the zones), made when the first way back is
        asked for: only the engine walks
        them, so a command that simulates on worker processes neither imports scipy's spatial
        module nor triangulates the zones in its own process before the first task."""
        if self._cells is None:
            from scipy.spatial import cKDTree

            nearest = np.asarray(cKDTree(self.zone_xy).query(self.xy)[1], dtype=np.int64)
            self._cells = (_neighbours(self.zone_xy, self._small), nearest)
        return self._cells

    def pieces(self, origin: int, station: int) -> Pieces:
        """The way back from place ``origin`` to place ``station``, piece by piece."""
        key = (origin, station)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._envelope(origin, station)
        return found

    def way(self, origin: int, station: int) -> Way:
        """The way back from place ``origin`` to place ``station``, with its tiles."""
        key = (origin, station)
        found = self._ways.get(key)
        if found is None:
            starts, zones = self.pieces(origin, station)
            tile_of = self._tile_list
            kept = tuple(dict.fromkeys(tile_of[z] for z in zones))
            found = self._ways[key] = (starts, zones, kept)
        return found

    def _envelope(self, origin: int, station: int) -> Pieces:
        a, b = self.xy[origin], self.xy[station]
        neighbours, nearest = self._geometry()
        if neighbours is None:
            return self._brute(a, b)
        return self._walk(a, b, int(nearest[origin]), neighbours)  # ties at the start: _walk

    def _lines(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rel = self.zone_xy - a
        return np.einsum("ij,ij->i", rel, rel), -2.0 * (rel @ (b - a))  # |a - z|^2, slope

    def _brute(self, a: np.ndarray, b: np.ndarray) -> Pieces:
        """The lower envelope over every zone (few zones, or no triangulation)."""
        c, m = self._lines(a, b)
        cur = int(np.lexsort((m, c))[0])  # nearest at d = 0; ties: the one it moves towards
        starts, zones, d = [0.0], [int(self.zone_places[cur])], 0.0
        while True:
            ahead = np.flatnonzero(m < m[cur])  # lines that fall below the current one later
            if ahead.size == 0:
                break
            cross = np.maximum((c[ahead] - c[cur]) / (m[cur] - m[ahead]), d)
            first = float(cross.min())
            if first >= 1.0:
                break
            tied = ahead[cross == first]
            cur = int(tied[np.argmin(m[tied])])  # of lines meeting there, the one that stays
            d = first
            starts.append(d)
            zones.append(int(self.zone_places[cur]))
        return starts, zones

    def _walk(self, a: np.ndarray, b: np.ndarray, cur: int, near: list[list[int]]) -> Pieces:
        """The lower envelope by walking Voronoi cells: from the zone nearest to ``a``, into
        the neighbour whose line falls below the current one first, until the end."""
        ax, ay = float(a[0]), float(a[1])
        ux, uy = float(b[0]) - ax, float(b[1]) - ay
        zx, zy = self._zx, self._zy

        def line(z: int) -> tuple[float, float]:
            dx, dy = zx[z] - ax, zy[z] - ay
            return dx * dx + dy * dy, -2.0 * (dx * ux + dy * uy)

        places = self._zone_place_list
        starts, zones, d = [0.0], [places[cur]], 0.0
        c0, m0 = line(cur)
        while True:
            best, best_d, best_m, best_c = -1, 1.0, 0.0, 0.0
            for n in near[cur]:
                c, m = line(n)
                if m >= m0:
                    continue
                cross = max((c - c0) / (m0 - m), d)
                if cross < best_d or (cross == best_d and best >= 0 and m < best_m):
                    best, best_d, best_m, best_c = n, cross, m, c
            if best < 0:
                break
            cur, d, c0, m0 = best, best_d, best_c, best_m
            starts.append(d)
            zones.append(places[cur])
        return starts, zones


def tiles(xy: np.ndarray, size: int) -> np.ndarray:
    """The tile of each point of ``xy``: the points halved at the median of their wider side,
    again and again, until a part holds at most ``size`` (tiles numbered from 0, neighbours
    close in number)."""
    tile = np.zeros(len(xy), dtype=np.int64)
    todo, n = [np.arange(len(xy))], 0
    while todo:
        part = todo.pop()
        if len(part) <= size:
            tile[part] = n
            n += 1
            continue
        points = xy[part]
        axis = int(np.ptp(points[:, 1]) > np.ptp(points[:, 0]))
        part = part[np.argsort(points[:, axis], kind="stable")]
        half = len(part) // 2
        todo += [part[half:], part[:half]]  # the lower half first
    return tile


def _neighbours(xy: np.ndarray, small: int) -> list[list[int]] | None:
    """Each zone's Delaunay neighbours (the zones whose Voronoi cells touch its own), or None
    for few zones, zones on one line or on the same spot (then every zone is compared)."""
    if len(xy) <= small or len(np.unique(xy, axis=0)) < len(xy):
        return None
    from scipy.spatial import Delaunay, QhullError

    try:
        tri = Delaunay(xy)
    except QhullError:
        return None
    if len(tri.coplanar):
        return None
    indptr, indices = tri.vertex_neighbor_vertices
    return [indices[indptr[k] : indptr[k + 1]].tolist() for k in range(len(xy))]
