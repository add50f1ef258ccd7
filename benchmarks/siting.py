"""(j) of ``python -m benchmarks``: the MILP stage of ``intersim site`` on a synthetic location
problem of 500 candidate sites, 2,000 zones and 30 units around 12 towns: the default
objective's three best placements, then one solve of each other model.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

__all__ = ["siting_region", "siting_stage"]


def siting_region(seed: int = 1, zones: int = 2000, sites: int = 500, units: int = 30) -> Any:
    """(j): a location problem shaped like a real one: zones on a 1.25 km grid over 70 x 45 km,
    residents around 12 towns of Pareto-distributed sizes, urban zones (within 3 km of a town)
    with an 8-minute target, the rest 18 minutes (reach: 7 and 18 minutes of trip); candidate
    sites drawn by the square root of the residents, today's units at the town centres."""
    from sim.siting.instance import Instance

    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(56) * 1.25, np.arange(36) * 1.25)
    xy = np.column_stack([gx.ravel(), gy.ravel()])[:zones] + rng.uniform(-0.3, 0.3, (zones, 2))
    towns = rng.uniform([5, 5], [65, 40], (12, 2))
    size = rng.pareto(1.2, 12) * 3000 + 1500
    d2 = ((xy[:, None, :] - towns[None, :, :]) ** 2).sum(-1)
    residents = (size[None, :] * np.exp(-np.sqrt(d2) / 2.0)).sum(1) + 20
    centres = np.argmin(d2, axis=0)
    weights = np.sqrt(residents) / np.sqrt(residents).sum()
    drawn = rng.choice(zones, sites, replace=False, p=weights)
    cand = np.concatenate([centres, [z for z in drawn if z not in set(centres)]])[:sites]
    dist = np.sqrt(((xy[cand][:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    share = size / size.sum()
    per_town = np.maximum(1, np.round(share * units)).astype(int)
    while per_town.sum() > units:
        per_town[np.argmax(per_town)] -= 1
    per_town[np.argmax(share)] += units - per_town.sum()
    today = np.zeros(len(cand), dtype=np.int64)
    today[: len(centres)] = per_town
    return Instance(
        sites=tuple(f"s{i}" for i in range(len(cand))),
        zones=tuple(f"z{j}" for j in range(zones)),
        communities=tuple(f"c{k}" for k in range(12)),
        trip=dist * 1.3 + 1.0,  # km x detour at 60 km/h, plus a minute to the road
        demand=residents * 0.01,
        reach=np.where(np.sqrt(d2.min(1)) < 3.0, 7.0, 18.0),
        community=np.argmin(d2, axis=1),
        units=units,
        busy=0.25,
        today=today,
    )


def siting_stage(quick: bool = False) -> list[tuple[str, float, str]]:
    """(j): seconds of the default stage (3 placements) and of one solve of each other model
    (``quick``: 100 sites, 400 zones, 10 units)."""
    from sim.siting.models import Rules, solve_model
    from sim.siting.placements import OBJECTIVES, best_placements

    inst = siting_region(zones=400, sites=100, units=12) if quick else siting_region()
    out = []
    start = time.perf_counter()
    found = best_placements(inst, Rules(), "within_target", 3, service="s", time_limit=60)
    status = ", ".join(f"{p.status}" + (f" gap {p.gap:.2%}" if p.gap > 1e-4 else "") for p in found)
    out.append(("within_target (MEXCLP), 3 placements", time.perf_counter() - start, status))
    for objective in ("coverage", "mean", "p90"):
        start = time.perf_counter()
        f = solve_model(inst, Rules(), OBJECTIVES[objective], time_limit=60)
        status = f.status + (f", gap {f.gap:.2%}" if f.gap > 1e-4 else "")
        out.append(
            (
                f"{objective} ({OBJECTIVES[objective]}), 1 placement",
                time.perf_counter() - start,
                status,
            )
        )
    return out
