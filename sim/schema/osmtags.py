"""The OpenStreetMap tags of a road: whether a vehicle may drive it, its class, its posted
speed and its direction.

A road is drivable when its ``highway`` value is one of :data:`DEFAULT_SPEEDS_KMH` (motorways
down to service roads; not tracks, paths, footways, cycleways, steps, platforms or roads under
construction), it is not an area, and no ``access``, ``vehicle``, ``motor_vehicle`` or
``motorcar`` tag says ``no`` unless ``emergency`` allows it. ``access=private`` is kept: an
emergency reaches private estates.

Default speeds are those of the OSRM car profile (Project-OSRM/osrm-backend,
``profiles/car.lua``, ``speeds.highway``), used where a road has no usable ``maxspeed``.
``maxspeed`` is read as km/h (``50``, ``50 km/h``), miles (``30 mph``) or knots; several values
(``50;30``) give their mean, as osmnx does; implicit ones (``DE:urban``, ``none``, ``signals``,
``walk``) give none. One-way: ``oneway=yes/true/1`` (forward), ``-1/reverse`` (backward),
implied by ``junction=roundabout/circular`` and ``highway=motorway`` (the OSM wiki's
convention) unless ``oneway=no``; ``reversible`` and ``alternating`` count as two-way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

__all__ = [
    "BACKWARD",
    "BOTH",
    "CLASSES",
    "DEFAULT_SPEEDS_KMH",
    "FORWARD",
    "direction",
    "drivable_class",
    "maxspeed_kmh",
]

DEFAULT_SPEEDS_KMH: dict[str, float] = {  # OSRM car profile, profiles/car.lua
    "motorway": 90.0,
    "motorway_link": 45.0,
    "trunk": 85.0,
    "trunk_link": 40.0,
    "primary": 65.0,
    "primary_link": 30.0,
    "secondary": 55.0,
    "secondary_link": 25.0,
    "tertiary": 40.0,
    "tertiary_link": 20.0,
    "unclassified": 25.0,
    "residential": 25.0,
    "living_street": 10.0,
    "service": 15.0,
    "road": 25.0,  # a road of unknown class: as unclassified [assumption]
}
CLASSES: tuple[str, ...] = tuple(DEFAULT_SPEEDS_KMH)
BOTH, FORWARD, BACKWARD = 0, 1, -1
MIN_KMH, MAX_KMH = 1.0, 200.0  # a posted speed outside this is a typing error: not used

_CODE = {name: i for i, name in enumerate(CLASSES)}
_NO = {"no"}
_EMERGENCY = {"yes", "designated"}
_NUMBER = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$")
_UNIT = {None: 1.0, "km/h": 1.0, "kmh": 1.0, "kph": 1.0, "mph": 1.609344, "knots": 1.852}

Tags = Callable[[str], str | None]  # tag key -> value (None when absent)


def drivable_class(tag: Tags) -> int:
    """The index in :data:`CLASSES` of a drivable road, -1 for anything else."""
    code = _CODE.get(tag("highway") or "", -1)
    if code < 0 or tag("area") == "yes":
        return -1
    barred = any(tag(k) in _NO for k in ("access", "vehicle", "motor_vehicle", "motorcar"))
    if barred and tag("emergency") not in _EMERGENCY:
        return -1
    return code


def maxspeed_kmh(text: str | None) -> float:
    """A posted speed in km/h; NaN when absent, implicit or implausible."""
    if not text:
        return math.nan
    values = []
    for part in text.split(";"):
        found = _NUMBER.match(part.lower())
        if found is None:
            return math.nan
        values.append(float(found.group(1)) * _UNIT[found.group(2)])
    speed = sum(values) / len(values)
    return speed if MIN_KMH <= speed <= MAX_KMH else math.nan


def direction(tag: Tags) -> int:
    """:data:`FORWARD`, :data:`BACKWARD` (along the way's node order, or against it) or
    :data:`BOTH`."""
    oneway = (tag("oneway") or "").lower()
    if oneway in ("yes", "true", "1"):
        return FORWARD
    if oneway in ("-1", "reverse"):
        return BACKWARD
    if oneway in ("no", "false", "0", "reversible", "alternating"):
        return BOTH
    implied = tag("junction") in ("roundabout", "circular") or tag("highway") == "motorway"
    return FORWARD if implied else BOTH
