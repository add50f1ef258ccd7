"""The browser test's gate (tests/browser.py): run with what PATH holds, skip with one line
when Chromium is missing, fail instead under CI=true."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.browser import Chromium, find_chromium, on_ci, require_chromium

BIN = {"chromium": "/opt/c/chromium", "chromedriver": "/opt/c/chromedriver"}


def which_of(found: dict[str, str]) -> Callable[[str], str | None]:
    return lambda name: found.get(name)


def with_selenium(name: str) -> bool:
    return name == "selenium"


def no_module(name: str) -> bool:
    return False


def test_found_on_path_runs_with_those_programs() -> None:
    got = require_chromium({}, which_of(BIN), with_selenium)
    assert got == Chromium(Path("/opt/c/chromium"), Path("/opt/c/chromedriver"))
    other = {"chromium-browser": "/snap/bin/chromium-browser", "chromedriver": "/x/chromedriver"}
    assert find_chromium(which_of(other), with_selenium) == Chromium(
        Path("/snap/bin/chromium-browser"), Path("/x/chromedriver")
    ), "the Ubuntu name of the browser is found too"


@pytest.mark.parametrize(
    ("found", "named"),
    [
        ({}, "chromium and chromedriver not on PATH"),
        ({"chromium": BIN["chromium"]}, "chromedriver not on PATH"),
        ({"chromedriver": BIN["chromedriver"]}, "chromium not on PATH"),
    ],
)
def test_missing_program_skips_with_one_line(found: dict[str, str], named: str) -> None:
    with pytest.raises(pytest.skip.Exception) as info:
        require_chromium({}, which_of(found), with_selenium)
    reason = str(info.value)
    assert named in reason, reason
    assert "apt-get install -y chromium chromium-driver" in reason, "the reason says the fix"
    assert "\n" not in reason, f"one line: {reason!r}"


def test_missing_selenium_skips_with_one_line() -> None:
    with pytest.raises(pytest.skip.Exception, match=r"no selenium .*pip install -e '\.\[test\]'"):
        require_chromium({}, which_of(BIN), no_module)


@pytest.mark.parametrize("value", ["true", "TRUE", "True", "1"])
def test_under_ci_a_missing_browser_fails(value: str) -> None:
    with pytest.raises(pytest.fail.Exception) as info:
        require_chromium({"CI": value}, which_of({}), with_selenium)
    message = str(info.value)
    assert "no headless Chromium" in message
    assert "CI=true, so the browser test must run" in message
    assert "\n" not in message
    with pytest.raises(pytest.fail.Exception, match="no selenium"):
        require_chromium({"CI": value}, which_of(BIN), no_module)


@pytest.mark.parametrize("environ", [{}, {"CI": ""}, {"CI": "false"}, {"CI": "0"}])
def test_outside_ci_a_missing_browser_skips(environ: dict[str, str]) -> None:
    assert not on_ci(environ)
    with pytest.raises(pytest.skip.Exception):
        require_chromium(environ, which_of({}), with_selenium)


def test_under_ci_a_found_browser_runs() -> None:
    assert require_chromium({"CI": "true"}, which_of(BIN), with_selenium).driver == Path(
        BIN["chromedriver"]
    )


def test_a_path_without_chromium_skips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real lookup: a PATH that holds no browser (an empty directory) skips."""
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("chromedriver") is None
    with pytest.raises(pytest.skip.Exception, match="chromium and chromedriver not on PATH"):
        require_chromium({})
    for name in ("chromium", "chromedriver"):  # and programs on PATH are found there
        program = tmp_path / name
        program.write_text("#!/bin/sh\n", encoding="utf-8")
        program.chmod(0o755)
    assert find_chromium() == Chromium(tmp_path / "chromium", tmp_path / "chromedriver")
