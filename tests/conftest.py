"""Fixtures shared by every layer of the tests (unit, theory, e2e).

The scenario builders they use are plain functions in ``tests/builders.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import settings

from sim.comparison.compare import compare
from sim.comparison.output import write_comparison
from sim.model.roadcache import CACHE_ENV
from sim.schema import load_scenario
from tests.browser import Chromium, require_chromium
from tests.builders import plot_region

# The property tests check values, not speed: with the suite spread over every core of a busy
# machine an example can stall past Hypothesis' 200 ms deadline, a timing failure of no
# meaning. No deadline anywhere (tests that set other settings keep them).
settings.register_profile("intersim", deadline=None)
settings.load_profile("intersim")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadscope`` (pyproject's addopts) keeps the modules that share a costly result
    in one worker (``tests/parallel.py``); any other ``--dist`` is xdist's own."""
    if config.getoption("dist") != "loadscope":
        return None
    from tests.parallel import SharedResultScheduling

    return SharedResultScheduling(config, log)


@pytest.fixture(scope="session", autouse=True)
def road_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Road-network trips are cached in a folder of the session (commands the tests start
    inherit it), never beside the extracts in the repository."""
    folder = tmp_path_factory.mktemp("road-cache")
    before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(folder)
    yield folder
    if before is None:
        del os.environ[CACHE_ENV]
    else:
        os.environ[CACHE_ENV] = before


@pytest.fixture(scope="session")
def result_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The result directory of one comparison of the plot test region (``plot_region``):
    tables, figures and report, simulated and written once per session, with the per-incident
    table (``--records``) that tests check the figures' summaries against. Read only: a test
    that changes it works on a copy."""
    base = tmp_path_factory.mktemp("comparison")
    scenario_file = base / "plot_test.yaml"
    scenario_file.write_text(yaml.safe_dump(plot_region(), sort_keys=False), encoding="utf-8")
    scenario = load_scenario(scenario_file)
    comp = compare(scenario)
    out = base / "result"
    write_comparison(
        comp,
        out,
        scenario_file=scenario_file,
        command="intersim compare plot_test.yaml",
        started=datetime.now(UTC),
        seconds=1.0,
        scenario=scenario,
        records=True,
    )
    return out


@pytest.fixture(scope="session")
def chromium() -> Chromium:
    """Headless Chromium and chromedriver; without them the test is skipped with the reason, or
    fails under ``CI=true`` (``tests/browser.py``). Ask for it first, before costly fixtures."""
    return require_chromium()
