"""The tables of the HTML report: headline with the best option marked, verdicts with paired
intervals, the analytic estimate beside the simulation, equity, cost and cost sharing."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..analysis.erlang import GAP, large_gap, queue_model
from ..results.derived import FORMULA_NAMES, within_target_table
from ..results.display import fmt_duration, fmt_money, fmt_pct
from ..results.read import ALL, ResultData

# headline metric -> (label, lower is better, formatter); shares and fractiles before means
HEADLINE = {
    "incidents": ("Calls", None, lambda v: f"{v:,.0f}"),
    "within_target": ("Within target", False, lambda v: fmt_pct(v, 1)),
    "p90_response": ("90th percentile", True, fmt_duration),
    "mean_response": ("Mean response", True, fmt_duration),
    "open_share": ("Never reached", True, lambda v: fmt_pct(v, 1)),
    "waited": ("Calls that waited", True, lambda v: fmt_pct(v, 1)),
    "mean_wait": ("Mean wait", True, fmt_duration),
}
HEADLINE_VERDICTS = {
    "within_target_vs_baseline": "Within target vs {base}",
    "vs_baseline": "Mean response vs {base}",
}
VERDICT_METRICS = ("within_target", "p90_response", "mean_response", "open_share", "waited")
EQUITY = {
    "worst_within_target": ("Worst community within target", lambda v: fmt_pct(v, 1)),
    "spread_within_target": ("Spread within target (max - min)", lambda v: fmt_pct(v, 1)),
    "spread_p90": ("Spread of p90 (max - min)", fmt_duration),
    "gini_p90": ("Gini of p90", lambda v: f"{v:.3f}"),
}


def ci_text(row: Any, fmt: Any, share: bool = False) -> str:
    """'lo to hi' of a row's confidence interval; a share's interval is clipped to 0-100 %."""
    lo, hi = float(row["ci_low"]), float(row["ci_high"])
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return ""
    if share:
        lo, hi = max(0.0, lo), min(1.0, hi)
    return f"{fmt(lo)} to {fmt(hi)}"


def headline_rows(data: ResultData) -> dict[str, Any]:
    """Per service: all priorities, then every priority with a target; the best option per
    measure marked (by its mean, as shown), and the verdicts against the baseline."""
    head = data.table("headline")
    if "priority" not in head.columns:  # written before per-priority rows
        head = head.assign(priority=ALL)
    metrics = [m for m in HEADLINE if m in head.columns]
    verdicts = [v for v in HEADLINE_VERDICTS if v in head.columns]
    groups = []
    for service in data.services:
        sub = head[head["service"] == service]
        prios = sorted(set(sub["priority"]), key=lambda p: -1 if p == ALL else int(p))
        for prio in prios:
            indexed = sub[sub["priority"] == prio].set_index("option")
            rows = _headline_group(data, indexed, metrics)
            for r in rows:
                texts = [_text(indexed.loc[r["option"], v]) for v in verdicts]
                r["verdicts"] = [{"text": t, "vclass": _vclass(t)} for t in texts]
            name = data.service_name(service)
            label = f"{name}, all priorities" if prio == ALL else f"{name}, priority {prio}"
            groups.append({"service": label, "rows": rows})
    columns = [HEADLINE[m][0] for m in metrics]
    return {
        "columns": columns,
        "verdicts": [HEADLINE_VERDICTS[v].format(base=data.baseline) for v in verdicts],
        "services": groups,
        "width": len(columns) + len(verdicts) + 1,
    }


def _headline_group(
    data: ResultData, sub: pd.DataFrame, metrics: list[str]
) -> list[dict[str, Any]]:
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
        cells = [
            {
                "text": HEADLINE[m][2](float(r[m])) if pd.notna(r[m]) else "-",
                "best": o in best.get(m, set()),
            }
            for m in metrics
        ]
        rows.append({"option": o, "cells": cells})
    return rows


def _text(value: Any) -> str:
    return "" if pd.isna(value) else str(value)


def _vclass(verdict: str) -> str:
    classes = {"better": "better", "worse": "worse", "baseline": "base", "equivalent": "eq"}
    return classes.get(verdict, "ns")


def fmt_diff(metric: str, v: float, ref: float | None = None) -> str:
    """A difference: percentage points for shares, minutes or hours (chosen by ``ref``, the
    difference itself by default, so that a difference and its interval share one unit)."""
    if not math.isfinite(v):
        return "-"
    if metric in ("within_target", "waited", "open_share"):
        return f"{100 * v:+.1f} pp"
    scale = abs(v if ref is None or not math.isfinite(ref) else ref)
    return f"{v:+.1f} min" if scale < 120 else f"{v / 60:+.1f} h"


def verdict_table(data: ResultData) -> dict[str, Any]:
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
                        "text": fmt_diff(m, float(r["diff"])),
                        "ci": ci_text(r, lambda v, m=m, d=float(r["diff"]): fmt_diff(m, v, d)),
                        "verdict": str(r["verdict"]),
                        "vclass": _vclass(str(r["verdict"])),
                    }
                )
            rows.append({"option": opt, "cells": cells})
        if rows:
            services.append({"service": data.service_name(service), "rows": rows})
    return {"columns": [HEADLINE[m][0] for m in metrics], "services": services}


def estimate_rows(data: ResultData) -> list[dict[str, Any]]:
    """The Erlang C estimate beside the simulated share that waited (all priorities), with the
    reasons the approximation may not apply and a flag where the two are far apart."""
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
            model = queue_model(policy)  # the fleet whose waiting the simulation measures
            r = e[e["fleet"] == model.wait.value]
            if r.empty:
                continue
            r = r.iloc[0]
            sim = waited.loc[(service, opt)] if (service, opt) in waited.index else None
            p_wait = float(r["p_wait"])
            sim_v = float(sim["mean"]) if sim is not None else math.nan
            lo = float(sim["ci_low"]) if sim is not None else math.nan
            hi = float(sim["ci_high"]) if sim is not None else math.nan
            notes = [c for c in str(r.get("caveats", "") or "").split("; ") if c and c != "nan"]
            flagged = large_gap(sim_v, lo, hi, p_wait)
            rows.append(
                {
                    "service": data.service_name(service),
                    "option": opt,
                    "policy": policy,
                    "model": model.description,
                    "utilisation": fmt_pct(float(r["utilisation"]), 1),
                    "p_wait": fmt_pct(p_wait, 1),
                    "waited": fmt_pct(sim_v, 1),
                    "waited_ci": ci_text(sim, lambda v: fmt_pct(v, 1), share=True)
                    if sim is not None
                    else "",
                    "gap": f"{100 * (sim_v - p_wait):+.1f} pp"
                    if math.isfinite(sim_v) and math.isfinite(p_wait)
                    else "-",
                    "flagged": flagged,
                    "flag": _gap_note(sim_v, p_wait, bool(notes)) if flagged else "",
                    "notes": notes,
                }
            )
    return rows


def _gap_note(simulated: float, estimated: float, reasons: bool) -> str:
    where = "see why below" if reasons else "none of the known reasons applies"
    return (
        f"Large gap: {fmt_pct(simulated, 1)} simulated against {fmt_pct(estimated, 1)} "
        f"estimated, more than {100 * GAP:.0f} pp apart and outside the simulated interval: do "
        f"not rely on the Erlang C figure here ({where})."
    )


def equity_rows(data: ResultData) -> list[dict[str, Any]]:
    """Per service (most urgent priority with a target): within target per community and
    option, then the equity measures across communities; columns are the options."""
    eq = data.table("equity")
    within = within_target_table(data)  # the rows the equity figure draws
    out = []
    for service in data.services:
        prio = data.urgent_priority(service)
        if prio is None:
            continue
        w = within[within["service"] == service]
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
                    ci = ci_text(r, fmt, share=m.endswith("within_target"))
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


def cost_tables(data: ResultData) -> dict[str, Any]:
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
