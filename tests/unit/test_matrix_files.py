"""Travel-time matrix files: CSV and Parquet, long and wide, asymmetric, layered under the
inline matrix and over derived times; every bad file gives one clear line and exit 2."""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli.main import main
from sim.model.compile import compile_region
from sim.model.travel import TRIP_DTYPE
from sim.schema import load_scenario

BASE: dict[str, Any] = {
    "name": "matrix",
    "communities": {
        "north": {"population": 20000, "location": {"x": 0, "y": 0}},
        "south": {"population": 10000, "location": {"x": 0, "y": -12}},
    },
    "stations": {"hub": {"community": "north", "location": {"x": 0, "y": -6}}},
    "travel": {"matrix_file": "travel.csv", "inside": {"north": 5, "south": 7}},
    "services": {"ambulance": {"units": [{"station": "hub", "count": 2}, {"station": "south"}]}},
    "incident_types": {"medical": {"service": "ambulance", "rate_per_1000": 90, "on_scene": 14}},
    "run": {"horizon": "30 d", "replications": 2},
    "dispatch": {"all": {"policy": "pooled"}},
}

LONG = "from,to,minutes\nnorth,south,14\nsouth,north,16.5\nhub,north,7\nhub,south,8\n"


def write(tmp_path: Path, data: dict[str, Any] | None = None, matrix: str | None = LONG) -> Path:
    if matrix is not None:
        (tmp_path / "travel.csv").write_text(matrix, encoding="utf-8")
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data or BASE, sort_keys=False), encoding="utf-8")
    return path


def with_travel(**travel: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["travel"].update(travel)
    return {**data, "travel": {k: v for k, v in data["travel"].items() if v is not None}}


def fails(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, f"exit {code}; out={out!r} err={err!r}"
    assert "Traceback" not in err
    assert len(lines) == 1, f"expected one problem, got:\n{err}"
    return lines[0]


def travel(path: Path) -> tuple[np.ndarray, dict[str, int]]:
    region = compile_region(load_scenario(path))
    return region.travel, region.place_of


def test_long_csv_keeps_both_directions_and_mirrors_one(tmp_path: Path) -> None:
    m, at = travel(write(tmp_path))
    n, s, h = at["north"], at["south"], at["hub"]
    assert (m[n, s], m[s, n]) == (14, 16.5)
    assert m[h, n] == m[n, h] == 7
    assert m[h, s] == m[s, h] == 8
    assert (m[n, n], m[s, s], m[h, h]) == (5, 7, 0)  # the diagonal defaults: inside, else 0


def test_inline_matrix_wins_over_the_file(tmp_path: Path) -> None:
    data = with_travel(matrix={"south": {"north": 20}, "hub": {"hub": 1}})
    m, at = travel(write(tmp_path, data))
    n, s, h = at["north"], at["south"], at["hub"]
    assert m[s, n] == m[n, s] == 20  # one inline direction covers the pair, both ways
    assert m[h, h] == 1
    assert m[h, n] == 7


def test_file_diagonal_beats_inside(tmp_path: Path) -> None:
    m, at = travel(write(tmp_path, matrix=LONG + "north,north,3\n"))
    assert m[at["north"], at["north"]] == 3


def test_wide_csv_with_numeric_codes_and_derived_gaps(tmp_path: Path) -> None:
    zones = "id,community,x,y\n1391,north,1,0\n01392,north,-1,0\n2001,south,0,-12\n"
    (tmp_path / "zones.csv").write_text(zones, encoding="utf-8")
    wide = (
        "from,north,south,hub,1391,01392,2001\n"
        "north,,14,7,2,2.5,15\n"
        "1391,2.2,,,,3,\n"
        "2001,15.5,1,8,,,\n"
    )
    data = with_travel(speed_kmh=60)
    data["zones"] = {"file": "zones.csv"}
    m, at = travel(write(tmp_path, data, matrix=wide))
    assert m[at["1391"], at["north"]] == 2.2
    assert m[at["north"], at["1391"]] == 2
    assert m[at["north"], at["01392"]] == m[at["01392"], at["north"]] == 2.5
    assert m[at["2001"], at["north"]] == 15.5
    # not in the file: derived from the locations, 1.3 x 2 km at 60 km/h
    assert m[at["1391"], at["01392"]] == 3  # the file's own (1391 -> 01392), mirrored
    assert m[at["01392"], at["2001"]] == pytest.approx(np.hypot(1, 12) * 1.3)
    assert m[at["1391"], at["1391"]] == 0


@pytest.mark.parametrize("layout", ["long", "wide"])
def test_parquet(layout: str, tmp_path: Path) -> None:
    codes = [101, 102, 201]
    data = copy.deepcopy(BASE)
    data["zones"] = {
        str(c): {"community": "north" if c < 200 else "south", "location": {"x": 0, "y": 0}}
        for c in codes
    }
    data["travel"] = {"matrix_file": "travel.parquet", "speed_kmh": 50}
    data["travel"]["inside"] = {"north": 5, "south": 7}
    if layout == "long":
        frame = pd.DataFrame(
            {"from": [101, 102, 201], "to": [102, 101, 101], "minutes": [4.0, 4.5, 9]}
        )
    else:
        frame = pd.DataFrame({"from": [101, 201], "102": [4.0, None], "101": [None, 9.0]})
    frame.to_parquet(tmp_path / "travel.parquet")
    m, at = travel(write(tmp_path, data, matrix=None))
    assert m[at["101"], at["102"]] == 4
    assert m[at["102"], at["101"]] == (4.5 if layout == "long" else 4)
    assert m[at["201"], at["101"]] == m[at["101"], at["201"]] == 9


def test_missing_pairs_name_the_file_the_first_few_and_the_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = copy.deepcopy(BASE)
    data["zones"] = {
        f"z{i}": {"community": "north", "location": {"x": i, "y": 0}} for i in range(4)
    }
    line = fails(write(tmp_path, data), capsys)
    assert line.startswith(str(tmp_path / "travel.csv") + ": no travel time for 18 pair(s): ")
    assert "north->z0, north->z1, north->z2, north->z3, south->z0, south->z1 ..." in line
    assert "give them in this file or travel.matrix, or locations and travel.speed_kmh" in line


def test_speed_derives_what_the_file_lacks(tmp_path: Path) -> None:
    data = with_travel(speed_kmh=60)
    m, at = travel(write(tmp_path, data, matrix="from,to,minutes\nnorth,south,14\n"))
    assert m[at["hub"], at["north"]] == pytest.approx(6 * 1.3)
    assert m[at["north"], at["south"]] == 14


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (LONG + "north,hub,NaN\n", ":6: minutes is NaN"),
        (LONG + "north,hub,\n", ":6: no minutes"),
        (LONG + "north,hub,-2\n", ":6: minutes is negative (-2)"),
        (LONG + "north,hub,inf\n", ":6: minutes is infinite"),
        (LONG + "north,hub,soon\n", ":6: not a number: 'soon'"),
        (LONG + "north,east,3\n", ":6: unknown place 'east' (known: hub, north, south)"),
        (
            LONG + "east,west,3\nwest,east,3\n",
            ":6: unknown place 'east' (known: hub, north, south) (and 1 more unknown id(s))",
        ),
        (LONG + "north,south,15\n", ":6: pair north->south given twice (first at line 2)"),
        (LONG + ",south,15\n", ":6: no place id (from or to)"),
        ("from,north\nsouth,-1\n", ":2: column 'north': minutes is negative (-1)"),
        ("from,north,north\nsouth,1,2\n", ":1: column 'north' appears twice in the header"),
        ("", ": empty file"),
    ],
)
def test_bad_matrix_file(
    matrix: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = fails(write(tmp_path, matrix=matrix), capsys)
    assert f"travel.csv{message}" in line, line


def test_station_without_own_location_in_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = copy.deepcopy(BASE)
    data["stations"]["depot"] = {"community": "south"}
    line = fails(write(tmp_path, data, matrix=LONG + "depot,north,3\n"), capsys)
    assert "travel.csv:6: 'depot' has no location of its own" in line


def test_missing_matrix_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = fails(write(tmp_path, with_travel(matrix_file="none.csv")), capsys)
    assert line.endswith("none.csv: no such file")


def test_a_dataframes_index_written_by_pandas_is_not_read_as_a_column(tmp_path: Path) -> None:
    """``DataFrame.to_parquet`` stores an index that is not the default one as a column of
    its own (``__index_level_0__``): that is pandas' bookkeeping, not a wide matrix."""
    import pyarrow.parquet as pq

    frame = pd.read_csv(io.StringIO(LONG))
    frame.index = [10, 11, 12, 13]  # e.g. what is left of a frame after dropping rows
    frame.to_parquet(tmp_path / "travel.parquet")
    assert "__index_level_0__" in pq.read_schema(tmp_path / "travel.parquet").names
    m, at = travel(write(tmp_path, with_travel(matrix_file="travel.parquet"), matrix=None))
    assert m[at["north"], at["south"]] == 14
    assert m[at["south"], at["north"]] == 16.5


def test_a_long_header_with_more_columns_names_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``to_csv`` with its index gives a first column without a name: it is refused with the
    columns named, not read as a wide matrix of place 'from'."""
    matrix = ",from,to,minutes,note\n0,north,south,14,a\n1,south,north,16.5,b\n"
    line = fails(write(tmp_path, matrix=matrix), capsys)
    assert "travel.csv:1: columns from, to, minutes and also '', 'note'" in line, line


@pytest.mark.parametrize("layout", ["long", "wide"])
def test_parquet_times_written_as_text_name_the_row(
    layout: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Minutes stored as text are read when they are numbers; the first that is not (a
    decimal comma) is named by its row and column, with no traceback."""
    if layout == "long":
        frame = pd.DataFrame(
            {"from": ["north", "hub", "hub"], "to": ["south", "north", "south"]}
        ).assign(minutes=["14", "7", "8,5"])
        where = "row 3: not a number: '8,5'"
    else:
        frame = pd.DataFrame({"from": ["north", "hub"], "south": ["14", "8,5"]})
        where = "row 2, column 'south': not a number: '8,5'"
    frame.to_parquet(tmp_path / "travel.parquet", index=False)
    line = fails(write(tmp_path, with_travel(matrix_file="travel.parquet"), matrix=None), capsys)
    assert f"travel.parquet: {where}" in line, line
    frame.iloc[-1, -1] = "8.5"
    frame.to_parquet(tmp_path / "travel.parquet", index=False)
    data = with_travel(matrix_file="travel.parquet", speed_kmh=60)
    m, at = travel(write(tmp_path, data, matrix=None))
    assert m[at["hub"], at["south"]] == 8.5


def test_parquet_rows_are_numbered(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pd.DataFrame(
        {"from": ["north", "hub"], "to": ["south", "north"], "minutes": [1.0, -3.0]}
    ).to_parquet(tmp_path / "travel.parquet")
    line = fails(write(tmp_path, with_travel(matrix_file="travel.parquet"), matrix=None), capsys)
    assert "travel.parquet: row 2: minutes is negative (-3)" in line


def test_a_large_matrix_equals_the_pairwise_definition(tmp_path: Path) -> None:
    """300 zones, a full asymmetric long matrix (90,000 rows): every entry lands where it
    belongs, with the pairs of communities and the hub derived from locations."""
    rng = np.random.default_rng(7)
    n = 300
    ids = [f"z{i:03d}" for i in range(n)]
    xy = rng.uniform(-10, 10, (n, 2))
    data = with_travel(speed_kmh=50)
    data["zones"] = {
        zid: {
            "community": "north" if i % 2 else "south",
            "location": {"x": float(x), "y": float(y)},
        }
        for i, (zid, (x, y)) in enumerate(zip(ids, xy, strict=True))
    }
    src, dst = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    minutes = rng.uniform(1, 30, (n, n)).round(3)
    frame = pd.DataFrame(
        {
            "from": np.array(ids)[src.ravel()],
            "to": np.array(ids)[dst.ravel()],
            "minutes": minutes.ravel(),
        }
    )
    frame.to_csv(tmp_path / "travel.csv", index=False)
    m, at = travel(write(tmp_path, data, matrix=None))
    zone_at = np.array([at[z] for z in ids])
    assert m.dtype == TRIP_DTYPE
    assert np.array_equal(m[np.ix_(zone_at, zone_at)], minutes.astype(TRIP_DTYPE))  # as kept
    places = compile_region(load_scenario(tmp_path / "scenario.yaml")).places
    located = {"north": (0, 0), "south": (0, -12), "hub": (0, -6)}
    for a in ("north", "south", "hub"):
        for j in range(0, n, 37):
            d = np.hypot(located[a][0] - xy[j, 0], located[a][1] - xy[j, 1])
            assert m[at[a], zone_at[j]] == pytest.approx(d * 1.3 / 50 * 60)
    assert places[:3] == ("north", "south", "hub")
