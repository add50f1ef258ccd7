"""A single self-contained HTML report of a comparison, for planners to read and email.

Built from the result directory alone (tables, manifest, region.json and the figures in
``figures/``; figures missing there are drawn in memory): images are inlined as base64 PNG,
CSS is inline, nothing is fetched and no script runs. Only files inside the directory are
read: an index naming a file elsewhere (an absolute path, ``..``, a link leading out) is not
trusted, and the figures are drawn in memory instead.
"""

from __future__ import annotations

import base64
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined, Template
from PIL import Image

from ..analysis.erlang import GAP
from ..plots import FIGURES_DIR, FigureInfo, draw_figures, read_index
from ..results.files import atomic_write_text, inside
from ..results.read import ResultData, load_result
from ..version import __version__
from .decision import report_fragment
from .services import services_section
from .story import findings, missed_targets, scenario_brief
from .tables import cost_tables, equity_rows, estimate_rows, headline_rows, verdict_table

__all__ = ["REPORT_FILE", "PreparedReport", "build_report", "prepare_report", "render_report"]

REPORT_FILE = "report.html"
TEMPLATE = "report.html.j2"

SECTIONS = {
    "differences": "verdicts",
    "response": "response",
    "equity": "equity",
    "units": "workload",
    "help": "workload",
    "map": "workload",
    "zones": "zones",
    "levels": "workload",
    "surge": "workload",
    "costs": "costs",
    "services": "services",
    "coverage": "coverage",
}


@dataclass(frozen=True)
class PreparedReport:
    """All of a report but its figures: the template, compiled, and everything it shows of the
    tables, manifest and region, so that ``compare`` prepares it while the figures are drawn."""

    template: Template
    context: dict[str, Any]


def prepare_report(result_dir: Path) -> PreparedReport:
    """The report of ``result_dir`` up to its figures (read from its tables and files)."""
    env = Environment(
        autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    text = resources.files("sim.report").joinpath("templates", TEMPLATE).read_text(encoding="utf-8")
    return PreparedReport(env.from_string(text), _context(load_result(result_dir)))


def build_report(result_dir: Path, prepared: PreparedReport | None = None) -> Path:
    """Write ``result_dir/report.html`` (atomically) and return its path; ``prepared``: its
    :func:`prepare_report`, if made already."""
    root = Path(result_dir)
    html = render_report(root, prepared)
    out = root / REPORT_FILE
    atomic_write_text(out, html)
    return out


def render_report(result_dir: Path, prepared: PreparedReport | None = None) -> str:
    report = prepared if prepared is not None else prepare_report(result_dir)
    return report.template.render(**report.context, figures=_figures(Path(result_dir)))


# --- figures --------------------------------------------------------------------------------
def _inline(infos: list[FigureInfo]) -> list[dict[str, Any]]:
    out = []
    for i in infos:
        raw = i.png.read_bytes()
        with Image.open(i.png) as im:
            width, height = im.size
        out.append(
            {
                "name": i.name,
                "title": i.title,
                "caption": i.caption,
                "section": SECTIONS.get(i.section, "workload"),
                "src": "data:image/png;base64," + base64.b64encode(raw).decode("ascii"),
                "width": width,
                "height": height,
            }
        )
    return out


def _figures(root: Path) -> list[dict[str, Any]]:
    infos = read_index(root / FIGURES_DIR)
    if infos is not None and all(inside(root, i.png) for i in infos):
        return _inline(infos)
    with tempfile.TemporaryDirectory(prefix="intersim-figures-") as tmp:
        return _inline(draw_figures(root, Path(tmp)))


# --- tables ---------------------------------------------------------------------------------
def _context(data: ResultData) -> dict[str, Any]:
    m = data.manifest
    region = data.region or {}
    days = data.run_days()
    run = region.get("run", {})
    notes = []
    if data.region is None:
        notes.append(
            "This result directory has no region.json (written by intersim 0.1+): the "
            "scenario summary, targets and map locations are missing."
        )
    return {
        "title": region.get("name") or Path(str(m.get("scenario_file", "scenario"))).stem,
        "description": region.get("description", ""),
        "baseline": data.baseline,
        "options": data.options,
        "replications": m.get("replications", "?"),
        "seed": m.get("seed", "?"),
        "days": f"{days:g}" if days else None,
        "warmup_days": f"{float(run['warmup']) / 1440:g}" if run else None,
        "targets": missed_targets(data),
        "findings": findings(data),
        "warnings": [str(w) for w in m.get("warnings", [])],
        "notes": notes,
        "scenario": scenario_brief(data),
        "headline": headline_rows(data),
        "verdicts": verdict_table(data),
        "estimate": estimate_rows(data),
        "estimate_gap": f"{100 * GAP:.0f}",
        "equity": equity_rows(data),
        "costs": cost_tables(data),
        "services": services_section(data),  # work orders and caseloads; None without
        "precision_reached": m.get("precision_reached"),
        # fleet sizing and coalition results found in the directory (written by `size`,
        # `coalitions`), rendered from their files: empty when there are none
        "decision": report_fragment(data.root),
        "footer": {
            "scenario_file": m.get("scenario_file", ""),
            "sha256": m.get("scenario_sha256", ""),
            "seed": m.get("seed", ""),
            "replications": m.get("replications", ""),
            "version": (m.get("versions") or {}).get("intersim", __version__),
            "command": m.get("intersim_command", ""),
            "started": m.get("started", ""),
            "runtime": m.get("runtime_s", ""),
            "python": (m.get("versions") or {}).get("python", ""),
            "platform": m.get("platform", ""),
            "report_version": __version__,
        },
    }
