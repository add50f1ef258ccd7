"""What ``compare`` measures of each replication where the replication ran: its metrics, the
summaries that the figures are drawn from (the response histogram and the hours around each
surge), so that no per-incident table has to be written for them, the per-replication rows
of the zone and backlog tables, of the unreached-call warnings and of the calls that cost
shares are split by, so that these are computed in the workers, side by side, rather than from
every incident afterwards; and the calls of the services drawn week by week (on a calendar or
with a caseload), a few per cent of all, which the weekly levels and the caseload measures read
across replications. The per-incident table itself then need not come back at all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..analysis.backlog import Rows, backlog_rows, weekly_services
from ..analysis.costs import call_counts
from ..analysis.incidentview import IncidentView
from ..analysis.metrics import incident_metrics, unreached_counts
from ..analysis.responses import response_counts
from ..analysis.surges import surge_counts, surge_windows
from ..analysis.zones import zone_rows
from ..model.compile import Region
from ..results.region import surge_records
from ..schema import Scenario

__all__ = ["Measured", "ReplicationMeasure"]


@dataclass(frozen=True)
class Measured:
    """One replication's metrics (long table), response counts and surge sums, its zone and
    backlog rows, its counts of unreached calls and of calls per option and community, and its
    incidents of the services drawn week by week."""

    metrics: pd.DataFrame
    responses: pd.DataFrame
    surges: pd.DataFrame
    zones: tuple[pd.DataFrame, pd.DataFrame]
    backlog: tuple[Rows, Rows]
    unreached: pd.DataFrame
    calls: pd.Series
    weekly: pd.DataFrame


@dataclass(frozen=True)
class ReplicationMeasure:
    """The measure of :func:`sim.engine.driver.run_replications`: it travels to the workers
    with the surge windows and the horizon it needs."""

    windows: tuple[dict[str, Any], ...]
    horizon: float

    @classmethod
    def of(cls, scenario: Scenario) -> ReplicationMeasure:
        run = scenario.run
        windows = surge_windows(surge_records(scenario), [], run.warmup, run.horizon)
        return cls(tuple(windows), float(run.horizon))

    def __call__(self, tables: tuple[pd.DataFrame, ...], region: Region) -> Measured:
        incidents = IncidentView(tables[0])  # keys, columns and sorts shared by the measures
        return Measured(
            incident_metrics(incidents),
            response_counts(incidents),
            surge_counts(tables[0], self.windows, self.horizon),
            zone_rows(incidents),
            backlog_rows(incidents, region),
            unreached_counts(incidents),
            call_counts(tables[0]),
            _weekly_calls(tables[0], region),
        )


def _weekly_calls(incidents: pd.DataFrame, region: Region) -> pd.DataFrame:
    """The rows of the services of :func:`sim.analysis.backlog.weekly_services`, in order."""
    return incidents[incidents["service"].isin(weekly_services(region)).to_numpy()]
