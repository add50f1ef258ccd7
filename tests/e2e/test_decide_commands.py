"""Decision commands: ``intersim size`` and ``intersim coalitions`` write their tables,
figures and page; workers change nothing; the report includes a sizing found under a
comparison directory."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

import sim.decide
from sim.cli.main import main
from tests.builders import coalition_scenario, sizing_scenario


@pytest.mark.slow
def test_same_answer_on_two_processes() -> None:
    """Tasks are pure and seeded by replication: workers change nothing."""
    scenario = sizing_scenario([1.0, 1.0], share=0.85, horizon="14 d", replications=4)
    one = sim.decide.size(scenario, "amb", workers=1)
    two = sim.decide.size(scenario, "amb", workers=2)
    assert two.executor == "2 local processes"
    pd.testing.assert_frame_equal(one.summary, two.summary)
    pd.testing.assert_frame_equal(one.communities, two.communities)


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("decide") / "erlang.yaml"
    data = sizing_scenario([1.0, 1.0], share=0.85, horizon="14 d", replications=4)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.slow
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


@pytest.mark.slow
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


def test_cli_writes_the_game(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(coalition_scenario([1.0, 1.0, 0.5]), sort_keys=False))
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
