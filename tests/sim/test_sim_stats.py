"""sim.stats edge cases found untested by mutation testing (the bulk: tests/test_stats.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from paxsim.sim import stats


def test_grouped_intervals_match_t_interval_for_small_groups() -> None:
    # Groups of 1, 2 and 3: the t quantile needs n - 1 degrees of freedom, exactly.
    frame = pd.DataFrame({"g": ["a", "b", "b", "c", "c", "c"], "x": [1.0, 2.0, 5.0, 1.0, 4.0, 9.0]})
    out = stats.grouped_intervals(frame, "g", "x").set_index("g")
    assert math.isnan(out.loc["a", "halfwidth"])
    for group in ("b", "c"):
        want = stats.t_interval(frame.loc[frame["g"] == group, "x"])
        assert out.loc[group, "n"] == want.n
        assert out.loc[group, "halfwidth"] == pytest.approx(want.halfwidth, rel=1e-12)


def test_hoad_without_lookahead_can_stop_at_the_last_replication() -> None:
    # A constant tail shrinks the half-width at every step, so the target set at
    # the last replication's half-width is first met there.
    values = np.array([0.0, 10.0, 0.0, 10.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0])
    _, half = stats.cumulative_halfwidths(values)
    target = float(half[-1])
    assert (half[2:-1] > target).all()
    assert stats.hoad_replications(values, target, k_limit=0) == len(values)
    assert stats.hoad_replications(values, target, k_limit=1) is None  # nothing left to confirm


def test_grouped_paired_differences_come_out_sorted_by_group() -> None:
    reps = np.arange(4)
    a = pd.DataFrame({"g": ["z"] * 4 + ["a"] * 4, "rep": [*reps, *reps], "v": np.arange(8.0)})
    b = a.assign(v=a["v"] + np.where(a["g"] == "z", 1.0, 2.0))
    out = stats.grouped_paired_differences(a, b, "rep", "g", "v")
    assert list(out["g"]) == ["a", "z"]
    assert list(out["diff"]) == pytest.approx([2.0, 1.0])


def test_hoad_skips_a_lucky_early_dip() -> None:
    # Three close values give a tiny half-width at n = 3; two outliers then blow
    # it up, and it takes until n = 30 to come back under the target for good.
    values = np.array([10.0, 10.2, 10.1, 0.0, 20.0] + [10.0, 10.5, 9.5] * 20)
    _, half = stats.cumulative_halfwidths(values)
    ok = half <= 1.0
    assert ok[2] and not ok[3]  # the dip
    n = stats.hoad_replications(values, 1.0)
    assert n == 30
    assert ok[n - 1 : n + stats.lookahead(n)].all() and not ok[n - 2]
