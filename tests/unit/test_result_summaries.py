"""The summaries the figures are drawn from instead of the per-incident table: the response
histogram (exact counts on a 6-second grid) and the hours around a surge. Counted per
replication and added up, they equal what the pooled incidents give; read back, a curve or a
quantile is at most one bin from the exact one."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis.responses import BIN, distribution, response_counts, response_histogram
from sim.analysis.surges import surge_counts, surge_timeline, surge_windows


def _incidents(n: int, replications: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    response = rng.lognormal(2.0, 0.6, n)
    response[rng.random(n) < 0.03] = np.nan  # never reached
    t_call = np.sort(rng.uniform(0, 3000.0, n))
    wait = np.where(rng.random(n) < 0.2, rng.exponential(30.0, n), 0.0)
    return pd.DataFrame(
        {
            "replication": rng.integers(0, replications, n),
            "option": pd.Categorical(rng.choice(["separate", "pooled"], n)),
            "service": pd.Categorical(rng.choice(["ambulance", "police"], n)),
            "priority": rng.integers(1, 3, n).astype(np.int8),
            "community": pd.Categorical(rng.choice(["north", "south"], n)),
            "t_call": t_call,
            "t_ready": t_call + 1.0,
            "t_dispatch": np.where(np.isnan(response), np.nan, t_call + 1.0 + wait),
            "response": response,
            "warmup": t_call < 100.0,
        }
    )


def test_histograms_of_replications_add_up_to_the_pooled_one() -> None:
    inc = _incidents(20_000, 4)
    parts = [response_counts(g) for _, g in inc.groupby("replication")]
    assert_frame_equal = pd.testing.assert_frame_equal
    assert_frame_equal(response_histogram(parts), response_histogram([response_counts(inc)]))
    hist = response_histogram(parts)
    assert hist["calls"].sum() == (~inc["warmup"]).sum(), "every call after the warm-up, once"
    never = hist["response_from"].isna()
    assert hist.loc[never, "calls"].sum() == inc.loc[~inc["warmup"], "response"].isna().sum()
    width = hist.loc[~never, "response_to"] - hist.loc[~never, "response_from"]
    np.testing.assert_allclose(width, BIN)


@pytest.mark.parametrize("max_points", [50, 10_000])
def test_the_curve_is_within_one_bin_of_the_exact_ecdf(max_points: int) -> None:
    inc = _incidents(20_000, 2)
    r = inc.loc[~inc["warmup"], "response"].to_numpy()
    x, y = distribution(response_histogram([response_counts(inc)])).ecdf(max_points)
    assert 10 < len(x) <= max_points
    eps = 1e-9
    exact_at = np.array([(r <= v + eps).sum() for v in x]) / len(r)
    exact_before = np.array([(r < v - BIN - eps).sum() for v in x]) / len(r)
    assert np.all(y <= exact_at + 1e-12), "never more calls than were reached by x"
    assert np.all(y >= exact_before - 1e-12), "at least the calls reached one bin before x"
    assert y[-1] == pytest.approx(np.isfinite(r).mean()), "calls never reached stay out"


def test_quantiles_are_the_upper_edge_of_their_bin() -> None:
    inc = _incidents(5_000, 1)
    r = inc.loc[~inc["warmup"], "response"].to_numpy()
    dist = distribution(response_histogram([response_counts(inc)]))
    late = np.where(np.isnan(r), np.inf, r)
    for q in (0.005, 0.1, 0.5, 0.9, 0.95):
        exact = float(np.quantile(late, q, method="higher"))
        got = dist.quantile(q)
        assert exact <= got + 1e-9 < exact + BIN + 1e-9, f"q={q}: {got} for {exact}"
        finite = float(np.quantile(r[np.isfinite(r)], q, method="higher"))
        assert finite <= dist.quantile(q, reached_only=True) + 1e-9 < finite + BIN + 1e-9
    assert math.isinf(dist.quantile(0.99)), "3 % never reached: the 99th percentile is never"


def test_waiting_calls_per_hour_by_hand() -> None:
    # one replication; a window of three hours from minute 0: one call waits from minute 30
    # to 150, one from 160 until the horizon (never sent), one called in the warm-up is left out
    inc = pd.DataFrame(
        {
            "replication": [0, 0, 0],
            "option": ["separate"] * 3,
            "service": ["ambulance"] * 3,
            "t_call": [29.0, 159.0, -10.0],
            "t_ready": [30.0, 160.0, 30.0],
            "t_dispatch": [150.0, np.nan, 150.0],
            "response": [130.0, np.nan, 170.0],
            "warmup": [False, False, True],
        }
    )
    window = {"number": 1, "lo": 0.0, "hi": 180.0}
    counts = surge_counts(inc, [window], horizon=170.0)
    table = surge_timeline([counts], replications=1)
    assert list(table["start"]) == [0.0, 60.0, 120.0]
    np.testing.assert_allclose(table["waiting_calls"], [30 / 60, 60 / 60, (30 + 10) / 60])
    assert list(table["calls"]) == [1, 0, 1]
    assert list(table["reached"]) == [1, 0, 0]
    assert table["mean_response"].iloc[0] == 130.0
    assert table["mean_response"].iloc[1:].isna().all(), "no call reached: no mean"
    twice = surge_timeline([counts, counts], replications=2)
    np.testing.assert_allclose(twice["waiting_calls"], table["waiting_calls"])
    assert list(twice["calls"]) == [2, 0, 2], "calls over all replications"


def test_surges_close_together_make_one_window_inside_the_run() -> None:
    surges = [
        {"name": "storm day 1", "start": 3000.0, "end": 3600.0, "services": ["police"]},
        {"name": "storm day 2", "start": 4000.0, "end": 4300.0, "services": ["fire"]},
        {"name": "fair", "start": 9000.0, "end": 9100.0, "services": None},
    ]
    bursts = [{"name": "crash", "time": 3100.0, "service": "ambulance"}]
    first, second = surge_windows(surges, bursts, warmup=2000.0, horizon=10_000.0)
    assert first["names"] == ["storm day 1", "storm day 2"]
    assert first["services"] == {"police", "fire"}
    assert (first["lo"], first["hi"]) == (2000.0, 4300.0 + 1440.0), "from the warm-up on"
    assert [b["name"] for b in first["bursts"]] == ["crash"]
    assert second["services"] is None, "a surge of every service"
    assert (second["number"], second["hi"]) == (2, 10_000.0), "to the horizon"
