"""M/M/c queueing theory: closed forms used to check the simulation and to size services.

Pure functions, no simulation. The model is Erlang's delay system M/M/c: Poisson arrivals at
rate ``arrival_rate``, exponential service times with mean ``mean_service``, ``c`` identical
servers, an unlimited first-come-first-served queue and no abandonment. Times are in whatever
unit the rate and the mean service time share (minutes throughout intersim); a waiting time
comes back in that unit.

Notation: ``lambda`` = arrival rate, ``mu = 1 / mean_service``, offered load
``a = lambda / mu`` (Erlangs), utilisation ``rho = a / c``. The system is stable only when
``a < c``; with ``a >= c`` it is *overloaded*: the queue grows without bound, every arrival
eventually waits, and mean waits are reported as ``math.inf``.

Erlang B comes from the recursion ``B(0) = 1``, ``B(k) = a B(k-1) / (k + a B(k-1))``, which
never forms a factorial or a power, cannot overflow, and costs O(c): c = 10,000 takes a few
milliseconds. Erlang C is derived from it as ``C = c B / (c - a + a B)``, with ``c - a`` formed
directly so that nothing cancels near saturation.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from numbers import Integral, Real

__all__ = [
    "MMcResult",
    "erlang_b",
    "erlang_c",
    "min_servers",
    "mmc",
    "mmc_mean_queue",
    "mmc_mean_wait",
    "mmc_prob_wait_exceeds",
    "mmc_wait_quantile",
    "square_root_staffing",
    "utilisation",
]


# --- argument checks -------------------------------------------------------------------------


def _check_servers(c: object) -> int:
    """Return ``c`` as an ``int`` if it is an integer >= 1, else raise ``ValueError``."""
    if isinstance(c, bool) or not isinstance(c, Integral):
        raise ValueError(f"c (number of servers) must be an integer >= 1, got {c!r}")
    if c < 1:
        raise ValueError(f"c (number of servers) must be an integer >= 1, got {c}")
    return int(c)


def _check_real(name: str, x: object, *, allow_zero: bool = False) -> float:
    """Return ``x`` as a ``float`` if it is a finite real > 0 (or >= 0), else raise."""
    bound = ">= 0" if allow_zero else "> 0"
    if isinstance(x, bool) or not isinstance(x, Real):
        raise ValueError(f"{name} must be a finite number {bound}, got {x!r}")
    value = float(x)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return value


def _check_mmc(c: object, arrival_rate: object, mean_service: object) -> tuple[int, float, float]:
    """Validate M/M/c arguments; return ``(c, load, mean_service)``."""
    servers = _check_servers(c)
    rate = _check_real("arrival_rate", arrival_rate)
    service = _check_real("mean_service", mean_service)
    load = rate * service
    if not math.isfinite(load) or load == 0:
        raise ValueError(
            f"offered load arrival_rate * mean_service = {rate!r} * {service!r} "
            "must be finite and > 0"
        )
    return servers, load, service


# --- core formulas (arguments already checked) -----------------------------------------------


def _erlang_b_steps(load: float) -> Iterator[float]:
    """Yield B(1, a), B(2, a), ... by the stable forward recursion."""
    b = 1.0
    k = 0
    while True:
        k += 1
        b = load * b / (k + load * b)
        yield b


def _erlang_b(c: int, load: float) -> float:
    b = 1.0
    for k in range(1, c + 1):
        b = load * b / (k + load * b)
    return b


def _erlang_c_from_b(c: int, load: float, b: float) -> float:
    if load >= c:
        return 1.0
    return min(1.0, c * b / ((c - load) + load * b))


def _mean_wait_from_c(c: int, load: float, mean_service: float, p_wait: float) -> float:
    """Wq = C / (c mu - lambda) = C * mean_service / (c - a); inf when overloaded."""
    if load >= c:
        return math.inf
    return p_wait * mean_service / (c - load)


# --- public API ------------------------------------------------------------------------------


def erlang_b(c: int, load: float) -> float:
    """Erlang B: probability that an arrival finds all ``c`` servers busy in M/M/c/c (loss).

    Args:
        c: number of servers, an integer >= 1.
        load: offered load ``a = lambda / mu`` in Erlangs, finite and > 0. Any value is
            allowed, including ``load >= c`` (a loss system is always stable).

    Returns:
        The blocking probability, in [0, 1]. Example: ``erlang_b(10, 5.0) ~= 0.01838``.
    """
    servers = _check_servers(c)
    a = _check_real("load", load)
    return _erlang_b(servers, a)


def erlang_c(c: int, load: float) -> float:
    """Erlang C: probability that an arrival has to wait in M/M/c.

    Args:
        c: number of servers, an integer >= 1.
        load: offered load ``a = lambda / mu`` in Erlangs, finite and > 0.

    Returns:
        ``P(W > 0)`` in [0, 1]; exactly 1.0 when ``load >= c`` (overloaded: no steady state,
        and every arrival eventually waits). Example: at 50 % utilisation it is 0.50 for
        c = 1, 0.33 for c = 2 and 0.17 for c = 4.
    """
    servers = _check_servers(c)
    a = _check_real("load", load)
    if a >= servers:
        return 1.0
    return _erlang_c_from_b(servers, a, _erlang_b(servers, a))


def utilisation(c: int, arrival_rate: float, mean_service: float) -> float:
    """Offered utilisation per server, ``rho = lambda * mean_service / c``.

    In a stable system (``rho < 1``) this is the long-run fraction of time a server is busy.
    A value >= 1 means overloaded: the servers are then busy all the time and the queue grows.
    """
    servers, load, _ = _check_mmc(c, arrival_rate, mean_service)
    return load / servers


def mmc_mean_wait(c: int, arrival_rate: float, mean_service: float) -> float:
    """Mean waiting time in queue ``Wq = C(c, a) / (c mu - lambda)``; ``math.inf`` if overloaded.

    The wait excludes service; it is in the time unit of ``arrival_rate`` and ``mean_service``.
    """
    servers, load, service = _check_mmc(c, arrival_rate, mean_service)
    if load >= servers:
        return math.inf
    p_wait = _erlang_c_from_b(servers, load, _erlang_b(servers, load))
    return _mean_wait_from_c(servers, load, service, p_wait)


def mmc_mean_queue(c: int, arrival_rate: float, mean_service: float) -> float:
    """Mean number waiting ``Lq = lambda * Wq`` (Little's law); ``math.inf`` if overloaded."""
    wait = mmc_mean_wait(c, arrival_rate, mean_service)
    return math.inf if math.isinf(wait) else float(arrival_rate) * wait


def mmc_prob_wait_exceeds(c: int, arrival_rate: float, mean_service: float, t: float) -> float:
    """``P(W > t) = C(c, a) * exp(-(c mu - lambda) t)`` for a waiting time threshold ``t >= 0``.

    ``t = 0`` gives Erlang C itself. Returns 1.0 when overloaded.
    """
    servers, load, service = _check_mmc(c, arrival_rate, mean_service)
    threshold = _check_real("t", t, allow_zero=True)
    if load >= servers:
        return 1.0
    p_wait = _erlang_c_from_b(servers, load, _erlang_b(servers, load))
    return p_wait * math.exp(-(servers - load) / service * threshold)


def mmc_wait_quantile(c: int, arrival_rate: float, mean_service: float, q: float) -> float:
    """The ``q``-quantile of the waiting time: the smallest ``t`` with ``P(W <= t) >= q``.

    The waiting time has an atom ``1 - C`` at zero, so the quantile is 0.0 when
    ``q <= 1 - C``; above that it is ``ln(C / (1 - q)) / (c mu - lambda)``, so that
    ``P(W > t_q) = 1 - q``. ``q = 1`` gives ``math.inf``, and so does any ``q > 0`` when
    overloaded. Example: the 90th percentile wait is ``mmc_wait_quantile(c, lam, s, 0.9)``.

    Args:
        q: probability level in [0, 1].
    """
    servers, load, service = _check_mmc(c, arrival_rate, mean_service)
    if isinstance(q, bool) or not isinstance(q, Real) or not 0.0 <= float(q) <= 1.0:
        raise ValueError(f"q must be a probability in [0, 1], got {q!r}")
    level = float(q)
    if level == 0.0:
        return 0.0
    if level == 1.0 or load >= servers:
        return math.inf
    p_wait = _erlang_c_from_b(servers, load, _erlang_b(servers, load))
    tail = 1.0 - level
    if p_wait <= tail:
        return 0.0
    return (math.log(p_wait) - math.log(tail)) * service / (servers - load)


def min_servers(
    arrival_rate: float,
    mean_service: float,
    *,
    max_prob_wait: float | None = None,
    max_mean_wait: float | None = None,
) -> int:
    """Smallest number of servers ``c`` that is stable (``c > load``) and meets every criterion.

    Args:
        arrival_rate: arrivals per time unit, finite and > 0.
        mean_service: mean service time in the same unit, finite and > 0.
        max_prob_wait: if given, require ``erlang_c(c, load) <= max_prob_wait`` (in (0, 1]).
        max_mean_wait: if given, require ``mmc_mean_wait(...) <= max_mean_wait`` (finite, > 0).

    With no criterion the answer is the smallest stable ``c``, ``floor(load) + 1``. Both
    measures fall as ``c`` grows, so the first ``c`` that meets the criteria is returned;
    Erlang B is stepped one server at a time, so the search costs O(answer).
    """
    _, load, service = _check_mmc(1, arrival_rate, mean_service)
    if max_prob_wait is not None:
        max_prob_wait = _check_real("max_prob_wait", max_prob_wait)
        if max_prob_wait > 1.0:
            raise ValueError(f"max_prob_wait must be in (0, 1], got {max_prob_wait!r}")
    if max_mean_wait is not None:
        max_mean_wait = _check_real("max_mean_wait", max_mean_wait)
    for c, b in enumerate(_erlang_b_steps(load), start=1):
        if c <= load:
            continue
        p_wait = _erlang_c_from_b(c, load, b)
        if max_prob_wait is not None and p_wait > max_prob_wait:
            continue
        if max_mean_wait is not None and (
            _mean_wait_from_c(c, load, service, p_wait) > max_mean_wait
        ):
            continue
        return c
    raise AssertionError("unreachable: Erlang B steps never end")  # pragma: no cover


def square_root_staffing(load: float, beta: float) -> int:
    """Square-root staffing rule ``c = ceil(R + beta * sqrt(R))`` (Halfin-Whitt).

    Args:
        load: offered load ``R`` in Erlangs, finite and > 0.
        beta: quality-of-service parameter, finite and >= 0. Larger beta, shorter waits: the
            probability of waiting tends to ``[1 + beta Phi(beta) / phi(beta)]^-1`` as R grows
            (about 0.22 for beta = 1, 0.03 for beta = 2). With ``beta = 0`` and an integer R the
            result equals R, which is not stable.

    Returns:
        The number of servers, at least 1.
    """
    r = _check_real("load", load)
    b = _check_real("beta", beta, allow_zero=True)
    return max(1, math.ceil(r + b * math.sqrt(r)))


@dataclass(frozen=True)
class MMcResult:
    """Steady-state measures of one M/M/c system; see :func:`mmc`.

    Times are in the unit of the inputs. When ``overloaded`` is true there is no steady state:
    ``p_wait`` is 1.0 and the mean waits, queue and system sizes are ``math.inf``.
    """

    c: int
    arrival_rate: float
    mean_service: float
    load: float
    """Offered load ``a = lambda * mean_service`` in Erlangs."""
    utilisation: float
    """``a / c``; the fraction of time a server is busy when stable, >= 1 when overloaded."""
    p_wait: float
    """Erlang C: probability an arrival waits."""
    mean_wait: float
    """``Wq``, mean time in queue before service starts."""
    mean_queue: float
    """``Lq = lambda * Wq``, mean number waiting."""
    mean_in_system: float
    """``L = Lq + a``, mean number waiting or in service."""
    mean_time_in_system: float
    """``W = Wq + mean_service``; ``L = lambda * W``."""
    overloaded: bool
    """True when ``load >= c``."""


def mmc(c: int, arrival_rate: float, mean_service: float) -> MMcResult:
    """All steady-state measures of an M/M/c queue at once (one Erlang B evaluation)."""
    servers, load, service = _check_mmc(c, arrival_rate, mean_service)
    rate = float(arrival_rate)
    overloaded = load >= servers
    if overloaded:
        p_wait, wait, queue = 1.0, math.inf, math.inf
    else:
        p_wait = _erlang_c_from_b(servers, load, _erlang_b(servers, load))
        wait = _mean_wait_from_c(servers, load, service, p_wait)
        queue = rate * wait
    return MMcResult(
        c=servers,
        arrival_rate=rate,
        mean_service=service,
        load=load,
        utilisation=load / servers,
        p_wait=p_wait,
        mean_wait=wait,
        mean_queue=queue,
        mean_in_system=queue + load,
        mean_time_in_system=wait + service,
        overloaded=overloaded,
    )
