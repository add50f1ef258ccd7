"""Decision commands: ``intersim size`` and ``intersim coalitions`` write their tables,
figures and page; workers change nothing; the report includes a sizing found under a
comparison directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import sim.decide
from sim.cli.main import main

COST = 100.0


def erlang_scenario(
    loads: list[float], share: float = 0.9, horizon: str = "28 d", replications: int = 8
) -> dict[str, Any]:
    """Communities c0, c1, ... with offered loads ``loads`` (Erlangs, mean service 60 min)."""
    coms = {f"c{i}": {"population": 1000 * (i + 1)} for i in range(len(loads))}
    return {
        "name": "Erlang check",
        "communities": coms,
        "travel": {"matrix": {a: {b: 0 for b in coms} for a in coms}},
        "services": {
            "amb": {"cost_per_unit_hour": COST, "units": [{"station": c, "count": 1} for c in coms]}
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
        "run": {"horizon": horizon, "warmup": "2 d", "replications": replications, "seed": 7},
        "options": {
            "separate": {"dispatch": {"amb": {"policy": "separate"}}},
            "pooled": {"dispatch": {"amb": {"policy": "pooled"}}},
        },
        "baseline": "separate",
    }


def test_same_answer_on_two_processes() -> None:
    """Tasks are pure and seeded by replication: workers change nothing."""
    scenario = erlang_scenario([1.0, 1.0], share=0.85, horizon="14 d", replications=4)
    one = sim.decide.size(scenario, "amb", workers=1)
    two = sim.decide.size(scenario, "amb", workers=2)
    assert two.executor == "2 local processes"
    pd.testing.assert_frame_equal(one.summary, two.summary)
    pd.testing.assert_frame_equal(one.communities, two.communities)


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("decide") / "erlang.yaml"
    data = erlang_scenario([1.0, 1.0], share=0.85, horizon="14 d", replications=4)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_cli_writes_tables_figures_and_page(
    scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "size"
    code = main(
        [
            "size",
            str(scenario_file),
            "--service",
            "amb",
            "--out",
            str(out),
            "--workers",
            "1",
            "--quiet",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "pooled" in printed
    assert "separate" in printed
    for name in ("sizing", "sizing_stations", "sizing_communities", "sizing_trace"):
        assert (out / f"{name}.csv").is_file()
    for fig in ("sizing_units", "sizing_margins"):
        assert (out / "figures" / f"{fig}.png").is_file()
        assert (out / "figures" / f"{fig}.svg").is_file()
    meta = json.loads((out / "manifest.json").read_text())
    assert meta["kind"] == "decision"
    assert meta["question"] == "size"
    assert meta["scenario_sha256"]
    page = (out / "decision.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    assert "http://" not in page
    assert "https://" not in page
    assert "<script" not in page
    assert "Fleet sizing" in page


def test_cli_bad_input_exits_2(
    scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["size", str(scenario_file), "--service", "nope", "--out", str(tmp_path / "x")]) == 2
    )
    assert "unknown service" in capsys.readouterr().err
    assert main(["size", str(scenario_file), "--service", "amb", "--confidence", "2"]) == 2


def test_report_includes_sizing_written_under_a_compare_directory(
    scenario_file: Path, tmp_path: Path
) -> None:
    result = tmp_path / "cmp"
    assert main(["compare", str(scenario_file), "--replications", "2", "--out", str(result)]) == 0
    assert 'id="decision"' not in (result / "report.html").read_text()
    assert (
        main(
            [
                "size",
                str(scenario_file),
                "--service",
                "amb",
                "--workers",
                "1",
                "--replications",
                "2",
                "--out",
                str(result / "sizing"),
                "--quiet",
            ]
        )
        == 0
    )
    assert main(["report", str(result)]) == 0
    page = (result / "report.html").read_text()
    assert 'id="decision"' in page
    assert "Fleet sizing: amb" in page


UNIT_YEAR = 8760 * 100.0  # one round-the-clock unit for a year at 100 an hour


def scenario(
    loads: list[float],
    share: float = 0.85,
    populations: list[int] | None = None,
    replications: int = 6,
) -> dict[str, Any]:
    """Zero travel, exponential 60-minute jobs, target 'did not wait' (0.01 min)."""
    pops = populations or [1000] * len(loads)
    coms = {f"c{i}": {"population": p} for i, p in enumerate(pops)}
    return {
        "name": "Coalition check",
        "communities": coms,
        "travel": {"matrix": {a: {b: 0 for b in coms} for a in coms}},
        "services": {
            "amb": {"cost_per_unit_hour": 100, "units": [{"station": c, "count": 1} for c in coms]}
        },
        "incident_types": {
            "call": {
                "service": "amb",
                "rate_per_year": {c: x * 525_600 / 60 for c, x in zip(coms, loads, strict=True)},
                "on_scene": {"dist": "exponential", "mean": 60},
                "target": {"minutes": 0.01, "share": share},
            }
        },
        "run": {"horizon": "28 d", "warmup": "2 d", "replications": replications, "seed": 11},
        "options": {
            "separate": {"dispatch": {"amb": {"policy": "separate"}}},
            "pooled": {"dispatch": {"amb": {"policy": "pooled"}}},
        },
        "cost_sharing": {"mix": {"population": 0.5, "calls": 0.5}},
    }


def test_cli_writes_the_game(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario([1.0, 1.0, 0.5]), sort_keys=False))
    out = tmp_path / "game"
    assert (
        main(["coalitions", str(path), "--service", "amb", "--fast", "--out", str(out), "--quiet"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "Shapley value" in printed
    assert "core non-empty" in printed
    for name in ("coalitions", "allocations", "stability"):
        assert (out / f"{name}.csv").is_file()
    info = json.loads((out / "game.json").read_text())
    assert info["players"] == ["c0", "c1", "c2"]
    assert info["core_nonempty"]
    for fig in ("coalition_values", "coalition_allocations"):
        assert (out / "figures" / f"{fig}.png").is_file()
        assert (out / "figures" / f"{fig}.svg").is_file()
    page = (out / "decision.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    assert "Who pays what" in page
    assert "<script" not in page
    assert main(["coalitions", str(path), "--service", "amb", "--fast", "--out", str(out)]) == 2
