"""The headline cannot hide a missed target, and never-reached calls are shown beside every
mean and fractile: headline rows per priority with a target (Comparison.headline,
headline.csv, the console, the report), "At a glance" leading with every community and priority
below its target, the metric ``open_share`` and its warning above 1 %."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.metrics import ALL, BACKLOG_SHARE, backlog_warnings, incident_metrics
from sim.analysis.stats import BOUNDS, LOWER_IS_BETTER, MARGINS
from sim.cli.main import main
from sim.comparison.compare import Comparison, compare
from sim.comparison.output import format_comparison
from sim.report.page import build_report
from sim.results.display import fmt_minutes
from sim.results.read import load_result
from sim.schema import scenario_from_dict
from tests.e2e.test_decision_grade_common import five_valleys_result, hidden_miss_result


@pytest.fixture(scope="module")
def hidden(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Comparison]:
    return hidden_miss_result(tmp_path_factory)


@pytest.fixture(scope="module")
def valleys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Comparison]:
    return five_valleys_result(tmp_path_factory)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def section(html: str, name: str) -> str:
    start = html.index(f'<section id="{name}">')
    return html[start : html.index("</section>", start)]


# --- headline rows per priority -----------------------------------------------------------------


def test_headline_has_a_row_per_priority_with_a_target(hidden: tuple[Path, Comparison]) -> None:
    """All priorities together look fine (over 90 % in target); priority 1 does not, and has a
    row of its own, with the numbers of summary.csv."""
    _, comp = hidden
    head = comp.headline
    assert list(head["priority"].drop_duplicates()) == [ALL, "1", "2"]
    s = comp.summary
    s = s[(s["community"] == ALL) & (s["metric"] == "within_target")].set_index(
        ["priority", "option"]
    )["mean"]
    rows = head.set_index(["priority", "option"])
    for (prio, opt), value in s.items():
        assert rows.loc[(prio, opt), "within_target"] == pytest.approx(value)
    assert (rows.loc[ALL, "within_target"] > 0.9).all(), "the average looks fine"
    assert (rows.loc["1", "within_target"] < 0.8).all(), "priority 1 misses its 90 % by far"


def test_priorities_without_a_target_get_no_row(valleys: tuple[Path, Comparison]) -> None:
    _, comp = valleys
    head = comp.headline
    s = comp.summary
    targeted = s[
        (s["metric"] == "within_target")
        & (s["community"] == ALL)
        & (s["priority"] != ALL)
        & (s["n"] > 0)
    ]
    expected = {(sv, p) for sv, p in zip(targeted["service"], targeted["priority"], strict=True)}
    got = {(sv, p) for sv, p in zip(head["service"], head["priority"], strict=True) if p != ALL}
    assert got == expected
    assert ("fire", "2") not in got, "Five Valleys fire priority 2 has no target"
    assert len(head) == len({*got, *((sv, ALL) for sv in head["service"])}) * 4


def test_headline_csv_console_and_report_show_the_priority_rows(
    hidden: tuple[Path, Comparison],
) -> None:
    out, comp = hidden
    csv = pd.read_csv(out / "headline.csv", dtype={"priority": str})
    assert list(csv.columns[:3]) == ["service", "priority", "option"]
    assert {"open_share", "within_target_vs_baseline", "vs_baseline"} <= set(csv.columns)
    pd.testing.assert_series_equal(
        csv["within_target"], comp.headline["within_target"], check_exact=False, rtol=1e-5
    )
    console = format_comparison(comp)
    assert "never reached" in console
    p1 = comp.headline.set_index(["priority", "option"]).loc[("1", "separate")]
    line = next(x for x in console.splitlines() if re.match(r"\s+1\s+separate", x))
    assert f"{p1['within_target']:.1%}" in line, "priority 1's own share is on its own line"
    head = text_of(section((out / "report.html").read_text(encoding="utf-8"), "headline"))
    assert "Public works, all priorities" in head
    assert "Public works, priority 1" in head
    assert f"{100 * p1['within_target']:.1f} %" in head
    # shares and fractiles before means, the share never reached beside them
    order = [head.index(c) for c in ("Within target", "90th percentile", "Mean response")]
    assert order == sorted(order)
    assert "Never reached" in head


# --- at a glance -----------------------------------------------------------------------------


def missed(out: Path) -> list[tuple[float, str, str, str, str]]:
    """(shortfall, service, priority, community, option) below target, read independently."""
    region = json.loads((out / "region.json").read_text(encoding="utf-8"))
    s = pd.read_csv(out / "summary.csv", dtype={"priority": str, "community": str})
    s = s[(s["metric"] == "within_target") & (s["n"] > 0)]
    rows = []
    for t in region["targets"]:
        sub = s[
            (s["service"] == t["service"])
            & (s["priority"] == str(t["priority"]))
            & (s["community"] == t["community"])
        ]
        for opt, value in zip(sub["option"], sub["mean"], strict=True):
            if value < t["share"]:
                key = (t["service"], str(t["priority"]), t["community"], opt)
                rows.append((t["share"] - value, *key))
    return rows


def test_at_a_glance_leads_with_every_missed_target(valleys: tuple[Path, Comparison]) -> None:
    out, _ = valleys
    data = load_result(out)
    glance = section((out / "report.html").read_text(encoding="utf-8"), "glance")
    items = re.findall(r"<li>(.*?)</li>", glance.split('id="targets"')[1].split("</div>")[0])
    items = [i.replace("&#39;", "'") for i in items]
    misses = missed(out)
    assert misses, "Five Valleys misses targets (Millbrook's ambulance priority 1, ...)"
    groups = {(sv, p, c) for _, sv, p, c, _ in misses}
    assert len(items) == len(groups), "one line per community and priority below target"
    worst = {}
    for short, sv, p, c, _ in misses:
        worst[(sv, p, c)] = max(worst.get((sv, p, c), 0.0), short)
    ranked = sorted(worst, key=lambda k: -worst[k])
    for item, (sv, p, c) in zip(items, ranked, strict=True):
        name = f"{data.community_name(c)}, {data.service_name(sv)}, priority {p}"
        assert item.startswith(name), f"worst first: expected {name!r}, got {item[:80]!r}"
        minutes, share = data.target_of(sv, int(p), c)
        assert f"within {fmt_minutes(minutes)} under separate (target {100 * share:.0f} %" in item
        for opt in data.options[1:]:
            assert re.search(rf"; {opt} \d+\.\d %", item), f"what {opt} changes: {item}"
    # the count under each option, and the example of the issue
    lead = text_of(glance)
    for opt in data.options:
        n = sum(1 for k in groups if any(m[1:4] == k and m[4] == opt for m in misses))
        assert f"under {opt} {n if n else 'none'}" in lead
    mill = next(i for i in items if i.startswith("Millbrook, Ambulance (EMS), priority 1"))
    assert re.search(r"\d+\.\d % within 8:59 under separate \(target 90 %\); mutual_aid", mill)
    assert re.search(r"pooled \d+\.\d % \([+-]\d+\.\d pp, [a-z ]+, (below target|meets it)\)", mill)


def test_glance_text_comes_before_means_and_says_when_none_is_below_target(
    hidden: tuple[Path, Comparison], tmp_path: Path
) -> None:
    out, _ = hidden
    html = (out / "report.html").read_text(encoding="utf-8")
    glance = text_of(section(html, "glance"))
    assert "Aston, Public works, priority 1" in glance
    assert glance.index("Response targets") < glance.index("mean response")
    # with every target share lowered to zero, nothing is below target, and it says so
    copy = tmp_path / "met"
    shutil.copytree(out, copy)
    region = json.loads((copy / "region.json").read_text(encoding="utf-8"))
    for t in region["targets"]:
        t["share"] = 0.0
    (copy / "region.json").write_text(json.dumps(region), encoding="utf-8")
    met = text_of(section(build_report(copy).read_text(encoding="utf-8"), "glance"))
    assert "Every community meets every response target under every option" in met


def test_warnings_are_shown_and_no_warnings_only_without_them(
    hidden: tuple[Path, Comparison], tmp_path: Path
) -> None:
    out, comp = hidden
    assert comp.warnings == []
    quiet = text_of(section((out / "report.html").read_text(encoding="utf-8"), "glance"))
    assert "No run warnings" in quiet
    copy = tmp_path / "warned"
    shutil.copytree(out, copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["warnings"] = ["option 'separate': 4.0% of works calls were never reached"]
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    glance = text_of(section(build_report(copy).read_text(encoding="utf-8"), "glance"))
    assert "4.0% of works calls were never reached" in glance
    assert "No run warnings" not in glance
    assert "No warnings" not in glance


# --- calls never reached ---------------------------------------------------------------------

OVERLOADED = {
    "name": "Overloaded",
    "communities": {"a": {"population": 1000}, "b": {"population": 1000}},
    "travel": {"matrix": {"a": {"a": 5, "b": 10}, "b": {"b": 5}}},
    "services": {"amb": {"units": [{"station": "a"}, {"station": "b", "count": 3}]}},
    "incident_types": {
        "k": {
            "service": "amb",
            "rate_per_year": {"a": 60000, "b": 20000},
            "on_scene": {"dist": "exponential", "mean": 10},
            "target": {"minutes": 15, "share": 0.9},
        }
    },
    "run": {"horizon": "10 d", "warmup": "1 d", "replications": 3},
    "options": {"separate": {}, "pooled": {"dispatch": {"all": {"policy": "pooled"}}}},
}


@pytest.fixture(scope="module")
def overloaded() -> Comparison:
    return compare(scenario_from_dict(OVERLOADED))


def test_open_share_is_the_share_never_reached(overloaded: Comparison) -> None:
    inc = overloaded.raw.incidents
    inc = inc[~inc["warmup"]]
    per_rep = (
        inc.assign(never=inc["response"].isna())
        .groupby(["option", "replication"], observed=True)["never"]
        .mean()
    )
    expected = per_rep.groupby(level="option").mean()
    s = overloaded.summary
    s = s[(s["metric"] == "open_share") & (s["community"] == ALL) & (s["priority"] == ALL)]
    got = s.set_index("option")["mean"]
    for opt, value in expected.items():
        assert got[str(opt)] == pytest.approx(value)
    assert expected["separate"] > 0.2, "community a's single unit cannot keep up"
    assert ((s["ci_low"] >= 0) & (s["ci_high"] <= 1)).all(), "a share's interval stays in 0-1"
    head = overloaded.headline.set_index(["priority", "option"])
    assert head.loc[(ALL, "separate"), "open_share"] == pytest.approx(expected["separate"])
    c = overloaded.comparison
    assert (c["metric"] == "open_share").any(), "open_share is compared, with its margin"
    assert BOUNDS["open_share"] == (0.0, 1.0)
    assert LOWER_IS_BETTER["open_share"] is True
    assert MARGINS["open_share"].absolute > 0


def test_open_share_never_counts_reached_calls() -> None:
    """Calls reached but still on scene at the horizon are open, not 'never reached'."""
    inc = pd.DataFrame(
        {
            "replication": 0,
            "option": "x",
            "service": "s",
            "priority": 1,
            "community": "a",
            "response": [5.0, np.nan, 7.0, 9.0],
            "met_target": pd.array([True, pd.NA, True, True], dtype="boolean"),
            "wait": [0.0, np.nan, 0.0, 0.0],
            "open": [False, True, True, False],
            "t_dispatch": [1.0, np.nan, 3.0, 4.0],
            "t_ready": [1.0, 2.0, 3.0, 4.0],
            "warmup": False,
        }
    )
    m = incident_metrics(inc)
    m = m[(m["community"] == ALL) & (m["priority"] == ALL)].set_index("metric")["value"]
    assert m["open_share"] == pytest.approx(0.25)
    assert m["open"] == 2
    assert m["mean_response"] == pytest.approx(7.0), "the mean leaves the unreached call out"


def test_warning_above_one_percent_in_console_manifest_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    path = tmp_path / "over.yaml"
    path.write_text(yaml.safe_dump(OVERLOADED, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["compare", str(path), "--out", str(out), "--replications", "2"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"option 'separate': \d+\.\d% of amb calls were never reached", err), err
    assert "the mean and fractiles of response leave them out" in err
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    warned = [w for w in manifest["warnings"] if "never reached" in w]
    assert warned
    assert warned[0].startswith("option 'separate'")
    glance = text_of(section((out / "report.html").read_text(encoding="utf-8"), "glance"))
    assert warned[0] in glance
    assert "No run warnings" not in glance


def test_no_warning_at_or_below_one_percent() -> None:
    n = 1000
    inc = pd.DataFrame(
        {
            "replication": 0,
            "option": "x",
            "service": "s",
            "priority": 1,
            "response": np.where(np.arange(n) < 10, np.nan, 5.0),  # exactly 1 %
            "t_dispatch": 1.0,
            "t_ready": 1.0,
            "warmup": False,
        }
    )
    assert backlog_warnings(inc) == []
    inc.loc[10, "response"] = np.nan  # 1.1 %
    (w,) = backlog_warnings(inc)
    assert "1.1% of s calls were never reached" in w
    assert math.isclose(BACKLOG_SHARE, 0.01)
