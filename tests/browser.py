"""Headless Chromium for the browser test: found, or skipped with a one-line reason, or failed.

A clone without Chromium still passes the README's test command: the browser test is skipped
and says why. Under ``CI=true`` (set by CI services and by ``.ci/run``) a missing browser fails
the test instead, so CI always runs it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

BROWSERS = ("chromium", "chromium-browser")
DRIVERS = ("chromedriver",)
INSTALL = "apt-get install -y chromium chromium-driver"


@dataclass(frozen=True)
class Chromium:
    """The browser and its WebDriver, as found on PATH."""

    browser: Path
    driver: Path


def on_ci(environ: Mapping[str, str]) -> bool:
    """True under ``CI=true`` (or ``CI=1``), as CI services set it."""
    return environ.get("CI", "").strip().lower() in {"true", "1"}


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _first(names: tuple[str, ...], which: Callable[[str], str | None]) -> Path | None:
    for name in names:
        found = which(name)
        if found:
            return Path(found)
    return None


def find_chromium(
    which: Callable[[str], str | None] = shutil.which,
    has_module: Callable[[str], bool] = installed,
) -> Chromium | str:
    """Chromium and chromedriver on PATH with selenium installed, or why the test cannot run."""
    browser, driver = _first(BROWSERS, which), _first(DRIVERS, which)
    missing = [n for n, p in ((BROWSERS[0], browser), (DRIVERS[0], driver)) if p is None]
    if browser is None or driver is None:
        return f"no headless Chromium: {' and '.join(missing)} not on PATH (install: {INSTALL})"
    if not has_module("selenium"):
        return "no selenium for the browser test (install: pip install -e '.[test]')"
    return Chromium(browser, driver)


def require_chromium(
    environ: Mapping[str, str] = os.environ,
    which: Callable[[str], str | None] = shutil.which,
    has_module: Callable[[str], bool] = installed,
) -> Chromium:
    """Chromium to run the browser test with; otherwise skip the test, or fail it under CI."""
    found = find_chromium(which, has_module)
    if isinstance(found, Chromium):
        return found
    if on_ci(environ):
        pytest.fail(f"{found}; CI=true, so the browser test must run", pytrace=False)
    pytest.skip(found)
