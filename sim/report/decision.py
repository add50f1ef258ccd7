"""``decision.html``: the sizing, coalition and siting results of a directory, self-contained.

Rendered with Jinja2 (autoescape on) from the directory's tables, manifest and figures alone;
images are inlined as base64 PNG and nothing is fetched. The same template renders a section
for ``report.html``: :func:`report_fragment` finds decision results in a compare result
directory or in its immediate subdirectories (``intersim size ... --out DIR/sizing``) and
returns that section, already escaped, or an empty string.
"""

from __future__ import annotations

import base64
import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, StrictUndefined
from markupsafe import Markup
from PIL import Image

from ..results.display import METHOD_NAMES, fmt_minutes, fmt_money, fmt_pct
from ..results.files import inside
from ..version import __version__

__all__ = ["DECISION_FILE", "decision_dirs", "render_decision", "report_fragment"]

DECISION_FILE = "decision.html"
TEMPLATE = "decision.html.j2"
KIND = "decision"


def _env() -> Environment:
    return Environment(
        autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )


def _manifest(root: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("kind") == KIND else None


def decision_dirs(root: Path) -> list[Path]:
    """``root`` and its immediate subdirectories that hold sizing or coalition results."""
    found = [root] if _manifest(root) else []
    if root.is_dir():
        found += sorted(
            p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and _manifest(p)
        )
    return found


def _figures(root: Path) -> list[dict[str, Any]]:
    try:
        index = json.loads((root / "figures" / "index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    out = []
    for item in index:
        png = root / "figures" / str(item["png"])
        if not inside(root, png):  # nothing outside the result directory
            continue
        raw = png.read_bytes()
        with Image.open(png) as im:
            width, height = im.size
        out.append(
            {
                **item,
                "src": "data:image/png;base64," + base64.b64encode(raw).decode(),
                "width": width,
                "height": height,
            }
        )
    return out


def _read(root: Path, name: str) -> pd.DataFrame:
    path = root / f"{name}.csv"
    return pd.read_csv(path) if path.is_file() else pd.DataFrame()


def _fewer(saved: int) -> str:
    if saved == 0:
        return "as many units"
    return f"{abs(saved)} unit{'s' if abs(saved) != 1 else ''} {'fewer' if saved > 0 else 'more'}"


def _less(saved: float) -> str:
    if not math.isfinite(saved) or saved == 0:
        return "the same cost"
    return f"{fmt_money(abs(saved))} a year {'less' if saved > 0 else 'more'}"


def _bool(v: Any) -> bool:
    return str(v).strip().lower() in ("true", "1", "yes")


# --- sizing -----------------------------------------------------------------------------------
def _sizing(root: Path, m: dict[str, Any]) -> dict[str, Any]:
    names: dict[str, str] = m.get("names", {})
    summary = _read(root, "sizing")
    stations = _read(root, "sizing_stations")
    coms = _read(root, "sizing_communities")
    options = list(summary["option"])
    base = m.get("baseline", "")
    rows, findings = [], []
    for r in summary.itertuples():
        held = _bool(r.held)
        rows.append(
            {
                "option": r.option,
                "baseline": r.option == base,
                "policy": r.policy,
                "units_today": int(r.units_today),
                "units": int(r.units),
                "units_analytic": int(r.units_analytic),
                "infeasible": r.status != "met",
                "cost": fmt_money(float(r.cost_per_year)),
                "cost_today": fmt_money(float(r.cost_today)),
                "units_saved": _fewer(int(r.units_saved)) if r.option != base else "-",
                "cost_saved": _less(float(r.cost_saved)) if r.option != base else "",
                "units_saved_today": _fewer(int(r.units_saved_vs_today))
                if hasattr(r, "units_saved_vs_today")
                else "-",
                "cost_saved_today": _less(float(r.cost_saved_vs_today))
                if hasattr(r, "cost_saved_vs_today")
                else "",
                "today": "yes" if _bool(r.today_meets_targets) else "no",
                "held": "held" if held else "did not hold",
                "held_class": "better" if held else "worse",
                "margin": f"{100 * float(r.confirm_min_margin):+.1f} pp"
                if math.isfinite(float(r.confirm_min_margin))
                else "-",
            }
        )
        verb = "needs" if r.status == "met" else "comes closest with"
        text = (
            f"{r.option}: {verb} {int(r.units)} unit(s) (today {int(r.units_today)}), "
            f"{fmt_money(float(r.cost_per_year))} a year"
        )
        unmet = str(getattr(r, "unmet", "") or "")
        if r.status != "met" and unmet and unmet != "nan":
            text += (
                " but the target of "
                + ", ".join(names.get(x.strip(), x.strip()) for x in unmet.split(","))
                + " cannot be met with this confidence by more units (travel-bound, or "
                "the search's cap)"
            )
        if hasattr(r, "units_saved_vs_today"):
            text += (
                f"; against today's {base} fleet: {_fewer(int(r.units_saved_vs_today))}, "
                f"{_less(float(r.cost_saved_vs_today))}"
            )
        if r.option != base:
            text += (
                f"; against {base} sized to meet the targets: {_fewer(int(r.units_saved))}, "
                f"{_less(float(r.cost_saved))}"
            )
        findings.append(text + ("." if held else "; it did not hold on fresh replications."))
    station_rows = []
    if not stations.empty:
        for (station, owner), g in stations.groupby(["station", "owner"], sort=False):
            label = names.get(str(station), str(station))
            if owner != station:
                label += f" ({names.get(str(owner), str(owner))})"
            cells = []
            for o in options:
                r = g[g["option"] == o]
                if r.empty:
                    cells.append({"text": "-", "sub": ""})
                    continue
                change = int(r["change"].iloc[0])
                cells.append(
                    {"text": str(int(r["units"].iloc[0])), "sub": f"{change:+d}" if change else ""}
                )
            station_rows.append({"station": label, "cells": cells})
    com_rows = []
    confirm = coms[coms["phase"] == "confirm"] if not coms.empty else coms
    if not confirm.empty:
        for (com, prio), g in confirm.groupby(["community", "priority"], sort=False):
            first = g.iloc[0]
            shares: list[dict[str, Any]] = []
            for o in options:
                r = g[g["option"] == o]
                if r.empty:
                    shares.append({"text": "-", "ci": "", "sub": "", "miss": False})
                    continue
                r = r.iloc[0]
                lo, hi = float(r["ci_low"]), float(r["ci_high"])
                shares.append(
                    {
                        "text": fmt_pct(float(r["within_target"]), 1),
                        "ci": f"{fmt_pct(max(0.0, lo), 1)} to {fmt_pct(min(1.0, hi), 1)}"
                        if math.isfinite(lo) and math.isfinite(hi)
                        else "",
                        "sub": f"lower bound {fmt_pct(float(r['lower_bound']), 1)}"
                        if math.isfinite(float(r["lower_bound"]))
                        else "too few calls to judge",
                        "miss": not _bool(r["met"]),
                    }
                )
            label = names.get(str(com), str(com))
            if len(set(confirm["priority"])) > 1:
                label += f" (priority {prio})"
            com_rows.append(
                {
                    "community": label,
                    "target": f"{fmt_pct(float(first['target_share']))} in "
                    f"{fmt_minutes(float(first['target_minutes']))}",
                    "cells": shares,
                }
            )
    return {
        "service": m.get("service_name", m.get("service", "")),
        "confidence": f"{100 * float(m.get('confidence', 0.95)):g} %",
        "which": "priority-1" if m.get("priorities", "first") == "first" else "every priority's",
        "replications": m.get("replications"),
        "confirm_replications": m.get("confirm_replications"),
        "placement": bool(m.get("placement")),
        "baseline": base,
        "findings": findings,
        "rows": rows,
        "options": options,
        "stations": station_rows,
        "communities": com_rows,
    }


# --- coalitions -------------------------------------------------------------------------------
def _game(root: Path, m: dict[str, Any]) -> dict[str, Any]:
    info = json.loads((root / "game.json").read_text(encoding="utf-8"))
    names: dict[str, str] = info["names"]
    players: list[str] = info["players"]
    cost = info["value"] == "cost"
    fmt = fmt_money if cost else (lambda v: f"{v:,.1f}")
    values = _read(root, "coalitions")
    alloc = _read(root, "allocations")
    stab = _read(root, "stability")
    methods = list(dict.fromkeys(alloc["method"]))

    def label(coalition: str) -> str:
        members = str(coalition).split("+")
        if len(members) == len(players):
            return "all communities"
        return " + ".join(names.get(x, x) for x in members)

    fast = bool(info.get("fast"))
    side = not fast and "amount_analytic" in alloc.columns  # the screening estimate beside
    rows = []
    for p in players:
        sub = alloc[alloc["community"] == p].set_index("method")
        rows.append(
            {
                "community": names.get(p, p),
                "alone": fmt(float(sub["stand_alone"].iloc[0])),
                "cells": [
                    {
                        "text": fmt(float(sub.loc[x, "amount"])),
                        "above": _bool(sub.loc[x, "above_stand_alone"]),
                    }
                    for x in methods
                ],
                "screening": fmt(float(sub.loc["shapley", "amount_analytic"]))
                if side and "shapley" in sub.index
                else "",
            }
        )
    alone_total = float(values[values["size"] == 1]["value"].sum())
    grand = float(info["grand_value"])
    stability = []
    for r in stab.itertuples():
        excess = float(r.excess)
        stability.append(
            {
                "method": METHOD_NAMES.get(r.method, r.method),
                "in_core": "yes" if _bool(r.in_core) else "no",
                "vclass": "better" if _bool(r.in_core) else "worse",
                "leaves": label(r.most_violated) if excess > 0 else "none",
                "saves": fmt(excess) if excess > 0 else "-",
                "above": ", ".join(
                    names.get(x.strip(), x.strip())
                    for x in str(r.above_stand_alone).split(",")
                    if x.strip() and x.strip() != "nan"
                )
                or "none",
            }
        )
    what = (
        "cost per year of the fleet it needs to meet its targets"
        if cost
        else "calls per year not reached within target with today's units"
    )
    how = (
        "Erlang C alone (--fast): a screening estimate, not a simulation. It leaves out travel "
        "between communities, time-of-day peaks and part-time units, so fleets and values can "
        "differ widely from a simulated run; simulate before deciding"
        if fast
        else f"simulation ({m.get('replications')} replications, common random numbers"
        + (", each coalition's fleet confirmed on fresh replications" if cost else "")
        + ")"
    )
    findings = [
        f"Pooling all {len(players)} communities: {fmt(grand)} against {fmt(alone_total)} for "
        f"each alone, a pooling gain of {fmt(alone_total - grand)}"
        + (f" ({fmt_pct((alone_total - grand) / alone_total)})." if alone_total > 0 else "."),
        (
            "The core is non-empty: some split leaves no group better off alone."
            if info["core_nonempty"]
            else f"The core is empty: every split leaves some group better off alone (least-core "
            f"epsilon {fmt(float(info['least_core_epsilon']))})."
        ),
    ]
    for r in stab.itertuples():
        name = METHOD_NAMES.get(r.method, r.method)
        if r.method == "nucleolus":
            continue
        if _bool(r.in_core):
            findings.append(f"{name}: stable, no group would leave.")
        else:
            findings.append(
                f"{name}: not stable; {label(r.most_violated)} would save "
                f"{fmt(float(r.excess))} by going it alone."
            )
    value_rows = []
    for r in values.itertuples():
        value_rows.append(
            {
                "coalition": label(r.coalition),
                "value": fmt(float(r.value)),
                "alone": fmt(float(r.stand_alone_sum)),
                "gain": fmt(float(r.gain)),
                "units": int(r.units),
                "status": str(r.status),
                "screening": f"{fmt(float(r.value_analytic))} ({int(r.units_analytic)} units)"
                if side and hasattr(r, "value_analytic")
                else "",
            }
        )
    if side and "value_analytic" in values.columns:
        whole = values[values["size"] == values["size"].max()].iloc[0]
        findings.append(
            f"Erlang C screening estimate of the grand coalition, for comparison: "
            f"{fmt(float(whole['value_analytic']))} with {int(whole['units_analytic'])} units, "
            f"against {fmt(grand)} with {int(whole['units'])} units simulated."
        )
    return {
        "service": m.get("service_name", m.get("service", "")),
        "method": f"The value of a coalition is the {what}, pooling only among its members; "
        f"computed by {how}. Allocations split the grand coalition's value.",
        "findings": findings,
        "methods": [METHOD_NAMES.get(x, x) for x in methods],
        "allocations": rows,
        "alone_total": fmt(alone_total),
        "grand": fmt(grand),
        "stability": stability,
        "coalition_rows": value_rows,
        "value_label": "Cost per year" if cost else "Missed calls per year",
        "simulated": not fast,
        "screening": fast,
        "side": side,
    }


# --- siting -----------------------------------------------------------------------------------
def _ci(row: Any, metric: str, fmt: Any) -> str:
    lo, hi = float(getattr(row, f"{metric}_ci_low")), float(getattr(row, f"{metric}_ci_high"))
    return f"{fmt(lo)} to {fmt(hi)}" if math.isfinite(lo) and math.isfinite(hi) else ""


def _pp(v: float) -> str:
    return f"{100 * v:+.1f} pp"


def _min(v: float) -> str:
    return f"{v:+.2f} min"


_VERDICT_CLASS = {"better": "better", "worse": "worse"}


def _siting_rows(table: pd.DataFrame, base: str) -> list[dict[str, Any]]:
    rows = []
    for r in table.itertuples():
        cells = []
        for metric, fmt, diff in (
            ("within_target", lambda v: fmt_pct(v, 1), _pp),
            ("mean_response", fmt_minutes, _min),
            ("p90_response", fmt_minutes, _min),
        ):
            verdict = str(getattr(r, f"{metric}_vs_today"))
            d = float(getattr(r, f"{metric}_diff"))
            cells.append(
                {
                    "text": fmt(float(getattr(r, metric))),
                    "ci": _ci(r, metric, fmt),
                    "diff": f"{diff(d)}: {verdict}" if r.placement != base else "",
                    "vclass": _VERDICT_CLASS.get(verdict, "ns"),
                }
            )
        rows.append(
            {
                "placement": r.placement,
                "today": r.placement == base,
                "chosen": _bool(r.chosen),
                "model": str(r.model),
                "stations": int(r.stations),
                "units": int(r.units),
                "objective": f"{float(r.model_objective):.4g}",
                "covered": fmt_pct(float(r.covered), 1),
                "status": str(r.status)
                + (f", gap {100 * float(r.gap):.2f} %" if str(r.status) == "time limit" else ""),
                "cells": cells,
            }
        )
    return rows


def _siting_stations(stations: pd.DataFrame, placements: list[str]) -> list[dict[str, Any]]:
    rows = []
    for (station, name), g in stations.groupby(["station", "name"], sort=False):
        cells = []
        for p in placements:
            r = g[g["placement"] == p]
            n = int(r["units"].iloc[0]) if not r.empty else 0
            change = int(r["change"].iloc[0]) if not r.empty else 0
            cells.append({"text": str(n) if n else "-", "sub": f"{change:+d}" if change else ""})
        new = _bool(g["new"].iloc[0])
        rows.append({"station": f"{name} ({station})" if new else str(name), "cells": cells})
    return rows


def _siting_costs(costs: pd.DataFrame, chosen: str, names: dict[str, str]) -> dict[str, Any]:
    c = costs[costs["placement"] == chosen]
    methods = list(dict.fromkeys(c["method"]))
    rows = []
    for com, g in c.groupby("community", sort=False):
        by = g.set_index("method")
        rows.append(
            {
                "community": names.get(str(com), str(com)),
                "cells": [
                    {
                        "text": fmt_money(float(by.loc[x, "amount"])),
                        "share": fmt_pct(float(by.loc[x, "share"]), 1),
                    }
                    for x in methods
                ],
            }
        )
    return {"methods": [METHOD_NAMES.get(x, x) for x in methods], "rows": rows}


def _siting(root: Path, m: dict[str, Any]) -> dict[str, Any]:
    names: dict[str, str] = m.get("names", {})
    info = json.loads((root / "siting.json").read_text(encoding="utf-8"))
    table = _read(root, "siting")
    base, chosen = str(info["base_option"]), str(info["chosen"])
    placements = list(table["placement"])
    coms = _read(root, "siting_communities")
    com_rows = []
    for com, g in coms.groupby("community", sort=False):
        by = g.set_index("placement")
        com_rows.append(
            {
                "community": names.get(str(com), str(com)),
                "cells": [
                    {
                        "covered": fmt_pct(float(by.loc[p, "covered"]), 1),
                        "text": fmt_pct(float(by.loc[p, "within_target"]), 1),
                        "ci": _ci(by.loc[p], "within_target", lambda v: fmt_pct(v, 1)).strip(),
                    }
                    for p in placements
                ],
            }
        )
    row = table.set_index("placement").loc[chosen]
    findings = []
    if chosen == base:
        findings.append(f"No placement of the model differs from today's ({base}).")
    else:
        findings.append(
            f"Chosen: {chosen} ({row['model']}), the best simulated {info['metric']}: "
            f"{row['sites']}."
        )
        findings.append(
            f"Against today's {base}, paired: share within target "
            f"{_pp(float(row['within_target_diff']))} ({row['within_target_vs_today']}), mean "
            f"response {_min(float(row['mean_response_diff']))} "
            f"({row['mean_response_vs_today']}), 90th percentile "
            f"{_min(float(row['p90_response_diff']))} ({row['p90_response_vs_today']})."
        )
    costs = _read(root, "siting_costs")
    rules = info["rules"]
    shown = [
        f"at most {rules['stations']} stations" if rules["stations"] else "",
        f"keep {', '.join(rules['keep'])}" if rules["keep"] else "",
        f"at most {rules['close_at_most']} of today's stations closed"
        if rules["close_at_most"] is not None
        else "",
        f"at most {rules['max_per_station']} units a station" if rules["max_per_station"] else "",
        ", ".join(
            f"{names.get(c, c)} covered at least {fmt_pct(v)}"
            for c, v in rules["min_coverage"].items()
        ),
    ]
    return {
        "service": m.get("service_name", m.get("service", "")),
        "objective": info["objective"],
        "metric": info["metric"],
        "priority": info["priority"],
        "units": info["units"],
        "candidates": info["candidates"],
        "new_sites": info["new_sites"],
        "zones": info["zones"],
        "busy": fmt_pct(float(info["busy_fraction"]), 1),
        "rules": "; ".join(x for x in shown if x) or "none",
        "replications": m.get("replications"),
        "base": base,
        "yaml": info.get("scenario_yaml"),
        "findings": findings,
        "rows": _siting_rows(table, base),
        "placements": placements,
        "stations": _siting_stations(_read(root, "siting_stations"), placements),
        "communities": com_rows,
        "costs": _siting_costs(costs, chosen, names) if not costs.empty else None,
        "chosen": chosen,
    }


_QUESTIONS = {"size": "Sizing", "coalitions": "Coalitions", "site": "Siting"}


def _part(root: Path, where: str = "") -> dict[str, Any]:
    m = _manifest(root) or {}
    question = m.get("question")
    footer = (
        f"{_QUESTIONS.get(str(question), 'Decision')}{where}: "
        f"{m.get('intersim_command', '')} (seed {m.get('seed', '?')}, scenario SHA-256 "
        f"{str(m.get('scenario_sha256', ''))[:12]}, {m.get('runtime_s', '?')} s)."
    )
    return {
        "sizing": _sizing(root, m) if question == "size" else None,
        "game": _game(root, m) if question == "coalitions" else None,
        "siting": _siting(root, m) if question == "site" else None,
        "figures": _figures(root),
        "footer": footer,
    }


def _heading(parts: list[dict[str, Any]]) -> str:
    """'Fleet sizing and coalitions', 'Siting', ...: what the parts hold."""
    kinds = [
        name
        for key, name in (("sizing", "fleet sizing"), ("game", "coalitions"), ("siting", "siting"))
        if any(p[key] for p in parts)
    ] or ["fleet sizing", "coalitions"]
    text = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
    return text[0].upper() + text[1:]


def _render(
    parts: list[dict[str, Any]],
    *,
    fragment: bool,
    title: str = "",
    description: str = "",
    warnings: list[str] | None = None,
) -> str:
    text = resources.files("sim.report").joinpath("templates", TEMPLATE).read_text(encoding="utf-8")
    return (
        _env()
        .from_string(text)
        .render(
            parts=parts,
            fragment=fragment,
            title=title,
            description=description,
            warnings=warnings or [],
            version=__version__,
            heading=_heading(parts),
        )
    )


def render_decision(root: Path) -> str:
    """The standalone page of one decision directory."""
    m = _manifest(root) or {}
    return _render(
        [_part(root)],
        fragment=False,
        title=m.get("name", "intersim"),
        description=m.get("description", ""),
        warnings=m.get("warnings", []),
    )


def report_fragment(root: Path) -> Markup:
    """The section of ``report.html`` for decision results in ``root`` or its subdirectories
    (empty when there are none, or when they cannot be read)."""
    try:
        parts = [
            _part(d, f" in {d.relative_to(root)}/" if d != Path(root) else "")
            for d in decision_dirs(Path(root))
        ]
        return Markup(_render(parts, fragment=True)) if parts else Markup("")
    except (OSError, ValueError, KeyError):
        return Markup("")
