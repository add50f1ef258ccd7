"""Duration distributions of the compiled model: plain frozen values, in minutes.

The scenario's distributions (:mod:`sim.schema.distributions`) are compiled into these by
:func:`sim.model.compile.compile_distribution`, with their parameters checked there and any
alternative parametrisation resolved (a lognormal given by mean and sd becomes ``mu`` and
``sigma``), so that :mod:`sim.model.sampling` and the engine never see the schema.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Distribution",
    "Empirical",
    "Exponential",
    "Fixed",
    "Gamma",
    "LogNormal",
    "Normal",
    "Triangular",
    "Uniform",
]


@dataclass(frozen=True)
class Fixed:
    """Always ``value``."""

    value: float


@dataclass(frozen=True)
class Exponential:
    """Exponential with mean ``mean``."""

    mean: float


@dataclass(frozen=True)
class LogNormal:
    """``exp(N(mu, sigma^2))``: the parameters of the underlying normal distribution."""

    mu: float
    sigma: float


@dataclass(frozen=True)
class Gamma:
    """Gamma with mean ``mean`` and standard deviation ``sd``."""

    mean: float
    sd: float


@dataclass(frozen=True)
class Normal:
    """Normal with mean ``mean`` and standard deviation ``sd``, truncated at 0."""

    mean: float
    sd: float


@dataclass(frozen=True)
class Uniform:
    """Uniform on ``[low, high]``."""

    low: float
    high: float


@dataclass(frozen=True)
class Triangular:
    """Triangular with ``low <= mode <= high``."""

    low: float
    mode: float
    high: float


@dataclass(frozen=True)
class Empirical:
    """Resampled, with replacement, from ``values``."""

    values: tuple[float, ...]


Distribution = Fixed | Exponential | LogNormal | Gamma | Normal | Uniform | Triangular | Empirical
"""A compiled duration distribution (minutes)."""
