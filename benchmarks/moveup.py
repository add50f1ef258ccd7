"""(k): the engine's time per incident on Five Valleys with move-up on the ambulance service.

One simulated year of ``scenarios/five_valleys_moveup.yaml`` (every service) runs against its
``pooled`` fleet (no relocation) and against ``pooled_moveup`` (the compliance table) and
``pooled_coverage`` (MEXCLP moves), both of which relocate ambulances only: the engine's time
per incident of the region, the target. Beside it, the same on the ambulance incidents alone,
where the relocation's cost is not diluted by the other services. Each is the best of
``repeat`` runs after one that fills the preference lists and the ways back of the process,
the options taking turns; times are CPU time of this process, so that other work on the
machine disturbs them less.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OPTIONS = ("pooled", "pooled_moveup", "pooled_coverage")


def _per_incident(region, fleets, inc, repeat: int) -> dict[str, tuple[float, int]]:  # type: ignore[no-untyped-def]
    """Per option: the best CPU time per incident over ``repeat`` rounds, in which the options
    take turns (so that a slow minute of the machine falls on all of them), and its moves."""
    from sim.engine.loop import simulate

    moves = {o: len(simulate(region, f, inc).move_unit) for o, f in fleets.items()}  # warms
    best = dict.fromkeys(fleets, float("inf"))
    for _ in range(repeat):
        for option, fleet in fleets.items():
            start = time.process_time()
            simulate(region, fleet, inc)
            best[option] = min(best[option], time.process_time() - start)
    return {o: (best[o] / len(inc) * 1e6, moves[o]) for o in fleets}


def moveup_rows(repeat: int, horizon: str | None = None) -> list[tuple[str, str]]:
    """Rows of the benchmark table: microseconds per incident, and the ratio to no move-up."""
    import sim
    from sim.engine.demand import Incidents, generate_incidents
    from sim.engine.driver import compile_scenario

    data = sim.load_scenario(ROOT / "scenarios" / "five_valleys_moveup.yaml")
    if horizon is not None:
        raw = data.model_dump(mode="json")
        raw["run"]["horizon"] = horizon
        data = sim.scenario_from_dict(raw)
    compiled = compile_scenario(data, OPTIONS)
    region = compiled.region
    every = generate_incidents(region, data.run.seed, 0)
    ambulance = region.services.index("ambulance")
    mask = np.isin(every.type, [k for k, t in enumerate(region.types) if t.service == ambulance])
    alone = Incidents(**{f.name: getattr(every, f.name)[mask] for f in dataclasses.fields(every)})
    rows = []
    for label, inc in (("region", every), ("ambulance alone", alone)):
        per = _per_incident(region, {o: compiled.fleets[o] for o in OPTIONS}, inc, repeat)
        target = "   (target <= 1.5)" if label == "region" else ""
        rows.append((f"(k) move-up, Five Valleys, {label}", f"{len(inc):,} incidents a run"))
        for option in OPTIONS:
            us, moves = per[option]
            ratio = "" if option == "pooled" else f": {us / per['pooled'][0]:.2f}x pooled{target}"
            rows.append((f"    {option}", f"{us:.1f} us/incident, {moves:,} moves{ratio}"))
    return rows
