"""Trust (round 2): a result directory made by someone else is untrusted input. ``rerun``
never runs or connects to what its manifest names, ``report`` embeds only files inside the
directory, and a replayed log whose incidents are dropped says so (or is refused)."""

from __future__ import annotations

import base64
import json
import shutil
import socket
from pathlib import Path

import pandas as pd
import pytest

from sim.cli.main import main
from sim.runs.rerun import rebuild_arguments

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
run: {horizon: 10 d, replications: 2}
options:
  separate: {}
  pooled: {dispatch: {all: {policy: pooled}}}
"""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def _edit_manifest(out: Path, **changes: object) -> None:
    path = out / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")


# --- rerun --------------------------------------------------------------------------------


def test_rerun_never_connects_to_an_address_in_the_manifest(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out)]) == 0
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    command = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["intersim_command"]
    _edit_manifest(
        out, intersim_command=f"{command} --dask {address} --workers 64 --force extra-word"
    )
    capsys.readouterr()
    try:
        assert main(["rerun", str(out)]) == 0
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
    finally:
        listener.close()
    text = capsys.readouterr().out
    assert "identical:" in text
    assert "ignored from the manifest (" in text
    assert f"--dask {address} --workers 64 --force extra-word" in text


def test_rerun_rebuilds_the_run_from_validated_fields_only(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["compare", str(scenario), "--out", str(out), "--baseline", "pooled"]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["intersim_command"] += " --replay-tz Europe/Oslo --dask local --workers 4"
    args, ignored = rebuild_arguments(manifest, tmp_path / "again")
    assert args[:2] == ["compare", str(scenario)]
    assert "--dask" not in args
    assert "--workers" not in args
    assert ignored == ["--dask", "local", "--workers", "4"]
    assert args[args.index("--baseline") + 1] == "pooled"
    assert args[args.index("--seed") + 1] == str(manifest["seed"])
    assert args[args.index("--replay-tz") + 1] == "Europe/Oslo", "data arguments are kept"


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One compare result directory (its scenario beside it), copied by the tests that edit it."""
    root = tmp_path_factory.mktemp("compared")
    path = root / "s.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    out = root / "out"
    assert main(["compare", str(path), "--out", str(out), "--replications", "1"]) == 0
    return out


@pytest.mark.parametrize(
    ("changes", "expect"),
    [
        ({"seed": "1; rm -rf ~"}, "seed is not a whole number"),
        ({"replications": True}, "replications is not a whole number"),
        ({"replications": 0}, "replications is not a whole number"),
        ({"baseline": "--dask=tcp://x"}, "is no option of the scenario"),
        (
            {"intersim_command": "intersim sweep s.yaml --dask tcp://x:1"},
            "written by 'intersim sweep'",
        ),
        ({"intersim_command": "python -c 'import os'"}, "rerun repeats 'intersim run'"),
        ({"intersim_command": 'intersim run "unclosed'}, "cannot be read"),
    ],
)
def test_rerun_refuses_a_manifest_with_bad_fields(
    compared: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    changes: dict[str, object],
    expect: str,
) -> None:
    out = tmp_path / "out"
    shutil.copytree(compared, out)
    _edit_manifest(out, **changes)
    capsys.readouterr()
    assert main(["rerun", str(out)]) == 2
    err = capsys.readouterr().err
    assert expect in err, err
    assert len(err.strip().splitlines()) == 1


def test_rerun_compares_only_regular_files_inside_the_directory(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out), "--replications", "1"]) == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.csv").write_text("a\n1\n", encoding="utf-8")
    (out / "linked").symlink_to(elsewhere, target_is_directory=True)
    (out / "alias.csv").symlink_to(elsewhere / "secret.csv")
    capsys.readouterr()
    assert main(["rerun", str(out)]) == 0
    assert "identical: 4 tables" in capsys.readouterr().out


# --- report -------------------------------------------------------------------------------


def test_report_embeds_only_files_inside_the_result_directory(
    compared: Path, tmp_path: Path
) -> None:
    """An index naming an image by absolute path, by '..' or through a link leading out of
    the directory: none is embedded (the figures are drawn instead)."""
    out = tmp_path / "out"
    shutil.copytree(compared, out)
    index_path = out / "figures" / "index.json"
    index = json.loads(index_path.read_text(encoding="utf-8"))
    secrets = []
    for i, how in enumerate(("absolute", "dotdot", "link")):
        outside = tmp_path / f"private{i}.png"
        shutil.copy(out / "figures" / "differences_forest.png", outside)
        with outside.open("ab") as fh:
            fh.write(f"PRIVATE-MARKER-{how}".encode())  # still a PNG; recognisable bytes
        secrets.append((how, base64.b64encode(outside.read_bytes()).decode()[-40:]))
        if how == "absolute":
            index[i]["png"] = str(outside)
        elif how == "dotdot":
            index[i]["png"] = f"../../{outside.name}"
        else:
            (out / "figures" / "innocent.png").symlink_to(outside)
            index[i]["png"] = "innocent.png"
    index_path.write_text(json.dumps(index), encoding="utf-8")
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    for how, secret in secrets:
        assert secret not in html, f"an image outside the directory was embedded ({how})"
    assert html.count("data:image/png;base64,") >= 5, "the figures are drawn instead"


# --- replay -------------------------------------------------------------------------------


@pytest.fixture
def log(scenario: Path, tmp_path: Path) -> Path:
    path = tmp_path / "log.csv"
    assert main(["export-log", str(scenario), "--out", str(path)]) == 0
    return path


def test_a_log_with_no_usable_incident_is_refused(
    scenario: Path, log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = pd.read_csv(log)
    frame["incident_type"] = "burglary"
    frame.to_csv(log, index=False)
    capsys.readouterr()
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--replay", str(log), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no incident of the log can be replayed" in err, err
    assert f"dropped {len(frame)}: incident type not in the scenario ('burglary')" in err
    assert not out.exists()


def test_a_large_dropped_share_is_a_warning_in_console_manifest_and_report(
    scenario: Path, log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = pd.read_csv(log)
    frame.loc[: len(frame) // 3, "incident_type"] = "burglary"
    frame.to_csv(log, index=False)
    capsys.readouterr()
    out = tmp_path / "out"
    args = ["compare", str(scenario), "--replay", str(log), "--out", str(out)]
    assert main([*args, "--replications", "1"]) == 0
    err = capsys.readouterr().err
    assert "warning: replay:" in err
    assert "were dropped" in err
    warnings = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["warnings"]
    assert any("were dropped" in w for w in warnings), warnings
    assert "were dropped" in (out / "report.html").read_text(encoding="utf-8")
