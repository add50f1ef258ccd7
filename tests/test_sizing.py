"""Fleet sizing (sim.decide.sizing): the search returns the fleet Erlang C says is smallest,
from any start; pooling saves what theory says; answers are confirmed on fresh replications;
unreachable targets are reported; outputs, the CLI and the report hook.

The known-answer case: no call handling, turnout or travel, exponential service, and a target
of 0.01 minutes, so that "within target" means "did not wait" and the share within target is
1 - C(c, a) (Erlang C). The loads are chosen so that one unit fewer than the answer misses the
target share by far more than the confidence interval's width: the search cannot be fooled by
noise, and must return exactly the Erlang C answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import sim.decide
from sim.analysis.queueing import erlang_c
from sim.cli.main import main
from sim.decide.fleet import option_context
from sim.errors import InputError
from sim.schema import scenario_from_dict

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


def erlang_answer(load: float, share: float) -> int:
    """The smallest c with 1 - C(c, a) >= share."""
    c = int(load) + 1
    while 1 - erlang_c(c, load) < share:
        c += 1
    return c


def test_the_case_can_tell_neighbours_apart() -> None:
    """One unit fewer misses by 7 pp, the answer clears by 4 pp: far beyond the noise of
    eight 4-week replications (their one-sided bound is within about 1.5 pp)."""
    c = erlang_answer(2.0, 0.9)
    assert c == 5
    assert 1 - erlang_c(c - 1, 2.0) < 0.9 - 0.07
    assert 1 - erlang_c(c, 2.0) > 0.9 + 0.04


@pytest.mark.parametrize("start", [None, [1], [9]])
def test_search_finds_the_erlang_c_answer(start: list[int] | None) -> None:
    """From the analytic start, from below (adding) and from above (removing)."""
    res = sim.decide.size(
        erlang_scenario([2.0]),
        "amb",
        options=["separate"],
        workers=1,
        start={"separate": start} if start else None,
    )
    row = res.summary.iloc[0]
    assert row["status"] == "met"
    assert row["units"] == erlang_answer(2.0, 0.9) == 5
    assert row["held"]
    assert row["cost_per_year"] == pytest.approx(5 * 8760 * COST)
    trace = res.trace
    if start == [1]:
        assert list(trace["action"]) == ["start", "add", "add", "add", "add"]
    if start == [9]:
        assert list(trace["action"]) == ["start"] + ["remove"] * 4
    # the communities table: today, search and confirmation
    c = res.communities.set_index("phase")
    search, confirm = c.loc["search"], c.loc["confirm"]
    assert search["within_target"] == pytest.approx(1 - erlang_c(5, 2.0), abs=0.02)
    assert search["lower_bound"] >= 0.9
    assert search["ci_low"] < search["lower_bound"] < search["within_target"] < search["ci_high"]
    assert search["margin"] == pytest.approx(search["lower_bound"] - 0.9)
    # fresh replications: other random numbers, so other calls
    assert confirm["calls_per_replication"] != search["calls_per_replication"]
    assert not bool(c.loc["today", "met"])


def test_pooling_saves_what_erlang_c_says() -> None:
    """Two communities of 1 Erlang, target 85 %: alone each needs 3 units (1 - C = 0.909;
    2 units give 0.667); pooled, 2 Erlangs need 5 (0.940; 4 give 0.826): one unit saved."""
    assert erlang_answer(1.0, 0.85) == 3
    assert erlang_answer(2.0, 0.85) == 5
    res = sim.decide.size(erlang_scenario([1.0, 1.0], share=0.85), "amb", workers=1)
    s = res.summary.set_index("option")
    assert s.loc["separate", "units"] == 6
    assert s.loc["pooled", "units"] == 5
    assert s.loc["pooled", "units_saved"] == 1
    assert s.loc["pooled", "cost_saved"] == pytest.approx(8760 * COST)
    assert s.loc["separate", "baseline"]
    assert not s.loc["pooled", "baseline"]
    assert s["held"].all()
    st = res.stations[res.stations["option"] == "separate"]
    assert list(st["units"]) == [3, 3]
    assert list(st["units_today"]) == [1, 1]
    assert set(res.communities["community"]) == {"c0", "c1"}


def test_same_answer_on_two_processes() -> None:
    """Tasks are pure and seeded by replication: workers change nothing."""
    scenario = erlang_scenario([1.0, 1.0], share=0.85, horizon="14 d", replications=4)
    one = sim.decide.size(scenario, "amb", workers=1)
    two = sim.decide.size(scenario, "amb", workers=2)
    assert two.executor == "2 local processes"
    pd.testing.assert_frame_equal(one.summary, two.summary)
    pd.testing.assert_frame_equal(one.communities, two.communities)


def test_unreachable_target_is_reported() -> None:
    """Travel of 10 minutes inside the community and a 5-minute target: no number of units
    helps; the search gives up, keeps the smallest fleet, and names the community."""
    data = erlang_scenario([0.2, 0.2])
    data["travel"]["matrix"]["c1"]["c1"] = 10
    data["incident_types"]["call"]["target"] = {"minutes": 5, "share": 0.9}
    res = sim.decide.size(data, "amb", options=["separate"], workers=1)
    row = res.summary.iloc[0]
    assert row["status"] == "infeasible"
    assert row["unmet"] == "c1"
    st = res.stations.set_index("station")["units"]
    assert st["c1"] == 1  # back to the fewest units: more did not help
    assert st["c0"] >= 1
    assert "back" in set(res.trace["action"])


def test_placement_moves_a_unit_to_where_it_covers_everyone() -> None:
    """Three places on a line, 6 minutes apart, target 7 minutes: pooled, one unit in the
    middle (b) covers all three. Today a has the only unit: without moving units the search
    needs units at a and c; with placement it moves one to b."""
    data = erlang_scenario([0.0, 0.0, 0.0])
    trips = {("c0", "c1"): 6, ("c1", "c2"): 6, ("c0", "c2"): 12}
    data["travel"]["matrix"] = {
        a: {b: trips.get((a, b), 0) for b in ("c0", "c1", "c2") if (a, b) in trips or a == b}
        for a in ("c0", "c1", "c2")
    }
    call = data["incident_types"]["call"]
    call["target"] = {"minutes": 7, "share": 0.9}
    call["on_scene"] = 1  # short jobs: about 2 % of calls wait, enough calls to judge
    call["rate_per_year"] = 500
    data["services"]["amb"]["units"] = [{"station": "c0", "count": 1}]
    data["options"] = {"pooled": {"dispatch": {"amb": {"policy": "pooled"}}}}
    del data["baseline"]
    fixed = sim.decide.size(data, "amb", workers=1, replications=4)
    moved = sim.decide.size(data, "amb", workers=1, replications=4, placement=True)
    assert fixed.summary.iloc[0]["units"] == 2
    assert moved.summary.iloc[0]["units"] == 1
    st = moved.stations.set_index("station")["units"]
    assert st["c1"] == 1
    assert st["c0"] == 0
    assert st["c2"] == 0
    assert moved.summary.iloc[0]["held"]


def test_slots_keep_todays_units_in_order() -> None:
    """Removing at a station drops its last-listed unit first (the day car)."""
    data = erlang_scenario([1.0])
    data["services"]["amb"]["units"] = [
        {"station": "c0", "count": 2},
        {"station": "c0", "count": 1, "duty": {"hours": [10, 22]}},
    ]
    ctx = option_context(scenario_from_dict(data), "separate", "amb")
    assert ctx.today == (3,)
    assert ctx.cost_per_year((3,)) == pytest.approx((2 + 0.5) * 8760 * COST)
    assert ctx.cost_per_year((2,)) == pytest.approx(2 * 8760 * COST)
    assert ctx.cost_per_year((4,)) == pytest.approx(3.5 * 8760 * COST)


def test_bad_input() -> None:
    data = erlang_scenario([1.0])
    with pytest.raises(InputError, match="unknown service"):
        sim.decide.size(data, "fire")
    with pytest.raises(InputError, match="at least 2 replications"):
        sim.decide.size(data, "amb", replications=1)
    with pytest.raises(InputError, match="unknown option"):
        sim.decide.size(data, "amb", options=["nope"])


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
