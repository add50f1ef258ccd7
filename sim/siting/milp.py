"""A mixed-integer linear program built block by block, solved with HiGHS through
``scipy.optimize.milp``.

A :class:`Program` collects blocks of variables (bounds, integrality, objective) and rows of
constraints in coordinate form; :meth:`Program.solve` hands them to the solver as one sparse
matrix and returns an :class:`Outcome`: the solution (the best found when a time limit stops
the search), its objective, the solver's bound and the relative gap between them. Objectives
are minimised; a model that maximises negates its costs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

__all__ = ["INFEASIBLE", "LIMIT", "OPTIMAL", "Outcome", "Program"]

OPTIMAL, LIMIT, INFEASIBLE = "optimal", "time limit", "infeasible"
GAP = 1e-4  # relative gap at which HiGHS stops (its default): optimal within 0.01 %
_STATUS = {0: OPTIMAL, 1: LIMIT, 2: INFEASIBLE, 3: "unbounded", 4: "solver error"}


@dataclass(frozen=True)
class Outcome:
    """What the solver returned: ``x`` is None when it found no solution (infeasible, or a time
    limit before the first one); ``gap`` is relative, 0 when proven optimal."""

    status: str
    x: np.ndarray | None
    objective: float
    bound: float
    gap: float
    seconds: float

    @property
    def solved(self) -> bool:
        return self.x is not None


@dataclass
class Program:
    """Variables and constraints of one MILP, added in blocks."""

    _lower: list[np.ndarray] = field(default_factory=list)
    _upper: list[np.ndarray] = field(default_factory=list)
    _integer: list[np.ndarray] = field(default_factory=list)
    _cost: list[np.ndarray] = field(default_factory=list)
    _rows: list[np.ndarray] = field(default_factory=list)
    _cols: list[np.ndarray] = field(default_factory=list)
    _vals: list[np.ndarray] = field(default_factory=list)
    _lo: list[np.ndarray] = field(default_factory=list)
    _hi: list[np.ndarray] = field(default_factory=list)
    n: int = 0  # variables so far
    m: int = 0  # rows so far

    def variables(
        self,
        count: int,
        *,
        lower: float | np.ndarray = 0.0,
        upper: float | np.ndarray = 1.0,
        integer: bool = False,
        cost: float | np.ndarray = 0.0,
    ) -> np.ndarray:
        """Add ``count`` variables; return their indices."""
        self._lower.append(np.broadcast_to(np.asarray(lower, dtype=np.float64), (count,)))
        self._upper.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), (count,)))
        self._integer.append(np.full(count, 1 if integer else 0, dtype=np.uint8))
        self._cost.append(np.broadcast_to(np.asarray(cost, dtype=np.float64), (count,)))
        idx = np.arange(self.n, self.n + count)
        self.n += count
        return idx

    def rows(
        self,
        count: int,
        rows: np.ndarray,
        cols: np.ndarray,
        vals: np.ndarray | float,
        *,
        lower: float | np.ndarray = -math.inf,
        upper: float | np.ndarray = math.inf,
    ) -> None:
        """Add ``count`` constraints ``lower <= A x <= upper``; ``rows`` numbers them from 0."""
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        self._rows.append(rows + self.m)
        self._cols.append(cols)
        self._vals.append(np.broadcast_to(np.asarray(vals, dtype=np.float64), rows.shape))
        self._lo.append(np.broadcast_to(np.asarray(lower, dtype=np.float64), (count,)))
        self._hi.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), (count,)))
        self.m += count

    def row(
        self,
        cols: np.ndarray,
        vals: np.ndarray | float,
        *,
        lower: float = -math.inf,
        upper: float = math.inf,
    ) -> None:
        """Add one constraint over the variables ``cols``."""
        cols = np.asarray(cols, dtype=np.int64)
        self.rows(1, np.zeros(len(cols), dtype=np.int64), cols, vals, lower=lower, upper=upper)

    def fix(self, idx: np.ndarray, lower: np.ndarray | float, upper: np.ndarray | float) -> None:
        """Narrow the bounds of variables already added."""
        lo, hi = np.concatenate(self._lower), np.concatenate(self._upper)
        lo[idx] = np.maximum(lo[idx], lower)
        hi[idx] = np.minimum(hi[idx], upper)
        self._lower, self._upper = [lo], [hi]

    def solve(self, time_limit: float | None = None) -> Outcome:
        """Minimise the objective; stop after ``time_limit`` seconds with the best found."""
        cost = np.concatenate(self._cost) if self._cost else np.zeros(0)
        constraints = []
        if self.m:
            a = sparse.csr_array(
                (
                    np.concatenate(self._vals),
                    (np.concatenate(self._rows), np.concatenate(self._cols)),
                ),
                shape=(self.m, self.n),
            )
            constraints.append(
                LinearConstraint(a, np.concatenate(self._lo), np.concatenate(self._hi))
            )
        options: dict[str, float | bool] = {"mip_rel_gap": GAP, "presolve": True}
        if time_limit is not None:
            options["time_limit"] = max(0.01, float(time_limit))
        start = time.perf_counter()
        res = milp(
            cost,
            integrality=np.concatenate(self._integer),
            bounds=Bounds(np.concatenate(self._lower), np.concatenate(self._upper)),
            constraints=constraints,
            options=options,
        )
        seconds = time.perf_counter() - start
        status = _STATUS.get(int(res.status), "solver error")
        x = None if res.x is None else np.asarray(res.x, dtype=np.float64)
        objective = float(res.fun) if x is not None else math.nan
        dual = getattr(res, "mip_dual_bound", None)
        bound = float(dual) if dual is not None else math.nan
        if status == OPTIMAL and not math.isfinite(bound):
            bound = objective
        gap = _gap(objective, bound) if x is not None else math.nan
        return Outcome(status, x, objective, bound, gap, seconds)


def _gap(objective: float, bound: float) -> float:
    """Relative distance between a solution and the bound (0 when they meet)."""
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return math.inf
    return abs(objective - bound) / max(abs(objective), 1e-9)
