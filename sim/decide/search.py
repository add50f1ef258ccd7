"""The greedy search for the smallest fleet, and the driver that runs many searches at once.

A search is a generator: it yields the candidates it wants judged and receives their
verdicts (:class:`sim.decide.evaluate.Verdict`), so that the searches of several options or of
every coalition advance in lockstep and each round of simulations runs in parallel.

From a start (the Erlang C fleet), the search

1. *adds* units while some target is missed: one unit at each slot that could help (under a
   policy that does not borrow, as ``separate``, only the slots of communities that miss),
   keeping the candidate that misses least (the smallest sum of shortfalls of the lower
   confidence bounds), the cheaper on ties.
   It gives up (``infeasible``) when the fleet reaches ``max_units`` or when three additions
   in a row bring no improvement (a target that travel alone makes unreachable), and goes
   back to the smallest fleet that missed least;
2. *removes* units while every target is still met (when infeasible: while every target met
   stays met and the total shortfall stays within ``tolerance``, half a percentage point, of
   the smallest reached, so that an unreachable target does not hoard units that buy it
   nothing material): each slot in turn, keeping the acceptable removal that saves the most
   cost and leaves the widest margin;
3. when no single removal is acceptable, repairs the two least-bad removals by moving one
   unit between two stations (those used today; with ``placement`` any slot, including a
   community's own station that has no unit today), and keeps removing if a repaired fleet
   is acceptable.

Every candidate is judged on the same replications (common random numbers), so the search
compares fleets, not noise. The result is a local optimum in units (then cost): no single
removal, nor removal with one move, does better; not a proven global optimum.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..engine.execute import Executor
from .evaluate import Evaluation, Verdict, evaluate_task
from .fleet import Context, Counts

__all__ = ["Driver", "SearchResult", "Step", "greedy_search"]

PATIENCE = 3
TOLERANCE = 0.005  # shortfall (share) treated as no worse when a target cannot be met
Search = Generator[list[Counts], dict[Counts, Verdict], "SearchResult"]


@dataclass(frozen=True)
class Step:
    action: str  # start, add, back, remove, remove+move
    counts: Counts
    ok: bool
    deficit: float
    min_margin: float


@dataclass
class SearchResult:
    counts: Counts
    status: str  # met or infeasible
    steps: list[Step] = field(default_factory=list)
    evaluated: int = 0


def _plus(counts: Counts, i: int, d: int) -> Counts:
    out = list(counts)
    out[i] += d
    return tuple(out)


def _rank(context: Context, verdicts: dict[Counts, Verdict]) -> Callable[[Counts], Any]:
    return lambda c: (verdicts[c].deficit, context.cost_per_year(c), -verdicts[c].min_margin)


def greedy_search(
    context: Context,
    start: Counts,
    *,
    placement: bool = False,
    max_units: int | None = None,
    tolerance: float = TOLERANCE,
) -> Search:
    """The search of one context (see the module docstring)."""
    start = _feasible_start(context, start)
    cap = max_units if max_units is not None else 2 * max(sum(start), sum(context.today)) + 10
    seen: set[Counts] = set()
    result = SearchResult(start, "met")

    def ask(
        cands: list[Counts],
    ) -> Generator[list[Counts], dict[Counts, Verdict], dict[Counts, Verdict]]:
        seen.update(cands)
        got = yield cands
        return got

    verdicts = yield from ask([start])
    cur, v = start, verdicts[start]
    result.steps.append(Step("start", cur, v.ok, v.deficit, v.min_margin))
    best, best_v = cur, v  # the fewest units that miss least
    stale = 0
    while not v.ok:  # 1. add
        if sum(cur) >= cap or stale >= PATIENCE:
            result.status = "infeasible"
            break
        failing = {r.check.community for r in v.results if not r.met}
        slots = [
            i
            for i, s in enumerate(context.slots)
            if context.dispatch_policy.borrows or s.owner in failing or v.backlog > 0.01
        ]
        cands = [_plus(cur, i, 1) for i in slots] or [_plus(cur, 0, 1)]
        got = yield from ask(cands)
        nxt = min(cands, key=_rank(context, got))
        stale = stale + 1 if got[nxt].deficit >= v.deficit - 1e-12 else 0
        cur, v = nxt, got[nxt]
        result.steps.append(Step("add", cur, v.ok, v.deficit, v.min_margin))
        if v.deficit < best_v.deficit - 1e-12 or v.ok:
            best, best_v = cur, v
    if not v.ok:
        # some target cannot be met (travel-bound, or the cap): go back to the fewest units
        # that missed least, then remove whatever does not make the misses worse
        cur, v = best, best_v
        result.steps.append(Step("back", cur, v.ok, v.deficit, v.min_margin))
    met_at = {r.check for r in v.results if r.met}
    # units move among the stations used today; with placement, to any slot
    movable = [i for i, slot in enumerate(context.slots) if placement or slot.today]

    def accept(w: Verdict) -> bool:
        if v.ok:
            return w.ok
        return (
            w.deficit <= best_v.deficit + tolerance
            and w.backlog <= max(best_v.backlog, 0.01)
            and met_at <= {r.check for r in w.results if r.met}
        )

    while True:  # 2. remove (3. repair by a move)
        cands = [
            c for i in range(len(cur)) if cur[i] > 0 if context.allowed(c := _plus(cur, i, -1))
        ]
        if not cands:
            break
        got = yield from ask(cands)
        feasible = [c for c in cands if accept(got[c])]
        action = "remove"
        if not feasible:
            worst_first = sorted(cands, key=_rank(context, got))[:2]
            moves = sorted(
                {
                    m
                    for r in worst_first
                    for a in movable
                    for b in movable
                    if a != b
                    and r[a] > 0
                    and context.allowed(m := _plus(_plus(r, a, -1), b, 1))
                    and m not in seen
                }
            )
            if moves:
                more = yield from ask(moves)
                got.update(more)
                feasible = [c for c in moves if accept(got[c])]
                action = "remove+move"
        if not feasible:
            break
        cur = max(feasible, key=lambda c: (-context.cost_per_year(c), got[c].min_margin))
        w = got[cur]
        result.steps.append(Step(action, cur, w.ok, w.deficit, w.min_margin))
    result.counts = cur
    result.evaluated = len(seen)
    return result


def _feasible_start(context: Context, start: Counts) -> Counts:
    """``start`` with units added where a community could not be served at all."""
    counts = list(start)
    if not context.dispatch_policy.borrows:
        for c in context.demand:
            own = [i for i, s in enumerate(context.slots) if s.owner == c]
            while own and sum(counts[i] for i in own) < context.units_needed:
                counts[own[0]] += 1
    while context.demand and sum(counts) < context.units_needed and counts:
        counts[0] += 1
    return tuple(counts)


# --- running many searches --------------------------------------------------------------------
class Driver:
    """Runs searches in lockstep; evaluates what they ask for in parallel, once per candidate.

    ``judge(context, evaluation)`` turns counts into a verdict; evaluations are cached per
    context and candidate, so a candidate two steps ask about is simulated once."""

    def __init__(
        self,
        pool: Executor,
        contexts: dict[str, Context],
        replications: Sequence[int],
        judge: Callable[[Context, Evaluation], Verdict],
        progress: Callable[[int], None] | None = None,
        grow: Callable[[int], None] | None = None,
    ) -> None:
        self.pool = pool
        self.contexts = contexts
        self.replications = tuple(replications)
        self.judge = judge
        self.progress = progress
        self.grow = grow
        self.cache: dict[tuple[str, tuple[int, ...], Counts], Evaluation] = {}
        self.simulated = 0

    def evaluate(
        self, wanted: Sequence[tuple[str, Counts]], replications: Sequence[int] | None = None
    ) -> dict[tuple[str, Counts], Evaluation]:
        """Evaluations of ``(context key, counts)`` pairs on ``replications``."""
        reps = tuple(replications) if replications is not None else self.replications
        todo = list(dict.fromkeys(w for w in wanted if (w[0], reps, w[1]) not in self.cache))
        by_key: dict[str, list[Counts]] = {}
        for key, counts in todo:
            by_key.setdefault(key, []).append(counts)
        # a few candidates per task: enough tasks to keep every worker busy, short tasks
        size = max(1, min(8, len(todo) * len(reps) // max(1, 3 * self.pool.workers)))
        tasks = []
        for key, cands in by_key.items():
            ctx_json = self.contexts[key].to_json()
            for i in range(0, len(cands), size):
                batch = cands[i : i + size]
                for r in reps:
                    tasks.append((key, batch, r, (ctx_json, json.dumps(batch), r)))
        if self.grow is not None and tasks:
            self.grow(len(tasks))
        progress = self.progress
        done = self.pool.map(
            evaluate_task,
            [t[3] for t in tasks],
            on_done=(lambda: progress(1)) if progress is not None else None,
        )
        per: dict[tuple[str, Counts], dict[int, dict[str, Any]]] = {}
        for (key, batch, r, _), out in zip(tasks, done, strict=True):
            for counts, res in zip(batch, out, strict=True):
                per.setdefault((key, counts), {})[r] = res
        for (key, counts), by_rep in per.items():
            self.cache[(key, reps, counts)] = Evaluation.from_results(
                reps, [by_rep[r] for r in reps]
            )
            self.simulated += len(reps)
        return {w: self.cache[(w[0], reps, w[1])] for w in wanted}

    def run(self, searches: dict[str, Search]) -> dict[str, SearchResult]:
        """Advance every search until it ends; return their results by context key."""
        results: dict[str, SearchResult] = {}
        asks: dict[str, list[Counts]] = {}
        for key, search in searches.items():
            asks[key] = next(search)
        while asks:
            evals = self.evaluate([(k, c) for k, cands in asks.items() for c in cands])
            nxt: dict[str, list[Counts]] = {}
            for key, cands in asks.items():
                ctx = self.contexts[key]
                verdicts = {c: self.judge(ctx, evals[(key, c)]) for c in cands}
                try:
                    nxt[key] = searches[key].send(verdicts)
                except StopIteration as stop:
                    results[key] = stop.value
            asks = nxt
        return results
