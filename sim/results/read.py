"""Reading a result directory of ``intersim compare`` for figures and the report.

Every figure is a function of the saved tables only, so that ``intersim plot DIR`` and
``intersim report DIR`` can redraw without simulating. A missing or unreadable directory or
table is an :class:`~sim.errors.InputError` naming the file.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..analysis.responses import HISTOGRAM_COLUMNS, response_counts, response_histogram
from ..analysis.surges import TIMELINE_COLUMNS, surge_counts, surge_timeline, surge_windows
from ..errors import InputError
from .region import REGION_FILE

__all__ = [
    "ALL",
    "INCIDENTS_FILE",
    "RESPONSES_FILE",
    "TABLES",
    "TIMELINE_FILE",
    "ResultData",
    "load_result",
]

INCIDENTS_FILE = "incidents.parquet"  # written only with --records
RESPONSES_FILE = "response_histogram.parquet"
TIMELINE_FILE = "surge_timeline.csv"

ALL = "all"
TABLES: dict[str, tuple[str, ...]] = {
    "summary": (
        "option",
        "service",
        "priority",
        "community",
        "metric",
        "mean",
        "n",
        "ci_low",
        "ci_high",
    ),
    "comparison": (
        "option",
        "service",
        "priority",
        "community",
        "metric",
        "option_mean",
        "baseline_mean",
        "diff",
        "n",
        "ci_low",
        "ci_high",
        "verdict",
    ),
    "unit_summary": (
        "option",
        "unit",
        "service",
        "station",
        "owner",
        "metric",
        "mean",
        "ci_low",
        "ci_high",
    ),
    "help": ("option", "service", "owner", "community", "mean", "ci_low", "ci_high"),
    "costs": ("option", "service", "metric", "mean", "ci_low", "ci_high"),
    "shares": ("option", "formula", "community", "mean", "ci_low", "ci_high"),
    "equity": ("option", "service", "priority", "metric", "mean", "ci_low", "ci_high"),
    "estimate": ("option", "service", "policy", "community", "fleet", "utilisation", "p_wait"),
    "levels": ("option", "service", "hour", "busy_units", "waiting_calls"),
    "headline": ("service", "option"),
}
INCIDENT_COLUMNS = (
    "replication",
    "option",
    "service",
    "priority",
    "community",
    "t_call",
    "t_ready",
    "t_dispatch",
    "response",
    "target",
    "met_target",
    "warmup",
)
_SUMMARY_DTYPES = {"option": str, "service": str, "community": str}
_TEXT = (
    "option",
    "service",
    "priority",
    "community",
    "metric",
    "unit",
    "station",
    "owner",
    "formula",
    "verdict",
    "policy",
    "fleet",
)


@dataclass
class ResultData:
    """A result directory, read lazily: tables, manifest and (if present) region.json."""

    root: Path
    manifest: dict[str, Any]
    region: dict[str, Any] | None
    _tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    # --- tables -------------------------------------------------------------------------
    def table(self, name: str) -> pd.DataFrame:
        if name not in self._tables:
            path = self.root / f"{name}.csv"
            try:
                df = pd.read_csv(
                    path,
                    dtype={c: str for c in _TEXT},
                    keep_default_na=False,
                    na_values=[""],
                )
            except (OSError, ValueError, pd.errors.ParserError) as exc:
                raise InputError(f"{path}: cannot read: {exc}") from None
            missing = [c for c in TABLES.get(name, ()) if c not in df.columns]
            if missing:
                raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
            self._tables[name] = df
        return self._tables[name]

    @property
    def has_records(self) -> bool:
        """Whether the per-incident table was written (``compare --records``)."""
        return (self.root / INCIDENTS_FILE).is_file()

    def incidents(self) -> pd.DataFrame:
        """Incidents after the warm-up (the ones every statistic counts); only in a directory
        written with ``--records``."""
        if "incidents" not in self._tables:
            path = self.root / INCIDENTS_FILE
            try:
                df = pd.read_parquet(path, columns=list(INCIDENT_COLUMNS))
            except (OSError, ValueError, KeyError) as exc:
                raise InputError(f"{path}: cannot read: {exc}") from None
            df = df[~df["warmup"].astype(bool)]
            df = df.assign(
                option=df["option"].astype(str),
                service=df["service"].astype(str),
                community=df["community"].astype(str),
                priority=df["priority"].astype(int),
            )
            self._tables["incidents"] = df.reset_index(drop=True)
        return self._tables["incidents"]

    def responses(self) -> pd.DataFrame:
        """The response histogram (:mod:`sim.analysis.responses`): from its file, or counted
        from the incidents of a directory written before there was one."""
        if "responses" not in self._tables:
            path = self.root / RESPONSES_FILE
            if path.is_file() or not self.has_records:
                df = self._parquet(path, HISTOGRAM_COLUMNS)
            else:
                df = response_histogram([response_counts(self.incidents())])
            self._tables["responses"] = df.astype(_SUMMARY_DTYPES)
        return self._tables["responses"]

    def timeline(self) -> pd.DataFrame:
        """The hours around each surge (:mod:`sim.analysis.surges`): from its file, or summed
        from the incidents of a directory written before there was one (else empty)."""
        if "timeline" not in self._tables:
            if (self.root / TIMELINE_FILE).is_file():
                df = self.table(TIMELINE_FILE.removesuffix(".csv"))
            elif self.has_records:
                counts = surge_counts(self.incidents(), self.windows(), self.horizon())
                df = surge_timeline([counts], int(self.manifest.get("replications") or 1))
            else:
                df = pd.DataFrame(columns=list(TIMELINE_COLUMNS))
            self._tables["timeline"] = df
        return self._tables["timeline"]

    def _parquet(self, path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
        try:
            return pd.read_parquet(path, columns=list(columns))
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"{path}: cannot read: {exc}") from None

    def windows(self) -> list[dict[str, Any]]:
        """The surge windows of region.json (:func:`sim.analysis.surges.surge_windows`)."""
        region = self.region or {}
        run = region.get("run", {})
        return surge_windows(
            region.get("surges", []),
            region.get("bursts", []),
            float(run.get("warmup", 0.0)),
            self.horizon(),
        )

    def horizon(self) -> float:
        run = (self.region or {}).get("run", {})
        return float(run.get("horizon", math.inf))

    # --- names and orders ---------------------------------------------------------------
    @property
    def options(self) -> list[str]:
        opts = self.manifest.get("options")
        if opts:
            return [str(o) for o in opts]
        return list(dict.fromkeys(self.table("summary")["option"]))

    @property
    def baseline(self) -> str:
        return str(self.manifest.get("baseline") or self.options[0])

    @property
    def services(self) -> list[str]:
        present = list(dict.fromkeys(self.table("headline")["service"]))
        if self.region:
            order = [s["id"] for s in self.region["services"]]
            return [s for s in order if s in present] + [s for s in present if s not in order]
        return present

    @property
    def communities(self) -> list[str]:
        if self.region:
            return [c["id"] for c in self.region["communities"]]
        s = self.table("summary")
        return [c for c in dict.fromkeys(s["community"]) if c != ALL]

    def community_name(self, cid: str) -> str:
        for c in (self.region or {}).get("communities", []):
            if c["id"] == cid:
                return str(c["name"])
        return _pretty(cid)

    def service_name(self, sid: str) -> str:
        for s in (self.region or {}).get("services", []):
            if s["id"] == sid:
                return str(s["name"])
        return _pretty(sid)

    def station_name(self, sid: str, short: bool = False) -> str:
        """Display name of a station; ``short`` drops a parenthesised remark."""
        for s in (self.region or {}).get("stations", []):
            if s["id"] == sid:
                name = str(s["name"])
                return name.split(" (")[0].strip() or name if short else name
        return _pretty(sid)

    def population(self) -> dict[str, float]:
        return {c["id"]: float(c["population"]) for c in (self.region or {}).get("communities", [])}

    def run_days(self) -> float | None:
        """Length of the statistics window (horizon minus warm-up), days."""
        run = (self.region or {}).get("run")
        if not run:
            return None
        return (float(run["horizon"]) - float(run["warmup"])) / 1440.0

    # --- targets ------------------------------------------------------------------------
    def targets(self, service: str, priority: int) -> list[tuple[float, float | None, list[str]]]:
        """Distinct (minutes, share, communities) response targets of a service and priority.

        From region.json; without it, target minutes from the incidents if they were written
        (share unknown)."""
        groups: dict[tuple[float, float | None], list[str]] = {}
        if self.region is not None:
            for t in self.region.get("targets", []):
                if t["service"] == service and int(t["priority"]) == int(priority):
                    key = (float(t["minutes"]), float(t["share"]))
                    if t["community"] not in groups.get(key, []):
                        groups.setdefault(key, []).append(t["community"])
        elif self.has_records:
            inc = self.incidents()
            sub = inc[(inc["service"] == service) & (inc["priority"] == int(priority))]
            sub = sub.dropna(subset=["target"]).drop_duplicates(["community", "target"])
            for com, m in zip(sub["community"], sub["target"], strict=True):
                groups.setdefault((float(m), None), []).append(com)
        return [(m, q, coms) for (m, q), coms in sorted(groups.items(), key=lambda kv: kv[0][0])]

    def target_share(self, service: str, priority: int, community: str) -> float | None:
        target = self.target_of(service, priority, community)
        return target[1] if target is not None else None

    def target_of(self, service: str, priority: int, community: str) -> tuple[float, float] | None:
        """(minutes, share) of a community's response target, from region.json."""
        for t in (self.region or {}).get("targets", []):
            if (
                t["service"] == service
                and int(t["priority"]) == int(priority)
                and t["community"] == community
            ):
                return float(t["minutes"]), float(t["share"])
        return None

    def urgent_priority(self, service: str) -> str | None:
        """The most urgent priority of a service with a response target (as in summary.csv)."""
        s = self.table("summary")
        sub = s[
            (s["service"] == service) & (s["metric"] == "within_target") & (s["priority"] != ALL)
        ]
        sub = sub[sub["n"] > 0]
        prios = sorted({p for p in sub["priority"] if p.isdigit()}, key=int)
        return prios[0] if prios else None


def _pretty(ident: str) -> str:
    text = ident.replace("_", " ").replace("-", " ")
    return text[:1].upper() + text[1:]


def load_result(result_dir: Path | str) -> ResultData:
    """Open a result directory of ``intersim compare``; InputError if it is not one."""
    root = Path(result_dir)
    if not root.exists():
        raise InputError(f"{root}: no such directory")
    if not root.is_dir():
        raise InputError(f"{root}: not a directory")
    man = root / "manifest.json"
    if not man.is_file():
        raise InputError(f"{root}: not an intersim result directory (no manifest.json)")
    try:
        manifest = json.loads(man.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{man}: cannot read: {exc}") from None
    if not isinstance(manifest, dict):
        raise InputError(f"{man}: not a manifest (expected a JSON object)")
    missing = [f"{n}.csv" for n in TABLES if not (root / f"{n}.csv").is_file()]
    if not (root / RESPONSES_FILE).is_file() and not (root / INCIDENTS_FILE).is_file():
        missing.append(RESPONSES_FILE)
    if missing:
        raise InputError(
            f"{root}: not a result directory of 'intersim compare' (missing {', '.join(missing)})"
        )
    region = None
    path = root / REGION_FILE
    if path.is_file():
        try:
            region = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: cannot read: {exc}") from None
    return ResultData(root, manifest, region)
