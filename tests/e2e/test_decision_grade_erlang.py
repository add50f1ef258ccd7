"""Erlang C caveats: the estimate says when the approximation does not apply (part-time units,
multi-unit calls, long turnouts, demand peaks, mutual aid with its delays), and large gaps
between the simulated share that waited and the estimated probability of waiting are flagged,
with a note per flagged row (report, console)."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.analysis.erlang import GAP, caveats, estimate, large_gap
from sim.analysis.metrics import ALL
from sim.cli.main import main
from sim.comparison.compare import Comparison, compare
from sim.comparison.output import erlang_gap_notes, format_comparison, write_comparison
from sim.engine.driver import compile_scenario
from sim.schema import scenario_from_dict


def plain(**changes: Any) -> dict[str, Any]:
    """Two towns, one round-the-clock unit each, exponential hour-long jobs, no travel: the
    M/M/c queue of Erlang C itself."""
    data: dict[str, Any] = {
        "name": "Plain",
        "communities": {"a": {"population": 1000}, "b": {"population": 1000}},
        "travel": {"matrix": {"a": {"a": 0, "b": 0}, "b": {"b": 0}}},
        "services": {"amb": {"units": [{"station": "a"}, {"station": "b"}]}},
        "incident_types": {
            "call": {
                "service": "amb",
                "rate_per_year": {"a": 2628, "b": 2628},  # 0.3 Erlangs each
                "on_scene": {"dist": "exponential", "mean": 60},
                "target": {"minutes": 10, "share": 0.9},
            }
        },
        "run": {"horizon": "30 d", "warmup": "2 d", "replications": 3, "seed": 3},
        "options": {
            "separate": {},
            "pooled": {"dispatch": {"all": {"policy": "pooled"}}},
        },
    }
    for path, value in changes.items():
        node = data
        *head, last = path.split(".")
        for key in head:
            node = node[key]
        node[last] = value
    return data


def caveats_of(data: dict[str, Any], option: str = "separate") -> list[str]:
    compiled = compile_scenario(scenario_from_dict(data))
    return caveats(compiled.region, compiled.fleets[option], 0)


def test_no_caveat_where_erlang_c_is_exact() -> None:
    assert caveats_of(plain()) == []
    assert caveats_of(plain(), "pooled") == []
    est = estimate(*_compiled(plain()))
    assert (est["caveats"] == "").all()


def _compiled(data: dict[str, Any]) -> tuple[Any, Any]:
    c = compile_scenario(scenario_from_dict(data))
    return c.region, c.fleets


PART_TIME = [{"station": "a", "duty": {"hours": [8, 20]}}, {"station": "b"}]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"services.amb.units": PART_TIME},
            "part-time units (1 of 2)",
        ),
        (
            {
                "incident_types.call.units_needed": 2,
                "services.amb.units": [{"station": "a", "count": 2}, {"station": "b", "count": 2}],
            },
            "multi-unit calls (100% need up to 2 units",
        ),
        (
            {"incident_types.call.turnout": 30, "incident_types.call.on_scene": 30},
            "long turnouts (mean 30 min, 50% of the busy time)",
        ),
        (
            {
                "profiles": {"day": {"hour_of_day": [0.2] * 8 + [2.0] * 8 + [0.8] * 8}},
                "incident_types.call.profile": "day",
            },
            "demand peaks (busiest hour 2.0 x the mean rate)",
        ),
    ],
)
def test_each_known_reason_is_a_caveat(changes: dict[str, Any], expected: str) -> None:
    found = caveats_of(plain(**changes))
    assert len(found) == 1, found
    assert found[0].startswith(expected), found


def test_mutual_aid_with_a_request_delay_is_a_caveat() -> None:
    data = plain()
    data["options"]["aid"] = {
        "dispatch": {"amb": {"policy": "mutual_aid", "request_delay": 3}},
    }
    (found,) = caveats_of(data, "aid")
    assert found.startswith("mutual aid (own units first, request delay 3 min)")
    assert caveats_of(data, "separate") == []


def test_caveats_are_in_the_estimate_table_and_printed_by_estimate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = plain(**{"services.amb.units": PART_TIME})
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert main(["estimate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "note: Erlang C may mislead for amb (every option): part-time units (1 of 2)" in out
    est = estimate(*_compiled(data))
    assert est["caveats"].str.startswith("part-time units").all()


def test_large_gap_needs_distance_and_the_estimate_outside_the_interval() -> None:
    assert pytest.approx(0.1) == GAP
    assert large_gap(0.40, 0.35, 0.45, 0.20)
    assert not large_gap(0.40, 0.10, 0.70, 0.20), "inside a wide simulated interval"
    assert not large_gap(0.25, 0.24, 0.26, 0.20), "only 5 pp apart"
    assert not large_gap(float("nan"), 0.0, 1.0, 0.2)


# --- a gap the simulation shows --------------------------------------------------------------


def night_gap() -> dict[str, Any]:
    """Day-shift units only: every night call waits for the morning, while Erlang C counts the
    units as slower round-the-clock servers and finds little waiting."""
    data = plain()
    data["services"]["amb"]["units"] = [
        {"station": "a", "count": 2, "duty": {"hours": [7, 19]}},
        {"station": "b", "count": 2, "duty": {"hours": [7, 19]}},
    ]
    data["incident_types"]["call"]["rate_per_year"] = {"a": 1752, "b": 1752}
    data["run"]["replications"] = 4
    return data


@pytest.fixture(scope="module")
def gap(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Comparison]:
    base = tmp_path_factory.mktemp("gap")
    data = night_gap()
    path = base / "night.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    scenario = scenario_from_dict(copy.deepcopy(data))
    comp = compare(scenario)
    out = base / "result"
    write_comparison(
        comp,
        out,
        scenario_file=path,
        command="intersim compare night.yaml",
        started=datetime.now(UTC),
        seconds=1.0,
        scenario=scenario,
    )
    return out, comp


def test_gap_is_flagged_in_the_console(gap: tuple[Path, Comparison]) -> None:
    _, comp = gap
    s = comp.summary
    waited = s[(s["metric"] == "waited") & (s["community"] == ALL) & (s["priority"] == ALL)]
    waited = waited.set_index("option")
    head = comp.headline[comp.headline["priority"] == ALL].set_index("option")
    for opt in ("separate", "pooled"):
        assert waited.loc[opt, "mean"] - head.loc[opt, "p_wait_erlang"] > 0.2, "night calls wait"
        assert waited.loc[opt, "ci_low"] > head.loc[opt, "p_wait_erlang"]
    notes = erlang_gap_notes(comp)
    assert len(notes) == 2
    assert all("part-time units (4 of 4)" in n for n in notes)
    assert "note: amb, separate:" in format_comparison(comp)


def test_gap_is_flagged_in_the_report_with_a_note(gap: tuple[Path, Comparison]) -> None:
    out, _ = gap
    html = (out / "report.html").read_text(encoding="utf-8")
    start = html.index('<section id="estimate">')
    table = html[start : html.index("</section>", start)]
    rows = re.findall(r"<tr( class=\"flagged\")?><td>(.*?)</tr>", table, flags=re.S)
    assert len(rows) == 2
    for flagged, row in rows:
        assert flagged, "both options are far from Erlang C"
        assert "Large gap:" in row
        assert "do not rely on the Erlang C figure here" in row
        assert "part-time units (4 of 4)" in row
    assert "part-time units or duty schedules" in table, "the section says when it does not apply"


def test_no_flag_where_erlang_c_holds(tmp_path: Path) -> None:
    comp = compare(scenario_from_dict(plain()))
    assert erlang_gap_notes(comp) == []
    assert "note:" not in format_comparison(comp)
