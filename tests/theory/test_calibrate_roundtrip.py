"""Round trip: export a log from a known scenario, calibrate it back, recover the truth.

The truth is Two Towns with a daily and weekly demand profile, over a year. Each estimate is
checked against the truth with an interval computed from the data (an exact Poisson interval for
counts, a binomial interval for shares, t and chi-square intervals for lognormal parameters), at
99 % (Bonferroni-corrected where many are checked at once), never with a tolerance taken from the
value itself. The seed is fixed, so the tests are deterministic.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from sim.data.calibrate import Calibration, calibrate, write_calibration
from sim.data.export import export_log, write_log
from sim.runs.run import run
from sim.schema import load_scenario, scenario_from_dict
from tests.builders import shipped

HOURS = [round(1 + 0.5 * math.cos(2 * math.pi * (h - 15) / 24), 3) for h in range(24)]
DAYS = [1.0, 1.0, 1.0, 1.0, 1.2, 1.4, 0.8]
START = "2025-01-06T00:00+01:00"  # a Monday, in a fixed offset (no daylight saving)
COMMUNITIES = {
    "northtown": {"name": "Northtown", "population": 20000, "location": {"x": 0, "y": 0}},
    "southvale": {"name": "Southvale", "population": 8000, "location": {"x": 3, "y": -9}},
}


def truth_data() -> dict:
    data = shipped()
    data["profiles"] = {"ems": {"hour_of_day": HOURS, "day_of_week": DAYS}}
    data["services"]["ambulance"]["profile"] = "ems"
    return data


@pytest.fixture(scope="module")
def truth() -> dict:
    return truth_data()


@pytest.fixture(scope="module")
def roundtrip(
    tmp_path_factory: pytest.TempPathFactory, truth: dict
) -> tuple[Calibration, Path, pd.DataFrame]:
    tmp = tmp_path_factory.mktemp("roundtrip")
    frame, warnings = export_log(scenario_from_dict(truth), start=START)
    assert warnings == []
    write_log(frame, tmp / "log.csv")
    (tmp / "communities.yaml").write_text(yaml.safe_dump(COMMUNITIES), encoding="utf-8")
    cal = calibrate(tmp / "log.csv", communities=tmp / "communities.yaml")
    write_calibration(cal, tmp / "calibrated.yaml")
    return cal, tmp, frame


def poisson_interval(n: int, level: float) -> tuple[float, float]:
    a = (1 - level) / 2
    return float(stats.chi2.ppf(a, 2 * n) / 2), float(stats.chi2.ppf(1 - a, 2 * n + 2) / 2)


def test_written_scenario_is_valid_and_commented(roundtrip) -> None:
    _, tmp, _ = roundtrip
    scenario = load_scenario(tmp / "calibrated.yaml")
    assert set(scenario.communities) == {"northtown", "southvale"}
    assert set(scenario.incident_types) == {"emergency", "urgent"}
    text = (tmp / "calibrated.yaml").read_text(encoding="utf-8")
    assert "AIC" in text, "each fitted distribution states its fit quality"
    assert "KS D=" in text
    assert "95 % CI" in text, "each rate and parameter states its interval"
    assert scenario.run.horizon == 365 * 1440, "the horizon covers the log's days"


def test_rates_match_the_truth_within_poisson_intervals(roundtrip, truth) -> None:
    cal, tmp, _ = roundtrip
    written = load_scenario(tmp / "calibrated.yaml")
    years = cal.window.days / 365
    assert cal.window.days == 365
    for tid, t in truth["incident_types"].items():
        for cid, com in COMMUNITIES.items():
            n = cal.types[tid].counts[cid]
            expected = t["rate_per_1000"] * t["share"] * com["population"] / 1000 * years
            lo, hi = poisson_interval(n, 0.99)
            assert lo <= expected <= hi, f"{tid} in {cid}: {n} calls, truth {expected:.1f}"
            rate = written.incident_types[tid].rate_per_1000[cid]
            assert rate == pytest.approx(n / com["population"] * 1000 / years, rel=1e-3)


def test_hour_of_day_and_weekday_profiles_recover_the_shape(roundtrip) -> None:
    cal, tmp, _ = roundtrip
    svc = cal.services["ambulance"]
    written = load_scenario(tmp / "calibrated.yaml").profiles["ambulance"]
    n = svc.hours.sum()
    truth_share = np.array(HOURS) / sum(HOURS)
    chi = stats.chisquare(svc.hours, truth_share * n)
    assert chi.pvalue > 0.001, f"hour counts differ from the truth's shape (p={chi.pvalue:.2g})"
    level = 1 - 0.01 / 24  # Bonferroni over the 24 hours, 99 % in all
    for h in range(24):
        k = int(svc.hours[h])
        lo, hi = (
            stats.beta.ppf((1 - level) / 2, k, n - k + 1),
            stats.beta.ppf(1 - (1 - level) / 2, k + 1, n - k),
        )
        assert lo <= truth_share[h] <= hi, f"hour {h}: {k} of {n} calls"
        assert written.hour_of_day[h] == pytest.approx(24 * k / n, rel=1e-3)
    # weekdays: 365 days from a Monday hold 53 Mondays and 52 of every other day
    assert list(cal.window.weekdays) == [53, 52, 52, 52, 52, 52, 52]
    expected = np.array(DAYS) * cal.window.weekdays
    chi = stats.chisquare(svc.days, expected / expected.sum() * svc.days.sum())
    assert chi.pvalue > 0.001, f"weekday counts differ from the truth's (p={chi.pvalue:.2g})"
    assert np.argmax(written.day_of_week) == 5, "Saturday, the busiest day, comes out busiest"


def lognormal_interval(values: np.ndarray, level: float = 0.99) -> dict[str, tuple[float, float]]:
    logs = np.log(values[values > 0])
    n, mu, s = len(logs), logs.mean(), logs.std(ddof=1)
    half = stats.t.ppf(0.5 + level / 2, n - 1) * s / math.sqrt(n)
    a = (1 - level) / 2
    return {
        "median": (math.exp(mu - half), math.exp(mu + half)),
        "log_sd": (
            math.sqrt((n - 1) * s**2 / stats.chi2.ppf(1 - a, n - 1)),
            math.sqrt((n - 1) * s**2 / stats.chi2.ppf(a, n - 1)),
        ),
    }


def minutes(frame: pd.DataFrame, end: str, start: str) -> np.ndarray:
    a = pd.to_datetime(frame[end], format="ISO8601", utc=True)
    b = pd.to_datetime(frame[start], format="ISO8601", utc=True)
    return ((a - b).dt.total_seconds() / 60).to_numpy(dtype=float, na_value=np.nan)


@pytest.mark.parametrize(
    ("segment", "stages", "median", "log_sd"),
    [
        ("on_scene", ("on_scene", "left_scene"), 14.0, 0.51),
        ("call_handling", ("call_time", "call_processed"), 0.87, 0.43),
        ("turnout", ("dispatched", "en_route"), 0.83, 0.4),
        ("handover", ("at_hospital", "clear"), 32.3, 0.44),
    ],
)
def test_lognormal_stages_recover_median_and_log_sd(
    roundtrip, segment, stages, median, log_sd
) -> None:
    cal, _, frame = roundtrip
    seg = cal.types["urgent"].segments[segment]
    assert seg.level == "type"
    assert seg.spec is not None
    assert seg.spec["dist"] == "lognormal", f"{segment}: {seg.fit.comment()}"
    mine = frame[frame["incident_type"] == "urgent"]
    values = minutes(mine, stages[1], stages[0])
    values = values[np.isfinite(values)]
    ci = lognormal_interval(values)
    assert ci["median"][0] <= median <= ci["median"][1], f"{segment} median: {ci['median']}"
    assert ci["log_sd"][0] <= log_sd <= ci["log_sd"][1], f"{segment} log_sd: {ci['log_sd']}"
    best = seg.fit.best
    assert best is not None
    assert best.params["median"] == pytest.approx(
        float(np.exp(np.mean(np.log(values[values > 0])))), rel=1e-6
    )
    assert best.ci["median"][0] <= best.params["median"] <= best.ci["median"][1]


def test_transport_share_and_units_and_travel(roundtrip) -> None:
    cal, tmp, _ = roundtrip
    for tid in ("emergency", "urgent"):
        k, n = cal.types[tid].transport
        lo, hi = stats.beta.ppf(0.005, k, n - k + 1), stats.beta.ppf(0.995, k + 1, n - k)
        assert lo <= 0.65 <= hi, f"{tid}: {k} of {n} transported"
    scenario = load_scenario(tmp / "calibrated.yaml")
    units = {g.station: g.count for g in scenario.services["ambulance"].units}
    assert units == {"northtown": 2, "southvale": 1}, "units counted from the log's unit ids"
    assert scenario.dispatch["ambulance"].policy == "separate", "no unit crossed a border"
    assert scenario.facilities["hospital"].community == "northtown"
    m = scenario.travel.matrix
    assert m["northtown"]["northtown"] == pytest.approx(5.0, rel=0.1)
    assert m["southvale"]["southvale"] == pytest.approx(7.0, rel=0.1)
    assert "southvale" in m["northtown"], "a pair never travelled gets a distance-based time"


def test_report_shows_rows_fits_and_figures(roundtrip) -> None:
    _, tmp, _ = roundtrip
    html = (tmp / "calibrated.report.html").read_text(encoding="utf-8")
    assert "Every row of the log" in html
    assert html.count("data:image/png;base64,") >= 5, "profile and one figure per stage"
    for tid in ("emergency", "urgent"):
        assert tid in html
    assert "<script" not in html, "self-contained"
    assert "http" not in html.split("<body>", 1)[1], "self-contained"


def test_calibrated_scenario_runs(roundtrip) -> None:
    _, tmp, _ = roundtrip
    result = run(load_scenario(tmp / "calibrated.yaml"), replications=1, seed=1)
    assert len(result.incidents) > 2000
