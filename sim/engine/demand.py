"""Incidents of one replication: arrival times and everything drawn at arrival.

Arrivals per community x incident type are a non-homogeneous Poisson process (hour-of-week
profile times the month of year's factor times any surge), generated exactly by thinning a
homogeneous process at the peak rate.
All attributes (call handling, turnout per unit, on-scene time, transport, handover, travel
noise) are drawn here, per stream, so that the engine draws no random numbers and every pooling
option sees the same incidents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.compile import MINUTES_PER_WEEK, Region, TypeSpec
from ..model.sampling import draw
from ..model.streams import ARRIVALS, BURSTS, NOISE, ZONES, stream

__all__ = [
    "DURATION",
    "Incidents",
    "generate_incidents",
    "heaviest_zones",
    "intensity",
    "place_in_zones",
    "transport_facilities",
]

# Durations drawn at arrival are stored in single precision: 7 significant digits (1 ms at
# 4 hours), half the memory of a million-incident run. Call times stay double precision.
DURATION = np.float32


@dataclass(frozen=True)
class Incidents:
    """Columnar incidents sorted by call time; arrays of length n (or n x k)."""

    t_call: np.ndarray
    type: np.ndarray  # int32 index into Region.types
    community: np.ndarray  # int32
    call_handling: np.ndarray
    turnout: np.ndarray  # (n, k) per unit slot
    on_scene: np.ndarray
    transport: np.ndarray  # bool
    handover: np.ndarray
    noise: np.ndarray  # (n, k + 1): see scene_noise and transport_noise
    zone: np.ndarray  # int32 index into Region.zone_ids: where the incident happens
    facility: np.ndarray  # int32 place of the facility a transport goes to (-1: none)

    def __len__(self) -> int:
        return len(self.t_call)

    @property
    def scene_noise(self) -> np.ndarray:
        """(n, k) view: the travel-time factor of each unit slot's trip to the scene (slot j is
        the (j+1)-th unit sent to the call)."""
        return self.noise[:, :-1]

    @property
    def transport_noise(self) -> np.ndarray:
        """(n,) view: the travel-time factor of the transport trip (of the first unit)."""
        return self.noise[:, -1]


def intensity(region: Region, c: int, k: int, t: np.ndarray) -> np.ndarray:
    """Arrival rate (per minute) of type ``k`` in community ``c`` at times ``t``."""
    hour = (t // 60).astype(np.int64) % (MINUTES_PER_WEEK // 60)
    rate = region.rates[c, k] * region.profiles[k, hour]
    if region.months is not None and region.month_of_day is not None:  # seasonality
        month = region.month_of_day[(t // 1440).astype(np.int64)].astype(np.int64)
        rate = rate * region.months[k][month]
    for sg in region.surges:
        if sg.communities[c] and sg.types[k]:
            rate = np.where((t >= sg.start) & (t < sg.end), rate * sg.multiplier, rate)
    return rate


def _peak(region: Region, c: int, k: int) -> float:
    peak = region.rates[c, k] * region.profiles[k].max()
    if region.months is not None:
        peak = peak * region.months[k].max()
    surge = max(
        [sg.multiplier for sg in region.surges if sg.communities[c] and sg.types[k]] + [1.0]
    )
    return peak * surge


def _arrivals(region: Region, c: int, k: int, rng: np.random.Generator) -> np.ndarray:
    peak = _peak(region, c, k)
    if peak <= 0:
        return np.empty(0)
    n = rng.poisson(peak * region.horizon)
    t = np.sort(rng.uniform(0.0, region.horizon, n))
    keep = rng.uniform(0.0, peak, n) < intensity(region, c, k, t)
    return t[keep]


def _attributes(
    t: TypeSpec,
    n: int,
    kmax: int,
    rng: np.random.Generator,
    noise_rng: np.random.Generator,
    noise_sd: float,
) -> dict[str, np.ndarray]:
    turnout = np.full((n, kmax), np.nan, dtype=DURATION)
    turnout[:, : t.units_needed] = draw(t.turnout, rng, (n, t.units_needed))
    out = {
        "call_handling": draw(t.call_handling, rng, n).astype(DURATION),
        "turnout": turnout,
        "on_scene": draw(t.on_scene, rng, n).astype(DURATION),
        "transport": rng.uniform(size=n) < t.transport_prob,
        "handover": draw(t.handover, rng, n).astype(DURATION),
    }
    # drawn in the type's own shape, so that another type's needs do not shift these numbers
    k = t.units_needed
    drawn = noise_rng.lognormal(0.0, noise_sd, (n, k + 1)) if noise_sd > 0 else np.ones((n, k + 1))
    noise = np.ones((n, kmax + 1), dtype=DURATION)
    noise[:, :k] = drawn[:, :k]
    noise[:, kmax] = drawn[:, k]  # the transport trip, always in the last column
    out["noise"] = noise
    return out


def place_in_zones(
    region: Region, c: int, k: int, n: int, seed: int, replication: int
) -> np.ndarray:
    """The zones of ``n`` incidents of type ``k`` in community ``c``: each drawn with the
    probability of its zone's weight, from a stream of its own, so that zones shift no other
    random number (a community of one zone draws nothing)."""
    zones, probabilities = region.zone_choice[c][k]
    if len(zones) == 1:
        return np.full(n, zones[0], dtype=np.int32)
    rng = stream(seed, replication, ZONES, c, k)
    return rng.choice(zones, size=n, p=probabilities).astype(np.int32)


def transport_facilities(region: Region, types: np.ndarray, zones: np.ndarray) -> np.ndarray:
    """The place a transport of each incident goes to: its type's facility, or the nearest
    facility of its type's kind from its zone (-1 for types without transport)."""
    out = np.array([t.facility for t in region.types], dtype=np.int32)[types]
    for k, t in enumerate(region.types):
        if t.facility_kind is not None:
            mine = types == k
            out[mine] = region.nearest_facility[t.facility_kind][zones[mine]]
    return out


def heaviest_zones(region: Region, community: np.ndarray) -> np.ndarray:
    """For incidents known only by their community: each community's zone of largest weight."""
    best = np.zeros(len(region.communities), dtype=np.int32)
    for c in range(len(region.communities)):
        own = np.flatnonzero(region.zone_community == c)
        best[c] = own[np.argmax(region.zone_weight[own])]
    return best[np.asarray(community, dtype=np.int64)]


def generate_incidents(region: Region, seed: int, replication: int) -> Incidents:
    """All incidents of replication ``replication`` in [0, horizon), sorted by call time."""
    kmax = region.max_units_needed
    parts: list[dict[str, np.ndarray]] = []
    for c in range(len(region.communities)):
        for k, spec in enumerate(region.types):
            rng = stream(seed, replication, ARRIVALS, c, k)
            times = _arrivals(region, c, k, rng)
            noise_rng = stream(seed, replication, NOISE, c, k)
            part = _attributes(spec, len(times), kmax, rng, noise_rng, region.noise_sd)
            part["zone"] = place_in_zones(region, c, k, len(times), seed, replication)
            parts.append(_with_ids(part, times, k, c))
    for b, burst in enumerate(region.bursts):
        rng = stream(seed, replication, BURSTS, b)
        times = np.sort(burst.time + rng.uniform(0.0, burst.spread, burst.count))
        times = times[times < region.horizon]
        part = _attributes(region.types[burst.type], len(times), kmax, rng, rng, region.noise_sd)
        part["zone"] = np.full(len(times), burst.zone, dtype=np.int32)  # all at one place
        parts.append(_with_ids(part, times, burst.type, burst.community))
    merged = {}
    for key in list(parts[0]):  # column by column, freeing the parts as they are merged
        merged[key] = np.concatenate([p.pop(key) for p in parts])
    if len(parts) > 1:  # (one part is sorted already)
        order = np.argsort(merged["t_call"], kind="stable")
        for key in merged:
            merged[key] = merged[key][order]
    merged["facility"] = transport_facilities(region, merged["type"], merged["zone"])
    return Incidents(**merged)


def _with_ids(
    part: dict[str, np.ndarray], times: np.ndarray, k: int, c: int
) -> dict[str, np.ndarray]:
    n = len(times)
    part["t_call"] = times
    part["type"] = np.full(n, k, dtype=np.int16)
    part["community"] = np.full(n, c, dtype=np.int16)
    return part
