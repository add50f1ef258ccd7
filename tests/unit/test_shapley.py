"""Cooperative cost games (sim.analysis.shapley): the Shapley axioms on random games, and games
whose Shapley value, nucleolus and core are known by hand.

The Young, Okada & Hashimoto (1982) Swedish water game is not reproduced: only its
stand-alone costs and allocations are at hand (DOMAIN.md), not the costs of its 57 other
coalitions, and the Shapley value cannot be checked without them.
"""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.analysis import shapley as g

PLAYERS = "abcde"


@st.composite
def games(draw: st.DrawFn, min_players: int = 1, max_players: int = 5) -> g.Game:
    n = draw(st.integers(min_players, max_players))
    players = tuple(PLAYERS[:n])
    values = st.floats(-100, 100, allow_nan=False, allow_infinity=False)
    return g.Game(players, {s: draw(values) for s in g.coalitions(players)})


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-7)


@settings(max_examples=60, deadline=None)
@given(games())
def test_efficiency(game: g.Game) -> None:
    """The shares sum to the grand coalition's cost."""
    assert _close(sum(g.shapley(game).values()), game(game.grand))


@settings(max_examples=60, deadline=None)
@given(games(min_players=2), st.data())
def test_symmetry(game: g.Game, data: st.DataObject) -> None:
    """Players i and j that add the same to every coalition without them get the same."""
    i, j = game.players[:2]
    cost = dict(game.cost)
    for s in g.coalitions(game.players):  # make i and j interchangeable
        if i in s and j not in s:
            cost[s] = cost[(s - {i}) | {j}]
    sym = g.Game(game.players, cost)
    phi = g.shapley(sym)
    assert _close(phi[i], phi[j])


@settings(max_examples=60, deadline=None)
@given(games(max_players=4))
def test_null_player(game: g.Game) -> None:
    """A player who adds nothing to any coalition pays nothing."""
    players = (*game.players, "z")
    cost = {s: (game(s - {"z"}) if s - {"z"} else 0.0) for s in g.coalitions(players)}
    phi = g.shapley(g.Game(players, cost))
    assert _close(phi["z"], 0.0)


@settings(max_examples=40, deadline=None)
@given(games(min_players=3, max_players=3), games(min_players=3, max_players=3))
def test_additivity(one: g.Game, two: g.Game) -> None:
    """The Shapley value of the sum of two games is the sum of their Shapley values."""
    both = g.Game(one.players, {s: one(s) + two(s) for s in g.coalitions(one.players)})
    a, b, ab = g.shapley(one), g.shapley(two), g.shapley(both)
    assert all(_close(ab[p], a[p] + b[p]) for p in one.players)


def test_airport_game_by_hand() -> None:
    """c(S) = the longest runway S needs (1, 2, 3): Shapley is sequential equal sharing of each
    runway segment; the game is concave, so the Shapley value is in the core; the nucleolus
    is (1/2, 3/4, 7/4) (worked by hand: a balances {a} against {b, c}, then b against c)."""
    need = {"a": 1.0, "b": 2.0, "c": 3.0}
    game = g.Game.from_function("abc", lambda s: max(need[p] for p in s))
    phi = g.shapley(game)
    assert phi == pytest.approx({"a": 1 / 3, "b": 1 / 3 + 1 / 2, "c": 1 / 3 + 1 / 2 + 1})
    assert g.in_core(game, phi)
    assert g.is_subadditive(game)
    assert g.nucleolus(game) == pytest.approx({"a": 0.5, "b": 0.75, "c": 1.75}, abs=1e-7)
    eps, alloc = g.least_core(game)
    assert eps <= 0
    assert g.in_core(game, alloc)


def test_empty_core() -> None:
    """Three symmetric players: any two cost 1, all three 1.6. A core allocation would need
    x(S) <= 1 for the three pairs, so 2 x(N) <= 3 < 3.2: the core is empty; the least core
    needs epsilon = 1.6 * 2/3 - 1 = 1/15, and every pair would leave the Shapley split."""
    game = g.Game.from_function("abc", lambda s: {1: 1.0, 2: 1.0, 3: 1.6}[len(s)])
    phi = g.shapley(game)
    assert phi == pytest.approx(dict.fromkeys("abc", 1.6 / 3))
    assert not g.in_core(game, phi)
    eps, _ = g.least_core(game)
    assert eps == pytest.approx(1 / 15)
    worst = g.most_violated(game, phi)
    assert worst is not None
    assert len(worst[0]) == 2
    assert worst[1] == pytest.approx(1 / 15)
    assert len(g.core_violations(game, phi)) == 3
    assert g.nucleolus(game) == pytest.approx(phi, abs=1e-7)


def test_shapley_outside_a_nonempty_core() -> None:
    """c(i) = 1, c(ab) = c(ac) = 1, c(bc) = 2, c(abc) = 2. The core is the single point
    (0, 1, 1): b and c must each pay 1 since a pairs with either at cost 1. Shapley (worked
    over the six orders) is (1/3, 5/6, 5/6): {a, b} and {a, c} pay 7/6 > 1 and would leave."""
    cost = {"a": 1, "b": 1, "c": 1, "ab": 1, "ac": 1, "bc": 2, "abc": 2}
    game = g.Game(tuple("abc"), {frozenset(k): float(v) for k, v in cost.items()})
    phi = g.shapley(game)
    assert phi == pytest.approx({"a": 1 / 3, "b": 5 / 6, "c": 5 / 6})
    assert not g.in_core(game, phi)
    worst = g.most_violated(game, phi)
    assert worst is not None
    assert worst[0] in ({"a", "b"}, {"a", "c"})
    assert worst[1] == pytest.approx(1 / 6)
    eps, alloc = g.least_core(game)
    assert eps == pytest.approx(0.0, abs=1e-9)
    assert alloc == pytest.approx({"a": 0.0, "b": 1.0, "c": 1.0}, abs=1e-7)
    assert g.nucleolus(game) == pytest.approx({"a": 0.0, "b": 1.0, "c": 1.0}, abs=1e-7)
    assert g.individually_rational(game, phi) == dict.fromkeys("abc", True)


def test_two_players_split_the_gain_equally() -> None:
    game = g.Game(("a", "b"), {frozenset("a"): 10.0, frozenset("b"): 6.0, frozenset("ab"): 12.0})
    assert g.shapley(game) == pytest.approx({"a": 8.0, "b": 4.0})
    assert g.nucleolus(game) == pytest.approx({"a": 8.0, "b": 4.0}, abs=1e-7)
    assert g.pooling_gain(game, "ab") == pytest.approx(4.0)


@settings(max_examples=25, deadline=None)
@given(games(min_players=2, max_players=4))
def test_nucleolus_is_in_the_least_core(game: g.Game) -> None:
    """The nucleolus is efficient and its largest excess is the least core's epsilon."""
    nu = g.nucleolus(game)
    eps, _ = g.least_core(game)
    assert _close(sum(nu.values()), game(game.grand))
    worst = g.most_violated(game, nu)
    assert worst is not None
    assert worst[1] <= eps + 1e-6 * max(1.0, abs(game(game.grand)))


def test_proportional_and_checks() -> None:
    game = g.Game.from_function("ab", lambda s: 10.0 if len(s) == 2 else 8.0)
    split = g.proportional(game, {"a": 3.0, "b": 1.0})
    assert split == pytest.approx({"a": 7.5, "b": 2.5})
    assert g.individually_rational(game, split) == {"a": True, "b": True}
    assert g.proportional(game, {}) == pytest.approx({"a": 5.0, "b": 5.0})
    bad = g.Game.from_function("ab", lambda s: 20.0 if len(s) == 2 else 8.0)
    assert not g.is_subadditive(bad)


def test_game_must_be_complete() -> None:
    with pytest.raises(ValueError, match="missing"):
        g.Game(("a", "b"), {frozenset("a"): 1.0, frozenset("ab"): 1.0})
    with pytest.raises(ValueError, match="distinct"):
        g.Game(("a", "a"), {})


def test_coalitions_in_order() -> None:
    got = [tuple(sorted(s)) for s in g.coalitions("abc")]
    assert got == [("a",), ("b",), ("c",), ("a", "b"), ("a", "c"), ("b", "c"), ("a", "b", "c")]
    assert len(list(g.coalitions(tuple(range(8))))) == 255
    assert all(len(set(c)) == len(c) for c in itertools.islice(g.coalitions("abcd"), 15))
