"""A scenario's distributions (pydantic) turned into the model's plain values."""

from __future__ import annotations

from ..schema import distributions as schema_dist
from . import distributions as dist

__all__ = ["compile_distribution"]


def compile_distribution(spec: schema_dist.Distribution) -> dist.Distribution:
    """The model's value of a scenario distribution."""
    match spec:
        case schema_dist.Fixed(value=v):
            return dist.Fixed(v)
        case schema_dist.Exponential(mean=m):
            return dist.Exponential(m)
        case schema_dist.LogNormal():
            return dist.LogNormal(*spec.mu_sigma())
        case schema_dist.Gamma(mean=m, sd=sd):
            return dist.Gamma(m, sd)
        case schema_dist.Normal(mean=m, sd=sd):
            return dist.Normal(m, sd)
        case schema_dist.Uniform(low=lo, high=hi):
            return dist.Uniform(lo, hi)
        case schema_dist.Triangular(low=lo, mode=mode, high=hi):
            return dist.Triangular(lo, mode, hi)
        case schema_dist.Empirical(values=values):
            return dist.Empirical(tuple(values))
    raise TypeError(f"unknown distribution {spec!r}")  # pragma: no cover
