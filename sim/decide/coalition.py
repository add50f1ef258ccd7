"""Coalitions: what every group of communities would pay (or miss) pooling among themselves,
and how the grand coalition's cost could fairly be shared.

For every non-empty subset S of the communities (at most 8, so at most 255 coalitions), S
pools its members' units with each other only (:func:`sim.decide.fleet.coalition_context`),
and its value c(S) is

* ``value='cost'`` (default): the yearly cost of the fleet S needs to meet its members'
  response targets: by simulation (the search of :mod:`sim.decide.sizing`, every coalition in
  lockstep on the same replications, each answer confirmed on fresh ones), or with ``fast``
  by Erlang C alone (:mod:`sim.decide.analytic`): a *screening estimate*, labelled so
  (``method``), which leaves out travel between communities and can differ widely from the
  simulation;
* ``value='service'``: the calls per year (of the checked priority) *not* reached within
  target with today's units of S pooled: a cost game too, in missed calls.

Every simulated game also carries its Erlang C screening estimate side by side: each
coalition's ``value_analytic`` and ``units_analytic`` (the analytic fleet the search starts
from, or today's units for ``service``) and, per allocation, ``amount_analytic`` (the same
method applied to the screening game).

From the game: the pooling gain of each coalition, the Shapley value
(:mod:`sim.analysis.shapley`), whether the grand coalition is stable (is the Shapley split in
the core? is the core empty? which group would leave?), and, for cost games, the Shapley split
beside the formulas real agreements use (per capita, per call, per unit-hour used, the
scenario's weighted mix: the bases of :mod:`sim.costs`, taken here as expectations: calls and
busy unit-hours per year from the rates and the offered load), with, for each community, whether
a formula charges it more than going alone would cost, c({i}).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..analysis import shapley as games
from ..engine.execute import open_executor
from ..engine.progress import progress_bar
from ..errors import InputError
from ..results.display import METHOD_NAMES
from ..schema import Scenario
from .analytic import analytic_counts, demands_for, service_level
from .common import Problem, load
from .evaluate import MINUTES_PER_YEAR, PRELOAD, held, missed_per_year
from .fleet import HOURS_PER_YEAR, Context, Counts, coalition_context, coalition_name
from .search import Driver, greedy_search
from .sizing import counts_text

__all__ = ["MAX_COMMUNITIES", "METHOD_NAMES", "CoalitionResult", "coalitions"]

MAX_COMMUNITIES = 8
SCREENING = "Erlang C screening estimate"
VALUES = ("cost", "service")
BASES = {"per_capita": "population", "per_call": "calls", "per_unit_hour": "unit_hours"}


@dataclass
class CoalitionResult:
    """The game and its analysis (DataFrames), and how it was computed."""

    values: pd.DataFrame  # one row per coalition
    allocations: pd.DataFrame  # per method and community
    stability: pd.DataFrame  # per method: in the core? who would leave?
    players: list[str]
    names: dict[str, str]
    service: str
    value: str
    fast: bool
    grand_value: float
    core_nonempty: bool
    least_core_epsilon: float
    subadditive: bool
    confidence: float
    replications: int
    confirm_replications: int
    seed: int
    seconds: float
    executor: str
    priorities: str = "first"
    scenario_file: Path | None = None
    warnings: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "coalitions": self.values,
            "allocations": self.allocations,
            "stability": self.stability,
        }

    def game(self) -> games.Game:
        return games.Game(
            tuple(self.players),
            {
                frozenset(str(m).split("+")): float(v)
                for m, v in zip(self.values["coalition"], self.values["value"], strict=True)
            },
        )


def coalitions(
    scenario: str | Path | dict[str, Any] | Scenario,
    service: str,
    *,
    value: str = "cost",
    fast: bool = False,
    confidence: float = 0.95,
    replications: int | None = None,
    confirm_replications: int | None = None,
    confirm: bool = True,
    seed: int | None = None,
    placement: bool = False,
    priorities: str = "first",
    target_share: float | None = None,
    max_units: int | None = None,
    workers: int | None = None,
    dask: str | None = None,
    progress: bool = False,
) -> CoalitionResult:
    """Evaluate every coalition of the scenario's communities for ``service``; see the module
    docstring."""
    t0 = time.perf_counter()
    if value not in VALUES:
        raise InputError(f"--value must be one of {', '.join(VALUES)}, got '{value}'")
    sc, path = load(scenario)
    players = list(sc.communities)
    if len(players) > MAX_COMMUNITIES:
        raise InputError(
            f"coalitions: {len(players)} communities; at most {MAX_COMMUNITIES} "
            f"(2^n - 1 coalitions: {2 ** len(players) - 1} would be too many)"
        )
    problem = Problem.build(
        sc,
        service,
        replications=replications,
        confirm_replications=confirm_replications,
        seed=seed,
        confidence=confidence,
        priorities=priorities,
        target_share=target_share,
    )
    contexts: dict[str, Context] = {}
    for s in games.coalitions(players):
        ctx = coalition_context(sc, [p for p in players if p in s], service, placement=placement)
        contexts[ctx.key] = ctx
    rows: dict[str, dict[str, Any]] = {}
    executor = "analytic (Erlang C)"
    if fast:
        for key, ctx in contexts.items():
            rows[key] = _fast_row(problem, ctx, value)
    else:
        with (
            progress_bar("coalitions", "sim", enabled=progress) as bar,
            open_executor(problem.base_json, workers=workers, dask=dask, preload=PRELOAD) as pool,
        ):
            driver = Driver(
                pool,
                contexts,
                problem.search_reps,
                problem.judge,
                progress=bar.update,
                grow=bar.grow,
            )
            if value == "cost":
                rows = _simulated_costs(problem, contexts, driver, placement, max_units, confirm)
            else:
                rows = _simulated_service(problem, contexts, driver)
            executor = pool.kind
    game = games.Game(
        tuple(players), {frozenset(contexts[k].members): rows[k]["value"] for k in contexts}
    )
    values = _values_table(game, contexts, rows, fast)
    methods = _methods(problem, game, contexts, value)
    # the same game valued by Erlang C alone: the screening estimate, shown beside the simulation
    screening = games.Game(
        tuple(players),
        {frozenset(contexts[k].members): rows[k]["value_analytic"] for k in contexts},
    )
    screening_methods = methods if fast else _methods(problem, screening, contexts, value)
    eps, _ = games.least_core(game)
    warnings = []
    unmet: dict[str, int] = {}
    for r in rows.values():
        for c in filter(None, str(r.get("unmet", "")).split(", ")):
            unmet[c] = unmet.get(c, 0) + 1
    if unmet and not fast and value == "cost":
        warnings.append(
            "no fleet met the target of "
            + ", ".join(
                f"{sc.communities[c].name or c} (in {n} coalition(s))" for c, n in unmet.items()
            )
            + "; those coalitions are valued at the cheapest fleet that comes closest"
        )
    return CoalitionResult(
        values=values,
        allocations=_allocations_table(game, methods, screening_methods),
        stability=_stability_table(game, methods),
        players=players,
        names={c: sc.communities[c].name or c for c in players},
        service=service,
        value=value,
        fast=fast,
        grand_value=game(game.grand),
        core_nonempty=eps <= 1e-9 * max(1.0, abs(game(game.grand))),
        least_core_epsilon=eps,
        subadditive=games.is_subadditive(game),
        confidence=confidence,
        replications=problem.replications,
        confirm_replications=problem.confirm_replications if confirm else 0,
        seed=problem.seed,
        seconds=time.perf_counter() - t0,
        executor=executor,
        priorities=priorities,
        scenario_file=path,
        warnings=warnings,
    )


# --- coalition values -------------------------------------------------------------------------
def _fast_row(problem: Problem, ctx: Context, value: str) -> dict[str, Any]:
    checks = problem.checks(ctx)
    if value == "cost":
        counts = (
            analytic_counts(problem.region, ctx, checks)
            if ctx.demand
            else tuple(0 for _ in ctx.slots)
        )
        cost = ctx.cost_per_year(counts)
        return {
            "value": cost,
            "counts": counts,
            "status": "analytic",
            "value_analytic": cost,
            "counts_analytic": counts,
        }
    missed = _analytic_missed(problem, ctx)
    return {
        "value": missed,
        "counts": ctx.today,
        "status": "analytic",
        "value_analytic": missed,
        "counts_analytic": ctx.today,
    }


def _analytic_missed(problem: Problem, ctx: Context) -> float:
    """Erlang C: calls per year not within target with today's units of a coalition."""
    if not ctx.demand:
        return 0.0
    return service_level(problem.region, ctx, problem.checks(ctx), ctx.today)["missed_per_year"]


def _simulated_costs(
    problem: Problem,
    contexts: dict[str, Context],
    driver: Driver,
    placement: bool,
    max_units: int | None,
    confirm: bool,
) -> dict[str, dict[str, Any]]:
    starts = {
        k: analytic_counts(problem.region, ctx, problem.checks(ctx))
        if ctx.demand
        else tuple(0 for _ in ctx.slots)
        for k, ctx in contexts.items()
    }
    found = driver.run(
        {
            k: greedy_search(ctx, starts[k], placement=placement, max_units=max_units)
            for k, ctx in contexts.items()
        }
    )
    kept: dict[str, bool | None] = dict.fromkeys(contexts)
    if confirm:
        fresh = driver.evaluate([(k, found[k].counts) for k in contexts], problem.confirm_reps)
        kept = {
            k: held(
                problem.judge(contexts[k], driver.cache[(k, problem.search_reps, found[k].counts)]),
                problem.judge(contexts[k], fresh[(k, found[k].counts)]),
            )
            for k in contexts
        }
    out = {}
    for k, ctx in contexts.items():
        ev = driver.cache[(k, problem.search_reps, found[k].counts)]
        v = problem.judge(ctx, ev)
        out[k] = {
            "value": ctx.cost_per_year(found[k].counts),
            "counts": found[k].counts,
            "status": found[k].status,
            "held": kept[k],
            "min_margin": v.min_margin,
            "candidates": found[k].evaluated,
            "unmet": ", ".join(r.check.community for r in v.results if not r.met),
            "value_analytic": ctx.cost_per_year(starts[k]),
            "counts_analytic": starts[k],
        }
    return out


def _simulated_service(
    problem: Problem, contexts: dict[str, Context], driver: Driver
) -> dict[str, dict[str, Any]]:
    evals = driver.evaluate([(k, ctx.today) for k, ctx in contexts.items()])
    out = {}
    for k, ctx in contexts.items():
        ev = evals[(k, ctx.today)]
        checks = problem.checks(ctx)
        v = problem.judge(ctx, ev)
        out[k] = {
            "value": missed_per_year(ev, checks, ctx, problem.prios, problem.window_minutes),
            "counts": ctx.today,
            "status": "met" if v.ok else "missed",
            "min_margin": v.min_margin,
            "value_analytic": _analytic_missed(problem, ctx),
            "counts_analytic": ctx.today,
        }
    return out


def _values_table(
    game: games.Game, contexts: dict[str, Context], rows: dict[str, dict[str, Any]], fast: bool
) -> pd.DataFrame:
    out = []
    for key, ctx in contexts.items():
        s = frozenset(ctx.members)
        alone = sum(game({p}) for p in s)
        r = rows[key]
        counts: Counts = r["counts"]
        out.append(
            {
                "coalition": coalition_name(ctx.members),
                "size": len(ctx.members),
                "value": r["value"],
                "stand_alone_sum": alone,
                "gain": alone - r["value"],
                "gain_share": (alone - r["value"]) / alone if alone > 0 else 0.0,
                "units": sum(counts),
                "units_today": sum(ctx.today),
                "method": SCREENING if fast else "simulation",
                "value_analytic": r["value_analytic"],
                "units_analytic": sum(r["counts_analytic"]),
                "status": r.get("status", ""),
                "unmet": r.get("unmet", ""),
                "held": r.get("held"),
                "min_margin": r.get("min_margin", math.nan),
                "candidates": r.get("candidates", 0),
                "stations": counts_text(ctx, counts),
            }
        )
    return pd.DataFrame(out)


# --- allocations ------------------------------------------------------------------------------
def _bases(problem: Problem, grand: Context) -> dict[str, dict[str, float]]:
    region = problem.region
    s = region.services.index(problem.service)
    kinds = [k for k, t in enumerate(region.types) if t.service == s]
    demand = demands_for(region, grand, problem.checks(grand))
    out: dict[str, dict[str, float]] = {"population": {}, "calls": {}, "unit_hours": {}}
    for c in grand.members:
        ci = region.communities.index(c)
        out["population"][c] = float(region.population[ci])
        out["calls"][c] = float(region.rates[ci, kinds].sum()) * MINUTES_PER_YEAR
        out["unit_hours"][c] = demand[c].load * HOURS_PER_YEAR
    return out


def _methods(
    problem: Problem, game: games.Game, contexts: dict[str, Context], value: str
) -> dict[str, dict[str, float]]:
    methods: dict[str, dict[str, float]] = {"shapley": games.shapley(game)}
    if value == "cost":
        grand = contexts[f"coalition:{coalition_name(game.players)}"]  # type: ignore[arg-type]
        bases = _bases(problem, grand)
        for name, basis in BASES.items():
            methods[name] = games.proportional(game, bases[basis])
        mix = problem.scenario.cost_sharing.mix
        total = sum(mix.values())
        shares = {name: games.proportional(game, bases[BASES[name]]) for name in BASES}
        inverse = {b: m for m, b in BASES.items()}
        methods["mix"] = {
            p: sum(w / total * shares[inverse[k]][p] for k, w in mix.items()) for p in game.players
        }
    methods["nucleolus"] = games.nucleolus(game)
    return methods


def _allocations_table(
    game: games.Game,
    methods: dict[str, dict[str, float]],
    screening: dict[str, dict[str, float]],
) -> pd.DataFrame:
    """Per method and community: the amount, against going alone; ``amount_analytic`` is the
    same method applied to the game valued by Erlang C alone (the screening estimate)."""
    total = game(game.grand)
    rows = []
    for method, alloc in methods.items():
        for p in game.players:
            alone = game({p})
            rows.append(
                {
                    "method": method,
                    "community": p,
                    "amount": alloc[p],
                    "stand_alone": alone,
                    "share": alloc[p] / total if total else math.nan,
                    "saving": alone - alloc[p],
                    "above_stand_alone": alloc[p] > alone + 1e-9 * max(1.0, abs(total)),
                    "amount_analytic": screening[method][p],
                }
            )
    return pd.DataFrame(rows)


def _stability_table(game: games.Game, methods: dict[str, dict[str, float]]) -> pd.DataFrame:
    rows = []
    for method, alloc in methods.items():
        worst = games.most_violated(game, alloc)
        violations = games.core_violations(game, alloc)
        rational = games.individually_rational(game, alloc)
        rows.append(
            {
                "method": method,
                "in_core": games.in_core(game, alloc),
                "violations": len(violations),
                "most_violated": coalition_name([p for p in game.players if p in worst[0]])
                if worst
                else "",
                "excess": worst[1] if worst else math.nan,
                "above_stand_alone": ", ".join(str(p) for p, ok in rational.items() if not ok),
            }
        )
    return pd.DataFrame(rows)


def coalition_label(members: Sequence[str], names: dict[str, str]) -> str:
    return " + ".join(names.get(m, m) for m in members)
