"""The scenario format: typed, documented pydantic models.

A scenario describes a region (communities, stations, facilities, travel), its services and
units, the incidents that demand them, the run settings and the pooling options to compare.
Field descriptions here are the reference documentation: ``intersim schema`` exports them and
the README's format reference is generated from them.

Only the shape and the values of single fields are checked here; references between parts
(unknown community, dangling station, ...) are checked by :mod:`sim.schema.references`.

Every number has bounds that keep what the model derives from it finite: coordinates within
100,000 km, durations within 50 years, rates, multipliers and costs far beyond any real
region but far below where floating point overflows. Units are bounded in total
(:data:`MAX_UNITS` per option), not only per group, so aliases cannot multiply them.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from .calendar import Calendar, Caseload, Date, Visits
from .distributions import Distribution
from .durations import MAX_MINUTES, Duration, PositiveDuration
from .relocation import Relocation

__all__ = [
    "MAX_UNITS",
    "PLACE_ID_PATTERN",
    "ZONES",
    "Boundaries",
    "Burst",
    "Calendar",
    "Caseload",
    "Community",
    "CostSharing",
    "Dispatch",
    "Duty",
    "Facility",
    "IncidentType",
    "Location",
    "Margin",
    "Option",
    "Profile",
    "RoadNetwork",
    "RunSettings",
    "Scenario",
    "Service",
    "SiteLocation",
    "Station",
    "Surge",
    "Target",
    "TargetOverride",
    "Transport",
    "Travel",
    "TravelNoise",
    "UnitChange",
    "UnitGroup",
    "UnitMove",
    "Visits",
    "Zone",
    "ZoneFile",
]

Id = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=64)]
PLACE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_\-]*$"


def _code_as_text(value: object) -> object:
    """Real codes are often numeric (postcode 1391): a whole number is read as its text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


# zones, stations and facilities: real codes may start with a digit (postcode 1391)
PlaceId = Annotated[
    str, Field(pattern=PLACE_ID_PATTERN, max_length=64), BeforeValidator(_code_as_text)
]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
PosFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
CommunityKind = Literal["urban", "suburban", "rural", "remote"]
MAX_UNITS = 10_000  # units of one option, all services together
MAX_COORDINATE = 100_000.0  # km: two and a half times around the Earth
Minutes = Annotated[float, Field(ge=0, le=MAX_MINUTES, allow_inf_nan=False)]
Cost = Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)]
Weight = Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=1, le=MAX_UNITS)]
Coordinate = Annotated[float, Field(ge=-MAX_COORDINATE, le=MAX_COORDINATE, allow_inf_nan=False)]
ZONES: tuple[str, ...] = ("urban", "suburban", "rural", "remote")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Policy = Literal["separate", "mutual_aid", "pooled"]
WEEK: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Model(BaseModel):
    # strict: YAML's true/yes must not turn into 1, nor 2.5 into an integer count
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Location(_Model):
    """A position: planar ``x``/``y`` in km, or ``lat``/``lon`` in degrees."""

    x: Coordinate | None = Field(None, description="East coordinate, km")
    y: Coordinate | None = Field(None, description="North coordinate, km")
    lat: float | None = Field(None, ge=-90, le=90, description="Latitude, degrees")
    lon: float | None = Field(None, ge=-180, le=180, description="Longitude, degrees")

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        planar = (self.x is not None, self.y is not None)
        geo = (self.lat is not None, self.lon is not None)
        if planar == (True, True) and geo == (False, False):
            return self
        if geo == (True, True) and planar == (False, False):
            return self
        raise ValueError("give either x and y (km) or lat and lon (degrees)")


class SiteLocation(Location):
    """Where a station or facility is: ``x``/``y`` km, ``lat``/``lon`` degrees, or a zone."""

    zone: PlaceId | None = Field(
        None,
        description="Id of a zone: the site is at the zone's point, and its trips are the zone's "
        "(no row of its own in a travel matrix)",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        planar, geo = (self.x, self.y), (self.lat, self.lon)
        given = [sum(v is not None for v in pair) for pair in (planar, geo)]
        if given in ([2, 0], [0, 2]) if self.zone is None else given == [0, 0]:
            return self
        raise ValueError("give either a zone, or x and y (km), or lat and lon (degrees)")


class Community(_Model):
    """A municipality that demands services and may own units."""

    name: str | None = Field(None, description="Display name; defaults to the id")
    population: int = Field(gt=0, le=10**10, description="Residents")
    location: Location | None = Field(None, description="Centre of the community")
    area_km2: Annotated[float, Field(gt=0, le=1e8, allow_inf_nan=False)] | None = Field(
        None, description="Area, km² (used for travel inside)"
    )
    zone: CommunityKind = Field("suburban", description="urban, suburban, rural or remote")


class Station(_Model):
    """A base for units. Every community has a default station with the community's id."""

    name: str | None = None
    community: Id | None = Field(
        None, description="Community the station lies in and, by default, belongs to"
    )
    location: SiteLocation | None = Field(
        None, description="Own position; without it the station is at its community's centre"
    )

    @model_validator(mode="after")
    def _placed(self) -> Self:
        if self.community is None and self.location is None:
            raise ValueError("a station needs a community, a location, or both")
        return self


class Facility(_Model):
    """A destination for transports, such as a hospital."""

    name: str | None = None
    kind: str = Field("hospital", description="Free text, e.g. hospital, depot, shelter")
    community: Id | None = None
    location: SiteLocation | None = Field(
        None, description="Own position; without it the facility is at its community's centre"
    )

    @model_validator(mode="after")
    def _placed(self) -> Self:
        if self.community is None and self.location is None:
            raise ValueError("a facility needs a community, a location, or both")
        return self


class TravelNoise(_Model):
    """Random variation of each trip: a lognormal factor with median 1."""

    log_sd: Annotated[float, Field(ge=0, le=3, allow_inf_nan=False)] = Field(
        description="Log-scale standard deviation of the factor"
    )


RoadClass = Literal[
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "service",
    "road",
]  # sim.schema.osmtags.CLASSES
Speed = Annotated[float, Field(ge=1, le=300, allow_inf_nan=False)]
TimeFactor = Annotated[float, Field(ge=0.2, le=5, allow_inf_nan=False)]


class RoadNetwork(_Model):
    """Travel from a road network: shortest trips on an OpenStreetMap extract's roads."""

    file: str = Field(
        description="OpenStreetMap extract (.osm, .osm.pbf, .osm.gz, .osm.bz2) or a GraphML "
        "file as osmnx saves one; relative to the scenario file"
    )
    speeds_kmh: dict[RoadClass, Speed] = Field(
        default_factory=dict,
        description="Speed by OSM highway class for roads without a maxspeed tag (defaults: "
        "the OSRM car profile, e.g. primary 65, residential 25)",
    )
    use_maxspeed: bool = Field(True, description="Drive at a road's maxspeed where tagged")
    time_factor: TimeFactor | dict[Id, TimeFactor] = Field(
        1.0,
        description="Multiplies every network trip: below 1 for lights and sirens, 1 for "
        "normal driving; one number, or per service id (or 'all'), each service simulated at "
        "its own",
    )
    off_network_kmh: Speed = Field(
        15.0, description="Speed of the leg between a place and its nearest road node"
    )
    warn_snap_m: Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False)] = Field(
        500.0, description="Warn when a place lies farther than this from every road, metres"
    )
    min_component_nodes: int = Field(
        50,
        ge=1,
        le=10**7,
        description="Pieces of the network (strongly connected) with fewer nodes are dropped "
        "before snapping; the largest is always kept",
    )
    origin: Location | None = Field(
        None,
        description="For x/y (km) scenarios: the lat/lon of x = 0, y = 0, to place the "
        "extract in the scenario's frame",
    )


class Travel(_Model):
    """Emergency travel times in minutes between places (communities, stations, facilities, zones).

    Give a ``matrix`` (from -> to -> minutes; give both directions of a pair when they differ,
    one direction is mirrored; the diagonal is the mean travel inside a community), a
    ``matrix_file``, or a ``speed_kmh`` to derive missing pairs from locations, or several
    (the inline matrix wins over the file, the file over derived times).
    """

    matrix: dict[PlaceId, dict[PlaceId, Minutes]] = Field(default_factory=dict)
    matrix_file: str | None = Field(
        None,
        description="CSV or Parquet file of minutes: long (columns from, to, minutes) or wide "
        "(first column = from, header = to ids); relative to the scenario file",
    )
    road_network: RoadNetwork | None = Field(
        None,
        description="Times from an OpenStreetMap extract, in place of a matrix file",
    )
    speed_kmh: Annotated[float, Field(ge=0.1, le=5000, allow_inf_nan=False)] | None = Field(
        None, description="Average emergency speed for derived trips"
    )
    detour_factor: Annotated[float, Field(ge=1, le=3)] = Field(
        1.3, description="Road distance / straight-line distance for derived trips"
    )
    inside: dict[Id, Minutes] = Field(
        default_factory=dict, description="Mean travel inside a community, minutes"
    )
    noise: TravelNoise | None = Field(None, description="Random factor on every trip")
    hour_factors: list[Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]] | None = Field(
        None,
        min_length=24,
        max_length=24,
        description="24 multipliers of travel time by hour of day (e.g. 1.2 at night)",
    )
    return_speed_factor: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = Field(
        1.0, description="Speed of the drive back to the station relative to the emergency trip"
    )
    return_position: Literal["nearest_zone", "interpolate"] = Field(
        "nearest_zone",
        description="Where a unit on its way back is measured from (with zones): the zone "
        "nearest to its interpolated position, or a mix of the trips from both ends",
    )


Point = Annotated[
    list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=2, max_length=2)
]


class Zone(_Model):
    """A demand point inside a community: incidents of the community happen at its zones."""

    community: Id | None = Field(
        None, description="Community of the zone; default: by the `boundaries` it lies in"
    )
    location: Location = Field(description="Position of the zone (x/y km or lat/lon)")
    weight: NonNegFloat = Field(1.0, description="Demand weight: residents or any weight")
    weights: dict[Id, NonNegFloat] = Field(
        default_factory=dict,
        description="Weight per incident type or service id, overriding `weight` for it",
    )
    polygon: list[Point] | None = Field(
        None,
        min_length=3,
        description="Outline, [x, y] (or [lon, lat]) points in the location's coordinates",
    )


class ZoneFile(_Model):
    """Zones read from a file: CSV, GeoJSON, GeoPackage or Shapefile, one zone per row.

    Geo files give the location by their geometry (a polygon's representative point) and
    their CRS; CSV gives it by ``x``/``y`` columns (km, or in ``crs``) or ``lon``/``lat``.
    """

    file: str = Field(description="Path of the file, relative to the scenario file")
    id: str = Field("id", description="Column of the zone ids")
    community: str = Field(
        "community", description="Column of the community ids (without it: `boundaries`)"
    )
    weight: str = Field("weight", description="Column of the demand weight (without it: 1)")
    x: str = Field("x", description="CSV: column of the east coordinate")
    y: str = Field("y", description="CSV: column of the north coordinate")
    lon: str = Field("lon", description="CSV: column of the longitude (EPSG:4326)")
    lat: str = Field("lat", description="CSV: column of the latitude (EPSG:4326)")
    crs: str | None = Field(
        None,
        description="CRS of x/y (CSV) or of a geo file that declares none, e.g. 'EPSG:2056'; "
        "'km' for planar kilometres; default: km for CSV x/y, the file's own CRS",
    )
    weights: dict[Id, str] = Field(
        default_factory=dict, description="Incident type or service id -> column of its weight"
    )
    layer: str | None = Field(None, description="Layer of a GeoPackage")


class Boundaries(_Model):
    """Community outlines from a geo file: zones without a community get theirs by location."""

    file: str = Field(description="GeoJSON, GeoPackage or Shapefile, relative to the scenario")
    id: str = Field("id", description="Column of the community ids")
    layer: str | None = Field(None, description="Layer of a GeoPackage")
    crs: str | None = Field(
        None, description="CRS when the file declares none; 'km' for planar kilometres"
    )


# the tags name no key a file could hold (ids have no spaces), so error paths stay in the data
ZONES_INLINE, ZONES_FILE = "inline zones", "zone file"


def _zones_kind(value: object) -> str:
    """``{file: ...}`` is a zone file (an inline zone named ``file`` would be a mapping)."""
    if isinstance(value, ZoneFile):
        return ZONES_FILE
    if isinstance(value, dict) and "file" in value and not isinstance(value["file"], dict):
        return ZONES_FILE
    return ZONES_INLINE


Zones = Annotated[
    Annotated[dict[PlaceId, Zone], Tag(ZONES_INLINE)] | Annotated[ZoneFile, Tag(ZONES_FILE)],
    Discriminator(_zones_kind),
]


class Duty(_Model):
    """When units are on duty. Hours are [start, end) in 0-24; end < start wraps midnight."""

    hours: list[Annotated[float, Field(ge=0, le=24)]] = Field(
        default_factory=lambda: [0.0, 24.0],
        min_length=2,
        max_length=2,
        description="[start, end) hours of the shift",
    )
    days: list[Weekday] = Field(
        default_factory=lambda: list(WEEK),
        min_length=1,
        description="Days the shift starts on",
    )

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.hours[0] == self.hours[1]:
            raise ValueError("a shift needs start and end hours that differ")
        return self


class UnitGroup(_Model):
    """``count`` identical units of a service at a station."""

    station: PlaceId
    count: int = Field(1, ge=0, le=MAX_UNITS)
    owner: Id | None = Field(None, description="Owning community; default: the station's")
    duty: Duty | None = Field(None, description="Duty schedule; default: always on duty")
    cost_per_hour: Cost | None = Field(
        None, description="Cost per on-duty unit-hour; default: the service's"
    )


class Service(_Model):
    """A service (ambulance, fire, police, public works, ...) and its units."""

    name: str | None = None
    cost_per_unit_hour: Cost = Field(0, description="Cost of one on-duty unit-hour")
    units: list[UnitGroup] = Field(default_factory=list)
    profile: Id | None = Field(None, description="Default demand profile of its incident types")
    calendar: Id | None = Field(
        None, description="Working calendar (`calendars`): its units work only inside it"
    )
    overtime: Duration = Field(
        0,
        description="With a calendar: a job that needs at most this many minutes more at "
        "closing finishes in overtime instead of pausing",
    )
    caseload: Caseload | None = Field(
        None, description="A caseload service: its units are workers holding case slots"
    )
    coverage_share: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = Field(
        0.5,
        description="Uncovered time (coverage.csv): a community counts as covered while free "
        "units within the target reach this share of its calls",
    )


class Transport(_Model):
    """Transport of the first unit to a facility after the scene."""

    probability: Probability
    facility: PlaceId | None = Field(
        None, description="Facility id; default: the nearest facility of `kind` to the incident"
    )
    kind: str = Field("hospital", description="Kind of the nearest facility, when none is named")
    handover: Distribution = Field(
        0, validate_default=True, description="Time at the facility, minutes"
    )


class TargetOverride(_Model):
    minutes: PositiveDuration | None = None
    share: Annotated[float, Field(gt=0, le=1)] | None = None


WorkingTime = Annotated[float, Field(gt=0, le=10_000, allow_inf_nan=False)]


class Target(_Model):
    """A standard: ``share`` of incidents reached within ``minutes`` of the call, or completed
    within ``working_days`` or ``working_hours`` of the service's calendar after the call."""

    minutes: PositiveDuration | None = Field(None, description="Call to first arrival")
    working_days: WorkingTime | None = Field(
        None, description="Call to completion, in working days of the service's calendar"
    )
    working_hours: WorkingTime | None = Field(
        None, description="Call to completion, in working hours of the service's calendar"
    )
    share: Annotated[float, Field(gt=0, le=1)] = Field(
        description="Share that must meet it, e.g. 0.9"
    )
    by_zone: dict[CommunityKind, TargetOverride] = Field(default_factory=dict)
    by_community: dict[Id, TargetOverride] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_limit(self) -> Self:
        given = [k for k in ("minutes", "working_days", "working_hours") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("give exactly one of minutes, working_days and working_hours")
        overrides = [*self.by_zone.values(), *self.by_community.values()]
        if self.minutes is None and any(o.minutes is not None for o in overrides):
            raise ValueError("a target in working time overrides only its share, not minutes")
        return self


Per1000 = Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]
PerYear = Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)]


class IncidentType(_Model):
    """A kind of incident or service request, with its demand and its durations."""

    service: Id
    priority: int = Field(1, ge=1, le=9, description="1 is the most urgent")
    rate_per_1000: Per1000 | dict[Id, Per1000] | None = Field(
        None, description="Incidents per 1,000 residents per year; one number or per community"
    )
    rate_per_year: PerYear | dict[Id, PerYear] | None = Field(
        None, description="Incidents per year; one number (each community) or per community"
    )
    share: Probability = Field(1.0, description="Multiplier of the rate, e.g. a priority mix")
    units_needed: int = Field(1, ge=1, le=50)
    call_handling: Distribution = Field(
        0, validate_default=True, description="Call answer and processing, minutes"
    )
    turnout: Distribution = Field(
        0, validate_default=True, description="From dispatch to wheels rolling, minutes"
    )
    on_scene: Distribution = Field(description="Time at the scene (or service time), minutes")
    transport: Transport | None = None
    target: Target | None = None
    profile: Id | None = Field(None, description="Demand profile; default: the service's")
    visits: Visits | None = Field(None, description="Caseload services: recurring visits")

    @model_validator(mode="after")
    def _one_rate(self) -> Self:
        if (self.rate_per_1000 is None) == (self.rate_per_year is None):
            raise ValueError("give exactly one of rate_per_1000 and rate_per_year")
        return self


class Profile(_Model):
    """Relative demand by hour of day, day of week and month of year (each scaled to mean 1
    when used; months weighted by their days)."""

    hour_of_day: list[Weight] = Field(
        default_factory=lambda: [1.0] * 24, min_length=24, max_length=24
    )
    day_of_week: list[Weight] = Field(
        default_factory=lambda: [1.0] * 7,
        min_length=7,
        max_length=7,
        description="Monday first",
    )
    month_of_year: list[Weight] = Field(
        default_factory=lambda: [1.0] * 12,
        min_length=12,
        max_length=12,
        description="January first (months of the dates from run.start)",
    )

    @model_validator(mode="after")
    def _some_demand(self) -> Self:
        parts = (self.hour_of_day, self.day_of_week, self.month_of_year)
        if any(sum(p) <= 0 for p in parts):
            raise ValueError("a profile must not be all zeros")
        if any(0 < v < 1e-6 for p in parts for v in p):
            raise ValueError("profile values are 0 or between 1e-6 and 1e6 (relative weights)")
        return self


class Surge(_Model):
    """A temporary multiplier of demand (storm, heat wave)."""

    name: str
    start: Duration
    duration: PositiveDuration
    multiplier: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)]
    communities: list[Id] | None = Field(None, description="Default: all")
    services: list[Id] | None = Field(None, description="Default: all")
    types: list[Id] | None = Field(None, description="Default: all of the services")


class Burst(_Model):
    """A mass-casualty incident: ``count`` incidents of one type at one place and time."""

    name: str
    time: Duration
    community: Id
    zone: PlaceId | None = Field(
        None, description="Zone of the incidents; default: the community's zone of largest weight"
    )
    type: Id
    count: int = Field(ge=1, le=100_000)
    spread: Duration = Field(0, description="Calls arrive uniformly over this many minutes")


class RunSettings(_Model):
    horizon: PositiveDuration = Field(description="Simulated time, e.g. '365 d'")
    warmup: Duration = Field(0, description="Discarded from statistics")
    replications: int = Field(10, ge=1, le=100_000)
    seed: int = Field(12345, ge=0)
    start: Date | None = Field(
        None,
        description="Date of time 0, a Monday (for holidays and months); default 2024-01-01",
    )

    @model_validator(mode="after")
    def _warmup_inside(self) -> Self:
        if self.start is not None and self.start.weekday() != 0:
            raise ValueError(
                f"start {self.start.isoformat()} is a {self.start.strftime('%A')}: time 0 is "
                "a Monday, so start must be one"
            )
        if self.warmup >= self.horizon:
            raise ValueError("warmup must be shorter than horizon")
        if self.horizon > MAX_MINUTES:
            raise ValueError("horizon beyond 50 years")
        return self


class Dispatch(_Model):
    """How calls of one service are matched to units."""

    policy: Policy = Field(
        "separate",
        description="separate: own units only; mutual_aid: own first, then partners; "
        "pooled: closest unit of any community",
    )
    partners: dict[Id, list[Id]] | None = Field(
        None, description="mutual_aid: community -> communities it may borrow from; default all"
    )
    max_travel: PositiveDuration | None = Field(
        None, description="mutual_aid: longest expected trip of a lent unit, minutes"
    )
    reserve: int = Field(
        0, ge=0, le=MAX_UNITS, description="mutual_aid: free units a lender always keeps"
    )
    request_delay: Duration = Field(0, description="mutual_aid: delay before a lent unit leaves")
    queue_rule: Literal["oldest", "nearest"] = Field(
        "oldest", description="Which waiting call (of the highest priority) a freed unit takes"
    )
    from_road: bool = Field(
        True, description="A returning unit may be dispatched from the road (else at station)"
    )
    relocation: Relocation | None = Field(
        None, description="Move-up: relocating free units to posts while others are busy"
    )


class UnitMove(_Model):
    service: Id
    from_station: PlaceId
    to_station: PlaceId
    count: Count = 1


class UnitChange(_Model):
    """Add units (a unit group) or remove ``count`` units of a service at a station."""

    service: Id
    station: PlaceId
    count: Count = 1
    owner: Id | None = None
    duty: Duty | None = None
    cost_per_hour: Cost | None = None


ShareBasis = Literal["population", "calls", "unit_hours"]


_EVEN_MIX: dict[ShareBasis, float] = {"population": 0.5, "calls": 0.5}


class CostSharing(_Model):
    """How the cost of the units is split between communities in a weighted-mix formula.

    Weights over ``population`` (residents), ``calls`` (incidents) and ``unit_hours`` (busy
    unit-hours spent on the community's incidents); they are scaled to sum to 1. Real
    agreements use such mixes (e.g. 40 % calls, 30 % property value, 20 % population).
    """

    mix: dict[ShareBasis, Weight] = Field(default_factory=lambda: dict(_EVEN_MIX))

    @model_validator(mode="after")
    def _some_weight(self) -> Self:
        if sum(self.mix.values()) <= 0:
            raise ValueError("the weights of the mix must not all be zero")
        return self


ComparedMetric = Literal[
    "mean_response",
    "median_response",
    "p90_response",
    "p95_response",
    "within_target",
    "mean_wait",
    "waited",
    "open",
    "open_share",
    "cost",
    "cost_per_incident",
    "cost_per_resident",
    "worst_within_target",
    "spread_within_target",
    "gini_p90",
    "spread_p90",
]


class Margin(_Model):
    """A difference too small to matter: within ``absolute`` (in the metric's unit: minutes, a
    share, money) or within ``relative`` x the baseline's mean, whichever is larger. A paired
    interval that lies inside it gets the verdict ``equivalent``."""

    absolute: NonNegFloat = Field(0.0, description="In the metric's unit")
    relative: Annotated[float, Field(ge=0, le=1)] = Field(
        0.0, description="Share of the baseline mean, e.g. 0.001"
    )


class Option(_Model):
    """A pooling option: a patch over the base scenario."""

    description: str = ""
    dispatch: dict[Id, Dispatch] = Field(
        default_factory=dict, description="Per service (or 'all'): the dispatch rule"
    )
    add_units: list[UnitChange] = Field(default_factory=list)
    remove_units: list[UnitChange] = Field(default_factory=list)
    move_units: list[UnitMove] = Field(default_factory=list)


class Scenario(_Model):
    """A whole scenario file."""

    name: str = Field(description="Title used in outputs and reports")
    description: str = Field("", description="Free text shown in the report")
    communities: dict[Id, Community] = Field(min_length=1, description="Id -> community")
    stations: dict[PlaceId, Station] = Field(
        default_factory=dict, description="Extra stations (each community has one of its id)"
    )
    facilities: dict[PlaceId, Facility] = Field(
        default_factory=dict, description="Hospitals, depots"
    )
    zones: Zones | None = Field(
        None,
        description="Demand zones inside communities: id -> zone, or a file; default: each "
        "community is one zone at its centre",
    )
    boundaries: Boundaries | None = Field(
        None, description="Community outlines, for zones without a community and for maps"
    )
    travel: Travel = Field(description="Travel times between places")
    services: dict[Id, Service] = Field(min_length=1, description="Id -> service and its units")
    incident_types: dict[Id, IncidentType] = Field(
        min_length=1, description="Id -> kind of incident or request"
    )
    profiles: dict[Id, Profile] = Field(
        default_factory=dict,
        description="Named hour-of-day / day-of-week / month-of-year demand profiles",
    )
    calendars: dict[Id, Calendar] = Field(
        default_factory=dict, description="Named working calendars of services"
    )
    demand_scale: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] = Field(
        1.0, description="Multiplies every rate, e.g. 1.2 for 20 % growth"
    )
    surges: list[Surge] = Field(default_factory=list, description="Temporary demand multipliers")
    bursts: list[Burst] = Field(default_factory=list, description="Mass-casualty incidents")
    run: RunSettings = Field(description="Horizon, warm-up, replications, seed")
    dispatch: dict[Id, Dispatch] = Field(
        default_factory=dict, description="Base dispatch rule per service (or 'all')"
    )
    options: dict[Id, Option] = Field(
        default_factory=lambda: {"base": Option(description="The scenario as written")},
        min_length=1,
        description="Pooling options to compare, each a patch over the base (default: one, 'base')",
    )
    baseline: Id | None = Field(None, description="Option compared against; default: the first")
    cost_sharing: CostSharing = Field(
        default_factory=CostSharing, description="Weights of the mixed cost-sharing formula"
    )
    margins: dict[ComparedMetric, Margin] = Field(
        default_factory=dict,
        description="Practical-difference margin per metric (overrides the defaults)",
    )

    @property
    def baseline_option(self) -> str:
        return self.baseline or next(iter(self.options))
