"""``intersim estimate`` prints one block per option: what the option changes, then the figures
with whole unit counts (the time-average on duty only for part-time units, labelled), shares as
percentages and waits in minutes; an option with the baseline's units says so instead of
repeating the same figures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from sim.cli.estimate import HEADERS
from sim.cli.main import main
from tests.builders import FIVE_VALLEYS, shipped


def _blocks(text: str) -> dict[str, list[str]]:
    blocks = {}
    for block in text.split("\n\n")[1:]:
        lines = block.splitlines()
        blocks[lines[0].split(":")[0].split(" ")[0]] = lines
    return blocks


def _table(lines: list[str]) -> list[dict[str, str]]:
    """The rows of a block's table, cut at the ends of the (right-aligned) column titles."""
    header, ends, pos = lines[1], [], 0
    for name in HEADERS.values():
        pos = header.index(name, pos) + len(name)
        ends.append(pos)
    starts = [0, *ends[:-1]]
    return [
        {n: line[a:b].strip() for n, a, b in zip(HEADERS.values(), starts, ends, strict=True)}
        for line in lines[2:]
    ]


def test_five_valleys_blocks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", str(FIVE_VALLEYS)]) == 0
    out = capsys.readouterr().out.split("\nnote:")[0]
    blocks = _blocks(out)
    assert list(blocks) == ["separate", "mutual_aid", "pooled", "regional_hub"]
    assert blocks["separate"][0] == "separate (baseline): dispatch separate for every service"
    rows = _table(blocks["separate"])
    assert len(rows) == 5 * 6, "five services: five communities and the region each"
    for row in rows:
        assert row["units"].isdigit(), f"a whole number of units: {row}"
        assert re.fullmatch(r"(< )?\d+\.\d (min|h|d)|unbounded", row["mean wait"]), row
        assert re.fullmatch(r"(< )?\d+\.\d %", row["P(wait)"]), row
    riverton = next(r for r in rows if r["service"] == "ambulance" and r["community"] == "riverton")
    assert (riverton["units"], riverton["on duty (mean)"]) == ("3", "2.50"), "a part-time car"
    eastfield = next(
        r for r in rows if r["service"] == "ambulance" and r["community"] == "eastfield"
    )
    assert eastfield["on duty (mean)"] == "", "full-time units: no second count"
    assert (
        "dispatch ambulance mutual_aid, fire mutual_aid; the same units" in blocks["mutual_aid"][0]
    )
    assert "ambulance at hub: 0 -> 2" in blocks["regional_hub"][0]
    for option in ("mutual_aid", "pooled", "regional_hub"):
        assert len(blocks[option]) == 2, f"{option}: the baseline's figures are not repeated"
        assert "the Erlang C figures of separate" in blocks[option][1]
    assert (
        "ambulance, fire (mutual_aid): waiting the own rows, load the region row"
        in (blocks["mutual_aid"][1])
    )


def test_an_option_with_other_units_gets_its_own_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = shipped("five_valleys")
    data["options"] = {
        "separate": data["options"]["separate"],
        "more": {"add_units": [{"service": "ambulance", "station": "millbrook", "count": 1}]},
    }
    path = tmp_path / "more.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert main(["estimate", str(path)]) == 0
    blocks = _blocks(capsys.readouterr().out.split("\nnote:")[0])
    assert "ambulance at millbrook: 1 -> 2" in blocks["more"][0]
    assert "ambulance owned by millbrook: 1 -> 2" in blocks["more"][0]
    rows = _table(blocks["more"])
    millbrook = next(
        r for r in rows if r["service"] == "ambulance" and r["community"] == "millbrook"
    )
    assert millbrook["units"] == "2"
