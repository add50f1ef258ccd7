"""Probability distributions of durations (minutes), as written in scenario files.

Each distribution is a small pydantic model tagged by ``dist``. A bare number is shorthand for
``{dist: fixed, value: number}``. Parameters are checked here; the compiled model holds them
as plain values (:mod:`sim.model.distributions`), which :mod:`sim.model.sampling` draws from.

Parameters are bounded so that whatever validates can be drawn from: times within 50 years,
a lognormal ``log_sd`` of at most 4, and a standard deviation between a millionth and a
thousand times the mean where the shape of the distribution is derived from their ratio
(gamma, lognormal by mean and sd).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .durations import MAX_MINUTES, parse_duration

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

NonNeg = Annotated[float, Field(ge=0, le=MAX_MINUTES, allow_inf_nan=False)]
Pos = Annotated[float, Field(gt=0, le=MAX_MINUTES, allow_inf_nan=False)]
LogSd = Annotated[float, Field(ge=0, le=4, allow_inf_nan=False)]
MAX_CV = 1000.0  # sd / mean: a gamma shape of 1e-6, a lognormal log_sd of 3.7
MIN_CV = 1e-6  # below it a gamma is a fixed value (and its shape overflows)


def _spread(mean: float, sd: float, low: float) -> None:
    """Refuse a standard deviation too large (or, for ``low`` > 0, too small) for the mean."""
    if sd > MAX_CV * mean and mean > 0:
        raise ValueError(f"sd ({sd:g}) must be at most {MAX_CV:g} times the mean ({mean:g})")
    if sd < low * mean:
        raise ValueError(
            f"sd ({sd:g}) must be at least {low:g} times the mean ({mean:g}); use fixed for a "
            "constant"
        )


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Fixed(_Dist):
    """Always the same value."""

    dist: Literal["fixed"]
    value: NonNeg


class Exponential(_Dist):
    """Exponential with the given mean."""

    dist: Literal["exponential"]
    mean: Pos


class LogNormal(_Dist):
    """Lognormal, given either ``median`` and ``log_sd`` or ``mean`` and ``sd``."""

    dist: Literal["lognormal"]
    median: Pos | None = None
    log_sd: LogSd | None = None
    mean: Pos | None = None
    sd: NonNeg | None = None

    @model_validator(mode="after")
    def _one_parametrisation(self) -> Self:
        by_median = self.median is not None or self.log_sd is not None
        by_mean = self.mean is not None or self.sd is not None
        if by_median == by_mean:
            raise ValueError("give either median and log_sd, or mean and sd")
        if by_median and (self.median is None or self.log_sd is None):
            raise ValueError("median and log_sd go together")
        if by_mean and (self.mean is None or self.sd is None):
            raise ValueError("mean and sd go together")
        if self.mean is not None and self.sd is not None:
            _spread(self.mean, self.sd, 0.0)
        return self

    def mu_sigma(self) -> tuple[float, float]:
        """The parameters of the underlying normal distribution."""
        if self.median is not None and self.log_sd is not None:
            return math.log(self.median), self.log_sd
        assert self.mean is not None
        assert self.sd is not None
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        return math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2)


class Gamma(_Dist):
    """Gamma with the given mean and standard deviation."""

    dist: Literal["gamma"]
    mean: Pos
    sd: Pos

    @model_validator(mode="after")
    def _shape(self) -> Self:
        _spread(self.mean, self.sd, MIN_CV)
        return self


class Normal(_Dist):
    """Normal truncated at 0 (negative draws are redrawn)."""

    dist: Literal["normal"]
    mean: NonNeg
    sd: NonNeg

    @model_validator(mode="after")
    def _not_degenerate(self) -> Self:
        if self.sd > 0:  # sd 0 is a fixed value; a tiny one makes the truncation overflow
            _spread(self.mean, self.sd, MIN_CV)
        return self


class Uniform(_Dist):
    """Uniform between ``low`` and ``high``."""

    dist: Literal["uniform"]
    low: NonNeg
    high: NonNeg

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) must not exceed high ({self.high:g})")
        return self


class Triangular(_Dist):
    """Triangular with ``low`` <= ``mode`` <= ``high``."""

    dist: Literal["triangular"]
    low: NonNeg
    mode: NonNeg
    high: NonNeg

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.low <= self.mode <= self.high:
            raise ValueError("need low <= mode <= high")
        if self.low == self.high:
            raise ValueError("low and high must differ (use fixed for a constant)")
        return self


class Empirical(_Dist):
    """Resampled from a list of observed values."""

    dist: Literal["empirical"]
    values: list[NonNeg] = Field(min_length=1)


def _shorthand(value: object) -> object:
    """A plain number of minutes, or a duration string such as '90 s', means a fixed value."""
    if isinstance(value, str):
        try:
            value = parse_duration(value)
        except ValueError:
            return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"dist": "fixed", "value": float(value)}
    return value


Distribution = Annotated[
    Fixed | Exponential | LogNormal | Gamma | Normal | Uniform | Triangular | Empirical,
    Field(discriminator="dist"),
    BeforeValidator(_shorthand),
]
"""A duration distribution in minutes; a bare number or duration means a fixed value."""
