"""Preference lists choose exactly the unit a full scan of the free units would choose.

Every call of :func:`sim.engine.nearest.nearest_free` during real runs of random regions is
checked against :func:`sim.engine.nearest.scan` over the same free units: the shortest expected
trip, then the lowest unit index. Integer coordinates make equal trips (ties) common, a high
load keeps units busy and on their way back, and mutual aid checks the filtered, limited search.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
from bisect import bisect_right
from typing import Any
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import scenario_from_dict
from sim.engine import nearest, policies
from sim.engine.demand import generate_incidents
from sim.engine.loop import Engine
from sim.model.compile import compile_fleet, compile_region
from sim.model.preference import REACH, Preference, preferences
from sim.model.snap import Snapper, tiles

POINT = st.tuples(st.integers(0, 6), st.integers(0, 6))
HOUR = st.sampled_from([0.7, 1.0, 1.3, 1.37])


@st.composite
def regions(draw: Any) -> dict[str, Any]:
    n_com = draw(st.integers(2, 3))
    need = draw(st.sampled_from([1, 1, 2]))  # units a call needs; each community owns enough
    communities = {
        f"c{i}": {"population": 1000, "location": {"x": float(x), "y": float(y)}, "area_km2": 4}
        for i, (x, y) in enumerate(draw(st.lists(POINT, min_size=n_com, max_size=n_com)))
    }
    points = draw(st.lists(POINT, min_size=n_com, max_size=n_com + 3))
    stations = {  # one station of each community, then a few more of any community
        f"s{i}": {
            "community": f"c{i if i < n_com else draw(st.integers(0, n_com - 1))}",
            "location": {"x": x, "y": y},
        }
        for i, (x, y) in enumerate(points)
    }
    zones = {
        f"z{i}": {
            "community": f"c{i % n_com}",
            "location": {"x": float(x), "y": float(y)},
            "weight": draw(st.integers(1, 5)),
        }
        for i, (x, y) in enumerate(draw(st.lists(POINT, min_size=n_com, max_size=8)))
    }
    groups = [
        {"station": sid, "count": draw(st.integers(need if i < n_com else 0, 3))}
        for i, sid in enumerate(stations)
    ]
    groups = [g for g in groups if g["count"]]
    rule: dict[str, Any] = {
        "policy": draw(st.sampled_from(["pooled", "mutual_aid"])),
        "from_road": draw(st.booleans()),
    }
    if rule["policy"] == "mutual_aid":
        rule["max_travel"] = draw(st.sampled_from([2, 5, 1000]))
        rule["reserve"] = draw(st.integers(0, 1))
    travel: dict[str, Any] = {
        "speed_kmh": 60,
        "detour_factor": 1.0,
        "return_position": draw(st.sampled_from(["nearest_zone", "interpolate"])),
    }
    if draw(st.booleans()):  # slower hours: a limit in minutes caps the walk at a shorter trip
        travel["hour_factors"] = draw(st.lists(HOUR, min_size=24, max_size=24))
    return {
        "name": "preference lists",
        "communities": communities,
        "stations": stations,
        "zones": zones,
        "travel": travel,
        "services": {"amb": {"units": groups}},
        "incident_types": {
            "call": {
                "service": "amb",
                "rate_per_year": draw(st.sampled_from([20_000, 60_000])),
                "on_scene": {"dist": "exponential", "mean": 20},
                "units_needed": need,
            }
        },
        "run": {"horizon": "2 d", "warmup": 0, "replications": 1, "seed": draw(st.integers(0, 99))},
        "options": {"only": {"dispatch": {"amb": rule}}},
    }


def _checked(counter: list[int]) -> Any:
    """``nearest_free`` that also runs the full scan over the same units and compares."""
    real = nearest.nearest_free

    def check(
        view: Engine,
        service: int,
        place: int,
        t: float,
        limit: float = nearest.INF,
        accept: Any = None,
    ) -> Any:
        units = [u for u in view.free[service].values() if accept is None or accept(u)]
        expected = nearest.scan(view, units, place, t, limit)
        got = real(view, service, place, t, limit, accept)
        assert got is expected, (place, t, [u.index for u in units])
        counter.append(1)
        return got

    return check


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(regions(), st.sampled_from([None, 1, 2]), st.sampled_from([None, 1, 2, 3]))
def test_preference_lists_choose_as_a_full_scan(
    data: dict[str, Any], reach: int | None, tile: int | None
) -> None:
    scenario = scenario_from_dict(data)
    region = compile_region(scenario)
    fleet = compile_fleet(scenario, region, "only")
    snap = region.snapper
    if tile is not None and snap is not None:  # tiles of one zone, or of a few
        snap = Snapper(snap.xy, snap.zone_places, tile=tile)
        region = dataclasses.replace(region, snapper=snap)
    if reach is not None or tile is not None:  # short lists: the fallback scan is exercised too
        tile_of = None if snap is None else snap.tile_of
        prefs = preferences(fleet.service, fleet.station, 1, tile_of, reach or REACH)
        fleet = dataclasses.replace(fleet, preference=prefs)
    incidents = generate_incidents(region, data["run"]["seed"], 0)
    calls: list[int] = []
    with mock.patch.object(policies, "nearest_free", _checked(calls)):
        records = Engine(region, fleet, incidents).run()
    if data["options"]["only"]["dispatch"]["amb"]["policy"] == "pooled":
        assert calls, "the search was never asked"  # (mutual aid asks only to borrow)
    assert (records.units_sent <= fleet.size).all()


@settings(max_examples=300, deadline=None)
@given(
    st.floats(0, 1e4, allow_nan=False),
    st.floats(0.01, 100, allow_nan=False),
    st.lists(st.floats(0, 2e4, allow_nan=False), max_size=5),
)
def test_the_cap_of_a_limited_walk_is_the_limit_exactly(
    limit: float, scale: float, trips: list[float]
) -> None:
    """A trip is beyond the cap exactly when it is beyond the limit at the hour's speed: the
    cap itself and the float just below and above it, and any trip."""
    unit, cap, index = nearest._within(nearest._NONE, limit, scale)
    assert unit is None
    assert index > 10**9  # a unit of the cap's trip beats it, whatever its index
    below, above = math.nextafter(cap, -math.inf), math.nextafter(cap, math.inf)
    for trip in [cap, below, above, *trips]:
        assert (trip > cap) == (trip * scale > limit), trip
    found = (object(), cap, 3)
    assert nearest._within(found, limit, scale) is found  # a unit within the limit is kept
    beyond = (object(), above, 3)
    assert nearest._within(beyond, limit, scale)[0] is None


def test_preference_rows_sort_positions_by_trip_and_stop_after_the_reach() -> None:
    travel = np.array(
        [
            [0, 5, 3, 3, 7],  # place 0 (a station) to places 0..4
            [5, 0, 1, 3, 7],  # place 1 (a station)
            [9, 9, 0, 9, 2],  # place 2 (a zone)
            [9, 9, 9, 0, 1],  # place 3 (a zone)
            [9, 9, 9, 9, 0],  # place 4 (a station)
        ],
        dtype=float,
    )
    apart = np.array([-1, -1, 5, 6, -1])  # each zone a tile of its own: positions 5 and 6
    full = Preference(np.array([0, 1, 4]), apart)
    assert full.positions.tolist() == [0, 1, 4, 5, 6]
    places, trips, complete = full.row(3, travel)
    assert list(places) == [6, 0, 1, 4, 5]
    assert list(trips) == [0, 3, 3, 9, 9]
    assert complete
    together = Preference(np.array([0, 1, 4]), np.array([-1, -1, 5, 5, -1]))
    places, trips, _ = together.row(4, travel)
    assert list(places) == [4, 5, 0, 1]  # the tile: the shorter of its zones' trips
    assert list(trips) == [0, 1, 7, 7]
    short = Preference(np.array([0, 1, 4]), apart, reach=1)
    places, trips, complete = short.row(4, travel)
    assert list(places) == [4]  # the nearest station is the reach
    assert not complete
    places, _, _ = short.row(3, travel)
    assert list(places) == [6, 0, 1]  # the tile nearer than the first station, then both at 3
    none = preferences(np.array([0]), np.array([1]), 2, np.array([-1, -1, 5, 6, -1]))
    assert none[1].stations.size == 0  # a service without units
    assert none[1].positions.size == 0
    assert none[0].positions.tolist() == [1, 5, 6]
    assert Preference(np.array([0, 4])).positions.tolist() == [0, 4]  # no tiles: stations


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-9, 9), st.integers(-9, 9)), min_size=1, max_size=60),
    st.integers(1, 10),
)
def test_tiles_hold_at_most_their_size_of_neighbouring_zones(
    points: list[tuple[int, int]], size: int
) -> None:
    xy = np.array(points, dtype=float)
    tile = tiles(xy, size)
    counts = np.bincount(tile)
    assert counts.min() >= 1  # numbered from 0, none empty
    assert counts.max() <= size
    assert len(counts) <= max(1, 2 * len(xy) // size + 1)  # halves: not needlessly many
    snapper = Snapper(np.vstack([[0.0, 0.0], xy]), np.arange(1, len(xy) + 1), tile=size)
    assert snapper.tile_of[0] == -1  # no zone
    assert (snapper.tile_of[1:] == len(xy) + 1 + tile).all()
    assert snapper.n_positions == len(xy) + 1 + len(counts)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-9, 9), st.integers(-9, 9)), min_size=1, max_size=40, unique=True
    ),
    st.tuples(st.integers(-12, 12), st.integers(-12, 12)),
    st.tuples(st.floats(-12, 12), st.floats(-12, 12)),
    st.lists(st.floats(0, 1), min_size=1, max_size=10),
    st.sampled_from([0, 64]),
)
def test_snap_pieces_give_the_nearest_zone_all_the_way_back(
    zones: list[tuple[int, int]],
    a: tuple[int, int],
    b: tuple[float, float],
    ds: list[float],
    small: int,
) -> None:
    """The pieces of a way back name, at every point of it, a zone at the least distance (a
    brute-force nearest), whether found by walking Voronoi cells or by comparing every zone.
    Integer points make equal distances (ties, cocircular zones) common."""
    xy = np.array([a, b, *zones], dtype=float)
    snapper = Snapper(xy, np.arange(2, len(xy)), small=small)
    starts, places = snapper.pieces(0, 1)
    assert starts[0] == 0.0
    assert starts == sorted(starts)
    for d in [0.0, *ds]:
        p = xy[0] + d * (xy[1] - xy[0])
        zone = places[bisect_right(starts, d) - 1]
        dist = np.hypot(*(xy[2:] - p).T)
        assert np.hypot(*(xy[zone] - p)) <= dist.min() + 1e-9, (d, zone)


def test_the_zones_cells_are_made_where_the_ways_back_are_walked() -> None:
    """A snapper made by the compiler has no cells yet (the command's own process need not
    triangulate nor import scipy's spatial module before its workers run); a copy sent to a
    worker (pickled) makes them at its first way back, and finds the same ways as a snapper
    that made them at once."""
    rng = np.random.default_rng(3)
    xy = np.vstack([[[0.0, 0.0], [9.0, 7.0]], rng.uniform(0, 10, (120, 2))])
    snapper = Snapper(xy, np.arange(2, len(xy)))
    assert snapper._cells is None
    sent = pickle.loads(pickle.dumps(snapper))
    assert sent._cells is None
    made = Snapper(xy, np.arange(2, len(xy)))
    assert made._geometry()[0] is not None  # triangulated: more zones than SMALL
    for origin, station in [(0, 1), (1, 0), (5, 1), (0, 40)]:
        assert sent.way(origin, station) == made.way(origin, station)
    assert sent._cells is not None
    assert (sent._geometry()[1] == made._geometry()[1]).all()
