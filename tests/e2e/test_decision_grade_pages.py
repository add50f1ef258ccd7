"""``report.html`` and ``decision.html`` in a real browser (headless Chromium) at 1,400 and at
400 px: no table or image overflows its container. At 1,400 px every table fits its column; at
400 px a table may scroll sideways, but only inside its frame and with a visible cue (the scroll
shadow); images never exceed their column. Both screenshots of every page are saved (full
page), and the report's optional sections are in the pages checked.

CI installs Chromium (Debian packages ``chromium`` and ``chromium-driver``); without it these
tests fail, they do not skip.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import sim.decide
from sim.decide.output import write_coalitions, write_sizing
from sim.report.decision import DECISION_FILE
from sim.report.page import build_report
from sim.schema import scenario_from_dict
from tests.e2e.test_decision_grade_common import five_valleys_data, five_valleys_result, towns

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
WIDTHS = (1400, 400)

OVERFLOW = """
const strict = arguments[0];
document.querySelectorAll('details').forEach(d => { d.open = true; });
const out = [];
const doc = document.documentElement;
if (doc.scrollWidth > doc.clientWidth) {
  out.push(`the page scrolls sideways: ${doc.scrollWidth} px in ${doc.clientWidth}`);
}
const column = document.querySelector('main').getBoundingClientRect();
const inside = (r) => r.left >= column.left - 0.5 && r.right <= column.right + 0.5;
for (const img of document.images) {
  const box = img.getBoundingClientRect();
  const frame = img.parentElement.getBoundingClientRect();
  if (box.width > frame.width + 0.5 || !inside(box)) {
    const alt = img.alt.slice(0, 50);
    out.push(`image '${alt}': ${box.width.toFixed(0)} px in ${frame.width.toFixed(0)}`);
  }
}
for (const t of document.querySelectorAll('table')) {
  const head = t.querySelector('th');
  const name = `${(t.closest('section') || {}).id}: ${head ? head.textContent.trim() : ''}`;
  const wrap = t.closest('.table-wrap');
  if (!wrap) { out.push(`table ${name} has no frame`); continue; }
  if (!inside(wrap.getBoundingClientRect())) {
    out.push(`the frame of table ${name} leaves the column`);
  }
  const width = t.getBoundingClientRect().width;
  if (width <= wrap.clientWidth + 0.5) continue;
  if (strict) {
    out.push(`table ${name} is cut: ${width.toFixed(0)} px in ${wrap.clientWidth}`);
    continue;
  }
  const style = getComputedStyle(wrap);
  if (!['auto', 'scroll'].includes(style.overflowX)) {
    out.push(`table ${name} overflows its frame`);
  } else if (!style.backgroundImage.includes('gradient')) {
    out.push(`table ${name} scrolls without a visible cue`);
  }
}
return out;
"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A Five Valleys-like report with sizing and coalition sections, and their pages."""
    out, _ = five_valleys_result(tmp_path_factory)
    root = tmp_path_factory.mktemp("pages") / "result"
    shutil.copytree(out, root)
    started = datetime.now(UTC)
    three = towns([1.0, 1.0, 0.5], today=3, share=0.85)
    three["options"]["mutual_aid"] = {"dispatch": {"amb": {"policy": "mutual_aid"}}}
    scenario = scenario_from_dict(three)
    sized = sim.decide.size(three, "amb", workers=1, replications=3)
    sizing = write_sizing(sized, scenario, root / "sizing", command="size", started=started)
    game = sim.decide.coalitions(three, "amb", workers=1, replications=3)
    played = write_coalitions(game, scenario, root / "coalitions", command="c", started=started)
    fv = five_valleys_data()
    fast = sim.decide.coalitions(fv, "ambulance", fast=True)
    screened = write_coalitions(
        fast, scenario_from_dict(fv), root / "screening", command="c --fast", started=started
    )
    report = build_report(root)
    assert sizing.name == played.name == screened.name == DECISION_FILE
    return {"report": report, "sizing": sizing, "coalitions": played, "screening": screened}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.fail(
            f"headless Chromium is needed for this test ({CHROMIUM}, {CHROMEDRIVER}): install it "
            "with `apt-get install -y chromium chromium-driver`"
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is needed for this test: pip install -e '.[test]'")
    with tempfile.TemporaryDirectory(prefix="intersim-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in (*FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
        try:
            yield driver
        finally:
            driver.quit()


def full_page(driver: Any, path: Path) -> None:
    """A screenshot of the whole page, however long, at the window's width (the viewport is
    made as tall as the page, so that no page scrollbar takes width from it)."""
    width = int(driver.execute_script("return window.innerWidth"))

    def metrics(height: int) -> None:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    try:
        metrics(1000)
        metrics(int(driver.execute_script("return document.documentElement.scrollHeight")))
        path.write_bytes(driver.get_screenshot_as_png())
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.parametrize("page", ["report", "sizing", "coalitions", "screening"])
def test_no_table_or_image_overflows_at_1400_and_400_px(
    page: str, pages: dict[str, Path], browser: Any, tmp_path: Path
) -> None:
    url = pages[page].resolve().as_uri()
    found = {}
    for width in WIDTHS:
        browser.set_window_size(width, 1000)
        browser.get(url)
        assert browser.execute_script("return document.querySelectorAll('table').length") > 0
        problems = browser.execute_script(OVERFLOW, width >= 1400)
        if problems:
            found[width] = problems
        shot = tmp_path / f"{page}-{width}.png"
        full_page(browser, shot)
        assert shot.stat().st_size > 10_000, f"screenshot {shot} looks empty"
    assert not found, found


def test_the_report_holds_the_decision_sections(pages: dict[str, Path]) -> None:
    html = pages["report"].read_text(encoding="utf-8")
    assert html.count('<section id="sizing-') == 1
    assert html.count('<section id="coalitions-') == 2
    assert "Shapley, Erlang C screening" in html
    assert "Screening estimate (Erlang C), not a simulation." in html
