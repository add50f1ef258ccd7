"""Fleet sizing: per pooling option, the smallest fleet that meets the response targets.

For every option, :func:`size` finds the fewest units of one service (then the cheapest) such
that in every community the one-sided lower confidence bound of the share of calls within
target (priority 1 by default) reaches the target share:

1. *analytic start*: Erlang C per community (``separate``) or for the region (``pooled``,
   ``mutual_aid``), spread over today's stations (:mod:`sim.decide.analytic`);
2. *search* by simulation, every candidate on the same replications 0..n-1 (common random
   numbers), greedily adding and removing units at today's stations, and moving one between
   them when no removal alone works (:mod:`sim.decide.search`); ``placement`` also uses
   communities' own stations that have no unit today;
3. *confirmation*: the answer simulated again on fresh replications n..n+m-1, and whether every
   target it met still held.

A target that no number of units can meet (travel alone makes calls late) is reported
(``status`` infeasible, ``unmet``); the fleet is then the smallest that meets every other
target and comes within half a percentage point of the best the unreachable one allows.

Costs are per year: on-duty unit-hours times each unit's hourly cost. Units and cost saved are
counted twice, each named: ``units_saved`` / ``cost_saved`` against the answer for the baseline
option (the scenario's ``baseline``, always sized too: the baseline fleet that meets the
targets), and ``units_saved_vs_today`` / ``cost_saved_vs_today`` against today's fleet of the
baseline option (the units the scenario gives it). An option that keeps today's fleet saves
nothing against today, whatever a baseline fleet meeting the targets would cost.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..engine.execute import open_executor
from ..engine.progress import progress_bar
from ..errors import InputError
from ..schema import Scenario
from .analytic import analytic_counts
from .common import Problem, load
from .evaluate import PRELOAD, Verdict, held
from .fleet import Context, Counts, option_context
from .search import Driver, SearchResult, greedy_search

__all__ = ["SizingResult", "counts_text", "size"]


@dataclass
class SizingResult:
    """Tables of a sizing (DataFrames) and how it was run."""

    summary: pd.DataFrame  # one row per option
    stations: pd.DataFrame  # units per option and station
    communities: pd.DataFrame  # share within target per option, phase and community
    trace: pd.DataFrame  # the steps of every search
    service: str
    baseline: str
    confidence: float
    replications: int
    confirm_replications: int
    seed: int
    placement: bool
    seconds: float
    executor: str
    priorities: str = "first"
    names: dict[str, str] = field(default_factory=dict)
    scenario_file: Path | None = None
    warnings: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "sizing": self.summary,
            "sizing_stations": self.stations,
            "sizing_communities": self.communities,
            "sizing_trace": self.trace,
        }


def counts_text(context: Context, counts: Counts) -> str:
    return "; ".join(f"{s.label()}: {n}" for s, n in zip(context.slots, counts, strict=True))


def size(
    scenario: str | Path | dict[str, Any] | Scenario,
    service: str,
    *,
    options: Sequence[str] | None = None,
    target_share: float | None = None,
    confidence: float = 0.95,
    replications: int | None = None,
    confirm_replications: int | None = None,
    seed: int | None = None,
    placement: bool = False,
    priorities: str = "first",
    max_units: int | None = None,
    start: Mapping[str, Sequence[int]] | None = None,
    workers: int | None = None,
    dask: str | None = None,
    progress: bool = False,
) -> SizingResult:
    """Size ``service`` under each option (default: all); see the module docstring.

    ``start`` overrides the analytic start per option (counts in slot order, as in the
    ``stations`` table); ``max_units`` caps the fleet a search may reach.
    """
    t0 = time.perf_counter()
    sc, path = load(scenario)
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
    names = list(options) if options else list(sc.options)
    unknown = [o for o in names if o not in sc.options]
    if unknown:
        raise InputError(
            f"--option: unknown option(s) {', '.join(unknown)} (known: {', '.join(sc.options)})"
        )
    baseline = sc.baseline_option
    warnings = []
    if baseline not in names:
        names.insert(0, baseline)
        warnings.append(f"the baseline option '{baseline}' was sized too, to count savings")
    contexts = {f"option:{o}": option_context(sc, o, service, placement=placement) for o in names}
    starts: dict[str, Counts] = {}
    for key, ctx in contexts.items():
        given = (start or {}).get(ctx.option)
        if given is not None:
            if len(given) != len(ctx.slots):
                raise InputError(
                    f"start for '{ctx.option}': {len(given)} counts for {len(ctx.slots)} stations"
                )
            starts[key] = tuple(int(v) for v in given)
        else:
            starts[key] = analytic_counts(problem.region, ctx, problem.checks(ctx))
        if not problem.checks(ctx):
            warnings.append(
                f"option '{ctx.option}': no call of {service} has a target; "
                "the smallest fleet that keeps up is sought"
            )
    with (
        progress_bar("size", "sim", enabled=progress) as bar,
        open_executor(problem.base_json, workers=workers, dask=dask, preload=PRELOAD) as pool,
    ):
        driver = Driver(
            pool, contexts, problem.search_reps, problem.judge, progress=bar.update, grow=bar.grow
        )
        found = driver.run(
            {
                k: greedy_search(ctx, starts[k], placement=placement, max_units=max_units)
                for k, ctx in contexts.items()
            }
        )
        today = driver.evaluate(
            [(k, ctx.today) for k, ctx in contexts.items() if ctx.allowed(ctx.today)]
        )
        confirm = driver.evaluate([(k, found[k].counts) for k in contexts], problem.confirm_reps)
        executor = pool.kind
    verdicts = {
        "search": {
            k: problem.judge(contexts[k], driver.cache[(k, problem.search_reps, found[k].counts)])
            for k in contexts
        },
        "confirm": {k: problem.judge(contexts[k], confirm[(k, found[k].counts)]) for k in contexts},
        "today": {k: problem.judge(contexts[k], ev) for (k, _), ev in today.items()},
    }
    summary = _summary(problem, contexts, starts, found, verdicts, f"option:{baseline}")
    return SizingResult(
        summary=summary,
        stations=_stations(contexts, starts, found),
        communities=_communities(contexts, found, verdicts),
        trace=_trace(contexts, found),
        service=service,
        baseline=baseline,
        confidence=confidence,
        replications=problem.replications,
        confirm_replications=problem.confirm_replications,
        seed=problem.seed,
        placement=placement,
        seconds=time.perf_counter() - t0,
        executor=executor,
        priorities=priorities,
        names={c: v.name or c for c, v in sc.communities.items()},
        scenario_file=path,
        warnings=warnings,
    )


def _summary(
    problem: Problem,
    contexts: dict[str, Context],
    starts: dict[str, Counts],
    found: dict[str, SearchResult],
    verdicts: dict[str, dict[str, Verdict]],
    base_key: str,
) -> pd.DataFrame:
    rows = []
    base = found[base_key]
    base_units = sum(base.counts)
    base_cost = contexts[base_key].cost_per_year(base.counts)
    base_ctx = contexts[base_key]
    today_units, today_cost = sum(base_ctx.today), base_ctx.cost_per_year(base_ctx.today)
    for key, ctx in contexts.items():
        res = found[key]
        cost = ctx.cost_per_year(res.counts)
        today = verdicts["today"].get(key)
        search, confirm = verdicts["search"][key], verdicts["confirm"][key]
        rows.append(
            {
                "option": ctx.option,
                "service": ctx.service,
                "policy": ctx.policy,
                "status": res.status,
                "units": sum(res.counts),
                "cost_per_year": cost,
                "units_saved": base_units - sum(res.counts),
                "cost_saved": base_cost - cost,
                "units_saved_vs_today": today_units - sum(res.counts),
                "cost_saved_vs_today": today_cost - cost,
                "units_today": sum(ctx.today),
                "cost_today": ctx.cost_per_year(ctx.today),
                "today_meets_targets": bool(today.ok) if today is not None else False,
                "units_analytic": sum(starts[key]),
                "search_min_margin": search.min_margin,
                "held": held(search, confirm),
                "confirm_min_margin": confirm.min_margin,
                "backlog_share": confirm.backlog,
                "unmet": ", ".join(f"{r.check.community}" for r in search.results if not r.met),
                "candidates": res.evaluated,
                "stations": counts_text(ctx, res.counts),
                "baseline": key == base_key,
            }
        )
    return pd.DataFrame(rows)


def _stations(
    contexts: dict[str, Context], starts: dict[str, Counts], found: dict[str, SearchResult]
) -> pd.DataFrame:
    rows = []
    for key, ctx in contexts.items():
        for i, slot in enumerate(ctx.slots):
            rows.append(
                {
                    "option": ctx.option,
                    "slot": i,
                    "station": slot.station,
                    "owner": slot.owner,
                    "units_today": len(slot.today),
                    "units_analytic": starts[key][i],
                    "units": found[key].counts[i],
                    "change": found[key].counts[i] - len(slot.today),
                }
            )
    return pd.DataFrame(rows)


def _communities(
    contexts: dict[str, Context],
    found: dict[str, SearchResult],
    verdicts: dict[str, dict[str, Verdict]],
) -> pd.DataFrame:
    rows = []
    for phase in ("today", "search", "confirm"):
        for key, ctx in contexts.items():
            v = verdicts[phase].get(key)
            if v is None:
                continue
            for r in v.results:
                rows.append(
                    {
                        "option": ctx.option,
                        "phase": phase,
                        "community": r.check.community,
                        "priority": r.check.priority,
                        "target_minutes": r.check.minutes,
                        "target_share": r.check.share,
                        "within_target": r.mean,
                        "ci_low": r.ci_low,
                        "ci_high": r.ci_high,
                        "lower_bound": r.lower,
                        "margin": r.margin,
                        "met": r.met,
                        "replications": r.replications,
                        "calls_per_replication": r.calls,
                        "units": sum(found[key].counts) if phase != "today" else sum(ctx.today),
                    }
                )
    return pd.DataFrame(rows)


def _trace(contexts: dict[str, Context], found: dict[str, SearchResult]) -> pd.DataFrame:
    rows = []
    for key, ctx in contexts.items():
        for i, st in enumerate(found[key].steps):
            rows.append(
                {
                    "option": ctx.option,
                    "step": i,
                    "action": st.action,
                    "units": sum(st.counts),
                    "cost_per_year": ctx.cost_per_year(st.counts),
                    "ok": st.ok,
                    "deficit": st.deficit,
                    "min_margin": st.min_margin,
                    "stations": counts_text(ctx, st.counts),
                }
            )
    return pd.DataFrame(rows)
