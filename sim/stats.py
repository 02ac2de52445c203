"""Output analysis for replicated simulations: intervals, quantiles, precision, pairing.

Domain-free: every function takes plain arrays or tidy DataFrames and knows
nothing of projects or megawatts. The conventions, shared by all of them:

* ``NaN`` is a *missing* observation (a failed replication) and is dropped;
* ``+inf`` is a real observation that lies beyond the horizon (a date that was
  never reached). Quantiles keep it, so a P90 can be "after horizon"; means
  cannot, so callers censor first and say so.
* Confidence intervals for means are Student-t intervals over independent
  replications (the replication/deletion method: one number per replication).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

__all__ = [
    "Interval",
    "PairedDifference",
    "convergence",
    "cumulative_halfwidths",
    "grouped_intervals",
    "grouped_paired_differences",
    "grouped_quantiles",
    "hoad_replications",
    "lookahead",
    "paired_difference",
    "proportion_interval",
    "quantiles",
    "replications_needed",
    "t_interval",
]

ArrayLike = npt.ArrayLike


def _finite_or_inf(values: ArrayLike) -> npt.NDArray[np.float64]:
    """As float64 with NaN (missing) dropped; +inf (beyond horizon) kept."""
    x = np.asarray(values, dtype=float).ravel()
    return x[~np.isnan(x)]


def _t_quantile(confidence: float, dof: npt.NDArray[np.float64] | float) -> npt.NDArray[np.float64]:
    # scipy.special, not scipy.stats: the latter costs a second to import in every worker.
    return np.asarray(special.stdtrit(dof, 0.5 + confidence / 2.0), dtype=float)


def _z_quantile(confidence: float) -> float:
    return float(special.ndtri(0.5 + confidence / 2.0))


# ------------------------------------------------------------------------------ means
@dataclass(frozen=True)
class Interval:
    """A mean with its two-sided Student-t confidence interval."""

    mean: float
    halfwidth: float
    n: int
    std: float
    confidence: float = 0.95

    @property
    def low(self) -> float:
        return self.mean - self.halfwidth

    @property
    def high(self) -> float:
        return self.mean + self.halfwidth

    def __str__(self) -> str:
        return f"{self.mean:.4g} ± {self.halfwidth:.2g} (n={self.n})"


def t_interval(values: ArrayLike, confidence: float = 0.95) -> Interval:
    """Mean ± t-based half-width; the half-width is NaN below two observations.

    Infinite values are rejected: a mean over "never" is meaningless, so the
    caller must censor (and say so) before asking for one.
    """
    x = _finite_or_inf(values)
    if np.isinf(x).any():
        raise ValueError("t_interval needs finite values; censor +inf at the horizon first")
    n = len(x)
    if n == 0:
        return Interval(math.nan, math.nan, 0, math.nan, confidence)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, math.nan, 1, math.nan, confidence)
    std = float(x.std(ddof=1))
    half = float(_t_quantile(confidence, n - 1) * std / math.sqrt(n))
    return Interval(mean, half, n, std, confidence)


def grouped_intervals(
    frame: pd.DataFrame, by: str | Sequence[str], value: str, confidence: float = 0.95
) -> pd.DataFrame:
    """``t_interval`` per group, vectorised: columns n, mean, std, halfwidth, low, high."""
    keys = [by] if isinstance(by, str) else list(by)
    data = frame[[*keys, value]].dropna(subset=[value])
    grouped = data.groupby(keys, sort=True, observed=True)[value]
    out = grouped.agg(n="count", mean="mean", std="std").reset_index()
    n = out["n"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        tq = np.where(n >= 2, _t_quantile(confidence, np.maximum(n - 1, 1)), np.nan)
        out["halfwidth"] = tq * out["std"].to_numpy(dtype=float) / np.sqrt(n)
    out["low"] = out["mean"] - out["halfwidth"]
    out["high"] = out["mean"] + out["halfwidth"]
    out["n"] = out["n"].astype(int)
    return out


def proportion_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval: sane at p = 0 or 1, where the Wald interval collapses."""
    if n <= 0:
        return (math.nan, math.nan)
    z = _z_quantile(confidence)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


# ------------------------------------------------------------------------------ quantiles
def quantiles(values: ArrayLike, qs: Sequence[float]) -> npt.NDArray[np.float64]:
    """Sample quantiles (Hyndman-Fan type 7, numpy's default) that tolerate +inf.

    numpy's interpolation turns ``inf * 0`` into NaN; here a quantile is +inf
    exactly when it interpolates towards an infinite order statistic, so
    "P90 is after the horizon" comes out as +inf, not NaN.
    """
    x = np.sort(_finite_or_inf(values))
    q = np.asarray(qs, dtype=float)
    if np.any((q < 0) | (q > 1)):
        raise ValueError(f"quantile levels must lie in [0, 1], got {list(q)}")
    if len(x) == 0:
        return np.full(q.shape, np.nan)
    pos = q * (len(x) - 1)
    lo = np.floor(pos).astype(int)
    hi = np.ceil(pos).astype(int)
    frac = pos - lo
    a, b = x[lo], x[hi]
    with np.errstate(invalid="ignore"):
        out = a + (b - a) * frac
    out = np.where(frac == 0, a, out)
    return np.where(np.isinf(b) & (frac > 0), b, out)


def grouped_quantiles(
    frame: pd.DataFrame,
    by: str | Sequence[str],
    value: str,
    qs: Sequence[float] = (0.1, 0.5, 0.9),
    prefix: str = "p",
) -> pd.DataFrame:
    """One row per group, one column per level (``p10``, ``p50``, ...) plus ``n``."""
    keys = [by] if isinstance(by, str) else list(by)
    names = [f"{prefix}{round(q * 100):d}" for q in qs]
    rows = []
    for key, group in frame.groupby(keys, sort=True, observed=True):
        key_t = key if isinstance(key, tuple) else (key,)
        vals = group[value].to_numpy(dtype=float)
        n = int((~np.isnan(vals)).sum())
        rows.append((*key_t, n, *quantiles(vals, qs)))
    return pd.DataFrame(rows, columns=[*keys, "n", *names])


# ------------------------------------------------------------------------------ precision
def cumulative_halfwidths(
    values: ArrayLike, confidence: float = 0.95
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Running mean and CI half-width after 1, 2, ..., n observations (in order).

    Uses sums shifted by the first value, so the variance does not cancel
    catastrophically when the values are large dates with a small spread.
    """
    x = _finite_or_inf(values)
    if np.isinf(x).any():
        raise ValueError("cumulative_halfwidths needs finite values")
    if len(x) == 0:
        return np.array([]), np.array([])
    k = np.arange(1, len(x) + 1, dtype=float)
    d = x - x[0]
    s1 = np.cumsum(d)
    s2 = np.cumsum(d * d)
    mean = x[0] + s1 / k
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.maximum(s2 - s1 * s1 / k, 0.0) / (k - 1)
        tq = np.where(k >= 2, _t_quantile(confidence, np.maximum(k - 1, 1)), np.nan)
        half = tq * np.sqrt(var / k)
    return mean, half


def convergence(
    values: ArrayLike, ns: Sequence[int] | None = None, confidence: float = 0.95
) -> pd.DataFrame:
    """How the CI of the mean tightens with the number of replications.

    ``ns`` defaults to a 1-2-5 ladder up to the sample size (and the size
    itself). The half-width should fall roughly as ``1/sqrt(n)``; a ladder that
    does not is a sign of heavy tails or too few replications.
    """
    mean, half = cumulative_halfwidths(values, confidence)
    total = len(mean)
    if ns is None:
        ladder = [m * 10**e for e in range(0, 9) for m in (1, 2, 5)]
        ns = [n for n in ladder if 2 <= n < total] + ([total] if total >= 2 else [])
    rows = []
    for n in ns:
        if 1 <= n <= total:
            m, h = float(mean[n - 1]), float(half[n - 1])
            rel = h / abs(m) if m else math.nan
            rows.append((n, m, h, rel))
    return pd.DataFrame(rows, columns=["n", "mean", "halfwidth", "relative_halfwidth"])


def replications_needed(
    std: float, target_halfwidth: float, confidence: float = 0.95, n_min: int = 2
) -> int:
    """Smallest n with ``t(n-1) * std / sqrt(n) <= target`` (std held fixed).

    Starts from the normal approximation and walks up, because the t quantile
    itself shrinks with n.
    """
    if target_halfwidth <= 0:
        raise ValueError("target_halfwidth must be positive")
    if not np.isfinite(std) or std <= 0:
        return n_min
    z = _z_quantile(confidence)
    n = max(n_min, math.ceil((z * std / target_halfwidth) ** 2))
    while float(_t_quantile(confidence, n - 1)) * std / math.sqrt(n) > target_halfwidth:
        n += 1
    return n


def lookahead(n: int, k_limit: int = 5) -> int:
    """Hoad et al. (2010): how many further replications must confirm a precision."""
    return k_limit if n <= 100 else math.floor(n * k_limit / 100)


def hoad_replications(
    values: ArrayLike,
    target: float,
    relative: bool = False,
    k_limit: int = 5,
    confidence: float = 0.95,
    n_min: int = 3,
) -> int | None:
    """The replication algorithm of Hoad, Robinson & Davies (2010), on data in hand.

    Returns the smallest ``n`` whose CI half-width (relative to the mean if
    ``relative``) is within ``target`` *and stays there* for the next
    ``lookahead(n)`` replications, guarding against a lucky early dip; ``None``
    if the data do not reach that yet.
    """
    mean, half = cumulative_halfwidths(values, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        dev = half / np.abs(mean) if relative else half
    ok = np.nan_to_num(dev, nan=np.inf) <= target
    total = len(ok)
    for n in range(n_min, total + 1):
        if not ok[n - 1]:
            continue
        end = n + lookahead(n, k_limit)
        if end > total:
            return None
        if ok[n - 1 : end].all():
            return n
    return None


# ------------------------------------------------------------------------------ pairing
@dataclass(frozen=True)
class PairedDifference:
    """Mean of ``b - a`` over paired replications, and what pairing bought.

    ``variance_ratio`` is ``var(b - a) / (var(a) + var(b))``: the variance of a
    paired difference relative to what independent streams would give at the
    same n. Below 1, common random numbers helped; ``1 / ratio`` is the factor
    of replications saved.
    """

    mean: float
    halfwidth: float
    n: int
    var_paired: float
    var_independent: float
    independent_halfwidth: float
    confidence: float = 0.95

    @property
    def low(self) -> float:
        return self.mean - self.halfwidth

    @property
    def high(self) -> float:
        return self.mean + self.halfwidth

    @property
    def variance_ratio(self) -> float:
        if not self.var_independent > 0:
            return math.nan
        return self.var_paired / self.var_independent


def paired_difference(a: ArrayLike, b: ArrayLike, confidence: float = 0.95) -> PairedDifference:
    """CI of ``mean(b - a)`` for paired samples (pairs with a NaN are dropped)."""
    xa = np.asarray(a, dtype=float).ravel()
    xb = np.asarray(b, dtype=float).ravel()
    if xa.shape != xb.shape:
        raise ValueError(f"paired samples differ in length: {xa.shape} vs {xb.shape}")
    keep = ~(np.isnan(xa) | np.isnan(xb))
    xa, xb = xa[keep], xb[keep]
    if np.isinf(xa).any() or np.isinf(xb).any():
        raise ValueError("paired_difference needs finite values; censor first")
    diff = t_interval(xb - xa, confidence)
    n = diff.n
    if n < 2:
        return PairedDifference(diff.mean, math.nan, n, math.nan, math.nan, math.nan, confidence)
    var_ind = float(xa.var(ddof=1) + xb.var(ddof=1))
    ind_half = float(_t_quantile(confidence, n - 1) * math.sqrt(var_ind / n))
    return PairedDifference(
        diff.mean, diff.halfwidth, n, diff.std**2, var_ind, ind_half, confidence
    )


def grouped_paired_differences(
    a: pd.DataFrame,
    b: pd.DataFrame,
    pair_on: str | Sequence[str],
    by: str | Sequence[str],
    value: str,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """``paired_difference`` of ``value`` per group of ``by``, pairing rows on ``pair_on``.

    Rows are matched on ``by`` + ``pair_on`` (typically the replication
    number), so a replication that failed on either side drops out of the pair.
    """
    keys = [by] if isinstance(by, str) else list(by)
    pair = [pair_on] if isinstance(pair_on, str) else list(pair_on)
    merged = a[[*keys, *pair, value]].merge(
        b[[*keys, *pair, value]], on=[*keys, *pair], suffixes=("_a", "_b")
    )
    rows = []
    for key, group in merged.groupby(keys, sort=True, observed=True):
        key_t = key if isinstance(key, tuple) else (key,)
        pdiff = paired_difference(group[f"{value}_a"], group[f"{value}_b"], confidence)
        rows.append(
            (
                *key_t,
                pdiff.n,
                float(group[f"{value}_a"].mean()),
                float(group[f"{value}_b"].mean()),
                pdiff.mean,
                pdiff.halfwidth,
                pdiff.low,
                pdiff.high,
                pdiff.independent_halfwidth,
                pdiff.var_paired,
                pdiff.var_independent,
                pdiff.variance_ratio,
            )
        )
    columns = [
        *keys,
        "n",
        "mean_a",
        "mean_b",
        "diff",
        "halfwidth",
        "low",
        "high",
        "independent_halfwidth",
        "var_paired",
        "var_independent",
        "variance_ratio",
    ]
    return pd.DataFrame(rows, columns=columns)
