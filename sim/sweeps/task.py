"""One sweep task, run in a worker: a design point x a pooling option x a replication.

:func:`run_task` is a pure function of its arguments (the scenario data, the point, the option,
the replication; the seed is in the data), so a task gives the same numbers in any process, on
any machine, in any order. Replication ``r`` regenerates the same incidents for every option and
every point that leaves demand alone (common random numbers). The compiled scenario of a point
is cached per process (keyed by the point's JSON) so that the options and replications of one
point compile it once.

A task never raises: an exception becomes an ``error`` in its outcome, which the parent records
while the sweep goes on. Warnings are recorded too, whatever the host's warning filters are.
"""

from __future__ import annotations

import json
import time
import traceback
import warnings
from functools import lru_cache
from typing import Any

import numpy as np

from ..analysis.metrics import ALL, incident_metrics
from ..engine.driver import Compiled, compile_scenario, run_replication
from ..schema import scenario_from_dict
from .params import apply_point

__all__ = ["METRICS", "compiled_point", "run_task"]

# region-wide (community 'all', priority 'all') metrics per service, then the units' busy share
METRICS = (
    "incidents",
    "mean_response",
    "p90_response",
    "within_target",
    "mean_wait",
    "waited",
    "open",
    "busy_fraction",
)
MAX_WARNINGS = 5


@lru_cache(maxsize=8)
def compiled_point(base_json: str, point_json: str) -> tuple[Compiled, int]:
    """The scenario of one design point, compiled for every option, and its seed."""
    data = apply_point(json.loads(base_json), json.loads(point_json))
    scenario = scenario_from_dict(data)
    return compile_scenario(scenario), scenario.run.seed


def _measure(compiled: Compiled, option: str, replication: int, seed: int) -> list[list[Any]]:
    incidents, units = run_replication(
        compiled.only([option]), replication, seed, ("incidents", "units")
    )
    m = incident_metrics(incidents)
    m = m[(m["community"] == ALL) & (m["priority"] == ALL)]
    values = {(s, k): v for s, k, v in zip(m["service"], m["metric"], m["value"], strict=True)}
    busy = units.groupby("service", observed=True)["busy_fraction"].mean()
    rows = []
    for service in compiled.region.services:
        row: list[Any] = [service]
        for metric in METRICS:
            if metric == "busy_fraction":
                value = busy.get(service, np.nan)
            else:
                default = 0.0 if metric in ("incidents", "open") else np.nan
                value = values.get((service, metric), default)
            row.append(None if value is None or np.isnan(value) else float(value))
        rows.append(row)
    return rows


def run_task(base_json: str, point_json: str, option: str, replication: int) -> dict[str, Any]:
    """Simulate one option of one point for one replication; return rows or the error."""
    started = time.perf_counter()
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            compiled, seed = compiled_point(base_json, point_json)
            rows = _measure(compiled, option, replication, seed)
    except Exception as exc:
        return {
            "rows": [],
            "error": f"{type(exc).__name__}: {exc}".strip(),
            "traceback": traceback.format_exc(),
            "warnings": _warnings(caught),
            "seconds": time.perf_counter() - started,
        }
    return {
        "rows": rows,
        "error": None,
        "traceback": None,
        "warnings": _warnings(caught),
        "seconds": time.perf_counter() - started,
    }


def _warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    seen = dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught)
    return list(seen)[:MAX_WARNINGS]
