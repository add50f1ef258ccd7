"""The discrete-event engine: incidents meet units on a SimPy clock.

Lifecycle of an incident: call -> call handling -> dispatch (at once, or after waiting for a
unit) -> turnout -> travel -> on scene -> optional transport and handover -> the unit is free
again and heads back to its station. Each unit's job is fixed when it is dispatched (all random
numbers were drawn with the incidents), so the engine needs only a few kinds of events: a call
becoming ready for dispatch, a unit becoming free, and duty changes. SimPy keeps the clock and
the event queue; a single process feeds the calls, everything else runs as callbacks.

A unit heading back to its station is available (unless the dispatch rule says ``from_road:
false``): its expected trip to a new incident interpolates between the trip from where it
started back and the trip from its station, by the share of the way back it has covered.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np
import simpy

from .demand import Incidents
from .model import Fleet, Region
from .policies import Policy, make_policy

__all__ = ["Engine", "EngineRecords", "Unit", "simulate"]

NAN = float("nan")


class Unit:
    """The state of one unit during a run."""

    __slots__ = (
        "busy", "index", "off_pending", "on_duty", "owner", "ret_end", "ret_from", "ret_start",
        "service", "station",
    )

    def __init__(self, index: int, service: int, station: int, owner: int) -> None:
        self.index, self.service, self.station, self.owner = index, service, station, owner
        self.busy = False
        self.on_duty = False
        self.off_pending = False
        self.ret_from, self.ret_start, self.ret_end = station, 0.0, 0.0


@dataclass(frozen=True)
class EngineRecords:
    """What one run produced, columnar. Incident arrays are in the order of ``Incidents``."""

    t_ready: np.ndarray
    t_dispatch: np.ndarray
    t_first_arrival: np.ndarray
    t_full_arrival: np.ndarray
    t_clear: np.ndarray
    first_unit: np.ndarray
    units_sent: np.ndarray
    travel: np.ndarray
    job_incident: np.ndarray
    job_unit: np.ndarray
    job_assigned: np.ndarray
    job_dispatch: np.ndarray
    job_arrive: np.ndarray
    job_free: np.ndarray


class Engine:
    """One run of one fleet against one replication's incidents."""

    def __init__(self, region: Region, fleet: Fleet, incidents: Incidents) -> None:
        self.region, self.fleet, self.inc = region, fleet, incidents
        self.env = simpy.Environment()
        self.horizon = region.horizon
        self._travel = region.travel.tolist()
        self._hours = region.hour_factors.tolist()
        n_com, n_svc = len(region.communities), len(region.services)
        self.units = [
            Unit(i, int(fleet.service[i]), int(fleet.station[i]), int(fleet.owner[i]))
            for i in range(fleet.size)
        ]
        self.free: list[dict[int, Unit]] = [{} for _ in range(n_svc)]
        self.free_by_owner: list[list[dict[int, Unit]]] = [
            [{} for _ in range(n_com)] for _ in range(n_svc)
        ]
        self.queues: list[list[list[tuple[int, float, int]]]] = [
            [[] for _ in range(n_com)] for _ in range(n_svc)
        ]
        self.policies: list[Policy] = [make_policy(rule, region.communities) for rule in fleet.dispatch]
        self._from_road = [rule.from_road for rule in fleet.dispatch]
        types = region.types
        self._type_service = [t.service for t in types]
        self._type_priority = [t.priority for t in types]
        self._type_need = [t.units_needed for t in types]
        self._type_facility = [t.facility for t in types]
        n = len(incidents)
        self._type = incidents.type.tolist()
        self._community = incidents.community.tolist()
        self._turnout = incidents.turnout.tolist()
        self._on_scene = incidents.on_scene.tolist()
        self._transport = incidents.transport.tolist()
        self._handover = incidents.handover.tolist()
        self._noise = incidents.noise.tolist()
        self._ready = (incidents.t_call + incidents.call_handling).tolist()
        self._need = [self._type_need[k] for k in self._type]
        self._sent = [0] * n
        self.t_dispatch = [NAN] * n
        self.t_first = [NAN] * n
        self.t_full = [NAN] * n
        self.t_clear = [NAN] * n
        self.first_unit = [-1] * n
        self.travel_first = [NAN] * n
        self._jobs: tuple[list[int], list[int], list[float], list[float], list[float], list[float]] = (
            [], [], [], [], [], []
        )

    # -- helpers the policies use -------------------------------------------------------------
    def incident_service(self, incident: int) -> int:
        return self._type_service[self._type[incident]]

    def hour_factor(self, t: float) -> float:
        return self._hours[int(t // 60) % 24]

    def expected_travel(self, unit: Unit, place: int, t: float) -> float:
        """Expected minutes (before the hour's speed factor) from where ``unit`` is to ``place``."""
        to_place = self._travel[unit.station][place]
        if t >= unit.ret_end:
            return to_place
        done = (t - unit.ret_start) / (unit.ret_end - unit.ret_start)
        return (1.0 - done) * self._travel[unit.ret_from][place] + done * to_place

    # -- state changes ------------------------------------------------------------------------
    def _make_free(self, unit: Unit) -> None:
        self.free[unit.service][unit.index] = unit
        self.free_by_owner[unit.service][unit.owner][unit.index] = unit

    def _take(self, unit: Unit) -> None:
        del self.free[unit.service][unit.index]
        del self.free_by_owner[unit.service][unit.owner][unit.index]

    def _available(self, unit: Unit) -> None:
        """``unit`` can take work: the waiting call its policy picks, or wait itself."""
        unit.busy = False
        found = self.policies[unit.service].choose_call(self, unit, self.env.now)
        if found is None:
            self._make_free(unit)
            return
        incident, community, delay = found
        self._dispatch(unit, incident, delay)
        if self._sent[incident] == self._need[incident]:
            heapq.heappop(self.queues[unit.service][community])

    def _dispatch(self, unit: Unit, i: int, delay: float) -> None:
        now = self.env.now
        unit.busy = True
        slot = self._sent[i]
        self._sent[i] = slot + 1
        c = self._community[i]
        on_road = now < unit.ret_end
        trip = self.expected_travel(unit, c, now)
        depart = now + delay + (0.0 if on_road else self._turnout[i][slot])
        noise = self._noise[i]
        travel = trip * self.hour_factor(depart) * noise[slot]
        arrive = depart + travel
        leave = arrive + self._on_scene[i]
        end = c
        if slot == 0 and self._transport[i]:
            facility = self._type_facility[self._type[i]]
            leave += self._travel[c][facility] * self.hour_factor(leave) * noise[-1]
            leave += self._handover[i]
            end = facility
        free_at = leave
        if not self._from_road[unit.service]:
            free_at += self._travel[end][unit.station] * self.hour_factor(leave)
            end = unit.station
        if slot == 0:
            self.t_dispatch[i] = now + delay
        if not arrive >= self.t_first[i]:  # also true while t_first is NaN
            self.t_first[i], self.first_unit[i], self.travel_first[i] = arrive, unit.index, travel
        if not leave <= self.t_clear[i]:
            self.t_clear[i] = leave
        if not arrive <= self.t_full[i]:  # running maxima; NaN compares false
            self.t_full[i] = arrive
        jobs = self._jobs
        jobs[0].append(i)
        jobs[1].append(unit.index)
        jobs[2].append(now)
        jobs[3].append(now + delay)
        jobs[4].append(arrive)
        jobs[5].append(free_at)
        self.env.timeout(free_at - now).callbacks.append(partial(self._on_free, unit, end))

    def _on_free(self, unit: Unit, place: int, _event: simpy.Event) -> None:
        now = self.env.now
        unit.ret_from, unit.ret_start = place, now
        unit.ret_end = now + self._travel[place][unit.station] * self.hour_factor(now)
        if unit.off_pending:
            unit.off_pending = unit.on_duty = unit.busy = False
            return
        self._available(unit)

    def _on_ready(self, i: int) -> None:
        """Call ``i`` has been handled: dispatch what is allowed and free, queue the rest."""
        now = self.env.now
        policy = self.policies[self.incident_service(i)]
        c = self._community[i]
        while self._sent[i] < self._need[i]:
            choice = policy.choose_unit(self, i, c, now)
            if choice is None:
                k = self._type[i]
                heapq.heappush(
                    self.queues[self._type_service[k]][c], (self._type_priority[k], self._ready[i], i)
                )
                return
            unit, delay = choice
            self._take(unit)
            self._dispatch(unit, i, delay)

    # -- processes ----------------------------------------------------------------------------
    def _calls(self) -> Iterator[simpy.Event]:
        ready = self._ready
        order = np.argsort(np.asarray(ready), kind="stable").tolist()
        env, horizon = self.env, self.horizon
        for i in order:
            t = ready[i]
            if t >= horizon:
                return
            if t > env.now:
                yield env.timeout(t - env.now)
            self._on_ready(i)

    def _duty_changes(self) -> Iterator[simpy.Event]:
        changes = sorted(
            (float(t), on, u)
            for u, intervals in enumerate(self.fleet.duty)
            for a, b in intervals
            for t, on in ((a, 1), (b, 0))
            if t < self.horizon
        )
        env = self.env
        for t, on, u in changes:
            if t > env.now:
                yield env.timeout(t - env.now)
            unit = self.units[u]
            if on:
                self._on_duty(unit)
            else:
                self._off_duty(unit)

    def _on_duty(self, unit: Unit) -> None:
        if unit.off_pending:  # the next shift began before the last job ended
            unit.off_pending = False
            return
        if unit.on_duty:
            return
        unit.on_duty = True
        unit.ret_from, unit.ret_end = unit.station, self.env.now
        self._available(unit)

    def _off_duty(self, unit: Unit) -> None:
        if unit.busy:
            unit.off_pending = True
        elif unit.on_duty:
            self._take(unit)
            unit.on_duty = False

    def run(self) -> EngineRecords:
        """Run to the horizon and return the records."""
        self.env.process(self._duty_changes())
        self.env.process(self._calls())
        self.env.run(until=self.horizon)
        f64 = partial(np.asarray, dtype=np.float64)
        jobs = self._jobs
        complete = np.asarray(self._sent) == np.asarray(self._need)
        return EngineRecords(
            t_ready=f64(self._ready),
            t_dispatch=f64(self.t_dispatch),
            t_first_arrival=f64(self.t_first),
            t_full_arrival=np.where(complete, f64(self.t_full), np.nan),
            t_clear=np.where(complete, f64(self.t_clear), np.nan),
            first_unit=np.asarray(self.first_unit, dtype=np.int32),
            units_sent=np.asarray(self._sent, dtype=np.int16),
            travel=f64(self.travel_first),
            job_incident=np.asarray(jobs[0], dtype=np.int64),
            job_unit=np.asarray(jobs[1], dtype=np.int32),
            job_assigned=f64(jobs[2]),
            job_dispatch=f64(jobs[3]),
            job_arrive=f64(jobs[4]),
            job_free=f64(jobs[5]),
        )


def simulate(region: Region, fleet: Fleet, incidents: Incidents) -> EngineRecords:
    """Run ``fleet`` against ``incidents`` and return the engine records."""
    return Engine(region, fleet, incidents).run()

