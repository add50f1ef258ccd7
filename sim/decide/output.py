"""Writing the result directory of ``intersim size`` or ``intersim coalitions``.

The directory appears complete or not at all (:func:`sim.outputs.output_dir`): tables (CSV),
figures (PNG and SVG in ``figures/`` with an ``index.json`` of titles and captions), the
manifest (``"kind": "decision"``), and ``decision.html``. Write it under a compare result
directory (``--out results/fv/sizing``) and ``intersim report results/fv`` shows it too.
"""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

from ..plots.style import Drawn
from ..report.decision import DECISION_FILE, render_decision
from ..results.files import atomic_write_text, manifest, output_dir, write_csv, write_json
from ..schema import Scenario
from .coalition import CoalitionResult
from .figures import coalition_figures, draw, sizing_figures
from .sizing import SizingResult

__all__ = ["write_coalitions", "write_sizing"]


def _figures(drawn: list[Drawn], out: Path) -> None:
    figs = out / "figures"
    draw(drawn, figs)
    index = [
        {
            "name": d.name,
            "section": d.section,
            "title": d.title,
            "caption": d.caption,
            "png": f"{d.name}.png",
            "svg": f"{d.name}.svg",
        }
        for d in drawn
    ]
    atomic_write_text(figs / "index.json", json.dumps(index, indent=2) + "\n")
    for d in drawn:  # free the figures' memory
        d.figure.clear()


def _manifest(
    tmp: Path,
    scenario: Scenario,
    scenario_file: Path | None,
    *,
    question: str,
    command: str,
    seed: int,
    replications: int,
    started: datetime,
    seconds: float,
    warnings: list[str],
    extra: dict[str, Any],
) -> None:
    if scenario_file is None:  # data given in code: keep a copy to point the manifest at
        scenario_file = tmp / "scenario.json"
        write_json(scenario.model_dump(mode="json"), scenario_file)
    meta = manifest(
        scenario_file=scenario_file,
        command=command,
        seed=seed,
        replications=replications,
        options=list(scenario.options),
        started=started,
        seconds=seconds,
        warnings=warnings,
        extra={
            "kind": "decision",
            "question": question,
            "name": scenario.name,
            "description": scenario.description,
            "names": {c: v.name or c for c, v in scenario.communities.items()},
            **extra,
        },
    )
    if meta["scenario_file"].startswith(str(tmp)):
        meta["scenario_file"] = "scenario.json"
    write_json(meta, tmp / "manifest.json")


def write_sizing(
    result: SizingResult,
    scenario: Scenario,
    out: Path,
    *,
    command: str,
    started: datetime,
    overwrite: bool = False,
) -> Path:
    """Write the sizing into ``out``; return the path of ``decision.html``."""
    extra = {
        "baseline": result.baseline,
        "confidence": result.confidence,
        "confirm_replications": result.confirm_replications,
        "placement": result.placement,
        "executor": result.executor,
        "priorities": result.priorities,
    }
    return _write(
        result,
        scenario,
        out,
        "size",
        list(sizing_figures(result)),
        extra,
        {},
        command=command,
        started=started,
        overwrite=overwrite,
    )


def write_coalitions(
    result: CoalitionResult,
    scenario: Scenario,
    out: Path,
    *,
    command: str,
    started: datetime,
    overwrite: bool = False,
) -> Path:
    """Write the coalition game into ``out``; return the path of ``decision.html``."""
    game = {
        f.name: getattr(result, f.name)
        for f in fields(result)
        if f.name not in ("values", "allocations", "stability", "scenario_file")
    }
    extra = {
        "value": result.value,
        "fast": result.fast,
        "confidence": result.confidence,
        "confirm_replications": result.confirm_replications,
        "executor": result.executor,
        "priorities": result.priorities,
    }
    return _write(
        result,
        scenario,
        out,
        "coalitions",
        list(coalition_figures(result)),
        extra,
        {"game.json": game},
        command=command,
        started=started,
        overwrite=overwrite,
    )


def _write(
    result: Any,
    scenario: Scenario,
    out: Path,
    question: str,
    figures: list[Any],
    extra: dict[str, Any],
    json_files: dict[str, Any],
    *,
    command: str,
    started: datetime,
    overwrite: bool,
) -> Path:
    """Tables, JSON, figures, manifest and ``decision.html`` of a sizing or a coalition game,
    written atomically into ``out``."""
    with output_dir(out, overwrite) as tmp:
        for name, table in result.tables().items():
            write_csv(table, tmp / f"{name}.csv")
        for name, data in json_files.items():
            write_json(data, tmp / name)
        _figures(figures, tmp)
        _manifest(
            tmp,
            scenario,
            result.scenario_file,
            question=question,
            command=command,
            seed=result.seed,
            replications=result.replications,
            started=started,
            seconds=result.seconds,
            warnings=result.warnings,
            extra={
                "service": result.service,
                "service_name": scenario.services[result.service].name or result.service,
                **extra,
            },
        )
        atomic_write_text(tmp / DECISION_FILE, render_decision(tmp))
    return out / DECISION_FILE
