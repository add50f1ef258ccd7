"""Checks of working time and caseloads across a scenario.

Each yields ``(path, message)`` pairs like :mod:`sim.schema.references`: an unknown calendar,
overtime or a target in working time on a service without a calendar, holidays without the
date of time 0, visits outside a caseload service, and cases that would need several workers
or a transport.
"""

from __future__ import annotations

from collections.abc import Iterator

from .scenario import Scenario

__all__ = ["work_problems"]

Path = tuple[str | int, ...]
Found = Iterator[tuple[Path, str]]


def _services(s: Scenario) -> Found:
    for sid, svc in s.services.items():
        base: Path = ("services", sid)
        if svc.calendar is not None and svc.calendar not in s.calendars:
            known = ", ".join(sorted(s.calendars)) or "none"
            yield (*base, "calendar"), f"unknown calendar '{svc.calendar}' (known: {known})"
        if svc.calendar is None and svc.overtime > 0:
            yield (*base, "overtime"), "overtime needs a calendar: name one in `calendar`"


def _types(s: Scenario) -> Found:
    for tid, t in s.incident_types.items():
        svc = s.services.get(t.service)
        if svc is None:
            continue  # an unknown service is reported by the references
        base: Path = ("incident_types", tid)
        target = t.target
        if target is not None and target.minutes is None and svc.calendar is None:
            kind = "working_days" if target.working_days is not None else "working_hours"
            yield (
                (*base, "target", kind),
                f"{kind} are counted on a calendar, but service '{t.service}' has none: give it "
                "`calendar`",
            )
        if t.visits is not None and svc.caseload is None:
            yield (
                (*base, "visits"),
                f"visits are for caseload services; service '{t.service}' has no `caseload`",
            )
        if svc.caseload is None:
            continue
        if t.units_needed != 1:
            yield (*base, "units_needed"), "a case holds one worker's slot: units_needed is 1"
        if t.transport is not None:
            yield (*base, "transport"), "a case has no transport (its visits go from the office)"


def _holidays(s: Scenario) -> Found:
    if s.run.start is not None:
        return
    for cid, cal in s.calendars.items():
        if cal.holidays:
            yield (
                ("calendars", cid, "holidays"),
                "holidays are dates: give run.start, the date of time 0 (a Monday)",
            )


def work_problems(s: Scenario) -> list[tuple[Path, str]]:
    """Every problem of calendars, working-time targets and caseloads."""
    return [*_services(s), *_types(s), *_holidays(s)]
