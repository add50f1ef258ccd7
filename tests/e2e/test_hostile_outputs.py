"""Output integrity (round 2): a destination is checked and locked before any simulation,
concurrent commands cannot replace each other's results, SIGTERM cleans up like Ctrl-C, and a
failure to write after simulating is one line that says where the results are."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sim.cli.main import main
from sim.errors import Terminated
from sim.results import files

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = """\
name: two towns
communities:
  north: {population: 20000}
  south: {population: 10000}
travel:
  matrix:
    north: {north: 5, south: 14}
    south: {south: 7}
services:
  ambulance:
    units: [{station: north, count: 2}, {station: south}]
incident_types:
  medical: {service: ambulance, rate_per_1000: 90, on_scene: {dist: exponential, mean: 30}}
run: {horizon: 20 d, replications: 2}
options:
  separate: {}
  pooled: {dispatch: {all: {policy: pooled}}}
"""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


PROGRESS = re.compile(r"(replications|writing results)(: [\w :]+)?: \d+/\d+ \w+ ")


def _leftovers(parent: Path, name: str) -> list[str]:
    """Temporary directories and locks of ``name`` left in ``parent``."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


def _complete(out: Path) -> bool:
    names = {"response_histogram.parquet", "summary.csv", "manifest.json", "report.html"}
    return all((out / n).is_file() for n in names) and bool(
        json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    )


# --- concurrent commands ------------------------------------------------------------------


def test_a_destination_being_written_is_refused_at_once(scenario: Path, tmp_path: Path) -> None:
    """While one command holds the destination (here: this process, through the same claim a
    command takes), another command writing there is refused before it simulates."""
    out = tmp_path / "out"
    files.claim_out_dir(out, overwrite=False)
    try:
        started = time.perf_counter()
        proc = _cli("compare", str(scenario), "--out", str(out), "--overwrite")
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, err
        assert "another intersim command is writing this output directory now" in err
        assert time.perf_counter() - started < 30, "refused before simulating"
        assert not out.exists()
    finally:
        files.release_claims()
    assert _leftovers(tmp_path, "out") == [], "the claim leaves no lock or temporary behind"


def test_two_compares_to_one_directory_never_replace_each_other(
    scenario: Path, tmp_path: Path
) -> None:
    """Started 0.3 s apart: the first writes its results, the second is refused (exit 2)
    rather than silently replacing them."""
    out = tmp_path / "out"
    first = _cli("compare", str(scenario), "--out", str(out), "--replications", "2")
    lock = tmp_path / ".out.lock"
    deadline = time.monotonic() + 60
    while not lock.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    second = _cli("compare", str(scenario), "--out", str(out), "--replications", "2")
    _, err2 = second.communicate(timeout=120)
    _, err1 = first.communicate(timeout=120)
    assert first.returncode == 0, err1
    codes = (first.returncode, second.returncode)
    assert second.returncode == 2, f"exit codes {codes}: {err2}"
    assert "another intersim command" in err2 or "not empty" in err2, err2
    assert _complete(out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["replications"] == 2
    assert _leftovers(tmp_path, "out") == []


# --- SIGTERM ------------------------------------------------------------------------------


# the moments of the signal: a progress line the command prints once its SIGTERM handler is in
# place and the phase is under way, with work of that phase still to do
PHASES = {
    "simulating": "replications: 1/",
    "writing": "writing results: zone layer:",
    "drawing": "writing results: figures: response:",
}


def test_sigterm_cleans_up_like_ctrl_c(scenario: Path, tmp_path: Path) -> None:
    """SIGTERM while a compare simulates, writes its tables and draws its figures: exit code
    143, no temporary directory or lock stays, and the destination is absent. The signal is
    sent when the command says the phase is under way (its progress lines come after the
    handler is installed), never after a guessed delay, so a slow machine moves the moment
    with the command instead of past its end."""
    with ThreadPoolExecutor(len(PHASES)) as pool:  # the three commands run side by side
        runs = {
            phase: pool.submit(_terminated_at, scenario, tmp_path / phase, line)
            for phase, line in PHASES.items()
        }
        ended = {phase: run.result() for phase, run in runs.items()}
    for phase, (code, err, out) in ended.items():
        assert code == 143, (phase, code, err)
        assert "Traceback" not in err, err
        assert err.strip().endswith("terminated"), err
        assert _leftovers(out.parent, out.name) == [], f"nothing temporary stays ({phase})"
        assert not out.exists(), f"stopped while {phase}: nothing is put in place"


def _terminated_at(scenario: Path, out: Path, prefix: str) -> tuple[int, str, Path]:
    """A compare to ``out`` sent SIGTERM when it prints a line starting with ``prefix``: its
    exit code, stderr and destination."""
    proc = _cli("compare", str(scenario), "--out", str(out), "--replications", "3")
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith(prefix):
            proc.send_signal(signal.SIGTERM)
            break
    _, rest = proc.communicate(timeout=120)
    return proc.returncode, "".join(seen) + rest, out


def test_sigterm_as_the_command_finishes_is_still_a_clean_143(
    scenario: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The signal may come after the command's work, while it releases its claims: the exit
    code is still 143 with one line, no traceback, and nothing temporary stays."""
    real = files.release_claims
    sent = []

    def late() -> None:
        if not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGTERM)  # raises Terminated here, in the cleanup
        real()

    monkeypatch.setattr(files, "release_claims", late)
    try:
        code = main(["run", str(scenario), "--replications", "1", "--out", str(tmp_path / "o")])
    except Terminated:
        pytest.fail("a SIGTERM in the cleanup escaped the command (a traceback, exit code 1)")
    assert code == 143
    assert sent, "the signal was sent during the cleanup"
    assert capsys.readouterr().err.strip().endswith("terminated")
    assert _leftovers(tmp_path, "o") == []


# --- the destination checked before simulating --------------------------------------------


@pytest.mark.parametrize(
    ("out", "expect"),
    [
        (".", "the current directory (or one above it) cannot be replaced"),
        ("..", "the current directory (or one above it) cannot be replaced"),
        ("x" * 250, "is too long"),
        ("x" * 300 + "/y", "File name too long"),
    ],
)
def test_bad_destinations_are_refused_before_simulating(
    scenario: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    out: str,
    expect: str,
) -> None:
    work = tmp_path / "empty"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr("sim.runs.run.run", _never)
    monkeypatch.setattr("sim.comparison.compare.compare", _never)
    for command in ("run", "compare"):
        assert main([command, str(scenario), "--out", out]) == 2
        err = capsys.readouterr().err
        assert expect in err, err
        assert "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "s.yaml"]
    assert list(work.iterdir()) == []


def _never(*args: object, **kwargs: object) -> None:
    raise AssertionError("the destination should have been refused before simulating")


def test_a_mount_point_is_refused_before_simulating(
    scenario: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An empty mount point as --out cannot be renamed onto (EBUSY after the whole run, the
    results left hidden): refused first. Mounting needs privileges, so the mount is
    simulated."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    real = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda p: Path(p) == mount or real(p))
    monkeypatch.setattr("sim.runs.run.run", _never)
    assert main(["run", str(scenario), "--out", str(mount)]) == 2
    err = capsys.readouterr().err
    assert "is a mount point" in err, err
    assert f"{mount / 'run1'}" in err, err
    assert list(mount.iterdir()) == []
    assert _leftovers(tmp_path, "mnt") == []


@pytest.mark.parametrize("flag", ["--out", "--option", "--baseline", "--seed"])
def test_empty_option_values_are_refused(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    command = "compare" if flag == "--baseline" else "run"
    never = tmp_path / "never"
    assert main([command, str(scenario), flag, "", "--out", str(never)]) == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: empty value" in err or "empty" in err, err
    assert not never.exists()


# --- failures after simulating ------------------------------------------------------------


def test_a_full_disk_is_one_line_and_leaves_nothing(
    scenario: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out / "units.parquet"))

    monkeypatch.setattr("sim.runs.output.write_parquet", full)
    assert main(["run", str(scenario), "--out", str(out)]) == 1
    *progress, error = capsys.readouterr().err.strip().splitlines()
    assert all(PROGRESS.match(line) for line in progress), f"progress lines, then: {progress}"
    assert error.startswith("error: "), "one line says what failed"
    err = error
    assert "Traceback" not in err, err
    assert "No space left on device" in err
    assert "nothing was written" in err
    assert not out.exists()
    assert _leftovers(tmp_path, "out") == []


def test_a_failed_rename_says_where_the_complete_results_are(
    scenario: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    real = Path.rename

    def busy(self: Path, target: str | os.PathLike[str]) -> Path:
        if Path(target) == out:
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(target))
        return real(self, target)

    monkeypatch.setattr(Path, "rename", busy)
    assert main(["run", str(scenario), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert "Device or resource busy" in err, err
    assert "they are complete in" in err, err
    kept = Path(err.rsplit("they are complete in ", 1)[1])
    assert kept.is_dir()
    assert (kept / "manifest.json").is_file()
    assert (kept / "summary.csv").is_file()
    assert not kept.name.startswith("."), "kept where it can be seen"


def test_a_killed_run_leaves_a_lock_that_the_next_run_takes(scenario: Path, tmp_path: Path) -> None:
    """SIGKILL cannot be handled: the lock file may stay, but the kernel drops the lock, so the
    next command to the same destination runs, and cleans the stale temporary."""
    out = tmp_path / "out"
    proc = _cli("run", str(scenario), "--out", str(out), "--replications", "4")
    deadline = time.monotonic() + 60
    while not (tmp_path / ".out.lock").exists() and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.kill()
    proc.communicate(timeout=30)
    assert main(["run", str(scenario), "--out", str(out), "--overwrite"]) == 0
    assert _leftovers(tmp_path, "out") == []
