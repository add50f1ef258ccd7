"""A corpus of broken scenario files: each must be rejected with clear, located messages.

Every file in ``tests/broken/`` is a small variant of a valid scenario with one or a few
deliberate faults. Its leading comment lines say what ``intersim validate`` must report::

    # fault: what is wrong (free text)
    # expect: 12: unknown key 'rate_per_100'; did you mean 'rate_per_1000'?

One ``# expect: LINE: TEXT`` line per problem: some line of stderr must start with
``FILE:LINE:`` and contain TEXT, and the number of problems must equal the number of expect
lines (so every fault of a file is reported at once, and nothing else is). Adding a file adds
a test. Inputs that cannot live in the repository (binary junk, non-UTF-8 text, huge files,
directories, missing files, empty files) are generated at test time below.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.cli.main import main
from tests.builders import BROKEN, ROOT

FILES = sorted(BROKEN.glob("*.yaml"))

_EXPECT = re.compile(r"^#\s*expect:\s*(\d+):\s(.*)$")

# The valid scenario every corpus file is derived from.
VALID = """\
name: two towns
communities:
  north: {population: 20000, location: {x: 0, y: 0}, zone: urban}
  south: {population: 10000, location: {x: 0, y: -12}, zone: rural}
travel:
  matrix:
    north: {north: 5, south: 14}
    south: {south: 7}
services:
  ambulance:
    cost_per_unit_hour: 120
    units:
      - {station: north, count: 2}
      - {station: south}
incident_types:
  medical:
    service: ambulance
    rate_per_1000: 90
    on_scene: {dist: lognormal, median: 14, log_sd: 0.51}
    target: {minutes: "8:59", share: 0.9}
run: {horizon: 30 d, replications: 3}
options:
  separate: {}
  pooled: {dispatch: {all: {policy: pooled}}}
"""


def expectations(path: Path) -> list[tuple[int, str]]:
    """The ``# expect:`` lines of the leading comment block of a corpus file."""
    found: list[tuple[int, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        m = _EXPECT.match(line)
        if m:
            found.append((int(m.group(1)), m.group(2)))
    return found


def validate(path: Path | str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def problem_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip()]


def assert_clean_failure(path: Path | str, code: int, out: str, err: str) -> list[str]:
    """Exit code 2, no traceback, nothing claimed ok, every line names the file."""
    assert code == 2, f"exit code {code}, stderr:\n{err}"
    assert "Traceback" not in err
    assert ": ok" not in out
    lines = problem_lines(err)
    assert lines, "no problem reported"
    for line in lines:
        assert line.startswith(f"{path}:"), f"line does not start with the file name: {line!r}"
    return lines


# --------------------------------------------------------------------------- the corpus


def test_corpus_is_large_enough() -> None:
    assert len(FILES) >= 45


def test_base_scenario_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The scenario the corpus is derived from is valid, so each file's faults are its own."""
    path = tmp_path / "valid.yaml"
    path.write_text(VALID, encoding="utf-8")
    code, out, err = validate(path, capsys)
    assert (code, out, err) == (0, f"{path}: ok\n", "")


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_broken_file(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = expectations(path)
    assert expected, f"{path.name} has no '# expect: LINE: TEXT' header line"
    code, out, err = validate(path, capsys)
    lines = assert_clean_failure(path, code, out, err)

    unmatched = list(lines)
    missing = []
    for line_no, text in expected:
        prefix = f"{path}:{line_no}:"
        hit = next((ln for ln in unmatched if ln.startswith(prefix) and text in ln), None)
        if hit is None:
            missing.append(f"{line_no}: {text}")
        else:
            unmatched.remove(hit)
    shown = "\n".join(ln.replace(str(BROKEN) + "/", "") for ln in lines)
    assert not missing, "expected but not reported:\n  " + "\n  ".join(missing) + f"\ngot:\n{shown}"
    assert len(lines) == len(expected), (
        f"{len(expected)} problem(s) expected, {len(lines)} reported:\n{shown}"
    )


SUBPROCESS_CASES = [
    "typo_incident_type_key",
    "yaml_tab",
    "several_reference_faults",
    "only_comment",
]


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_broken_file_in_subprocess(name: str) -> None:
    """The real command line (``python -m sim``) exits 2 without a traceback."""
    path = BROKEN / f"{name}.yaml"
    assert path.is_file()
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    lines = problem_lines(proc.stderr)
    assert len(lines) == len(expectations(path))
    assert all(line.startswith(f"{path}:") for line in lines)


def test_validate_reports_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A broken file does not stop the others from being checked."""
    good = tmp_path / "good.yaml"
    good.write_text(VALID, encoding="utf-8")
    first, second = BROKEN / "unknown_station.yaml", BROKEN / "yaml_tab.yaml"
    code = main(["validate", str(first), str(good), str(second)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == f"{good}: ok\n"
    assert "Traceback" not in err
    assert {line.split(":")[0] for line in problem_lines(err)} == {str(first), str(second)}


# --------------------------------------------------------------------------- alias bomb


def test_alias_bomb_fails_fast(capsys: pytest.CaptureFixture[str]) -> None:
    path = BROKEN / "alias_bomb.yaml"
    start = time.perf_counter()
    code, out, err = validate(path, capsys)
    elapsed = time.perf_counter() - start
    assert_clean_failure(path, code, out, err)
    assert "aliases (*name) expand too much" in err
    assert elapsed < 3.0, f"alias bomb took {elapsed:.1f} s"


# --------------------------------------------------------------------------- generated inputs


def test_binary_junk(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "picture.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 4)
    code, out, err = validate(path, capsys)
    assert_clean_failure(path, code, out, err)
    assert err == f"{path}: binary file, not YAML text\n"


def test_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Latin-1 text on line 2: the line and the offending byte are named."""
    path = tmp_path / "latin1.yaml"
    line2 = "description: Mäntsälä and Järvenpää\n"
    text = VALID.replace("name: two towns\n", "name: two towns\n" + line2)
    path.write_bytes(text.encode("latin-1"))
    code, out, err = validate(path, capsys)
    assert_clean_failure(path, code, out, err)
    assert err == f"{path}:2: not UTF-8 text (byte 0xe4)\n"


def test_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "scenarios.yaml"
    path.mkdir()
    code, out, err = validate(path, capsys)
    assert_clean_failure(path, code, out, err)
    assert err == f"{path}: is a directory, not a scenario file\n"


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "no-such-scenario.yaml"
    code, out, err = validate(path, capsys)
    assert_clean_failure(path, code, out, err)
    assert err == f"{path}: no such file\n"


def test_too_large_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A valid scenario padded with a comment to just over 2 MiB is refused unread."""
    path = tmp_path / "huge.yaml"
    padding = 8 * 1024 * 1024 + 1 - len(VALID.encode()) - 2
    path.write_bytes(VALID.encode() + b"#" + b"x" * padding + b"\n")
    assert path.stat().st_size > 8 * 1024 * 1024
    start = time.perf_counter()
    code, out, err = validate(path, capsys)
    assert time.perf_counter() - start < 3.0
    assert_clean_failure(path, code, out, err)
    assert err == f"{path}: larger than 2 MiB; not a scenario\n"


def test_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.yaml"
    path.write_bytes(b"")
    code, out, err = validate(path, capsys)
    assert_clean_failure(path, code, out, err)
    assert err == f"{path}:1:1: empty file: expected a scenario mapping\n"


# --------------------------------------------------------------------------- not broken


def test_merge_key_may_override_merged_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """YAML merge keys (``<<: *anchor``) let explicit keys override merged ones; that is
    not a duplicate key. (PyYAML's own safe_load accepts this file.)"""
    text = VALID.replace(
        "  north: {population: 20000, location: {x: 0, y: 0}, zone: urban}\n"
        "  south: {population: 10000, location: {x: 0, y: -12}, zone: rural}\n",
        "  north: &town {population: 20000, location: {x: 0, y: 0}, zone: urban}\n"
        "  south: {<<: *town, population: 10000, location: {x: 0, y: -12}}\n",
    )
    assert text != VALID
    path = tmp_path / "merge.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = validate(path, capsys)
    assert (code, out, err) == (0, f"{path}: ok\n", "")
