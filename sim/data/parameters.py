"""Estimates from a cleaned log: demand rates, daily and weekly profiles, durations of every
stage, transports, travel times, units.

Everything here is a plain number with its uncertainty (a count and its Poisson interval, a
proportion and its Clopper-Pearson interval, a fitted distribution and its parameter intervals)
and a note on how it was obtained; :mod:`sim.data.calibrate` writes them into a scenario.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .communities import Community, Resolver, make_id
from .fitting import DurationFit, fit_durations
from .log import Log, minutes_between

__all__ = [
    "MIN_PROFILE",
    "SEGMENTS",
    "Segment",
    "ServiceEstimate",
    "TypeEstimate",
    "Window",
    "build_services",
    "build_types",
    "classify",
    "durations",
    "estimate_segments",
    "estimate_transport",
    "estimate_units",
    "hour_day_counts",
    "poisson_ci",
    "proportion_ci",
    "units_needed",
    "window",
]

MIN_PROFILE = 100  # calls of a service needed to fit its daily and weekly profile
SEGMENTS = ("call_handling", "turnout", "on_scene", "handover")
SEGMENT_STAGES = {
    "call_handling": ("call_time", "call_processed"),
    "turnout": ("dispatched", "en_route"),
    "on_scene": ("on_scene", "left_scene"),
    "handover": ("at_hospital", "clear"),
}


def poisson_ci(n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) interval of a Poisson mean from a count ``n``."""
    a = (1 - level) / 2
    lo = 0.0 if n == 0 else float(stats.chi2.ppf(a, 2 * n) / 2)
    return lo, float(stats.chi2.ppf(1 - a, 2 * n + 2) / 2)


def proportion_ci(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of a proportion ``k / n``."""
    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a, k + 1, n - k))
    return lo, hi


@dataclass(frozen=True)
class Window:
    """The observation period: whole local days from the first call's to the last call's."""

    first_day: pd.Timestamp
    days: int
    weekdays: np.ndarray  # (7,) days of each weekday in the window, Monday first
    origin: pd.Timestamp  # local Monday 00:00 on or before the first day (replay's time 0)

    @property
    def years(self) -> float:
        return self.days / 365.0

    @property
    def horizon_days(self) -> int:
        return int((self.first_day - self.origin).days) + self.days


def window(log: Log) -> Window:
    local = log.incidents["call_local"]
    first = local.min().normalize()
    last = local.max().normalize()
    days = int((last - first).days) + 1
    dates = pd.date_range(first, periods=days, freq="D")
    weekdays = np.bincount(dates.day_of_week, minlength=7)
    origin = first - pd.Timedelta(days=int(first.weekday()))
    return Window(first, days, weekdays, origin)


def _priority(values: pd.Series) -> tuple[pd.Series, str]:
    """Priorities 1-9 from the log's text: the first number in it (P1, 2, Cat 3), or else
    the rank of the value among the log's values."""
    text = values.astype("string")
    digits = pd.to_numeric(text.str.extract(r"(\d+)", expand=False), errors="coerce")
    if digits.notna().sum() >= text.notna().sum() and text.notna().any():
        return digits.clip(1, 9).astype("Int64"), ""
    ranks = {v: i + 1 for i, v in enumerate(sorted(text.dropna().unique()))}
    note = "priorities are not numbers: ranked " + ", ".join(
        f"{v} -> {r}" for v, r in list(ranks.items())[:9]
    )
    return text.map(ranks).clip(1, 9).astype("Int64"), note


@dataclass
class TypeEstimate:
    id: str
    label: str
    service: str
    priority: int
    counts: dict[str, int]  # community id -> incidents
    units_needed: int = 1
    segments: dict[str, Segment] = field(default_factory=dict)
    transport: tuple[int, int] | None = None  # (transported, incidents known) or None
    facility: str | None = None


@dataclass
class Segment:
    """The distribution written for one stage of one incident type, and how it was found."""

    name: str
    fit: DurationFit
    level: str  # "type", "fixed" (all equal), "service" (pooled over the service's types),
    # "median" (too few: their median), "none" (no observations)
    spec: dict[str, object] | None
    note: str
    missing: int  # incidents of the type without this duration


@dataclass
class ServiceEstimate:
    id: str
    label: str
    calls: int
    hours: np.ndarray  # (24,) calls by local hour of day
    days: np.ndarray  # (7,) calls by local weekday, Monday first
    units: dict[str, int] = field(default_factory=dict)  # home community -> distinct units
    units_note: str = ""
    cross_border: float | None = None  # share of first units from another community


def classify(log: Log, notes: list[str]) -> pd.DataFrame:
    """Each incident's type id, type label, service id and priority."""
    inc = log.incidents
    has = lambda c: c in inc.columns and inc[c].notna().any()  # noqa: E731
    prio, pnote = _priority(inc["priority"]) if has("priority") else (None, "")
    if pnote:
        notes.append(pnote)
    service = inc["service"].fillna("unknown") if has("service") else None
    if has("incident_type"):
        label = inc["incident_type"].fillna("unspecified")
    elif service is not None and prio is not None:
        label = service + " P" + prio.astype("string").fillna("?")
    elif service is not None:
        label = service.copy()
    elif prio is not None:
        label = "P" + prio.astype("string").fillna("?")
    else:
        label = pd.Series("incident", index=inc.index)
    taken: set[str] = set()
    ids = {v: make_id(v, "t", taken) for v in label.value_counts().index}
    out = pd.DataFrame({"type": label.map(ids), "label": label}, index=inc.index)
    if service is None:
        notes.append("no service column: all incidents belong to one service, 'service'")
        service = pd.Series("service", index=inc.index)
    staken: set[str] = set()
    sids = {v: make_id(v, "s", staken) for v in service.value_counts().index}
    out["service"] = service.map(sids)
    out["service_label"] = service
    out["priority"] = prio.fillna(1).astype(int) if prio is not None else 1
    # one service and one priority per type: the most common
    for col in ("service", "service_label", "priority"):
        out[col] = out.groupby("type")[col].transform(lambda s: s.mode().iloc[0])
    return out


def durations(log: Log, segment: str) -> tuple[np.ndarray, str]:
    """Minutes of ``segment`` for every incident (NaN where unknown), and a note on the source."""
    inc = log.incidents
    start, end = SEGMENT_STAGES[segment]
    note = ""
    if segment == "call_handling" and "call_processed" not in log.stages:
        end = "dispatched"
        note = (
            "no call-processed times: call handling is measured from the call to the first "
            "dispatch, which includes any wait for a free unit (an upper bound)"
        )
    if start not in log.stages or end not in log.stages:
        missing = [s for s in (start, end) if s not in log.stages]
        return np.full(len(inc), np.nan), f"no {' and '.join(missing)} column in the log"
    return minutes_between(inc[end], inc[start]), note


def _segment(
    name: str, values: np.ndarray, pooled: np.ndarray, service: str, source: str
) -> Segment:
    own = fit_durations(values)
    missing = int(np.sum(~np.isfinite(values)))
    note = source
    if own.best is not None:
        return Segment(name, own, "type", own.best.spec(), note, missing)
    if own.constant:
        spec = {"dist": "fixed", "value": round(float(own.values[0]), 4)}
        return Segment(name, own, "fixed", spec, _join(note, own.problem), missing)
    pool = fit_durations(pooled)
    if pool.best is not None:
        why = f"{own.problem}: fitted to all {pool.n} of service {service}"
        return Segment(name, pool, "service", pool.best.spec(), _join(note, why), missing)
    if own.n:
        median = float(np.median(own.values))
        why = f"{own.problem}: the median written as a fixed time [assumption]"
        spec = {"dist": "fixed", "value": round(median, 3)}
        return Segment(name, own, "median", spec, _join(note, why), missing)
    why = own.problem if not source.startswith("no ") else ""
    return Segment(name, own, "none", None, _join(note, why or "no observations"), missing)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def estimate_segments(log: Log, kinds: pd.DataFrame, types: dict[str, TypeEstimate]) -> None:
    """Fit every stage of every type, pooling over the service when a type has too few."""
    for seg in SEGMENTS:
        values, source = durations(log, seg)
        for tid, t in types.items():
            mine = (kinds["type"] == tid).to_numpy()
            pooled = (kinds["service"] == t.service).to_numpy()
            if seg == "handover" and not (t.transport and t.transport[0]):
                continue
            t.segments[seg] = _segment(seg, values[mine], values[pooled], t.service, source)


def estimate_transport(
    log: Log,
    kinds: pd.DataFrame,
    types: dict[str, TypeEstimate],
    problems: list[str],
    notes: list[str],
) -> dict[str, str]:
    """Transport share per type and the facilities (id -> community); ``problems`` says what
    is missing, ``notes`` what was inferred."""
    inc = log.incidents
    if "at_hospital" not in log.stages:
        problems.append("no hospital-arrival column (at_hospital): no transports")
        return {}
    done = inc["at_hospital"].notna()
    for c in ("clear", "left_scene"):
        if c in inc:
            done = done | inc[c].notna()
    moved = inc["at_hospital"].notna()
    dest = inc["destination"] if "destination" in inc else pd.Series(None, index=inc.index)
    dest = dest.where(dest.notna(), "hospital").where(moved, None)  # unnamed: "hospital"
    taken: set[str] = set(log.incidents["community"].unique())
    fac_ids = {v: make_id(v, "f", taken) for v in dest.dropna().value_counts().index}
    for tid, t in types.items():
        mine = (kinds["type"] == tid) & done
        t.transport = (int((mine & moved).sum()), int(mine.sum()))
        if t.transport[0]:
            t.facility = fac_ids[dest[mine & moved].mode().iloc[0]]
    transport_time = pd.Series(
        minutes_between(inc["at_hospital"], inc["left_scene"]) if "left_scene" in inc else np.nan,
        index=inc.index,
    )
    resolver = Resolver(log.communities)
    out = {}
    for value, fid in fac_ids.items():
        named = resolver.names(pd.Series([value])).iloc[0]
        going = dest == value
        times = pd.DataFrame({"c": inc["community"][going], "t": transport_time[going]}).dropna()
        medians = times.groupby("c")["t"].agg(["median", "size"])
        medians = medians[medians["size"] >= 3]
        if named is not None:
            out[fid] = named
        elif len(medians):
            out[fid] = str(medians["median"].idxmin())
            notes.append(
                f"facility {fid}: placed in {out[fid]}, the community with the "
                "shortest transports to it [inferred]"
            )
        else:
            out[fid] = str(inc["community"][going].mode().iloc[0])
            notes.append(
                f"facility {fid}: placed in {out[fid]}, where most of its transports "
                "start [assumption]"
            )
    return out


def units_needed(log: Log, kinds: pd.DataFrame, types: dict[str, TypeEstimate]) -> None:
    if "units" not in log.incidents:
        return
    units = log.incidents["units"]
    for tid, t in types.items():
        n = units[(kinds["type"] == tid)].dropna()
        if len(n):
            t.units_needed = int(max(1, min(50, n.mode().iloc[0])))


def estimate_units(
    log: Log, kinds: pd.DataFrame, services: dict[str, ServiceEstimate], notes: list[str]
) -> None:
    """Distinct unit ids per service and home community (the home inferred where missing)."""
    inc = log.incidents
    resp = log.responses
    if "unit_id" not in resp or resp["unit_id"].notna().sum() == 0:
        for s in services.values():
            s.units_note = "no unit ids in the log"
        return
    resolver = Resolver(log.communities)
    svc_of = pd.Series(kinds["service"].to_numpy(), index=inc["incident_id"])
    r = resp.dropna(subset=["unit_id"]).copy()
    r["svc"] = r["incident_id"].map(svc_of)
    r = r.dropna(subset=["svc"])
    home = resolver.names(r["unit_home"]) if "unit_home" in r else pd.Series(None, index=r.index)
    r["home"] = home
    per_unit = r.groupby("unit_id").agg(
        svc=("svc", lambda s: s.mode().iloc[0]),
        home=("home", lambda s: s.mode().iloc[0] if s.notna().any() else None),
        where=("community", lambda s: s.mode().iloc[0]),
    )
    inferred = per_unit["home"].isna()
    if inferred.any():
        notes.append(
            f"{int(inferred.sum())} unit(s) without a known home community: placed "
            "where they responded most often [inferred]"
        )
        per_unit.loc[inferred, "home"] = per_unit.loc[inferred, "where"]
    for sid, s in services.items():
        mine = per_unit[per_unit["svc"] == sid]
        s.units = {str(k): int(v) for k, v in Counter(mine["home"]).items()}
        s.units_note = f"{len(mine)} distinct unit id(s) in the log, counted by home community" + (
            " (some homes inferred)" if inferred[mine.index].any() else ""
        )
        first = r.merge(inc[["incident_id", "unit_id"]], on=["incident_id", "unit_id"])
        first = first[first["svc"] == sid]
        known = first["home"].notna()
        if known.any():
            s.cross_border = float((first["home"][known] != first["community"][known]).mean())


def hour_day_counts(local: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.bincount(local.dt.hour, minlength=24).astype(float),
        np.bincount(local.dt.day_of_week, minlength=7).astype(float),
    )


def build_types(
    log: Log, kinds: pd.DataFrame, communities: list[Community]
) -> dict[str, TypeEstimate]:
    out = {}
    for tid, part in kinds.groupby("type", sort=False):
        counts = Counter(log.incidents.loc[part.index, "community"])
        out[str(tid)] = TypeEstimate(
            str(tid),
            str(part["label"].iloc[0]),
            str(part["service"].iloc[0]),
            int(part["priority"].iloc[0]),
            {c.id: int(counts.get(c.id, 0)) for c in communities},
        )
    return dict(sorted(out.items(), key=lambda kv: (kv[1].service, kv[1].priority, kv[0])))


def build_services(log: Log, kinds: pd.DataFrame) -> dict[str, ServiceEstimate]:
    out = {}
    for sid, part in kinds.groupby("service", sort=True):
        hours, days = hour_day_counts(log.incidents.loc[part.index, "call_local"])
        out[str(sid)] = ServiceEstimate(
            str(sid), str(part["service_label"].iloc[0]), len(part), hours, days
        )
    return out
