"""Writing the result directory of ``intersim site``.

The directory appears complete or not at all (:func:`sim.results.files.output_dir`):

* ``siting.csv``: one row per placement (today's first); ``siting_stations.csv``,
  ``siting_communities.csv``, ``siting_costs.csv`` and ``siting_game.csv``;
* ``<scenario>-sited.yaml``: the scenario with the chosen placement as a new option (and its new
  stations), validated before it is written, ready for ``intersim compare``;
* ``figures/`` (the map), ``siting.json`` (the settings and the model's figures),
  ``manifest.json`` (``"kind": "decision"``, ``"question": "site"``) and ``decision.html``.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import ScenarioError
from ..plots import FIGURES_DIR, write_figures
from ..report.decision import DECISION_FILE, render_decision
from ..results.files import atomic_write_text, manifest, output_dir, write_csv, write_json
from ..schema import load_scenario
from .figures import siting_figures
from .site import SitingResult
from .yamltext import scenario_text

__all__ = ["SITING_FILE", "sited_name", "write_siting"]

SITING_FILE = "siting.json"


def sited_name(result: SitingResult) -> str:
    stem = result.scenario_file.stem if result.scenario_file is not None else "scenario"
    return f"{stem}-sited.yaml"


def _scenario_yaml(result: SitingResult, tmp: Path, final: Path) -> tuple[str | None, bool]:
    """Write the scenario with the chosen placement; its name and whether comments were kept
    (no file when the chosen placement is today's)."""
    if result.chosen == result.base_option:
        return None, False
    option = result.options[result.chosen]
    placed = result.siting.set_index("placement").loc[result.chosen]
    used = {
        str(s)
        for s in result.stations.loc[result.stations["placement"] == result.chosen, "station"]
    }
    stations = {s.id: s.entry for s in result.sites if s.entry is not None and s.id in used}
    note = [
        f"Written by intersim site (objective {result.objective}, model "
        f"{str(placed['model']).upper()}): {placed['sites']}.",
        f"Simulated against '{result.base_option}' over {result.replications} replications "
        f"(seed {result.seed}): share within target {_verdict(placed)}.",
    ]
    text, kept = scenario_text(
        result.scenario_file,
        result.scenario.model_dump(mode="json"),
        stations,  # type: ignore[arg-type]
        result.chosen,
        option,
        final.resolve(),
        note,
    )
    name = sited_name(result)
    atomic_write_text(tmp / name, text)
    try:
        load_scenario(tmp / name)
    except ScenarioError as exc:  # pragma: no cover - a bug: the option was checked when built
        raise RuntimeError(f"the written scenario does not validate: {exc}") from None
    return name, kept


def _verdict(row: Any) -> str:
    diff = float(row["within_target_diff"])
    if not math.isfinite(diff):
        return "not compared"
    return (
        f"{100 * diff:+.1f} pp [{100 * float(row['within_target_diff_ci_low']):+.1f}, "
        f"{100 * float(row['within_target_diff_ci_high']):+.1f}], {row['within_target_vs_today']}"
    )


def _details(result: SitingResult, yaml_name: str | None, kept: bool) -> dict[str, Any]:
    r = result.rules
    inst = result.instance
    return {
        "service": result.service,
        "objective": result.objective,
        "metric": result.metric,
        "priority": result.priority,
        "base_option": result.base_option,
        "chosen": result.chosen,
        "candidates": len(result.sites),
        "new_sites": sum(1 for s in result.sites if s.entry is not None),
        "zones": len(inst.zones),
        "units": inst.units,
        "busy_fraction": inst.busy,
        "rules": {
            "stations": r.stations,
            "keep": [inst.sites[i] for i in r.keep],
            "close_at_most": r.close_at_most,
            "max_per_station": r.max_per_station,
            "min_coverage": {inst.communities[c]: v for c, v in r.min_coverage},
        },
        "model_seconds": round(result.model_seconds, 3),
        "scenario_yaml": yaml_name,
        "comments_kept": kept,
        "shapley": result.game.shapley if result.game is not None else None,
        "executor": result.simulated.executor,
    }


def write_siting(
    result: SitingResult,
    out: Path,
    *,
    command: str,
    started: datetime,
    overwrite: bool = False,
) -> Path:
    """Write everything into ``out``; return the path of ``decision.html``."""
    scenario = result.scenario
    with output_dir(out, overwrite) as tmp:
        for name, table in result.tables().items():
            write_csv(table, tmp / f"{name}.csv")
        write_figures(siting_figures(result), tmp / FIGURES_DIR)
        yaml_name, kept = _scenario_yaml(result, tmp, Path(out))
        warnings = list(result.warnings)
        if yaml_name is not None and not kept:
            warnings.append(
                f"{yaml_name} was written from the scenario's data: the original's comments "
                "could not be kept"
            )
        write_json(_details(result, yaml_name, kept), tmp / SITING_FILE)
        scenario_file = result.scenario_file
        if scenario_file is None:  # data given in code: keep a copy to point the manifest at
            scenario_file = tmp / "scenario.json"
            write_json(scenario.model_dump(mode="json"), scenario_file)
        meta = manifest(
            scenario_file=scenario_file,
            command=command,
            seed=result.seed,
            replications=result.replications,
            options=[p.name for p in result.placements],
            started=started,
            seconds=result.seconds,
            warnings=warnings,
            extra={
                "kind": "decision",
                "question": "site",
                "name": scenario.name,
                "description": scenario.description,
                "names": {c: v.name or c for c, v in scenario.communities.items()},
                "service": result.service,
                "service_name": scenario.services[result.service].name or result.service,
                "objective": result.objective,
                "executor": result.simulated.executor,
            },
        )
        if result.scenario_file is None:
            meta["scenario_file"] = "scenario.json"
        write_json(meta, tmp / "manifest.json")
        atomic_write_text(tmp / DECISION_FILE, render_decision(tmp))
    return out / DECISION_FILE
