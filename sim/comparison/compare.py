"""Compare pooling options: replications with common random numbers, confidence intervals,
paired differences against a baseline, equity, cost and cost sharing, and the analytic estimate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..analysis.costs import cost_metrics, cost_shares
from ..analysis.erlang import estimate, overload_warnings
from ..analysis.metrics import (
    ALL,
    backlog_warnings,
    equity_metrics,
    incident_metrics,
    unit_metrics,
)
from ..analysis.stats import paired_differences, with_ci
from ..engine.driver import (
    IncidentSource,
    RunResult,
    compile_scenario,
    concat_tables,
    run_replication,
)
from ..schema import Scenario

__all__ = ["PRECISION_METRICS", "Comparison", "compare", "help_balance"]

PRECISION_METRICS = ("mean_response", "p90_response", "within_target")
KEYS = ["option", "service", "priority", "community", "metric"]
MIN_REPLICATIONS = 3


@dataclass
class Comparison:
    """Everything ``intersim compare`` reports; every table is a DataFrame."""

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
    raw: RunResult
    baseline: str
    replications: int
    precision_reached: bool | None = None
    warnings: list[str] = field(default_factory=list)

    def headline(self) -> pd.DataFrame:
        """Region-wide metrics per option and service (all priorities), with verdicts."""
        s = self.summary
        s = s[(s["community"] == ALL) & (s["priority"] == ALL)]
        wide = s.pivot_table(
            index=["service", "option"], columns="metric", values="mean", observed=True, sort=False
        )
        cols = [
            c
            for c in (
                "incidents",
                "mean_response",
                "p90_response",
                "within_target",
                "waited",
                "mean_wait",
            )
            if c in wide
        ]
        out = wide[cols].reset_index()
        order = {o: i for i, o in enumerate([self.baseline, *self.raw.options])}
        out = out.sort_values(
            ["service", "option"], key=lambda col: col.map(order) if col.name == "option" else col
        )
        out = out.reset_index(drop=True)
        c = self.comparison
        c = c[(c["community"] == ALL) & (c["priority"] == ALL) & (c["metric"] == "mean_response")]
        verdicts = c.set_index(["service", "option"])["verdict"]
        out["vs_baseline"] = [
            "baseline" if o == self.baseline else verdicts.get((sv, o), "")
            for sv, o in zip(out["service"], out["option"], strict=True)
        ]
        est = self.estimate[self.estimate["community"] == ALL]
        relevant = est[(est["fleet"] == "pooled") == (est["policy"] == "pooled")]
        analytic = relevant.set_index(["service", "option"])["p_wait"]
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
) -> Comparison:
    """Run every option over the same replications and compare them with the baseline.

    With ``precision`` (e.g. 0.05), replications are added until every headline confidence
    half-width (region-wide mean and p90 response, share within target, per option and
    service) is within that fraction of its mean, up to ``max_replications``.
    """
    base = baseline or scenario.baseline_option
    if base not in scenario.options:
        from ..errors import InputError

        raise InputError(
            f"--baseline: unknown option '{base}' (known: {', '.join(scenario.options)})"
        )
    compiled = compile_scenario(scenario, source=source)
    s = scenario.run.seed if seed is None else seed
    if replications:
        target = replications
    elif precision:
        target = min(max_replications, max(MIN_REPLICATIONS, scenario.run.replications))
    else:
        target = scenario.run.replications
    parts: list[tuple[pd.DataFrame, ...]] = []
    metric_parts: list[pd.DataFrame] = []  # each replication's metrics, computed once
    reached: bool | None = None
    while True:
        while len(parts) < target:
            parts.append(run_replication(compiled, len(parts), s))
            metric_parts.append(incident_metrics(parts[-1][0]))
            if progress is not None:
                progress(1)
        per_rep = pd.concat(metric_parts, ignore_index=True)
        if precision is None:
            break
        reached = _precision_ok(per_rep, precision)
        if reached or target >= max_replications:
            break
        target = min(max_replications, target + max(2, target // 2))
    inc, units, levels, helped = (concat_tables([p[i] for p in parts]) for i in range(4))
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
    warnings += backlog_warnings(inc)
    shares = cost_shares(
        units, inc, helped, region, {str(k): v for k, v in scenario.cost_sharing.mix.items()}
    )
    share_ci = with_ci(shares.rename(columns={"cost": "value"}), ["option", "formula", "community"])
    helped_ci = with_ci(
        helped.rename(columns={"unit_hours": "value"}), ["option", "service", "owner", "community"]
    )
    lv = (
        levels.groupby(["option", "service", "hour"], observed=True)[
            ["busy_units", "waiting_calls"]
        ]
        .mean()
        .reset_index()
    )
    return Comparison(
        summary=with_ci(all_metrics, KEYS),
        comparison=paired_differences(all_metrics, KEYS, base),
        units=with_ci(
            unit_metrics(units), ["option", "unit", "service", "station", "owner", "metric"]
        ),
        help=helped_ci,
        balance=help_balance(helped),
        costs=with_ci(costs, KEYS),
        shares=share_ci,
        equity=with_ci(equity, KEYS),
        estimate=est,
        levels=lv,
        raw=raw,
        baseline=base,
        replications=n,
        precision_reached=reached,
        warnings=warnings,
    )
