"""Design points of a sweep: a full grid, a Latin hypercube, or plain random sampling.

* ``grid``: every combination of the parameters' value lists (the first parameter varies
  slowest).
* ``lhs``: ``samples`` points of a Latin hypercube (:class:`scipy.stats.qmc.LatinHypercube`)
  over the sampled parameters: each parameter's range is cut into ``samples`` equal strata and
  each stratum is hit exactly once.
* ``random``: ``samples`` independent uniform draws.

Both sampled designs are seeded from the sweep's seed, so the same seed gives the same points.
A parameter with one value is fixed at it; a list is sampled from (each value equally likely);
``uniform(a,b)`` is continuous, ``int(a,b)`` takes whole numbers from a to b inclusive.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from scipy.stats import qmc

from .params import MAX_VALUES, Param, Scalar

__all__ = ["DESIGNS", "Design", "make_points"]

Design = Literal["grid", "lhs", "random"]
DESIGNS: tuple[str, ...] = ("grid", "lhs", "random")
MAX_POINTS = MAX_VALUES
_STREAM = 0x5EED  # spawn key of the design's generator, apart from the simulation's streams


def _rng(seed: int, design: str) -> np.random.Generator:
    key = (_STREAM, DESIGNS.index(design))
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def _from_unit(param: Param, u: np.ndarray) -> list[Scalar]:
    """Map uniform [0, 1) draws onto a parameter's distribution or list of values."""
    if param.dist == "uniform":
        return [float(param.low + x * (param.high - param.low)) for x in u]
    if param.dist == "int":
        lo, hi = int(param.low), int(param.high)
        return [min(hi, lo + int(x * (hi - lo + 1))) for x in u]
    n = len(param.values)
    return [param.values[min(n - 1, int(x * n))] for x in u]


def make_points(
    params: Sequence[Param], design: str, samples: int | None, seed: int
) -> list[dict[str, Scalar]]:
    """The design points, each a mapping path -> value in the order of ``params``."""
    if design == "grid":
        if samples is not None:
            raise ValueError(
                "--samples is for the lhs and random designs; a grid has every combination"
            )
        count = int(np.prod([len(p.values) for p in params], dtype=np.float64))
        if count > MAX_POINTS:
            raise ValueError(f"the grid has {count:,} points (more than {MAX_POINTS:,})")
        return [
            dict(zip((p.path for p in params), combo, strict=True))
            for combo in itertools.product(*(p.values for p in params))
        ]
    if design not in DESIGNS:
        raise ValueError(f"unknown design '{design}' (use {', '.join(DESIGNS)})")
    if samples is None:
        raise ValueError(f"the {design} design needs --samples N (the number of points)")
    if not 1 <= samples <= MAX_POINTS:
        raise ValueError(f"--samples must be between 1 and {MAX_POINTS:,}")
    varied = [p for p in params if not p.fixed]
    columns: dict[str, list[Any]] = {}
    if varied:
        rng = _rng(seed, design)
        if design == "lhs":
            u = qmc.LatinHypercube(d=len(varied), rng=rng).random(samples)
        else:
            u = rng.random((samples, len(varied)))
        for j, p in enumerate(varied):
            columns[p.path] = _from_unit(p, u[:, j])
    return [
        {p.path: (p.values[0] if p.fixed else columns[p.path][i]) for p in params}
        for i in range(samples)
    ]
