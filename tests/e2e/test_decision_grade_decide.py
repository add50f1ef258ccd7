"""``size`` and ``coalitions`` say against what they count: savings against today's fleet and
against the baseline fleet that meets the targets, each named (summary, console, page);
``coalitions --fast`` is labelled a screening estimate, and a simulated game shows the Erlang C
screening values beside its own; the footnote on starred amounts only when one is starred."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

import sim.decide
from sim.cli.main import main
from sim.decide.coalition import SCREENING
from tests.e2e.test_decision_grade_common import UNIT_YEAR, towns

# --- size: savings against today and against the baseline meeting the targets ------------------


@pytest.fixture(scope="module")
def sizing(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """Loads 1 and 1 Erlangs, 4 units each today (8); 85 % must not wait. Erlang C: alone 3
    each (6: 1 - C(3, 1) = 0.91, 1 - C(2, 1) = 0.67), pooled 5 (0.94; 4 give 0.83)."""
    base = tmp_path_factory.mktemp("size")
    path = base / "s.yaml"
    path.write_text(
        yaml.safe_dump(towns([1.0, 1.0], today=4, share=0.85), sort_keys=False), encoding="utf-8"
    )
    return str(path), base / "out"


def test_size_counts_savings_against_today_and_against_the_sized_baseline(
    sizing: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path, out = sizing
    assert (
        main(["size", path, "--service", "amb", "--out", str(out), "--quiet", "--workers", "1"])
        == 0
    )
    console = capsys.readouterr().out
    s = pd.read_csv(out / "sizing.csv").set_index("option")
    assert s.loc["separate", "units"] == 6
    assert s.loc["pooled", "units"] == 5
    assert s.loc["separate", "units_today"] == 8
    # against today's separate fleet (8 units) and against separate sized to the targets (6)
    assert s.loc["pooled", "units_saved_vs_today"] == 3
    assert s.loc["pooled", "units_saved"] == 1
    assert s.loc["separate", "units_saved_vs_today"] == 2
    assert s.loc["separate", "units_saved"] == 0
    assert s.loc["pooled", "cost_saved_vs_today"] == pytest.approx(3 * UNIT_YEAR)
    assert s.loc["pooled", "cost_saved"] == pytest.approx(1 * UNIT_YEAR)
    assert (
        "Savings against today's fleet ('separate' as the scenario gives it: 8 units, 7.01 M a "
        "year) and against the 'separate' fleet sized to meet the targets (6 units, 5.26 M a year)"
        in console
    )
    assert "saved vs today's separate" in console
    assert "saved vs separate meeting targets" in console
    pooled = next(line for line in console.splitlines() if line.split()[:2] == ["pooled"] * 2)
    assert "3 units, 2.63 M" in pooled
    assert "1 unit, 876 k" in pooled
    page = re.sub(r"\s+", " ", (out / "decision.html").read_text(encoding="utf-8"))
    page = page.replace("&#39;", "'")
    assert "Saved against today's separate" in page
    assert "Saved against separate meeting targets" in page
    assert "against today's separate fleet: 3 units fewer, 2.63 M a year less" in page
    assert "against separate sized to meet the targets: 1 unit fewer, 876 k a year less" in page


# --- coalitions: the screening estimate, labelled, and beside the simulation -------------------


def test_fast_coalitions_are_labelled_a_screening_estimate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        yaml.safe_dump(towns([1.0, 1.0, 0.5], today=1), sort_keys=False), encoding="utf-8"
    )
    out = tmp_path / "fast"
    assert main(["coalitions", str(path), "--service", "amb", "--fast", "--out", str(out)]) == 0
    console = capsys.readouterr().out
    assert "SCREENING ESTIMATE by Erlang C (--fast), not a simulation" in console
    assert "(* more than going alone would cost)" not in console, "nothing is starred"
    assert " *" not in console
    values = pd.read_csv(out / "coalitions.csv")
    assert set(values["method"]) == {SCREENING}
    page = (out / "decision.html").read_text(encoding="utf-8")
    assert "Screening estimate (Erlang C), not a simulation." in page
    assert "a screening estimate, not a simulation" in page


def test_the_footnote_comes_with_a_star(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Per capita, a big quiet town pays more than going alone (see test_coalitions)."""
    path = tmp_path / "s.yaml"
    data = towns([0.5, 2.0], today=1, share=0.85, populations=[100_000, 1000])
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    out = tmp_path / "star"
    assert main(["coalitions", str(path), "--service", "amb", "--fast", "--out", str(out)]) == 0
    console = capsys.readouterr().out
    assert re.search(r"\d M \*", console)
    assert "(* more than going alone would cost)" in console


def test_simulated_coalitions_show_the_screening_estimate_beside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """20 minutes between the towns and a 12-minute target: the screening estimate (no travel
    between communities) pools to fewer units than the simulation finds; both are shown, and
    the screening values are exactly those of --fast."""
    path = tmp_path / "s.yaml"
    data = towns([1.0, 1.0], today=1, across=20.0, target=12.0, share=0.85)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    fast = sim.decide.coalitions(str(path), "amb", fast=True)
    out = tmp_path / "sim"
    argv = ["coalitions", str(path), "--service", "amb", "--out", str(out), "--quiet"]
    assert main([*argv, "--workers", "1", "--replications", "4"]) == 0
    console = capsys.readouterr().out
    values = pd.read_csv(out / "coalitions.csv").set_index("coalition")
    screened = fast.values.set_index("coalition")
    assert set(values["method"]) == {"simulation"}
    pd.testing.assert_series_equal(
        values["value_analytic"], screened["value"], check_names=False, rtol=1e-9
    )
    assert (values["units_analytic"] == screened["units"]).all()
    grand = values.loc["c0+c1"]
    assert grand["units"] > grand["units_analytic"], "travel between the towns costs units"
    alloc = pd.read_csv(out / "allocations.csv").set_index(["method", "community"])
    fast_alloc = fast.allocations.set_index(["method", "community"])
    pd.testing.assert_series_equal(
        alloc["amount_analytic"], fast_alloc["amount"], check_names=False, rtol=1e-9
    )
    assert "Erlang C screening estimate:" in console
    assert "Shapley, Erlang C screening" in console
    page = re.sub(r"\s+", " ", (out / "decision.html").read_text(encoding="utf-8"))
    assert "<th>Shapley, Erlang C screening</th>" in page
    assert "<th>Erlang C screening</th>" in page
    assert "Erlang C screening estimate of the grand coalition, for comparison" in page
    assert "Screening estimate (Erlang C), not a simulation." not in page
