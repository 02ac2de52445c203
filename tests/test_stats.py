"""sim.stats against known distributions: coverage, quantiles, precision, pairing."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from paxsim.sim import stats


def _coverage(samples: np.ndarray, true_mean: float) -> float:
    """Share of rows whose t interval (via grouped_intervals) contains the true mean."""
    trials, n = samples.shape
    frame = pd.DataFrame({"trial": np.repeat(np.arange(trials), n), "x": samples.ravel()})
    ci = stats.grouped_intervals(frame, "trial", "x")
    return float(((ci["low"] <= true_mean) & (true_mean <= ci["high"])).mean())


# ------------------------------------------------------------------------------ means
def test_t_interval_matches_scipy() -> None:
    x = np.array([3.1, 4.7, 2.2, 5.9, 4.4, 3.8])
    got = stats.t_interval(x, 0.9)
    low, high = sps.t.interval(0.9, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
    assert got.low == pytest.approx(low) and got.high == pytest.approx(high)
    assert got.n == 6 and got.std == pytest.approx(x.std(ddof=1))


def test_t_interval_coverage_normal_small_n() -> None:
    # n = 5: a z interval would cover ~88 %; the t interval must give ~95 %.
    rng = np.random.default_rng(1)
    cov = _coverage(rng.normal(10.0, 3.0, size=(4000, 5)), 10.0)
    assert 0.94 <= cov <= 0.96


def test_t_interval_coverage_skewed_larger_n() -> None:
    rng = np.random.default_rng(2)
    cov = _coverage(rng.exponential(50.0, size=(3000, 60)), 50.0)
    assert 0.925 <= cov <= 0.96


def test_t_interval_drops_nan_and_rejects_inf() -> None:
    got = stats.t_interval([1.0, np.nan, 3.0])
    assert got.n == 2 and got.mean == 2.0
    assert math.isnan(stats.t_interval([4.0]).halfwidth)
    with pytest.raises(ValueError, match="censor"):
        stats.t_interval([1.0, np.inf])


def test_wilson_interval_coverage_and_edges() -> None:
    rng = np.random.default_rng(3)
    p, n = 0.1, 50
    hits = rng.binomial(n, p, size=4000)
    bounds = np.array([stats.proportion_interval(int(h), n) for h in hits])
    cov = float(((bounds[:, 0] <= p) & (p <= bounds[:, 1])).mean())
    assert 0.93 <= cov <= 0.97
    low, high = stats.proportion_interval(0, 20)
    assert low == 0.0 and 0.1 < high < 0.2  # Wald would say [0, 0]


# ------------------------------------------------------------------------------ quantiles
@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=40),
    st.lists(st.floats(0, 1), min_size=1, max_size=5),
)
def test_quantiles_match_numpy_on_finite_data(values: list[float], qs: list[float]) -> None:
    np.testing.assert_allclose(
        stats.quantiles(values, qs), np.quantile(values, qs), rtol=1e-9, atol=1e-6
    )


def test_quantiles_keep_infinity_as_after_horizon() -> None:
    x = [1.0, 2.0, 3.0, np.inf, np.nan]
    got = stats.quantiles(x, [0.0, 0.5, 2 / 3, 0.9, 1.0])
    assert got[0] == 1.0 and got[1] == 2.5 and got[2] == 3.0
    assert np.isinf(got[3]) and np.isinf(got[4])
    assert np.isinf(stats.quantiles([np.inf, np.inf], [0.5])).all()
    assert np.isnan(stats.quantiles([np.nan], [0.5])).all()
    with pytest.raises(ValueError):
        stats.quantiles(x, [1.5])


def test_grouped_quantiles_columns() -> None:
    frame = pd.DataFrame({"g": ["a"] * 11 + ["b"] * 3, "v": [*range(11), 1.0, np.inf, np.inf]})
    out = stats.grouped_quantiles(frame, "g", "v").set_index("g")
    assert list(out.columns) == ["n", "p10", "p50", "p90"]
    assert out.loc["a", "p50"] == 5.0 and out.loc["a", "p90"] == pytest.approx(9.0)
    b = out.loc["b"]
    assert np.isinf(b["p50"]) and b["p10"] > 1.0


# ------------------------------------------------------------------------------ precision
def test_cumulative_halfwidths_match_direct_and_shrink() -> None:
    rng = np.random.default_rng(4)
    x = 1e5 + rng.normal(0, 20, size=400)  # large offset, small spread: no cancellation
    mean, half = stats.cumulative_halfwidths(x)
    for n in (2, 17, 400):
        direct = stats.t_interval(x[:n])
        assert mean[n - 1] == pytest.approx(direct.mean)
        assert half[n - 1] == pytest.approx(direct.halfwidth, rel=1e-6)
    conv = stats.convergence(x).set_index("n")
    half_by_n = conv["halfwidth"]
    shrink = half_by_n[400] / half_by_n[100]
    assert shrink == pytest.approx(0.5, abs=0.15)  # 1 / sqrt(4)
    assert list(conv.index) == [2, 5, 10, 20, 50, 100, 200, 400]


def test_replications_needed_is_smallest() -> None:
    std, target = 30.0, 5.0
    n = stats.replications_needed(std, target)
    t = lambda k: sps.t.ppf(0.975, k - 1) * std / math.sqrt(k)  # noqa: E731
    assert t(n) <= target < t(n - 1)


def test_hoad_needs_lookahead_confirmation() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(100, 10, size=300)
    n = stats.hoad_replications(x, target=3.0)
    assert n is not None
    _, half = stats.cumulative_halfwidths(x)
    assert half[n - 1] <= 3.0
    assert (half[n - 1 : n - 1 + stats.lookahead(n) + 1] <= 3.0).all()
    assert stats.hoad_replications(x, target=0.1) is None
    assert stats.lookahead(50) == 5 and stats.lookahead(1000) == 50


# ------------------------------------------------------------------------------ pairing
def test_paired_difference_with_common_random_numbers() -> None:
    rng = np.random.default_rng(6)
    n = 2000
    shared = rng.normal(0, 10, n)  # the common random numbers
    a = shared + rng.normal(0, 1, n)
    b = shared + 0.5 + rng.normal(0, 1, n)
    got = stats.paired_difference(a, b)
    # var(b - a) = 2, var(a) + var(b) = 202
    assert got.variance_ratio == pytest.approx(2 / 202, rel=0.15)
    assert got.low <= 0.5 <= got.high
    assert got.halfwidth < 0.15 * got.independent_halfwidth
    indep = stats.paired_difference(rng.normal(0, 10, n), rng.normal(0, 10, n))
    assert indep.variance_ratio == pytest.approx(1.0, abs=0.12)


def test_grouped_paired_differences_pair_on_replication() -> None:
    a = pd.DataFrame(
        {"rep": [0, 1, 2, 3, 0, 1], "g": ["x"] * 4 + ["y"] * 2, "v": [1, 2, 3, 4, 5, 6.0]}
    )
    b = pd.DataFrame({"rep": [3, 2, 1, 0, 1], "g": ["x"] * 4 + ["y"], "v": [14, 13, 12, 11, 16.0]})
    out = stats.grouped_paired_differences(a, b, "rep", "g", "v").set_index("g")
    assert out.loc["x", "diff"] == 10.0 and out.loc["x", "halfwidth"] == 0.0
    assert out.loc["x", "variance_ratio"] == 0.0
    assert out.loc["y", "n"] == 1  # replication 0 failed in b: dropped from the pair
