"""``compare`` on the shipped public-services example: backlog.csv and caseload.csv with the
columns the issue names, consistent with the raw tables, the report's section and figures,
the workbook's sheets; and on a scenario without such services, the same files as before
plus the new tables (a backlog for every service, an empty caseload table)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli.main import main
from tests.builders import TWO_TOWNS, shipped

# the shipped example over 60 weeks, 30 of them warm-up: a shorter run of the same scenario
WARMUP, HORIZON = 210 * 1440.0, 420 * 1440.0
BACKLOG_COLUMNS = [
    "option",
    "service",
    "community",
    "mean_backlog",
    "peak_backlog",
    "p90_working_days",
    "within_target",
]


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("services")
    scenario = root / "five_valleys_services.yaml"
    data = shipped("five_valleys_services", horizon="420 d", warmup="210 d")
    scenario.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    out = root / "out"
    code = main(["compare", str(scenario), "--replications", "2", "--records", "--out", str(out)])
    assert code == 0, "compare of the public-services example should succeed"
    return out


@pytest.mark.slow
def test_backlog_csv_has_the_issue_columns_for_every_option(example: Path) -> None:
    backlog = pd.read_csv(example / "backlog.csv")
    missing = [c for c in BACKLOG_COLUMNS if c not in backlog]
    assert not missing, f"backlog.csv should have {BACKLOG_COLUMNS}; missing {missing}"
    works = backlog[(backlog["service"] == "highways") & (backlog["community"] == "all")]
    assert list(works["option"]) == ["separate", "mutual_aid", "pooled", "joint_depot"]
    assert (works["p90_working_days"] > 0).all(), "work orders take working days"
    assert (works["paused_share"] > 0).all(), "some jobs pause overnight"
    assert (works["peak_backlog"] >= works["mean_backlog"]).all(), "the peak is above the mean"
    emergencies = backlog[backlog["service"] == "make_safe"]
    assert emergencies["p90_working_days"].isna().all(), "round the clock: no working days"


@pytest.mark.slow
def test_backlog_mean_matches_the_raw_incidents(example: Path) -> None:
    inc = pd.read_parquet(example / "incidents.parquet")
    lo, hi = WARMUP, HORIZON
    mine = inc[(inc["option"] == "pooled") & (inc["service"] == "highways")]
    end = np.where(mine["t_clear"] <= hi, mine["t_clear"], hi)
    area = (np.clip(end, lo, hi) - np.clip(mine["t_call"], lo, hi)).sum()
    expected = area / (hi - lo) / mine["replication"].nunique()
    backlog = pd.read_csv(example / "backlog.csv").set_index(["option", "service", "community"])
    got = backlog.loc[("pooled", "highways", "all"), "mean_backlog"]
    assert got == pytest.approx(expected, rel=1e-5), "mean backlog: open requests over time"


@pytest.mark.slow
def test_caseload_csv_per_option_and_community(example: Path) -> None:
    caseload = pd.read_csv(example / "caseload.csv")
    region = caseload[caseload["community"] == "all"].set_index("option")
    assert (region["workers"] == 9).all(), "nine social workers under every option"
    assert (region["mean_caseload"] <= 17).all(), "a worker holds at most max_cases cases"
    assert (region["visits"] > 0).all(), "cases need visits"
    assert region.loc["pooled", "mean_wait_days"] <= region.loc["separate", "mean_wait_days"]


@pytest.mark.slow
def test_report_and_workbook_show_work_orders_and_caseloads(example: Path) -> None:
    html = (example / "report.html").read_text(encoding="utf-8")
    assert 'id="services"' in html, "the report has a work orders and caseloads section"
    assert "Cases per worker" in html, "the caseload table is in the report"
    assert "Working days (p90)" in html, "so is the backlog table"
    assert (example / "figures" / "backlog.png").is_file()
    assert (example / "figures" / "caseload.png").is_file()
    from openpyxl import load_workbook

    book = load_workbook(example / "results.xlsx", read_only=True)
    assert {"Backlog", "Caseload"} <= set(book.sheetnames), f"sheets: {book.sheetnames}"


@pytest.mark.slow
def test_a_scenario_without_them_gets_empty_caseloads_and_no_section(tmp_path: Path) -> None:
    out = tmp_path / "two"
    assert main(["compare", str(TWO_TOWNS), "--replications", "2", "--out", str(out)]) == 0
    backlog = pd.read_csv(out / "backlog.csv")
    assert set(backlog["service"]) == {"ambulance"}, "a backlog row for every service"
    assert backlog["paused_share"].isna().all(), "nothing pauses without a calendar"
    assert pd.read_csv(out / "caseload.csv").empty, "no caseload service, no rows"
    assert 'id="services"' not in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_work_order_figures_need_no_incident_table(tmp_path: Path) -> None:
    """A default compare (no --records) draws the weekly backlog and caseload figures from
    service_weekly.csv, which holds a level per week for every option and panel."""
    scenario = tmp_path / "five_valleys_services.yaml"
    data = shipped("five_valleys_services", horizon="120 d", warmup="30 d")
    scenario.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["compare", str(scenario), "--replications", "2", "--out", str(out)]) == 0
    assert not (out / "incidents.parquet").exists()
    weekly = pd.read_csv(out / "service_weekly.csv")
    assert set(weekly["kind"]) == {"backlog", "caseload"}
    per_line = weekly.groupby(["option", "service", "panel"]).size()
    assert (per_line == 120 // 7).all(), "a level per whole week of the run"
    assert (weekly["level"] >= 0).all()
    drawn = {p.stem for p in (out / "figures").glob("*.png")}
    assert {"backlog", "caseload"} <= drawn
