"""Road graphs on small hand-made networks whose shortest trips are known exactly: one-way
streets, a one-way loop, parallel roads, speeds by class and maxspeed, dropped pieces."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.roadgraph import build_graph, segment_minutes
from sim.model.roads import network_minutes, snap
from sim.schema.geo import Frame
from sim.schema.osmtags import BACKWARD, BOTH, CLASSES, FORWARD, direction, maxspeed_kmh
from sim.schema.roadfile import RoadRows
from sim.schema.scenario import RoadNetwork

RESIDENTIAL = CLASSES.index("residential")
PRIMARY = CLASSES.index("primary")
FRAME = Frame((10.0, 50.0))


def rows(segments: list[tuple[int, int, float, int]], n: int, **kw: object) -> RoadRows:
    """Segments (u, v, length in m, direction), residential at maxspeed 60 (1 km a minute),
    nodes 100 m apart on a line of latitude (for snapping only: lengths are given)."""
    u, v, length, d = (np.array(c) for c in zip(*segments, strict=True))
    e = len(segments)
    fields: dict[str, object] = {
        "source": "hand-made",
        "node_id": np.arange(1, n + 1, dtype=np.int64),
        "lon": 10.0 + np.arange(n) * 0.0014,
        "lat": np.full(n, 50.0),
        "u": u.astype(np.int64),
        "v": v.astype(np.int64),
        "road_class": np.full(e, RESIDENTIAL, dtype=np.int8),
        "maxspeed": np.full(e, 60.0),
        "direction": d.astype(np.int8),
        "length_m": length.astype(np.float64),
        "line": np.arange(e),
    }
    fields.update(kw)
    return RoadRows(**fields)  # type: ignore[arg-type]


NET = RoadNetwork(file="hand-made.graphml", min_component_nodes=1)

# 0 -> 1 -> 2 -> 0: a one-way loop (1, 2 and 3 km); 2 <-> 3 two ways (0.5 km); 3 -> 4 one way
# backwards along the way's order (the way runs 4 -> 3); 4 -> 0 one way (4 km)
LOOP = [
    (0, 1, 1000.0, FORWARD),
    (1, 2, 2000.0, FORWARD),
    (2, 0, 3000.0, FORWARD),
    (2, 3, 500.0, BOTH),
    (4, 3, 700.0, BACKWARD),
    (4, 0, 4000.0, FORWARD),
]
EXPECTED = np.array(  # minutes, worked out by hand
    [
        [0.0, 1.0, 3.0, 3.5, 4.2],
        [5.0, 0.0, 2.0, 2.5, 3.2],
        [3.0, 4.0, 0.0, 0.5, 1.2],
        [3.5, 4.5, 0.5, 0.0, 0.7],
        [4.0, 5.0, 7.0, 7.5, 0.0],
    ]
)


def test_one_way_loop_gives_the_exact_shortest_trips() -> None:
    graph = build_graph(rows(LOOP, 5), NET, FRAME)
    got = network_minutes(graph, np.arange(5))
    np.testing.assert_allclose(got, EXPECTED, rtol=0, atol=1e-12)
    assert not np.allclose(got, got.T), "one-way streets make the trips asymmetric"


def test_every_distinct_node_is_a_source_once_and_places_may_share_one() -> None:
    graph = build_graph(rows(LOOP, 5), NET, FRAME)
    nodes = np.array([4, 0, 4, 2])
    calls: list[tuple[int, int]] = []
    got = network_minutes(graph, nodes, lambda done, total: calls.append((done, total)))
    np.testing.assert_allclose(got, EXPECTED[np.ix_(nodes, nodes)], atol=1e-12)
    assert calls[-1] == (3, 3), "three distinct nodes: three Dijkstra sources"


def test_the_fastest_of_parallel_roads_counts() -> None:
    segments = [(0, 1, 1000.0, BOTH), (0, 1, 600.0, FORWARD), (1, 0, 2000.0, BOTH)]
    graph = build_graph(rows(segments, 2), NET, FRAME)
    got = network_minutes(graph, np.arange(2))
    np.testing.assert_allclose(got, [[0, 0.6], [1.0, 0]], atol=1e-12)


def test_speed_is_maxspeed_else_the_scenario_class_speed_else_the_default() -> None:
    r = rows(
        [(0, 1, 1000.0, BOTH)] * 3,
        2,
        maxspeed=np.array([30.0, np.nan, np.nan]),
        road_class=np.array([RESIDENTIAL, RESIDENTIAL, PRIMARY], dtype=np.int8),
    )
    assert segment_minutes(r, NET).tolist() == pytest.approx([2.0, 60 / 25, 60 / 65])
    net = RoadNetwork(file="x", speeds_kmh={"residential": 20}, use_maxspeed=False)
    assert segment_minutes(r, net).tolist() == pytest.approx([3.0, 3.0, 60 / 65])


def test_small_pieces_are_dropped_and_the_largest_is_kept() -> None:
    # nodes 0-2: a two-way triangle; 3 -> 4: a one-way dead end; 5 <-> 6: a piece of its own
    segments = [
        (0, 1, 100.0, BOTH),
        (1, 2, 100.0, BOTH),
        (2, 3, 100.0, FORWARD),
        (3, 4, 100.0, FORWARD),
        (5, 6, 100.0, BOTH),
    ]
    graph = build_graph(rows(segments, 7), RoadNetwork(file="x", min_component_nodes=3), FRAME)
    assert graph.node_id.tolist() == [1, 2, 3], "only the strongly connected triangle stays"
    assert graph.dropped_nodes == 4
    assert graph.pieces == 1
    every = build_graph(rows(segments, 7), RoadNetwork(file="x", min_component_nodes=2), FRAME)
    assert every.pieces == 2, "the two-node piece is kept beside the triangle"
    assert every.piece[every.node_id == 6].tolist() == [1], "pieces are numbered by size"


def test_snapping_finds_the_nearest_kept_node() -> None:
    graph = build_graph(rows(LOOP, 5), NET, FRAME)
    node, km = snap(graph, graph.xy[[3, 1]] + np.array([[0.0, 0.03], [0.0, -0.04]]))
    assert node.tolist() == [3, 1]
    np.testing.assert_allclose(km, [0.03, 0.04], rtol=1e-9)


@pytest.mark.parametrize(
    ("text", "kmh"),
    [
        ("50", 50.0),
        ("50 km/h", 50.0),
        ("30 mph", 30 * 1.609344),
        ("50;30", 40.0),
        ("DE:urban", None),
        ("none", None),
        ("", None),
        ("5000", None),
    ],
)
def test_maxspeed_is_read_as_kmh(text: str, kmh: float | None) -> None:
    got = maxspeed_kmh(text)
    assert (np.isnan(got) and kmh is None) or got == pytest.approx(kmh), f"{text!r} -> {kmh}"


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"oneway": "yes"}, FORWARD),
        ({"oneway": "-1"}, BACKWARD),
        ({"oneway": "no", "highway": "motorway"}, BOTH),
        ({"highway": "motorway"}, FORWARD),
        ({"junction": "roundabout"}, FORWARD),
        ({"oneway": "reversible"}, BOTH),
        ({}, BOTH),
    ],
)
def test_direction_follows_the_oneway_tags(tags: dict[str, str], expected: int) -> None:
    assert direction(tags.get) == expected
