"""Caseload measures: pure functions of the incident table and the compiled fleets.

For each caseload service, per replication, option and community (and ``all``):

- of the cases called in the community after the warm-up: their number (``cases``), the wait
  from referral (end of screening) to allocation in days (``mean_wait_days``,
  ``p90_wait_days``; cases still waiting at the horizon are left out of these, counted in
  ``waited``, the share that waited at all), and the time-average number of cases waiting
  (``waiting_cases``);
- of the community's workers (by owner): how many (``workers``), the cases they hold per worker
  over time, on average and at the peak (``mean_caseload``, ``peak_caseload``), and
  ``utilisation``: the share of their working time spent on visits and their trips;
- of the visits due in the window for the community's cases: how many (``visits``) and the
  share done by the end of their period (``visits_on_time``).

Visits are scheduled by :func:`sim.engine.visits.schedule_visits` from each run's cases.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine.visits import Cases, Visits, schedule_visits
from ..model.calendars import working_minutes
from ..model.compile import Fleet, Region
from .backlog import open_level, wide_table
from .metrics import ALL

__all__ = ["CASELOAD_METRICS", "caseload_metrics", "caseload_table"]

CASELOAD_METRICS = (
    "cases",
    "mean_wait_days",
    "p90_wait_days",
    "waited",
    "waiting_cases",
    "workers",
    "mean_caseload",
    "peak_caseload",
    "utilisation",
    "visits",
    "visits_on_time",
)
DAY = 1440.0
_WITH_CI = ("mean_wait_days", "mean_caseload", "utilisation", "visits_on_time")


def _cases(region: Region, fleet: Fleet, df: pd.DataFrame) -> Cases:
    index = {label: u for u, label in enumerate(fleet.labels)}
    types = {t.id: k for k, t in enumerate(region.types)}
    zones = {z: i for i, z in enumerate(region.zone_ids)}
    unit = df["first_unit"].astype(object).map(lambda u: index.get(u, -1)).to_numpy(np.int64)
    zone = df["zone"].astype(str).map(zones).to_numpy(np.int64)
    return Cases(
        unit=unit,
        allocated=df["t_dispatch"].to_numpy(np.float64),
        end=np.where(df["t_clear"] <= region.horizon, df["t_clear"], np.nan),
        place=region.zone_place[zone],
        type=df["type"].astype(str).map(types).to_numpy(np.int64),
    )


def _case_measures(region: Region, g: pd.DataFrame) -> dict[str, float]:
    counted = g[~g["warmup"].to_numpy()]
    wait = (counted["t_dispatch"] - counted["t_ready"]).to_numpy() / DAY
    allocated = wait[~np.isnan(wait)]
    waiting, _ = open_level(
        g["t_ready"].to_numpy(), g["t_dispatch"].to_numpy(), region.warmup, region.horizon
    )
    return {
        "cases": float(len(counted)),
        "mean_wait_days": float(allocated.mean()) if len(allocated) else np.nan,
        "p90_wait_days": float(np.quantile(allocated, 0.9)) if len(allocated) else np.nan,
        "waited": float(np.mean(np.isnan(wait) | (wait > 1e-9))) if len(wait) else np.nan,
        "waiting_cases": waiting,
    }


def _worker_measures(
    region: Region, fleet: Fleet, cases: Cases, visits: Visits, workers: np.ndarray
) -> dict[str, float]:
    """Caseload and utilisation of the workers ``workers`` (indices)."""
    assert fleet.workers is not None
    lo, hi = region.warmup, region.horizon
    held = np.isin(fleet.workers.of_unit[np.maximum(cases.unit, 0)], workers) & (cases.unit >= 0)
    mean, peak = open_level(cases.allocated[held], cases.end[held], lo, hi)
    mine = np.isin(visits.worker, workers) & (visits.start >= lo) & (visits.start < hi)
    time = sum(
        float(working_minutes(fleet.workers.working[w], np.array([lo]), np.array([hi]))[0])
        for w in workers.tolist()
    )
    n = len(workers)
    return {
        "workers": float(n),
        "mean_caseload": mean / n if n else np.nan,
        "peak_caseload": peak / n if n else np.nan,
        "utilisation": float(visits.worked[mine].sum()) / time if time > 0 else np.nan,
    }


def _visit_measures(region: Region, visits: Visits, mine: np.ndarray) -> dict[str, float]:
    due = mine & (visits.deadline >= region.warmup) & (visits.deadline <= region.horizon)
    on_time = visits.done[due] <= visits.deadline[due]  # NaN: not done, late
    return {
        "visits": float(due.sum()),
        "visits_on_time": float(on_time.mean()) if due.any() else np.nan,
    }


def _one_run(region: Region, fleet: Fleet, service: str, df: pd.DataFrame) -> list[tuple]:
    assert fleet.workers is not None
    cases = _cases(region, fleet, df)
    allocated = ~np.isnan(cases.allocated)
    visits = schedule_visits(region, fleet, _subset(cases, allocated))
    visit_case = np.flatnonzero(allocated)[visits.case]  # row of df of each visit
    community = df["community"].astype(str).to_numpy()
    s = region.services.index(service)
    all_workers = np.flatnonzero(fleet.workers.service == s)
    rows = []
    for c in [*region.communities, ALL]:
        in_c = np.ones(len(df), dtype=bool) if c == ALL else community == c
        values = _case_measures(region, df[in_c])
        owned = all_workers
        if c != ALL:
            owned = all_workers[fleet.workers.owner[all_workers] == region.communities.index(c)]
        values |= _worker_measures(region, fleet, cases, visits, owned)
        values |= _visit_measures(region, visits, in_c[visit_case])
        rows += [(service, c, m, values[m]) for m in CASELOAD_METRICS]
    return rows


def _subset(cases: Cases, keep: np.ndarray) -> Cases:
    return Cases(*(getattr(cases, f)[keep] for f in ("unit", "allocated", "end", "place", "type")))


def caseload_metrics(
    incidents: pd.DataFrame, region: Region, fleets: dict[str, Fleet]
) -> pd.DataFrame:
    """Per replication x option x caseload service x community (and ``all``): the measures of
    :data:`CASELOAD_METRICS`, long (``metric``, ``value``)."""
    services = [sv for s, sv in enumerate(region.services) if region.max_cases[s]]
    columns = ["replication", "option", "service", "community", "metric", "value"]
    if not services:
        return pd.DataFrame(columns=columns)
    df = incidents[incidents["service"].astype(str).isin(services)]
    rows = []
    for (rep, option, service), g in df.groupby(
        ["replication", "option", "service"], observed=True
    ):
        fleet = fleets[str(option)]
        rows += [(rep, str(option), *r) for r in _one_run(region, fleet, str(service), g)]
    return pd.DataFrame(rows, columns=columns)


def caseload_table(long: pd.DataFrame, options: list[str]) -> pd.DataFrame:
    """``caseload.csv``: per option x caseload service x community the means of
    :data:`CASELOAD_METRICS`, with 95 % intervals of the wait, the caseload, the utilisation and
    the share of visits on time."""
    return wide_table(long, options, CASELOAD_METRICS, _WITH_CI)
