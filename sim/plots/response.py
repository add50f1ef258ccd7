"""Response-time distributions: one ECDF per option, a panel per priority, a figure per service.

Drawn from incidents.parquet (calls after the warm-up, every replication pooled). Calls never
reached by the end of the run count in the denominator, so such a curve ends below 100 %.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from .data import ResultData
from .style import (
    TARGET_COLOUR,
    Drawn,
    fmt_duration,
    fmt_minutes,
    minutes_axis,
    new_figure,
    option_styles,
    style,
)

__all__ = ["ecdf_figure", "ecdf_points", "figures", "response_quantile"]

MAX_POINTS = 600  # per curve: enough for a smooth step line, small enough for SVG


def ecdf_points(responses: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Points (x, F(x)) of the empirical CDF of ``responses``; NaN (never reached) counts in
    the denominator. Long samples are thinned to ``max_points`` exact points of the ECDF,
    starting at (0, 0)."""
    r = np.asarray(responses, dtype=np.float64)
    n = len(r)
    x = np.sort(r[np.isfinite(r)])
    if n == 0 or len(x) == 0:
        return np.zeros(1), np.zeros(1)
    pts = x
    if len(x) > max_points:
        pts = x[np.unique(np.linspace(0, len(x) - 1, max_points).round().astype(np.int64))]
    y = np.searchsorted(x, pts, side="right") / n
    return np.concatenate([[0.0], pts]), np.concatenate([[0.0], y])


def response_quantile(responses: np.ndarray, q: float) -> float:
    """Quantile of response times, calls never reached counting as infinitely late."""
    r = np.asarray(responses, dtype=np.float64)
    if len(r) == 0:
        return math.nan
    return float(np.quantile(np.where(np.isnan(r), np.inf, r), q, method="higher"))


def _names(data: ResultData, coms: list[str]) -> str:
    return ", ".join(data.community_name(c) for c in coms)


def ecdf_figure(data: ResultData, service: str) -> Figure | None:
    """ECDF of response times per option; one panel per priority, targets marked."""
    inc = data.incidents()
    inc = inc[inc["service"] == service]
    if inc.empty:
        return None
    prios = sorted(inc["priority"].unique())
    ncols = min(3, len(prios))
    nrows = math.ceil(len(prios) / ncols)
    fig = new_figure(
        min(10.0, 3.4 * ncols + 0.4), 2.9 * nrows + 0.5,
        f"{data.service_name(service)}: how fast calls are reached",
    )
    styles = option_styles(data.options, data.baseline)
    with style():
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax in axes[len(prios):]:
            ax.set_visible(False)
        for ax, prio in zip(axes, prios, strict=False):
            sub = inc[inc["priority"] == prio]
            targets = data.targets(service, int(prio))
            upper = 0.0
            for opt in data.options:
                r = sub.loc[sub["option"] == opt, "response"].to_numpy(dtype=np.float64)
                if len(r) == 0:
                    continue
                x, y = ecdf_points(r)
                st = styles[opt]
                (line,) = ax.step(x, y, where="post", color=st["color"], linestyle=st["linestyle"],
                                  linewidth=1.6, label=opt)
                line.set_gid(f"ecdf:{opt}:{prio}")
                fin = r[np.isfinite(r)]
                if len(fin):
                    upper = max(upper, float(np.quantile(fin, 0.99)))
            for minutes, _share, _coms in targets:
                upper = max(upper, minutes * 1.25)
            upper = upper if upper > 0 else 1.0
            _mark_targets(ax, data, targets, upper)
            ax.set_xlim(0, upper)
            ax.set_ylim(0, 1.02)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            minutes_axis(ax, upper, "x", "Response time (call to first unit on scene)")
            ax.set_ylabel("Calls reached, % (cumulative)")
            ax.set_title(f"Priority {prio}" + ("" if targets else " (no target)"), loc="left")
        axes[0].legend(loc="lower right", title="option", title_fontsize=8)
    return fig


def _mark_targets(ax, data: ResultData, targets, upper: float) -> None:  # type: ignore[no-untyped-def]
    shares: set[float] = set()
    for minutes, share, coms in targets:
        line = ax.axvline(minutes, color=TARGET_COLOUR, linestyle=":", linewidth=1.1)
        line.set_gid("target-minutes")
        label = f"target {fmt_minutes(minutes)}"
        if len(targets) > 1:
            label += f" ({_names(data, coms)})"
        ax.text(minutes + upper * 0.008, 0.03, label, rotation=90, va="bottom", ha="left",
                fontsize=6.5, color=TARGET_COLOUR)
        if share is not None:
            shares.add(share)
    for share in sorted(shares):
        line = ax.axhline(share, color=TARGET_COLOUR, linestyle="--", linewidth=0.9)
        line.set_gid("target-share")
        ax.text(upper * 0.99, share - 0.015, f"{share:.0%} must be reached in time", ha="right",
                va="top", fontsize=6.5, color=TARGET_COLOUR)


def _caption(data: ResultData, service: str) -> str:
    inc = data.incidents()
    inc = inc[inc["service"] == service]
    urgent = data.urgent_priority(service)
    prio = int(urgent) if urgent else int(inc["priority"].min())
    sub = inc[inc["priority"] == prio]
    p90 = {o: response_quantile(sub.loc[sub["option"] == o, "response"].to_numpy(), 0.9)
           for o in data.options if (sub["option"] == o).any()}
    base = data.baseline
    name = data.service_name(service)
    text = f"{name}, priority {prio}: 90 % of calls are reached within {fmt_duration(p90.get(base, math.nan))} under {base}"
    others = {o: v for o, v in p90.items() if o != base}
    if others:
        best = min(others, key=lambda o: others[o])
        text += f" and within {fmt_duration(others[best])} under {best} (the fastest other option)"
    targets = data.targets(service, prio)
    if targets:
        parts = [
            fmt_minutes(m) + (f" in {_names(data, c)}" if len(targets) > 1 else "")
            for m, _q, c in targets
        ]
        text += f"; the target is {'; '.join(parts)} (dotted line)"
        shares = {q for _m, q, _c in targets if q is not None}
        if len(shares) == 1:
            text += f" for {shares.pop():.0%} of calls (dashed line)"
    return text + ". A curve further left and higher is faster."


def figures(data: ResultData) -> Iterator[Drawn]:
    for service in data.services:
        fig = ecdf_figure(data, service)
        if fig is None:
            continue
        yield Drawn(
            name=f"response_ecdf_{service}", section="response",
            title=f"{data.service_name(service)}: response-time distribution",
            caption=_caption(data, service), figure=fig,
        )
