"""Figures of a comparison: drawn from the saved tables only, and drawing what the tables say.

One small comparison (three communities, two services, a surge and a burst, four options) is
simulated once per session and written with ``write_comparison``; every figure is checked
against the tables it is drawn from, read here independently of :mod:`sim.plots`.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle
from PIL import Image

from sim.analysis.responses import BIN
from sim.cli.main import main
from sim.plots import FIGURES_DIR, read_index
from sim.plots.costs import shares_figure
from sim.plots.differences import forest_figure
from sim.plots.equity import within_target_figure
from sim.plots.help import help_figure
from sim.plots.map import MAX_ARROW_WIDTH, MIN_SHARE, map_figure
from sim.plots.response import ecdf_figure
from sim.plots.timeline import bin_hours, levels_figure, surge_bins, surge_figure, surge_windows
from sim.plots.units import busy_figure
from sim.results.read import ResultData, load_result
from tests.builders import BURST_H, SURGE_HOURS, SURGE_START_H

# --- the shared comparison: result_dir (tests/conftest.py) ----------------------------------------


@pytest.fixture(scope="session")
def data(result_dir: Path) -> ResultData:
    return load_result(result_dir)


@pytest.fixture(scope="session")
def incidents(result_dir: Path) -> pd.DataFrame:
    inc = pd.read_parquet(result_dir / "incidents.parquet")
    inc = inc[~inc["warmup"]]
    return inc.assign(
        option=inc["option"].astype(str),
        service=inc["service"].astype(str),
        community=inc["community"].astype(str),
    )


def csv(result_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(
        result_dir / f"{name}.csv", dtype={"priority": str}, keep_default_na=False, na_values=[""]
    )


def by_gid(fig: Figure, prefix: str) -> dict[str, Any]:
    return {
        a.get_gid(): a for a in fig.findobj(lambda a: str(a.get_gid() or "").startswith(prefix))
    }


# --- the result directory --------------------------------------------------------------------

EXPECTED = {
    "differences_forest",
    "response_ecdf_ambulance",
    "response_ecdf_police",
    "equity_within_target",
    "units_busy",
    "help_heatmap",
    "map_help",
    "levels_by_hour",
    "surge_1",
    "costs_shares",
}


def test_comparison_writes_figures_region_and_report(result_dir: Path) -> None:
    infos = read_index(result_dir / FIGURES_DIR)
    assert infos is not None, "figures/index.json should list every figure"
    assert {i.name for i in infos} == EXPECTED
    for info in infos:
        with Image.open(info.png) as im:
            assert im.size[0] > 400, f"{info.png.name} looks empty: {im.size}"
            assert im.size[1] > 200, f"{info.png.name} looks empty: {im.size}"
        root = ET.parse(info.svg).getroot()
        assert root.tag.endswith("svg"), f"{info.svg.name} is not an SVG"
        assert info.caption.endswith("."), info.caption
        assert len(info.caption) > 40, f"{info.name}: caption {info.caption!r}"
    region = json.loads((result_dir / "region.json").read_text())
    assert [c["id"] for c in region["communities"]] == ["north", "south", "east"]
    assert region["surges"][0]["start"] == SURGE_START_H * 60
    assert (result_dir / "report.html").is_file()
    leftovers = [p.name for p in result_dir.parent.iterdir() if p.name.startswith(".")]
    assert not leftovers, f"temporary directories left behind: {leftovers}"


def test_drawing_leaves_no_global_matplotlib_state(data: ResultData, tmp_path: Path) -> None:
    before = dict(matplotlib.rcParams)
    backend = matplotlib.get_backend()
    fig = levels_figure(data)
    assert isinstance(fig, Figure)
    assert dict(matplotlib.rcParams) == before
    assert matplotlib.get_backend() == backend


# --- response-time ECDF ----------------------------------------------------------------------


@pytest.mark.parametrize("service", ["ambulance", "police"])
def test_ecdf_draws_the_incidents_and_marks_targets(
    data: ResultData, incidents: pd.DataFrame, service: str
) -> None:
    fig = ecdf_figure(data, service)
    assert fig is not None
    lines = by_gid(fig, "ecdf:")
    inc = incidents[incidents["service"] == service]
    expected_keys = {f"ecdf:{o}:{p}" for o in data.options for p in inc["priority"].unique()}
    assert set(lines) == expected_keys
    for gid, line in lines.items():
        _, opt, prio = gid.split(":")
        r = inc.loc[(inc["option"] == opt) & (inc["priority"] == int(prio)), "response"].to_numpy()
        x, y = np.asarray(line.get_xdata())[1:], np.asarray(line.get_ydata())[1:]
        assert len(x) > 10
        # drawn from the response histogram: at each point, the share of every call (never
        # reached ones included) reached within x, and more than within x - one bin
        eps = 1e-9
        reached_by = np.array([(r <= v + eps).sum() / len(r) for v in x])
        before = np.array([(r < v - BIN - eps).sum() / len(r) for v in x])
        assert np.all(y <= reached_by + 1e-12), f"{gid}: never more than reached by x"
        assert np.all(y >= before - 1e-12), f"{gid}: at least what was reached one bin before"
        assert np.nanmax(r) <= x[-1] < np.nanmax(r) + BIN + eps, gid
        assert y[-1] == pytest.approx(np.isfinite(r).mean()), f"{gid}: ends at the share reached"
    region = json.loads((data.root / "region.json").read_text())
    targets = {round(t["minutes"], 6) for t in region["targets"] if t["service"] == service}
    drawn = {
        round(float(line.get_xdata()[0]), 6)
        for line in fig.findobj(lambda a: a.get_gid() == "target-minutes")
    }
    assert drawn == targets, "a vertical line at every target time"
    shares = {t["share"] for t in region["targets"] if t["service"] == service}
    drawn_shares = {
        float(line.get_ydata()[0]) for line in fig.findobj(lambda a: a.get_gid() == "target-share")
    }
    assert drawn_shares == shares, "a horizontal line at the target share"


def test_ambulance_targets_are_the_scenarios(data: ResultData) -> None:
    assert [(m, q) for m, q, _ in data.targets("ambulance", 1)] == [(8 + 59 / 60, 0.9), (25.0, 0.9)]
    assert data.targets("ambulance", 1)[1][2] == ["south", "east"]


# --- equity, units, help, map ------------------------------------------------------------------


def test_within_target_bars_are_summary_means(data: ResultData, result_dir: Path) -> None:
    fig = within_target_figure(data)
    assert fig is not None
    bars = by_gid(fig, "within:")
    s = csv(result_dir, "summary")
    s = s[(s["metric"] == "within_target") & (s["priority"] == "1") & (s["community"] != "all")]
    assert len(bars) == len(s) == 2 * 4 * 3
    for r in s.itertuples():
        bar = bars[f"within:{r.service}:{r.option}:{r.community}"]
        assert isinstance(bar, Rectangle)
        assert bar.get_height() == pytest.approx(r.mean), (r.service, r.option, r.community)
    lines = by_gid(fig, "target-share:")
    assert len(lines) == 6
    share = {gid: float(ln.get_segments()[0][0][1]) for gid, ln in lines.items()}
    assert share["target-share:police:north"] == 0.8
    assert share["target-share:ambulance:south"] == 0.9


def test_busy_dots_are_unit_summary_means(data: ResultData, result_dir: Path) -> None:
    fig = busy_figure(data)
    assert fig is not None
    u = csv(result_dir, "unit_summary")
    u = u[u["metric"] == "busy_fraction"]
    dots = by_gid(fig, "busy:")
    assert len(dots) == 2 * 4
    for gid, line in dots.items():
        _, service, opt = gid.split(":")
        expected = u[(u["service"] == service) & (u["option"] == opt)]["mean"].to_numpy()
        np.testing.assert_allclose(np.asarray(line.get_xdata()), expected, err_msg=gid)


def help_matrix(result_dir: Path, option: str) -> np.ndarray:
    h = csv(result_dir, "help")
    h = h[h["option"] == option].groupby(["owner", "community"])["mean"].sum().unstack()
    order = ["north", "south", "east"]
    return h.reindex(index=order, columns=order).to_numpy()


def test_help_heatmap_values_are_help_csv(data: ResultData, result_dir: Path) -> None:
    fig = help_figure(data)
    assert fig is not None
    images = by_gid(fig, "help:")
    assert set(images) == {f"help:{o}" for o in data.options}
    for gid, im in images.items():
        arr = im.get_array()
        np.testing.assert_allclose(np.ma.getdata(arr), help_matrix(result_dir, gid.split(":")[1]))
        assert np.ma.getmaskarray(arr).diagonal().all(), "own calls are greyed out, not coloured"
    sep = help_matrix(result_dir, "separate")
    assert (sep[~np.eye(3, dtype=bool)] == 0).all(), "separate: nobody helps anybody"


def test_map_arrows_are_proportional_to_unit_hours(data: ResultData, result_dir: Path) -> None:
    fig = map_figure(data)
    assert fig is not None
    arrows = by_gid(fig, "flow:")
    assert arrows, "pooled options send help across borders"
    flows = {}
    for opt in data.options:
        m = help_matrix(result_dir, opt)
        order = ["north", "south", "east"]
        for i, a in enumerate(order):
            for j, b in enumerate(order):
                if i != j and m[i, j] > 0:
                    flows[f"flow:{opt}:{a}>{b}"] = m[i, j]
    hmax = max(flows.values())
    assert set(arrows) == {k for k, v in flows.items() if v >= MIN_SHARE * hmax}
    assert not any(k.startswith("flow:separate:") for k in arrows)
    for gid, arrow in arrows.items():
        assert isinstance(arrow, FancyArrowPatch)
        assert arrow.get_linewidth() == pytest.approx(MAX_ARROW_WIDTH * flows[gid] / hmax), gid
    sizes = {
        gid.split(":")[1]: float(c.get_sizes()[0]) for gid, c in by_gid(fig, "community:").items()
    }
    assert sizes["north"] > sizes["south"] > sizes["east"], "circles sized by population"
    assert by_gid(fig, "station:hub"), "the hub station is drawn where it has units"
    assert by_gid(fig, "facility:hospital")


def test_map_without_locations_uses_a_circle(result_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "result"
    shutil.copytree(result_dir, copy)
    region = json.loads((copy / "region.json").read_text())
    for c in region["communities"]:
        c["location"] = None
    (copy / "region.json").write_text(json.dumps(region))
    data = load_result(copy)
    from sim.plots.map import _caption, layout

    pos, _extras, scaled = layout(data)
    assert not scaled
    radii = {round(float(np.hypot(*p)), 6) for p in pos.values()}
    assert len(radii) == 1, "all communities on one circle"
    assert "circle" in _caption(data)


# --- levels, differences, surge, costs ---------------------------------------------------------


def test_levels_lines_are_levels_csv(data: ResultData, result_dir: Path) -> None:
    fig = levels_figure(data)
    assert fig is not None
    lv = csv(result_dir, "levels")
    lv = lv[lv["hour"] >= 0]
    lines = by_gid(fig, "levels:")
    assert len(lines) == 2 * 2 * 4
    for gid, line in lines.items():
        _, service, col, opt = gid.split(":")
        r = lv[(lv["service"] == service) & (lv["option"] == opt)].sort_values("hour")
        np.testing.assert_allclose(np.asarray(line.get_xdata()), r["hour"])
        np.testing.assert_allclose(np.asarray(line.get_ydata()), r[col], err_msg=gid)


def test_forest_plot_is_comparison_csv(data: ResultData, result_dir: Path) -> None:
    fig = forest_figure(data)
    assert fig is not None
    c = csv(result_dir, "comparison")
    c = c[(c["community"] == "all") & (c["priority"] == "all")]
    dots = by_gid(fig, "forest:")
    assert len(dots) == 3 * 2 * 3  # metrics x services x options other than the baseline
    for gid, line in dots.items():
        _, metric, service, opt = gid.split(":")
        r = c[(c["metric"] == metric) & (c["service"] == service) & (c["option"] == opt)].iloc[0]
        scale = 100.0 if metric == "within_target" else 100.0 / abs(r["baseline_mean"])
        assert float(line.get_xdata()[0]) == pytest.approx(r["diff"] * scale), gid


def test_surge_figure_bins_incidents_by_call_hour(
    data: ResultData, incidents: pd.DataFrame
) -> None:
    windows = surge_windows(data)
    assert len(windows) == 1
    w = windows[0]
    assert w["services"] == ["ambulance", "police"], "surged police and the burst's ambulances"
    fig = surge_figure(data, w)
    spans = fig.findobj(lambda a: a.get_gid() == "surge-period")
    assert spans
    span = spans[0]
    assert (span.get_x(), span.get_x() + span.get_width()) == pytest.approx((0.0, SURGE_HOURS))
    bursts = fig.findobj(lambda a: a.get_gid() == "burst")
    assert bursts
    assert float(bursts[0].get_xdata()[0]) == pytest.approx(BURST_H - SURGE_START_H)
    police = incidents[(incidents["service"] == "police") & (incidents["option"] == "separate")]
    bins = surge_bins(data, w, "police", "separate")
    assert (bins["end"] - bins["start"]).iloc[0] == pytest.approx(60.0)
    horizon = json.loads((data.root / "region.json").read_text())["run"]["horizon"]
    reps = police["replication"].nunique()
    sent = police["t_dispatch"].fillna(horizon)
    for b in bins.itertuples():  # from surge_timeline.csv: numbers of 6 significant digits
        calls = police[(police["t_call"] >= b.start) & (police["t_call"] < b.end)]
        if len(calls):
            assert b.mean_response == pytest.approx(calls["response"].mean(), rel=1e-5)
        overlap = (np.minimum(sent, b.end) - np.maximum(police["t_ready"], b.start)).clip(lower=0)
        waiting = overlap.sum() / (b.end - b.start) / reps
        assert b.waiting_calls == pytest.approx(waiting, rel=1e-5, abs=1e-9), b
    drawn = surge_bins(data, w, "police", "separate", bin_hours(data, w, "police"))
    line = by_gid(fig, "surge:police:mean_response:separate")["surge:police:mean_response:separate"]
    np.testing.assert_allclose(np.asarray(line.get_ydata(), dtype=float), drawn["mean_response"])
    during = bins[(bins["start"] >= w["start"]) & (bins["end"] <= w["end"])]["waiting_calls"].mean()
    before = bins[bins["end"] <= w["start"]]["waiting_calls"].mean()
    assert during > before, "calls pile up during the surge"


def test_cost_bars_are_shares_csv(data: ResultData, result_dir: Path) -> None:
    fig = shares_figure(data)
    assert fig is not None
    sh = csv(result_dir, "shares")
    bars = by_gid(fig, "share:")
    assert len(bars) == len(sh) == 4 * 4 * 3
    for r in sh.itertuples():
        assert bars[f"share:{r.option}:{r.formula}:{r.community}"].get_height() == pytest.approx(
            r.mean
        )


# --- intersim plot -----------------------------------------------------------------------------


@pytest.mark.slow
def test_plot_command_redraws_figures_atomically(
    result_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.plots
    from sim.plots import costs, equity

    # every figure is drawn by write_comparison above; two are enough to test the command
    monkeypatch.setattr(sim.plots, "MODULES", (equity.figures, costs.figures))
    copy = tmp_path / "result"
    shutil.copytree(result_dir, copy, ignore=shutil.ignore_patterns("figures"))
    (copy / FIGURES_DIR).mkdir()
    (copy / FIGURES_DIR / "stale.png").write_bytes(b"old")
    assert main(["plot", str(copy)]) == 0
    names = {p.name for p in (copy / FIGURES_DIR).iterdir()}
    assert "stale.png" not in names, "the old figures directory is replaced as a whole"
    drawn = {"equity_within_target", "costs_shares"}
    assert names == {f"{n}.png" for n in drawn} | {f"{n}.svg" for n in drawn} | {"index.json"}
    infos = read_index(copy / FIGURES_DIR)
    assert infos is not None
    assert {i.name for i in infos} == drawn
    assert not [p.name for p in copy.iterdir() if p.name.startswith(".")], "no temporary left"
    assert (copy / FIGURES_DIR).stat().st_mode & 0o055 == 0o055, "figures readable by others"


@pytest.mark.parametrize("kind", ["missing", "file", "empty", "no_tables", "bad_manifest"])
def test_plot_and_report_refuse_a_bad_directory(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "dir"
    if kind == "file":
        target.write_text("x")
    elif kind != "missing":
        target.mkdir()
        if kind == "no_tables":
            (target / "manifest.json").write_text("{}")
        elif kind == "bad_manifest":
            (target / "manifest.json").write_text("{not json")
    for command in ("plot", "report"):
        assert main([command, str(target)]) == 2, f"{command} {kind}"
        err = capsys.readouterr().err
        assert err.startswith("error: "), err
        assert err.count("\n") == 1, err
        assert "Traceback" not in err
