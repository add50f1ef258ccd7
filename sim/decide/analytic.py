"""Erlang C sizing: the analytic fleet that a search starts from, and the fast mode.

Each community's calls of the service form a Poisson stream (rate per minute) with an offered
load (Erlangs) from :func:`sim.estimate.estimate`. A fleet serving a set of communities (one
community under ``separate``, the region or a coalition when pooled) is an M/M/c queue
(:mod:`sim.queueing`). Waiting calls are served by priority, without preemption; with equal
service rates every class finds all units busy with the same probability C (Erlang C), and the
most urgent class waits, when it waits, an exponential time of rate ``c mu - lambda_1``
(other classes: an exponential time with their exact mean wait, ``C / (c mu (1 - s_{p-1})
(1 - s_p))`` for ``s_p`` the load share of classes ``<= p``).

A call of priority p in community i is within target when its wait is at most the *slack*:
the target minutes less the mean call handling, turnout and travel inside the community. So
the analytic share within target is ``1 - P(W_p > slack)``, and the analytic fleet is the
smallest c with ``P(W_p > slack) <= 1 - share`` for every check. Travel across borders,
non-exponential times and part-time units are left out: it is a starting point (and, with
``--fast``, an estimate), which the simulation then corrects.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..analysis.erlang import estimate
from ..analysis.queueing import erlang_c, min_servers
from ..engine.policies import Pool
from ..model.compile import Region
from ..model.sampling import mean_of
from .evaluate import MINUTES_PER_YEAR, Check
from .fleet import Context, Counts, build_fleet

__all__ = [
    "Demand",
    "analytic_counts",
    "covering",
    "demands_for",
    "distribute",
    "prob_late",
    "service_level",
    "units_for",
]

MAX_UNITS = 100_000


@dataclass(frozen=True)
class Demand:
    """A community's calls of the service: rates per minute and offered load."""

    community: str
    rate: float
    load: float
    by_priority: dict[int, float]
    slack: dict[int, float]  # per priority with a check: target minutes - mean fixed times
    reach: dict[int, float]  # per priority with a check: the longest trip that can make it


def demands_for(region: Region, context: Context, checks: Sequence[Check]) -> dict[str, Demand]:
    """Each member's demand, with the slack of its checks."""
    fleet = build_fleet(region, context, context.today)
    est = estimate(region, {context.key: fleet})
    est = est[(est["fleet"] == Pool.OWN.value) & (est["service"] == context.service)]
    est = est.set_index("community")
    s = region.services.index(context.service)
    speed = float(region.hour_factors.mean()) * math.exp(region.noise_sd**2 / 2)
    out = {}
    for c in context.members:
        ci = region.communities.index(c)
        kinds = [k for k, t in enumerate(region.types) if t.service == s]
        by_p: dict[int, float] = {}
        for k in kinds:
            p = region.types[k].priority
            by_p[p] = by_p.get(p, 0.0) + float(region.rates[ci, k])
        slack, reach = {}, {}
        for ch in checks:
            if ch.community != c:
                continue
            ks = [
                k
                for k in kinds
                if region.types[k].priority == ch.priority and region.rates[ci, k] > 0
            ]
            w = np.array([region.rates[ci, k] for k in ks])
            fixed = np.array(
                [
                    mean_of(region.types[k].call_handling) + mean_of(region.types[k].turnout)
                    for k in ks
                ]
            )
            inside = float(region.trips(s)[ci, ci]) * speed
            slack[ch.priority] = ch.minutes - float(w @ fixed / w.sum()) - inside
            reach[ch.priority] = slack[ch.priority] + inside
        row = est.loc[c]
        out[c] = Demand(
            c, float(row["calls_per_day"]) / 1440.0, float(row["offered_load"]), by_p, slack, reach
        )
    return out


def covering(
    region: Region, context: Context, demands: dict[str, Demand], check: Check
) -> list[int]:
    """Slots from which the expected response (fixed times and the trip) meets the check's
    target minutes, nearest first."""
    ci = region.communities.index(check.community)
    speed = float(region.hour_factors.mean()) * math.exp(region.noise_sd**2 / 2)
    reach = demands[check.community].reach[check.priority]
    travel = region.trips(region.services.index(context.service))
    trips = [
        (float(travel[region.place_of[s.station], ci]) * speed, i)
        for i, s in enumerate(context.slots)
    ]
    return [i for trip, i in sorted(trips) if trip <= reach + 1e-9]


def _cover(
    region: Region,
    context: Context,
    demands: dict[str, Demand],
    checks: Sequence[Check],
    counts: list[int],
) -> list[int]:
    """Add a unit near every checked community that has none within reach (pooling shares
    units, not trips: a community far from every unit misses its target however many units
    wait elsewhere)."""
    for ch in checks:
        near = covering(region, context, demands, ch)
        if near and not any(counts[i] > 0 for i in near):
            counts[near[0]] += 1
    return counts


def prob_late(
    c: int, rate: float, load: float, rate_upto: float, rate_before: float, slack: float
) -> float:
    """``P(W > slack)`` of a class whose own and more urgent calls arrive at ``rate_upto``
    (``rate_before`` without its own), in an M/M/c queue of ``rate`` and ``load``."""
    if rate <= 0:
        return 0.0
    if c <= load:
        return 1.0
    mu = rate / load  # per unit and minute
    p_wait = erlang_c(c, load)
    s_before, s_upto = rate_before / (c * mu), rate_upto / (c * mu)
    decay = c * mu * (1 - s_before) * (1 - s_upto)  # 1 / mean wait of those who wait
    return p_wait * math.exp(-decay * max(slack, 0.0))


def _late(c: int, pool: Sequence[Demand], check: Check) -> float:
    rate = sum(d.rate for d in pool)
    load = sum(d.load for d in pool)
    upto = sum(r for d in pool for p, r in d.by_priority.items() if p <= check.priority)
    before = sum(r for d in pool for p, r in d.by_priority.items() if p < check.priority)
    slack = next(d.slack[check.priority] for d in pool if d.community == check.community)
    return prob_late(c, rate, load, upto, before, slack)


def units_for(pool: Sequence[Demand], checks: Sequence[Check]) -> int:
    """Smallest stable c for which every check of a pool's communities is met analytically."""
    rate = sum(d.rate for d in pool)
    load = sum(d.load for d in pool)
    if rate <= 0 or load <= 0:
        return 0
    names = {d.community for d in pool}
    mine = [ch for ch in checks if ch.community in names]
    need = math.floor(load) + 1
    for ch in mine:
        # waiting at all (slack 0) bounds the answer from above; step down from there
        c = min_servers(rate, load / rate, max_prob_wait=max(1e-12, 1.0 - ch.share))
        while c - 1 > load and _late(c - 1, pool, ch) <= 1.0 - ch.share:
            c -= 1
        need = max(need, min(c, MAX_UNITS))
    return need


def distribute(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` units over places in proportion to ``weights`` (largest remainders)."""
    if not weights:
        return []
    w = np.asarray(weights, dtype=np.float64)
    if w.sum() <= 0:
        w = np.ones_like(w)
    exact = total * w / w.sum()
    base = np.floor(exact).astype(int)
    order = np.argsort(-(exact - base), kind="stable")
    base[order[: total - int(base.sum())]] += 1
    return [int(v) for v in base]


def analytic_counts(region: Region, context: Context, checks: Sequence[Check]) -> Counts:
    """The analytic fleet, spread over the slots in proportion to today's units: per
    community when the policy's own fleets carry the load (``separate``), for all members
    together otherwise."""
    demands = demands_for(region, context, checks)
    today = context.today
    counts = [0] * len(context.slots)
    if context.dispatch_policy.queue_model.load is Pool.OWN:
        for c in context.members:
            own = [i for i, s in enumerate(context.slots) if s.owner == c]
            if not own:
                continue
            n = units_for([demands[c]], checks)
            if c in context.demand:
                n = max(n, context.units_needed)
            for i, v in zip(own, distribute(n, [today[i] for i in own]), strict=True):
                counts[i] = v
    else:
        n = max(units_for(list(demands.values()), checks), context.units_needed)
        counts = _cover(region, context, demands, checks, distribute(n, list(today)))
    return tuple(counts)


def service_level(
    region: Region, context: Context, checks: Sequence[Check], counts: Counts
) -> dict[str, float]:
    """Analytic share within target per check (``community:priority``) and missed calls per
    year of a fleet: one M/M/c queue per community (when own fleets carry the load, as under
    ``separate``) or for all members, with part-time units counted as slower full-time units."""
    demands = demands_for(region, context, checks)
    fte: dict[str, float] = {}
    for slot, unit in context.units(counts):
        fte[slot.owner] = fte.get(slot.owner, 0.0) + unit.on_duty_fraction()
    pools = (
        [[demands[c]] for c in context.members]
        if context.dispatch_policy.queue_model.load is Pool.OWN
        else [list(demands.values())]
    )
    out: dict[str, float] = {"missed_per_year": 0.0}
    for pool in pools:
        names = {d.community for d in pool}
        units = sum(v for k, v in fte.items() if k in names)
        load = sum(d.load for d in pool)
        c = max(1, round(units))
        scaled = [
            Demand(
                d.community,
                d.rate,
                d.load * c / units if units > 0 else math.inf,
                d.by_priority,
                d.slack,
                d.reach,
            )
            for d in pool
        ]
        for ch in checks:
            if ch.community not in names:
                continue
            near = [
                i
                for i in covering(region, context, demands, ch)
                if counts[i] > 0 and context.slots[i].owner in names
            ]
            late = 1.0 if units <= 0 or load * c / units >= c or not near else _late(c, scaled, ch)
            out[f"{ch.community}:{ch.priority}"] = 1.0 - late
            rate = demands[ch.community].by_priority.get(ch.priority, 0.0)
            out["missed_per_year"] += rate * MINUTES_PER_YEAR * late
    return out
