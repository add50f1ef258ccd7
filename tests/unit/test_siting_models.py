"""The location models (sim.siting.models) against enumeration: on small instances every
placement of the units is tried, and each model's answer must reach the best value found,
with and without rules (kept stations, closure cap, units per station, stations, minimum
coverage per community); conflicting rules are named; a time limit gives the best placement
found and its gap."""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace

import numpy as np
import pytest

from sim.errors import InputError
from sim.siting import milp, models
from sim.siting.instance import Instance, Scores, scores, weighted_quantile
from sim.siting.models import MODELS, Infeasible, NoSolution, Rules, solve_model
from sim.siting.placements import best_placements, make_rules

SITES, ZONES = 6, 12
# what each model optimises, in Scores, and whether larger is better
GOAL = {
    "mexclp": ("expected", True),
    "mclp": ("covered", True),
    "pmedian": ("mean_trip", False),
    "p90": ("p90_trip", False),
}


def instance(seed: int, units: int = 3, reach: float = 9.0) -> Instance:
    """Random trips, demand and busy fraction; two communities; three of the six sites hold a
    unit today."""
    rng = np.random.default_rng(seed)
    today = np.zeros(SITES, dtype=np.int64)
    today[rng.choice(SITES, 3, replace=False)] = 1
    return Instance(
        sites=tuple(f"s{i}" for i in range(SITES)),
        zones=tuple(f"z{j}" for j in range(ZONES)),
        communities=("a", "b"),
        trip=rng.uniform(1, 20, (SITES, ZONES)),
        demand=rng.integers(1, 10, ZONES).astype(float),
        reach=np.full(ZONES, reach),
        community=np.repeat([0, 1], ZONES // 2),
        units=units,
        busy=float(rng.uniform(0.05, 0.6)),
        today=today,
    )


def meets(inst: Instance, rules: Rules, counts: np.ndarray) -> bool:
    """The rules, checked directly on a placement."""
    open_sites = counts > 0
    if counts.sum() != inst.units or (counts < 0).any():
        return False
    if rules.stations is not None and open_sites.sum() > rules.stations:
        return False
    if any(not open_sites[k] for k in rules.keep):
        return False
    closed = ((inst.today > 0) & ~open_sites).sum()
    if rules.close_at_most is not None and closed > rules.close_at_most:
        return False
    if rules.max_per_station is not None and counts.max() > rules.max_per_station:
        return False
    covered = scores(inst, counts).by_community
    return all(covered[inst.communities[c]] >= share - 1e-9 for c, share in rules.min_coverage)


def value(sc: Scores, model: str) -> float:
    return float(getattr(sc, GOAL[model][0]))


def enumerated(inst: Instance, rules: Rules, model: str) -> float | None:
    """The best value of ``model`` over every placement meeting the rules (None: none does)."""
    larger = GOAL[model][1]
    best = None
    for c in itertools.product(range(inst.units + 1), repeat=len(inst.sites)):
        counts = np.array(c)
        if counts.sum() != inst.units or not meets(inst, rules, counts):
            continue
        v = value(scores(inst, counts), model)
        if best is None or (v > best if larger else v < best):
            best = v
    return best


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_model_finds_the_enumerated_optimum(model: str, seed: int) -> None:
    inst = instance(seed)
    found = solve_model(inst, Rules(), model)
    best = enumerated(inst, Rules(), model)
    assert best is not None
    got = value(scores(inst, found.counts), model)
    assert got == pytest.approx(best, rel=1e-4), f"{model} should reach the optimum {best}"
    assert found.objective == pytest.approx(got, rel=1e-6), "the objective is the placement's"
    assert found.status == milp.OPTIMAL
    assert found.counts.sum() == inst.units, "every unit is placed"


def random_rules(rng: np.random.Generator) -> Rules:
    return Rules(
        stations=int(rng.integers(1, 4)) if rng.random() < 0.5 else None,
        keep=tuple(int(k) for k in rng.choice(SITES, int(rng.integers(0, 2)), replace=False)),
        close_at_most=int(rng.integers(0, 3)) if rng.random() < 0.5 else None,
        max_per_station=int(rng.integers(1, 3)) if rng.random() < 0.5 else None,
        min_coverage=((1, float(rng.uniform(0.2, 0.8))),) if rng.random() < 0.5 else (),
    )


@pytest.mark.parametrize("model", MODELS)
def test_rules_are_honoured_and_the_optimum_under_them_found(model: str) -> None:
    binding = 0
    for seed in range(10):
        rng = np.random.default_rng(100 + seed)
        inst = instance(100 + seed, units=int(rng.integers(2, 5)))
        rules = random_rules(rng)
        best = enumerated(inst, rules, model)
        if best is None:
            with pytest.raises(Infeasible):
                solve_model(inst, rules, model)
            continue
        found = solve_model(inst, rules, model)
        assert meets(inst, rules, found.counts), f"seed {seed}: the rules {rules} must hold"
        assert value(scores(inst, found.counts), model) == pytest.approx(best, rel=1e-4)
        free = enumerated(inst, Rules(), model)
        binding += free != pytest.approx(best, rel=1e-9)
    assert binding >= 2, "some of the random rules should change the optimum"


def test_kept_station_stays_open_and_closures_are_capped() -> None:
    inst = instance(7)
    free = solve_model(inst, Rules(), "mexclp").counts
    shut = int(np.flatnonzero(free == 0)[0])
    kept = solve_model(inst, Rules(keep=(shut,)), "mexclp").counts
    assert free[shut] == 0
    assert kept[shut] >= 1, "a kept station holds a unit"
    closed = int(((inst.today > 0) & (free == 0)).sum())
    if closed:
        capped = solve_model(inst, Rules(close_at_most=closed - 1), "mclp").counts
        assert ((inst.today > 0) & (capped == 0)).sum() <= closed - 1


def test_minimum_coverage_of_a_community_is_met_at_a_price() -> None:
    inst = instance(5, units=2)
    free = solve_model(inst, Rules(), "mclp")
    b = scores(inst, free.counts).by_community["b"]
    need = min(1.0, float(inst.best_coverage()[1]))
    assert b < need, "the instance is chosen so that b is not fully covered at the optimum"
    fair = solve_model(inst, Rules(min_coverage=((1, need),)), "mclp")
    assert scores(inst, fair.counts).by_community["b"] >= need - 1e-9
    assert fair.objective <= free.objective + 1e-12, "fairness cannot raise the covered total"


def test_pmedian_widens_the_nearest_sites_until_no_zone_escapes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With each zone's first set of sites cut to one, the rounds must still end exact."""
    monkeypatch.setattr(models, "FIRST_NEAREST", 1)
    monkeypatch.setattr(models, "NEAREST_FACTOR", 0)
    for seed in (1, 5):
        inst = instance(seed)
        found = solve_model(inst, Rules(stations=2), "pmedian")
        best = enumerated(inst, Rules(stations=2), "pmedian")
        assert found.objective == pytest.approx(best, rel=1e-4)


def test_pmedian_keeps_its_best_when_a_wider_round_finds_nothing_in_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A round after the first may meet the time limit before any placement: the placement of
    the earlier round is the answer, with a gap from the bound (not NoSolution)."""
    monkeypatch.setattr(models, "FIRST_NEAREST", 1)
    monkeypatch.setattr(models, "NEAREST_FACTOR", 0)
    inst = instance(1)
    exact = solve_model(inst, Rules(stations=2), "pmedian")
    rounds = []
    first_round = models._pmedian_round

    def timed_out_after_one(*args: object) -> object:
        rounds.append(args)
        if len(rounds) > 1:
            raise NoSolution("time limit")
        return first_round(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(models, "_pmedian_round", timed_out_after_one)
    found = solve_model(inst, Rules(stations=2), "pmedian", time_limit=60)
    assert len(rounds) == 2, "the first round leaves zones outside their nearest sites"
    assert found.gap >= 0
    assert (found.status == models.LIMIT) == (found.gap > 0)
    assert found.objective >= exact.objective - 1e-9
    assert sum(found.counts) == inst.units
    monkeypatch.setattr(models, "_pmedian_round", lambda *a: (_ for _ in ()).throw(NoSolution("")))
    with pytest.raises(NoSolution):  # nothing found at all: still says so
        solve_model(inst, Rules(stations=2), "pmedian", time_limit=60)


def test_weighted_quantile() -> None:
    v = np.array([5.0, 1.0, 3.0, 2.0])
    w = np.array([1.0, 1.0, 1.0, 7.0])
    assert weighted_quantile(v, w, 0.9) == 3.0
    assert weighted_quantile(v, w, 0.5) == 2.0
    assert math.isnan(weighted_quantile(v, np.zeros(4), 0.9))


# --- rules that cannot be met -----------------------------------------------------------------
def far_apart() -> Instance:
    """Two communities, each reached only from its own two sites."""
    trip = np.full((4, 4), 30.0)
    trip[:2, :2] = 2.0
    trip[2:, 2:] = 2.0
    return Instance(
        sites=("a1", "a2", "b1", "b2"),
        zones=("za1", "za2", "zb1", "zb2"),
        communities=("a", "b"),
        trip=trip,
        demand=np.ones(4),
        reach=np.full(4, 5.0),
        community=np.array([0, 0, 1, 1]),
        units=2,
        busy=0.2,
        today=np.array([1, 1, 0, 0]),
    )


def rules_of(inst: Instance, **kw: object) -> Rules:
    args: dict = {
        "stations": None,
        "keep": (),
        "close_at_most": None,
        "max_per_station": None,
        "min_coverage": {},
    }
    args.update(kw)
    return make_rules(inst, **args)


def test_conflicting_rules_are_named_together() -> None:
    inst = far_apart()
    rules = rules_of(inst, stations=1, min_coverage={"a": 1.0, "b": 1.0}, max_per_station=2)
    with pytest.raises(InputError) as err:
        best_placements(inst, rules, "within_target", 1, service="amb", time_limit=None)
    text = str(err.value)
    for part in ("--stations 1", "--min-coverage a=1", "--min-coverage b=1"):
        assert part in text, f"the conflict should name {part}: {text}"
    assert "--max-per-station" not in text, "a rule that is not part of the conflict is not named"


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"stations": 1, "keep": ["a1", "b1"]}, "--keep names 2 stations but --stations is 1"),
        ({"keep": ["zz"]}, "--keep: 'zz' is not a candidate site"),
        ({"min_coverage": {"c": 0.5}}, "--min-coverage: unknown community 'c'"),
        ({"close_at_most": 0, "stations": 1}, "--close-at-most 0 keeps at least 2"),
        ({"max_per_station": 1, "stations": 1}, "--units 2 do not fit"),
    ],
)
def test_impossible_rules_alone_are_named(kw: dict, expected: str) -> None:
    with pytest.raises(InputError, match=expected.replace("(", r"\(")):
        rules_of(far_apart(), **kw)


def test_coverage_beyond_every_candidate_is_refused() -> None:
    inst = far_apart()
    inst = Instance(**{**inst.__dict__, "reach": np.array([5.0, 5.0, 5.0, 1.0])})
    with pytest.raises(InputError, match="at most 50 % of b's calls"):
        rules_of(inst, min_coverage={"b": 0.8})


# --- the solver's time limit ------------------------------------------------------------------
def test_time_limit_gives_the_best_found_with_its_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    """HiGHS stopped by its time limit (status 1) with a solution: it is used, and its gap
    between the solution and the bound stated."""
    real = milp.milp

    def stopped(*args: object, **kw: object) -> SimpleNamespace:
        res = real(*args, **kw)
        return SimpleNamespace(
            status=1, x=res.x, fun=res.fun, mip_dual_bound=res.fun * 1.1, mip_gap=0.1
        )

    monkeypatch.setattr(milp, "milp", stopped)
    inst = instance(2)
    [found] = best_placements(inst, Rules(), "within_target", 1, service="amb", time_limit=1.0)
    assert found.status == milp.LIMIT
    assert found.gap == pytest.approx(0.1, rel=1e-6)
    assert found.counts.sum() == inst.units


def test_time_limit_before_any_placement_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def nothing(*args: object, **kw: object) -> SimpleNamespace:
        return SimpleNamespace(status=1, x=None, fun=None, mip_dual_bound=None, mip_gap=None)

    monkeypatch.setattr(milp, "milp", nothing)
    with pytest.raises(NoSolution):
        solve_model(instance(2), Rules(), "mexclp", time_limit=0.5)
    with pytest.raises(InputError, match=r"no placement within --time-limit 0\.5 s"):
        best_placements(instance(2), Rules(), "mean", 1, service="amb", time_limit=0.5)
