"""``intersim run`` lists the options in the order the scenario writes them, not alphabetically.

The console table follows the scenario; ``summary.csv`` keeps its sorted row order (a tidy table
for code, byte for byte as before).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.cli.main import main
from sim.runs.output import format_headline

ROOT = Path(__file__).resolve().parents[2]
TWO_TOWNS = ROOT / "scenarios" / "two_towns.yaml"


def _summary(options: list[str], services: list[str]) -> pd.DataFrame:
    """A run summary in the reader's sorted order: options and services alphabetical."""
    rows = [
        {"option": o, "service": s, "priority": "all", "community": "all", "metric": m,
         "mean": v, "n": 2, "ci_low": v, "ci_high": v}
        for o in sorted(options)
        for s in sorted(services)
        for m, v in (("incidents", 100.0), ("mean_response", 5.0 + len(o)))
    ]  # fmt: skip
    return pd.DataFrame(rows)


def _rows(table: str) -> list[tuple[str, str]]:
    """(service, option) of each body row of a console table; a blank service repeats."""
    out: list[tuple[str, str]] = []
    for line in table.splitlines()[2:]:
        words = line.split()
        if line.startswith(" "):
            out.append((out[-1][0], words[0]))
        else:
            out.append((words[0], words[1]))
    return out


def test_headline_follows_the_given_option_order() -> None:
    options = ["zeta", "alpha", "mid"]
    table = format_headline(_summary(options, ["fire", "ambulance"]), options)
    expected = [(s, o) for s in ("ambulance", "fire") for o in ("zeta", "alpha", "mid")]
    assert _rows(table) == expected, (
        f"options should come as written (zeta, alpha, mid) within each service:\n{table}"
    )


def test_headline_keeps_options_it_was_not_told_of_last() -> None:
    table = format_headline(_summary(["b", "a", "c"], ["fire"]), ["c"])
    assert _rows(table) == [("fire", "c"), ("fire", "a"), ("fire", "b")], table


@pytest.fixture
def short_two_towns(tmp_path: Path) -> Path:
    data = yaml.safe_load(TWO_TOWNS.read_text(encoding="utf-8"))
    data["run"]["horizon"] = "30 d"
    path = tmp_path / "two_towns_short.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_run_console_lists_options_as_written(
    short_two_towns: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = list(yaml.safe_load(short_two_towns.read_text(encoding="utf-8"))["options"])
    assert written != sorted(written), "the test needs options that are not alphabetical"
    out = tmp_path / "run"
    code = main(["run", str(short_two_towns), "--replications", "1", "--out", str(out)])
    assert code == 0
    table = capsys.readouterr().out.split("\n\n")[0]
    assert [o for _, o in _rows(table)] == written, (
        f"run should list the options in the scenario's order {written}:\n{table}"
    )
    summary = pd.read_csv(out / "summary.csv")
    assert list(dict.fromkeys(summary["option"])) == sorted(written), (
        "summary.csv keeps its sorted row order"
    )
