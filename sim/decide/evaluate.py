"""Simulating candidate fleets, and judging them against the response targets.

Worker side, :func:`evaluate_task` is a pure function of its arguments (the scenario data, a
context, a batch of candidates, a replication): it simulates each candidate of the batch
against the same incidents of that replication (common random numbers: every candidate of
every search sees the same calls) and counts, per member community and priority, the calls
within target and the calls decided (the same rule as ``within_target`` of ``compare``).
Incidents are generated for the service alone (the other services' rates set to zero; every
community x type has its own random stream, so the calls are exactly those ``compare`` sees)
and then filtered to the context's members.

Parent side, :class:`Evaluation` holds those counts per replication and :func:`judge` turns
them into a verdict: the one-sided lower confidence bound of each community's share within
target must reach the target share, and the fleet must keep up (no more than 1 % of the calls
still waiting for a unit at the horizon).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import stats

from ..analysis.metrics import BACKLOG_SHARE
from ..engine.demand import Incidents, generate_incidents
from ..engine.driver import fleet_tables
from ..model.compile import Region, compile_region
from ..schema import scenario_from_dict
from .fleet import Context, Counts, build_fleet

__all__ = [
    "MINUTES_PER_YEAR",
    "PRELOAD",
    "Check",
    "Evaluation",
    "Verdict",
    "checks_for",
    "evaluate_task",
    "held",
    "judge",
    "priorities_for",
    "scenario_region",
]

MINUTES_PER_YEAR = 525_600.0
PRELOAD = (__name__,)  # the module of the worker side, for the fork server to import


# --- worker side ------------------------------------------------------------------------------
@lru_cache(maxsize=4)
def scenario_region(base_json: str) -> tuple[Region, int]:
    """The compiled region of the scenario data and its seed."""
    scenario = scenario_from_dict(json.loads(base_json))
    return compile_region(scenario), scenario.run.seed


@lru_cache(maxsize=16)
def _service_region(base_json: str, service: str) -> Region:
    region, _ = scenario_region(base_json)
    s = region.services.index(service)
    keep = np.array([t.service == s for t in region.types], dtype=np.float64)
    return dataclasses.replace(region, rates=region.rates * keep[None, :])


@lru_cache(maxsize=8)
def _service_incidents(base_json: str, service: str, replication: int) -> Incidents:
    _, seed = scenario_region(base_json)
    return generate_incidents(_service_region(base_json, service), seed, replication)


def _members_incidents(
    base_json: str, service: str, members: tuple[str, ...], replication: int
) -> Incidents:
    inc = _service_incidents(base_json, service, replication)
    region = _service_region(base_json, service)
    if len(members) == len(region.communities):
        return inc
    codes = [region.communities.index(c) for c in members]
    mask = np.isin(inc.community, codes)
    return Incidents(**{f.name: getattr(inc, f.name)[mask] for f in dataclasses.fields(inc)})


def priorities_for(region: Region, service: str) -> tuple[int, ...]:
    """The priorities of a service's incident types, most urgent first."""
    s = region.services.index(service)
    return tuple(sorted({t.priority for t in region.types if t.service == s}))


def _counts(region: Region, context: Context, table: Any) -> dict[str, Any]:
    s = region.services.index(context.service)
    prios = priorities_for(region, context.service)
    sel = (~table["warmup"].to_numpy()) & (table["service"].cat.codes.to_numpy() == s)
    met = table["met_target"].to_numpy(dtype=np.float64, na_value=np.nan)[sel]
    com = table["community"].cat.codes.to_numpy()[sel]
    prio = table["priority"].to_numpy()[sel]
    decided = ~np.isnan(met)
    out_met = np.zeros((len(context.members), len(prios)))
    out_n = np.zeros((len(context.members), len(prios)))
    for i, c in enumerate(context.members):
        ci = region.communities.index(c)
        for j, p in enumerate(prios):
            mask = decided & (com == ci) & (prio == p)
            out_n[i, j] = mask.sum()
            out_met[i, j] = met[mask].sum()
    waiting = table["t_dispatch"].isna().to_numpy()[sel]
    return {
        "met": out_met.tolist(),
        "n": out_n.tolist(),
        "waiting": int(waiting.sum()),
        "calls": int(sel.sum()),
    }


def evaluate_task(
    base_json: str, context_json: str, batch_json: str, replication: int
) -> list[dict[str, Any]]:
    """Simulate every candidate of the batch in one replication; one result per candidate."""
    context = Context.from_json(context_json)
    region = _service_region(base_json, context.service)
    incidents = _members_incidents(base_json, context.service, context.members, replication)
    out = []
    for counts in json.loads(batch_json):
        fleet = build_fleet(region, context, tuple(counts))
        (table,) = fleet_tables(region, fleet, incidents, replication, ("incidents",))
        out.append(_counts(region, context, table))
    return out


# --- parent side ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """A response target that a member community must meet: its calls of one priority."""

    community: str
    priority: int
    minutes: float
    share: float


def checks_for(region: Region, context: Context, which: str = "first") -> list[Check]:
    """The targets a fleet of ``context`` must meet: per member community with calls, the
    most urgent priority that has a target (``which='first'``) or every priority with one
    (``'all'``). Types sharing a priority take the strictest minutes and share."""
    s = region.services.index(context.service)
    kinds = [k for k, t in enumerate(region.types) if t.service == s]
    out = []
    for c in context.members:
        ci = region.communities.index(c)
        prios = sorted({region.types[k].priority for k in kinds})
        found: list[Check] = []
        for p in prios:
            ks = [
                k
                for k in kinds
                if region.types[k].priority == p
                and region.rates[ci, k] > 0
                and not math.isnan(region.types[k].target_share[ci])
            ]
            if not ks:
                continue
            found.append(
                Check(
                    c,
                    p,
                    float(min(region.types[k].target_minutes[ci] for k in ks)),
                    float(max(region.types[k].target_share[ci] for k in ks)),
                )
            )
        if which == "first":
            found = found[:1]
        out += found
    if which == "first" and out:  # the same priority for every community: the most urgent
        top = min(ch.priority for ch in out)
        out = [ch for ch in out if ch.priority == top]
    return out


@dataclass
class Evaluation:
    """Counts of one candidate over replications: arrays (replications, members, priorities)."""

    replications: tuple[int, ...]
    met: np.ndarray
    n: np.ndarray
    waiting: np.ndarray
    calls: np.ndarray

    @staticmethod
    def from_results(replications: tuple[int, ...], results: list[dict[str, Any]]) -> Evaluation:
        return Evaluation(
            replications,
            np.array([r["met"] for r in results], dtype=np.float64),
            np.array([r["n"] for r in results], dtype=np.float64),
            np.array([r["waiting"] for r in results], dtype=np.float64),
            np.array([r["calls"] for r in results], dtype=np.float64),
        )

    def shares(self, member: int, prio: int) -> np.ndarray:
        n = self.n[:, member, prio]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, self.met[:, member, prio] / n, np.nan)

    def backlog(self) -> float:
        """Mean share of the calls still waiting for a unit at the horizon."""
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(self.calls > 0, self.waiting / self.calls, 0.0)
        return float(share.mean()) if len(share) else 0.0


@dataclass(frozen=True)
class CheckResult:
    check: Check
    mean: float
    ci_low: float  # two-sided interval at the confidence level
    ci_high: float
    lower: float  # one-sided lower bound at the confidence level
    replications: int  # replications with calls of this kind
    calls: float  # mean calls per replication

    @property
    def margin(self) -> float:
        return self.lower - self.check.share

    @property
    def judged(self) -> bool:
        return self.replications >= 2

    @property
    def met(self) -> bool:
        return not self.judged or self.lower >= self.check.share - 1e-12


@dataclass(frozen=True)
class Verdict:
    ok: bool
    deficit: float  # sum of shortfalls of the lower bounds (and of the backlog): 0 when ok
    min_margin: float
    backlog: float
    results: tuple[CheckResult, ...]


def summarise(values: np.ndarray, confidence: float) -> tuple[float, float, float, float, int]:
    """Mean, two-sided interval, one-sided lower bound and n of the non-NaN ``values``."""
    v = values[~np.isnan(values)]
    k = len(v)
    if k == 0:
        return (math.nan,) * 4 + (0,)  # type: ignore[return-value]
    mean = float(v.mean())
    if k < 2:
        return mean, math.nan, math.nan, math.nan, k
    se = float(v.std(ddof=1)) / math.sqrt(k)
    two = float(stats.t.ppf(0.5 + confidence / 2, k - 1)) * se
    one = float(stats.t.ppf(confidence, k - 1)) * se
    return mean, mean - two, mean + two, mean - one, k


def judge(
    evaluation: Evaluation,
    checks: list[Check],
    context: Context,
    priorities: tuple[int, ...],
    confidence: float,
) -> Verdict:
    """Whether a candidate meets every check with ``confidence`` (one-sided), and by how much
    it misses or clears them."""
    results = []
    for ch in checks:
        i, j = context.members.index(ch.community), priorities.index(ch.priority)
        mean, lo, hi, lower, k = summarise(evaluation.shares(i, j), confidence)
        results.append(CheckResult(ch, mean, lo, hi, lower, k, float(evaluation.n[:, i, j].mean())))
    backlog = evaluation.backlog()
    deficit = sum(max(0.0, r.check.share - r.lower) for r in results if r.judged)
    deficit += max(0.0, backlog - BACKLOG_SHARE)
    margins = [r.margin for r in results if r.judged]
    ok = all(r.met for r in results) and backlog <= BACKLOG_SHARE
    return Verdict(ok, deficit, min(margins) if margins else math.inf, backlog, tuple(results))


def held(search: Verdict, confirm: Verdict) -> bool:
    """Every target the search met is met again on fresh replications, and the fleet keeps
    up; for a search that could not meet every target the unreachable ones are left out."""
    met = {r.check for r in search.results if r.met}
    return confirm.backlog <= BACKLOG_SHARE and all(
        r.met for r in confirm.results if r.check in met
    )


def missed_per_year(
    evaluation: Evaluation,
    checks: list[Check],
    context: Context,
    priorities: tuple[int, ...],
    window_minutes: float,
) -> float:
    """Mean calls per year (over the checked kinds) that were not reached within target."""
    total = np.zeros(len(evaluation.replications))
    for ch in checks:
        i, j = context.members.index(ch.community), priorities.index(ch.priority)
        total += evaluation.n[:, i, j] - evaluation.met[:, i, j]
    return float(total.mean()) * MINUTES_PER_YEAR / window_minutes


def counts_key(counts: Counts) -> str:
    return ",".join(str(n) for n in counts)
