"""Instant analytic estimates per pooling option and service, before any simulation.

Each community's offered load (Erlangs) is its call rate times the mean time a call keeps its
units busy (turnout, trip, time on scene, transport and handover). Treating each fleet as an
M/M/c queue (Erlang C) gives the probability of waiting and the mean wait for the community's
own units (``separate``) and for all units of the service together (``pooled``). This is an
approximation: service times are not exponential, part-time units count as slower servers, and
pooled trips are longer than trips at home; the simulation says how far off it is.

Both fleets are estimated for every option; which one describes an option is its dispatch
policy's :class:`~sim.engine.policies.QueueModel`: the ``wait`` fleet predicts the share of
calls that wait, the ``load`` fleet says whether the option keeps up. Mutual aid needs both:
a call waits when its own units are busy (if only for the request delay), while partners carry
the overflow.

Where the approximation is known not to apply, each row's ``caveats`` says why (part-time
units, calls needing several units, long turnouts, demand peaks, mutual aid with its delays);
:func:`large_gap` flags a simulated share that waited far from the estimate.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..engine.policies import Pool, QueueModel, policy_class
from ..model.compile import Fleet, Region
from ..model.sampling import mean_of
from .queueing import mmc

__all__ = [
    "GAP",
    "caveat_lines",
    "caveats",
    "estimate",
    "large_gap",
    "overload_warnings",
    "queue_model",
]

GAP = 0.10  # |simulated - estimated| probability of waiting flagged as a large gap
PART_TIME = 0.999  # a unit on duty less than this share of the run is part-time
LONG_TURNOUT = 0.25  # turnout at least this share of a call's busy time is long
PEAK = 1.5  # the busiest hour of the week at least this many times the mean rate


def _busy_minutes(region: Region, fleet: Fleet, k: int) -> np.ndarray:
    """Mean unit-minutes per call of type ``k`` in each community, served from home."""
    t = region.types[k]
    diag = np.diag(region.trips(t.service))[: len(region.communities)].astype(np.float64)
    speed = float(region.hour_factors.mean()) * math.exp(region.noise_sd**2 / 2)
    minutes = mean_of(t.turnout) + diag * speed + mean_of(t.on_scene)
    if t.facility >= 0:
        trips = region.trips(t.service)[: len(region.communities), t.facility]
        to_facility = trips.astype(np.float64) * speed
        minutes = minutes + t.transport_prob * (to_facility + mean_of(t.handover)) / t.units_needed
    if not fleet.dispatch[t.service].from_road:
        minutes = minutes + diag * speed
    return minutes * t.units_needed


def _on_duty_units(region: Region, fleet: Fleet) -> np.ndarray:
    """Mean number of units on duty (time average over the run), per unit."""
    return np.array([float((d[:, 1] - d[:, 0]).sum()) / region.horizon for d in fleet.duty])


def estimate(region: Region, fleets: dict[str, Fleet]) -> pd.DataFrame:
    """Rows per option x service x scope: each community's own fleet (``fleet='separate'``), the
    region as the sum of those (community 'all', call-weighted), and the pooled region
    (``fleet='pooled'``); ``policy`` names the service's dispatch policy (see
    :func:`queue_model`)."""
    rows = []
    for name, fleet in fleets.items():
        duty = _on_duty_units(region, fleet)
        for s, service in enumerate(region.services):
            kinds = [k for k, t in enumerate(region.types) if t.service == s]
            if not kinds:
                continue
            rate = region.rates[:, kinds].sum(axis=1)  # calls per minute, per community
            work = sum(region.rates[:, k] * _busy_minutes(region, fleet, k) for k in kinds)
            mine = fleet.service == s
            units = np.array(
                [duty[mine & (fleet.owner == c)].sum() for c in range(len(region.communities))]
            )
            policy = fleet.dispatch[s].policy
            alone = [
                _row(name, service, policy, com, Pool.OWN, rate[c], work[c], units[c])
                for c, com in enumerate(region.communities)
            ]
            rows += alone
            rows.append(_region_of(alone, name, service, policy))
            rows.append(
                _row(name, service, policy, "all", Pool.REGION, rate.sum(), work.sum(), units.sum())
            )
            notes = "; ".join(caveats(region, fleet, s))
            for row in rows[-len(alone) - 2 :]:
                row["caveats"] = notes
    return pd.DataFrame(rows)


def caveats(region: Region, fleet: Fleet, s: int) -> list[str]:
    """Why Erlang C may mislead for service ``s`` of a fleet, in plain words (empty when none
    of the known reasons applies)."""
    kinds = [k for k, t in enumerate(region.types) if t.service == s]
    rates = region.rates[:, kinds].sum(axis=0)  # per type, calls per minute
    if rates.sum() <= 0:
        return []
    weights = rates / rates.sum()
    out = []
    mine = np.flatnonzero(fleet.service == s)
    part = int((_on_duty_units(region, fleet)[mine] < PART_TIME).sum())
    if part:
        out.append(
            f"part-time units ({part} of {len(mine)}): calls outside duty hours wait for a "
            "shift, while Erlang C counts them as slower full-time units"
        )
    needs = {k: region.types[k].units_needed for k in kinds}
    multi = float(sum(w for k, w in zip(kinds, weights, strict=True) if needs[k] > 1))
    if multi > 0:
        out.append(
            f"multi-unit calls ({multi:.0%} need up to {max(needs.values())} units at once): "
            "Erlang C assumes one unit per call"
        )
    turnout = float(weights @ [mean_of(region.types[k].turnout) for k in kinds])
    busy = float(weights @ [float(np.mean(_busy_minutes(region, fleet, k))) for k in kinds])
    if busy > 0 and turnout >= LONG_TURNOUT * busy:
        out.append(
            f"long turnouts (mean {turnout:.0f} min, {turnout / busy:.0%} of the busy time): "
            "busy times are far from exponential, and the response is mostly turnout"
        )
    peak = float((weights @ region.profiles[kinds]).max())
    if peak >= PEAK:
        out.append(
            f"demand peaks (busiest hour {peak:.1f} x the mean rate): Erlang C uses the mean "
            "rate and underestimates waiting at peak times"
        )
    d = fleet.dispatch[s]
    if d.policy == "mutual_aid":
        delay = f", request delay {d.request_delay:g} min" if d.request_delay else ""
        out.append(
            f"mutual aid (own units first{delay}): between the separate estimate shown and the "
            "pooled one"
        )
    return out


def caveat_lines(est: pd.DataFrame) -> list[str]:
    """The caveats of an estimate for the console: per service, each caveat once, with the
    options it applies to."""
    if "caveats" not in est:
        return []
    rows = est.drop_duplicates(["option", "service"])
    options = list(dict.fromkeys(rows["option"]))
    out = []
    for service, g in rows.groupby("service", sort=False):
        seen: dict[str, list[str]] = {}
        for opt, text in zip(g["option"], g["caveats"], strict=True):
            for part in str(text).split("; ") if isinstance(text, str) and text else []:
                seen.setdefault(part, []).append(str(opt))
        for part, opts in seen.items():
            which = "every option" if opts == options else ", ".join(opts)
            out.append(f"{service} ({which}): {part}")
    return out


def large_gap(simulated: float, ci_low: float, ci_high: float, estimated: float) -> bool:
    """True when the simulated share that waited is more than :data:`GAP` (absolute) from the
    Erlang C probability of waiting and the estimate lies outside the simulated interval."""
    values = (simulated, estimated)
    if not all(math.isfinite(v) for v in values):
        return False
    outside = not (ci_low <= estimated <= ci_high) if math.isfinite(ci_low + ci_high) else True
    return abs(simulated - estimated) > GAP and outside


def _region_of(
    alone: list[dict[str, Any]], option: str, service: str, policy: str
) -> dict[str, Any]:
    """Region-wide figures of separate fleets: call-weighted means of the communities'."""
    calls = np.array([r["calls_per_day"] for r in alone], dtype=np.float64)
    weights = calls / calls.sum() if calls.sum() > 0 else np.zeros_like(calls)
    load = float(np.sum([r["offered_load"] for r in alone], dtype=np.float64))
    units = float(np.sum([r["units"] for r in alone], dtype=np.float64))
    return {
        "option": option,
        "service": service,
        "policy": policy,
        "community": "all",
        "fleet": Pool.OWN.value,
        "calls_per_day": float(calls.sum()),
        "offered_load": load,
        "units": units,
        "utilisation": load / units if units > 0 else math.inf,
        "p_wait": float(weights @ np.array([r["p_wait"] for r in alone], dtype=np.float64)),
        "mean_wait": float(weights @ np.array([r["mean_wait"] for r in alone], dtype=np.float64)),
        "overloaded": any(bool(r["overloaded"]) for r in alone),
    }


def _row(
    option: str,
    service: str,
    policy: str,
    scope: str,
    model: Pool,
    rate: float,
    work: float,
    units: float,
) -> dict[str, Any]:
    load = work  # Erlangs: calls per minute x busy minutes per call
    c = max(1, round(units))
    row: dict[str, Any] = {
        "option": option,
        "service": service,
        "policy": policy,
        "community": scope,
        "fleet": model.value,
        "calls_per_day": rate * 1440.0,
        "offered_load": load,
        "units": units,
        "utilisation": load / units if units > 0 else math.inf,
    }
    if rate <= 0:
        row.update(p_wait=0.0, mean_wait=0.0, overloaded=False)
    elif load >= units:
        row.update(p_wait=1.0, mean_wait=math.inf, overloaded=True)
    else:
        # c servers, slowed so that their capacity is the time-average units on duty
        q = mmc(c, rate, load / rate * c / units)
        row.update(p_wait=q.p_wait, mean_wait=q.mean_wait, overloaded=q.overloaded)
    return row


def queue_model(policy: str) -> QueueModel:
    """The queue model of the dispatch policy named ``policy`` (an estimate row's ``policy``)."""
    return policy_class(policy).queue_model


def overload_warnings(est: pd.DataFrame) -> list[str]:
    """Plain warnings for every option whose fleet cannot keep up (utilisation >= 1): the fleet
    that carries the load under the option's policy."""
    out = []
    rows = est[est["overloaded"] & (est["calls_per_day"] > 0)]
    for r in rows[~((rows["community"] == "all") & (rows["fleet"] == Pool.OWN.value))].itertuples():
        if r.fleet != queue_model(str(r.policy)).load:
            continue  # only the fleet model the option's policy uses
        where = "the region" if r.community == "all" else f"community '{r.community}'"
        out.append(
            f"option '{r.option}': {r.service} in {where} is overloaded (offered load "
            f"{r.offered_load:.2f} Erlangs on {r.units:.2f} units, utilisation {r.utilisation:.2f} "
            ">= 1); waits will grow without bound"
        )
    return out
