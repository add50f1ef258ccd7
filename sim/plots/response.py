"""Response-time distributions: one ECDF per option, a panel per priority, a figure per service.

Drawn from the response histogram (``response_histogram.parquet``: calls after the warm-up,
every replication pooled, on a grid of 6 seconds; see :mod:`sim.analysis.responses`), so a curve
is exact at its points and at most 6 seconds off between them. Calls never reached by the end
of the run count in the denominator, so such a curve ends below 100 %.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, PercentFormatter

from ..analysis.responses import Distribution, distribution
from ..results.display import fmt_duration, fmt_minutes
from ..results.read import ResultData
from .panels import PanelLayout
from .style import TARGET_COLOUR, Drawn, minutes_axis, new_figure, option_styles, style

__all__ = ["MAX_POINTS", "ecdf_figure", "figures"]

MAX_POINTS = 600  # per curve: enough for a smooth step line, small enough for SVG
LOG_RATIO = 6.0  # a log time axis when the axis would span more than this many medians


def _names(data: ResultData, coms: list[str]) -> str:
    return ", ".join(data.community_name(c) for c in coms)


def _distributions(data: ResultData, service: str) -> dict[int, dict[str, Distribution]]:
    """Per priority and option, the response times of the service's calls (every community)."""
    hist = data.responses()
    hist = hist[hist["service"] == service]
    out: dict[int, dict[str, Distribution]] = {}
    for prio in sorted(int(p) for p in hist["priority"].unique()):
        sub = hist[hist["priority"] == prio]
        out[prio] = {
            opt: distribution(sub[sub["option"] == opt])
            for opt in data.options
            if (sub["option"] == opt).any()
        }
    return out


def ecdf_figure(
    data: ResultData, service: str, dists: dict[int, dict[str, Distribution]] | None = None
) -> Figure | None:
    """ECDF of response times per option; one panel per priority, targets marked (``dists``:
    the service's :func:`_distributions`, if already at hand)."""
    dists = dists if dists is not None else _distributions(data, service)
    if not dists:
        return None
    prios = list(dists)
    ncols = min(3, len(prios))
    nrows = math.ceil(len(prios) / ncols)
    # a single panel is drawn as wide as two, so that it is shown as large as the others and
    # its title and legend fit
    width = min(10.0, 3.4 * max(2, ncols) + 0.5)
    fig = new_figure(
        width,
        2.9 * nrows + 0.8 + (0.3 if ncols == 1 else 0.0),
        f"{data.service_name(service)}: time from call to first unit on scene",
        layout=PanelLayout(),
    )
    panel_width = (width - 0.6) / ncols
    styles = option_styles(data.options, data.baseline)
    with style():
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax in axes[len(prios) :]:
            ax.set_visible(False)
        titles, most_rows = [], 0
        for i, (ax, prio) in enumerate(zip(axes, prios, strict=False)):
            targets = data.targets(service, int(prio))
            curves = {}
            upper, median, lowest = 0.0, math.inf, math.inf
            for opt, dist in dists[prio].items():
                x, y = dist.ecdf(MAX_POINTS)
                if len(x) == 0:
                    continue
                curves[opt] = (x, y)
                upper = max(upper, dist.quantile(0.95, reached_only=True))
                median = min(median, dist.quantile(0.5, reached_only=True))
                lowest = min(lowest, dist.quantile(0.005, reached_only=True))
            for minutes, _share, _coms in targets:
                upper = max(upper, minutes * 1.15)
            upper = upper * 1.05 if upper > 0 else 1.0
            log = math.isfinite(median) and median > 0 and upper / median > LOG_RATIO
            lower = max(lowest * 0.8, upper / 1000) if log else 0.0
            for opt, (x, y) in curves.items():
                st = styles[opt]
                (line,) = ax.step(
                    np.concatenate([[lower], x]),
                    np.concatenate([[0.0], y]),
                    where="post",
                    color=st["color"],
                    linestyle=st["linestyle"],
                    linewidth=1.6,
                    label=opt,
                )
                line.set_gid(f"ecdf:{opt}:{prio}")
            if log:
                ax.set_xscale("log")
            label_rows = _mark_targets(ax, data, targets, lower, upper, log)
            ax.set_xlim(lower, upper)
            ax.set_ylim(0, 1.02)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            if log:
                ax.xaxis.set_major_locator(FixedLocator(_log_ticks(lower, upper, panel_width)))
                ax.xaxis.set_major_formatter(FuncFormatter(_log_tick))
                ax.xaxis.set_minor_formatter(NullFormatter())
                ax.set_xlabel("Response time, minutes (log scale)")
            else:
                minutes_axis(ax, upper, "x", "Response time")
            if i % ncols == 0:
                ax.set_ylabel("Calls reached, % (cumulative)")
            titles.append((ax, f"Priority {prio}" + ("" if targets else " (no target)")))
            most_rows = max(most_rows, label_rows)
        for ax, title in titles:
            ax.set_title(title, loc="left", pad=6 + 10 * most_rows)
        handles, labels = axes[0].get_legend_handles_labels()
        per_row = max(1, int(width / max(1.3, 0.09 * max(map(len, labels), default=1) + 0.6)))
        fig.legend(handles, labels, loc="outside lower center", ncols=min(6, len(labels), per_row))
    return fig


TICK_SPACING = 0.42  # inches between log-axis ticks at least, so that labels never collide


def _log_ticks(lower: float, upper: float, width: float = 3.0) -> list[float]:
    """1-2-5 steps of minutes, then hours, inside [lower, upper], each at least
    :data:`TICK_SPACING` inches from the last on an axis ``width`` inches wide."""
    steps: list[float] = [1, 2, 5, 10, 20, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 10080]
    steps = [0.5, *steps] if lower < 1 else steps
    inside = [v for v in steps if lower <= v <= upper]
    span = math.log(upper / lower) if upper > lower > 0 else 1.0
    out: list[float] = []
    for v in inside:
        if not out or math.log(v / out[-1]) / span * width >= TICK_SPACING:
            out.append(v)
    return out


def _log_tick(v: float, _pos: object = None) -> str:
    if v >= 120:
        return f"{v / 60:g} h"
    return f"{v:g}"


def _mark_targets(ax, data: ResultData, targets, lower: float, upper: float, log: bool) -> int:  # type: ignore[no-untyped-def]
    """Draw target lines, labels and a key; return the rows of labels above the axes."""
    shares: set[float] = set()
    last, row, rows = -math.inf, 0, 0
    for minutes, share, _coms in targets:
        line = ax.axvline(minutes, color=TARGET_COLOUR, linestyle=":", linewidth=1.2)
        line.set_gid("target-minutes")
        pos = (
            (math.log(minutes) - math.log(lower)) / (math.log(upper) - math.log(lower))
            if log
            else minutes / upper
        )
        row = 1 - row if pos - last < 0.1 else 0
        rows = max(rows, row + 1)
        last = pos
        ax.text(
            minutes,
            1.01 + 0.055 * row,
            fmt_minutes(minutes),
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=6.5,
            color=TARGET_COLOUR,
        )
        if share is not None:
            shares.add(share)
    for share in sorted(shares):
        line = ax.axhline(share, color=TARGET_COLOUR, linestyle="--", linewidth=0.9)
        line.set_gid("target-share")
    if targets:
        lines = [
            f"{fmt_minutes(m)}" + (f": {_names(data, c)}" if len(targets) > 1 else "")
            for m, _q, c in targets
        ]
        if shares:
            lines.append(" / ".join(f"{q:.0%}" for q in sorted(shares)) + " of calls in time")
        ax.text(
            0.98,
            0.04,
            "target\n" + "\n".join(lines),
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=6.5,
            color=TARGET_COLOUR,
            linespacing=1.3,
            bbox={"boxstyle": "round,pad=0.4", "fc": "white", "ec": "#cccccc", "lw": 0.6},
        )
    return rows


def _caption(data: ResultData, service: str, dists: dict[int, dict[str, Distribution]]) -> str:
    urgent = data.urgent_priority(service)
    prio = int(urgent) if urgent and int(urgent) in dists else min(dists)
    p90 = {o: d.quantile(0.9) for o, d in dists[prio].items()}
    base = data.baseline
    name = data.service_name(service)
    text = (
        f"{name}, priority {prio}: 90 % of calls are reached within "
        f"{fmt_duration(p90.get(base, math.nan))} under {base}"
    )
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
        dists = _distributions(data, service)
        fig = ecdf_figure(data, service, dists)
        if fig is None:
            continue
        yield Drawn(
            name=f"response_ecdf_{service}",
            section="response",
            title=f"{data.service_name(service)}: response-time distribution",
            caption=_caption(data, service, dists),
            figure=fig,
        )
