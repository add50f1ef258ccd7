"""Every scenario shipped in scenarios/ is valid, and the example region matches DOMAIN.md."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from sim.schema import Scenario, load_scenario
from sim.schema.jsonschema import scenario_json_schema
from tests.builders import SCENARIOS

SHIPPED = sorted(SCENARIOS.glob("*.yaml"))

FIVE_VALLEYS_POPULATION = {  # DOMAIN.md, "An example region (Five Valleys)"
    "riverton": 60_000,
    "millbrook": 25_000,
    "eastfield": 15_000,
    "hollow_creek": 6_000,
    "pine_ridge": 3_000,
}
FIVE_VALLEYS_OPTIONS = ["separate", "mutual_aid", "pooled", "regional_hub"]


def _load(name: str) -> Scenario:
    return load_scenario(SCENARIOS / name)


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = scenario_json_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_scenarios_are_shipped() -> None:
    names = {p.name for p in SHIPPED}
    expected = {
        "five_valleys.yaml",
        "five_valleys_services.yaml",
        "two_towns.yaml",
        "windstorm.yaml",
    }
    assert expected <= names, f"expected {sorted(expected)} in {SCENARIOS}, found {sorted(names)}"


def test_json_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(scenario_json_schema())


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_scenario_loads(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.baseline_option in scenario.options, (
        f"{path.name}: the baseline option should be one of its options"
    )


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_json_schema_accepts_shipped_scenario(path: Path, validator: Draft202012Validator) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [f"{e.json_path}: {e.message}" for e in sorted(validator.iter_errors(data), key=str)]
    assert not errors, f"{path.name} should satisfy the JSON Schema; problems: {errors}"


def test_five_valleys_communities_match_domain() -> None:
    scenario = _load("five_valleys.yaml")
    population = {cid: c.population for cid, c in scenario.communities.items()}
    assert population == FIVE_VALLEYS_POPULATION, (
        f"five_valleys should have DOMAIN's five communities {FIVE_VALLEYS_POPULATION}, "
        f"got {population}"
    )


def test_five_valleys_options_in_order_with_separate_baseline() -> None:
    scenario = _load("five_valleys.yaml")
    assert list(scenario.options) == FIVE_VALLEYS_OPTIONS, (
        f"five_valleys options should be {FIVE_VALLEYS_OPTIONS} in this order, "
        f"got {list(scenario.options)}"
    )
    assert scenario.baseline_option == "separate", (
        f"five_valleys baseline should be 'separate', got {scenario.baseline_option!r}"
    )


def test_five_valleys_travel_matches_domain_table() -> None:
    names = list(FIVE_VALLEYS_POPULATION)
    table = [  # DOMAIN.md, Five Valleys travel minutes; rows and columns in `names` order
        [4, 8, 12, 20, 30],
        [8, 5, 10, 18, 28],
        [12, 10, 6, 14, 24],
        [20, 18, 14, 8, 15],
        [30, 28, 24, 15, 10],
    ]
    matrix = _load("five_valleys.yaml").travel.matrix
    for a, row in zip(names, table, strict=True):
        for b, minutes in zip(names, row, strict=True):
            got = matrix.get(a, {}).get(b, matrix.get(b, {}).get(a))
            assert got == minutes, f"travel {a}->{b} should be {minutes} min (DOMAIN), got {got}"


def test_windstorm_has_a_twelve_hour_surge() -> None:
    scenario = _load("windstorm.yaml")
    durations = [s.duration for s in scenario.surges]
    assert 12 * 60 in durations, (
        f"windstorm should have a surge of 12 h (720 min); surge durations: {durations}"
    )
    for surge in scenario.surges:
        assert surge.start + surge.duration <= scenario.run.horizon, (
            f"surge {surge.name!r} should end before the horizon"
        )
        assert surge.start >= scenario.run.warmup, (
            f"surge {surge.name!r} should start after the warm-up"
        )
