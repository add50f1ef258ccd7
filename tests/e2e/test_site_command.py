"""``intersim site``: the result directory (tables, map, page, the scenario with the chosen
placement), the simulated stage on common random numbers, the written scenario validating and
comparing to the same numbers, and bad input or impossible rules as one line, exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim.cli.main import main
from sim.siting import site
from tests.builders import siting_region

COMMENT = "# a comment of the scenario's author, kept in the sited scenario"
COLUMNS = [
    "placement",
    "sites",
    "units",
    "model_objective",
    *(
        f"{m}{s}"
        for m in ("mean_response", "p90_response", "within_target")
        for s in ("", "_ci_low", "_ci_high")
    ),
]


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("site") / "towns.yaml"
    text = yaml.safe_dump(siting_region(), sort_keys=False)
    path.write_text(f"{COMMENT}\n{text}", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sited(scenario_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out") / "sited"
    code = main(
        [
            "site",
            str(scenario_file),
            "--service",
            "ambulance",
            "--candidates",
            "zones",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    return out


@pytest.mark.slow
def test_writes_the_tables_map_page_and_scenario(sited: Path) -> None:
    table = pd.read_csv(sited / "siting.csv")
    assert set(COLUMNS) <= set(table.columns), "siting.csv has the columns the issue names"
    assert table["placement"].iloc[0] == "pooled", "today's placement comes first"
    assert table["chosen"].sum() == 1
    for name in ("siting_stations", "siting_communities", "siting_costs", "siting_game"):
        assert (sited / f"{name}.csv").is_file(), name
    assert (sited / "figures" / "siting_map.png").is_file()
    meta = json.loads((sited / "manifest.json").read_text())
    assert (meta["kind"], meta["question"]) == ("decision", "site")
    page = (sited / "decision.html").read_text()
    assert "Siting: Ambulance" in page
    assert page.count("data:image/png;base64,") == 1
    assert "Shapley value" in page
    costs = pd.read_csv(sited / "siting_costs.csv")
    chosen = table.loc[table["chosen"], "placement"].iloc[0]
    for method, g in costs[costs["placement"] == chosen].groupby("method"):
        total = float(table.loc[table["chosen"], "cost_per_year"].iloc[0])
        assert g["amount"].sum() == pytest.approx(total, rel=1e-5), f"{method} splits the cost"


@pytest.mark.slow
def test_written_scenario_keeps_comments_validates_and_compares_the_same(sited: Path) -> None:
    path = sited / "towns-sited.yaml"
    assert COMMENT in path.read_text(encoding="utf-8")
    scenario = sim.load_scenario(path)
    table = pd.read_csv(sited / "siting.csv").set_index("placement")
    chosen = str(table.index[table["chosen"]][0])
    assert chosen in scenario.options
    comp = sim.compare(path, replications=3)
    s = comp.summary
    for option in ("pooled", chosen):
        for metric in ("within_target", "mean_response", "p90_response"):
            got = s[
                (s["option"] == option)
                & (s["service"] == "ambulance")
                & (s["priority"] == "1")
                & (s["community"] == "all")
                & (s["metric"] == metric)
            ]["mean"].iloc[0]
            assert got == pytest.approx(table.loc[option, metric], rel=1e-5), (  # CSV: 6 digits
                f"compare on the written scenario should give site's {metric} of {option}"
            )


@pytest.mark.slow
def test_every_placement_sees_the_same_incidents() -> None:
    result = site(siting_region(), "ambulance", candidates="zones", placements=2)
    inc = result.simulated.incidents
    options = list(dict.fromkeys(inc["option"].astype(str)))
    assert len(options) == 3
    for _, rep in inc.groupby("replication"):
        calls = [
            rep[rep["option"].astype(str) == o][["t_call", "zone", "type"]].reset_index(drop=True)
            for o in options
        ]
        for other in calls[1:]:
            pd.testing.assert_frame_equal(calls[0], other)
    changed = result.siting.set_index("placement")["within_target"]
    assert changed.nunique() > 1, "the placements themselves differ"


def test_impossible_rules_are_one_line_exit_2(
    scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x"
    args = ["site", str(scenario_file), "--service", "ambulance", "--out", str(out), "--quiet"]
    assert main([*args, "--stations", "1", "--keep", "west", "east"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --keep names 2 stations but --stations is 1"]
    assert not out.exists(), "nothing is written"
    code = main(
        [
            *args,
            "--candidates",
            "zones",
            "--stations",
            "1",
            "--min-coverage",
            "west=1",
            "--min-coverage",
            "east=1",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    for part in ("--stations 1", "--min-coverage west=1", "--min-coverage east=1"):
        assert part in err[0]
    assert main([*args, "--service", "fire"]) == 2
    assert "unknown service 'fire'" in capsys.readouterr().err


@pytest.mark.slow
def test_candidate_points_from_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    points = tmp_path / "points.csv"
    points.write_text("id,x,y\nnorth_of_mid,12,3\nmid_centre,12,0\n", encoding="utf-8")
    result = site(
        siting_region(), "ambulance", candidates=str(points), placements=1, replications=2
    )
    assert {"north_of_mid", "mid_centre"} <= {s.id for s in result.sites}
    placed = result.stations[result.stations["placement"] == result.chosen]
    assert set(placed["station"]) & {"north_of_mid", "mid_centre"}, "Mid gets a new station"
    # without a speed there is no way to derive the points' trips
    data = siting_region()
    data["travel"] = {"matrix": {a: {b: 5 for b in ("west", "mid", "east")} for a in ("west",)}}
    data["travel"]["matrix"].update({"mid": {"mid": 5, "east": 5}, "east": {"east": 5}})
    del data["zones"]
    path = tmp_path / "no_speed.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    code = main(
        [
            "site",
            str(path),
            "--service",
            "ambulance",
            "--candidates",
            str(points),
            "--out",
            str(tmp_path / "o"),
            "--quiet",
        ]
    )
    assert code == 2
    assert "no travel.speed_kmh" in capsys.readouterr().err
    assert np.isfinite(result.site_xy).all()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--min-coverage", "west=2"], "a share must be in [0, 1]"),
        (["--min-coverage", "west=lots"], "expected COMMUNITY=SHARE or SHARE"),
        (["--objective", "fastest"], "invalid choice"),
        (["--option", "nope"], "--option: unknown option 'nope'"),
        (["--candidates", "nowhere.csv"], "no such file"),
        (["--keep", "nowhere"], "--keep: 'nowhere' is not a candidate site"),
        (["--time-limit", "0"], "must be more than 0 seconds"),
    ],
)
def test_bad_arguments_are_one_line_exit_2(
    scenario_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    out = tmp_path / "x"
    argv = ["site", str(scenario_file), "--service", "ambulance", "--out", str(out), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err, f"expected {message!r} in {err!r}"
    assert "Traceback" not in err
    assert not out.exists()


@pytest.mark.slow
def test_report_of_a_comparison_includes_a_siting_under_it(
    scenario_file: Path, tmp_path: Path
) -> None:
    result = tmp_path / "cmp"
    assert main(["compare", str(scenario_file), "--replications", "2", "--out", str(result)]) == 0
    argv = [
        "site",
        str(scenario_file),
        "--service",
        "ambulance",
        "--replications",
        "2",
        "--placements",
        "1",
        "--out",
        str(result / "siting"),
        "--quiet",
    ]
    assert main(argv) == 0
    assert main(["report", str(result)]) == 0
    page = (result / "report.html").read_text(encoding="utf-8")
    assert "Siting: Ambulance" in page
