"""Which services of an option repeat an option already simulated in the same replication.

The engine's services share nothing during a run (:mod:`sim.engine.loop`), and every random
number comes with the incidents, so one service's records in a replication depend only on the
region, the incidents and what the engine reads of that service in the fleet: its units in
order (service, station, owner, duty intervals), its dispatch rule, its preference lists and
its relocation rule. Options often differ in one or two services only (Five Valleys: mutual aid
changes ambulance and fire, the hub ambulance alone), so the driver simulates each distinct
service configuration once per replication and lets later options reuse those records
(:mod:`sim.engine.merge` assembles them).

Equality must be exact, never by name: :func:`service_key` is the value of everything the engine
reads of one service, arrays by their bytes. What it cannot compare by value (an object of an
unknown kind, a fleet field it does not know, a records field the merge does not know) gives no
key, and such a service is always simulated.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np

from ..model.compile import Fleet, Region
from ..model.preference import Preference
from .demand import Incidents
from .loop import EngineRecords, simulate
from .merge import RECORD_FIELDS, Part, canonical, merge

__all__ = [
    "ENGINE_FIELDS",
    "IGNORED_FIELDS",
    "Unshareable",
    "plan_reuse",
    "service_key",
    "simulate_fleets",
]

ENGINE_FIELDS = ("service", "station", "owner", "duty", "dispatch", "preference", "relocation")
"""Fields of :class:`~sim.model.compile.Fleet` the engine reads: all in the key."""
IGNORED_FIELDS = ("option", "labels", "station_ids", "cost_per_hour")
"""Fields the engine never reads: names (never compared) and costs (only tables read them)."""
# ``workers``: the engine runs case slots as units and never reads them, but they say which
# slots belong to one worker, per unit data of the kind a key takes in when in doubt


class Unshareable(Exception):
    """A value that cannot be compared exactly: its service is simulated, never reused."""


def _value(x: Any) -> Hashable:
    """``x`` as a hashable value that is equal exactly when ``x`` is (arrays by dtype, shape
    and bytes; dataclasses by type and fields)."""
    if x is None or isinstance(x, bool | int | str):
        return x
    if isinstance(x, float):
        if x != x:  # NaN equals nothing, not even itself: refuse rather than never match
            raise Unshareable("NaN")
        return x
    if isinstance(x, np.ndarray):
        return ("array", x.dtype.str, x.shape, np.ascontiguousarray(x).tobytes())
    if isinstance(x, np.generic):
        return _value(x.item())
    if isinstance(x, tuple | list):
        return (type(x).__name__, tuple(_value(v) for v in x))
    if isinstance(x, dict):
        items = [(_value(k), _value(v)) for k, v in x.items()]
        return ("dict", tuple(sorted(items, key=repr)))
    if isinstance(x, Preference):
        return ("preference", _value(x.stations), _value(x.positions), x.reach)
    if is_dataclass(x) and not isinstance(x, type):
        cls = type(x)
        named = tuple((f.name, _value(getattr(x, f.name))) for f in fields(x))
        return ("dataclass", f"{cls.__module__}.{cls.__qualname__}", named)
    raise Unshareable(f"no exact value for a {type(x).__name__}")


def _workers(fleet: Fleet, units: np.ndarray) -> Hashable:
    """Which of ``units`` are slots of one worker (numbered in order of first slot), and those
    workers' offices, owners and working time."""
    workers = fleet.workers
    if workers is None:
        return None
    of = workers.of_unit[units].tolist()
    local = list(dict.fromkeys(w for w in of if w >= 0))
    number = {w: i for i, w in enumerate(local)}
    return (
        tuple(number.get(w, -1) for w in of),
        tuple(
            (int(workers.station[w]), int(workers.owner[w]), _value(workers.working[w]))
            for w in local
        ),
    )


def service_key(fleet: Fleet, service: int) -> Hashable | None:
    """Everything the engine reads of ``service`` in ``fleet``, by value; None when some of it
    cannot be compared exactly (then the service is never shared)."""
    known = set(ENGINE_FIELDS) | set(IGNORED_FIELDS) | {"workers"}
    if {f.name for f in fields(Fleet)} - known or {f.name for f in fields(EngineRecords)} - set(
        RECORD_FIELDS
    ):
        return None  # a field this module does not know: when in doubt, do not share
    units = np.flatnonzero(fleet.service == service)
    rule = fleet.relocation_of(service)
    try:
        return (
            _value(fleet.station[units]),
            _value(fleet.owner[units]),
            tuple(_value(fleet.duty[u]) for u in units.tolist()),
            _value(fleet.dispatch[service]),
            _value(fleet.preference[service]),
            _value(rule) if rule.moves else None,  # a rule that moves nothing is never read
            _workers(fleet, units),
        )
    except Unshareable:
        return None


def plan_reuse(fleets: Sequence[Fleet], n_services: int) -> list[dict[int, int]]:
    """Per fleet, in order: the services it takes from an earlier fleet, by that fleet's
    position. The earlier fleet is the first with the service's configuration, so it always
    simulated that service itself."""
    first: dict[Hashable, int] = {}
    out: list[dict[int, int]] = []
    for i, fleet in enumerate(fleets):
        reuse = {}
        for s in range(n_services):
            key = service_key(fleet, s)
            if key is None:
                continue
            key = (s, key)
            if key in first:
                reuse[s] = first[key]
            else:
                first[key] = i
        out.append(reuse)
    return out


def simulate_fleets(
    region: Region, fleets: Sequence[Fleet], incidents: Incidents
) -> Iterator[EngineRecords]:
    """Each of ``fleets`` against ``incidents``, in order: its records as a run of the whole
    fleet gives them (in :func:`~sim.engine.merge.canonical` order). A service configured as
    in an earlier fleet takes that fleet's records; the others run together in one run. The
    records of a fleet are kept only while a later fleet still needs them."""
    n = len(region.services)
    plan = plan_reuse(fleets, n)
    last_use = {j: i for i, reuse in enumerate(plan) for j in reuse.values()}
    incident_service = np.array([t.service for t in region.types], dtype=np.int64)[incidents.type]
    kept: dict[int, EngineRecords] = {}
    for i, (fleet, reuse) in enumerate(zip(fleets, plan, strict=True)):
        own = tuple(s for s in range(n) if s not in reuse)
        parts = [
            Part(kept[j], fleets[j], tuple(s for s, k in reuse.items() if k == j))
            for j in sorted(set(reuse.values()))
        ]
        if own:
            run = simulate(region, fleet, incidents, None if len(own) == n else own)
            parts.insert(0, Part(run, fleet, own))
        if reuse:
            records = merge(fleet, incident_service, n, parts)
        else:
            records = canonical(parts[0].records, fleet, incident_service, n)
        for j in set(reuse.values()):
            if last_use[j] == i:
                del kept[j]
        if last_use.get(i, -1) > i:
            kept[i] = records
        yield records
