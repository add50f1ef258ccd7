"""results.xlsx: one sheet per table, display names and units, formatted numbers equal to the
CSV files, frozen headers, and a README sheet describing every column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import sim
from sim.comparison.output import write_comparison
from sim.results.workbook import METRICS, SHEETS, WORKBOOK_FILE

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def result_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = ROOT / "scenarios" / "two_towns.yaml"
    data = sim.load_scenario(path).model_dump(mode="json")
    data["run"].update(horizon=21 * 1440.0, warmup=1440.0)
    scenario = sim.scenario_from_dict(data)
    out = tmp_path_factory.mktemp("wb") / "out"
    from datetime import UTC, datetime

    comp = sim.compare(scenario, replications=3)
    write_comparison(
        comp,
        out,
        scenario_file=path,
        command="test",
        started=datetime.now(UTC),
        seconds=0.0,
        scenario=scenario,
    )
    return out


def test_every_table_has_its_sheet_with_a_frozen_header(result_dir: Path) -> None:
    book = openpyxl.load_workbook(result_dir / WORKBOOK_FILE)
    assert book.sheetnames[0] == "README"
    for file, (title, _) in SHEETS.items():
        if (result_dir / file).is_file():
            assert title in book.sheetnames, f"{file} should have the sheet {title!r}"
            assert book[title].freeze_panes == "A2", f"{title}: the header row stays in view"


def _sheet(result_dir: Path, title: str) -> pd.DataFrame:
    ws = openpyxl.load_workbook(result_dir / WORKBOOK_FILE)[title]
    rows = list(ws.iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def _as_minutes(value: object) -> float:
    if hasattr(value, "total_seconds"):
        return value.total_seconds() / 60.0  # type: ignore[no-any-return, attr-defined]
    return float(value) * 1440.0  # type: ignore[arg-type]


def test_numbers_equal_the_csv(result_dir: Path) -> None:
    csv = pd.read_csv(result_dir / "summary.csv", dtype={"priority": str})
    sheet = _sheet(result_dir, "Summary")
    assert len(sheet) == len(csv)
    for i in range(len(csv)):
        metric = csv["metric"].iloc[i]
        label, kind = METRICS[metric]
        assert sheet["Measure"].iloc[i] == label
        for src, col in (("mean", "Mean"), ("ci_low", "95 % CI low"), ("ci_high", "95 % CI high")):
            want, got = csv[src].iloc[i], sheet[col].iloc[i]
            if pd.isna(want):
                assert got is None, f"row {i} {src}: an empty cell for a missing value"
                continue
            value = _as_minutes(got) if kind == "time" else float(got)
            # durations come back through openpyxl's timedelta, rounded to the millisecond
            tolerance = 2e-5 if kind == "time" else 1e-9
            assert value == pytest.approx(float(want), rel=1e-9, abs=tolerance), (metric, src)


def test_formats_show_minutes_seconds_percent_and_whole_calls(result_dir: Path) -> None:
    ws = openpyxl.load_workbook(result_dir / WORKBOOK_FILE)["Headline"]
    header = [c.value for c in ws[1]]
    row = list(ws[2])
    fmt = {h: c.number_format for h, c in zip(header, row, strict=True)}
    assert fmt["Mean response (min:s)"] == "[m]:ss"
    assert fmt["Share within target (%)"] == "0.0%"
    assert fmt["Calls"] == "#,##0"
    services = {c.value for c in ws["A"][1:]}
    assert "Ambulance" in " ".join(map(str, services)) or services, "display names of services"


def test_display_names_replace_ids_and_codes(result_dir: Path) -> None:
    sheet = _sheet(result_dir, "Summary")
    assert "whole region" in set(sheet["Community"]), "community 'all' reads 'whole region'"
    assert "all priorities" in set(sheet["Priority"])
    levels = _sheet(result_dir, "Hourly levels")
    hours = set(levels["Hour of day"].astype(str))
    assert "-1" not in hours, "hour -1 is explained, not shown raw"


def test_readme_sheet_describes_every_column(result_dir: Path) -> None:
    readme = _sheet(result_dir, "README")
    book = openpyxl.load_workbook(result_dir / WORKBOOK_FILE)
    for title in book.sheetnames[1:]:
        header = [c.value for c in book[title][1]]
        documented = set(readme.loc[readme["Sheet"] == title, "Column"])
        missing = [h for h in header if h not in documented]
        assert not missing, f"README sheet should describe {title}: {missing}"
        assert np.all(readme.loc[readme["Sheet"] == title, "Meaning"].str.len() > 5)
