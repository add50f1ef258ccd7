"""Drawing durations from the compiled model's distributions, in vectorised blocks.

Every draw takes an explicit numpy Generator: there is no global random state.
"""

from __future__ import annotations

import math

import numpy as np

from .distributions import (
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
)

__all__ = ["draw", "mean_of"]


def draw(spec: Distribution, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
    """``size`` independent draws (minutes, float64) from ``spec``."""
    match spec:
        case Fixed(value=v):
            return np.full(size, v, dtype=np.float64)
        case Exponential(mean=m):
            return rng.exponential(m, size)
        case LogNormal(mu=mu, sigma=sigma):
            return rng.lognormal(mu, sigma, size)
        case Gamma(mean=m, sd=sd):
            shape = (m / sd) ** 2
            return rng.gamma(shape, m / shape, size)
        case Normal(mean=m, sd=sd):
            return _truncated_normal(m, sd, rng, size)
        case Uniform(low=lo, high=hi):
            return rng.uniform(lo, hi, size)
        case Triangular(low=lo, mode=mode, high=hi):
            return rng.triangular(lo, mode, hi, size)
        case Empirical(values=values):
            return rng.choice(np.asarray(values, dtype=np.float64), size)
    raise TypeError(f"unknown distribution {spec!r}")  # pragma: no cover


def _truncated_normal(
    mean: float, sd: float, rng: np.random.Generator, size: int | tuple[int, ...]
) -> np.ndarray:
    out = rng.normal(mean, sd, size)
    bad = out < 0
    while bad.any():  # redraw the negatives; terminates since mean >= 0 keeps P(ok) >= 1/2
        out[bad] = rng.normal(mean, sd, int(bad.sum()))
        bad = out < 0
    return out


def mean_of(spec: Distribution) -> float:
    """The exact mean of ``spec`` (minutes)."""
    match spec:
        case Fixed(value=v):
            return v
        case Exponential(mean=m) | Gamma(mean=m):
            return m
        case LogNormal(mu=mu, sigma=sigma):
            return math.exp(mu + sigma**2 / 2)
        case Normal(mean=m, sd=sd):
            if sd == 0:
                return m
            from scipy import stats  # imported here: scipy.stats takes most of a second to load

            return float(stats.truncnorm.mean(-m / sd, np.inf, loc=m, scale=sd))
        case Uniform(low=lo, high=hi):
            return (lo + hi) / 2
        case Triangular(low=lo, mode=mode, high=hi):
            return (lo + mode + hi) / 3
        case Empirical(values=values):
            return float(np.mean(values))
    raise TypeError(f"unknown distribution {spec!r}")  # pragma: no cover
