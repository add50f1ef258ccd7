"""Fitting duration distributions to observed times, and choosing among them.

The candidates are the scenario format's parametric families: exponential, lognormal, gamma and
normal (truncated at 0 in the simulation). Each is fitted by maximum likelihood; the one with
the lowest AIC (2k - 2 log L) is chosen, and a Kolmogorov-Smirnov test of the chosen fit says
whether it is also acceptable in absolute terms (its p-value is approximate, the parameters
being estimated from the same data). Zero durations (e.g. no turnout for a unit sent from the
road) are left out of the fit and counted. Every parameter comes with a 95 % confidence
interval: exact where one exists (exponential mean, lognormal median and log-sd, normal mean),
asymptotic (delta method) otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

__all__ = ["MIN_FIT", "DurationFit", "Fit", "fit_durations"]

MIN_FIT = 20  # fewer observations than this: no distribution is fitted
LEVEL = 0.95


@dataclass(frozen=True)
class Fit:
    """One fitted family: parameters in the scenario's terms, likelihood, AIC, KS test."""

    dist: str
    params: dict[str, float]
    ci: dict[str, tuple[float, float]]
    loglik: float
    aic: float
    ks_d: float
    ks_p: float

    def spec(self, digits: int = 4) -> dict[str, object]:
        """The distribution as written in a scenario."""
        return {"dist": self.dist, **{k: _round(v, digits) for k, v in self.params.items()}}

    def frozen(self) -> stats.rv_continuous:
        """The fitted distribution as a scipy object (for CDFs, PDFs, quantiles)."""
        p = self.params
        if self.dist == "exponential":
            return stats.expon(scale=p["mean"])
        if self.dist == "lognormal":
            return stats.lognorm(p["log_sd"], scale=p["median"])
        if self.dist == "gamma":
            shape = (p["mean"] / p["sd"]) ** 2
            return stats.gamma(shape, scale=p["mean"] / shape)
        return stats.norm(p["mean"], p["sd"])

    @property
    def mean(self) -> float:
        return float(self.frozen().mean())


@dataclass
class DurationFit:
    """The fits of one set of durations: the best by AIC, all candidates, and why not."""

    n: int  # positive values fitted
    zeros: int  # zero durations, left out
    values: np.ndarray
    candidates: list[Fit] = field(default_factory=list)
    problem: str = ""  # why nothing was fitted
    constant: bool = False  # every observation the same: a fixed time fits exactly

    @property
    def best(self) -> Fit | None:
        return min(self.candidates, key=lambda f: f.aic) if self.candidates else None

    def comment(self) -> str:
        """Fit quality for a YAML comment: n, AIC against the runner-up, KS, parameter CIs."""
        best = self.best
        if best is None:
            return self.problem
        others = sorted(self.candidates, key=lambda f: f.aic)[1:]
        gap = ""
        if others:
            d = others[0].aic - best.aic
            gap = f"; next {others[0].dist} dAIC {d:.1f}" + (" (about as good)" if d < 2 else "")
        ks = f"KS D={best.ks_d:.3f} p={best.ks_p:.2g}"
        if best.ks_p < 0.01:
            ks += " (rejected: consider dist: empirical)"
        cis = ", ".join(f"{k} {_fmt(lo)}-{_fmt(hi)}" for k, (lo, hi) in best.ci.items())
        zeros = f"; {self.zeros} zero(s) left out" if self.zeros else ""
        return f"n={self.n}{zeros}; AIC best{gap}; {ks}; 95 % CI {cis}"


def _round(v: float, digits: int) -> float:
    if v == 0 or not math.isfinite(v):
        return float(v)
    return float(round(v, max(0, digits - 1 - math.floor(math.log10(abs(v))))))


def _fmt(v: float) -> str:
    return f"{_round(v, 3):g}"


def _sd_ci(x: np.ndarray, sd: float, z: float) -> tuple[float, float]:
    """Asymptotic CI of a standard deviation, valid for any distribution with a 4th moment."""
    n = len(x)
    m2 = float(np.mean((x - x.mean()) ** 2))
    kurt = float(np.mean((x - x.mean()) ** 4)) / m2**2 if m2 > 0 else 3.0
    se = sd * math.sqrt(max(kurt - 1.0, 0.0) / (4 * n))
    return max(sd - z * se, 0.0), sd + z * se


def _candidates(x: np.ndarray) -> list[Fit]:
    n = len(x)
    z = float(stats.norm.ppf(0.5 + LEVEL / 2))
    t = float(stats.t.ppf(0.5 + LEVEL / 2, n - 1))
    a = (1 - LEVEL) / 2
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    logs = np.log(x)
    mu, sigma = float(logs.mean()), float(logs.std(ddof=0))
    out: list[tuple[str, dict[str, float], dict[str, tuple[float, float]], object]] = []
    # exponential: exact chi-square interval of the mean
    lo = 2 * n * mean / stats.chi2.ppf(1 - a, 2 * n)
    hi = 2 * n * mean / stats.chi2.ppf(a, 2 * n)
    out.append(("exponential", {"mean": mean}, {"mean": (lo, hi)}, stats.expon(scale=mean)))
    if sigma > 0:
        s1 = float(logs.std(ddof=1))
        half = t * s1 / math.sqrt(n)
        sd_lo = math.sqrt((n - 1) * s1**2 / stats.chi2.ppf(1 - a, n - 1))
        sd_hi = math.sqrt((n - 1) * s1**2 / stats.chi2.ppf(a, n - 1))
        out.append(
            (
                "lognormal",
                {"median": math.exp(mu), "log_sd": sigma},
                {"median": (math.exp(mu - half), math.exp(mu + half)), "log_sd": (sd_lo, sd_hi)},
                stats.lognorm(sigma, scale=math.exp(mu)),
            )
        )
    if sd > 0:
        shape, _, scale = stats.gamma.fit(x, floc=0)
        g_mean, g_sd = shape * scale, math.sqrt(shape) * scale
        half = t * sd / math.sqrt(n)
        out.append(
            (
                "gamma",
                {"mean": g_mean, "sd": g_sd},
                {"mean": (g_mean - half, g_mean + half), "sd": _sd_ci(x, g_sd, z)},
                stats.gamma(shape, scale=scale),
            )
        )
        s0 = float(x.std(ddof=0))
        out.append(
            (
                "normal",
                {"mean": mean, "sd": s0},
                {
                    "mean": (mean - t * sd / math.sqrt(n), mean + t * sd / math.sqrt(n)),
                    "sd": _sd_ci(x, s0, z),
                },
                stats.norm(mean, s0),
            )
        )
    fits = []
    for name, params, ci, rv in out:
        with np.errstate(divide="ignore"):
            loglik = float(np.sum(rv.logpdf(x)))  # type: ignore[attr-defined]
        if not math.isfinite(loglik):
            continue
        ks = stats.kstest(x, rv.cdf)  # type: ignore[attr-defined]
        aic = 2 * len(params) - 2 * loglik
        fits.append(Fit(name, params, ci, loglik, aic, float(ks.statistic), float(ks.pvalue)))
    return fits


def fit_durations(values: np.ndarray, min_n: int = MIN_FIT) -> DurationFit:
    """Fit the candidate families to ``values`` (minutes; NaN and negatives ignored)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v) & (v >= 0)]
    zeros = int(np.sum(v == 0))
    x = v[v > 0]
    out = DurationFit(len(x), zeros, x)
    if len(x) < min_n:
        out.problem = f"too few observations (n={len(x)} < {min_n})"
        if zeros:
            out.problem += f"; {zeros} zero(s)"
        return out
    if float(x.max() - x.min()) <= 1e-6 * max(float(x.max()), 1.0):
        out.problem = f"all {len(x)} observations are equal ({x[0]:g}): a fixed time"
        out.constant = True
        return out
    out.candidates = _candidates(x)
    if not out.candidates:
        out.problem = "no distribution could be fitted"
    return out
