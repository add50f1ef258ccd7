"""The discrete-event engine: incidents meet units on a SimPy clock.

Lifecycle of an incident: call -> call handling -> dispatch (at once, or after waiting for a
unit) -> turnout -> travel -> on scene -> optional transport and handover -> the unit is free
again and heads back to its station. Each unit's job is fixed when it is dispatched (all random
numbers were drawn with the incidents), so the engine needs only a few kinds of events: a call
becoming ready for dispatch, a unit becoming free, and duty changes. SimPy keeps the clock and
the event queue; a single process feeds the calls, everything else runs as callbacks. A call
that would be the very next event (before every scheduled one) is answered at once, without
an event of its own: the same order and times (``Engine(..., fast=False)`` keeps an event per
call; tests compare the two).

A unit heading back to its station is available (unless the dispatch rule says ``from_road:
false``): its expected trip to a new incident interpolates between the trip from where it
started back and the trip from its station, by the share of the way back it has covered.

Services share nothing during a run (units, calls, queues and moves are each one service's), so
a run of some services alone (``Engine(..., services=...)``) can give each of them the records
a run of the whole fleet gives it, to the last bit, if it keeps that run's clock: it steps
through every call and every duty change, and handles only its services'. SimPy times an event
as the time it was scheduled plus its delay (so a call's time can differ in the last bit with
the call handled before it) and orders the events of one instant by when they were scheduled;
stepping through the same calls and duty changes keeps both.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_right
from collections.abc import Collection, Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy
from simpy.events import NORMAL

from ..collector import spared
from ..model.compile import Fleet, Region
from ..model.preference import SearchRow
from ..model.travel import COLUMN_COPY_MAX
from .demand import Incidents
from .policies import Policy, make_policy
from .positions import Positions, Way, zone_at
from .relocation import make_movers
from .work import job_models

__all__ = ["Engine", "EngineRecords", "Unit", "simulate"]

NAN = float("nan")
INF = float("inf")


class _Due:
    """A SimPy event of the engine's own, due at a time fixed when it is scheduled: a call
    ready, a unit free. It carries only what ``Environment.step`` reads of an event
    (``callbacks``, ``_ok``) and is reused: each unit has one (a unit has at most one job at a
    time) and the flow of calls one (one call scheduled at a time). ``callbacks`` is None
    while it is not scheduled. The engine schedules it with ``Environment.schedule`` at the
    priority and in the order a ``Timeout`` would have, so the run is the same, without a
    Timeout's bookkeeping on the two events of every call."""

    __slots__ = ("at", "callbacks", "due", "unit")
    _ok = True
    _value = None

    def __init__(self, callback: Any, unit: Unit | None = None) -> None:
        self.due = (callback,)
        self.callbacks: tuple[Any, ...] | None = None
        self.unit = unit  # whose free moment it is (None: the flow of calls)
        # when it is due, as SimPy works it out (now + delay): the clock's time when it fires
        self.at = 0.0


class Clock(simpy.Environment):
    """SimPy's environment with one addition: scheduling an event at a time the engine worked
    out as :meth:`~simpy.Environment.schedule` would have (``now + delay``) and with the next
    event id, so that a call answered at once (or another service's call stepped over) need
    not be the clock's current event for what it schedules to be timed and ordered as SimPy
    would time and order it."""

    def schedule_at(self, event: Any, at: float) -> None:
        heapq.heappush(self._queue, (at, NORMAL, next(self._eid), event))


class Unit:
    """The state of one unit during a run."""

    __slots__ = (
        "back",
        "busy",
        "event",
        "home",
        "index",
        "moved",
        "off_pending",
        "on_duty",
        "owner",
        "places",
        "ret_end",
        "ret_from",
        "ret_start",
        "ret_way",
        "service",
        "station",
        "ways",
    )

    def __init__(self, index: int, service: int, station: int, owner: int) -> None:
        self.index, self.service, self.station, self.owner = index, service, station, owner
        self.home = station  # ``station`` is where it stands or heads: a post under move-up
        self.moved = -float("inf")  # when its last move began
        self.busy = False
        self.on_duty = False
        self.off_pending = False
        self.ret_from, self.ret_start, self.ret_end = station, 0.0, 0.0
        # on the way back with nearest-zone positions: its Way (sim.engine.positions); once
        # the share ret_way[0][k] of the way is covered, it is at zone ret_way[1][k]
        self.ret_way: Way | None = None
        self.places: tuple[int, ...] = ()  # while free: where it is kept (sim.engine.positions)
        self.event: _Due  # the moment it is free again (set by the engine)
        # of a plain service (set by the engine): minutes back to its station from each place,
        # and its station's ways back, by the place they start from (filled as they are asked)
        self.back: Any = None
        self.ways: dict[int, Way] = {}


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
    job_free: np.ndarray
    # the jobs of units sent to calls needing several: job row, dispatch, arrival (a call's
    # only unit has its job's dispatch and arrival in the incident's t_dispatch and t_first)
    crew_row: np.ndarray
    crew_dispatch: np.ndarray
    crew_arrive: np.ndarray
    # moves between posts (sim.engine.relocation), in the order they began
    move_unit: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    move_start: np.ndarray = field(default_factory=lambda: np.zeros(0))
    move_arrive: np.ndarray = field(default_factory=lambda: np.zeros(0))
    move_from: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    move_to: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))

    def job_times(self, rows: slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """When each job of ``rows`` left and arrived: worked out when asked, in chunks if
        need be, rather than kept (16 bytes a job)."""
        jobs = self.job_incident[rows]
        dispatch, arrive = self.t_dispatch[jobs], self.t_first_arrival[jobs]
        start, stop, _ = rows.indices(len(self.job_incident))
        crew = (self.crew_row >= start) & (self.crew_row < stop)
        at = self.crew_row[crew] - start
        dispatch[at], arrive[at] = self.crew_dispatch[crew], self.crew_arrive[crew]
        return dispatch, arrive

    @property
    def job_dispatch(self) -> np.ndarray:
        """When each job's unit left: its assignment plus any request delay."""
        return self.job_times()[0]

    @property
    def job_arrive(self) -> np.ndarray:
        return self.job_times()[1]


def _mv(values: np.ndarray, dtype: type | None = None) -> Any:
    """A zero-copy memoryview for fast item access from Python (as fast as a list)."""
    return memoryview(np.ascontiguousarray(values, dtype=dtype))  # type: ignore[arg-type]


def _mv_view(values: np.ndarray) -> Any:
    """A zero-copy memoryview of a strided array, indexed ``[i]`` or ``[i, j]``."""
    return memoryview(values)  # type: ignore[arg-type]


def _service_rows(region: Region) -> list[list[Any]]:
    """Per service, a memoryview row per place of its trips; one set per distinct matrix."""
    made: dict[int, list[Any]] = {}
    out = []
    for s in range(len(region.services)):
        trips = region.trips(s)
        rows = made.get(id(trips))
        if rows is None:
            rows = made[id(trips)] = [memoryview(row) for row in np.ascontiguousarray(trips)]
        out.append(rows)
    return out


def _view(values: array[Any], dtype: type) -> np.ndarray:
    return np.frombuffer(values, dtype=dtype) if len(values) else np.empty(0, dtype=dtype)


def _back_columns(region: Region, fleet: Fleet) -> list[dict[int, Any]]:
    """Per service, minutes from every place to each of its stations, by station: compact
    copies of the columns of its trips, so that the trip back of a unit freed anywhere reads
    from a few small arrays rather than from a random row of a large matrix (strided views of
    the matrix past COLUMN_COPY_MAX bytes a service; a post of move-up gets its column when
    first asked)."""
    out: list[dict[int, Any]] = []
    for s in range(len(region.services)):
        trips = region.trips(s)
        distinct = np.unique(fleet.station[fleet.service == s]).tolist()
        copy = len(distinct) * trips.shape[0] * trips.itemsize <= COLUMN_COPY_MAX
        out.append({int(st): _column(trips, int(st), copy) for st in distinct})
    return out


def _column(trips: np.ndarray, station: int, copy: bool = False) -> Any:
    column = trips[:, station]
    return memoryview(np.ascontiguousarray(column) if copy else column)  # type: ignore[arg-type]


class Engine:
    """One run of one fleet against one replication's incidents.

    State lives in compact arrays indexed by incident (``array.array``: 8 bytes an item) and
    in one small object per unit; the engine draws no random numbers.
    """

    def __init__(
        self,
        region: Region,
        fleet: Fleet,
        incidents: Incidents,
        services: Collection[int] | None = None,
        fast: bool = True,
    ) -> None:
        """``fast=False``: the general path everywhere (the fast paths give the same records;
        tests compare the two)."""
        self.region, self.fleet, self.inc = region, fleet, incidents
        # the services run: their calls, duty changes and moves (the others' records stay empty)
        every = range(len(region.services))
        self.services: Collection[int] = (
            every if services is None else frozenset(services) & frozenset(every)
        )
        self.env = Clock()
        self.horizon = region.horizon
        # travel[s][a][b]: the trips of service s, a row per place, read in place (no list of
        # P x P Python floats); services driving at one time factor share their rows
        self.travel: list[list[Any]] = _service_rows(region)
        self._hours = region.hour_factors.tolist()
        self._flat_hours = all(h == 1.0 for h in self._hours)
        n_com, n_svc = len(region.communities), len(region.services)
        self.units = [
            Unit(i, int(fleet.service[i]), int(fleet.station[i]), int(fleet.owner[i]))
            for i in range(fleet.size)
        ]
        self._back = _back_columns(region, fleet)  # _back[s][station][place]: trip back
        ways_to: dict[int, dict[int, Way]] = {}  # per station, by place: the way back
        for u in self.units:
            u.event = _Due(self._on_free, u)
            u.back = self._back[u.service][u.station]
            if region.snapper is not None:
                u.ways = ways_to.setdefault(u.station, {})
        self._call_event = _Due(self._call if services is None else self._call_some)
        self.free: list[dict[int, Unit]] = [{} for _ in range(n_svc)]
        self.free_by_owner: list[list[dict[int, Unit]]] = [
            [{} for _ in range(n_com)] for _ in range(n_svc)
        ]
        # free units by where they are (at a station, at a zone on the way back, returning)
        snap = region.snapper  # positions: the places, then the tiles of zones
        held = len(region.places) if snap is None else snap.n_positions
        self.positions = [Positions(held) for _ in range(n_svc)]
        # search_rows[s][place]: the search_order of place, once asked
        self.search_rows: list[list[SearchRow | None]] = [
            [None] * len(region.places) for _ in range(n_svc)
        ]
        self.queues: list[list[list[tuple[int, float, int]]]] = [
            [[] for _ in range(n_com)] for _ in range(n_svc)
        ]
        self._waiting = [0] * n_svc  # calls waiting for a unit, per service
        self.crews: dict[int, list[int]] = {}  # units sent so far to partly served calls
        self.policies: list[Policy] = [make_policy(rule) for rule in fleet.dispatch]
        self._finders = [p.finder() for p in self.policies]
        self._jobs = job_models(region, fleet, incidents)  # None: jobs run straight through
        self._from_road = [rule.from_road for rule in fleet.dispatch]
        types = region.types
        self._type_service = [t.service for t in types]
        self._type_priority = [t.priority for t in types]
        self._return_factor = region.return_speed_factor
        self._snap = region.snapper
        self._n_places = len(region.places)
        self._ways: dict[int, Way] = {}  # by origin * places + station
        n = len(incidents)
        self._type = _mv(incidents.type)
        self._service = _mv(np.array(self._type_service, dtype=np.int16)[incidents.type])
        self._community = _mv(incidents.community)
        self._facility = _mv(incidents.facility)  # where a transport goes (drawn with it)
        # where each incident happens: its zone's place (a community's centre without zones)
        self.incident_place = _mv(region.zone_place[incidents.zone])
        # indexed [incident, slot]: the slot is the number of units already sent to the call
        self._turnout = _mv_view(incidents.turnout)
        self._scene_noise = _mv_view(incidents.scene_noise)
        self._turnout0 = _mv_view(incidents.turnout[:, 0])  # slot 0, the common case
        self._scene_noise0 = _mv_view(incidents.scene_noise[:, 0])
        self._transport_noise = _mv_view(incidents.transport_noise)  # indexed [incident]
        self._on_scene = _mv(incidents.on_scene)
        self._transport = _mv(incidents.transport)
        self._handover = _mv(incidents.handover)
        self.ready = incidents.t_call + incidents.call_handling
        self._ready = _mv(self.ready)
        self._order = _mv(np.argsort(self.ready, kind="stable"))
        self._next = 0  # the calls handled so far; the next one is incident _next_i
        self._next_i = 0
        self._ready_calls = int(np.count_nonzero(self.ready < self.horizon))  # called in time
        self.need = np.array([t.units_needed for t in types], dtype=np.int8)[incidents.type]
        self._need = _mv(self.need)
        # outputs: numpy arrays written through memoryviews, handed over without a copy
        self.out = {
            name: np.full(n, np.nan)
            for name in ("t_dispatch", "t_first", "t_full", "t_clear", "travel")
        }
        self.out_sent = np.zeros(n, dtype=np.int8)
        self.out_unit = np.full(n, -1, dtype=np.int32)
        self.t_dispatch, self.t_first = _mv(self.out["t_dispatch"]), _mv(self.out["t_first"])
        self.t_full, self.t_clear = _mv(self.out["t_full"]), _mv(self.out["t_clear"])
        self.travel_first = _mv(self.out["travel"])
        self._sent = _mv(self.out_sent)
        self.first_unit = _mv(self.out_unit)
        # the job log: one row per unit sent (at most one per unit a call needs), a column
        # per array, written in step; a call's only unit has its unit, dispatch and arrival in
        # the incident's records (read back in run), a crew's units theirs in the crew log:
        # row, unit, dispatch, arrival. A unit sent by _send leaves its assignment and free
        # moment NaN: they are its call's dispatch and clear times (filled in in run)
        rows = int(self.need.sum())
        self._job_log = {
            "incident": np.empty(rows, dtype=np.int32),
            "assigned": np.full(rows, np.nan),  # when the unit was chosen
            "free": np.full(rows, np.nan),  # when it can take the next call
        }
        self._job_incident = _mv(self._job_log["incident"])
        self._job_assigned = _mv(self._job_log["assigned"])
        self._job_free = _mv(self._job_log["free"])
        self._n_jobs = 0
        self._crew_row, self._crew_unit = array("q"), array("i")
        self._crew_dispatch = array("d")  # when it left: assigned + request delay
        self._crew_arrive = array("d")
        self.movers = make_movers(self)  # per service: its relocation policy, None: none
        if services is not None:
            self.movers = [m if s in self.services else None for s, m in enumerate(self.movers)]
        # owners' free units: kept for the policies and the move-up rules that read them
        self._by_owner = [
            p.by_owner or m is not None for p, m in zip(self.policies, self.movers, strict=True)
        ]
        # services whose jobs run straight through, back to the unit's home station (a unit
        # moved to a post too), available on the way: the common case, with fast paths
        self._plain = [
            fast
            and self._from_road[s]
            and self._jobs[s] is None
            and (mover is None or mover.rule.return_home)
            for s, mover in enumerate(self.movers)
        ]
        # services whose one-unit calls take the fast path of _call: a plain service, or one
        # that relocates units (its rule is asked after each dispatch, as in _answer)
        self._fast = [
            f if fast and self._from_road[s] and self._jobs[s] is None else None
            for s, f in enumerate(self._finders)
        ]
        # services whose calls may be answered at once, without an event of their own (_call)
        self._inline = [fast and s in self.services for s in range(n_svc)]
        # per service: whether every call needs one unit, whether some call has a transport
        mine = [[t for t in types if t.service == s] for s in range(n_svc)]
        self._single = [all(t.units_needed == 1 for t in own) for own in mine]
        self._carries = [any(t.transport_prob > 0 for t in own) for own in mine]

    # -- helpers the policies use -------------------------------------------------------------
    def hour_factor(self, t: float) -> float:
        return 1.0 if self._flat_hours else self._hours[int(t // 60) % 24]

    def expected_travel(self, unit: Unit, place: int, t: float) -> float:
        """Expected minutes (before the hour's speed factor) from where ``unit`` is to ``place``."""
        rows = self.travel[unit.service]
        to_place = rows[unit.station][place]
        if t >= unit.ret_end:
            return to_place
        if unit.ret_way is not None:  # from the zone nearest to where it is on its way
            return rows[zone_at(unit, t)][place]
        done = (t - unit.ret_start) / (unit.ret_end - unit.ret_start)
        return (1.0 - done) * rows[unit.ret_from][place] + done * to_place

    def head(self, unit: Unit, community: int) -> tuple[int, float, int] | None:
        """The first call waiting in ``community`` that ``unit`` may take: by priority, then
        age, skipping a call needing several units that this unit already serves."""
        q = self.queues[unit.service][community]
        if not q:
            return None
        if not self.crews or unit.index not in self.crews.get(q[0][2], ()):
            return q[0]
        return next((e for e in sorted(q) if unit.index not in self.crews.get(e[2], ())), None)

    def search_order(self, service: int, place: int) -> SearchRow:
        """The places where free units of ``service`` can be, nearest to ``place`` first, their
        trips, and whether that is all of them (:mod:`sim.model.preference`)."""
        memo = self.search_rows[service]
        found = memo[place]
        if found is None:
            found = memo[place] = self.fleet.preference[service].row(
                place, self.region.trips(service)
            )
        return found

    # -- state changes ------------------------------------------------------------------------
    def _make_free(self, unit: Unit, now: float) -> None:
        s, i = unit.service, unit.index
        self.free[s][i] = unit
        if self._by_owner[s]:
            self.free_by_owner[s][unit.owner][i] = unit
        self.positions[s].add(unit, now)

    def _take(self, unit: Unit) -> None:
        s, i = unit.service, unit.index
        del self.free[s][i]
        if self._by_owner[s]:
            del self.free_by_owner[s][unit.owner][i]
        self.positions[s].remove(unit)

    def _available(self, unit: Unit, now: float) -> None:
        """``unit`` can take work: the waiting call its policy picks, or wait itself."""
        unit.busy = False
        s = unit.service
        found = self.policies[s].choose_call(self, unit, now) if self._waiting[s] else None
        if found is None:
            self._make_free(unit, now)
            return
        incident, community, delay = found
        if self._need[incident] == 1 and self._plain[s] and now >= unit.ret_end:
            self._send(unit, incident, self.incident_place[incident], delay, now)
            complete = True
        else:
            self._dispatch(unit, incident, delay, now)
            complete = self._sent[incident] == self._need[incident]
        if complete:
            q = self.queues[s][community]
            if q[0][2] == incident:
                heapq.heappop(q)
            else:  # it was behind a call that this unit already serves
                q.remove(next(e for e in q if e[2] == incident))
                heapq.heapify(q)
            self._waiting[s] -= 1

    def _dispatch(self, unit: Unit, i: int, delay: float, now: float) -> None:
        """Send ``unit`` to call ``i`` at ``now`` (it leaves after ``delay``): its whole job is
        known at once; records, and the event of the moment it is free again."""
        unit.busy = True
        slot = self._sent[i]
        self._sent[i] = slot + 1
        c = self.incident_place[i]
        sent = now + delay
        if now >= unit.ret_end:  # at the station: the crew turns out
            trip = self.travel[unit.service][unit.station][c]
            depart = sent + (self._turnout[i, slot] if slot else self._turnout0[i])
        else:  # on the road back: no turnout
            trip = self.expected_travel(unit, c, now)
            depart = sent
        travel = trip * (self._scene_noise[i, slot] if slot else self._scene_noise0[i])
        flat = self._flat_hours
        if not flat:
            travel *= self._hours[int(depart // 60) % 24]
        arrive = depart + travel
        leave = arrive + self._on_scene[i]
        end = c
        if slot == 0 and self._transport[i]:
            facility = self._facility[i]
            ride = self.travel[unit.service][c][facility]
            if not flat:
                ride *= self._hours[int(leave // 60) % 24]
            leave += ride * self._transport_noise[i]
            leave += self._handover[i]
            end = facility
        free_at = leave
        s = unit.service
        if not self._from_road[s]:
            back = self._back_trip(s, unit.station)[end] / self._return_factor
            free_at += back if flat else back * self._hours[int(leave // 60) % 24]
            end = unit.station
        jobs = self._jobs[s]
        if jobs is not None:  # on a working calendar, or a case slot (sim.engine.work)
            travel, arrive, leave, free_at, end = jobs.job(
                unit, i, sent, travel, arrive, leave, free_at, end
            )
        index = unit.index
        need = self._need[i]
        if need == 1:  # the common case: this unit is the whole response (t_full: in run)
            self.t_dispatch[i], self.t_first[i], self.t_clear[i] = sent, arrive, leave
            self.first_unit[i], self.travel_first[i] = index, travel
        else:
            self._record_crew(unit, i, slot, need, sent, arrive, travel, leave)
        j = self._n_jobs
        self._n_jobs = j + 1
        self._job_incident[j], self._job_assigned[j], self._job_free[j] = i, now, free_at
        unit.ret_from = end
        event = unit.event
        if event.callbacks is not None:
            raise RuntimeError(f"unit {index} was sent while its last job was still on")
        event.callbacks = event.due
        event.at = at = now + (free_at - now)  # as SimPy works it out: now + delay
        self.env.schedule_at(event, at)

    def _send(self, unit: Unit, i: int, c: int, delay: float, now: float) -> None:
        """:meth:`_dispatch` in the common case: a unit at its station of a plain service sent
        as the only unit a new call (at place ``c``) needs (the same arithmetic, without the
        other cases)."""
        unit.busy = True
        sent = now + delay
        s = unit.service
        depart = sent + self._turnout0[i]
        travel = self.travel[s][unit.station][c] * self._scene_noise0[i]
        flat = self._flat_hours
        if not flat:
            travel *= self._hours[int(depart // 60) % 24]
        arrive = depart + travel
        leave = arrive + self._on_scene[i]
        end = c
        if self._carries[s] and self._transport[i]:
            facility = self._facility[i]
            ride = self.travel[s][c][facility]
            if not flat:
                ride *= self._hours[int(leave // 60) % 24]
            leave += ride * self._transport_noise[i]
            leave += self._handover[i]
            end = facility
        index = unit.index
        self.t_dispatch[i], self.t_first[i], self.t_clear[i] = sent, arrive, leave
        self.first_unit[i], self.travel_first[i] = index, travel
        j = self._n_jobs
        self._n_jobs = j + 1
        self._job_incident[j] = i
        if delay:  # else its dispatch time (and its free moment, its clear time: see run)
            self._job_assigned[j] = now
        unit.ret_from = end
        event = unit.event
        if event.callbacks is not None:
            raise RuntimeError(f"unit {index} was sent while its last job was still on")
        event.callbacks = event.due
        event.at = at = now + (leave - now)  # as SimPy works it out: now + delay
        self.env.schedule_at(event, at)

    def _record_crew(
        self,
        unit: Unit,
        i: int,
        slot: int,
        need: int,
        sent: float,
        arrive: float,
        travel: float,
        leave: float,
    ) -> None:
        """Records of a call needing several units: first and last arrival, last to leave;
        the unit's row of the crew log."""
        self._crew_row.append(self._n_jobs)  # the job row about to be written
        self._crew_unit.append(unit.index)
        self._crew_dispatch.append(sent)
        self._crew_arrive.append(arrive)
        if not sent >= self.t_dispatch[i]:  # the first to leave (a partner's unit sent first
            self.t_dispatch[i] = sent  # may wait out its request delay); NaN compares false
        self.crews.setdefault(i, []).append(unit.index)
        if slot + 1 == need:
            del self.crews[i]
        if not arrive >= self.t_first[i]:  # also true while t_first is NaN
            self.t_first[i], self.first_unit[i], self.travel_first[i] = arrive, unit.index, travel
        if not leave <= self.t_clear[i]:  # running maxima; NaN compares false
            self.t_clear[i] = leave
        if not arrive <= self.t_full[i]:
            self.t_full[i] = arrive

    def _back_trip(self, service: int, station: int) -> Any:
        """Minutes from each place to ``station`` for units of ``service``."""
        columns = self._back[service]
        found = columns.get(station)
        if found is None:  # a post of move-up that holds no unit of the fleet
            found = columns[station] = _column(self.region.trips(service), station)
        return found

    def way(self, origin: int, station: int) -> Way:
        """The way from place ``origin`` to ``station`` by nearest zones, remembered."""
        key = origin * self._n_places + station
        found = self._ways.get(key)
        if found is None:
            assert self._snap is not None
            found = self._ways[key] = self._snap.way(origin, station)
        return found

    def _way_back(self, unit: Unit) -> Way:
        """The way back of a unit of a plain service from where it is freed, remembered in its
        station's dict (the snapper keeps every way of the process)."""
        assert self._snap is not None
        found = unit.ways[unit.ret_from] = self._snap.way(unit.ret_from, unit.station)
        return found

    def _on_free(self, event: _Due) -> None:
        unit: Unit = event.unit  # type: ignore[assignment]
        now = event.at  # (= self.env.now)
        s = unit.service
        if self._plain[s] and not unit.off_pending:  # the common case, inlined
            unit.station = unit.home  # (a unit moved to a post goes home after a job)
            unit.ret_start = now
            back = unit.back[unit.ret_from] / self._return_factor
            unit.ret_end = end = now + (
                back if self._flat_hours else back * self._hours[int(now // 60) % 24]
            )
            if self._snap is not None:  # by the zones of its way
                unit.ret_way = (
                    (unit.ways.get(unit.ret_from) or self._way_back(unit)) if end > now else None
                )
            if self._waiting[s]:
                self._available(unit, now)
            else:
                unit.busy = False
                i = unit.index
                self.free[s][i] = unit
                if self._by_owner[s]:
                    self.free_by_owner[s][unit.owner][i] = unit
                way = unit.ret_way
                if way is None:  # parked, or interpolated
                    self.positions[s].add(unit, now)
                else:  # on a way back by zones (inlined Positions.add)
                    positions = self.positions[s]
                    unit.places = tiles = way[2]
                    at = positions.at
                    for tile in tiles:
                        at[tile].append(unit)
                    ends = positions.ends
                    k = bisect_right(ends, end)
                    ends.insert(k, end)
                    positions.due.insert(k, unit)
            mover = self.movers[s]
            if mover is not None and not unit.busy:  # (busy: it took a waiting call at once)
                mover.event(self, now)
            return
        mover = self.movers[unit.service]
        if mover is not None:
            unit.station = mover.post_after_job(unit)
        unit.ret_start = now
        unit.ret_way = None
        s = unit.service
        if self._from_road[s]:
            back = self._back_trip(s, unit.station)[unit.ret_from] / self._return_factor
            unit.ret_end = end = now + (
                back if self._flat_hours else back * self._hours[int(now // 60) % 24]
            )
            if self._snap is not None and end > now:  # by the zones of its way
                key = unit.ret_from * self._n_places + unit.station
                unit.ret_way = self._ways.get(key) or self.way(unit.ret_from, unit.station)
        else:
            unit.ret_end = now  # its job included the way back: it is at its station
        if unit.off_pending:
            unit.off_pending = unit.on_duty = unit.busy = False
            return
        if self._waiting[s]:
            self._available(unit, now)
        else:  # nothing waits: free (inlined _available and _make_free)
            unit.busy = False
            i = unit.index
            self.free[s][i] = unit
            if self._by_owner[s]:
                self.free_by_owner[s][unit.owner][i] = unit
            self.positions[s].add(unit, now)
        if mover is not None and not unit.busy:  # (busy: it took a waiting call at once)
            mover.event(self, now)

    # -- the flow of calls: one event at a time, each scheduling the next ---------------------
    def _schedule_call(self) -> None:
        """The event of the next call to become ready, if any before the horizon."""
        k = self._next
        if k < self._ready_calls:
            self._next_i = i = self._order[k]
            env, event = self.env, self._call_event
            event.callbacks = event.due
            delay = self._ready[i] - env.now
            event.at = env.now + delay
            env.schedule(event, NORMAL, delay)  # type: ignore[arg-type]

    def _call(self, event: _Due) -> None:
        """The next call has been handled: dispatch what is allowed and free, queue the rest;
        then the event of the call after it (:meth:`_schedule_call`, inlined).

        A call scheduled now has the newest event id, so it is the next event exactly when it
        comes strictly before every scheduled one: such a call is answered here at once, at
        the time SimPy would give it (the last call's time plus the delay): the services and
        their relocation rules read no clock but the times they are handed (``_inline``)."""
        now = event.at  # (= self.env.now, but for the calls answered at once)
        i = self._next_i
        queue = self.env._queue  # (time, priority, id, event), the earliest first
        while True:
            s = self._service[i]
            find = self._fast[s]
            if find is not None and (self._single[s] or self._need[i] == 1):  # the common case
                c = self.incident_place[i]
                unit = find(self, s, c, now)
                if unit is None:  # it waits (inlined _wait)
                    priority = self._type_priority[self._type[i]]
                    heapq.heappush(
                        self.queues[s][self._community[i]], (priority, self._ready[i], i)
                    )
                    self._waiting[s] += 1
                else:
                    u = unit.index  # taken: no longer free (inlined _take)
                    del self.free[s][u]
                    if self._by_owner[s]:
                        del self.free_by_owner[s][unit.owner][u]
                    if unit.places:
                        self.positions[s].remove(unit)
                    else:  # parked at its station (inlined Positions.remove)
                        self.positions[s].at[unit.station].remove(unit)
                    if now >= unit.ret_end:
                        self._send(unit, i, c, 0.0, now)
                    else:
                        self._dispatch(unit, i, 0.0, now)
                    mover = self.movers[s]
                    if mover is not None:
                        mover.event(self, now)
            else:
                self._answer(i, s, now)
            k = self._next + 1
            self._next = k
            if k >= self._ready_calls:
                return
            self._next_i = i = self._order[k]
            at = now + (self._ready[i] - now)
            if at < queue[0][0] and self._inline[self._service[i]]:
                now = at  # the next event: answered at once
                continue
            event.callbacks = event.due  # the next call, with the event SimPy is done with
            event.at = at
            self.env.schedule_at(event, at)
            return

    def _answer(self, i: int, s: int, now: float) -> None:
        """Call ``i`` in general: its policy chooses units one by one, up to as many as it
        needs; the rest of it waits."""
        choose = self.policies[s].choose_unit
        c = self._community[i]
        place = self.incident_place[i]
        need = self._need[i]
        sent = False
        while True:  # for most calls need is 1: one pass
            choice = choose(self, s, c, place, now)
            if choice is None:
                self._wait(i, s, c)
                break
            unit, delay = choice
            sent = True
            self._take(unit)
            if need == 1 and self._plain[s] and now >= unit.ret_end:
                self._send(unit, i, place, delay, now)  # the common case of _dispatch
                break
            self._dispatch(unit, i, delay, now)
            if self._sent[i] >= need:
                break
        mover = self.movers[s]
        if mover is not None and sent:
            mover.event(self, now)

    def _wait(self, i: int, s: int, c: int) -> None:
        """Call ``i`` waits in its community's queue, by priority, then age."""
        priority = self._type_priority[self._type[i]]
        heapq.heappush(self.queues[s][c], (priority, self._ready[i], i))
        self._waiting[s] += 1

    def _call_some(self, event: _Due) -> None:
        """:meth:`_call` in a run of some services: another service's call is stepped over,
        only to keep the clock of a run of the whole fleet (see the module's docstring).

        The calls of other services after it that come strictly before every scheduled event
        would each be the next event (a call scheduled now has the newest id, so it loses every
        tie): they are stepped over here at once, their times worked out as SimPy would (the
        time of the last plus the delay to the next), and the next call is scheduled at the
        time and in the order SimPy would have given it."""
        mine, service = self.services, self._service
        if service[self._next_i] in mine:
            self._call(event)
            return
        now, k, n = event.at, self._next + 1, self._ready_calls
        queue = self.env._queue  # (time, priority, id, event), the earliest first
        first = queue[0][0] if queue else INF
        order, ready = self._order, self._ready
        while k < n:
            i = order[k]
            if service[i] in mine:
                break
            at = now + (ready[i] - now)
            if not at < first:
                break
            now, k = at, k + 1
        self._next = k
        if k < n:
            self._next_i = i = order[k]
            event.callbacks = event.due
            event.at = at = now + (ready[i] - now)
            self.env.schedule_at(event, at)

    def _duty_changes(self) -> Generator[simpy.Event, Any, None]:
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
            if unit.service not in self.services:  # stepped over, as calls are (_call_some)
                continue
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
        now = self.env.now
        unit.station = unit.home  # a shift starts at the home station
        unit.ret_from, unit.ret_end, unit.ret_way = unit.station, now, None
        self._available(unit, now)
        self._duty_event(unit)

    def _off_duty(self, unit: Unit) -> None:
        if unit.busy:
            unit.off_pending = True
        elif unit.on_duty:
            self._take(unit)
            unit.on_duty = False
            self._duty_event(unit)

    def _duty_event(self, unit: Unit) -> None:
        mover = self.movers[unit.service]
        if mover is not None:
            mover.event(self, self.env.now)

    def run(self) -> EngineRecords:
        """Run to the horizon and return the records."""
        self.env.process(self._duty_changes())
        for mover in self.movers:
            if mover is not None and mover.rule.tick is not None:
                self.env.process(mover.ticks(self))  # type: ignore[arg-type]
        self._schedule_call()
        self.env.run(until=self.horizon)
        out = self.out
        n_jobs = self._n_jobs
        jobs = self._job_log["incident"][:n_jobs]
        assigned, free = self._job_log["assigned"][:n_jobs], self._job_log["free"][:n_jobs]
        sent_alone = np.isnan(assigned)  # by _send: at once, and straight through
        assigned[sent_alone] = out["t_dispatch"][jobs[sent_alone]]
        sent_alone = np.isnan(free)
        free[sent_alone] = out["t_clear"][jobs[sent_alone]]
        single = self.need == 1  # one unit is the whole response
        self.out_sent[single & ~np.isnan(out["t_dispatch"])] = 1  # (_send does not count)
        job_unit = self.out_unit[jobs]  # a call's only unit: as in the incident's records
        crew = _view(self._crew_row, np.int64)  # a crew's units: as in the crew log
        job_unit[crew] = _view(self._crew_unit, np.int32)
        out["t_full"][single] = out["t_first"][single]  # its arrival is the full arrival
        complete = self.out_sent == self.need
        for name in ("t_full", "t_clear"):
            out[name][~complete] = np.nan
        records = EngineRecords(
            t_ready=self.ready,
            t_dispatch=out["t_dispatch"],
            t_first_arrival=out["t_first"],
            t_full_arrival=out["t_full"],
            t_clear=out["t_clear"],
            first_unit=self.out_unit,
            units_sent=self.out_sent,
            travel=out["travel"],
            job_incident=jobs,
            job_unit=job_unit,
            job_assigned=assigned,
            job_free=free,
            crew_row=crew,
            crew_dispatch=_view(self._crew_dispatch, np.float64),
            crew_arrive=_view(self._crew_arrive, np.float64),
            **self._move_log(),
        )
        self._release()
        return records

    def _move_log(self) -> dict[str, np.ndarray]:
        """The moves of every service, in the order they began (ties: by service)."""
        movers = [m for m in self.movers if m is not None]
        if not movers:
            return {}
        cols = {
            "move_unit": (np.int32, "log_unit"),
            "move_start": (np.float64, "log_start"),
            "move_arrive": (np.float64, "log_arrive"),
            "move_from": (np.int32, "log_from"),
            "move_to": (np.int32, "log_to"),
        }
        out = {
            name: np.concatenate([_view(getattr(m, attr), dtype) for m in movers])
            for name, (dtype, attr) in cols.items()
        }
        order = np.argsort(out["move_start"], kind="stable")
        return {name: values[order] for name, values in out.items()}

    def _release(self) -> None:
        """Drop the run's state: pending events and callbacks refer back to the engine, and
        the cycle would otherwise keep every array alive until the garbage collector runs."""
        self.__dict__.clear()


def simulate(
    region: Region, fleet: Fleet, incidents: Incidents, services: Collection[int] | None = None
) -> EngineRecords:
    """Run ``fleet`` (the units of ``services`` alone, if given) against ``incidents`` and
    return the engine records (the objects alive before the run spared the collector's full
    passes: :mod:`sim.collector`)."""
    with spared():
        return Engine(region, fleet, incidents, services).run()
