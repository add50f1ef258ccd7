"""The compliance table's moves are a least-travel assignment, whichever way it is found.

The table's rule takes the free units at posts holding too many to the posts lacking one, with
the least total travel, leaving at each post as many as the row asks for. It finds that by
the nearest unit (one post to fill), the nearest post (one unit that may move), or an
assignment problem remembered by the units' places; each is checked here against every set
of moves there is, on random trips and stations.
"""

from __future__ import annotations

import itertools
from collections import Counter
from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.loop import Unit
from sim.engine.relocation import ComplianceTable
from sim.model.relocation import NO_CAP, RelocationRule

PLACES = 5
MIN_INTERVAL = 30.0


def _mover(row: list[int], n_free: int, trips: np.ndarray) -> tuple[ComplianceTable, object]:
    rule = RelocationRule(
        policy="compliance_table",
        posts=np.arange(PLACES),
        post_community=np.zeros(PLACES, dtype=np.int64),
        table={n_free: tuple(sorted(row))},
        max_moves=NO_CAP,
        min_interval=MIN_INTERVAL,
        move_out=(True,),
        max_out=(NO_CAP,),
    )
    region = SimpleNamespace(return_speed_factor=1.0, snapper=None)
    view = SimpleNamespace(region=region, travel=[trips.tolist()], free=[{}])
    return ComplianceTable(rule, view, 0), view  # type: ignore[arg-type]


def _best(
    stations: list[int], movable: list[bool], row: list[int], trips: np.ndarray
) -> tuple[int, float]:
    """The most moves a valid set holds and the least travel of such a set, by enumeration:
    each movable unit stays or goes to a missing post (a post twice in the row takes two),
    and no more units leave a post than it has beyond the row."""
    need, have = Counter(row), Counter(stations)
    missing, surplus = sorted((need - have).elements()), have - need
    best: tuple[int, float] = (0, 0.0)
    options = [[None, *range(len(missing))] if m else [None] for m in movable]
    for choice in itertools.product(*options):
        taken = [c for c in choice if c is not None]
        if len(taken) != len(set(taken)):
            continue
        gone = Counter(s for s, c in zip(stations, choice, strict=True) if c is not None)
        if any(gone[p] > surplus[p] for p in gone):
            continue
        total = sum(
            float(trips[s, missing[c]])
            for s, c in zip(stations, choice, strict=True)
            if c is not None
        )
        if (len(taken), -total) > (best[0], -best[1]):
            best = (len(taken), total)
    return best


@settings(max_examples=200, deadline=None)
@given(
    stations=st.lists(st.integers(0, PLACES - 1), min_size=1, max_size=5),
    seed=st.integers(0, 2**32 - 1),
)
def test_moves_are_a_least_travel_assignment(stations: list[int], seed: int) -> None:
    """On one row and one set of stations, rounds in which different units were moved too
    lately to move again (so one unit may face several posts): each round's moves are a
    least-travel set, the same whether found afresh or remembered."""
    rng = np.random.default_rng(seed)
    row = rng.integers(0, PLACES, size=len(stations)).tolist()
    # integer minutes, so that ties are frequent and their totals exact
    trips = rng.integers(1, 6, size=(PLACES, PLACES)).astype(float)
    np.fill_diagonal(trips, 0.0)
    mover, view = _mover(row, len(stations), trips)
    units = [Unit(i, 0, s, 0) for i, s in enumerate(stations)]
    view.free[0].update({u.index: u for u in units})  # type: ignore[attr-defined]
    lacking = Counter(row) - Counter(stations)
    now = 100.0
    for _ in range(8):
        movable = (rng.random(len(units)) < 0.7).tolist()
        for u, m in zip(units, movable, strict=True):
            u.moved = -np.inf if m else now - MIN_INTERVAL / 2
        moves = list(mover.moves(view, now))  # type: ignore[arg-type]
        assert len({u.index for u, _ in moves}) == len(moves)
        assert all(movable[u.index] and u.station != p for u, p in moves)
        assert not Counter(p for _, p in moves) - lacking  # only to posts it lacks
        n, total = _best(stations, movable, row, trips)
        assert len(moves) == n
        assert sum(trips[u.station, p] for u, p in moves) == total
