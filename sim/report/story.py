"""The words of the HTML report: the scenario in brief and the findings at a glance."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from ..results.derived import biggest_gain
from ..results.display import fmt_durations, fmt_minutes, fmt_money, fmt_pct
from ..results.read import ALL, ResultData
from .tables import ci_text, fmt_diff


def scenario_brief(data: ResultData) -> dict[str, Any]:
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
def missed_targets(data: ResultData) -> dict[str, Any]:
    """Every community and priority below its response target under some option, worst first,
    with what each option gives it; and how many are below target under each option.

    A target is missed when the mean share within target over replications is below the
    target share (as the equity table marks it)."""
    summary = data.table("summary")
    w = summary[
        (summary["metric"] == "within_target")
        & (summary["community"] != ALL)
        & (summary["priority"] != ALL)
        & (summary["n"] > 0)
    ]
    calls = summary[summary["metric"] == "incidents"].set_index(
        ["service", "priority", "community", "option"]
    )["mean"]
    comp = data.table("comparison")
    comp = comp[comp["metric"] == "within_target"].set_index(
        ["service", "priority", "community", "option"]
    )
    base = data.baseline
    items: list[tuple[float, str]] = []
    checked = 0
    below = dict.fromkeys(data.options, 0)
    for (service, prio, com), g in w.groupby(["service", "priority", "community"], sort=False):
        target = data.target_of(service, int(prio), com)
        if target is None:
            continue
        checked += 1
        minutes, share = target
        vals = {o: float(v) for o, v in zip(g["option"], g["mean"], strict=True)}
        missing = [o for o in data.options if o in vals and vals[o] < share]
        for o in missing:
            below[o] += 1
        if not missing:
            continue
        n = calls.get((service, prio, com, base), math.nan)
        head = f"{data.community_name(com)}, {data.service_name(service)}, priority {prio}"
        if math.isfinite(n):
            head += f" ({_calls_a_run(n)})"
        parts = []
        for o in data.options:
            if o not in vals:
                continue
            state = "below target" if vals[o] < share else "meets it"
            if o == base:
                parts.append(
                    f"{fmt_pct(vals[o], 1)} within {fmt_minutes(minutes)} under {o} "
                    f"(target {fmt_pct(share)}{'' if vals[o] < share else ', met'})"
                )
                continue
            text = f"{o} {fmt_pct(vals[o], 1)}"
            if (service, prio, com, o) in comp.index:
                r = comp.loc[(service, prio, com, o)]
                text += f" ({fmt_diff('within_target', float(r['diff']))}, {r['verdict']}, {state})"
            else:
                text += f" ({state})"
            parts.append(text)
        worst = max(share - vals[o] for o in missing)
        items.append((worst, f"{head}: " + "; ".join(parts) + "."))
    items.sort(key=lambda t: -t[0])
    counts = ", ".join(
        f"under {o} {below[o] if below[o] else 'none'}" for o in data.options if o in below
    )
    if checked == 0:
        lead = "No community response targets are known for this result."
    elif not items:
        lead = (
            f"Every community meets every response target under every option ({checked} "
            "community and priority targets, by the mean share within target)."
        )
    else:
        lead = (
            f"Community and priority targets missed (of {checked}, by the mean share within "
            f"target): {counts}. Worst first:"
        )
    return {"lead": lead, "items": [text for _, text in items]}


def _calls_a_run(n: float) -> str:
    if n < 0.5:
        return "fewer than one call a run"
    return f"about {n:,.0f} call{'s' if round(n) != 1 else ''} a run"


def findings(data: ResultData) -> list[str]:
    """Findings after the targets: the largest cut of a 90th percentile, then the means (with
    the share never reached beside them), then the cost."""
    out = []
    base = data.baseline
    g = biggest_gain(data, "p90_response")
    if g is not None:
        before, after = fmt_durations(g["baseline_mean"], g["option_mean"])
        out.append(
            f"Largest cut of a 90th percentile: {g['option']} takes the "
            f"{data.service_name(g['service']).lower()} p90 from {before} to {after}."
        )
    comp = data.table("comparison")
    c = comp[
        (comp["community"] == ALL) & (comp["priority"] == ALL) & (comp["metric"] == "mean_response")
    ]
    unreached = _open_shares(data)
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
            out.append(text + _never(unreached, service, [base]) + ".")
            continue
        b = good.loc[good["diff"].idxmin()]
        mean, baseline = fmt_durations(b["option_mean"], b["baseline_mean"])
        out.append(
            f"{name}: {b['option']} gives the shortest mean response, "
            f"{mean} against {baseline} under {base} (difference "
            f"{fmt_diff('mean_response', float(b['diff']))}, 95 % CI "
            f"{ci_text(b, lambda v, d=float(b['diff']): fmt_diff('mean_response', v, d))})"
            + _never(unreached, service, [str(b["option"]), base])
            + "."
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


NEVER_SHOWN = 0.001  # shares never reached below this are not mentioned beside a mean


def _open_shares(data: ResultData) -> dict[tuple[str, str], float]:
    s = data.table("summary")
    s = s[(s["metric"] == "open_share") & (s["community"] == ALL) & (s["priority"] == ALL)]
    return {
        (str(sv), str(o)): float(v)
        for sv, o, v in zip(s["service"], s["option"], s["mean"], strict=True)
    }


def _never(shares: dict[tuple[str, str], float], service: str, options: list[str]) -> str:
    """'; never reached: 2.1 % under separate' for the options whose share is worth saying."""
    parts = [
        f"{fmt_pct(shares[(service, o)], 1)} under {o}"
        for o in dict.fromkeys(options)
        if shares.get((service, o), 0.0) >= NEVER_SHOWN
    ]
    return f"; never reached (left out of the means): {', '.join(parts)}" if parts else ""
