"""Figures of a sweep directory, drawn from its ``summary.csv``, ``points.csv`` and manifest.

* One varied parameter: ``<metric>.png`` for mean and p90 response, share within target, mean
  wait and busy fraction; the metric against the parameter, one line per option with its 95 %
  confidence band (markers with error bars for sampled designs or non-numeric values), one
  panel per service.
* Two varied parameters on a grid: ``heatmap_mean_response_<service>.png``, a heat map of mean
  response per option on a shared colour scale, and ``winner_<service>.png``, the option with
  the lowest mean response in each cell (hatched where its interval overlaps the runner-up's).
  Sampled designs (lhs, random) get the same as scatter plots.
* Three or more varied parameters: no figures (use the tables).

Colours are the Okabe-Ito palette (safe for colour-blind readers) for options and cividis for
heat maps. Figures use matplotlib's object API only (no pyplot state), so drawing is safe in
any process. ``intersim plot DIR`` calls :func:`draw_sweep_figures` for directories whose
manifest says ``"kind": "sweep"`` (:func:`is_sweep_dir`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

__all__ = ["OKABE_ITO", "draw_figures", "draw_sweep_figures", "is_sweep_dir"]

OKABE_ITO = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#000000",
)
LINE_METRICS = {
    "mean_response": "mean response (min)",
    "p90_response": "90th percentile response (min)",
    "within_target": "share within target",
    "mean_wait": "mean wait for a unit (min)",
    "busy_fraction": "mean busy fraction of units",
}
HEAT_METRIC = "mean_response"
DPI = 110


def _manifest(directory: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_sweep_dir(directory: str | Path) -> bool:
    """Whether ``directory`` holds the outputs of ``intersim sweep``."""
    m = _manifest(Path(directory))
    return m is not None and m.get("kind") == "sweep"


def _label(path: str, width: int = 26) -> str:
    """A parameter path as an axis label, wrapped at dots so that long paths fit."""
    lines = [""]
    for part in path.split("."):
        add = part if not lines[-1] else f"{lines[-1]}.{part}"
        if lines[-1] and len(add) > width:
            lines[-1] += "."
            lines.append(part)
        else:
            lines[-1] = add
    return "\n".join(lines)


def _colour(i: int) -> str:
    return OKABE_ITO[i % len(OKABE_ITO)]


def _numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _order(values: pd.Series, known: list[str] | None) -> list[str]:
    seen = list(dict.fromkeys(values.astype(str)))
    if not known:
        return seen
    return [v for v in known if v in seen] + [v for v in seen if v not in known]


def draw_sweep_figures(directory: str | Path, out: str | Path | None = None) -> list[Path]:
    """Draw the figures of the sweep in ``directory`` into ``out`` (default DIR/figures).

    Returns the paths written (none when more than two parameters vary).
    """
    directory = Path(directory)
    manifest = _manifest(directory) or {}
    summary = pd.read_csv(directory / "summary.csv")
    points = pd.read_csv(directory / "points.csv")
    target = Path(out) if out is not None else directory / "figures"
    return draw_figures(
        summary,
        points,
        manifest.get("options"),
        manifest.get("services"),
        manifest.get("design", "grid"),
        target,
    )


def draw_figures(
    summary: pd.DataFrame,
    points: pd.DataFrame,
    options: list[str] | None,
    services: list[str] | None,
    design: str,
    target: Path,
) -> list[Path]:
    """Draw the figures of a sweep's summary and design into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    params = [c for c in points.columns if c != "point"]
    varied = [p for p in params if points[p].nunique(dropna=False) > 1]
    if summary.empty or not varied or len(varied) > 2:
        return []
    options = _order(summary["option"], options)
    services = _order(summary["service"], services)
    sampled = design != "grid"
    if len(varied) == 1:
        return [
            _line_figure(summary, varied[0], metric, label, options, services, sampled, target)
            for metric, label in LINE_METRICS.items()
        ]
    written = []
    for service in services:
        part = summary[(summary["service"] == service) & (summary["metric"] == HEAT_METRIC)]
        if sampled or not _is_grid(points, varied):
            written.append(_scatter_figure(part, varied, options, service, target))
        else:
            written.append(_heatmap_figure(part, varied, options, service, target))
        written.append(_winner_figure(part, varied, options, service, target, grid=not sampled))
    return written


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI)
    return path


def _line_figure(
    summary: pd.DataFrame,
    param: str,
    metric: str,
    label: str,
    options: list[str],
    services: list[str],
    sampled: bool,
    target: Path,
) -> Path:
    fig = Figure(figsize=(1.0 + 4.2 * len(services), 3.6), layout="constrained")
    axes = fig.subplots(1, len(services), squeeze=False)[0]
    data = summary[summary["metric"] == metric]
    numeric = _numeric(data[param])
    categories = list(dict.fromkeys(data[param].astype(str))) if not numeric else []
    for ax, service in zip(axes, services, strict=True):
        for i, option in enumerate(options):
            d = data[(data["service"] == service) & (data["option"] == option)]
            if d.empty:
                continue
            colour = _colour(i)
            if numeric:
                d = d.sort_values(param)
                x = d[param].to_numpy(dtype=float)
            else:
                offset = (i - (len(options) - 1) / 2) * 0.8 / max(len(options), 1)
                x = np.array([categories.index(str(v)) for v in d[param]]) + offset
            y = d["mean"].to_numpy(dtype=float)
            lo, hi = d["ci_low"].to_numpy(dtype=float), d["ci_high"].to_numpy(dtype=float)
            if numeric and not sampled:
                ax.plot(x, y, marker="o", ms=3.5, color=colour, label=option)
                ax.fill_between(x, lo, hi, color=colour, alpha=0.2, linewidth=0)
            else:
                err = np.vstack([y - lo, hi - y])
                err = np.where(np.isnan(err), 0.0, err)
                ax.errorbar(
                    x,
                    y,
                    yerr=err,
                    fmt="o",
                    ms=3.5,
                    color=colour,
                    capsize=2,
                    elinewidth=0.8,
                    label=option,
                )
        if not numeric:
            ax.set_xticks(range(len(categories)), categories)
        ax.set_title(service)
        ax.set_xlabel(_label(param, 40))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend(title="option", fontsize="small")
    fig.suptitle(f"{label} (95 % CI)")
    return _save(fig, target / f"{metric}.png")


def _is_grid(points: pd.DataFrame, varied: list[str]) -> bool:
    combos = points[varied].drop_duplicates()
    return len(combos) == points[varied[0]].nunique() * points[varied[1]].nunique()


def _axis_values(values: pd.Series) -> list[Any]:
    unique = list(dict.fromkeys(values))
    return sorted(unique) if _numeric(values) else unique


def _matrix(
    part: pd.DataFrame, varied: list[str], column: str, xs: list[Any], ys: list[Any]
) -> np.ndarray:
    z = np.full((len(ys), len(xs)), np.nan)
    for _, row in part.iterrows():
        z[ys.index(row[varied[1]]), xs.index(row[varied[0]])] = row[column]
    return z


def _ticks(
    ax: Any, varied: list[str], xs: list[Any], ys: list[Any], *, ylabel: bool = True
) -> None:
    ax.set_xticks(range(len(xs)), [f"{v:g}" if isinstance(v, float) else str(v) for v in xs])
    ax.set_yticks(range(len(ys)), [f"{v:g}" if isinstance(v, float) else str(v) for v in ys])
    ax.set_xlabel(_label(varied[0]))
    if ylabel:
        ax.set_ylabel(_label(varied[1]))


def _heatmap_figure(
    part: pd.DataFrame, varied: list[str], options: list[str], service: str, target: Path
) -> Path:
    xs, ys = _axis_values(part[varied[0]]), _axis_values(part[varied[1]])
    fig = Figure(figsize=(1.5 + 3.6 * len(options), 3.6), layout="constrained")
    axes = fig.subplots(1, len(options), squeeze=False)[0]
    mats = [_matrix(part[part["option"] == o], varied, "mean", xs, ys) for o in options]
    finite = np.concatenate([m[np.isfinite(m)] for m in mats]) if mats else np.array([])
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    image = None
    for k, (ax, option, z) in enumerate(zip(axes, options, mats, strict=True)):
        image = ax.imshow(z, origin="lower", aspect="auto", cmap="cividis", vmin=vmin, vmax=vmax)
        if z.size <= 144:
            mid = (vmin + vmax) / 2
            for (r, c), v in np.ndenumerate(z):
                if np.isfinite(v):
                    ax.text(
                        c,
                        r,
                        f"{v:.3g}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="black" if v > mid else "white",
                    )
        _ticks(ax, varied, xs, ys, ylabel=k == 0)
        ax.set_title(option)
    if image is not None:
        fig.colorbar(image, ax=list(axes), label="mean response (min)")
    fig.suptitle(f"{service}: mean response")
    return _save(fig, target / f"heatmap_{HEAT_METRIC}_{service}.png")


def _winners(part: pd.DataFrame, varied: list[str], options: list[str]) -> pd.DataFrame:
    """Per point: the option with the lowest mean, and whether its CI clears the runner-up's."""
    rows = []
    for point, d in part.groupby("point", sort=True):
        d = d[d["option"].isin(options)].dropna(subset=["mean"]).sort_values("mean")
        if d.empty:
            continue
        best = d.iloc[0]
        clear = len(d) == 1 or bool(best["ci_high"] < d.iloc[1]["ci_low"])
        rows.append(
            {
                "point": point,
                varied[0]: best[varied[0]],
                varied[1]: best[varied[1]],
                "winner": options.index(best["option"]),
                "clear": clear,
            }
        )
    return pd.DataFrame(rows, columns=["point", *varied, "winner", "clear"])


def _winner_figure(
    part: pd.DataFrame,
    varied: list[str],
    options: list[str],
    service: str,
    target: Path,
    *,
    grid: bool,
) -> Path:
    wins = _winners(part, varied, options)
    fig = Figure(figsize=(5.6, 4.2), layout="constrained")
    ax = fig.subplots()
    cmap = ListedColormap([_colour(i) for i in range(len(options))])
    if grid and not wins.empty and _is_grid(wins, varied):
        xs, ys = _axis_values(part[varied[0]]), _axis_values(part[varied[1]])
        z = _matrix(wins, varied, "winner", xs, ys)
        ax.imshow(
            np.ma.masked_invalid(z),
            origin="lower",
            aspect="auto",
            cmap=cmap,
            vmin=-0.5,
            vmax=len(options) - 0.5,
            interpolation="nearest",
        )
        for _, row in wins[~wins["clear"]].iterrows():
            c, r = xs.index(row[varied[0]]), ys.index(row[varied[1]])
            ax.add_patch(
                Rectangle(
                    (c - 0.5, r - 0.5),
                    1,
                    1,
                    fill=False,
                    hatch="///",
                    edgecolor="white",
                    linewidth=0,
                )
            )
        _ticks(ax, varied, xs, ys)
    else:
        for i in range(len(options)):
            w = wins[wins["winner"] == i]
            edges = [_colour(i) if clear else "black" for clear in w["clear"]]
            ax.scatter(w[varied[0]], w[varied[1]], color=_colour(i), s=28, edgecolors=edges)
        ax.set_xlabel(_label(varied[0]))
        ax.set_ylabel(_label(varied[1]))
    handles = [Patch(facecolor=_colour(i), label=o) for i, o in enumerate(options)]
    if grid:
        handles.append(
            Patch(
                facecolor="grey",
                hatch="///",
                edgecolor="white",
                label="not clearly best (CIs overlap)",
            )
        )
    else:
        handles.append(
            Patch(facecolor="white", edgecolor="black", label="black edge: not clearly best")
        )
    ax.legend(handles=handles, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.suptitle(f"{service}: option with the lowest mean response")
    return _save(fig, target / f"winner_{service}.png")


def _scatter_figure(
    part: pd.DataFrame, varied: list[str], options: list[str], service: str, target: Path
) -> Path:
    fig = Figure(figsize=(1.5 + 3.6 * len(options), 3.6), layout="constrained")
    axes = fig.subplots(1, len(options), squeeze=False)[0]
    finite = part["mean"].dropna()
    vmin, vmax = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    sc = None
    for k, (ax, option) in enumerate(zip(axes, options, strict=True)):
        d = part[part["option"] == option]
        sc = ax.scatter(
            d[varied[0]], d[varied[1]], c=d["mean"], cmap="cividis", vmin=vmin, vmax=vmax, s=30
        )
        ax.set_xlabel(_label(varied[0]))
        if k == 0:
            ax.set_ylabel(_label(varied[1]))
        ax.set_title(option)
    if sc is not None:
        fig.colorbar(sc, ax=list(axes), label="mean response (min)")
    fig.suptitle(f"{service}: mean response")
    return _save(fig, target / f"scatter_{HEAT_METRIC}_{service}.png")
