"""The location game of a placement, and the Shapley value that splits its cost.

Each community with calls is a player. A coalition S is worth ``c(S)``: the fewest stations
(each with a unit, on any candidate site) that give every community of S at least the share
of its calls within target that the placement gives it (maximal covering's coverage). The game
is solved exactly, one small program per coalition (at most 8 communities: 255 coalitions).
The Shapley value (:mod:`sim.analysis.shapley`) averages each community's marginal stations
over every order in which the coalition could form; the placement's yearly cost is split in
proportion to it. A community whose calls the others' stations already cover pays little; one
that needs a station of its own pays for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..analysis import shapley as games
from .instance import Instance, scores
from .milp import Program
from .models import NoSolution, covered, merged_zones

__all__ = ["MAX_PLAYERS", "LocationGame", "location_game"]

MAX_PLAYERS = 8
SLACK = 1e-9


@dataclass(frozen=True)
class LocationGame:
    """The game (stations per coalition) and each community's Shapley share."""

    values: pd.DataFrame  # coalition, size, stations, status
    shares: dict[str, float]  # community -> Shapley share of the cost (sum 1)
    shapley: dict[str, float]  # community -> Shapley value, in stations
    limited: bool  # some coalition hit the time limit (its value is the best found)


def _stations_for(
    inst: Instance, need: dict[int, float], time_limit: float | None
) -> tuple[float, str]:
    """Fewest open sites covering each community ``c`` of ``need`` at least ``need[c]``."""
    if all(v <= 0 for v in need.values()):
        return 0.0, "optimal"
    groups = merged_zones(inst)
    totals = inst.community_demand()
    p = Program()
    y = p.variables(len(inst.sites), integer=True, cost=1.0)
    for c, share in need.items():
        mine = np.flatnonzero(groups.community == c)
        if share <= 0 or not len(mine):
            continue
        z = covered(p, y, groups.cover[:, mine])
        p.row(z, groups.demand[mine] / totals[c], lower=share - SLACK)
    out = p.solve(time_limit)
    if not out.solved:
        raise NoSolution(out.status)
    return float(round(out.objective)), out.status


def location_game(
    inst: Instance, counts: np.ndarray, time_limit: float | None
) -> LocationGame | None:
    """The game of placement ``counts``; None with more than :data:`MAX_PLAYERS` players or
    when no coalition needs a station."""
    demand = inst.community_demand()
    players = [c for c in range(len(inst.communities)) if demand[c] > 0]
    if not players or len(players) > MAX_PLAYERS:
        return None
    covered = scores(inst, counts).by_community
    need = {c: covered[inst.communities[c]] for c in players}
    rows, cost = [], {}
    for s in games.coalitions(players):
        value, status = _stations_for(inst, {c: need[c] for c in s}, time_limit)
        cost[s] = value
        members = [inst.communities[c] for c in players if c in s]
        rows.append(
            {"coalition": "+".join(members), "size": len(s), "stations": value, "status": status}
        )
    game = games.Game(tuple(players), cost)
    phi = games.shapley(game)
    total = sum(phi.values())
    if total <= 0 or not math.isfinite(total):
        return None
    names = {c: inst.communities[c] for c in players}
    return LocationGame(
        values=pd.DataFrame(rows),
        shares={names[c]: phi[c] / total for c in players},
        shapley={names[c]: phi[c] for c in players},
        limited=any(r["status"] != "optimal" for r in rows),
    )
