"""``site``: where to put a service's stations and units, by an exact location model confirmed by
simulation.

1. *Candidates* (:mod:`.candidates`) and the *location problem* (:mod:`.instance`) from the
   compiled model, so that the models and the simulation share every trip.
2. *Stage 1* (:mod:`.placements`, :mod:`.models`): the rules checked, and the best few
   placements of the model of ``objective``.
3. *Stage 2* (:mod:`.options`, :mod:`.simulate`): today's placement (the base option) and the
   model's become the options of one scenario, simulated with common random numbers and
   compared with today's, paired.
4. The *chosen* placement is the simulated best by the objective's metric; its cost is split
   by the formulas of ``compare`` and by the Shapley value of its location game (:mod:`.game`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..engine.progress import progress_bar
from ..errors import InputError
from ..model.compile import compile_fleet, compile_region
from ..schema import Scenario, load_scenario, scenario_from_dict
from ..schema.options import resolve_option
from .candidates import Site, candidate_scenario, candidate_sites
from .game import LocationGame, location_game
from .instance import Instance, build_instance, checked_priority
from .models import Rules
from .options import placement_option, siting_scenario, station_counts
from .placements import METRICS, OBJECTIVES, Placement, best_placements, make_rules
from .simulate import Simulated, simulate
from .tables import (
    chosen_placement,
    community_table,
    cost_table,
    placement_table,
    sites_table,
)

__all__ = ["SitingResult", "site"]

LOWER_IS_BETTER = {"mean_response": True, "p90_response": True, "within_target": False}


@dataclass(repr=False)
class SitingResult:
    """Both stages of ``site`` and the tables written from them."""

    scenario: Scenario
    scenario_file: Path | None
    service: str
    objective: str
    metric: str
    priority: int
    base_option: str
    sites: list[Site]
    site_xy: np.ndarray  # (I, 2) km in the scenario's frame, NaN without a position
    instance: Instance
    rules: Rules
    placements: list[Placement]  # today's first
    chosen: str
    options: dict[str, dict[str, Any]]  # placement -> option data
    simulated: Simulated
    game: LocationGame | None
    siting: pd.DataFrame
    stations: pd.DataFrame
    communities: pd.DataFrame
    costs: pd.DataFrame
    seconds: float
    model_seconds: float
    warnings: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return (
            f"<SitingResult of {self.service}: {len(self.placements) - 1} placements against "
            f"today's '{self.base_option}', chosen '{self.chosen}'>"
        )

    @property
    def seed(self) -> int:
        return self.simulated.seed

    @property
    def replications(self) -> int:
        return self.simulated.replications

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {
            "siting": self.siting,
            "siting_stations": self.stations,
            "siting_communities": self.communities,
            "siting_costs": self.costs,
        }
        if self.game is not None:
            out["siting_game"] = self.game.values
        return out


def _load(scenario: str | Path | dict[str, Any] | Scenario) -> tuple[Scenario, Path | None]:
    if isinstance(scenario, Scenario):
        return scenario, None
    if isinstance(scenario, dict):
        return scenario_from_dict(scenario), None
    return load_scenario(scenario), Path(scenario)


def _base_option(scenario: Scenario, service: str, option: str | None) -> tuple[str, list[str]]:
    """The option the placements start from: given, or the first that pools the service."""
    if option is not None:
        if option not in scenario.options:
            raise InputError(
                f"--option: unknown option '{option}' (known: {', '.join(scenario.options)})"
            )
        chosen = option
    else:
        pooled = [
            o
            for o in scenario.options
            if resolve_option(scenario, o).dispatch[service].policy == "pooled"
        ]
        chosen = pooled[0] if pooled else scenario.baseline_option
    policy = resolve_option(scenario, chosen).dispatch[service].policy
    notes = []
    if policy != "pooled":
        notes.append(
            f"option '{chosen}' dispatches {service} '{policy}', while the location models "
            "assume the closest free unit is sent (pooled); the simulation shows the difference"
        )
    return chosen, notes


def _check_arguments(scenario: Scenario, service: str, objective: str, placements: int) -> None:
    if service not in scenario.services:
        raise InputError(
            f"--service: unknown service '{service}' (known: {', '.join(scenario.services)})"
        )
    if objective not in OBJECTIVES:
        raise InputError(f"--objective must be one of {', '.join(OBJECTIVES)}, got '{objective}'")
    if placements < 1:
        raise InputError("--placements must be at least 1")


def site(
    scenario: str | Path | dict[str, Any] | Scenario,
    service: str,
    *,
    candidates: str = "stations",
    units: int | None = None,
    stations: int | None = None,
    objective: str = "within_target",
    keep: Sequence[str] = (),
    close_at_most: int | None = None,
    max_per_station: int | None = None,
    min_coverage: Mapping[str, float] | None = None,
    option: str | None = None,
    placements: int = 3,
    replications: int | None = None,
    seed: int | None = None,
    time_limit: float | None = 60.0,
    workers: int | None = 1,
    dask: str | None = None,
    progress: bool = False,
) -> SitingResult:
    """Place ``service``'s units (see the module docstring and the README's *Siting*)."""
    t0 = time.perf_counter()
    sc, path = _load(scenario)
    _check_arguments(sc, service, objective, placements)
    priority = checked_priority(compile_region(sc), service)
    if priority is None:
        raise InputError(f"service '{service}' has no response target: nothing to cover")
    base, warnings = _base_option(sc, service, option)
    today = list(station_counts(sc, base, service))
    sites = candidate_sites(sc, candidates, today)
    with_sites = candidate_scenario(sc, sites)
    region = compile_region(with_sites)
    inst = build_instance(
        region,
        compile_fleet(with_sites, region, base),
        service,
        tuple(s.id for s in sites),
        units,
    )
    if inst.total <= 0:
        raise InputError(f"service '{service}' has no calls with a target: nothing to cover")
    if inst.units < 1:
        raise InputError("--units must be at least 1")
    rules = make_rules(
        inst,
        stations=stations,
        keep=keep,
        close_at_most=close_at_most,
        max_per_station=max_per_station,
        min_coverage=dict(min_coverage or {}),
    )
    n = replications if replications is not None else sc.run.replications
    if n < 2:
        raise InputError("--replications: at least 2 are needed for confidence intervals")
    t1 = time.perf_counter()
    with progress_bar("site: models", "solve", total=placements, enabled=progress) as bar:
        found = best_placements(
            inst,
            rules,
            objective,
            placements,
            service=service,
            time_limit=time_limit,
            done=bar.update,
        )
    model_seconds = time.perf_counter() - t1
    now = Placement(base, "today", inst.today)
    same = [p for p in found if np.array_equal(p.counts, inst.today)]
    if same:
        warnings.append(
            f"{same[0].name}, the model's {'best' if same[0] is found[0] else 'next'} placement, "
            f"is today's: it is simulated once, as '{base}'"
        )
    found = [p for p in found if not np.array_equal(p.counts, inst.today)]
    places = np.array([region.place_of[s.id] for s in sites], dtype=np.int64)
    travel = region.trips(region.services.index(service))[np.ix_(places, places)].astype(np.float64)
    nearest = np.argmin(inst.trip, axis=1)
    owners = [
        s.community or inst.communities[int(inst.community[nearest[i]])]
        for i, s in enumerate(sites)
    ]
    options = {base: sc.options[base].model_dump(mode="json", exclude_defaults=True)}
    for p in found:
        options[p.name] = placement_option(
            sc, base, service, sites, p.counts, travel, owners, _describe(p, sites, base, service)
        )
    wanted = {
        p.name: {s.id: int(c) for s, c in zip(sites, p.counts, strict=True)} for p in [now, *found]
    }
    stage2 = siting_scenario(sc, sites, options, base, service, wanted)
    s = seed if seed is not None else sc.run.seed
    with progress_bar("site: simulation", "rep", total=n, enabled=progress) as bar:
        sim = simulate(
            stage2, service, replications=n, seed=s, workers=workers, dask=dask, progress=bar.update
        )
    if sim.fallback:
        warnings.append(sim.fallback)
    metric = METRICS[objective]
    everything = [now, *found]
    table = placement_table(inst, everything, sites, sim, objective, priority)
    chosen = chosen_placement(table, metric, LOWER_IS_BETTER[metric], base)
    table["chosen"] = table["placement"] == chosen
    pick = next(p for p in everything if p.name == chosen)
    game = location_game(inst, pick.counts, time_limit)
    if game is None and len(inst.communities) > 1:
        warnings.append("no Shapley split: more than 8 communities, or no station is needed")
    for p in found:
        if p.status != "optimal":
            warnings.append(
                f"{p.name}: the solver's time limit came first; the best placement found is "
                f"within {100 * p.gap:.2f} % of the optimum"
            )
    return SitingResult(
        scenario=sc,
        scenario_file=path,
        service=service,
        objective=objective,
        metric=metric,
        priority=priority,
        base_option=base,
        sites=sites,
        site_xy=np.asarray(region.place_xy[places], dtype=np.float64),
        instance=inst,
        rules=rules,
        placements=everything,
        chosen=chosen,
        options=options,
        simulated=sim,
        game=game,
        siting=table,
        stations=sites_table(everything, sites),
        communities=community_table(inst, everything, sim, priority),
        costs=cost_table(sim, chosen, base, game),
        seconds=time.perf_counter() - t0,
        model_seconds=model_seconds,
        warnings=warnings,
    )


def _describe(p: Placement, sites: list[Site], base: str, service: str) -> str:
    where = ", ".join(f"{s.id} {int(c)}" for s, c in zip(sites, p.counts, strict=True) if c > 0)
    return f"'{base}' with the {service} units placed by {p.model.upper()} (intersim site): {where}"
