"""``intersim backtest``: does the model reproduce the response times the log recorded?

The log's incidents are replayed (:mod:`sim.replay`) through the current arrangement (the
scenario's baseline option, or ``--option``), and the simulated response times (call to first
unit on scene) are set against the recorded ones per community and priority (and over all):
mean, median and 90th percentile, the simulated ones with a 95 % confidence interval across
replications. Calls during the scenario's warm-up are left out of both, and so are calls whose
recorded response is unknown (no on-scene time, or one after the log ends): both sides then
describe the same calls.

The log's incidents are the same in every replication, so the interval reflects only what is
drawn (travel noise, missing times): a recorded value outside it with a small difference points
at a systematic gap between model and reality, such as travel times or dispatch rules.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..analysis.metrics import ALL
from ..analysis.stats import with_ci
from ..engine.driver import compile_scenario, gather, run_replications
from ..errors import InputError
from ..schema import Scenario
from .replay import ReplayLog, replay_source

__all__ = ["METRICS", "backtest", "format_backtest"]

METRICS = ("mean_response", "median_response", "p90_response")


def _stats(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean, median, p90 of ``response`` per ``keys``, over communities/priorities and all."""
    parts = []
    for com_all in (False, True):
        for prio_all in (False, True):
            df = frame.assign(
                community=ALL if com_all else frame["community"],
                priority=ALL if prio_all else frame["priority"],
            )
            g = df.groupby([*keys, "community", "priority"], observed=True)["response"]
            part = pd.DataFrame(
                {
                    "incidents": g.count(),
                    "mean_response": g.mean(),
                    "median_response": g.median(),
                    "p90_response": g.quantile(0.9),
                }
            ).reset_index()
            parts.append(part)
    return pd.concat(parts, ignore_index=True)


def backtest(
    scenario: Scenario,
    replay: ReplayLog,
    *,
    option: str | None = None,
    replications: int | None = None,
    seed: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Observed against simulated response per community x priority (see the module doc)."""
    option = option or scenario.baseline_option
    if option not in scenario.options:
        known = ", ".join(scenario.options)
        raise InputError(f"--option: unknown option '{option}' (known: {known})")
    compiled = compile_scenario(scenario, [option], replay_source(replay))
    n = replications if replications is not None else scenario.run.replications
    s = seed if seed is not None else scenario.run.seed
    parts = run_replications(compiled, range(n), s, tables=("incidents",), progress=progress)
    (inc,) = gather(parts)
    # replayed incidents are the log's in call order: incident k is the log's k-th call
    recorded = np.isfinite(replay.response[np.argsort(replay.t_call, kind="stable")])
    kept = ~inc["warmup"].to_numpy() & recorded[inc["incident"].to_numpy()]
    sim = inc.loc[kept, ["replication", "community", "priority", "response"]].copy()
    sim["community"] = sim["community"].astype(str)
    sim["priority"] = sim["priority"].astype(str)
    per_rep = _stats(sim, ["replication"]).melt(
        id_vars=["replication", "community", "priority"], var_name="metric"
    )
    simulated = with_ci(per_rep, ["community", "priority", "metric"])
    prio = {tid: str(t.priority) for tid, t in scenario.incident_types.items()}
    keep = replay.t_call >= scenario.run.warmup
    obs = pd.DataFrame(
        {
            "community": replay.community[keep].astype(str),
            "priority": [prio[t] for t in replay.type[keep]],
            "response": replay.response[keep],
        }
    )
    observed = _stats(obs, []).melt(id_vars=["community", "priority"], var_name="metric")
    observed = observed.rename(columns={"value": "observed"})
    out = observed.merge(simulated, on=["community", "priority", "metric"], how="outer")
    counts = out[out["metric"] == "incidents"][["community", "priority", "observed"]]
    counts = counts.rename(columns={"observed": "observed_incidents"})
    out = out[out["metric"].isin(METRICS)].merge(counts, on=["community", "priority"], how="left")
    out = out.rename(columns={"mean": "simulated", "n": "replications"})
    out["difference"] = out["simulated"] - out["observed"]
    out["observed_in_ci"] = (out["observed"] >= out["ci_low"]) & (out["observed"] <= out["ci_high"])
    out["option"] = option
    order = {m: i for i, m in enumerate(METRICS)}
    out = out.sort_values(
        ["community", "priority", "metric"],
        key=lambda s: s.map(order) if s.name == "metric" else s.map(lambda v: (v == ALL, v)),
    )
    cols = [
        "option",
        "community",
        "priority",
        "metric",
        "observed",
        "observed_incidents",
        "simulated",
        "ci_low",
        "ci_high",
        "replications",
        "difference",
        "observed_in_ci",
    ]
    return out[cols].reset_index(drop=True)


def format_backtest(table: pd.DataFrame) -> str:
    """The table for the console, minutes with one decimal."""
    shown = table.copy()
    shown["simulated (95 % CI)"] = [
        f"{m:.1f} ({lo:.1f}-{hi:.1f})" if np.isfinite(lo) else f"{m:.1f}"
        for m, lo, hi in zip(shown["simulated"], shown["ci_low"], shown["ci_high"], strict=True)
    ]
    shown["observed"] = shown["observed"].map(lambda v: f"{v:.1f}" if np.isfinite(v) else "-")
    shown["n"] = shown["observed_incidents"].map(lambda v: f"{v:.0f}" if np.isfinite(v) else "0")
    shown["difference"] = shown["difference"].map(lambda v: f"{v:+.1f}" if np.isfinite(v) else "-")
    shown["in CI"] = shown["observed_in_ci"].map({True: "yes", False: "no"})
    cols = [
        "community",
        "priority",
        "metric",
        "n",
        "observed",
        "simulated (95 % CI)",
        "difference",
        "in CI",
    ]
    return shown[cols].to_string(index=False)
