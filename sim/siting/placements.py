"""Stage 1 of ``intersim site``: the rules from the command's arguments, checked, and the best
few placements of the model that ``--objective`` names.

Each objective has its model and the simulated metric that later picks the chosen placement:
``coverage`` (maximal covering; share within target), ``within_target`` (MEXCLP; share within
target), ``mean`` (p-median; mean response) and ``p90`` (the percentile centre; 90th
percentile response). The best placement is the model's optimum; the next ones are the optima
among site sets not yet found (each earlier set cut off).

Rules that cannot all be met are named: single ones by arithmetic (more stations to keep than
``--stations``, a community that no candidate can cover as asked, ...), combinations by a
deletion filter over the groups of rules, which leaves a smallest set that still cannot be met.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..errors import InputError
from .instance import Instance
from .models import Infeasible, NoSolution, Rules, feasible, solve_model

__all__ = [
    "METRICS",
    "OBJECTIVES",
    "Placement",
    "best_placements",
    "make_rules",
    "placement_name",
]

OBJECTIVES = {"coverage": "mclp", "within_target": "mexclp", "mean": "pmedian", "p90": "p90"}
METRICS = {
    "coverage": "within_target",
    "within_target": "within_target",
    "mean": "mean_response",
    "p90": "p90_response",
}
SHOWN = 12


@dataclass(frozen=True)
class Placement:
    """Units per candidate site, and how the model found them (``model`` 'today': as now)."""

    name: str
    model: str
    counts: np.ndarray
    objective: float = math.nan
    status: str = ""
    gap: float = math.nan
    seconds: float = 0.0

    @property
    def sites(self) -> np.ndarray:
        return np.asarray(self.counts > 0)


def placement_name(model: str, rank: int) -> str:
    return f"site_{model}" + (f"_{rank}" if rank > 1 else "")


def _pct(v: float) -> str:
    return f"{100 * v:.4g} %"


def make_rules(
    inst: Instance,
    *,
    stations: int | None,
    keep: Sequence[str],
    close_at_most: int | None,
    max_per_station: int | None,
    min_coverage: Mapping[str, float],
) -> Rules:
    """Rules of site and community names turned into indices, each checked on its own."""
    at = {s: i for i, s in enumerate(inst.sites)}
    unknown = [k for k in keep if k not in at]
    if unknown:
        shown = ", ".join(list(inst.sites)[:SHOWN]) + (", ..." if len(at) > SHOWN else "")
        raise InputError(f"--keep: '{unknown[0]}' is not a candidate site (candidates: {shown})")
    coms = {c: i for i, c in enumerate(inst.communities)}
    if "all" in min_coverage and "all" not in coms:  # every community with calls
        demand = inst.community_demand()
        every = {c: min_coverage["all"] for c, i in coms.items() if demand[i] > 0}
        min_coverage = {**every, **{c: v for c, v in min_coverage.items() if c != "all"}}
    for c in min_coverage:
        if c not in coms:
            raise InputError(
                f"--min-coverage: unknown community '{c}' (known: {', '.join(inst.communities)})"
            )
    best = inst.best_coverage()
    for c, share in min_coverage.items():
        if share > best[coms[c]] + 1e-9:
            raise InputError(
                f"--min-coverage {c}={share:g}: at most {_pct(float(best[coms[c]]))} of {c}'s "
                "calls can be reached within their target from any candidate site"
            )
    rules = Rules(
        stations=stations,
        keep=tuple(dict.fromkeys(at[k] for k in keep)),
        close_at_most=close_at_most,
        max_per_station=max_per_station,
        min_coverage=tuple((coms[c], float(v)) for c, v in min_coverage.items()),
    )
    _arithmetic(inst, rules)
    return rules


def _arithmetic(inst: Instance, rules: Rules) -> None:
    n, today = inst.units, int((inst.today > 0).sum())
    kept = len(rules.keep)
    if rules.stations is not None and kept > rules.stations:
        raise InputError(f"--keep names {kept} stations but --stations is {rules.stations}")
    must = max(kept, today - rules.close_at_most if rules.close_at_most is not None else 0)
    if rules.stations is not None and rules.close_at_most is not None and must > rules.stations:
        raise InputError(
            f"--close-at-most {rules.close_at_most} keeps at least {must} of today's {today} "
            f"stations open but --stations is {rules.stations}"
        )
    if n < must:
        raise InputError(
            f"--units {n}: too few for the {must} stations that must stay open (each needs a unit)"
        )
    room = min(rules.stations or len(inst.sites), len(inst.sites)) * rules.per_station(inst)
    if n > room:
        raise InputError(
            f"--units {n} do not fit: at most {room} on "
            + (f"--stations {rules.stations}" if rules.stations else f"{len(inst.sites)} sites")
            + f" with --max-per-station {rules.max_per_station}"
        )


def _groups(inst: Instance, rules: Rules) -> list[tuple[str, Callable[[Rules], Rules]]]:
    """The rules as groups a deletion filter may drop, each with how to drop it."""
    out: list[tuple[str, Callable[[Rules], Rules]]] = []
    if rules.stations is not None:
        out.append((f"--stations {rules.stations}", lambda r: replace(r, stations=None)))
    if rules.keep:
        names = " ".join(inst.sites[i] for i in rules.keep)
        out.append((f"--keep {names}", lambda r: replace(r, keep=())))
    if rules.close_at_most is not None:
        out.append(
            (f"--close-at-most {rules.close_at_most}", lambda r: replace(r, close_at_most=None))
        )
    if rules.max_per_station is not None:
        out.append(
            (
                f"--max-per-station {rules.max_per_station}",
                lambda r: replace(r, max_per_station=None),
            )
        )
    for c, share in rules.min_coverage:

        def drop(r: Rules, c: int = c) -> Rules:
            return replace(r, min_coverage=tuple(m for m in r.min_coverage if m[0] != c))

        out.append((f"--min-coverage {inst.communities[c]}={share:g}", drop))
    return out


def conflict(inst: Instance, rules: Rules, time_limit: float | None) -> list[str]:
    """A smallest set of rule groups that cannot be met together (deletion filter)."""
    groups = _groups(inst, rules)
    needed = list(range(len(groups)))
    for g in list(needed):
        trial = rules
        for k in range(len(groups)):
            if k not in needed or k == g:
                trial = groups[k][1](trial)
        if not feasible(inst, trial, time_limit):
            needed.remove(g)
    return [groups[k][0] for k in needed]


def _infeasible(inst: Instance, rules: Rules, service: str, time_limit: float | None) -> InputError:
    names = conflict(inst, rules, time_limit)
    what = f"no placement of {inst.units} {service} unit(s)"
    if len(names) > 1:
        return InputError(
            f"{what} meets these constraints together: {', '.join(names)} (each can be met "
            "alone); relax one of them"
        )
    if names:
        return InputError(f"{what} meets {names[0]}; relax it")
    return InputError(f"{what} is possible on the candidate sites")


def best_placements(
    inst: Instance,
    rules: Rules,
    objective: str,
    count: int,
    *,
    service: str,
    time_limit: float | None,
    done: Callable[[], None] | None = None,
) -> list[Placement]:
    """Up to ``count`` placements of the objective's model, best first, with distinct sites."""
    model = OBJECTIVES[objective]
    found: list[Placement] = []
    for rank in range(1, count + 1):
        try:
            f = solve_model(
                inst, rules, model, exclude=[p.sites for p in found], time_limit=time_limit
            )
        except Infeasible:
            if not found:
                raise _infeasible(inst, rules, service, time_limit) from None
            break  # no other site set meets the rules
        except NoSolution:
            if not found:
                raise InputError(
                    f"the solver found no placement within --time-limit {time_limit:g} s; "
                    "allow it more time"
                ) from None
            break
        finally:
            if done is not None:
                done()
        found.append(
            Placement(
                placement_name(model, rank),
                model,
                f.counts,
                f.objective,
                f.status,
                f.gap,
                f.seconds,
            )
        )
    return found
