"""The engine checked against queueing theory.

With zero travel, zero call handling and zero turnout, exponential on-scene times and Poisson
calls, a service is Erlang's delay system M/M/c: ``pooled`` dispatch makes one M/M/c of all the
units of a region, ``separate`` dispatch one M/M/c_i per community. Each replication is one
independent observation of a statistic (computed after the warm-up cut); the theoretical value
must lie in the 99 % Student-t confidence interval of the replication means. The tolerance
therefore comes from the spread between replications, never from the observed value itself.
Demand too: the hour-of-day and weekday profiles (chi-square) and a surge's multiplier (t interval).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis.queueing import (
    erlang_c,
    mmc_mean_queue,
    mmc_mean_wait,
    mmc_prob_wait_exceeds,
    utilisation,
)
from sim.engine.driver import RunResult
from sim.model.compile import MINUTES_PER_YEAR
from sim.runs.run import run
from sim.schema import scenario_from_dict
from tests.builders import mmc_region, one_town

LEVEL = 0.99
MEAN_SERVICE = 60.0  # minutes, exponential on-scene time
REPLICATIONS = 8
HORIZON_DAYS = 600
WARMUP_DAYS = 10


# --- helpers ---------------------------------------------------------------------------------


def t_interval(values: np.ndarray | pd.Series, level: float = LEVEL) -> tuple[float, float]:
    """Student-t confidence interval of the mean of independent observations ``values``."""
    x = np.asarray(values, dtype=np.float64)
    assert len(x) >= 2, f"a confidence interval needs >= 2 observations, got {x}"
    assert np.isfinite(x).all(), f"observations should be finite, got {x}"
    half = stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)


def assert_in_ci(theory: float, values: np.ndarray | pd.Series, what: str) -> None:
    lo, hi = t_interval(values)
    assert lo <= theory <= hi, (
        f"{what}: theory {theory:.5g} should lie in the {LEVEL:.0%} CI [{lo:.5g}, {hi:.5g}] "
        f"of {len(values)} replication means (mean {np.mean(values):.5g})"
    )


def counted(result: RunResult) -> pd.DataFrame:
    """Incidents called after the warm-up (the ones statistics are taken on)."""
    inc = result.incidents
    return inc[~inc["warmup"]]


def p_wait_by_rep(inc: pd.DataFrame) -> pd.Series:
    return (inc["wait"] > 0).groupby(inc["replication"]).mean()


def mean_wait_by_rep(inc: pd.DataFrame) -> pd.Series:
    return inc["wait"].groupby(inc["replication"]).mean()


def mmc_scenario(name: str, rates: dict[str, float], units: dict[str, int], policy: str) -> dict:
    """Poisson calls (``rates`` per minute by community), exponential on scene, nothing else."""
    return mmc_region(
        units,
        rates,
        MEAN_SERVICE,
        policies=(policy,),
        horizon=f"{HORIZON_DAYS} d",
        warmup=f"{WARMUP_DAYS} d",
        replications=REPLICATIONS,
        seed=20240611,
        name=name,
        incident_type="medical",
    )


# --- (a) pooled: one M/M/c over three communities ---------------------------------------------

POOLED_C = 4
POOLED_LOAD = 2.8  # Erlangs: utilisation 0.7
POOLED_SHARES = {"north": 0.5, "south": 0.3, "east": 0.2}
POOLED_UNITS = {"north": 2, "south": 1, "east": 1}
POOLED_RATE = POOLED_LOAD / MEAN_SERVICE  # calls per minute, whole region


@pytest.fixture(scope="module")
def pooled() -> RunResult:
    rates = {c: POOLED_RATE * s for c, s in POOLED_SHARES.items()}
    return run(scenario_from_dict(mmc_scenario("pooled M/M/4", rates, POOLED_UNITS, "pooled")))


def test_pooled_probability_of_wait_is_erlang_c(pooled: RunResult) -> None:
    theory = erlang_c(POOLED_C, POOLED_LOAD)
    assert_in_ci(theory, p_wait_by_rep(counted(pooled)), f"Erlang C P(wait) of M/M/{POOLED_C}")


def test_pooled_mean_wait_is_mmc(pooled: RunResult) -> None:
    theory = mmc_mean_wait(POOLED_C, POOLED_RATE, MEAN_SERVICE)
    assert_in_ci(theory, mean_wait_by_rep(counted(pooled)), f"M/M/{POOLED_C} mean wait (min)")


def test_pooled_wait_tail_is_mmc(pooled: RunResult) -> None:
    inc = counted(pooled)
    for t in (15.0, 60.0):
        theory = mmc_prob_wait_exceeds(POOLED_C, POOLED_RATE, MEAN_SERVICE, t)
        observed = (inc["wait"] > t).groupby(inc["replication"]).mean()
        assert_in_ci(theory, observed, f"M/M/{POOLED_C} P(wait > {t:g} min)")


def test_pooled_wait_is_the_same_in_every_community(pooled: RunResult) -> None:
    """One pool: where a call comes from does not change its chance of waiting."""
    inc = counted(pooled)
    theory = erlang_c(POOLED_C, POOLED_LOAD)
    for community in POOLED_SHARES:
        mine = inc[inc["community"] == community]
        assert_in_ci(theory, p_wait_by_rep(mine), f"Erlang C P(wait) of calls from {community}")


def test_pooled_arrival_rate_is_the_scenario_rate(pooled: RunResult) -> None:
    inc = counted(pooled)
    minutes = (HORIZON_DAYS - WARMUP_DAYS) * 1440.0
    for community, share in POOLED_SHARES.items():
        n = (inc["community"] == community).groupby(inc["replication"]).sum() / minutes
        assert_in_ci(POOLED_RATE * share, n, f"calls per minute from {community}")


# --- (b) separate: one M/M/c_i per community ---------------------------------------------------

SEPARATE = {  # community: (units, utilisation)
    "north": (2, 0.7),
    "south": (1, 0.6),
}


def separate_rate(community: str) -> float:
    c, rho = SEPARATE[community]
    return c * rho / MEAN_SERVICE


@pytest.fixture(scope="module")
def separate() -> RunResult:
    rates = {com: separate_rate(com) for com in SEPARATE}
    units = {com: c for com, (c, _) in SEPARATE.items()}
    return run(scenario_from_dict(mmc_scenario("separate M/M/c_i", rates, units, "separate")))


@pytest.mark.parametrize("community", list(SEPARATE))
def test_separate_probability_of_wait_is_own_erlang_c(separate: RunResult, community: str) -> None:
    c, rho = SEPARATE[community]
    inc = counted(separate)
    mine = inc[inc["community"] == community]
    assert_in_ci(erlang_c(c, c * rho), p_wait_by_rep(mine), f"{community}: Erlang C P(wait), c={c}")


@pytest.mark.parametrize("community", list(SEPARATE))
def test_separate_mean_wait_is_own_mmc(separate: RunResult, community: str) -> None:
    c, _ = SEPARATE[community]
    inc = counted(separate)
    mine = inc[inc["community"] == community]
    theory = mmc_mean_wait(c, separate_rate(community), MEAN_SERVICE)
    assert_in_ci(theory, mean_wait_by_rep(mine), f"{community}: M/M/{c} mean wait (min)")


def test_separate_never_lends(separate: RunResult) -> None:
    inc = separate.incidents
    sent = inc[inc["units_sent"] > 0]
    assert bool(sent["own_unit"].all()), "under separate every first unit is the caller's own"


# --- (c) utilisation ---------------------------------------------------------------------------


def test_pooled_busy_fraction_is_utilisation(pooled: RunResult) -> None:
    """Mean busy fraction of the c units = offered load / c. (Per unit it is not: with zero
    travel every free unit is equally close and the engine breaks ties by the lowest index, so
    the first unit works most.)"""
    theory = utilisation(POOLED_C, POOLED_RATE, MEAN_SERVICE)
    units = pooled.units
    assert len(units) == POOLED_C * REPLICATIONS
    mean = units["busy_fraction"].groupby(units["replication"]).mean()
    assert_in_ci(theory, mean, f"M/M/{POOLED_C} utilisation (mean busy fraction per unit)")


def test_pooled_busy_units_is_offered_load(pooled: RunResult) -> None:
    lv = pooled.levels[pooled.levels["hour"] == -1].set_index("replication")
    assert_in_ci(POOLED_LOAD, lv["busy_units"], "time-average busy units = offered load (Erlangs)")


@pytest.mark.parametrize("community", list(SEPARATE))
def test_separate_busy_fraction_is_own_utilisation(separate: RunResult, community: str) -> None:
    c, rho = SEPARATE[community]
    units = separate.units
    mine = units[units["owner"] == community]
    assert len(mine) == c * REPLICATIONS
    mean = mine["busy_fraction"].groupby(mine["replication"]).mean()
    assert_in_ci(rho, mean, f"{community}: utilisation of its {c} unit(s)")
    if c == 1:  # a single unit: the per-unit busy fraction itself is the utilisation
        assert_in_ci(rho, mine["busy_fraction"], f"{community}: busy fraction of its only unit")


def test_busy_fraction_counts_on_duty_time_of_the_window(pooled: RunResult) -> None:
    window = (HORIZON_DAYS - WARMUP_DAYS) * 1440.0
    units = pooled.units
    np.testing.assert_allclose(units["on_duty_min"], window, rtol=0, atol=1e-6)
    np.testing.assert_allclose(units["busy_fraction"], units["busy_min"] / window, rtol=1e-12)


# --- (d) Little's law --------------------------------------------------------------------------


def littles_difference(result: RunResult, rate: float) -> pd.Series:
    """Per replication: time-average number waiting (levels) - arrival rate x mean wait.

    ``rate`` is the scenario's arrival rate, so E[difference] = 0 is Little's law L = lambda W.
    (With the observed rate the difference would only be the window's edge effects: calls
    waiting across the warm-up cut or the horizon, a small but systematic positive bias that
    a tight CI could reject.)"""
    lv = result.levels[result.levels["hour"] == -1].set_index("replication")["waiting_calls"]
    return lv - rate * mean_wait_by_rep(counted(result))


def test_littles_law_pooled(pooled: RunResult) -> None:
    assert_in_ci(0.0, littles_difference(pooled, POOLED_RATE), "Lq - lambda Wq (pooled)")


def test_littles_law_separate(separate: RunResult) -> None:
    rate = sum(separate_rate(c) for c in SEPARATE)
    assert_in_ci(0.0, littles_difference(separate, rate), "Lq - lambda Wq (separate)")


def test_time_average_queue_is_mmc(pooled: RunResult) -> None:
    lv = pooled.levels[pooled.levels["hour"] == -1].set_index("replication")
    theory = mmc_mean_queue(POOLED_C, POOLED_RATE, MEAN_SERVICE)
    assert_in_ci(theory, lv["waiting_calls"], f"M/M/{POOLED_C} mean queue length Lq")


# --- (e) demand profile ------------------------------------------------------------------------

HOUR_PROFILE = [0.4] * 6 + [1.0] * 4 + [1.6] * 8 + [1.2] * 4 + [0.6] * 2
DAY_PROFILE = [1.0, 1.0, 1.0, 1.0, 1.3, 1.5, 0.7]
PROFILE_WEEKS = 26


@pytest.fixture(scope="module")
def profiled() -> pd.DataFrame:
    data = mmc_scenario("profile", {"town": 20_000 / MINUTES_PER_YEAR}, {"town": 1}, "pooled")
    data["incident_types"]["medical"]["on_scene"] = 1.0  # cheap: a unit is almost always free
    data["incident_types"]["medical"]["profile"] = "daily"
    data["profiles"] = {"daily": {"hour_of_day": HOUR_PROFILE, "day_of_week": DAY_PROFILE}}
    data["run"] = {"horizon": f"{PROFILE_WEEKS} w", "warmup": "1 w", "replications": 2, "seed": 7}
    return counted(run(scenario_from_dict(data)))


def chi_square_p(counts: np.ndarray, weights: list[float]) -> float:
    expected = counts.sum() * np.asarray(weights) / np.sum(weights)
    return float(stats.chisquare(counts, expected).pvalue)


def test_hour_of_day_profile(profiled: pd.DataFrame) -> None:
    hours = (profiled["t_call"] // 60 % 24).astype(int)
    counts = np.bincount(hours, minlength=24)
    p = chi_square_p(counts, HOUR_PROFILE)
    assert p > 0.001, f"calls per hour of day should follow the profile (chi-square p={p:.2g})"
    flat = chi_square_p(counts, [1.0] * 24)  # the test has power: a flat day is rejected
    assert flat < 1e-6, f"calls per hour should not look flat (chi-square p={flat:.2g})"


def test_day_of_week_profile(profiled: pd.DataFrame) -> None:
    days = (profiled["t_call"] // 1440 % 7).astype(int)  # time 0 is a Monday, 00:00
    counts = np.bincount(days, minlength=7)
    p = chi_square_p(counts, DAY_PROFILE)
    assert p > 0.001, f"calls per weekday should follow the profile (chi-square p={p:.2g})"
    assert chi_square_p(counts, [1.0] * 7) < 1e-6, "calls per weekday should not look flat"


def test_profile_keeps_the_yearly_rate(profiled: pd.DataFrame) -> None:
    minutes = (PROFILE_WEEKS - 1) * 7 * 1440.0
    per_rep = profiled.groupby("replication").size() / minutes * MINUTES_PER_YEAR
    lo, hi = stats.poisson.ppf([0.005, 0.995], 20_000 * minutes / MINUTES_PER_YEAR)
    scale = MINUTES_PER_YEAR / minutes
    for rep, rate in per_rep.items():  # two replications: a Poisson interval, not a t one
        assert lo * scale <= rate <= hi * scale, (
            f"replication {rep}: {rate:.0f} calls/year should lie in the 99% Poisson interval "
            f"[{lo * scale:.0f}, {hi * scale:.0f}] of the scenario's 20000/year"
        )


# --- (f) surges ------------------------------------------------------------------------------


def test_surge_multiplies_arrivals_in_its_window() -> None:
    start, days, multiplier, horizon = 10.0, 10.0, 3.0, 40.0
    data = one_town(
        communities={"a": {"population": 1}, "b": {"population": 1}},
        travel={"matrix": {"a": {"a": 5, "b": 10}, "b": {"b": 5}}},
        services={"amb": {"units": [{"station": "a", "count": 4}, {"station": "b", "count": 4}]}},
        incident_types={"med": {"service": "amb", "rate_per_year": 20_000, "on_scene": 5}},
        surges=[
            {
                "name": "storm",
                "start": f"{start} d",
                "duration": f"{days} d",
                "multiplier": multiplier,
                "communities": ["a"],
            }
        ],
        run={"horizon": f"{horizon} d", "replications": 6, "seed": 3},
        dispatch={"all": {"policy": "pooled"}},
    )
    inc = run(scenario_from_dict(data)).incidents
    day = inc["t_call"] / 1440
    inside = (day >= start) & (day < start + days)
    for community, factor in (("a", multiplier), ("b", 1.0)):
        mine = inc["community"] == community
        n_in = (mine & inside).groupby(inc["replication"]).sum() / days
        n_out = (mine & ~inside).groupby(inc["replication"]).sum() / (horizon - days)
        lo, hi = t_interval(n_in / n_out)
        assert lo <= factor <= hi, (
            f"{community}: rate in the surge / rate outside = {factor} should lie in the "
            f"{LEVEL:.0%} CI [{lo:.3f}, {hi:.3f}]"
        )
