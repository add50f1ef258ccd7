"""The calibration report: one self-contained HTML file beside the calibrated scenario.

It shows what was read (every row accounted for, by reason), what could not be fitted and why,
and, for each estimate, the data against the fit: demand by hour of day and weekday with the
fitted profile, and for every stage the histogram of observed durations with the fitted
densities and the AIC and KS figures of every candidate. Figures are matplotlib ``Figure``
objects drawn on their own canvas (no pyplot) and inlined as PNG.
"""

from __future__ import annotations

import base64
import html
import io
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..plots.style import OKABE_ITO, style
from ..results.files import atomic_write_text
from .parameters import MIN_PROFILE, SEGMENTS, poisson_ci
from .zonecounts import community_fit, zone_frame

if TYPE_CHECKING:
    from .calibrate import Calibration

__all__ = ["profile_figure", "segment_figure", "write_report"]

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_PANELS = 9
TOP_ZONES = 20


def new_figure(width: float, height: float, title: str) -> Figure:
    """A figure on its own Agg canvas (no pyplot), laid out by fixed margins: constrained
    layout would double the drawing time of these many small panels."""
    with style():
        fig = Figure(figsize=(width, height), dpi=96)
        FigureCanvasAgg(fig)
        fig.suptitle(title, ha="left", x=0.01, y=0.99, va="top")
    return fig


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    with style():
        fig.savefig(buf, format="png", dpi=96)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="" src="data:image/png;base64,{data}">'


def profile_figure(cal: Calibration, service: str) -> Figure:
    """Calls by local hour and weekday (with 95 % Poisson intervals) against the profile."""
    s = cal.services[service]
    w = cal.window
    fig = new_figure(9.0, 3.0, f"{service}: demand by hour of day and weekday ({s.calls} calls)")
    with style():
        axes = fig.subplots(1, 2, width_ratios=[3, 1.3])
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.17, top=0.8, wspace=0.18)
    for ax, counts, labels, per in (
        (axes[0], s.hours, [str(h) for h in range(24)], np.full(24, w.days, dtype=float)),
        (axes[1], s.days, list(DAYS), w.weekdays.astype(float)),
    ):
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = counts / per
            ci = np.array([poisson_ci(int(n)) for n in counts]) / per[:, None]
        x = np.arange(len(counts))
        ax.bar(x, rate, color=OKABE_ITO["sky_blue"], label="observed calls per day")
        ax.errorbar(
            x,
            rate,
            yerr=[rate - ci[:, 0], ci[:, 1] - rate],
            fmt="none",
            ecolor="#555555",
            lw=0.8,
            capsize=1.5,
        )
        mean = float(np.nanmean(rate))
        if s.calls >= MIN_PROFILE:  # the written profile: the observed shape, scaled to mean 1
            ax.step(
                x,
                rate,
                where="mid",
                color=OKABE_ITO["vermillion"],
                lw=1.2,
                label="written profile x mean rate",
            )
        ax.axhline(mean, color="#333333", ls="--", lw=0.9, label="flat demand (no profile)")
        ax.set_xticks(
            x[:: 3 if len(x) > 7 else 1], [labels[i] for i in x[:: 3 if len(x) > 7 else 1]]
        )
        ax.set_ylabel("calls per day")
    axes[0].set_xlabel("hour of day (local)")
    axes[1].set_xlabel("weekday")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.93), ncols=3)
    return fig


def segment_figure(cal: Calibration, segment: str) -> Figure | None:
    """For each incident type: histogram of one stage's durations and the fitted densities."""
    panels = [
        (t, t.segments[segment])
        for t in cal.types.values()
        if segment in t.segments and t.segments[segment].fit.n > 0
    ]
    if not panels:
        return None
    panels = panels[:MAX_PANELS]
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = new_figure(3.2 * cols, 2.4 * rows, f"{segment.replace('_', ' ')}: observed and fitted")
    with style():
        axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    fig.subplots_adjust(
        left=0.06,
        right=0.99,
        bottom=0.1 / rows + 0.05,
        top=1 - 0.6 / (2.4 * rows),
        hspace=0.55,
        wspace=0.22,
    )
    for ax, (t, seg) in zip(axes, panels, strict=False):
        x = seg.fit.values
        top = float(np.quantile(x, 0.99)) if len(x) else 1.0
        ax.hist(
            x[x <= top],
            bins=min(40, max(5, len(x) // 10)),
            density=True,
            color=OKABE_ITO["sky_blue"],
            alpha=0.8,
        )
        grid = np.linspace(max(top / 500, 1e-6), top, 200)
        ranked = sorted(seg.fit.candidates, key=lambda f: f.aic)
        for fit, colour, ls in zip(ranked[:2], ("vermillion", "black"), ("-", "--"), strict=False):
            ax.plot(
                grid,
                fit.frozen().pdf(grid),
                color=OKABE_ITO[colour],
                ls=ls,
                lw=1.2,
                label=f"{fit.dist} (KS p={fit.ks_p:.2g})",
            )
        level = "" if seg.level == "type" else f" [{seg.level}]"
        ax.set_title(f"{t.id} (n={seg.fit.n}){level}", fontsize=8.5)
        ax.set_xlabel("minutes")
        if ranked:
            ax.legend(fontsize=7)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    return fig


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(
        index=False, border=0, classes="t", na_rep="-", float_format=lambda v: f"{v:.4g}"
    )


def _fits_table(cal: Calibration) -> pd.DataFrame:
    rows = []
    for t in cal.types.values():
        for seg in SEGMENTS:
            s = t.segments.get(seg)
            if s is None:
                continue
            best = s.fit.best
            for f in sorted(s.fit.candidates, key=lambda f: f.aic):
                rows.append(
                    {
                        "type": t.id,
                        "stage": seg,
                        "fitted to": s.level,
                        "n": s.fit.n,
                        "family": f.dist + (" (chosen)" if f is best and s.spec else ""),
                        "parameters": ", ".join(f"{k} {v:.4g}" for k, v in f.params.items()),
                        "AIC": f.aic,
                        "dAIC": f.aic - best.aic if best else np.nan,
                        "KS D": f.ks_d,
                        "KS p": f.ks_p,
                    }
                )
            if not s.fit.candidates:
                rows.append(
                    {
                        "type": t.id,
                        "stage": seg,
                        "fitted to": s.level,
                        "n": s.fit.n,
                        "family": "-",
                        "parameters": s.note,
                    }
                )
    return pd.DataFrame(rows)


def _rates_table(cal: Calibration) -> pd.DataFrame:
    rows = []
    for t in cal.types.values():
        for c in cal.communities:
            n = t.counts.get(c.id, 0)
            lo, hi = poisson_ci(n)
            y = cal.window.years
            rows.append(
                {
                    "type": t.id,
                    "community": c.id,
                    "calls": n,
                    "per year": n / y,
                    "95 % CI low": lo / y,
                    "95 % CI high": hi / y,
                }
            )
    return pd.DataFrame(rows)


def _zone_section(cal: Calibration) -> list[str]:
    """Calls per zone: per community (with a test of the spread against the zones' weights)
    and the busiest zones; every zone's count is in the zone file."""
    counts = cal.zones
    assert counts is not None
    frame = zone_frame(counts)
    top = frame.sort_values("calls", ascending=False, kind="stable").head(TOP_ZONES)
    shown = ["id", "community", "weight", "calls"]
    text = (
        f"<p>{len(frame)} zones from {html.escape(counts.zones.source)}; "
        f"{int(counts.calls.sum())} incident(s) placed in a zone, {counts.unplaced} in none. "
        "A small chi-square p says that a community's calls are not spread over its zones "
        "like the zone file's weights (with too few calls the test is not made). Every zone's "
        f"calls are in the zone file written, {html.escape(cal.zone_file)}.</p>"
    )
    return [
        "<h2>Zones</h2>",
        text,
        _table(community_fit(counts)),
        f"<h3>The {len(top)} zones with the most calls</h3>",
        _table(top[shown]),
    ]


CSS = """body{font-family:DejaVu Sans,Arial,sans-serif;max-width:1100px;margin:2em auto;
color:#222;line-height:1.4}h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;
border-bottom:1px solid #ddd}table.t{border-collapse:collapse;font-size:0.85em;margin:0.5em 0}
table.t td,table.t th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left}
img{max-width:100%}.warn{color:#a33}code{background:#f4f4f4;padding:0 3px}"""


def write_report(cal: Calibration, path: Path) -> Path:
    """Write the calibration report to ``path`` (HTML with inlined figures)."""
    log = cal.log
    esc = html.escape
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>Calibration: "
        f"{esc(Path(log.file).name)}</title><style>{CSS}</style></head><body>",
        f"<h1>Calibration of {esc(Path(log.file).name)}</h1>",
        f"<p>{log.rows} row(s) read, {len(log.incidents)} incident(s) used, over "
        f"{cal.window.days} days from {cal.window.first_day.date()}. Written "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M')} UTC.</p>",
        "<h2>Every row of the log</h2>",
        _table(log.accounting()),
        "<h2>Not fitted, and why</h2>",
        "<ul>" + "".join(f"<li class='warn'>{esc(p)}</li>" for p in cal.problems) + "</ul>"
        if cal.problems
        else "<p>Everything was fitted from the log.</p>",
        "<h2>Notes</h2><ul>" + "".join(f"<li>{esc(n)}</li>" for n in cal.notes) + "</ul>",
        "<h2>Columns</h2>",
        _table(
            pd.DataFrame({"field": list(log.columns), "log column": list(log.columns.values())})
        ),
        f"<p>Ignored columns: {esc(', '.join(map(str, log.ignored)) or 'none')}</p>",
        "<h2>Demand</h2>",
        _table(_rates_table(cal)),
    ]
    for sid in cal.services:
        parts.append(_png(profile_figure(cal, sid)))
    parts.append(
        "<h2>Durations</h2><p>Histograms of the observed durations (up to the 99th "
        "percentile) and the densities of the two best families by AIC.</p>"
    )
    for seg in SEGMENTS:
        fig = segment_figure(cal, seg)
        if fig is not None:
            parts.append(_png(fig))
    parts += ["<h3>Every candidate fit</h3>", _table(_fits_table(cal))]
    obs = cal.travel_obs
    if len(obs):
        parts += [
            "<h2>Travel</h2><p>Observed trips by home community and incident community.</p>",
            _table(obs.rename(columns={"median": "median minutes", "n": "trips"})),
        ]
    if cal.zones is not None:
        parts += _zone_section(cal)
    parts.append("<h2>Travel matrix written</h2>")
    parts.append(
        _table(
            pd.DataFrame(
                [
                    {"from": a, "to": b, "minutes": m, "source": how}
                    for (a, b), (m, how) in cal.travel.items()
                ]
            )
        )
    )
    parts.append("<h2>Units</h2>")
    parts.append(
        _table(
            pd.DataFrame(
                [
                    {
                        "service": s.id,
                        "units by home": ", ".join(f"{c}: {n}" for c, n in s.units.items()) or "-",
                        "note": s.units_note,
                        "first units from another community": s.cross_border,
                    }
                    for s in cal.services.values()
                ]
            )
        )
    )
    parts.append("</body></html>")
    atomic_write_text(path, "\n".join(parts))
    return path
