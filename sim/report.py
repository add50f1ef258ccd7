"""A single self-contained HTML report of a comparison, for planners to read and email.

Built from the result directory alone (tables, manifest, region.json and the figures in
``figures/``; figures missing there are drawn in memory): images are inlined as base64 PNG,
CSS is inline, nothing is fetched and no script runs.
"""

from __future__ import annotations

import base64
import math
import tempfile
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, StrictUndefined

from . import __version__
from .outputs import atomic_write_text
from .plots import FIGURES_DIR, FigureInfo, draw_figures, read_index
from .plots.costs import FORMULA_NAMES
from .plots.data import ALL, ResultData, load_result
from .plots.differences import biggest_gain
from .plots.style import fmt_duration, fmt_money, fmt_pct

__all__ = ["REPORT_FILE", "build_report", "render_report"]

REPORT_FILE = "report.html"
TEMPLATE = "report.html.j2"

# headline metric -> (label, lower is better, formatter)
HEADLINE = {
    "incidents": ("Calls", None, lambda v: f"{v:,.0f}"),
    "mean_response": ("Mean response", True, fmt_duration),
    "p90_response": ("90th percentile", True, fmt_duration),
    "within_target": ("Within target", False, lambda v: fmt_pct(v, 1)),
    "waited": ("Calls that waited", True, lambda v: fmt_pct(v, 1)),
    "mean_wait": ("Mean wait", True, fmt_duration),
}
VERDICT_METRICS = ("mean_response", "p90_response", "within_target", "waited")
EQUITY = {
    "worst_within_target": ("Worst community within target", lambda v: fmt_pct(v, 1)),
    "spread_within_target": ("Spread within target (max - min)", lambda v: fmt_pct(v, 1)),
    "spread_p90": ("Spread of p90 (max - min)", fmt_duration),
    "gini_p90": ("Gini of p90", lambda v: f"{v:.3f}"),
}
SECTIONS = {
    "differences": "verdicts",
    "response": "response",
    "equity": "equity",
    "units": "workload",
    "help": "workload",
    "map": "workload",
    "levels": "workload",
    "surge": "workload",
    "costs": "costs",
}


def build_report(result_dir: Path) -> Path:
    """Write ``result_dir/report.html`` (atomically) and return its path."""
    root = Path(result_dir)
    html = render_report(root)
    out = root / REPORT_FILE
    atomic_write_text(out, html)
    return out


def render_report(result_dir: Path) -> str:
    data = load_result(result_dir)
    figures = _figures(data.root)
    env = Environment(
        autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    text = resources.files("sim").joinpath("templates", TEMPLATE).read_text(encoding="utf-8")
    return env.from_string(text).render(**_context(data, figures))


# --- figures --------------------------------------------------------------------------------
def _inline(infos: list[FigureInfo]) -> list[dict[str, Any]]:
    from PIL import Image

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
    if infos is not None:
        return _inline(infos)
    with tempfile.TemporaryDirectory(prefix="intersim-figures-") as tmp:
        return _inline(draw_figures(root, Path(tmp)))


# --- tables ---------------------------------------------------------------------------------
def _ci(row: Any, fmt: Any, share: bool = False) -> str:
    """'lo to hi' of a row's confidence interval; a share's interval is clipped to 0-100 %."""
    lo, hi = float(row["ci_low"]), float(row["ci_high"])
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return ""
    if share:
        lo, hi = max(0.0, lo), min(1.0, hi)
    return f"{fmt(lo)} to {fmt(hi)}"


def _headline(data: ResultData) -> list[dict[str, Any]]:
    head = data.table("headline")
    metrics = [m for m in HEADLINE if m in head.columns]
    out = []
    for service in data.services:
        sub = head[head["service"] == service].set_index("option")
        opts = [o for o in data.options if o in sub.index]
        best: dict[str, set[str]] = {}
        for m in metrics:
            lower, fmt = HEADLINE[m][1], HEADLINE[m][2]
            vals = pd.to_numeric(sub.loc[opts, m], errors="coerce")
            if lower is None or len(opts) < 2 or vals.isna().all():
                continue
            shown = {o: fmt(float(vals[o])) for o in opts if pd.notna(vals[o])}
            if len(set(shown.values())) < 2:
                continue  # all equal as shown: no best
            target = fmt(float(vals.min() if lower else vals.max()))
            best[m] = {o for o, text in shown.items() if text == target}
        rows = []
        for o in opts:
            r = sub.loc[o]
            verdict = str(r.get("vs_baseline", "") or "")
            cells = [
                {
                    "text": HEADLINE[m][2](float(r[m])) if pd.notna(r[m]) else "-",
                    "best": o in best.get(m, set()),
                }
                for m in metrics
            ]
            rows.append(
                {"option": o, "cells": cells, "verdict": verdict, "vclass": _vclass(verdict)}
            )
        out.append({"service": data.service_name(service), "rows": rows})
    return [{"columns": [HEADLINE[m][0] for m in metrics], "services": out}]


def _vclass(verdict: str) -> str:
    return {"better": "better", "worse": "worse", "baseline": "base"}.get(verdict, "ns")


def _fmt_diff(metric: str, v: float, ref: float | None = None) -> str:
    """A difference: percentage points for shares, minutes or hours (chosen by ``ref``, the
    difference itself by default, so that a difference and its interval share one unit)."""
    if not math.isfinite(v):
        return "-"
    if metric in ("within_target", "waited"):
        return f"{100 * v:+.1f} pp"
    scale = abs(v if ref is None or not math.isfinite(ref) else ref)
    return f"{v:+.1f} min" if scale < 120 else f"{v / 60:+.1f} h"


def _verdicts(data: ResultData) -> dict[str, Any]:
    c = data.table("comparison")
    c = c[(c["community"] == ALL) & (c["priority"] == ALL) & c["metric"].isin(VERDICT_METRICS)]
    metrics = [m for m in VERDICT_METRICS if (c["metric"] == m).any()]
    services = []
    for service in data.services:
        rows = []
        for opt in data.options:
            sub = c[(c["service"] == service) & (c["option"] == opt)].set_index("metric")
            if sub.empty:
                continue
            cells = []
            for m in metrics:
                if m not in sub.index:
                    cells.append({"text": "-", "ci": "", "verdict": "", "vclass": "ns"})
                    continue
                r = sub.loc[m]
                cells.append(
                    {
                        "text": _fmt_diff(m, float(r["diff"])),
                        "ci": _ci(r, lambda v, m=m, d=float(r["diff"]): _fmt_diff(m, v, d)),
                        "verdict": str(r["verdict"]),
                        "vclass": _vclass(str(r["verdict"])),
                    }
                )
            rows.append({"option": opt, "cells": cells})
        if rows:
            services.append({"service": data.service_name(service), "rows": rows})
    return {"columns": [HEADLINE[m][0] for m in metrics], "services": services}


def _estimate(data: ResultData) -> list[dict[str, Any]]:
    est = data.table("estimate")
    est = est[est["community"] == ALL]
    summary = data.table("summary")
    waited = summary[
        (summary["community"] == ALL)
        & (summary["priority"] == ALL)
        & (summary["metric"] == "waited")
    ]
    waited = waited.set_index(["service", "option"])
    rows = []
    for service in data.services:
        for opt in data.options:
            e = est[(est["service"] == service) & (est["option"] == opt)]
            if e.empty:
                continue
            policy = str(e["policy"].iloc[0])
            fleet = "pooled" if policy == "pooled" else "separate"
            r = e[e["fleet"] == fleet]
            if r.empty:
                continue
            r = r.iloc[0]
            sim = waited.loc[(service, opt)] if (service, opt) in waited.index else None
            p_wait = float(r["p_wait"])
            sim_v = float(sim["mean"]) if sim is not None else math.nan
            rows.append(
                {
                    "service": data.service_name(service),
                    "option": opt,
                    "policy": policy,
                    "model": "one pooled M/M/c"
                    if fleet == "pooled"
                    else "separate M/M/c per community",
                    "utilisation": fmt_pct(float(r["utilisation"]), 1),
                    "p_wait": fmt_pct(p_wait, 1),
                    "waited": fmt_pct(sim_v, 1),
                    "waited_ci": _ci(sim, lambda v: fmt_pct(v, 1), share=True)
                    if sim is not None
                    else "",
                    "gap": f"{100 * (sim_v - p_wait):+.1f} pp"
                    if math.isfinite(sim_v) and math.isfinite(p_wait)
                    else "-",
                }
            )
    return rows


def _equity(data: ResultData) -> list[dict[str, Any]]:
    """Per service (most urgent priority with a target): within target per community and
    option, then the equity measures across communities; columns are the options."""
    eq = data.table("equity")
    summary = data.table("summary")
    out = []
    for service in data.services:
        prio = data.urgent_priority(service)
        if prio is None:
            continue
        w = summary[
            (summary["service"] == service)
            & (summary["priority"] == prio)
            & (summary["metric"] == "within_target")
            & (summary["community"] != ALL)
        ]
        per_com = []
        for com in data.communities:
            cw = w[w["community"] == com].set_index("option")
            if cw.empty:
                continue
            share = data.target_share(service, int(prio), com)
            cells = []
            for opt in data.options:
                v = float(cw.loc[opt, "mean"]) if opt in cw.index else math.nan
                cells.append(
                    {
                        "text": fmt_pct(v, 1),
                        "ci": "",
                        "miss": share is not None and math.isfinite(v) and v < share,
                    }
                )
            per_com.append(
                {
                    "label": data.community_name(com),
                    "target": fmt_pct(share) if share is not None else "-",
                    "cells": cells,
                }
            )
        sub = eq[(eq["service"] == service) & (eq["priority"] == prio)]
        measures = []
        for m, (label, fmt) in EQUITY.items():
            cells = []
            for opt in data.options:
                o = sub[(sub["option"] == opt) & (sub["metric"] == m)]
                if not o.empty and pd.notna(o["mean"].iloc[0]):
                    r = o.iloc[0]
                    ci = _ci(r, fmt, share=m.endswith("within_target"))
                    cells.append({"text": fmt(float(r["mean"])), "ci": ci, "miss": False})
                else:
                    cells.append({"text": "-", "ci": "", "miss": False})
            measures.append({"label": label, "target": "", "cells": cells})
        out.append(
            {
                "service": data.service_name(service),
                "priority": prio,
                "per_community": per_com,
                "measures": measures,
            }
        )
    return out


def _costs(data: ResultData) -> dict[str, Any]:
    costs = data.table("costs")
    rows = []
    totals = {o: 0.0 for o in data.options}
    for service in data.services:
        sub = costs[(costs["service"] == service) & (costs["metric"] == "cost")].set_index("option")
        per_inc = costs[
            (costs["service"] == service) & (costs["metric"] == "cost_per_incident")
        ].set_index("option")
        cells = []
        for o in data.options:
            v = float(sub.loc[o, "mean"]) if o in sub.index else math.nan
            pi = float(per_inc.loc[o, "mean"]) if o in per_inc.index else math.nan
            totals[o] += v if math.isfinite(v) else 0.0
            cells.append(
                {
                    "text": fmt_money(v),
                    "sub": f"{fmt_money(pi)} per call" if math.isfinite(pi) else "",
                }
            )
        rows.append({"service": data.service_name(service), "cells": cells})
    pop = sum(data.population().values())
    total = [
        {"text": fmt_money(totals[o]), "sub": f"{totals[o] / pop:,.0f} per resident" if pop else ""}
        for o in data.options
    ]
    shares = data.table("shares")
    formulas = [f for f in FORMULA_NAMES if (shares["formula"] == f).any()]
    sharing = []
    for opt in data.options:
        s = shares[shares["option"] == opt]
        if s.empty:
            continue
        table = []
        for com in data.communities:
            cs = s[s["community"] == com].set_index("formula")
            table.append(
                {
                    "community": data.community_name(com),
                    "cells": [
                        fmt_money(float(cs.loc[f, "mean"])) if f in cs.index else "-"
                        for f in formulas
                    ],
                }
            )
        sharing.append({"option": opt, "rows": table})
    return {
        "rows": rows,
        "total": total,
        "formulas": [FORMULA_NAMES[f] for f in formulas],
        "sharing": sharing,
    }


# --- scenario in brief ------------------------------------------------------------------------
def _scenario(data: ResultData) -> dict[str, Any]:
    region = data.region or {}
    coms = [
        {
            "name": c["name"],
            "id": c["id"],
            "population": f"{c['population']:,}",
            "zone": c.get("zone", ""),
            "location": _loc_text(c.get("location")),
        }
        for c in region.get("communities", [])
    ]
    units = data.table("unit_summary")
    units = units[units["metric"] == "busy_fraction"]
    counts = units.groupby(["service", "option"])["unit"].nunique()
    fleet = []
    for service in data.services:
        cells = []
        for o in data.options:
            n = int(counts.get((service, o), 0))
            part = _part_time(region, o, service)
            cells.append(f"{n}" + (f" ({part} part-time)" if part else ""))
        fleet.append({"service": data.service_name(service), "cells": cells})
    options = []
    for o in data.options:
        spec = next((x for x in region.get("options", []) if x["id"] == o), None)
        options.append(
            {
                "id": o,
                "baseline": o == data.baseline,
                "description": spec["description"] if spec else "",
                "dispatch": _dispatch_text(data, spec["dispatch"]) if spec else "",
                "changes": _unit_changes(data, region, o) if spec else [],
            }
        )
    return {"communities": coms, "fleet": fleet, "options": options}


def _loc_text(loc: dict[str, float] | None) -> str:
    if not loc:
        return "-"
    if "x" in loc:
        return f"{loc['x']:g}, {loc['y']:g} km"
    return f"{loc['lat']:.4f}, {loc['lon']:.4f}"


def _part_time(region: dict[str, Any], option: str, service: str) -> int:
    spec = next((x for x in region.get("options", []) if x["id"] == option), None)
    if not spec:
        return 0
    return sum(u["count"] for u in spec["units"] if u["service"] == service and u["duty"] != "24/7")


def _dispatch_text(data: ResultData, dispatch: dict[str, str]) -> str:
    by: dict[str, list[str]] = {}
    for service, policy in dispatch.items():
        by.setdefault(policy, []).append(data.service_name(service))
    if len(by) == 1:
        return f"{next(iter(by))} for every service"
    return "; ".join(f"{p}: {', '.join(s)}" for p, s in by.items())


def _unit_changes(data: ResultData, region: dict[str, Any], option: str) -> list[str]:
    """Units an option places differently from the baseline, e.g. '+1 Ambulance at Hub'."""

    def counter(o: str) -> Counter[tuple[str, str, str]]:
        spec = next((x for x in region.get("options", []) if x["id"] == o), None)
        c: Counter[tuple[str, str, str]] = Counter()
        for u in (spec or {}).get("units", []):
            c[(u["service"], u["station"], u["owner"])] += u["count"]
        return c

    if option == data.baseline:
        return []
    mine, base = counter(option), counter(data.baseline)
    out = []
    for key in sorted(set(mine) | set(base)):
        d = mine[key] - base[key]
        if d:
            service, station, owner = key
            whose = "" if owner == station else f" (owned by {data.community_name(owner)})"
            out.append(
                f"{d:+d} {data.service_name(service)} at "
                f"{data.station_name(station, short=True)}{whose}"
            )
    return out


# --- summary sentences ------------------------------------------------------------------------
def _findings(data: ResultData) -> list[str]:
    out = []
    comp = data.table("comparison")
    c = comp[
        (comp["community"] == ALL) & (comp["priority"] == ALL) & (comp["metric"] == "mean_response")
    ]
    base = data.baseline
    for service in data.services:
        sub = c[c["service"] == service]
        if sub.empty:
            continue
        name = data.service_name(service)
        good = sub[sub["verdict"] == "better"]
        if good.empty:
            bad = sub[sub["verdict"] == "worse"]
            text = f"{name}: no option gives a significantly shorter mean response than {base}"
            if not bad.empty:
                text += f"; {', '.join(bad['option'])} significantly longer"
            out.append(text + ".")
            continue
        b = good.loc[good["diff"].idxmin()]
        out.append(
            f"{name}: {b['option']} gives the shortest mean response, "
            f"{fmt_duration(b['option_mean'])} "
            f"against {fmt_duration(b['baseline_mean'])} under {base} (difference "
            f"{_fmt_diff('mean_response', float(b['diff']))}, 95 % CI "
            f"{_ci(b, lambda v, d=float(b['diff']): _fmt_diff('mean_response', v, d))})."
        )
    g = biggest_gain(data, "p90_response")
    if g is not None:
        out.append(
            f"Largest cut of a 90th percentile: {g['option']} takes the "
            f"{data.service_name(g['service']).lower()} p90 from "
            f"{fmt_duration(g['baseline_mean'])} "
            f"to {fmt_duration(g['option_mean'])}."
        )
    costs = data.table("costs")
    total = costs[costs["metric"] == "cost"].groupby("option")["mean"].sum()
    if base in total.index and len(total) > 1:
        diffs = {o: total[o] - total[base] for o in data.options if o in total.index and o != base}
        if all(abs(d) <= 0.005 * abs(total[base]) for d in diffs.values()):
            out.append(
                f"Total cost is about the same under every option ({fmt_money(total[base])} a run)."
            )
        else:
            parts = [f"{o} {'+' if d >= 0 else '-'}{fmt_money(abs(d))}" for o, d in diffs.items()]
            out.append(
                f"Total cost against {base} ({fmt_money(total[base])} a run): {', '.join(parts)}."
            )
    return out


def _context(data: ResultData, figures: list[dict[str, Any]]) -> dict[str, Any]:
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
        "findings": _findings(data),
        "warnings": [str(w) for w in m.get("warnings", [])],
        "notes": notes,
        "scenario": _scenario(data),
        "headline": _headline(data)[0],
        "verdicts": _verdicts(data),
        "estimate": _estimate(data),
        "equity": _equity(data),
        "costs": _costs(data),
        "figures": figures,
        "precision_reached": m.get("precision_reached"),
        # --- fleet sizing and coalitions (sim.decide): optional section ---
        "decision": _decision_section(data.root),
        # --- end of fleet sizing and coalitions ---
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


# --- fleet sizing and coalitions (sim.decide): optional section ---
def _decision_section(root: Path) -> Any:
    """Sizing and coalition results written in ``root`` or a subdirectory, as an escaped HTML
    section (empty when there are none)."""
    from .decide.html import report_fragment

    return report_fragment(root)


# --- end of fleet sizing and coalitions ---
