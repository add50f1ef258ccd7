"""Messy logs: every kind of bad row is counted by reason and reported, never a crash; column
names, value names, coordinates and time formats are mapped; bad input gives exit 2 and a line."""

from __future__ import annotations

from html import escape as html_escape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli.main import main
from sim.data.calibrate import calibrate, write_calibration
from sim.data.columns import Mapping
from sim.data.communities import read_communities
from sim.data.export import export_log, write_log
from sim.data.log import DUPLICATE, OUT_OF_ORDER, REPEATED, TOO_LATE, read_log
from sim.schema import load_scenario, scenario_from_dict
from tests.builders import shipped

TZ = "Europe/Oslo"
COMMUNITIES = {
    "northtown": {"name": "Northtown", "population": 20000, "location": {"x": 0, "y": 0}},
    "southvale": {"name": "Southvale", "population": 8000, "location": {"x": 3, "y": -9}},
}
TIMES = [
    "call_time",
    "call_processed",
    "dispatched",
    "en_route",
    "on_scene",
    "left_scene",
    "at_hospital",
    "clear",
]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    data = shipped(horizon="60 d")
    frame, _ = export_log(scenario_from_dict(data), tz=TZ)
    tmp = tmp_path_factory.mktemp("messy")
    (tmp / "communities.yaml").write_text(yaml.safe_dump(COMMUNITIES), encoding="utf-8")
    return frame, tmp


def shifted(text: str, minutes: float) -> str:
    t = pd.Timestamp(text) + pd.Timedelta(minutes=minutes)
    return t.isoformat(timespec="milliseconds")


def messy_log(frame: pd.DataFrame, path: Path) -> dict[str, int]:
    """Write a log with known faults into ``path``; return the expected count per reason."""
    f = frame.copy()
    f.loc[0:4, "call_time"] = ""
    f.loc[5:7, "call_time"] = ["not a date", "31/02/2025 25:61", "yesterday"]
    for i in range(8, 12):  # arrived before leaving
        f.loc[i, ["en_route", "on_scene"]] = [f.loc[i, "on_scene"], f.loc[i, "en_route"]]
    f.loc[12:14, "community"] = "Atlantis"
    for i in range(30, 40):  # another time zone: the same instants, written in UTC
        for c in TIMES:
            if f.loc[i, c]:
                f.loc[i, c] = (
                    pd.Timestamp(f.loc[i, c])
                    .tz_convert("UTC")
                    .strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
                    + "Z"
                )
    for i in range(40, 45):  # another date format: local wall clock, day first, no offset
        f.loc[i, "call_time"] = pd.Timestamp(f.loc[i, "call_time"]).strftime("%d.%m.%Y %H:%M:%S")
    f.loc[45:46, "on_scene"] = "??"
    f.loc[70, "clear"] = shifted(f.loc[70, "clear"], 40 * 1440)
    second = f.loc[50:54].copy()  # a second unit on five incidents, arriving later
    second["unit_id"] = "ambulance-southvale-1"
    second["unit_home"] = "southvale"
    second["on_scene"] = [shifted(t, 3) for t in second["on_scene"]]
    again = f.loc[[60]].copy()  # the same incident and unit once more, with another clear time
    again["clear"] = shifted(again["clear"].iloc[0], 1)
    f = pd.concat([f, f.loc[20:25], second, again], ignore_index=True)
    text = f.to_csv(index=False, lineterminator="\n")
    text += "INC9999999,too,many,fields," + "x," * 20 + "\n" + "," * (len(f.columns) - 1) + "\n"
    path.write_text(text, encoding="utf-8")
    return {
        "no call time": 5,
        "unparseable call time": 3,
        "unknown community ('Atlantis')": 3,
        DUPLICATE: 6,
        REPEATED: 1,
        "malformed line (wrong number of fields)": 1,
        "empty row": 1,
    }


def test_every_bad_row_is_counted_by_reason(clean) -> None:
    frame, tmp = clean
    expected = messy_log(frame, tmp / "messy.csv")
    known = read_communities(tmp / "communities.yaml")
    log = read_log(tmp / "messy.csv", communities=known, tz=TZ, mapping=Mapping())
    assert dict(log.dropped) == expected
    assert log.partial[OUT_OF_ORDER] == 4
    assert log.partial["unparseable on_scene time (that time not used)"] == 2
    assert log.partial[TOO_LATE] == 1
    assert log.merged == 5, "five second-unit rows merged into their incidents"
    assert log.rows == len(frame) + 6 + 5 + 1 + 2, "every line of the file is a row"
    assert log.rows == len(log.incidents) + log.merged + sum(log.dropped.values())
    assert len(log.incidents) == len(frame) - 11
    merged = log.incidents.set_index("incident_id").loc[frame.loc[50:54, "incident_id"]]
    assert (merged["units"] == 2).all()
    assert (merged["unit_id"] != "ambulance-southvale-1").all(), "the first unit on scene leads"
    assert any("another format" in n for n in log.notes), log.notes


def test_another_time_zone_gives_the_same_instants_and_local_hours(clean) -> None:
    frame, tmp = clean
    messy_log(frame, tmp / "messy.csv")
    write_log(frame, tmp / "clean.csv")
    a = read_log(tmp / "clean.csv", tz=TZ).incidents.set_index("incident_id")
    b = read_log(tmp / "messy.csv", tz=TZ).incidents.set_index("incident_id")
    ids = frame.loc[30:44, "incident_id"]  # 40-44 written to the second only
    second = pd.Timedelta(seconds=1)
    assert ((a.loc[ids, "call_time"] - b.loc[ids, "call_time"]).abs() < second).all()
    assert ((a.loc[ids, "call_local"] - b.loc[ids, "call_local"]).abs() < second).all()
    assert (
        a.loc[frame.loc[30:39, "incident_id"], "clear"]
        == b.loc[frame.loc[30:39, "incident_id"], "clear"]
    ).all()


@pytest.mark.slow
def test_messy_log_calibrates_to_a_valid_scenario_and_reports_reasons(clean) -> None:
    frame, tmp = clean
    expected = messy_log(frame, tmp / "messy.csv")
    out = tmp / "messy.yaml"
    code = main(
        [
            "calibrate",
            str(tmp / "messy.csv"),
            "--communities",
            str(tmp / "communities.yaml"),
            "--tz",
            TZ,
            "--out",
            str(out),
            "--overwrite",
        ]
    )
    assert code == 0
    load_scenario(out)
    text = out.read_text(encoding="utf-8")
    html = out.with_suffix(".report.html").read_text(encoding="utf-8")
    for reason, n in expected.items():
        assert f"dropped {n}: {reason}" in text, reason
        assert html_escape(reason, quote=False) in html, reason
    assert OUT_OF_ORDER in text
    assert OUT_OF_ORDER in html


def test_column_names_values_and_formats_are_mapped(clean) -> None:
    frame, tmp = clean
    f = frame.rename(
        columns={
            "call_time": "Received",
            "community": "Kommune",
            "incident_type": "Nature",
            "on_scene": "Arrived",
            "left_scene": "Depart Scene",
            "unit_id": "Vehicle",
            "unit_home": "Home Station",
            "clear": "Cleared",
            "dispatched": "Dispatch Time",
            "call_processed": "Queued",
            "en_route": "Enroute",
            "at_hospital": "Hospital Arrival",
            "priority": "Prio Code",
            "service": "Etat",
            "incident_id": "Event ID",
        }
    )
    f["Kommune"] = f["Kommune"].map({"northtown": "NORTH", "southvale": "SOUTH"})
    f["Home Station"] = f["Home Station"].map({"northtown": "NORTH", "southvale": "SOUTH"})
    f["Received"] = [pd.Timestamp(t).strftime("%d.%m.%Y %H:%M:%S") for t in f["Received"]]
    f.to_csv(tmp / "renamed.csv", index=False, sep=";")
    (tmp / "mapping.yaml").write_text(
        yaml.safe_dump(
            {
                "columns": {"Etat": "service"},
                "communities": {"NORTH": "northtown", "SOUTH": "southvale"},
            }
        ),
        encoding="utf-8",
    )
    out = tmp / "renamed.yaml"
    assert (
        main(
            [
                "calibrate",
                str(tmp / "renamed.csv"),
                "--communities",
                str(tmp / "communities.yaml"),
                "--map",
                "Prio Code=priority",
                "--mapping",
                str(tmp / "mapping.yaml"),
                "--tz",
                TZ,
                "--out",
                str(out),
                "--no-report",
                "--overwrite",
            ]
        )
        == 0
    )
    write_log(frame, tmp / "clean.csv")
    plain = calibrate(tmp / "clean.csv", communities=tmp / "communities.yaml", tz=TZ)
    mapped = load_scenario(out)
    for tid, t in plain.types.items():
        rates = mapped.incident_types[tid].rate_per_1000
        for cid, n in t.counts.items():
            assert rates[cid] == pytest.approx(
                n / COMMUNITIES[cid]["population"] * 1000 * 365 / plain.window.days, rel=1e-3
            )
    assert mapped.incident_types["emergency"].priority == 1
    units = {g.station: g.count for g in mapped.services["ambulance"].units}
    assert units == {"northtown": 2, "southvale": 1}


def test_coordinates_are_placed_in_the_nearest_community(clean) -> None:
    frame, tmp = clean
    rng = np.random.default_rng(1)
    loc = {c: COMMUNITIES[c]["location"] for c in COMMUNITIES}
    f = frame.drop(columns=["community"])
    f["x"] = [loc[c]["x"] + rng.uniform(-2, 2) for c in frame["community"]]
    f["y"] = [loc[c]["y"] + rng.uniform(-2, 2) for c in frame["community"]]
    f.to_csv(tmp / "xy.csv", index=False)
    pd.DataFrame(
        [{"id": c, "population": v["population"], **v["location"]} for c, v in COMMUNITIES.items()]
    ).to_csv(tmp / "communities.csv", index=False)
    cal = calibrate(tmp / "xy.csv", communities=tmp / "communities.csv", tz=TZ)
    log = cal.log
    assert len(log.incidents) == len(frame)
    by_id = log.incidents.set_index("incident_id")["community"]
    assert (by_id[frame["incident_id"]].to_numpy() == frame["community"].to_numpy()).all()
    assert any("nearest community by x/y" in n for n in cal.notes)


@pytest.mark.slow
def test_few_rows_and_missing_columns_still_give_a_valid_scenario(clean) -> None:
    frame, tmp = clean
    frame.iloc[:12].to_csv(tmp / "few.csv", index=False)
    cal = calibrate(tmp / "few.csv", communities=tmp / "communities.yaml", tz=TZ)
    write_calibration(cal, tmp / "few.yaml", report=True)
    scenario = load_scenario(tmp / "few.yaml")
    assert not scenario.profiles, "too few calls for a profile: demand is flat"
    assert any("too few" in p for p in cal.problems)
    assert any("calls are too few for a daily and weekly profile" in p for p in cal.problems)
    bare = frame[["call_time", "community"]].rename(columns={"community": "Town"})
    bare.to_csv(tmp / "bare.csv", index=False)
    cal = calibrate(tmp / "bare.csv")  # no communities file: populations unknown
    write_calibration(cal, tmp / "bare.yaml", report=False)
    scenario = load_scenario(tmp / "bare.yaml")
    text = (tmp / "bare.yaml").read_text(encoding="utf-8")
    assert scenario.incident_types["incident"].rate_per_year is not None
    assert "FILL IN" in text
    assert "[assumption]" in text
    assert any("no unit ids" in s.units_note for s in cal.services.values())


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("a,b\n1,2\n", [], "no call time column"),
        ("call_time,b\n2025-01-06T00:00,2\n", [], "no community column"),
        (b"\x00\x01\x02binary", [], "binary file"),
        ("", [], "empty file"),
        ("call_time,community\n2025-01-06T00:00,a\n", ["--map", "nonsense"], "COLUMN=FIELD"),
        ("call_time,community\n2025-01-06T00:00,a\n", ["--map", "zz=call_time"], "no column 'zz'"),
        ("call_time,community\n2025-01-06T00:00,a\n", ["--tz", "Mars/Olympus"], "time zone"),
        (
            "call_time,community\n2025-01-06T00:00,a\n",
            ["--communities", "/nonexistent.yaml"],
            "no such file",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, capsys, content, args, message) -> None:
    log = tmp_path / "log.csv"
    if isinstance(content, bytes):
        log.write_bytes(content)
    else:
        log.write_text(content, encoding="utf-8")
    code = main(["calibrate", str(log), "--out", str(tmp_path / "s.yaml"), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1, err
    assert message in err[0], err


def test_missing_and_unreadable_files_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["calibrate", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "s.yaml")]) == 2
    assert main(["calibrate", str(tmp_path), "--out", str(tmp_path / "s.yaml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2, err
    assert "no such file" in err[0]
    assert "directory" in err[1]


def _garbage_log(rng: np.random.Generator) -> str:
    """A small log of random columns and values: times in several formats, blanks, junk."""
    fields = [
        "incident_id",
        "community",
        "incident_type",
        "priority",
        "service",
        "dispatched",
        "en_route",
        "on_scene",
        "left_scene",
        "at_hospital",
        "clear",
        "unit_id",
        "unit_home",
        "x",
        "y",
    ]
    chosen = ["call_time", *rng.choice(fields, size=rng.integers(0, len(fields)), replace=False)]
    junk = ["", "NaN", "-", "??", "0", "2025-13-45T99:99", "31.02.2025 10:00", "1e9", "P2", "x"]
    formats = [
        "2025-01-{:02d}T{:02d}:{:02d}:00+01:00",
        "{:02d}.01.2025 {:02d}:{:02d}",
        "2025-01-{:02d} {:02d}:{:02d}",
        "2025-01-{:02d}T{:02d}:{:02d}Z",
    ]

    def value(c: str) -> str:
        if rng.random() < 0.2:
            return str(rng.choice(junk))
        if c in TIMES:
            day, hour, minute = rng.integers(1, 28), rng.integers(0, 24), rng.integers(0, 60)
            return str(rng.choice(formats)).format(day, hour, minute)
        if c in ("x", "y"):
            return f"{rng.uniform(-10, 10):.3f}"
        return str(rng.choice(["northtown", "Southvale", "NORTH TOWN", "urgent", "1", "a;b"]))

    rows = [",".join(chosen)]
    for _ in range(rng.integers(0, 40)):
        rows.append(",".join(f'"{value(c)}"' for c in chosen))
    return "\n".join(rows) + "\n"


@pytest.mark.slow
def test_random_garbage_never_crashes(tmp_path: Path, clean) -> None:
    _, data = clean
    rng = np.random.default_rng(2024)
    for trial in range(12):
        log = tmp_path / f"garbage{trial}.csv"
        log.write_text(_garbage_log(rng), encoding="utf-8")
        extra = ["--communities", str(data / "communities.yaml")] if trial % 2 else []
        code = main(
            [
                "calibrate",
                str(log),
                "--out",
                str(tmp_path / "g.yaml"),
                "--no-report",
                "--overwrite",
                *extra,
            ]
        )
        assert code in (0, 2), f"trial {trial}"
        if code == 0:
            load_scenario(tmp_path / "g.yaml")
