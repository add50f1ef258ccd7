"""Unquoted minutes:seconds (``minutes: 8:59``) means 8 min 59 s, as the tutorial says.

Plain YAML 1.1 reads an unquoted 8:59 as the base-60 number 539; the scenario reader keeps it as
text so that it is parsed as a duration. These tests hold the shipped tutorial text to that.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sim.cli.main import main
from sim.engine.driver import compile_scenario
from sim.schema import load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
TWO_TOWNS = SCENARIOS / "two_towns.yaml"
QUOTED = '      minutes: "8:59"'
EIGHT_59 = 8 + 59 / 60


def _unquoted(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "unquoted.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def two_towns() -> str:
    text = TWO_TOWNS.read_text(encoding="utf-8")
    assert QUOTED in text, 'two_towns.yaml should set its P1 target as minutes: "8:59"'
    return text


def test_unquoted_clock_is_minutes_and_seconds(tmp_path: Path, two_towns: str) -> None:
    path = _unquoted(tmp_path, two_towns.replace(QUOTED, "      minutes: 8:59"))
    assert main(["validate", str(path)]) == 0
    scenario = load_scenario(path)
    assert scenario.incident_types["emergency"].target is not None
    assert scenario.incident_types["emergency"].target.minutes == pytest.approx(EIGHT_59)
    region = compile_scenario(scenario).region
    # the compiled target per community: 8:59 in urban Northtown, 25 min in rural Southvale
    np.testing.assert_allclose(region.types[0].target_minutes, [EIGHT_59, 25.0])


def test_unquoted_and_quoted_clock_compile_alike(tmp_path: Path, two_towns: str) -> None:
    unquoted = two_towns.replace(QUOTED, "      minutes: 8:59").replace(
        "rural: {minutes: 25}", "rural: {minutes: 0:30}"
    )
    quoted = two_towns.replace("rural: {minutes: 25}", 'rural: {minutes: "0:30"}')
    a = compile_scenario(load_scenario(_unquoted(tmp_path, unquoted))).region.types[0]
    (tmp_path / "q").mkdir()
    b = compile_scenario(load_scenario(_unquoted(tmp_path / "q", quoted))).region.types[0]
    np.testing.assert_array_equal(a.target_minutes, b.target_minutes)
    np.testing.assert_allclose(a.target_minutes, [EIGHT_59, 0.5])


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_tutorial_does_not_warn_that_unquoted_clock_means_539(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    stale = [
        line.strip()
        for line in text.splitlines()
        if re.search(r"always quote|539 minutes|read by YAML as", line, re.IGNORECASE)
    ]
    assert not stale, f"{path.name} still says unquoted 8:59 means 539 minutes: {stale}"
