"""``intersim compare``: common random numbers, honest intervals, consistent tables, the CLI.

Statistical tests draw their tolerance from the replications themselves (confidence intervals,
bootstrap bounds, binomial bands), never from the value they check. Every random input has a
fixed seed, so the tests are deterministic; the bands are chosen so that they would also hold
for almost every other seed.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from sim.analysis.costs import FORMULAS, cost_shares
from sim.analysis.metrics import ALL, incident_metrics
from sim.analysis.queueing import mmc
from sim.analysis.stats import paired_differences, with_ci
from sim.cli.main import main
from sim.comparison.compare import PRECISION_METRICS, Comparison, compare
from sim.engine.driver import compile_scenario
from sim.model.compile import MINUTES_PER_YEAR
from sim.runs.run import run
from sim.schema import scenario_from_dict

ROOT = Path(__file__).resolve().parent.parent
TWO_TOWNS = ROOT / "scenarios" / "two_towns.yaml"
FIVE_VALLEYS = ROOT / "scenarios" / "five_valleys.yaml"


# --- helpers -------------------------------------------------------------------------------------


def zero_travel(communities: list[str]) -> dict[str, dict[str, float]]:
    return {a: {b: 0.0 for b in communities[i:]} for i, a in enumerate(communities)}


def mmc_dict(
    units: dict[str, int],
    calls_per_minute: dict[str, float],
    mean_service: float,
    *,
    policies: tuple[str, ...],
    horizon: str,
    warmup: str,
    seed: int = 1,
    target: float | None = None,
) -> dict[str, Any]:
    """Erlang's delay system: Poisson calls, exponential on-scene time, and nothing else (zero
    travel, zero call handling, zero turnout), so ``pooled`` is one M/M/c of all units and
    ``separate`` one M/M/c_i per community. A response ``target`` (minutes) changes nothing
    in the dynamics."""
    communities = list(units)
    call: dict[str, Any] = {
        "service": "ambulance",
        "rate_per_year": {c: r * MINUTES_PER_YEAR for c, r in calls_per_minute.items()},
        "on_scene": {"dist": "exponential", "mean": mean_service},
    }
    if target is not None:
        call["target"] = {"minutes": target, "share": 0.9}
    return {
        "name": "M/M/c",
        "communities": {c: {"population": 10_000} for c in communities},
        "travel": {"matrix": zero_travel(communities)},
        "services": {
            "ambulance": {"units": [{"station": c, "count": n} for c, n in units.items()]}
        },
        "incident_types": {"call": call},
        "run": {"horizon": horizon, "warmup": warmup, "replications": 2, "seed": seed},
        "options": {p: {"dispatch": {"all": {"policy": p}}} for p in policies},
    }


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
    data = yaml.safe_load(FIVE_VALLEYS.read_text(encoding="utf-8"))
    data["run"]["horizon"] = "30 d"
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
    data = mmc_dict(
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
    data = mmc_dict(
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


def test_compare_works_without_response_targets() -> None:
    """Targets are optional; without any, within-target metrics are simply empty (NaN)."""
    data = mmc_dict(
        {"a": 1, "b": 1},
        {"a": 0.005, "b": 0.005},
        60.0,
        policies=("separate", "pooled"),
        horizon="10 d",
        warmup="1 d",
    )
    comp = compare(scenario_from_dict(data), replications=2)
    within = region_rows(comp.summary, "within_target")
    assert within["mean"].isna().all(), "no target: share within target is undefined (NaN)"
    assert region_rows(comp.summary, "mean_response")["mean"].notna().all()


# --- paired differences: verdicts on tables with known answers ---------------------------------


def per_rep_table(values: dict[str, list[float]], metric: str) -> pd.DataFrame:
    rows = [
        ("ambulance", ALL, ALL, option, metric, r, v)
        for option, vs in values.items()
        for r, v in enumerate(vs)
    ]
    return pd.DataFrame(
        rows,
        columns=["service", "priority", "community", "option", "metric", "replication", "value"],
    )


KEYS = ["option", "service", "priority", "community", "metric"]


def verdicts(values: dict[str, list[float]], metric: str, baseline: str = "base") -> pd.Series:
    out = paired_differences(per_rep_table(values, metric), KEYS, baseline)
    return out.set_index("option")["verdict"]


BASE = [10.0, 14.0, 8.0, 20.0, 12.0, 16.0]  # large replication-to-replication spread


def test_paired_differences_lower_is_better() -> None:
    v = verdicts(
        {
            "base": BASE,
            "faster": [
                b - 1.0 + e for b, e in zip(BASE, [0.1, -0.1, 0.05, 0.0, -0.05, 0.02], strict=True)
            ],
            "slower": [
                b + 2.0 + e for b, e in zip(BASE, [0.3, -0.2, 0.1, 0.0, -0.1, 0.2], strict=True)
            ],
            "same": [b + e for b, e in zip(BASE, [0.5, -0.5, 0.3, -0.3, 0.1, -0.1], strict=True)],
        },
        "mean_response",
    )
    assert v.to_dict() == {
        "faster": "better",
        "slower": "worse",
        "same": "no significant difference",
    }, "mean response: lower is better; a symmetric zero-mean difference is not significant"


def test_paired_differences_higher_is_better_and_neutral_metrics() -> None:
    up = [b + 0.05 for b in [0.8, 0.9, 0.7, 0.85]]
    ups = {
        "base": [0.8, 0.9, 0.7, 0.85],
        "up": [u + e for u, e in zip(up, [0.01, -0.01, 0.0, 0.005], strict=True)],
    }
    assert verdicts(ups, "within_target")["up"] == "better", "more within target is better"
    assert verdicts({"base": up, "down": ups["base"]}, "within_target")["down"] == "worse"
    neutral = {
        "base": [100.0, 120.0, 90.0],
        "more": [110.0, 131.0, 99.0],
        "fewer": [90.0, 109.0, 81.0],
    }
    v = verdicts(neutral, "incidents")
    assert v.to_dict() == {"more": "higher", "fewer": "lower"}, (
        "a metric with no better direction gets 'higher'/'lower', never better/worse"
    )


def test_paired_differences_pair_by_replication() -> None:
    """A constant +0.5 difference under huge common noise is significant only when paired."""
    slower = [b + 0.5 for b in BASE]
    out = paired_differences(
        per_rep_table({"base": BASE, "slower": slower}, "mean_response"), KEYS, "base"
    )
    row = out.iloc[0]
    assert row["verdict"] == "worse", "a constant paired difference of +0.5 min is significant"
    assert row["diff"] == pytest.approx(0.5)
    assert row["ci_low"] == pytest.approx(0.5)
    assert row["ci_high"] == pytest.approx(0.5), "zero-variance differences give a zero-width CI"
    assert row["option_mean"] == pytest.approx(np.mean(slower))
    assert row["baseline_mean"] == pytest.approx(np.mean(BASE))
    # an unpaired analysis of the same numbers would see nothing
    welch = stats.ttest_ind(slower, BASE, equal_var=False)
    assert welch.pvalue > 0.5


def test_paired_differences_interval_is_student_t() -> None:
    diffs = np.array([1.0, 3.0, -0.5, 2.0, 0.5])
    out = paired_differences(
        per_rep_table(
            {"base": BASE[:5], "other": list(np.array(BASE[:5]) + diffs)}, "p90_response"
        ),
        KEYS,
        "base",
    )
    half = stats.t.ppf(0.975, 4) * diffs.std(ddof=1) / math.sqrt(5)
    row = out.iloc[0]
    assert row["n"] == 5
    assert row["ci_low"] == pytest.approx(diffs.mean() - half)
    assert row["ci_high"] == pytest.approx(diffs.mean() + half)
    assert row["verdict"] == ("worse" if diffs.mean() - half > 0 else "no significant difference")


def test_paired_differences_single_replication_is_never_significant() -> None:
    v = verdicts({"base": [10.0], "other": [30.0]}, "mean_response")
    assert v["other"] == "no significant difference", "one replication gives no interval"


def test_with_ci_matches_student_t() -> None:
    values = [3.0, 5.0, 4.0, 8.0]
    out = with_ci(per_rep_table({"x": values}, "mean_wait"), KEYS)
    half = stats.t.ppf(0.975, 3) * np.std(values, ddof=1) / 2
    assert out.loc[0, "mean"] == pytest.approx(5.0)
    assert out.loc[0, "n"] == 4
    assert out.loc[0, "ci_low"] == pytest.approx(5.0 - half)
    assert out.loc[0, "ci_high"] == pytest.approx(5.0 + half)


# --- tables of one comparison ------------------------------------------------------------------

TT_REPS = 3


def short_two_towns(replications: int, horizon: str = "30 d") -> dict[str, Any]:
    """Two Towns as shipped, with a shorter horizon (7-day warm-up as shipped)."""
    data = yaml.safe_load(TWO_TOWNS.read_text(encoding="utf-8"))
    data["run"].update(horizon=horizon, replications=replications)
    return data


@pytest.fixture(scope="module")
def two_towns() -> Comparison:
    return compare(scenario_from_dict(short_two_towns(TT_REPS, "90 d")), replications=TT_REPS)


def test_summary_has_every_option_service_priority_community_and_all(two_towns: Comparison) -> None:
    s = two_towns.summary
    for col in (
        "option",
        "service",
        "priority",
        "community",
        "metric",
        "mean",
        "n",
        "ci_low",
        "ci_high",
    ):
        assert col in s, f"summary should have column {col!r}"
    options = ["separate", "mutual_aid", "pooled"]
    expected = {
        (o, "ambulance", p, c)
        for o in options
        for p in ("1", "2", ALL)
        for c in ("northtown", "southvale", ALL)
    }
    for metric in ("incidents", "mean_response", "p90_response", "within_target", "waited"):
        rows = s[s["metric"] == metric]
        got = set(
            zip(
                rows["option"],
                rows["service"],
                rows["priority"].astype(str),
                rows["community"],
                strict=True,
            )
        )
        assert got == expected, (
            f"summary of {metric}: one row per option x service x priority x community plus 'all'"
        )
        assert len(rows) == len(expected), f"summary of {metric}: no duplicate rows"
    assert (s["n"] == TT_REPS).all(), "every row has one value per replication"
    finite = s.dropna(subset=["ci_low", "ci_high"])
    assert (finite["ci_low"] <= finite["mean"] + 1e-9).all(), "ci_low <= mean"
    assert (finite["mean"] <= finite["ci_high"] + 1e-9).all(), "mean <= ci_high"
    calls = region_rows(s, "incidents").set_index("option")["mean"]
    assert calls.nunique() == 1, "common random numbers: every option sees the same number of calls"


def test_headline_has_one_row_per_option_and_service(two_towns: Comparison) -> None:
    head = two_towns.headline
    head = head[head["priority"] == ALL]  # per-priority rows: tests/test_decision_grade_*
    assert list(zip(head["service"], head["option"], strict=True)) == [
        ("ambulance", "separate"),
        ("ambulance", "mutual_aid"),
        ("ambulance", "pooled"),
    ], "headline: one row per option x service, options in scenario order"
    assert head.set_index("option").loc["separate", "vs_baseline"] == "baseline"
    assert set(head["vs_baseline"]) <= {"baseline", "better", "worse", "no significant difference"}
    assert head["p_wait_erlang"].between(0, 1).all()


def test_comparison_leaves_out_the_baseline(two_towns: Comparison) -> None:
    c = two_towns.comparison
    assert two_towns.baseline == "separate"
    assert set(c["option"]) == {"mutual_aid", "pooled"}, "the baseline is the reference, not a row"
    assert {"diff", "ci_low", "ci_high", "verdict", "option_mean", "baseline_mean"} <= set(c)


def test_baseline_can_be_chosen() -> None:
    comp = compare(scenario_from_dict(short_two_towns(2)), baseline="pooled")
    assert comp.baseline == "pooled"
    assert set(comp.comparison["option"]) == {"separate", "mutual_aid"}
    head = comp.headline[comp.headline["priority"] == ALL]
    assert head.set_index("option").loc["pooled", "vs_baseline"] == "baseline"


def test_cost_shares_sum_to_total_cost(two_towns: Comparison) -> None:
    raw = two_towns.raw
    scenario = scenario_from_dict(short_two_towns(TT_REPS, "90 d"))
    region = compile_scenario(scenario).region
    mix = dict(scenario.cost_sharing.mix)
    shares = cost_shares(raw.units, raw.incidents, raw.help, region, mix)
    total = raw.units.groupby(["replication", "option"], observed=True)["cost"].sum()
    total.index = total.index.set_levels(total.index.levels[1].astype(str), level=1)
    split = shares.groupby(["replication", "option", "formula"])["cost"].sum()
    assert set(shares["formula"]) == set(FORMULAS)
    assert len(split) == len(total) * len(FORMULAS)
    for (rep, option, formula), cost in split.items():
        assert cost == pytest.approx(total[(rep, option)], rel=1e-9), (
            f"replication {rep}, option {option}: the {formula} split should sum to the total "
            f"cost {total[(rep, option)]:.2f}, got {cost:.2f}"
        )
    share_sum = shares.groupby(["replication", "option", "formula"])["share"].sum()
    assert np.allclose(share_sum, 1.0), "shares of every formula should sum to 1"
    # and in the reported means
    mean_split = two_towns.shares.groupby(["option", "formula"])["mean"].sum()
    costs = two_towns.costs
    mean_total = costs[costs["metric"] == "cost"].groupby("option")["mean"].sum()
    for (option, formula), cost in mean_split.items():
        assert cost == pytest.approx(mean_total[option], rel=1e-9), (
            f"option {option}: mean {formula} shares should sum to the mean total cost"
        )


def test_help_matrix_sums_to_busy_unit_hours(two_towns: Comparison) -> None:
    raw = two_towns.raw
    helped = raw.help.groupby(["replication", "option", "service", "owner"])["unit_hours"].sum()
    units = raw.units.assign(
        option=raw.units["option"].astype(str),
        service=raw.units["service"].astype(str),
        owner=raw.units["owner"].astype(str),
    )
    busy = units.groupby(["replication", "option", "service", "owner"])["busy_min"].sum() / 60.0
    pd.testing.assert_series_equal(
        helped.sort_index(),
        busy.sort_index(),
        check_names=False,
        check_index_type=False,
        rtol=1e-9,
        obj="help (unit-hours) per replication x option x owner vs units busy_min / 60",
    )
    total_help = two_towns.help.groupby("option")["mean"].sum()
    total_busy = busy.groupby(level="option").sum() / TT_REPS
    pd.testing.assert_series_equal(
        total_help.sort_index(),
        total_busy.sort_index(),
        check_names=False,
        rtol=1e-9,
        obj="mean help per option vs mean busy unit-hours per option",
    )
    across = raw.help[raw.help["owner"] != raw.help["community"]]
    by_option = across.groupby("option")["unit_hours"].sum()
    assert by_option["separate"] == 0, "separate dispatch: no unit works for another community"
    assert by_option["pooled"] > 0, "pooled dispatch: units do help the neighbour"


def test_balance_is_antisymmetric(two_towns: Comparison) -> None:
    b = two_towns.balance.set_index(["option", "service", "owner", "community"])
    assert len(b) == 3 * 2, "one row per option x ordered pair of different communities"
    for (option, service, owner, community), row in b.iterrows():
        back = b.loc[(option, service, community, owner)]
        assert row["net_unit_hours"] == pytest.approx(-back["net_unit_hours"], abs=1e-9), (
            f"{option}: net help {owner}->{community} should be minus {community}->{owner}"
        )
        assert row["given"] == pytest.approx(back["received"], abs=1e-9)
        assert row["net_unit_hours"] == pytest.approx(row["given"] - row["received"], abs=1e-9)


# --- precision -----------------------------------------------------------------------------------


def relative_half_widths(summary: pd.DataFrame) -> pd.Series:
    s = summary[
        (summary["community"] == ALL)
        & (summary["priority"] == ALL)
        & summary["metric"].isin(PRECISION_METRICS)
    ]
    return ((s["ci_high"] - s["ci_low"]) / 2 / s["mean"].abs()).set_axis(
        list(zip(s["option"], s["metric"], strict=True))
    )


def test_precision_adds_replications_until_reached() -> None:
    """Starting from the scenario's 3 replications, which are not precise enough, compare adds
    replications until every headline half-width is within 5 % of its mean."""
    scenario = scenario_from_dict(short_two_towns(replications=3))
    comp = compare(scenario, precision=0.05, max_replications=40)
    print(f"\n--precision 0.05 on Two Towns (30 d): {comp.replications} replications")
    inc = comp.raw.incidents
    start = relative_half_widths(with_ci(incident_metrics(inc[inc["replication"] < 3]), KEYS))
    assert (start > 0.05).any(), "the test needs a case where 3 replications are not enough"
    assert comp.replications > 3, "replications should be added beyond the first 3"
    assert comp.precision_reached is True
    rel = relative_half_widths(comp.summary)
    assert (rel <= 0.05).all(), (
        f"every headline half-width should be within 5 % of its mean:\n{rel}"
    )
    assert len(rel) == 3 * len(PRECISION_METRICS), "3 options x the headline metrics are checked"
    assert not any("not reached" in w for w in comp.warnings)


def test_cli_precision_cap_is_reported_and_baseline_is_chosen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A precision that cannot be reached stops at --max-replications with a warning and
    precision_reached false in the manifest; --baseline makes another option the reference.
    (One command line for both: writing the figures and report makes each run slow.)"""
    scenario_file = tmp_path / "short.yaml"
    scenario_file.write_text(yaml.safe_dump(short_two_towns(replications=3)), encoding="utf-8")
    out = tmp_path / "out"
    code = main(["compare", str(scenario_file), "--precision", "0.001", "--max-replications",
                 "5", "--baseline", "mutual_aid", "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["precision_reached"] is False
    assert manifest["replications"] == 5, "the cap of 5 replications should be used in full"
    assert "warning: precision 0.001 not reached within 5 replications" in err, err
    assert any("not reached within 5" in w for w in manifest["warnings"])
    assert manifest["baseline"] == "mutual_aid"
    comparison = pd.read_csv(out / "comparison.csv")
    assert set(comparison["option"]) == {"separate", "pooled"}, (
        "--baseline mutual_aid is the reference, so it has no comparison rows"
    )


def test_precision_never_exceeds_max_replications() -> None:
    """The cap holds even when the scenario asks for more replications (run.replications 10)."""
    scenario = scenario_from_dict(short_two_towns(replications=10, horizon="20 d"))
    comp = compare(scenario, precision=0.001, max_replications=4)
    assert comp.precision_reached is False
    assert comp.replications <= 4, (
        f"--max-replications 4 should cap the replications at 4, ran {comp.replications}"
    )


# --- command line -----------------------------------------------------------------------------

COMPARE_FILES = (
    "summary.csv",
    "comparison.csv",
    "unit_summary.csv",
    "help.csv",
    "costs.csv",
    "shares.csv",
    "equity.csv",
    "estimate.csv",
    "manifest.json",
    "incidents.parquet",
    "units.parquet",
)


def test_cli_compare_writes_every_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "result"
    code = main(["compare", str(TWO_TOWNS), "--replications", "2", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    for name in COMPARE_FILES:
        assert (out / name).is_file(), f"compare should write {name}"
        assert (out / name).stat().st_size > 0, f"{name} should not be empty"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["replications"] == 2
    assert manifest["baseline"] == "separate"
    assert manifest["options"] == ["separate", "mutual_aid", "pooled"]
    comparison = pd.read_csv(out / "comparison.csv")
    assert set(comparison["option"]) == {"mutual_aid", "pooled"}
    incidents = pd.read_parquet(out / "incidents.parquet")
    assert set(incidents["replication"]) == {0, 1}
    assert "separate" in capsys.readouterr().out
    assert not list(tmp_path.glob(".*")), "no temporary directory should be left behind"


def test_cli_compare_unknown_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "result"
    code = main(
        ["compare", str(TWO_TOWNS), "--replications", "2", "--baseline", "nope", "--out", str(out)]
    )
    err = capsys.readouterr().err
    assert code == 2, "an unknown --baseline is an input error (exit 2)"
    assert "unknown option 'nope'" in err, err
    assert "known: separate, mutual_aid, pooled" in err, f"the message lists the options: {err}"
    assert len(err.strip().splitlines()) == 1, f"one clear line, no traceback: {err}"
    assert not out.exists(), "nothing is written"


def test_cli_compare_refuses_non_empty_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "result"
    out.mkdir()
    (out / "keep.txt").write_text("earlier work", encoding="utf-8")
    code = main(["compare", str(TWO_TOWNS), "--replications", "2", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, "a non-empty --out without --overwrite is an input error"
    assert "--overwrite" in err, err
    assert [p.name for p in out.iterdir()] == ["keep.txt"], "the directory is left untouched"
    assert (out / "keep.txt").read_text(encoding="utf-8") == "earlier work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result"], "nothing else is written"


def test_cli_estimate_is_instant(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    code = main(["estimate", str(TWO_TOWNS)])
    seconds = time.perf_counter() - started
    captured = capsys.readouterr()
    print(f"\nintersim estimate two_towns.yaml: {seconds * 1000:.0f} ms")
    assert code == 0
    assert seconds < 5.0, (
        f"estimate should be near-instant (sanity bound 5 s), took {seconds:.2f} s"
    )
    for word in ("separate", "pooled", "p_wait", "utilisation"):
        assert word in captured.out
    assert "warning" not in captured.err, "two towns is not overloaded"


@pytest.mark.parametrize("utilisation", [1.0, 1.2])
def test_cli_estimate_warns_when_overloaded(
    utilisation: float, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rate = utilisation / 60.0  # per community: one unit each; pooled twice that on 2 units
    data = mmc_dict(
        {"a": 1, "b": 1},
        {"a": rate, "b": rate},
        60.0,
        policies=("separate", "pooled"),
        horizon="30 d",
        warmup="1 d",
    )
    path = tmp_path / "overloaded.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    code = main(["estimate", str(path)])
    err = capsys.readouterr().err
    assert code == 0
    assert "overloaded" in err, f"an overloaded fleet should be warned about: {err!r}"
    assert "warning: option 'pooled'" in err, f"the pooled option is overloaded: {err!r}"
    assert "warning: option 'separate'" in err, f"the separate option is overloaded: {err!r}"
    assert f"utilisation {utilisation:.2f} >= 1" in err, err
