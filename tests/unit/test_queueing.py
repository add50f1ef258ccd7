"""M/M/c closed forms in sim.queueing, checked against published values, independent
formulas (exact rationals, scipy's Poisson distribution, the Halfin-Whitt limit) and
properties that hold for every valid input."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate
from scipy.stats import norm, poisson

from sim.analysis import queueing
from sim.analysis.queueing import (
    MMcResult,
    erlang_b,
    erlang_c,
    min_servers,
    mmc,
    mmc_mean_queue,
    mmc_mean_wait,
    mmc_prob_wait_exceeds,
    mmc_wait_quantile,
    square_root_staffing,
    utilisation,
)

# Offered loads and server counts small enough that hypothesis runs quickly.
loads = st.floats(min_value=1e-3, max_value=200.0, allow_nan=False, allow_infinity=False)
rates = st.floats(min_value=1e-2, max_value=50.0, allow_nan=False, allow_infinity=False)
services = st.floats(min_value=1e-2, max_value=10.0, allow_nan=False, allow_infinity=False)
extra_servers = st.integers(min_value=0, max_value=60)


def stable_c(load: float, extra: int) -> int:
    """The smallest stable server count for ``load``, plus ``extra``."""
    return math.floor(load) + 1 + extra


def exact_erlang_b(c: int, load: Fraction) -> Fraction:
    """Erlang B from its textbook definition with factorials, in exact arithmetic."""
    terms = [load**k / math.factorial(k) for k in range(c + 1)]
    return terms[c] / sum(terms)


def exact_erlang_c(c: int, load: Fraction) -> Fraction:
    """Erlang C from its textbook definition with factorials, in exact arithmetic."""
    tail = load**c / math.factorial(c) * c / (c - load)
    return tail / (sum(load**k / math.factorial(k) for k in range(c)) + tail)


# --- the public namespace --------------------------------------------------------------------


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name, obj in vars(queueing).items()
        if not name.startswith("_") and getattr(obj, "__module__", None) == queueing.__name__
    }
    assert set(queueing.__all__) == public, "__all__ should list every public name, no more"
    assert queueing.__all__ == sorted(queueing.__all__), "__all__ should be sorted"


# --- published and closed-form values --------------------------------------------------------


@pytest.mark.parametrize(
    ("c", "published", "decimals"),
    [(1, 0.50, 2), (2, 0.33, 2), (4, 0.17, 2), (8, 0.06, 2), (16, 0.009, 3)],
)
def test_erlang_c_at_half_utilisation_matches_published_table(
    c: int, published: float, decimals: int
) -> None:
    # Erlang C tables as quoted in /work/shared/DOMAIN.md ("Pooling: what theory ... say").
    p_wait = erlang_c(c, 0.5 * c)
    assert round(p_wait, decimals) == published, (
        f"P(wait) for c={c} at 50 % utilisation should print as {published}, got {p_wait}"
    )
    assert mmc(c, 0.5 * c, 1.0).p_wait == p_wait, "mmc().p_wait should equal erlang_c()"


def test_erlang_b_known_value() -> None:
    assert erlang_b(10, 5.0) == pytest.approx(0.01838, abs=5e-6), (
        "B(10, 5 Erlangs) should be 0.01838 (Erlang B tables)"
    )


@pytest.mark.parametrize("load", [0.1, 0.5, 1.0, 3.0, 25.0])
def test_erlang_b_single_server_closed_form(load: float) -> None:
    assert erlang_b(1, load) == pytest.approx(load / (1 + load), rel=1e-12), (
        "B(1, a) should equal a / (1 + a)"
    )


@pytest.mark.parametrize("c", [1, 2, 3, 5, 8, 13, 21])
@pytest.mark.parametrize("load", [Fraction(1, 10), Fraction(7, 4), Fraction(19, 2)])
def test_erlang_b_and_c_match_exact_factorial_formulas(c: int, load: Fraction) -> None:
    assert erlang_b(c, float(load)) == pytest.approx(float(exact_erlang_b(c, load)), rel=1e-12), (
        f"recursive Erlang B should equal the exact factorial formula for c={c}, a={load}"
    )
    if load < c:
        assert erlang_c(c, float(load)) == pytest.approx(
            float(exact_erlang_c(c, load)), rel=1e-12
        ), f"Erlang C should equal the exact factorial formula for c={c}, a={load}"


@pytest.mark.parametrize("rho", [0.05, 0.3, 0.5, 0.8, 0.99])
def test_mm1_closed_forms(rho: float) -> None:
    mu = 2.0
    lam = rho * mu
    result = mmc(1, lam, 1 / mu)
    assert result.p_wait == pytest.approx(rho, rel=1e-12), "M/M/1 P(wait) should equal rho"
    assert result.mean_wait == pytest.approx(rho / (mu - lam), rel=1e-12), (
        "M/M/1 Wq should equal rho / (mu - lambda)"
    )
    assert result.mean_queue == pytest.approx(rho**2 / (1 - rho), rel=1e-12), (
        "M/M/1 Lq should equal rho^2 / (1 - rho)"
    )
    assert result.mean_in_system == pytest.approx(rho / (1 - rho), rel=1e-12), (
        "M/M/1 L should equal rho / (1 - rho)"
    )
    assert result.utilisation == pytest.approx(rho, rel=1e-12), "M/M/1 utilisation is rho"


def test_mm1_wait_quantile_closed_form() -> None:
    # rho = 0.5, mu = 1: P(W > t) = 0.5 exp(-0.5 t), so the 90th percentile is 2 ln 5.
    assert mmc_wait_quantile(1, 0.5, 1.0, 0.9) == pytest.approx(2 * math.log(5), rel=1e-12), (
        "M/M/1 (rho 0.5, mu 1) 90th percentile wait should be 2 ln 5"
    )
    assert mmc_wait_quantile(1, 0.5, 1.0, 0.5) == 0.0, (
        "with half the arrivals not waiting, the median wait should be 0"
    )


def test_min_servers_known_case() -> None:
    # Load 2 Erlangs: C(3, 2) = 0.44 and C(4, 2) = 0.17 (published table), so 4 servers
    # are the fewest with P(wait) <= 0.2.
    assert min_servers(1.0, 2.0, max_prob_wait=0.2) == 4, "load 2, P(wait) <= 0.2 needs 4"
    assert min_servers(1.0, 2.0) == 3, "load 2 with no criterion needs 3 servers to be stable"
    assert min_servers(0.1, 1.0) == 1, "load 0.1 with no criterion needs 1 server"


@pytest.mark.parametrize(
    ("load", "beta", "expected"),
    [(100.0, 1.0, 110), (4.0, 0.5, 5), (10000.0, 2.0, 10200), (0.5, 0.0, 1), (2.3, 0.0, 3)],
)
def test_square_root_staffing_values(load: float, beta: float, expected: int) -> None:
    assert square_root_staffing(load, beta) == expected, (
        f"ceil({load} + {beta} * sqrt({load})) should be {expected}"
    )


# --- large c: stable and still exact ---------------------------------------------------------


@pytest.mark.parametrize(("c", "load"), [(5000, 4900.0), (10000, 9900.0), (10000, 100.0)])
def test_large_c_is_finite_and_matches_poisson_form(c: int, load: float) -> None:
    b = erlang_b(c, load)
    p_wait = erlang_c(c, load)
    assert math.isfinite(b), f"B({c}, {load}) should be finite"
    assert 0.0 <= b <= 1.0, f"B({c}, {load}) should be in [0, 1], got {b}"
    assert math.isfinite(p_wait), f"C({c}, {load}) should be finite"
    assert 0.0 <= p_wait <= 1.0, f"C({c}, {load}) should be in [0, 1], got {p_wait}"
    # Independent form: B(c, a) = P(N = c) / P(N <= c) for N ~ Poisson(a).
    reference = math.exp(poisson.logpmf(c, load) - poisson.logcdf(c, load))
    assert b == pytest.approx(reference, rel=1e-9, abs=1e-300), (
        f"B({c}, {load}) should equal Poisson pmf/cdf {reference}"
    )
    result = mmc(c, load, 1.0)
    assert math.isfinite(result.mean_wait), "mean wait should be finite for a stable large system"


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
def test_square_root_staffing_approaches_halfin_whitt_limit(beta: float) -> None:
    load = 10_000.0
    c = square_root_staffing(load, beta)
    limit = 1 / (1 + beta * norm.cdf(beta) / norm.pdf(beta))
    # The approximation error is of order 1 / sqrt(load).
    assert erlang_c(c, load) == pytest.approx(limit, abs=1 / math.sqrt(load)), (
        f"with beta={beta}, P(wait) should be near the Halfin-Whitt value {limit:.4f}"
    )


# --- overload --------------------------------------------------------------------------------


@pytest.mark.parametrize(("c", "arrival_rate"), [(1, 1.0), (2, 2.0), (2, 3.5), (10, 50.0)])
def test_overloaded_system_waits_for_ever(c: int, arrival_rate: float) -> None:
    result = mmc(c, arrival_rate, 1.0)
    assert result.overloaded, f"load {arrival_rate} on {c} servers should be overloaded"
    assert result.p_wait == 1.0, "an overloaded system should have P(wait) = 1"
    assert erlang_c(c, arrival_rate) == 1.0, "erlang_c should be 1 when load >= c"
    assert math.isinf(result.mean_wait), "an overloaded system should have infinite mean wait"
    assert math.isinf(result.mean_queue), "an overloaded system should have infinite queue"
    assert math.isinf(result.mean_in_system), "an overloaded system has infinite L"
    assert math.isinf(mmc_mean_wait(c, arrival_rate, 1.0)), "mmc_mean_wait should be inf"
    assert math.isinf(mmc_mean_queue(c, arrival_rate, 1.0)), "mmc_mean_queue should be inf"
    assert math.isinf(mmc_wait_quantile(c, arrival_rate, 1.0, 0.5)), "quantiles should be inf"
    assert mmc_prob_wait_exceeds(c, arrival_rate, 1.0, 100.0) == 1.0, "P(W > t) should be 1"
    assert utilisation(c, arrival_rate, 1.0) >= 1.0, "utilisation should be >= 1 when overloaded"


# --- properties ------------------------------------------------------------------------------


@given(c=st.integers(min_value=1, max_value=300), load=loads)
def test_probabilities_are_in_unit_interval(c: int, load: float) -> None:
    b, p_wait = erlang_b(c, load), erlang_c(c, load)
    assert 0.0 <= b <= 1.0, f"B({c}, {load}) should be in [0, 1], got {b}"
    assert 0.0 <= p_wait <= 1.0, f"C({c}, {load}) should be in [0, 1], got {p_wait}"


@given(load=loads, extra=extra_servers)
def test_erlang_c_at_least_erlang_b(load: float, extra: int) -> None:
    c = stable_c(load, extra)
    b, p_wait = erlang_b(c, load), erlang_c(c, load)
    assert p_wait >= b * (1 - 1e-12), f"C({c}, {load}) = {p_wait} should be >= B = {b}"


@given(load=loads, extra=extra_servers)
def test_p_wait_decreases_with_more_servers(load: float, extra: int) -> None:
    c = stable_c(load, extra)
    now, more = erlang_c(c, load), erlang_c(c + 1, load)
    assert more <= now, f"P(wait) should not rise from c={c} ({now}) to c={c + 1} ({more})"
    if now > 1e-290:  # below that both may round to zero
        assert more < now, f"P(wait) should fall strictly from c={c} to c={c + 1}"


@given(arrival_rate=rates, mean_service=services, extra=extra_servers)
def test_mean_wait_decreases_with_more_servers(
    arrival_rate: float, mean_service: float, extra: int
) -> None:
    c = stable_c(arrival_rate * mean_service, extra)
    now = mmc_mean_wait(c, arrival_rate, mean_service)
    more = mmc_mean_wait(c + 1, arrival_rate, mean_service)
    assert more <= now, f"mean wait should not rise from c={c} ({now}) to c={c + 1} ({more})"


@given(arrival_rate=rates, mean_service=services, extra=extra_servers)
def test_littles_law_and_result_consistency(
    arrival_rate: float, mean_service: float, extra: int
) -> None:
    c = stable_c(arrival_rate * mean_service, extra)
    r = mmc(c, arrival_rate, mean_service)
    assert not r.overloaded, "c > load should not be overloaded"
    assert r.mean_queue == pytest.approx(arrival_rate * r.mean_wait, rel=1e-12), (
        "Little's law: Lq should equal lambda * Wq"
    )
    assert r.mean_in_system == pytest.approx(arrival_rate * r.mean_time_in_system, rel=1e-9), (
        "Little's law: L should equal lambda * W"
    )
    assert r.mean_in_system == pytest.approx(r.mean_queue + r.load, rel=1e-12), (
        "L should equal Lq + a"
    )
    assert r.utilisation == pytest.approx(r.load / c, rel=1e-12), "utilisation should be a/c"
    assert r.utilisation < 1.0, "a stable system should have utilisation < 1"
    assert r.mean_wait == mmc_mean_wait(c, arrival_rate, mean_service), "mmc vs mmc_mean_wait"
    assert r.mean_queue == mmc_mean_queue(c, arrival_rate, mean_service), "mmc vs mmc_mean_queue"
    assert r.p_wait == mmc_prob_wait_exceeds(c, arrival_rate, mean_service, 0.0), (
        "P(W > 0) should equal P(wait)"
    )


@given(
    arrival_rate=rates,
    mean_service=services,
    extra=st.integers(min_value=0, max_value=5),
    q=st.floats(min_value=0.0, max_value=0.999999),
)
def test_wait_quantile_inverts_the_tail(
    arrival_rate: float, mean_service: float, extra: int, q: float
) -> None:
    c = stable_c(arrival_rate * mean_service, extra)
    t = mmc_wait_quantile(c, arrival_rate, mean_service, q)
    assert t >= 0.0, f"the {q}-quantile of the wait should be >= 0, got {t}"
    p_wait = erlang_c(c, arrival_rate * mean_service)
    if t > 0.0:
        tail = mmc_prob_wait_exceeds(c, arrival_rate, mean_service, t)
        assert tail == pytest.approx(1 - q, rel=1e-9), (
            f"P(W > t_q) should equal 1 - q = {1 - q}, got {tail}"
        )
    else:
        assert p_wait <= 1 - q + 1e-15, (
            f"a zero {q}-quantile needs P(wait) = {p_wait} <= 1 - q (atom at zero)"
        )


def test_wait_quantile_edge_levels() -> None:
    assert mmc_wait_quantile(3, 1.0, 1.0, 0.0) == 0.0, "the 0-quantile of a wait should be 0"
    assert math.isinf(mmc_wait_quantile(3, 1.0, 1.0, 1.0)), "the 1-quantile should be inf"


@pytest.mark.parametrize(("c", "arrival_rate", "mean_service"), [(1, 0.5, 1.0), (4, 3.0, 1.2)])
def test_tail_integrates_to_mean_wait(c: int, arrival_rate: float, mean_service: float) -> None:
    area, _ = integrate.quad(
        lambda t: mmc_prob_wait_exceeds(c, arrival_rate, mean_service, t), 0.0, np.inf
    )
    assert area == pytest.approx(mmc_mean_wait(c, arrival_rate, mean_service), rel=1e-8), (
        "the integral of P(W > t) over t should equal the mean wait Wq"
    )


@given(
    arrival_rate=rates,
    mean_service=services,
    max_prob_wait=st.none() | st.floats(min_value=1e-6, max_value=1.0),
    max_mean_wait=st.none() | st.floats(min_value=1e-4, max_value=10.0),
)
def test_min_servers_is_the_smallest_meeting_the_criteria(
    arrival_rate: float,
    mean_service: float,
    max_prob_wait: float | None,
    max_mean_wait: float | None,
) -> None:
    c = min_servers(
        arrival_rate, mean_service, max_prob_wait=max_prob_wait, max_mean_wait=max_mean_wait
    )

    def meets(n: int) -> bool:
        r = mmc(n, arrival_rate, mean_service)
        return (
            not r.overloaded
            and (max_prob_wait is None or r.p_wait <= max_prob_wait)
            and (max_mean_wait is None or r.mean_wait <= max_mean_wait)
        )

    assert meets(c), f"min_servers returned c={c}, which should meet the criteria"
    assert c == 1 or not meets(c - 1), f"c - 1 = {c - 1} should fail the criteria"


@given(load=st.floats(min_value=1e-3, max_value=1e5), beta=st.floats(min_value=0, max_value=5))
def test_square_root_staffing_is_the_ceiling(load: float, beta: float) -> None:
    c = square_root_staffing(load, beta)
    target = load + beta * math.sqrt(load)
    assert c >= 1, "square-root staffing should give at least one server"
    assert c >= target, f"c={c} should be >= R + beta sqrt(R) = {target}"
    assert c == 1 or c - 1 < target, f"c - 1 = {c - 1} should be < R + beta sqrt(R) = {target}"


# --- argument handling -----------------------------------------------------------------------


def test_numpy_scalars_are_accepted() -> None:
    assert erlang_c(np.int64(4), np.float64(2.0)) == erlang_c(4, 2.0), (
        "numpy integers and floats should work like Python ones"
    )


def test_result_is_frozen() -> None:
    result = mmc(2, 1.0, 1.0)
    assert isinstance(result, MMcResult), "mmc should return an MMcResult"
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.p_wait = 0.0  # type: ignore[misc]


NAN, INF = math.nan, math.inf


@pytest.mark.parametrize(
    ("call", "names"),
    [
        (lambda: erlang_b(0, 1.0), "c"),
        (lambda: erlang_b(-3, 1.0), "c"),
        (lambda: erlang_b(2.0, 1.0), "c"),
        (lambda: erlang_b(True, 1.0), "c"),
        (lambda: erlang_b("3", 1.0), "c"),
        (lambda: erlang_b(2, 0.0), "load"),
        (lambda: erlang_b(2, -1.0), "load"),
        (lambda: erlang_b(2, NAN), "load"),
        (lambda: erlang_c(2, INF), "load"),
        (lambda: erlang_c(0, 1.0), "c"),
        (lambda: mmc(2, 0.0, 1.0), "arrival_rate"),
        (lambda: mmc(2, -1.0, 1.0), "arrival_rate"),
        (lambda: mmc(2, INF, 1.0), "arrival_rate"),
        (lambda: mmc(2, 1.0, 0.0), "mean_service"),
        (lambda: mmc(2, 1.0, NAN), "mean_service"),
        (lambda: mmc(2, 1e200, 1e200), "offered load"),
        (lambda: mmc(1.5, 1.0, 1.0), "c"),
        (lambda: utilisation(0, 1.0, 1.0), "c"),
        (lambda: mmc_mean_wait(2, 1.0, -2.0), "mean_service"),
        (lambda: mmc_mean_queue(2, NAN, 1.0), "arrival_rate"),
        (lambda: mmc_wait_quantile(2, 1.0, 1.0, 1.5), "q"),
        (lambda: mmc_wait_quantile(2, 1.0, 1.0, -0.1), "q"),
        (lambda: mmc_wait_quantile(2, 1.0, 1.0, NAN), "q"),
        (lambda: mmc_prob_wait_exceeds(2, 1.0, 1.0, -1.0), "t"),
        (lambda: mmc_prob_wait_exceeds(2, 1.0, 1.0, NAN), "t"),
        (lambda: min_servers(0.0, 1.0), "arrival_rate"),
        (lambda: min_servers(1.0, 1.0, max_prob_wait=0.0), "max_prob_wait"),
        (lambda: min_servers(1.0, 1.0, max_prob_wait=1.5), "max_prob_wait"),
        (lambda: min_servers(1.0, 1.0, max_mean_wait=0.0), "max_mean_wait"),
        (lambda: min_servers(1.0, 1.0, max_mean_wait=INF), "max_mean_wait"),
        (lambda: square_root_staffing(0.0, 1.0), "load"),
        (lambda: square_root_staffing(10.0, -1.0), "beta"),
        (lambda: square_root_staffing(10.0, NAN), "beta"),
    ],
)
def test_invalid_arguments_raise_value_error_naming_the_argument(
    call: Callable[[], object], names: str
) -> None:
    with pytest.raises(ValueError, match=rf"^{names}\b"):
        call()
