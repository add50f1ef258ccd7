"""Cooperative cost games: the Shapley value, the core, and checks of an allocation.

Pure functions, no simulation. A cost game on players N gives every coalition S (a non-empty
subset of N) its cost c(S): here, what S's communities would pay to meet their response
targets with a fleet pooled among themselves. An *allocation* x splits the grand coalition's
cost c(N) between the players.

* **Shapley value** (exact, over all subsets):
  ``phi_i = sum over S in N \\ {i} of |S|! (n - |S| - 1)! / n! * (c(S + i) - c(S))``,
  each player's marginal cost averaged over every order in which the coalition could form.
  It is efficient (shares sum to c(N)), symmetric, gives a null player nothing, and is
  additive in the game.
* **Core**: the allocations with ``sum x = c(N)`` and ``x(S) <= c(S)`` for every S: no group
  would do better alone. It may be empty; the *least core* relaxes every constraint by the
  smallest epsilon that makes it non-empty (epsilon <= 0 exactly when the core is non-empty),
  found by a linear program.
* **Nucleolus**: the allocation that makes the largest excess as small as possible, then the
  next largest, and so on; unique, and in the core whenever the core is non-empty.
* **Stability of an allocation**: the coalition with the largest excess ``x(S) - c(S)`` is
  the group that would leave (a positive excess: it pays more together than alone).

A gain (value) game v, where coalitions earn rather than pay, is the cost game ``c = -v``.
Coalitions are frozensets of player names; the characteristic function is a dict over them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
from scipy.optimize import linprog

__all__ = [
    "MAX_PLAYERS",
    "Game",
    "coalitions",
    "core_violations",
    "in_core",
    "individually_rational",
    "is_subadditive",
    "least_core",
    "most_violated",
    "nucleolus",
    "pooling_gain",
    "proportional",
    "shapley",
]

MAX_PLAYERS = 20
TOL = 1e-9
P = TypeVar("P", bound=Hashable)


def coalitions(players: Sequence[P]) -> Iterator[frozenset[P]]:
    """Every non-empty subset of ``players``, by size, then in the players' order."""
    for k in range(1, len(players) + 1):
        for combo in itertools.combinations(players, k):
            yield frozenset(combo)


@dataclass(frozen=True)
class Game(Generic[P]):
    """A cost game: ``players`` in order and the cost of every non-empty coalition."""

    players: tuple[P, ...]
    cost: Mapping[frozenset[P], float]

    def __post_init__(self) -> None:
        if len(set(self.players)) != len(self.players):
            raise ValueError("players must be distinct")
        if not 1 <= len(self.players) <= MAX_PLAYERS:
            raise ValueError(f"a game needs 1 to {MAX_PLAYERS} players")
        missing = [set(s) for s in coalitions(self.players) if s not in self.cost]
        if missing:
            raise ValueError(
                f"the cost of {len(missing)} coalition(s) is missing, e.g. "
                f"{sorted(map(str, missing[0]))}"
            )
        bad = [s for s, v in self.cost.items() if not math.isfinite(float(v))]
        if bad:
            raise ValueError("coalition costs must be finite numbers")

    @staticmethod
    def from_function(players: Sequence[P], fn: Any) -> Game[P]:
        """A game from a function of a frozenset of players."""
        return Game(tuple(players), {s: float(fn(s)) for s in coalitions(players)})

    def __call__(self, coalition: frozenset[P] | set[P] | Sequence[P]) -> float:
        s = frozenset(coalition)
        return 0.0 if not s else float(self.cost[s])

    @property
    def grand(self) -> frozenset[P]:
        return frozenset(self.players)


def shapley(game: Game[P]) -> dict[P, float]:
    """The Shapley value: each player's marginal cost averaged over all orders of arrival."""
    n = len(game.players)
    weight = [math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) for k in range(n)]
    out = {}
    for i in game.players:
        others = [p for p in game.players if p != i]
        total = 0.0
        for k in range(n):
            for combo in itertools.combinations(others, k):
                s = frozenset(combo)
                total += weight[k] * (game(s | {i}) - game(s))
        out[i] = total
    return out


def proportional(game: Game[P], basis: Mapping[P, float]) -> dict[P, float]:
    """c(N) split in proportion to ``basis`` (population, calls, ...); equal if all zero."""
    total = sum(max(0.0, float(basis.get(p, 0.0))) for p in game.players)
    n = len(game.players)
    return {
        p: game(game.grand) * (max(0.0, float(basis.get(p, 0.0))) / total if total > 0 else 1.0 / n)
        for p in game.players
    }


def excesses(game: Game[P], allocation: Mapping[P, float]) -> dict[frozenset[P], float]:
    """``x(S) - c(S)`` for every proper coalition: positive means S pays more than alone."""
    return {
        s: sum(allocation[p] for p in s) - game(s)
        for s in coalitions(game.players)
        if s != game.grand
    }


def core_violations(
    game: Game[P], allocation: Mapping[P, float], tol: float = TOL
) -> list[tuple[frozenset[P], float]]:
    """Coalitions whose members pay more together than alone, worst first."""
    scale = max(1.0, abs(game(game.grand)))
    found = [(s, e) for s, e in excesses(game, allocation).items() if e > tol * scale]
    return sorted(found, key=lambda item: (-item[1], len(item[0])))


def in_core(game: Game[P], allocation: Mapping[P, float], tol: float = TOL) -> bool:
    """Efficient (sums to c(N)) and no coalition pays more than its stand-alone cost."""
    scale = max(1.0, abs(game(game.grand)))
    efficient = abs(sum(allocation[p] for p in game.players) - game(game.grand)) <= tol * scale
    return efficient and not core_violations(game, allocation, tol)


def most_violated(
    game: Game[P], allocation: Mapping[P, float]
) -> tuple[frozenset[P], float] | None:
    """The coalition with the largest excess ``x(S) - c(S)`` among proper coalitions, and the
    excess (the saving its members would make by leaving if positive); None for one player."""
    ex = excesses(game, allocation)
    if not ex:
        return None
    s = max(ex, key=lambda k: (ex[k], -len(k)))
    return s, ex[s]


def individually_rational(
    game: Game[P], allocation: Mapping[P, float], tol: float = TOL
) -> dict[P, bool]:
    """Per player: pays no more than going alone, ``x_i <= c({i})``."""
    scale = max(1.0, abs(game(game.grand)))
    return {p: allocation[p] <= game({p}) + tol * scale for p in game.players}


def least_core(game: Game[P]) -> tuple[float, dict[P, float]]:
    """The least core's epsilon and one allocation in it: minimise e subject to
    ``x(S) <= c(S) + e`` for every proper coalition and ``sum x = c(N)``. The core is
    non-empty exactly when ``e <= 0``, and then the allocation is in the core."""
    players = list(game.players)
    n = len(players)
    if n == 1:
        return 0.0, {players[0]: game(game.grand)}
    rows, rhs = [], []
    for s in coalitions(players):
        if s == game.grand:
            continue
        rows.append([1.0 if p in s else 0.0 for p in players] + [-1.0])
        rhs.append(game(s))
    cost = np.zeros(n + 1)
    cost[-1] = 1.0
    res = linprog(
        cost,
        A_ub=np.array(rows),
        b_ub=np.array(rhs),
        A_eq=np.array([[1.0] * n + [0.0]]),
        b_eq=np.array([game(game.grand)]),
        bounds=[(None, None)] * (n + 1),
        method="highs",
    )
    if not res.success:  # pragma: no cover - the program is always feasible and bounded
        raise RuntimeError(f"least core: {res.message}")
    return float(res.x[-1]), {p: float(v) for p, v in zip(players, res.x[:n], strict=True)}


def nucleolus(game: Game[P], tol: float = 1e-7) -> dict[P, float]:
    """The nucleolus: the allocation that lexicographically minimises the largest excesses
    ``x(S) - c(S)`` (Schmeidler 1969), by the sequence of linear programs of Maschler, Peleg
    and Shapley: minimise the largest excess, fix the coalitions that attain it in every
    optimal solution, repeat until the allocation is unique. It lies in the least core, so in
    the core whenever the core is non-empty, and is unique. At most 10 players."""
    players = list(game.players)
    n = len(players)
    if n == 1:
        return {players[0]: game(game.grand)}
    if n > 10:
        raise ValueError("the nucleolus is computed for at most 10 players")
    scale = max(1.0, abs(game(game.grand)))
    vec = {
        s: np.array([1.0 if p in s else 0.0 for p in players])
        for s in coalitions(players)
        if s != game.grand
    }
    free = list(vec)
    fixed: list[tuple[frozenset[P], float]] = []
    x = np.zeros(n)

    def solve(objective: np.ndarray, bound: float | None) -> Any:
        # variables: x (n) and t; free coalitions: x(S) - t <= c(S) (or <= c(S) + bound)
        a_ub = [np.append(vec[s], -1.0 if bound is None else 0.0) for s in free]
        b_ub = [game(s) + (0.0 if bound is None else bound) for s in free]
        a_eq = [np.append(np.ones(n), 0.0)] + [np.append(vec[s], 0.0) for s, _ in fixed]
        b_eq = [game(game.grand)] + [game(s) + e for s, e in fixed]
        return linprog(
            objective,
            A_ub=np.array(a_ub) if a_ub else None,
            b_ub=np.array(b_ub) if b_ub else None,
            A_eq=np.array(a_eq),
            b_eq=np.array(b_eq),
            bounds=[(None, None)] * (n + 1),
            method="highs",
        )

    while free:
        res = solve(np.append(np.zeros(n), 1.0), None)
        if not res.success:  # pragma: no cover - always feasible and bounded
            raise RuntimeError(f"nucleolus: {res.message}")
        t = float(res.x[-1])
        x = res.x[:n]
        tight = []
        for s in free:  # tight in every optimal solution: its excess cannot go below t
            r = solve(np.append(vec[s], 0.0), t + tol * scale)
            if r.success and float(r.fun) - game(s) >= t - tol * scale:
                tight.append(s)
        if not tight:  # numerically degenerate: fix what is tight at this solution
            tight = [s for s in free if float(vec[s] @ x) - game(s) >= t - tol * scale]
        fixed += [(s, t) for s in tight]
        free = [s for s in free if s not in set(tight)]
        span = np.array([np.ones(n)] + [vec[s] for s, _ in fixed])
        if np.linalg.matrix_rank(span) == n:  # the allocation is now unique
            sol = np.linalg.lstsq(
                span, np.array([game(game.grand)] + [game(s) + e for s, e in fixed]), rcond=None
            )
            x = sol[0]
            break
    return {p: float(v) for p, v in zip(players, x, strict=True)}


def is_subadditive(game: Game[P], tol: float = TOL) -> bool:
    """``c(S u T) <= c(S) + c(T)`` for all disjoint non-empty S, T: merging never costs more."""
    scale = max(1.0, abs(game(game.grand)))
    sets = list(coalitions(game.players))
    return all(
        game(s | t) <= game(s) + game(t) + tol * scale for s in sets for t in sets if not s & t
    )


def pooling_gain(game: Game[P], coalition: frozenset[P] | Sequence[P]) -> float:
    """What S saves by pooling: the sum of its members' stand-alone costs less c(S)."""
    s = frozenset(coalition)
    return sum(game({p}) for p in s) - game(s)
