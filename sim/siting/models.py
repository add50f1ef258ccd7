"""The location models, as exact mixed-integer programs on an :class:`~.instance.Instance`.

Variables: ``y_i`` (site ``i`` open, binary) and, where units matter, ``x_i`` (its units,
integer). Every model takes the same :class:`Rules`: at most ``stations`` open sites, the
``keep`` sites open, at most ``close_at_most`` of today's sites closed, at most
``max_per_station`` units at a site, and a minimum covered share of each named community
(``z_j <= sum of y_i over the sites covering zone j``; the community's calls with ``z`` must
reach its share). Every open site holds at least one unit and all ``units`` are placed.

* **MEXCLP** (Daskin 1983), maximum expected covered demand: a zone with ``k`` units within
  reach has a free one with probability ``1 - q^k``; ``w_jk`` (the k-th unit reaches j) with
  ``sum_k w_jk <= sum of x_i over the covering sites``, gains ``(1 - q) q^(k-1)`` falling in
  ``k``, so the relaxed ``w`` are integral once ``x`` is.
* **MCLP** (Church and ReVelle 1974), maximal covering: the calls with an open site within
  reach, ``z_j <= sum of y_i``.
* **p-median** (Hakimi 1964; ReVelle and Swain 1970), minimum mean trip: each zone assigned to
  an open site, ``u_ij <= y_i``. Solved on each zone's nearest sites with an escape at the
  next site's trip (a lower bound for any site further away), the sets widened where the
  solution escapes, until none does: then the optimum is exact.
* **p90**: the smallest trip ``R`` within which 90 % of the calls have an open site (a
  percentile centre), by bisection over the trips with a maximal covering program at each.

MCLP, p-median and p90 choose sites only; their units are spread over the chosen sites by
MEXCLP with the sites fixed (:func:`allocate`). Zones with the same community and the same
covering sites are merged, and zones no site covers are left out of the covering programs: the
optima are the same. ``exclude`` lists site sets the answer must differ from (the next-best
placements).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .instance import P90, Instance, nearest_trip, weighted_quantile
from .milp import INFEASIBLE, LIMIT, Outcome, Program

__all__ = [
    "MODELS",
    "Found",
    "Infeasible",
    "NoSolution",
    "Rules",
    "allocate",
    "covered",
    "feasible",
    "merged_zones",
    "solve_model",
]

MODELS = ("mexclp", "mclp", "pmedian", "p90")
TINY_GAIN = 1e-12  # MEXCLP levels worth less than this share of the calls are left out
# p-median: each zone starts with its nearest max(FIRST_NEAREST, NEAREST_FACTOR x sites per
# open site) sites; the rounds widen the sets where needed, so these only change the speed
FIRST_NEAREST, NEAREST_FACTOR = 8, 1


class Infeasible(Exception):
    """No placement meets the rules."""


class NoSolution(Exception):
    """The time limit came before the solver found any placement."""


@dataclass(frozen=True)
class Rules:
    """Constraints on a placement (site and community indices of the instance)."""

    stations: int | None = None
    keep: tuple[int, ...] = ()
    close_at_most: int | None = None
    max_per_station: int | None = None
    min_coverage: tuple[tuple[int, float], ...] = ()

    def per_station(self, inst: Instance) -> int:
        return min(inst.units, self.max_per_station or inst.units)


@dataclass(frozen=True)
class Found:
    """A model's answer: units per site, its objective (covered shares, or trip minutes), and
    how the solver ended (with the relative gap between the answer and the best bound)."""

    counts: np.ndarray
    objective: float
    status: str
    gap: float
    seconds: float


@dataclass
class _Build:
    """A program with the site variables and the rules."""

    inst: Instance
    rules: Rules
    with_units: bool
    prog: Program = field(default_factory=Program)

    def __post_init__(self) -> None:
        inst, rules, p = self.inst, self.rules, self.prog
        n_sites = len(inst.sites)
        self.y = p.variables(n_sites, integer=True)
        if rules.keep:
            p.fix(self.y[list(rules.keep)], 1.0, 1.0)
        if rules.stations is not None:
            p.row(self.y, 1.0, upper=rules.stations)
        today = np.flatnonzero(inst.today > 0)
        if rules.close_at_most is not None and len(today):
            p.row(self.y[today], 1.0, lower=len(today) - rules.close_at_most)
        cap = self.rules.per_station(inst)
        if self.with_units:
            self.x = p.variables(n_sites, upper=cap, integer=True)
            p.row(self.x, 1.0, lower=inst.units, upper=inst.units)
            rows = np.repeat(np.arange(n_sites), 2)
            cols = np.column_stack([self.x, self.y]).ravel()
            p.rows(n_sites, rows, cols, np.tile([1.0, -float(cap)], n_sites), upper=0.0)
            p.rows(n_sites, rows, cols, np.tile([-1.0, 1.0], n_sites), upper=0.0)
        else:  # each open site holds a unit, and the units fit on the open sites
            p.row(self.y, 1.0, lower=math.ceil(inst.units / cap), upper=inst.units)
        self._minimum_coverage()

    def cover(self, cover: np.ndarray, zones: np.ndarray, cost: np.ndarray | float) -> np.ndarray:
        """Variables ``z`` of ``zones`` (columns of ``cover``): at most the open sites covering."""
        return covered(self.prog, self.y, cover[:, zones], cost)

    def _minimum_coverage(self) -> None:
        inst = self.inst
        groups = merged_zones(inst)
        totals = inst.community_demand()
        for c, share in self.rules.min_coverage:
            mine = np.flatnonzero(groups.community == c)
            if totals[c] <= 0:
                continue
            z = self.cover(groups.cover, mine, 0.0)
            self.prog.row(z, groups.demand[mine] / totals[c], lower=share - 1e-9)

    def exclude(self, placements: list[np.ndarray]) -> None:
        """Cut off the open-site sets of ``placements``."""
        for open_sites in placements:
            sign = np.where(open_sites, -1.0, 1.0)
            self.prog.row(self.y, sign, lower=1.0 - float(open_sites.sum()))

    def units(self, out: Outcome) -> np.ndarray:
        assert out.x is not None
        var = self.x if self.with_units else self.y
        return np.rint(out.x[var]).astype(np.int64)


def covered(
    prog: Program, y: np.ndarray, cover: np.ndarray, cost: np.ndarray | float = 0.0
) -> np.ndarray:
    """Variables ``z_g`` in [0, 1], one per column ``g`` of ``cover`` (sites x zones), with
    ``z_g <= sum of y_i over the sites i covering g``."""
    n = cover.shape[1]
    z = prog.variables(n, cost=cost)
    sites, k = np.nonzero(cover)
    rows = np.concatenate([np.arange(n), k])
    cols = np.concatenate([z, y[sites]])
    vals = np.concatenate([np.ones(n), -np.ones(len(k))])
    prog.rows(n, rows, cols, vals, upper=0.0)
    return z


@dataclass(frozen=True)
class _Groups:
    """Zones merged by community and covering sites (zones no site covers left out)."""

    cover: np.ndarray  # (I, G)
    demand: np.ndarray  # (G,)
    community: np.ndarray  # (G,)


def merged_zones(inst: Instance, cover: np.ndarray | None = None) -> _Groups:
    cover = inst.covers if cover is None else cover
    keep = cover.any(axis=0) & (inst.demand > 0)
    cols = np.flatnonzero(keep)
    if not len(cols):
        return _Groups(cover[:, :0], np.zeros(0), np.zeros(0, dtype=np.int64))
    key = np.column_stack(
        [inst.community[cols].astype(np.int64), np.packbits(cover[:, cols].T, axis=1)]
    )
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    return _Groups(
        cover=cover[:, cols[first]],
        demand=np.bincount(inverse, inst.demand[cols], minlength=len(first)),
        community=inst.community[cols[first]],
    )


def _check(out: Outcome) -> Outcome:
    if out.status == INFEASIBLE:
        raise Infeasible()
    if not out.solved:
        raise NoSolution(out.status)
    return out


def _found(b: _Build, out: Outcome, objective: float) -> Found:
    return Found(b.units(out), objective, out.status, out.gap, out.seconds)


# --- MEXCLP -----------------------------------------------------------------------------------
def _mexclp(b: _Build) -> None:
    inst = b.inst
    groups = merged_zones(inst)
    cap = b.rules.per_station(inst)
    q = inst.busy
    total = inst.total or 1.0
    levels = np.minimum(inst.units, cap * groups.cover.sum(axis=0))
    gains = (1.0 - q) * q ** np.arange(inst.units)
    worth = np.flatnonzero(gains >= TINY_GAIN) if q > 0 else np.array([0])
    levels = np.minimum(levels, len(worth))
    cols_w = [
        b.prog.variables(int(n), cost=-groups.demand[g] / total * gains[: int(n)])
        for g, n in enumerate(levels)
    ]
    rows, cols, vals = [], [], []
    for g, w in enumerate(cols_w):
        sites = np.flatnonzero(groups.cover[:, g])
        rows += [np.full(len(w) + len(sites), g)]
        cols += [w, b.x[sites]]
        vals += [np.ones(len(w)), -np.ones(len(sites))]
    if cols_w:
        b.prog.rows(
            len(cols_w),
            np.concatenate(rows),
            np.concatenate(cols),
            np.concatenate(vals),
            upper=0.0,
        )


def allocate(
    inst: Instance, rules: Rules, open_sites: np.ndarray, time_limit: float | None
) -> Found:
    """Units over the fixed ``open_sites`` (one at least each), by MEXCLP."""
    b = _Build(inst, rules, with_units=True)
    b.prog.fix(b.y, open_sites.astype(float), open_sites.astype(float))
    _mexclp(b)
    out = _check(b.prog.solve(time_limit))
    return _found(b, out, -out.objective)


# --- MCLP and p90 -----------------------------------------------------------------------------
def _mclp(
    inst: Instance,
    rules: Rules,
    exclude: list[np.ndarray],
    cover: np.ndarray,
    time_limit: float | None,
    least: float | None = None,
    feasibility: bool = False,
) -> tuple[_Build, Outcome]:
    """Maximal covering with ``cover``; with ``least``, at least that share covered; with
    ``feasibility``, any placement that does (the solver stops at the first)."""
    b = _Build(inst, rules, with_units=False)
    b.exclude(exclude)
    groups = merged_zones(inst, cover)
    total = inst.total or 1.0
    cost = 0.0 if feasibility else -groups.demand / total
    z = b.cover(groups.cover, np.arange(len(groups.demand)), cost)
    if least is not None:
        b.prog.row(z, groups.demand / total, lower=least - 1e-9)
    return b, b.prog.solve(time_limit)


def _p90(
    inst: Instance,
    rules: Rules,
    exclude: list[np.ndarray],
    time_limit: float | None,
    seed: np.ndarray,
) -> tuple[_Build, Outcome, float, float]:
    """Bisection over the trips between the all-open 90th percentile (no placement does
    better) and that of ``seed``, a placement meeting the rules: at each trip, is there a
    placement with 90 % of the calls within it? Then the most calls within the smallest such
    trip. Out of time, the smallest trip proven so far, with the gap to the largest proven
    impossible."""
    has = inst.demand > 0
    low = weighted_quantile(
        nearest_trip(inst, np.ones(len(inst.sites), bool))[has], inst.demand[has], P90
    )
    high = weighted_quantile(nearest_trip(inst, seed > 0)[has], inst.demand[has], P90)
    values = np.unique(inst.trip[:, has])
    values = values[(values >= low) & (values <= high)]
    found: tuple[_Build, Outcome, int] | None = None
    lo, hi = 0, len(values) - 1
    spent, stopped = 0.0, False

    def left() -> float | None:
        return None if time_limit is None else max(0.01, time_limit - spent)

    while lo <= hi:
        mid = (lo + hi) // 2
        b, out = _mclp(
            inst, rules, exclude, inst.trip <= values[mid], left(), least=P90, feasibility=True
        )
        spent += out.seconds
        if out.status == INFEASIBLE:
            lo = mid + 1
            continue
        if not out.solved:  # undecided when the time ran out
            stopped = True
            break
        found, hi = (b, out, mid), mid - 1
        if time_limit is not None and spent >= time_limit:
            stopped = lo <= hi
            break
    if found is None:
        raise NoSolution(LIMIT) if stopped else Infeasible()
    b, out, at = found
    radius = float(values[at])
    best_b, best = _mclp(inst, rules, exclude, inst.trip <= radius, left(), least=P90)
    if best.solved:  # the most calls within the radius (any answer meets the 90 %)
        b, out = best_b, best
    gap = (radius - float(values[lo])) / max(radius, 1e-9) if stopped else 0.0
    return b, out, radius, gap


# --- p-median ---------------------------------------------------------------------------------
def _pmedian_round(
    inst: Instance,
    rules: Rules,
    exclude: list[np.ndarray],
    order: np.ndarray,
    size: np.ndarray,
    time_limit: float | None,
) -> tuple[_Build, Outcome, np.ndarray]:
    """One program on each zone's ``size`` nearest sites, the rest behind an escape."""
    b = _Build(inst, rules, with_units=False)
    b.exclude(exclude)
    total = inst.total or 1.0
    zones = np.flatnonzero(inst.demand > 0)
    n_sites = len(inst.sites)
    rows, cols, vals, pair_rows, pair_cols = [], [], [], [], []
    link = 0
    for r, j in enumerate(zones):
        near = order[: size[j], j]
        w = inst.demand[j] / total
        u = b.prog.variables(len(near), cost=w * inst.trip[near, j])
        choice = [u]
        if size[j] < n_sites:  # any site beyond the nearest is at least this far
            choice.append(b.prog.variables(1, cost=w * inst.trip[order[size[j], j], j]))
        both = np.concatenate(choice)
        rows.append(np.full(len(both), r))
        cols.append(both)
        vals.append(np.ones(len(both)))
        pair_rows.append(np.repeat(np.arange(link, link + len(near)), 2))
        pair_cols.append(np.column_stack([u, b.y[near]]).ravel())
        link += len(near)
    if len(zones):
        b.prog.rows(
            len(zones),
            np.concatenate(rows),
            np.concatenate(cols),
            np.concatenate(vals),
            lower=1.0,
            upper=1.0,
        )
        b.prog.rows(
            link,
            np.concatenate(pair_rows),
            np.concatenate(pair_cols),
            np.tile([1.0, -1.0], link),
            upper=0.0,
        )
    out = _check(b.prog.solve(time_limit))
    open_sites = b.units(out) > 0
    inside = np.zeros(len(zones), dtype=bool)
    for r, j in enumerate(zones):
        inside[r] = bool(open_sites[order[: size[j], j]].any())
    return b, out, zones[~inside]


def _pmedian(
    inst: Instance, rules: Rules, exclude: list[np.ndarray], time_limit: float | None
) -> tuple[_Build, Outcome, float, float]:
    """Rounds until no zone escapes (exact) or the time is up (best found, and its gap)."""
    n_sites = len(inst.sites)
    order = np.argsort(inst.trip, axis=0, kind="stable")
    opened = min(n_sites, rules.stations or inst.units, inst.units)
    size = np.full(
        len(inst.zones),
        min(n_sites, max(FIRST_NEAREST, NEAREST_FACTOR * math.ceil(n_sites / max(opened, 1)))),
    )
    if rules.keep:  # an always-open site bounds every zone's trip: no site beyond it is needed
        rank = np.argsort(order, axis=0)
        size = np.minimum(size, rank[list(rules.keep)].min(axis=0) + 1)
    spent, bound = 0.0, -math.inf
    best: tuple[_Build, Outcome, float] | None = None
    while True:
        left = None if time_limit is None else max(0.01, time_limit - spent)
        try:
            b, out, escaped = _pmedian_round(inst, rules, exclude, order, size, left)
        except NoSolution:  # the time left ran out in a wider round: the best found stands
            if best is None:
                raise
            break
        spent += out.seconds
        if math.isfinite(out.bound):  # a bound of the relaxation bounds the problem too
            bound = max(bound, out.bound)
        sites = b.units(out) > 0
        cost = float(inst.demand @ nearest_trip(inst, sites)) / (inst.total or 1.0)
        if best is None or cost < best[2]:
            best = (b, out, cost)
        if not len(escaped) and out.status != LIMIT:
            return b, out, cost, 0.0
        if (time_limit is not None and spent >= time_limit) or out.status == LIMIT:
            break
        size[escaped] = np.minimum(n_sites, size[escaped] * 2)
    assert best is not None  # the time is up: the best found, with its gap from the bound
    gap = max(0.0, (best[2] - bound) / max(best[2], 1e-9))
    return best[0], best[1], best[2], gap


# --- the entry points -------------------------------------------------------------------------
def solve_model(
    inst: Instance,
    rules: Rules,
    model: str,
    *,
    exclude: list[np.ndarray] | None = None,
    time_limit: float | None = None,
) -> Found:
    """The best placement of ``model`` (one of :data:`MODELS`) other than ``exclude``; raises
    :class:`Infeasible` or :class:`NoSolution`."""
    exclude = exclude or []
    if model == "mexclp":
        b = _Build(inst, rules, with_units=True)
        b.exclude(exclude)
        _mexclp(b)
        out = _check(b.prog.solve(time_limit))
        return _found(b, out, -out.objective)
    if model == "mclp":
        b, out = _mclp(inst, rules, exclude, inst.covers, time_limit)
        _check(out)
        sites, objective, status, gap = b.units(out) > 0, -out.objective, out.status, out.gap
    elif model == "pmedian":
        b, out, objective, gap = _pmedian(inst, rules, exclude, time_limit)
        sites, status = b.units(out) > 0, LIMIT if gap > 0 else out.status
    elif model == "p90":
        seed = solve_model(inst, rules, "mclp", exclude=exclude, time_limit=time_limit)
        b, out, objective, gap = _p90(inst, rules, exclude, time_limit, seed.counts)
        sites, status = b.units(out) > 0, LIMIT if gap > 0 else out.status
    else:
        raise ValueError(f"unknown model {model!r}")
    spread = allocate(inst, rules, sites, time_limit)
    return Found(
        spread.counts,
        objective,
        LIMIT if LIMIT in (status, spread.status) else status,
        gap,
        out.seconds + spread.seconds,
    )


def feasible(inst: Instance, rules: Rules, time_limit: float | None = None) -> bool:
    """Whether some placement meets ``rules`` (True when the time runs out first)."""
    out = _Build(inst, rules, with_units=True).prog.solve(time_limit)
    return out.status != INFEASIBLE
