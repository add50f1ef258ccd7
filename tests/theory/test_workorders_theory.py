"""Caseloads and seasonality against theory.

A caseload service with no travel, no visits, exponential case durations and Poisson referrals
is an M/M/(workers x max_cases) queue for case slots: the probability that a case waits for
allocation and its mean wait are Erlang C's, pooled over the region or community by community
under ``separate``. Monthly demand factors shape the arrivals like the hour and weekday profiles
(chi-square on the counts per month). Tolerances are the 99 % t intervals of replication means
and chi-square p-values, as in ``test_engine_theory.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis.caseload import caseload_metrics
from sim.analysis.queueing import erlang_c, mmc_mean_wait
from sim.engine.driver import RunResult, compile_scenario
from sim.model.compile import MINUTES_PER_YEAR
from sim.model.worktime import MONTH_DAYS
from sim.runs.run import run
from sim.schema import scenario_from_dict
from tests.builders import mmc_region
from tests.theory.test_engine_theory import assert_in_ci, counted, mean_wait_by_rep, p_wait_by_rep

MEAN_CASE = 60.0  # minutes: short cases keep the runs small; the queue is the same
SLOTS = 3  # max_cases per worker
WORKERS = {"north": 2, "south": 1}  # 9 slots in the region, 6 and 3 by community
LOAD = {"north": 4.2, "south": 1.8}  # Erlangs of cases: utilisation 0.7 and 0.6


def caseload_data() -> dict:
    rates = {c: load / MEAN_CASE for c, load in LOAD.items()}
    data = mmc_region(
        WORKERS,
        rates,
        MEAN_CASE,
        policies=("pooled", "separate"),
        horizon="150 d",
        warmup="5 d",
        replications=6,
        seed=20261201,
        name="caseload M/M/c",
        incident_type="case",
    )
    data["services"]["ambulance"]["caseload"] = {"max_cases": SLOTS}
    return data


@pytest.fixture(scope="module")
def caseload() -> RunResult:
    return run(scenario_from_dict(caseload_data()))


def _option(result: RunResult, option: str) -> pd.DataFrame:
    inc = counted(result)
    return inc[inc["option"] == option]


def test_pooled_caseload_waits_are_erlang_c(caseload: RunResult) -> None:
    inc = _option(caseload, "pooled")
    c, load = SLOTS * sum(WORKERS.values()), sum(LOAD.values())
    assert_in_ci(erlang_c(c, load), p_wait_by_rep(inc), f"pooled P(wait) of M/M/{c}")
    theory = mmc_mean_wait(c, load / MEAN_CASE, MEAN_CASE)
    assert_in_ci(theory, mean_wait_by_rep(inc), f"pooled mean wait of M/M/{c}")


@pytest.mark.parametrize("community", list(WORKERS))
def test_separate_caseload_waits_are_each_communitys_erlang_c(
    caseload: RunResult, community: str
) -> None:
    inc = _option(caseload, "separate")
    mine = inc[inc["community"] == community]
    c, load = SLOTS * WORKERS[community], LOAD[community]
    assert_in_ci(erlang_c(c, load), p_wait_by_rep(mine), f"{community}: P(wait) of M/M/{c}")
    theory = mmc_mean_wait(c, load / MEAN_CASE, MEAN_CASE)
    assert_in_ci(theory, mean_wait_by_rep(mine), f"{community}: mean wait of M/M/{c}")


def test_mean_caseload_is_the_offered_load_per_worker(caseload: RunResult) -> None:
    """Little's law: cases held = arrival rate x mean duration, spread over the workers."""
    compiled = compile_scenario(scenario_from_dict(caseload_data()))
    m = caseload_metrics(caseload.incidents, compiled.region, compiled.fleets)
    pooled = m[(m["option"] == "pooled") & (m["community"] == "all")]
    per_rep = pooled[pooled["metric"] == "mean_caseload"]["value"].to_numpy()
    workers = sum(WORKERS.values())
    assert_in_ci(sum(LOAD.values()) / workers, per_rep, "mean caseload per worker")


# --- seasonality -----------------------------------------------------------------------------

MONTHS = [2.0, 1.8, 1.4, 1.0, 0.8, 0.6, 0.5, 0.6, 0.8, 1.0, 1.4, 1.9]


@pytest.fixture(scope="module")
def seasonal() -> pd.DataFrame:
    data = mmc_region(
        {"town": 2},
        {"town": 20_000 / MINUTES_PER_YEAR},
        1.0,
        policies=("pooled",),
        horizon="365 d",
        warmup="0 d",
        replications=2,
        seed=7,
        name="seasons",
    )
    data["profiles"] = {"year": {"month_of_year": MONTHS}}
    data["incident_types"]["call"]["profile"] = "year"
    data["run"]["start"] = "2024-01-01"
    return run(scenario_from_dict(data)).incidents


def _month_counts(incidents: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    days = (incidents["t_call"] // 1440).astype(int).to_numpy()
    dates = np.datetime64("2024-01-01") + days
    months = (dates.astype("datetime64[M]").astype(int) % 12).astype(int)
    counts = np.bincount(months, minlength=12)
    in_run = np.bincount(
        (np.datetime64("2024-01-01") + np.arange(365)).astype("datetime64[M]").astype(int) % 12,
        minlength=12,
    )
    return counts, in_run.astype(float)


def test_month_of_year_profile_shapes_the_arrivals(seasonal: pd.DataFrame) -> None:
    counts, days = _month_counts(seasonal)
    expected = np.asarray(MONTHS) * days
    p = stats.chisquare(counts, expected / expected.sum() * counts.sum()).pvalue
    assert p > 0.001, f"calls per month should follow the profile (chi-square p={p:.2g})"
    flat = stats.chisquare(counts, days / days.sum() * counts.sum()).pvalue
    assert flat < 1e-6, f"calls per month should not look flat (chi-square p={flat:.2g})"


def test_month_of_year_profile_keeps_the_yearly_rate(seasonal: pd.DataFrame) -> None:
    """Factors are scaled to mean 1 over a 365-day year (months weighted by their days)."""
    scale = (np.asarray(MONTHS) @ MONTH_DAYS) / MONTH_DAYS.sum()
    counts, days = _month_counts(seasonal)
    mean = 20_000 * (np.asarray(MONTHS) @ days) / scale / MONTH_DAYS.sum() * 2  # 2 replications
    lo, hi = stats.poisson.ppf([0.005, 0.995], mean)
    assert lo <= counts.sum() <= hi, (
        f"{counts.sum()} calls in two years should lie in the 99 % Poisson interval [{lo:.0f}, "
        f"{hi:.0f}] of 20,000 a year"
    )
