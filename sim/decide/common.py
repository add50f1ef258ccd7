"""What ``size`` and ``coalitions`` share: reading the scenario, and the checks.

The scenario travels to workers as JSON data (``base_json``: the validated scenario dumped and
reloaded identically, with the run's seed), like a sweep's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..model.compile import Region, compile_region
from ..schema import Scenario, load_scenario, scenario_from_dict
from .evaluate import Check, Evaluation, Verdict, checks_for, judge, priorities_for
from .fleet import Context

__all__ = ["Problem", "load"]

PRIORITIES = ("first", "all")


def load(scenario: str | Path | dict[str, Any] | Scenario) -> tuple[Scenario, Path | None]:
    """A validated scenario from a file, plain data or a Scenario; and its file, if any."""
    if isinstance(scenario, Scenario):
        return scenario, None
    if isinstance(scenario, dict):
        return scenario_from_dict(scenario), None
    return load_scenario(scenario), Path(scenario)


@dataclass
class Problem:
    """A scenario, one service and the settings of a decision question."""

    scenario: Scenario
    service: str
    region: Region
    base_json: str
    seed: int
    replications: int
    confirm_replications: int
    confidence: float
    priorities: str
    target_share: float | None
    _checks: dict[str, list[Check]] = field(default_factory=dict, repr=False)

    @staticmethod
    def build(
        scenario: Scenario,
        service: str,
        *,
        replications: int | None,
        confirm_replications: int | None,
        seed: int | None,
        confidence: float,
        priorities: str,
        target_share: float | None,
    ) -> Problem:
        if service not in scenario.services:
            raise InputError(
                f"--service: unknown service '{service}' (known: {', '.join(scenario.services)})"
            )
        if not 0.5 <= confidence < 1:
            raise InputError(f"--confidence must be in [0.5, 1), got {confidence}")
        if target_share is not None and not 0 < target_share <= 1:
            raise InputError(f"--target-share must be in (0, 1], got {target_share}")
        if priorities not in PRIORITIES:
            raise InputError(f"priorities must be one of {', '.join(PRIORITIES)}")
        n = replications if replications is not None else scenario.run.replications
        if n < 2:
            raise InputError("at least 2 replications are needed for a confidence bound")
        data = scenario.model_dump(mode="json")
        s = seed if seed is not None else scenario.run.seed
        data["run"]["seed"] = s
        region = compile_region(scenario)
        if not any(region.services[t.service] == service for t in region.types):
            raise InputError(f"service '{service}' has no incident types: nothing to size")
        svc = scenario.services[service]
        if svc.calendar is not None or svc.caseload is not None:
            kind = "a caseload" if svc.caseload is not None else "a working calendar"
            raise InputError(
                f"service '{service}' has {kind}: sizing and coalitions count units that work "
                "round the clock, one job at a time (use compare to weigh its options)"
            )
        return Problem(
            scenario,
            service,
            region,
            json.dumps(data, sort_keys=True),
            s,
            n,
            confirm_replications if confirm_replications is not None else n,
            confidence,
            priorities,
            target_share,
        )

    @property
    def prios(self) -> tuple[int, ...]:
        return priorities_for(self.region, self.service)

    @property
    def search_reps(self) -> tuple[int, ...]:
        return tuple(range(self.replications))

    @property
    def confirm_reps(self) -> tuple[int, ...]:
        """Fresh replications: indices after the search's, so different random numbers."""
        return tuple(range(self.replications, self.replications + self.confirm_replications))

    @property
    def window_minutes(self) -> float:
        return float(self.region.horizon - self.region.warmup)

    def checks(self, context: Context) -> list[Check]:
        """The targets a fleet of ``context`` must meet (the shares overridden by
        ``target_share``, if given)."""
        if context.key not in self._checks:
            found = checks_for(self.region, context, self.priorities)
            if self.target_share is not None:
                found = [replace(c, share=self.target_share) for c in found]
            self._checks[context.key] = found
        return self._checks[context.key]

    def judge(self, context: Context, evaluation: Evaluation) -> Verdict:
        return judge(evaluation, self.checks(context), context, self.prios, self.confidence)
