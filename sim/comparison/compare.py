"""Compare pooling options: replications with common random numbers, confidence intervals,
paired differences against a baseline, equity, cost and cost sharing, and the analytic estimate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from ..analysis.backlog import backlog_long, backlog_table, on_calendar, weekly_levels
from ..analysis.caseload import caseload_metrics, caseload_table
from ..analysis.costs import cost_metrics, shares_of_cost
from ..analysis.coverage import coverage_results, free_units_mean
from ..analysis.erlang import estimate, overload_warnings, queue_model
from ..analysis.metrics import (
    ALL,
    equity_metrics,
    unit_metrics,
    unreached_warnings,
)
from ..analysis.responses import response_histogram
from ..analysis.stats import (
    IDENTICAL_BY_DESIGN,
    NON_NEGATIVE,
    Margin,
    paired_differences,
    with_ci,
)
from ..analysis.surges import surge_timeline
from ..analysis.zones import zone_results
from ..engine.driver import (
    TABLES as RUN_TABLES,
)
from ..engine.driver import (
    Compiled,
    IncidentSource,
    Replicated,
    RunResult,
    compile_scenario,
    concat_tables,
    gather,
    run_replications,
)
from ..engine.execute import Executor, open_executor
from ..errors import InputError
from ..schema import Scenario
from .measure import ReplicationMeasure

__all__ = ["PRECISION_METRICS", "Comparison", "checked_baseline", "compare", "help_balance"]

PRECISION_METRICS = ("mean_response", "p90_response", "within_target")
TABLES = (
    "headline",
    "summary",
    "comparison",
    "units",
    "help",
    "balance",
    "costs",
    "shares",
    "equity",
    "estimate",
    "levels",
    "zones",
    "surge_timeline",
    "service_weekly",
    "backlog",
    "caseload",
    "coverage",
    "free_units",
)
# the tables of each replication: the run's, and the coverage rows (sim.engine.coverage)
REPLICATION_TABLES = (*RUN_TABLES, "coverage", "free_units")
KEYS = ["option", "service", "priority", "community", "metric"]
MIN_REPLICATIONS = 3
# headline.csv: the metrics of each row, in this order
HEADLINE_METRICS = (
    "incidents",
    "mean_response",
    "p90_response",
    "open_share",
    "within_target",
    "waited",
    "mean_wait",
)


@dataclass(repr=False)
class Comparison:
    """Everything ``intersim compare`` reports; every table is a DataFrame attribute
    (``headline`` is computed from the others on first use). ``responses`` is the response
    histogram (:mod:`sim.analysis.responses`) and ``surge_timeline`` the hours around each surge
    (:mod:`sim.analysis.surges`): the figures' summaries of the incidents in ``raw``."""

    summary: pd.DataFrame
    comparison: pd.DataFrame
    units: pd.DataFrame
    help: pd.DataFrame
    balance: pd.DataFrame
    costs: pd.DataFrame
    shares: pd.DataFrame
    equity: pd.DataFrame
    estimate: pd.DataFrame
    levels: pd.DataFrame
    zones: pd.DataFrame
    responses: pd.DataFrame
    surge_timeline: pd.DataFrame
    service_weekly: pd.DataFrame  # work orders and caseloads week by week (figures)
    backlog: pd.DataFrame  # open requests and completion in working time (sim.analysis.backlog)
    caseload: pd.DataFrame  # caseload services only (sim.analysis.caseload)
    coverage: pd.DataFrame  # uncovered time, moves and cover (sim.analysis.coverage)
    free_units: pd.DataFrame  # free units by community, hour by hour, first replication
    raw: RunResult
    baseline: str
    replications: int
    precision_reached: bool | None = None
    warnings: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        options = ", ".join(self.raw.options)
        return (
            f"<Comparison of {len(self.raw.options)} options ({options}) against "
            f"{self.baseline!r}, {self.replications} replications, seed {self.raw.seed}; "
            f"tables: {', '.join(TABLES)}>"
        )

    @cached_property
    def headline(self) -> pd.DataFrame:
        """Region-wide metrics per service, priority and option, with verdicts: all priorities
        (``priority`` 'all') and every priority with a response target, so that a priority
        missing its target is not hidden in the average. ``open_share`` is the share of calls
        never reached, which the means and fractiles leave out."""
        s = self.summary[self.summary["community"] == ALL]
        targeted = s[(s["metric"] == "within_target") & (s["priority"] != ALL) & (s["n"] > 0)]
        keep = set(zip(targeted["service"], targeted["priority"], strict=True))
        rows = [
            (sv, p) in keep or p == ALL for sv, p in zip(s["service"], s["priority"], strict=True)
        ]
        wide = s[rows].pivot_table(
            index=["service", "priority", "option"],
            columns="metric",
            values="mean",
            observed=True,
            sort=False,
        )
        cols = [c for c in HEADLINE_METRICS if c in wide]
        out = wide[cols].reset_index()
        order = {o: i for i, o in enumerate([self.baseline, *self.raw.options])}

        def key(col: pd.Series) -> pd.Series:
            if col.name == "option":
                return col.map(order)
            if col.name == "priority":  # 'all' first, then 1, 2, ...
                return col.map(lambda p: -1 if p == ALL else int(p))
            return col

        out = out.sort_values(["service", "priority", "option"], key=key).reset_index(drop=True)
        c = self.comparison[self.comparison["community"] == ALL]
        idx = ["service", "priority", "option"]
        for column, metric in (
            ("vs_baseline", "mean_response"),
            ("within_target_vs_baseline", "within_target"),
        ):
            verdicts = c[c["metric"] == metric].set_index(idx)["verdict"]
            out[column] = [
                "baseline" if o == self.baseline else verdicts.get((sv, p, o), "")
                for sv, p, o in zip(out["service"], out["priority"], out["option"], strict=True)
            ]
        est = self.estimate[self.estimate["community"] == ALL]
        # the fleet a call waits for under the option's policy (its Erlang C estimate)
        waits_for = est["policy"].map(lambda p: queue_model(str(p)).wait.value)
        relevant = est[est["fleet"] == waits_for]
        analytic = relevant.set_index(["service", "option"])["p_wait"]
        # Erlang C: with priorities served in order, every class finds all units busy alike
        out["p_wait_erlang"] = [
            analytic.get((sv, o), np.nan)
            for sv, o in zip(out["service"], out["option"], strict=True)
        ]
        return out


def help_balance(helped: pd.DataFrame) -> pd.DataFrame:
    """Net unit-hours between every pair: what ``owner`` gave ``community`` minus what it got."""
    h = helped.groupby(["option", "service", "owner", "community"], observed=True)[
        "unit_hours"
    ].mean()
    h = h.reset_index()
    given = h[h["owner"] != h["community"]]
    back = given.rename(
        columns={"owner": "community", "community": "owner", "unit_hours": "received"}
    )
    net = given.merge(back, on=["option", "service", "owner", "community"], how="left").fillna(
        {"received": 0.0}
    )
    net["net_unit_hours"] = net["unit_hours"] - net["received"]
    return net.rename(columns={"unit_hours": "given"})


def _metrics(parts: list[Replicated]) -> pd.DataFrame:
    return pd.concat([p.measured.metrics for p in parts], ignore_index=True)


def _precision_ok(per_rep: pd.DataFrame, precision: float) -> bool:
    head = per_rep[
        (per_rep["community"] == ALL)
        & (per_rep["priority"] == ALL)
        & per_rep["metric"].isin(PRECISION_METRICS)
    ]
    ci = with_ci(head, KEYS)
    ci = ci[ci["mean"].abs() > 0]
    half = (ci["ci_high"] - ci["ci_low"]) / 2
    return bool(((half / ci["mean"].abs()) <= precision).all())


def _target(scenario: Scenario, replications: int | None, precision: float | None, cap: int) -> int:
    """Replications of the first round."""
    if replications:
        return replications
    if precision:
        return min(cap, max(MIN_REPLICATIONS, scenario.run.replications))
    return scenario.run.replications


def _rounds(
    compiled: Compiled,
    measure: ReplicationMeasure,
    seed: int,
    executor: Executor,
    target: int,
    precision: float | None,
    max_replications: int,
    progress: Callable[[int], None] | None,
    records: bool,
) -> tuple[list[Replicated], bool | None]:
    """Replications in rounds until the precision is reached (one round without it); the
    per-incident table comes back only with ``records``."""
    parts: list[Replicated] = []
    reached: bool | None = None
    while True:
        parts += run_replications(
            compiled,
            range(len(parts), target),
            seed,
            executor=executor,
            tables=REPLICATION_TABLES,
            measure=measure,
            progress=progress,
            measured_only=() if records else ("incidents",),
        )
        if precision is None:
            return parts, reached
        reached = _precision_ok(_metrics(parts), precision)
        if reached or target >= max_replications:
            return parts, reached
        target = min(max_replications, target + max(2, target // 2))


def checked_baseline(scenario: Scenario, baseline: str | None) -> str:
    """The option compared against: ``baseline``, else the scenario's; an unknown one is an
    input error (checked before anything is simulated or written)."""
    base = baseline or scenario.baseline_option
    if base not in scenario.options:
        raise InputError(
            f"--baseline: unknown option '{base}' (known: {', '.join(scenario.options)})"
        )
    return base


def compare(
    scenario: Scenario,
    *,
    replications: int | None = None,
    precision: float | None = None,
    max_replications: int = 100,
    baseline: str | None = None,
    seed: int | None = None,
    progress: Callable[[int], None] | None = None,
    source: IncidentSource | None = None,
    workers: int | None = 1,
    dask: str | None = None,
    records: bool = True,
) -> Comparison:
    """Run every option over the same replications and compare them with the baseline.

    With ``precision`` (e.g. 0.05), replications are added until every headline confidence
    half-width (region-wide mean and p90 response, share within target, per option and
    service) is within that fraction of its mean, up to ``max_replications``. The replications
    run on ``workers`` local processes (default 1: this process; None: every CPU) or on Dask
    (``dask='local'`` or a scheduler address); the tables are the same for any of them.
    Without ``records`` the per-incident table ``raw.incidents`` is left empty (its columns
    only): every other table is the same, measured where each replication ran.
    """
    base = checked_baseline(scenario, baseline)
    compiled = compile_scenario(scenario, source=source)
    s = scenario.run.seed if seed is None else seed
    target = _target(scenario, replications, precision, max_replications)
    most = max(target, max_replications) if precision else target
    with open_executor(
        compiled, workers=workers, dask=dask, tasks=most, preload=(ReplicationMeasure.__module__,)
    ) as executor:
        parts, reached = _rounds(
            compiled,
            ReplicationMeasure.of(scenario),
            s,
            executor,
            target,
            precision,
            max_replications,
            progress,
            records,
        )
    per_rep = _metrics(parts)
    inc, units, levels, helped, covered, free = gather(parts)
    n = len(parts)
    raw = RunResult(inc, units, levels, helped, list(compiled.fleets), n, s)
    region = compiled.region
    costs = cost_metrics(units, per_rep, region)
    equity = equity_metrics(per_rep)
    all_metrics = pd.concat([per_rep, equity, costs], ignore_index=True)
    est = estimate(region, compiled.fleets)
    warnings = [*getattr(source, "warnings", ()), *overload_warnings(est)]  # e.g. a replay's
    if reached is False:
        warnings.append(
            f"precision {precision:g} not reached within {max_replications} replications"
        )
    calendar = on_calendar(region)  # requests wait overnight: their backlog is in backlog.csv
    unreached = pd.concat([p.measured.unreached for p in parts], ignore_index=True)
    warnings += unreached_warnings(unreached[~unreached["service"].isin(calendar)])
    backlog = backlog_table(backlog_long([p.measured.backlog for p in parts]), raw.options)
    if executor.fallback:
        warnings.append(executor.fallback)
    calls = pd.concat([p.measured.calls for p in parts])
    mix = {str(k): v for k, v in scenario.cost_sharing.mix.items()}
    shares = shares_of_cost(units, calls, helped, region, mix)
    weekly = concat_tables([p.measured.weekly for p in parts])  # the few calls they read
    share_ci = with_ci(
        shares.rename(columns={"cost": "value"}),
        ["option", "formula", "community"],
        bounds=NON_NEGATIVE,
    )
    helped_ci = with_ci(
        helped.rename(columns={"unit_hours": "value"}),
        ["option", "service", "owner", "community"],
        bounds=NON_NEGATIVE,
    )
    margins = {
        str(m): Margin(absolute=v.absolute, relative=v.relative)
        for m, v in scenario.margins.items()
    }
    lv = (
        levels.groupby(["option", "service", "hour"], observed=True)[
            ["busy_units", "waiting_calls"]
        ]
        .mean()
        .reset_index()
    )
    return Comparison(
        summary=with_ci(all_metrics, KEYS),
        comparison=paired_differences(
            all_metrics[~all_metrics["metric"].isin(IDENTICAL_BY_DESIGN)],
            KEYS,
            base,
            margins=margins,
        ),
        units=with_ci(
            unit_metrics(units), ["option", "unit", "service", "station", "owner", "metric"]
        ),
        help=helped_ci,
        balance=help_balance(helped),
        costs=with_ci(costs, KEYS),
        shares=share_ci,
        equity=with_ci(equity, KEYS),
        zones=zone_results([p.measured.zones for p in parts], base, margins),
        responses=response_histogram([p.measured.responses for p in parts]),
        surge_timeline=surge_timeline([p.measured.surges for p in parts], n),
        service_weekly=weekly_levels(weekly, region, raw.options),
        backlog=backlog,
        caseload=caseload_table(caseload_metrics(weekly, region, compiled.fleets), raw.options),
        coverage=coverage_results(covered, per_rep, base, raw.options),
        free_units=free_units_mean(free),
        estimate=est,
        levels=lv,
        raw=raw,
        baseline=base,
        replications=n,
        precision_reached=reached,
        warnings=warnings,
    )
