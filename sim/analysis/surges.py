"""The hours around each surge: calls waiting and response, hour by hour, per option and service.

:func:`surge_windows` merges surges that overlap (or nearly) into windows, each shown from a day
before to a day after (within the statistics window). :func:`surge_counts` sums, per hour of each
window, what a table of incidents (after the warm-up) did there: the calls made, those reached
and their total response, and the call-minutes spent waiting for a unit (a call waits from
``t_ready`` until its dispatch, or the horizon). The sums add up over replications, so each
replication is counted where it ran and :func:`surge_timeline` turns them into the table of
``surge_timeline.csv``: per hour, the calls, the mean response of the calls made in it and the
time-average number of calls waiting per replication. Hours combine exactly into longer bins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "MARGIN",
    "TIMELINE_COLUMNS",
    "hour_edges",
    "surge_counts",
    "surge_timeline",
    "surge_windows",
]

MARGIN = 24 * 60.0  # minutes shown before and after a surge
HOUR = 60.0
KEYS = ["option", "service", "window"]
TIMELINE_COLUMNS = (
    *KEYS,
    "start",
    "end",
    "calls",
    "reached",
    "mean_response",
    "waiting_calls",
)
_SUMS = ["calls", "reached", "response_total", "waiting_minutes"]


def surge_windows(
    surges: Sequence[dict[str, Any]],
    bursts: Sequence[dict[str, Any]],
    warmup: float,
    horizon: float,
) -> list[dict[str, Any]]:
    """Surges (``name``, ``start``, ``end``, ``services`` or None for every service) merged
    into windows, numbered from 1 in time order: ``start``/``end`` of the surges, ``lo``/``hi``
    shown (a :data:`MARGIN` either side, inside warm-up and horizon), their ``names``, the
    ``services`` surged (a set, None for all) and the ``bursts`` inside."""
    windows: list[dict[str, Any]] = []
    for s in sorted(surges, key=lambda s: s["start"]):
        services = None if s.get("services") is None else set(s["services"])
        if windows and s["start"] <= windows[-1]["end"] + MARGIN:
            w = windows[-1]
            w["end"] = max(w["end"], s["end"])
            w["names"].append(s["name"])
            both = w["services"] is not None and services is not None
            w["services"] = w["services"] | services if both else None
        else:
            windows.append(
                {"start": s["start"], "end": s["end"], "names": [s["name"]], "services": services}
            )
    for number, w in enumerate(windows, start=1):
        w["number"] = number
        w["lo"] = max(float(warmup), w["start"] - MARGIN)
        w["hi"] = min(float(horizon), w["end"] + MARGIN)
        w["bursts"] = [b for b in bursts if w["lo"] <= b["time"] <= w["hi"]]
    return [w for w in windows if w["hi"] > w["lo"]]


def hour_edges(lo: float, hi: float) -> np.ndarray:
    """Edges of the hours from ``lo`` to ``hi`` (the last one shorter if need be)."""
    edges = np.arange(lo, hi + 1e-9, HOUR)
    if edges[-1] < hi - 1e-9:
        edges = np.append(edges, hi)
    return edges


def _window_sums(inc: pd.DataFrame, edges: np.ndarray, horizon: float) -> dict[str, np.ndarray]:
    nbins = len(edges) - 1
    ready = inc["t_ready"].to_numpy(dtype=np.float64)
    sent = inc["t_dispatch"].to_numpy(dtype=np.float64)
    sent = np.where(np.isnan(sent), horizon, sent)
    near = (ready < edges[-1]) & (sent > edges[0])
    a, b = ready[near][:, None], sent[near][:, None]
    overlap = np.clip(np.minimum(b, edges[None, 1:]) - np.maximum(a, edges[None, :-1]), 0, None)
    t = inc["t_call"].to_numpy(dtype=np.float64)
    k = np.searchsorted(edges, t, side="right") - 1
    inside = (k >= 0) & (k < nbins)
    r = inc["response"].to_numpy(dtype=np.float64)[inside]
    k = k[inside]
    reached = np.isfinite(r)
    return {
        "calls": np.bincount(k, minlength=nbins),
        "reached": np.bincount(k[reached], minlength=nbins),
        "response_total": np.bincount(k[reached], weights=r[reached], minlength=nbins),
        "waiting_minutes": overlap.sum(axis=0),
    }


def surge_counts(
    incidents: pd.DataFrame, windows: Sequence[dict[str, Any]], horizon: float
) -> pd.DataFrame:
    """Per option, service, window and hour: the sums of the module docstring."""
    df = incidents.loc[
        ~incidents["warmup"],
        ["option", "service", "t_call", "t_ready", "t_dispatch", "response"],
    ]
    frames = []
    for w in windows:
        edges = hour_edges(w["lo"], w["hi"])
        for (option, service), inc in df.groupby(["option", "service"], observed=True, sort=True):
            sums = _window_sums(inc, edges, horizon)
            frames.append(
                pd.DataFrame(
                    {
                        "option": str(option),
                        "service": str(service),
                        "window": int(w["number"]),
                        "start": edges[:-1],
                        "end": edges[1:],
                        **sums,
                    }
                )
            )
    if not frames:
        return pd.DataFrame(columns=[*KEYS, "start", "end", *_SUMS])
    return pd.concat(frames, ignore_index=True)


def surge_timeline(counts: Sequence[pd.DataFrame], replications: int) -> pd.DataFrame:
    """The sums of every replication added up, per hour: ``calls`` made (all replications),
    ``reached`` of them, their ``mean_response`` and the ``waiting_calls`` (time average, per
    replication)."""
    frames = [c for c in counts if len(c)]
    if not frames:
        return pd.DataFrame(columns=list(TIMELINE_COLUMNS))
    keys = [*KEYS, "start", "end"]
    out = pd.concat(frames, ignore_index=True).groupby(keys, sort=True)[_SUMS].sum().reset_index()
    reached = out["reached"].to_numpy(dtype=np.float64)
    total = out["response_total"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["mean_response"] = np.where(reached > 0, total / reached, math.nan)
    minutes = out["end"] - out["start"]
    out["waiting_calls"] = out["waiting_minutes"] / minutes / max(1, replications)
    out["calls"] = out["calls"].astype(np.int64)
    out["reached"] = out["reached"].astype(np.int64)
    return out[list(TIMELINE_COLUMNS)]
