"""Hostile scenario inputs (round 2): each class of input that once gave a wrong answer with
exit code 0, a traceback or a hang is refused where it enters, with one line naming the file,
line and field, exit code 2, fast; and whatever validates also runs."""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import load_scenario, scenario_from_dict
from sim.analysis.runsize import estimate_run
from sim.cli.main import main
from sim.engine.demand import generate_incidents
from sim.engine.driver import compile_scenario
from sim.engine.loop import simulate
from sim.engine.sanity import RecordsInconsistent, check_records
from sim.errors import ScenarioError, printable
from sim.model.compile import check_compiled, compile_distribution, compile_region
from sim.model.sampling import draw, mean_of
from sim.schema.distributions import Distribution
from sim.schema.durations import MAX_MINUTES, parse_duration
from sim.schema.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]

BASE = """\
name: two towns
communities:
  north: {population: 20000, location: {x: 0, y: 0}, zone: urban}
  south: {population: 10000, location: {x: 0, y: -12}, zone: rural}
travel:
  matrix:
    north: {north: 5, south: 14}
    south: {south: 7}
services:
  ambulance:
    cost_per_unit_hour: 120
    units:
      - {station: north, count: 2}
      - {station: south}
incident_types:
  medical:
    service: ambulance
    rate_per_1000: 90
    on_scene: {dist: lognormal, median: 14, log_sd: 0.51}
    target: {minutes: "8:59", share: 0.9}
run: {horizon: 10 d, replications: 2}
options:
  separate: {}
  pooled: {dispatch: {all: {policy: pooled}}}
"""


def _write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _variant(tmp_path: Path, old: str, new: str, name: str = "s.yaml") -> Path:
    assert old in BASE, old
    return _write(tmp_path, BASE.replace(old, new, 1), name)


def _refused(
    capsys: pytest.CaptureFixture[str], path: Path, *words: str, command: str = "validate"
) -> str:
    """Run ``command`` on ``path``: exit code 2, one line per problem naming the file, no
    traceback, nothing on stdout; return stderr."""
    args = [command, str(path)] if command == "validate" else [command, str(path), *words]
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 2, f"{args} should be refused with exit code 2, got {code}: {err}"
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines, "a refusal names its problem"
    assert all(str(path) in line for line in lines), f"every line names the file: {err}"
    assert "ok" not in out
    return err


# --- wrong answers with exit code 0 -------------------------------------------------------


FAR = """\
name: far
communities:
  north: {population: 20000, location: {x: 100000, y: -100000}}
  south: {population: 10000, location: {x: 0, y: -12}}
travel: {speed_kmh: 0.1, inside: {north: 5, south: 5}}
services:
  ambulance:
    units: [{station: north, count: 2}, {station: south}]
incident_types:
  medical: {service: ambulance, rate_per_1000: 90, on_scene: 20}
run: {horizon: 30 d, replications: 1}
options:
  pooled: {dispatch: {all: {policy: pooled}}}
"""


def test_coordinates_beyond_the_earth_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, FAR.replace("x: 100000, y: -100000", "x: 1.0e+308, y: -1.0e+308"))
    err = _refused(capsys, path)
    assert "communities.north.location.x" in err
    assert "less than or equal to 100000" in err


def test_derived_trips_beyond_bounds_are_refused_at_validate_and_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each field is within its bounds, but the trip derived from them is 280 years: refused
    with the field it comes from, by validate and by run (nothing simulated, nothing written)."""
    path = _write(tmp_path, FAR)
    for command in ("validate", "run"):
        err = _refused(capsys, path, "--out", str(tmp_path / "o"), command=command)
        assert "travel.speed_kmh" in err, err
        assert "travel from 'north' to 'south'" in err, err
        assert "beyond 50 years" in err, err
        assert f"{path}:5:" in err, "the line of travel.speed_kmh"
    assert not (tmp_path / "o").exists()


def test_a_profile_that_could_not_be_scaled_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tiny, tiny7 = ", ".join(["1.0e-300"] * 24), ", ".join(["1.0e-300"] * 7)
    path = _variant(
        tmp_path,
        '    target: {minutes: "8:59", share: 0.9}\n',
        f'    target: {{minutes: "8:59", share: 0.9}}\n    profile: p\n'
        f"profiles:\n  p: {{hour_of_day: [{tiny}], day_of_week: [{tiny7}]}}\n",
    )
    err = _refused(capsys, path)
    assert "profiles.p" in err, err
    assert "between 1e-6 and 1e6" in err, err
    huge = ", ".join(["1.0e+308"] * 24)
    path = _variant(
        tmp_path,
        '    target: {minutes: "8:59", share: 0.9}\n',
        f'    target: {{minutes: "8:59", share: 0.9}}\n    profile: p\n'
        f"profiles:\n  p: {{hour_of_day: [{huge}]}}\n",
    )
    assert "profiles.p.hour_of_day.0" in _refused(capsys, path)


def test_engine_records_out_of_order_stop_the_run(tmp_path: Path) -> None:
    """The engine's records are checked per replication: a dispatch before its call (as the
    NaN trips once produced) raises instead of writing a negative response time."""
    scenario = load_scenario(_write(tmp_path, BASE))
    compiled = compile_scenario(scenario)
    inc = generate_incidents(compiled.region, 1, 0)
    fleet = compiled.fleets["pooled"]
    rec = simulate(compiled.region, fleet, inc)
    check_records(inc, rec, "pooled")  # a sound run passes
    sent = np.flatnonzero(~np.isnan(rec.t_dispatch))
    for field, shift in (("t_dispatch", -904.0), ("travel", math.nan)):
        values = getattr(rec, field).copy()
        getattr(rec, field)[sent[3]] = values[sent[3]] + shift
        with pytest.raises(RecordsInconsistent, match=f"incident {sent[3]}"):
            check_records(inc, rec, "pooled")
        getattr(rec, field)[:] = values


def test_a_run_on_valid_random_fleets_passes_the_record_check(tmp_path: Path) -> None:
    """Every replication of a real run passes through the check (it is wired into the
    tables), so a valid scenario never trips it."""
    assert main(["run", str(_write(tmp_path, BASE)), "--out", str(tmp_path / "o")]) == 0


# --- validation consistent across policies ------------------------------------------------

ONLY_NORTH = "      - {station: north, count: 2}\n      - {station: south}\n"


@pytest.mark.parametrize(
    ("option", "why"),
    [
        ("{dispatch: {all: {policy: mutual_aid, reserve: 2}}}", "beyond their reserve of 2"),
        ("{dispatch: {all: {policy: mutual_aid, partners: {south: []}}}}", "partners (none)"),
        ("{dispatch: {all: {policy: mutual_aid, max_travel: 3}}}", "within max_travel"),
        ("{dispatch: {all: {policy: separate}}}", "owns 0"),
    ],
)
def test_an_option_where_calls_can_never_be_served_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, why: str
) -> None:
    """'separate' refused a community without units; mutual aid whose partners may lend
    nothing (reserve, no partners, beyond max_travel) is refused the same way."""
    text = BASE.replace(ONLY_NORTH, "      - {station: north, count: 2}\n")
    text = text.replace("  pooled: {dispatch: {all: {policy: pooled}}}", f"  aid: {option}")
    text = text.replace("  separate: {}\n", "")
    path = _write(tmp_path, text)
    err = _refused(capsys, path)
    assert "community 'south'" in err, err
    assert "could never be served" in err, err
    assert why in err, err
    ok = text.replace("reserve: 2", "reserve: 1").replace("max_travel: 3", "max_travel: 20")
    if ok != text:  # one unit lendable: validates and runs
        path = _write(tmp_path, ok, "ok.yaml")
        assert main(["validate", str(path)]) == 0
        check_compiled(load_scenario(path))


# --- tracebacks and hangs: durations and numbers ------------------------------------------


def test_long_durations_are_refused_in_linear_time() -> None:
    for n in (800, 1_500, 2_500, 200_000):
        started = time.perf_counter()
        with pytest.raises(ValueError, match="at most 64"):
            parse_duration("1" * n + "x")
        assert time.perf_counter() - started < 0.1, f"{n} digits should be refused at once"
    worst = "1" * 30 + "." + "1" * 30 + "x"  # within the cap, the old regex's worst case
    started = time.perf_counter()
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(worst)
    assert time.perf_counter() - started < 0.01


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("12", 12.0),
        (12, 12.0),
        ("90 s", 1.5),
        ("8:59", 8 + 59 / 60),
        ("12 h", 720.0),
        ("365 d", 525_600.0),
        ("2 w", 20_160.0),
        ("14 d 6 h", 14 * 1440 + 360.0),
        (".5h", 30.0),
        ("1.5e1 min", 15.0),
        ("1e3", 1000.0),
        (" 3 days 4 hours ", 3 * 1440 + 240.0),
    ],
)
def test_the_duration_forms_keep_their_values(text: object, minutes: float) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        ("horizon: 10 d", "horizon: 1" + "0" * 400, "a number of 401 digits is too large"),
        ("{dist: lognormal, median: 14, log_sd: 0.51}", "1" + "0" * 400, "401 digits"),
        ("horizon: 10 d", 'horizon: "' + "9" * 400 + ':00"', "403 characters (at most 64)"),
        ("population: 20000", "population: 1" + "0" * 5000, "5,001 digits"),
        ("horizon: 10 d", "horizon: 1" + "0" * 25, "at most 50 years"),
        ("horizon: 10 d", 'horizon: "' + "1" * 2500 + ' d"', "(at most 64)"),
    ],
)
def test_numbers_of_many_digits_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, expect: str
) -> None:
    path = _variant(tmp_path, old, new)
    for command in ("validate", "run"):
        err = _refused(capsys, path, "--out", str(tmp_path / "o"), command=command)
        assert expect in err, err
        assert len(err) < 400, "a long value is cut in the message"


# --- tracebacks and hangs: fleets ---------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "expect"),
    [("10000000", "less than or equal to 10000"), ("1.0e+30", "valid integer")],
)
def test_add_units_count_is_bounded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], count: str, expect: str
) -> None:
    path = _variant(
        tmp_path,
        "  separate: {}\n",
        f"  separate: {{add_units: [{{service: ambulance, station: north, count: {count}}}]}}\n",
    )
    started = time.perf_counter()
    assert expect in _refused(capsys, path)
    assert time.perf_counter() - started < 5


def test_the_total_fleet_is_bounded_not_each_group(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """300 aliases of a group of 10,000 units (each group within its bound) are refused at
    once with the count, before any unit is listed; so are 3 groups of 4,000 added by an
    option."""
    groups = "      - &g {station: north, count: 10000}\n" + "      - *g\n" * 299
    path = _variant(tmp_path, ONLY_NORTH, groups)
    started = time.perf_counter()
    err = _refused(capsys, path)
    assert time.perf_counter() - started < 5, "refused before listing 3,000,000 units"
    assert "3,000,000 units in all: at most 10,000" in err
    assert len(err.strip().splitlines()) == 1, "said once, not once per option"
    add = "[" + ", ".join(["{service: ambulance, station: south, count: 4000}"] * 3) + "]"
    path = _variant(tmp_path, "  separate: {}\n", f"  separate: {{add_units: {add}}}\n")
    assert "options.separate.add_units" in _refused(capsys, path)


def test_the_guard_counts_the_fleet() -> None:
    scenario = scenario_from_dict(yaml.safe_load(BASE))
    region = compile_region(scenario)
    small, large = (estimate_run(region, 2, 10, units=n) for n in (3, 10_000))
    assert large.seconds > 5 * small.seconds, "a dispatch looks at every unit it may use"
    assert large.peak_bytes - small.peak_bytes >= 9_997 * 2 * 10 * 100, "unit rows kept"


def test_the_unit_figure_stays_bounded_for_a_large_fleet(tmp_path: Path) -> None:
    """A fleet at the documented maximum made drawing the figures take minutes and gigabytes
    (a row per unit); the per-unit figure now draws the 40 busiest per service and says so."""
    from sim.plots.units import MAX_SHOWN, busy_figure, figures
    from sim.results.read import load_result

    text = BASE.replace(
        ONLY_NORTH, "      - {station: north, count: 300}\n      - {station: south, count: 300}\n"
    )
    text = text.replace("horizon: 10 d", "horizon: 2 d").replace(
        "rate_per_1000: 90", "rate_per_1000: 9"
    )
    path = _write(tmp_path, text)
    out = tmp_path / "o"
    started = time.perf_counter()
    assert main(["compare", str(path), "--out", str(out), "--replications", "1"]) == 0
    assert time.perf_counter() - started < 60
    data = load_result(out)
    fig = busy_figure(data)
    assert fig is not None
    ticks = [len(ax.get_yticks()) for ax in fig.axes if ax.get_visible() and ax.get_yticks().size]
    assert ticks == [MAX_SHOWN], f"the 40 busiest units, not 600: {ticks}"
    caption = next(figures(data)).caption
    assert "Only the 40 busiest of the 600 ambulance units are drawn" in caption
    assert (out / "figures" / "units_busy.png").stat().st_size < 2_000_000


# --- tracebacks and hangs: travel pairs ---------------------------------------------------


def test_missing_travel_pairs_of_many_places_are_counted_without_listing_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    coms = "\n".join(f"  c{i}: {{population: 10}}" for i in range(12_000))
    path = _write(
        tmp_path,
        f"name: big\ncommunities:\n{coms}\ntravel: {{matrix: {{c0: {{c0: 5}}}}}}\n"
        "services: {s: {units: [{station: c0}]}}\n"
        "incident_types: {k: {service: s, rate_per_year: 1, on_scene: 5}}\n"
        "run: {horizon: 100}\n",
    )
    started = time.perf_counter()
    err = _refused(capsys, path)
    assert time.perf_counter() - started < 20
    assert "no travel time for 72,005,999 pair(s)" in err
    assert "c0->c1, c0->c2" in err


def test_the_count_of_missing_pairs_equals_listing_every_pair() -> None:
    rng = random.Random(19)
    for _ in range(300):
        n = rng.randint(1, 7)
        coms: dict[str, Any] = {}
        for i in range(n):
            com: dict[str, Any] = {"population": 10}
            if rng.random() < 0.5:
                com["location"] = {"x": rng.random(), "y": 0.0}
            if rng.random() < 0.3:
                com["area_km2"] = 3.0
            coms[f"c{i}"] = com
        ids = list(coms)
        matrix: dict[str, dict[str, float]] = {}
        for i, a in enumerate(ids):
            for b in ids[i:]:
                if rng.random() < 0.4:
                    matrix.setdefault(a, {})[b] = 5.0
        travel: dict[str, Any] = {"matrix": matrix}
        if rng.random() < 0.5:
            travel["speed_kmh"] = 50.0
        data = {
            "name": "x",
            "communities": coms,
            "travel": travel,
            "services": {"s": {"units": []}},
            "incident_types": {"k": {"service": "s", "rate_per_year": 0.0, "on_scene": 5.0}},
            "run": {"horizon": 100.0},
        }
        s = Scenario.model_validate(data)
        every = [(a, b) for i, a in enumerate(ids) for b in ids[i:] if not _has_time(s, a, b)]
        try:
            scenario_from_dict(data)
            message = ""
        except ScenarioError as exc:
            message = "\n".join(p.message for p in exc.problems)
        if not every:
            assert "no travel time" not in message, data
            continue
        shown = ", ".join(f"{a}->{b}" for a, b in every[:6])
        assert f"no travel time for {len(every):,} pair(s): {shown}" in message, (data, message)


def _has_time(s: Scenario, a: str, b: str) -> bool:
    """Whether the pair a, b has a travel time: every pair checked one by one (the reference
    the validator's linear-time count must agree with)."""
    m = s.travel.matrix
    if b in m.get(a, {}) or a in m.get(b, {}):
        return True
    com_a, com_b = s.communities[a], s.communities[b]
    if a == b:
        if a in s.travel.inside:
            return True
        return com_a.area_km2 is not None and s.travel.speed_kmh is not None
    located = com_a.location is not None and com_b.location is not None
    return s.travel.speed_kmh is not None and located


# --- whatever validates also runs: distributions ------------------------------------------


@pytest.mark.parametrize(
    ("dist", "expect"),
    [
        ("{dist: lognormal, mean: 1, sd: 1.0e+200}", "less than or equal to 26280000"),
        ("{dist: lognormal, mean: 1, sd: 5000}", "at most 1000 times the mean"),
        ("{dist: lognormal, median: 1.0e+300, log_sd: 100}", "median"),
        ("{dist: lognormal, median: 20000000, log_sd: 4}", "beyond 50 years"),
        ("{dist: gamma, mean: 1.0e-300, sd: 1.0e+300}", "sd"),
        ("{dist: gamma, mean: 1, sd: 1.0e-300}", "use fixed for a constant"),
    ],
)
def test_distributions_that_could_not_be_drawn_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dist: str, expect: str
) -> None:
    path = _variant(tmp_path, "{dist: lognormal, median: 14, log_sd: 0.51}", dist)
    err = _refused(capsys, path, "--out", str(tmp_path / "o"), command="run")
    assert "incident_types.medical.on_scene" in err, err
    assert expect in err, err


def test_travel_hour_factors_are_bounded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    factors = ", ".join(["1.0e+308"] * 24)
    path = _variant(
        tmp_path,
        "    south: {south: 7}\n",
        f"    south: {{south: 7}}\n  hour_factors: [{factors}]\n",
    )
    assert "travel.hour_factors.0" in _refused(capsys, path)


_BOUND = st.floats(1e-300, MAX_MINUTES, allow_nan=False)


@st.composite
def _distributions(draw_: st.DrawFn) -> dict[str, Any]:
    kind = draw_(st.sampled_from(["exponential", "lognormal", "lognormal_ms", "gamma", "normal"]))
    mean = draw_(_BOUND)
    if kind == "exponential":
        return {"dist": kind, "mean": mean}
    if kind == "lognormal":
        return {"dist": kind, "median": mean, "log_sd": draw_(st.floats(0, 4))}
    sd = draw_(st.floats(0 if kind != "gamma" else 1e-300, MAX_MINUTES))
    return {"dist": "lognormal" if kind == "lognormal_ms" else kind, "mean": mean, "sd": sd}


@settings(max_examples=300, deadline=None)
@given(_distributions())
def test_every_distribution_that_validates_draws_finite_times(spec: dict[str, Any]) -> None:
    """Parameters anywhere inside the bounds, extremes included: either refused with a
    message, or drawn as finite non-negative times with a finite mean."""
    from pydantic import TypeAdapter, ValidationError

    try:
        dist = TypeAdapter(Distribution).validate_python(spec)
    except ValidationError:
        return
    with np.errstate(over="raise", invalid="raise"):
        values = draw(compile_distribution(dist), np.random.default_rng(1), 200).astype(
            np.float32
        )  # as stored
    assert np.isfinite(values).all(), spec
    assert (values >= 0).all(), spec
    assert math.isfinite(mean_of(compile_distribution(dist))), spec


# --- files of the wrong kind --------------------------------------------------------------


def test_a_fifo_as_scenario_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    for command in (["validate", str(fifo)], ["run", str(fifo), "--out", str(tmp_path / "o")]):
        proc = subprocess.run(
            [sys.executable, "-m", "sim", *command],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,  # blocked forever in open() before
        )
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip().endswith(f"{fifo}: is a FIFO (named pipe), not a scenario file")
        assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("make", "expect"),
    [
        (lambda d: Path("/dev/zero"), "is a character device, not a scenario file"),
        (lambda d: d / ("x" * 300) / "s.yaml", "cannot read: File name too long"),
        (lambda d: str(d / "s.yaml") + "/", "a part of the path is not a directory"),
        (lambda d: d, "is a directory, not a scenario file"),
    ],
)
def test_paths_of_the_wrong_kind_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, expect: str
) -> None:
    _write(tmp_path, BASE)
    path = make(tmp_path)
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert expect in err, err
    assert "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1


def test_an_unreadable_directory_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file inside a directory this user may not search (root may search any, so the
    refusal of the kernel is simulated): every OSError of opening is one line."""
    path = _write(tmp_path, BASE)
    real = os.open

    def refuse(name: Any, *args: Any, **kwargs: Any) -> int:
        if str(name) == str(path):
            raise PermissionError(13, "Permission denied", str(name))
        return real(name, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err == f"{path}: cannot read: Permission denied\n"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_utf16_and_utf32_with_a_bom_are_read(tmp_path: Path, codec: str) -> None:
    path = tmp_path / "s.yaml"
    bom = {"utf-16-be": "\ufeff", "utf-32-be": "\ufeff"}.get(codec, "")
    path.write_bytes((bom + BASE).encode(codec))
    assert load_scenario(path) == scenario_from_dict(yaml.safe_load(BASE))


def test_utf16_without_a_bom_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(BASE.encode("utf-16-le"))
    assert "binary file" in _refused(capsys, path)


# --- terminal and trust: control characters -----------------------------------------------


def test_control_characters_in_keys_and_values_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(
        tmp_path,
        BASE.replace("name: two towns", 'name: "two\\e]0;owned\\a towns"').replace(
            "  south: {population", '  "so\\nuth\\0": {population'
        ),
    )
    err = _refused(capsys, path)
    assert "\x1b" not in err
    assert "\x00" not in err
    assert "\x07" not in err
    assert f"{path}:1:7: a value holds the control character U+001B" in err
    assert f"{path}:4:3: a key holds the control character U+000A" in err
    assert len(err.strip().splitlines()) == 2, "no message is split over lines"


def test_messages_escape_control_characters_of_file_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = tmp_path / "a\x1b]0;owned\x07\nb.yaml"
    assert main(["validate", str(name)]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert "\x07" not in err
    assert err.count("\n") == 1
    assert "\\x1b]0;owned\\x07\\nb.yaml: no such file" in err
    assert printable("a\u202eb\tc") == "a\\u202eb\\tc"


# --- sweeps: design sizes and values ------------------------------------------------------


@pytest.mark.parametrize(
    ("param", "expect"),
    [
        ("demand_scale=0.5:2:100000000", "100,000,000 steps (at most 100,000)"),
        ("demand_scale=0.5:2:" + "1" + "0" * 21, "steps (at most 100,000)"),
        ("run.horizon=1" + "0" * 2000, "a number of 2,001 characters is too large"),
        ("demand_scale=1" + "0" * 5000, "a number of 5,001 characters is too large"),
        ("incident_types.medical.rate_per_1000=90,1.0e+30", "less than or equal to 1000000"),
    ],
)
def test_sweep_sizes_and_values_are_bounded_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], param: str, expect: str
) -> None:
    path = _write(tmp_path, BASE)
    started = time.perf_counter()
    code = main(["sweep", str(path), "--param", param, "--out", str(tmp_path / "sw")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert expect in err, err
    assert "Traceback" not in err
    assert time.perf_counter() - started < 10
    assert not (tmp_path / "sw").exists()


def test_a_grid_beyond_the_bound_is_refused_with_its_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, BASE)
    args = ["--param", "demand_scale=1:2:1000", "--param", "run.warmup=0:100:1000"]
    assert main(["sweep", str(path), *args, "--out", str(tmp_path / "sw")]) == 2
    assert "the grid has 1,000,000 points (more than 100,000)" in capsys.readouterr().err
