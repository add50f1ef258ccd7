"""``compare`` against statistics: common random numbers, honest intervals, exact Erlang C.

Statistical tests draw their tolerance from the replications themselves (confidence intervals,
bootstrap bounds, binomial bands), never from the value they check. Every random input has a
fixed seed, so the tests are deterministic; the bands are chosen so that they would also hold
for almost every other seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis.metrics import ALL, incident_metrics
from sim.analysis.queueing import mmc
from sim.analysis.stats import with_ci
from sim.comparison.compare import compare
from sim.model.compile import MINUTES_PER_YEAR
from sim.runs.run import run
from sim.schema import scenario_from_dict
from tests.builders import mmc_region, shipped

# --- helpers -------------------------------------------------------------------------------------


def region_rows(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rows of ``metric`` over the whole region and all priorities."""
    return table[
        (table["metric"] == metric) & (table["community"] == ALL) & (table["priority"] == ALL)
    ]


def headline_per_rep(incidents: pd.DataFrame, metric: str, service: str) -> pd.DataFrame:
    """One value of a region-wide metric per replication (rows) and option (columns)."""
    rows = region_rows(incident_metrics(incidents), metric)
    rows = rows[rows["service"] == service]
    return rows.pivot_table(index="replication", columns="option", values="value")


# --- common random numbers -----------------------------------------------------------------------

CRN_PAIRS = 20  # 2 x 20 replications per scenario


def crn_small_dict() -> dict[str, Any]:
    """Two communities with two ambulances each (utilisation ~0.5 and ~0.4 when separate);
    random call handling, turnout and travel, exponential on-scene time."""
    per_minute = 0.5 * 2 / 55.0  # utilisation 0.5: 2 units, ~55 busy minutes per call
    handling = {"dist": "lognormal", "median": 1.5, "log_sd": 0.6}
    return {
        "name": "CRN check",
        "communities": {"north": {"population": 20_000}, "south": {"population": 10_000}},
        "travel": {
            "matrix": {"north": {"north": 5, "south": 12}, "south": {"south": 6}},
            "noise": {"log_sd": 0.2},
        },
        "services": {
            "ambulance": {
                "units": [{"station": "north", "count": 2}, {"station": "south", "count": 2}]
            }
        },
        "incident_types": {
            "medical": {
                "service": "ambulance",
                "rate_per_year": {
                    "north": per_minute * MINUTES_PER_YEAR,
                    "south": 0.8 * per_minute * MINUTES_PER_YEAR,
                },
                "call_handling": handling,
                "turnout": handling,
                "on_scene": {"dist": "exponential", "mean": 45},
            }
        },
        "run": {"horizon": "10 d", "warmup": "2 d", "replications": 2, "seed": 31},
        "options": {
            "separate": {"dispatch": {"all": {"policy": "separate"}}},
            "pooled": {"dispatch": {"all": {"policy": "pooled"}}},
        },
    }


def five_valleys_ambulance_dict() -> dict[str, Any]:
    """Five Valleys with a 30-day horizon (7-day warm-up as shipped), ambulance only.

    The ambulance service shares no unit with any other service, so its incidents and results
    do not depend on the others; they are dropped only to keep the test fast (they take ~80 %
    of the run time). The options compared are the shipped ``separate`` and ``pooled``.
    """
    data = shipped("five_valleys", horizon="30 d")
    data["services"] = {"ambulance": data["services"]["ambulance"]}
    data["incident_types"] = {
        k: v for k, v in data["incident_types"].items() if v["service"] == "ambulance"
    }
    data["options"] = {k: data["options"][k] for k in ("separate", "pooled")}
    data["baseline"] = "separate"
    return data


def variance_reduction(a: np.ndarray, b: np.ndarray, seed: int = 0) -> dict[str, float]:
    """How much common random numbers shrink the variance of the difference ``a - b``.

    ``a[r]`` and ``b[r]`` are two options' values in replication ``r`` (same random numbers).
    With independent streams the difference of two options has variance var(a) + var(b); with
    common random numbers var(a - b). The factor is their ratio, with a one-sided 95 %
    percentile-bootstrap lower bound (replications resampled as pairs). ``explicit`` is the
    same ratio measured literally: replication r of ``a`` paired with replication r + N of
    ``b`` (different streams), against the paired differences; it is noisier.
    """
    n = len(a)
    half = n // 2
    crn = a - b
    factor = (a.var(ddof=1) + b.var(ddof=1)) / crn.var(ddof=1)
    independent = a[:half] - b[half : 2 * half]
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(4000, n))
    ra, rb = a[idx], b[idx]
    boot = (ra.var(axis=1, ddof=1) + rb.var(axis=1, ddof=1)) / (ra - rb).var(axis=1, ddof=1)
    return {
        "factor": float(factor),
        "lower95": float(np.quantile(boot, 0.05)),
        "explicit": float(independent.var(ddof=1) / crn.var(ddof=1)),
        "var_crn": float(crn.var(ddof=1)),
        "var_independent": float(independent.var(ddof=1)),
        "corr": float(np.corrcoef(a, b)[0, 1]),
    }


def crn_measurement(data: dict[str, Any], what: str) -> dict[str, float]:
    result = run(
        scenario_from_dict(data),
        options=["separate", "pooled"],
        replications=2 * CRN_PAIRS,
        seed=data["run"]["seed"],
    )
    inc = result.incidents
    # Common random numbers: within a replication both options saw the very same incidents.
    for r in (0, 2 * CRN_PAIRS - 1):
        calls = [
            inc[(inc["replication"] == r) & (inc["option"] == o)][
                ["type", "community", "t_call"]
            ].reset_index(drop=True)
            for o in ("separate", "pooled")
        ]
        pd.testing.assert_frame_equal(*calls, obj=f"{what}: incidents of replication {r}")
    first = inc[(inc["replication"] == 0) & (inc["option"] == "pooled")]["t_call"].to_numpy()
    second = inc[(inc["replication"] == 1) & (inc["option"] == "pooled")]["t_call"].to_numpy()
    assert len(first) != len(second) or not np.array_equal(first, second), (
        f"{what}: replications 0 and 1 should draw different incidents"
    )
    per_rep = headline_per_rep(inc, "mean_response", "ambulance")
    m = variance_reduction(per_rep["separate"].to_numpy(), per_rep["pooled"].to_numpy())
    print(
        f"\n{what}: CRN variance reduction of mean response separate - pooled over "
        f"{2 * CRN_PAIRS} replications: factor {m['factor']:.2f} = (var a + var b) / var(a - b)"
        f" (one-sided 95 % bootstrap lower bound {m['lower95']:.2f}, correlation "
        f"{m['corr']:.2f}); literal pairing of replication r with r+{CRN_PAIRS} "
        f"({CRN_PAIRS} pairs, noisy): {m['var_independent']:.3g} / {m['var_crn']:.3g} min^2 "
        f"= {m['explicit']:.2f}"
    )
    return m


@pytest.mark.slow
def test_crn_reduces_variance_of_paired_difference_small_region() -> None:
    """The factor is ~1.7 here (1.41-2.09 over five seeds of 40 replications; 2.1 over 120
    replications of a 14-day run), not more: separate's spread is dominated by queueing waits
    that pooling removes, and only the shared part (call times and the drawn handling, turnout
    and travel times) cancels. So the test asserts what 40 replications support: a
    significant reduction (one-sided 95 % bootstrap lower bound > 1; 1.18-1.74 over the
    five seeds)."""
    m = crn_measurement(crn_small_dict(), "two communities, utilisation 0.5")
    assert m["lower95"] > 1.0, (
        f"common random numbers should make the separate - pooled difference significantly less "
        f"variable than independent streams (95 % lower bound of the factor > 1), got factor "
        f"{m['factor']:.2f}, lower bound {m['lower95']:.2f}, correlation {m['corr']:.2f}"
    )


@pytest.mark.slow
def test_crn_reduces_variance_of_paired_difference_five_valleys_ambulance() -> None:
    m = crn_measurement(five_valleys_ambulance_dict(), "Five Valleys ambulance, 30 d")
    # Separate's replication-to-replication spread is mostly queueing waits in the one-ambulance
    # communities, which pooling removes, so only a modest part cancels: the factor is ~1.2
    # (1.15 over 80 replications at this horizon, 1.23 at the shipped 365 days).
    assert m["lower95"] > 1.0, (
        f"common random numbers should make the separate - pooled difference significantly less "
        f"variable than independent streams (95 % lower bound of the factor > 1), got factor "
        f"{m['factor']:.2f}, lower bound {m['lower95']:.2f}, correlation {m['corr']:.2f}"
    )


# --- confidence intervals are honest ---------------------------------------------------------

COVER_C, COVER_RHO, COVER_SERVICE = 2, 0.6, 60.0  # M/M/2 at utilisation 0.6, 1 h on scene
COVER_MACROS, COVER_REPS = 60, 4  # 60 independent small studies of 4 replications each
COVER_LEVEL = 0.95


@pytest.mark.slow
def test_confidence_intervals_cover_erlang_c_at_nominal_rate() -> None:
    """Each macro-replication is a small study of 4 replications of a 6-day M/M/2 run (2-day
    warm-up from an empty system: ~2 relaxation times, so initialisation bias is gone), analysed
    as ``compare`` does (per-replication metric, Student-t interval by ``with_ci``). The 95 %
    interval of P(wait) must cover Erlang C in about 95 % of the 60 studies (measured while
    writing this test: 0.94 over 300 studies and 0.96 over 150, other seeds).

    Tolerance: if the true coverage is 95 %, the number of covering studies is Binomial(60,
    0.95); ``binom.ppf(0.001, 60, 0.95)`` = 51, so at least 51 of 60 (0.85) must cover; fewer
    happens with probability < 0.1 % for honest intervals. The upper end is 1.0: 60 of 60
    happens with probability 0.95^60 = 4.6 %, so over-coverage is instead checked through the
    interval widths, which must match the actual spread of the study means.
    """
    rate = COVER_RHO * COVER_C / COVER_SERVICE
    data = mmc_region(
        {"a": 1, "b": 1},
        {"a": rate / 2, "b": rate / 2},
        COVER_SERVICE,
        policies=("pooled",),
        horizon="6 d",
        warmup="2 d",
    )
    result = run(scenario_from_dict(data), replications=COVER_MACROS * COVER_REPS, seed=2024)
    truth = mmc(COVER_C, rate, COVER_SERVICE)
    metrics = incident_metrics(result.incidents)
    per_rep = region_rows(metrics, "waited")
    per_rep = per_rep.assign(macro=per_rep["replication"] // COVER_REPS)
    ci = with_ci(per_rep, ["macro"], level=COVER_LEVEL)
    assert len(ci) == COVER_MACROS
    assert (ci["n"] == COVER_REPS).all()
    covered = int(((ci["ci_low"] <= truth.p_wait) & (truth.p_wait <= ci["ci_high"])).sum())
    lowest = int(stats.binom.ppf(0.001, COVER_MACROS, COVER_LEVEL))
    # mean wait is reported only: with 4 short runs its skewed per-replication values make
    # t intervals under-cover (~0.87-0.90 measured over 150+ studies)
    waits = region_rows(metrics, "mean_wait")
    wci = with_ci(waits.assign(macro=waits["replication"] // COVER_REPS), ["macro"])
    wcov = ((wci["ci_low"] <= truth.mean_wait) & (truth.mean_wait <= wci["ci_high"])).mean()
    print(
        f"\ncoverage of Erlang C P(wait) {truth.p_wait:.3f}: {covered}/{COVER_MACROS} "
        f"(band {lowest}-{COVER_MACROS}); mean wait {truth.mean_wait:.1f} min: {wcov:.2f}"
    )
    assert lowest <= covered <= COVER_MACROS, (
        f"the 95 % interval of P(wait) should cover Erlang C {truth.p_wait:.3f} in {lowest} to "
        f"{COVER_MACROS} of {COVER_MACROS} studies, covered {covered}"
    )
    # Too-wide intervals would always cover: the mean standard error s / sqrt(n) must match the
    # observed standard deviation of the study means (expected ratio c4(4) = 0.92; the sd of
    # 60 means is itself uncertain by ~10 %, so 0.65-1.3 is > 3 sd either way).
    t = stats.t.ppf(0.5 + COVER_LEVEL / 2, COVER_REPS - 1)
    se = ((ci["ci_high"] - ci["ci_low"]) / 2 / t).mean()
    ratio = se / ci["mean"].std(ddof=1)
    print(f"mean standard error / sd of the study means: {ratio:.2f}")
    assert 0.65 < ratio < 1.3, (
        f"interval half-widths should match the spread of the study means (standard error / sd "
        f"of means ~0.92), got {ratio:.2f}"
    )


# --- the analytic estimate agrees with the simulation ------------------------------------------

EST_UNITS = {"a": 2, "b": 2}
EST_RATES = {"a": 0.6 * 2 / 60.0, "b": 0.4 * 2 / 60.0}  # utilisation 0.6 and 0.4 alone
EST_LEVEL = 0.999


def test_estimate_agrees_with_simulation_on_mmc_region() -> None:
    """Zero travel, exponential on scene: ``estimate`` is exact Erlang C (separate: one M/M/2
    per community; pooled: one M/M/4), so it must lie in the simulation's interval. The
    interval is the 99.9 % t interval of the per-replication values (8 checks; a 95 % interval
    would fail one of them for ~1 seed in 3)."""
    data = mmc_region(
        EST_UNITS,
        EST_RATES,
        60.0,
        policies=("separate", "pooled"),
        horizon="25 d",
        warmup="3 d",
        seed=77,
        target=15.0,
    )
    comp = compare(scenario_from_dict(data), replications=6)
    est = comp.estimate.set_index(["option", "community", "fleet"])
    per_rep = incident_metrics(comp.raw.incidents)
    per_rep = per_rep[per_rep["priority"] == ALL]
    ci = with_ci(per_rep, ["option", "community", "metric"], level=EST_LEVEL)
    ci = ci.set_index(["option", "community", "metric"])
    checks = [
        ("pooled", ALL, "pooled"),
        ("separate", ALL, "separate"),
        ("separate", "a", "separate"),
        ("separate", "b", "separate"),
    ]
    for option, community, fleet in checks:
        for metric, column in (("waited", "p_wait"), ("mean_wait", "mean_wait")):
            analytic = float(est.loc[(option, community, fleet), column])
            lo, hi = ci.loc[(option, community, metric), ["ci_low", "ci_high"]]
            assert lo <= analytic <= hi, (
                f"estimate {column} of option {option!r}, community {community!r} "
                f"({analytic:.4g}) should lie in the simulation's {EST_LEVEL:.1%} interval "
                f"[{lo:.4g}, {hi:.4g}]"
            )
    # Erlang C exactly: the estimate is no approximation in this region
    pooled = mmc(4, sum(EST_RATES.values()), 60.0)
    assert est.loc[("pooled", ALL, "pooled"), "p_wait"] == pytest.approx(pooled.p_wait, rel=1e-9)
    head = comp.headline[comp.headline["priority"] == ALL].set_index("option")
    assert head.loc["pooled", "p_wait_erlang"] == pytest.approx(pooled.p_wait, rel=1e-9), (
        "headline P(wait) Erlang of a pooled option should be the pooled M/M/4 value"
    )
    separate = est.loc[("separate", ALL, "separate"), "p_wait"]
    assert head.loc["separate", "p_wait_erlang"] == pytest.approx(separate, rel=1e-9), (
        "headline P(wait) Erlang of a separate option should be the separate fleets' value"
    )
