"""The HTML report: self-contained, complete, escaped, rebuilt by ``intersim report``, and
rendered by a real browser (headless Chromium) without errors or network requests.

CI installs Chromium (Debian packages ``chromium`` and ``chromium-driver``). Without it the
browser test is skipped with the reason, except under ``CI=true``, where it fails
(``tests/browser.py``).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from sim.cli.main import main
from sim.report.page import build_report, prepare_report
from tests.browser import Chromium

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


@pytest.fixture(scope="session")
def html(result_dir: Path) -> str:
    return (result_dir / "report.html").read_text(encoding="utf-8")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


# --- content ---------------------------------------------------------------------------------


def test_report_is_self_contained(html: str, result_dir: Path) -> None:
    found = tags(html)
    images = [a for t, a in found if t == "img"]
    index = json.loads((result_dir / "figures" / "index.json").read_text())
    assert len(images) == len(index), "every figure is in the report"
    for a in images:
        assert (a.get("src") or "").startswith("data:image/png;base64,"), "images are inlined"
        assert a.get("alt"), "every image has a text alternative"
    assert not [t for t, _ in found if t in ("script", "link", "iframe", "object", "embed")]
    for t, a in found:
        for key in ("src", "href"):
            value = a.get(key)
            if value is not None:
                assert value.startswith(("data:", "#")), (
                    f"<{t} {key}={value[:60]!r}> leaves the page"
                )
    assert not re.search(r"url\((?!#)", html), "no CSS url(): nothing fetched"
    assert "@media print" in html
    assert "@media (max-width" in html
    assert 'name="viewport"' in html


def test_report_holds_the_comparison(html: str, result_dir: Path) -> None:
    manifest = json.loads((result_dir / "manifest.json").read_text())
    index = json.loads((result_dir / "figures" / "index.json").read_text())
    text = re.sub(r"\s+", " ", html)
    for needle in (
        "Plot test region",
        "Northtown",
        "Southvale",
        "Eastby",
        "20,000",  # scenario in brief
        "Each town alone.",
        "Ambulances borrowed on request.",
        "Valley hub",  # options
        "Headline results",
        "Verdicts against separate",
        "Analytic estimate",
        "Erlang C",
        "Equity between communities",
        "Who pays what",
        "per capita",
        "weighted mix",
        manifest["scenario_sha256"],
        str(manifest["seed"]),
        manifest["intersim_command"],
    ):
        assert needle in text, f"report should mention {needle!r}"
    for entry in index:
        assert entry["caption"].replace("&", "&amp;").replace("'", "&#39;") in text
    assert 'class="best"' in html, "the best option per metric is marked"
    assert re.search(r'class="badge (better|worse|ns)"', html), "verdicts are shown"
    head = pd.read_csv(result_dir / "headline.csv")
    amb = head[(head["service"] == "ambulance") & (head["option"] == "pooled")].iloc[0]
    assert f"{amb['mean_response']:.1f} min" in text, "headline numbers are the table's"
    assert "&lt;&amp; friends&gt;" in html, "scenario text is escaped (autoescape on)"


def test_report_command_rebuilds_and_escapes_warnings(
    result_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "result"
    shutil.copytree(result_dir, copy)
    (copy / "report.html").unlink()
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["warnings"] = ["option 'x': <script>alert(1)</script> is overloaded"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert main(["report", str(copy)]) == 0
    assert str(copy / "report.html") in capsys.readouterr().out
    html = (copy / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; is overloaded" in html
    assert "<script>" not in html
    assert not [p.name for p in copy.iterdir() if p.name.startswith(".")], "no temporary left"


def test_a_report_prepared_before_its_figures_is_the_same(result_dir: Path, tmp_path: Path) -> None:
    """compare prepares the report from the tables while the figures are drawn, and adds the
    figures last: the same page as built at once."""
    copy = tmp_path / "result"
    shutil.copytree(result_dir, copy)
    once = build_report(copy).read_text(encoding="utf-8")
    prepared = prepare_report(copy)
    assert "figures" not in prepared.context, "the figures are read when the page is built"
    assert build_report(copy, prepared).read_text(encoding="utf-8") == once


def test_report_without_figures_draws_them(
    result_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.plots
    from sim.plots import costs

    monkeypatch.setattr(sim.plots, "MODULES", (costs.figures,))
    copy = tmp_path / "result"
    shutil.copytree(result_dir, copy, ignore=shutil.ignore_patterns("figures"))
    html = build_report(copy).read_text(encoding="utf-8")
    assert html.count("<img ") == 1
    assert not (copy / "figures").exists(), "the report does not write figures into DIR"


# --- a real browser --------------------------------------------------------------------------


def _chrome(chromium: Chromium, tmp: Path):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium.browser)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = Service(executable_path=str(chromium.driver))
    return webdriver.Chrome(options=options, service=service)


@pytest.mark.slow
def test_report_renders_in_headless_chromium(
    chromium: Chromium, result_dir: Path, tmp_path: Path
) -> None:
    report = (result_dir / "report.html").resolve()
    url = report.as_uri()
    with tempfile.TemporaryDirectory(prefix="intersim-chromium-") as profile:
        driver = _chrome(chromium, Path(profile))
        try:
            driver.set_window_size(1280, 900)
            driver.get_log("performance")  # drop what the browser's own start page loaded
            driver.get(url)
            images = driver.execute_script(
                "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])"
            )
            assert images, "the report shows its figures"
            broken = [alt for complete, width, alt in images if not (complete and width > 0)]
            assert not broken, f"images that did not load: {broken}"
            resources = driver.execute_script(
                "return performance.getEntriesByType('resource').map(e => e.name)"
            )
            assert not [r for r in resources if not r.startswith("data:")], resources
            requests = [
                json.loads(entry["message"])["message"] for entry in driver.get_log("performance")
            ]
            sent = [m["params"] for m in requests if m.get("method") == "Network.requestWillBeSent"]
            assert url in {p["request"]["url"] for p in sent}, "the log shows the page's own load"
            network = [
                p["request"]["url"]
                for p in sent
                if p["request"]["url"].split(":", 1)[0] in ("http", "https", "ws", "wss", "ftp")
            ]
            assert not network, f"network requests while showing the report: {network}"
            mine = [p["request"]["url"] for p in sent if p.get("documentURL") == url]
            outside = [u for u in mine if u != url and not u.startswith("data:")]
            assert not outside, f"the report fetched: {outside}"
            severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            assert not severe, f"console errors: {severe}"
            title = driver.execute_script("return document.querySelector('h1').textContent")
            assert title == "Plot test region"
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(1280, min(height + 100, 16000))
            assert driver.save_screenshot(str(tmp_path / "report-desktop.png"))

            driver.set_window_size(390, 844)  # a phone: nothing but tables may scroll sideways
            driver.get(url)
            wide = driver.execute_script(
                "return [document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert wide[0] <= wide[1], f"the page scrolls sideways on a phone: {wide}"
            assert driver.save_screenshot(str(tmp_path / "report-phone.png"))
            pdf = driver.print_page()  # @media print
            assert len(pdf) > 10_000
        finally:
            driver.quit()
    assert (tmp_path / "report-desktop.png").stat().st_size > 10_000
