"""Paired comparison of a base and a policy batch run with common random numbers.

Replication ``i`` of both batches uses the same seed, so differences are
taken per replication (``policy - base``) and their intervals are far
narrower than independent sampling would give; :class:`Comparison` reports
the differences by phase and by region-year, and how much pairing bought.

This is its own module because it summarises two batches against each
other rather than one batch on its own (:mod:`paxsim.models.results.batch`);
running the two batches is :func:`paxsim.batch.compare`.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from paxsim.models.results import metrics
from paxsim.models.results.batch import BatchResults, _write_frames
from paxsim.sim import stats
from paxsim.sim.replications import REPLICATION

__all__ = ["Comparison"]


class Comparison:
    """A base and a policy batch run with the same replication seeds (common random numbers).

    Every difference is ``policy - base``, paired on the replication number,
    so a replication that failed in either batch drops out of the pair.
    ``variance_ratio`` = var(paired diff) / (var(base) + var(policy)): the
    fraction of the variance independent sampling would have left.
    """

    def __init__(self, base: BatchResults, policy: BatchResults) -> None:
        self.base = base
        self.policy = policy

    @staticmethod
    def _censored(res: BatchResults) -> pd.DataFrame:
        frame = res.phase_frame()
        first = frame["first_power_day"] if "first_power_day" in frame else frame["online_day"]
        return frame.assign(
            online_censored=frame["online_day"].fillna(res.horizon_days),
            first_power_censored=first.fillna(res.horizon_days),
        )

    def phase_differences(self, confidence: float = 0.95) -> pd.DataFrame:
        """Per phase: full-power day (the headline) and first-power day, both censored at
        the horizon, and the on-time indicator, each as a paired difference with its CI."""
        a, b = (self._censored(res) for res in (self.base, self.policy))
        days = stats.grouped_paired_differences(
            a, b, REPLICATION, "phase_id", "online_censored", confidence
        )
        first = stats.grouped_paired_differences(
            a, b, REPLICATION, "phase_id", "first_power_censored", confidence
        )[["phase_id", "diff", "halfwidth"]].rename(
            columns={"diff": "first_power_day_diff", "halfwidth": "first_power_day_halfwidth"}
        )
        ontime = stats.grouped_paired_differences(
            a, b, REPLICATION, "phase_id", "on_time", confidence
        )
        days = days.rename(columns={"mean_a": "base_mean_day", "mean_b": "policy_mean_day"})
        ontime = ontime[["phase_id", "mean_a", "mean_b", "diff", "halfwidth", "variance_ratio"]]
        ontime = ontime.rename(
            columns={
                "mean_a": "base_p_on_time",
                "mean_b": "policy_p_on_time",
                "diff": "p_on_time_diff",
                "halfwidth": "p_on_time_halfwidth",
                "variance_ratio": "p_on_time_variance_ratio",
            }
        )
        days = days.rename(columns={"diff": "online_day_diff", "halfwidth": "online_day_halfwidth"})
        out = days.merge(ontime, on="phase_id", how="left").merge(first, on="phase_id", how="left")
        order = pd.unique(a["phase_id"])  # scenario order, as in phase_summary
        out = (
            out.set_index("phase_id")
            .reindex([p for p in order if p in set(out["phase_id"])])
            .reset_index()
        )
        out["binding_constraint"] = self._binding(out, b)
        return out

    def _binding(self, diffs: pd.DataFrame, policy: pd.DataFrame) -> list[str]:
        """Where the lever did not move a phase, what held it instead (in the policy run).

        A difference whose interval includes 0 is "not moved"; the answer is the
        phase's largest delay cause under the policy, or that it was never
        online, so a lever that acts upstream of something else says so.
        """
        top = self.policy._top_causes(list(diffs["phase_id"]), k=1)
        never = policy.groupby("phase_id")["online_day"].apply(lambda s: bool(s.isna().all()))
        out = []
        for phase, diff, half, cause in zip(
            diffs["phase_id"],
            diffs["online_day_diff"],
            diffs["online_day_halfwidth"],
            top,
            strict=True,
        ):
            moved = diff != 0 and (math.isnan(half) or abs(diff) > half)
            if moved:
                out.append("")
            elif never.get(phase, False):
                out.append("not online by the horizon in the policy run")
            elif cause.startswith(("plan_optimism", "unused_float")):
                out.append("no constraint: the plan itself was optimistic")
            elif cause:
                out.append(f"critical path: {cause.split(' ')[0]}")
            else:
                out.append("on plan in both runs")
        return out

    def capacity_differences(self, confidence: float = 0.95) -> pd.DataFrame:
        """AI MW online at year end, by region (and 'all'), policy - base, paired."""
        return stats.grouped_paired_differences(
            self.base.capacity_by_year,
            self.policy.capacity_by_year,
            REPLICATION,
            ["region", "year"],
            "online_mw",
            confidence,
        ).rename(columns={"mean_a": "base_mw", "mean_b": "policy_mw", "diff": "mw_diff"})

    def variance_reduction(self) -> pd.DataFrame:
        """What pairing bought, per kind of metric (ratio < 1: common random numbers helped).

        ``pooled_ratio`` = sum of paired variances / sum of independent ones
        over the metric's cells with any variance; cells the policy leaves
        unchanged (ratio 0) would make a plain median look better than it is.
        """
        rows = []
        for metric, frame in (
            ("online day", self.phase_differences()),
            ("MW online at year end", self.capacity_differences()),
        ):
            live = frame[frame["var_independent"] > 0]
            pooled = (
                float(live["var_paired"].sum() / live["var_independent"].sum())
                if len(live)
                else math.nan
            )
            median = float(live["variance_ratio"].median()) if len(live) else math.nan
            saved = 1.0 / pooled if pooled > 0 else math.inf if pooled == 0 else math.nan
            rows.append((metric, len(live), median, pooled, saved))
        columns = ["metric", "cells", "median_ratio", "pooled_ratio", "replications_saved_factor"]
        return pd.DataFrame(rows, columns=columns)

    def headlines(self, confidence: float = 0.95) -> pd.DataFrame:
        """The study's headline metrics by country and "all", as paired differences.

        MW-weighted full-power day, days 50 % / 90 % of planned MW online,
        MW-years lost, MW stranded at the horizon, P(on time) where informative
        and GW online at the end of 2028 and 2030: see
        :func:`paxsim.models.results.metrics.headline_differences`.
        """
        return metrics.headline_differences(self.base, self.policy, confidence=confidence)

    def write(self, folder: str | Path) -> list[Path]:
        frames = {
            "phase_differences": self.phase_differences(),
            "capacity_differences": self.capacity_differences(),
            "variance_reduction": self.variance_reduction(),
            "headlines": self.headlines(),
        }
        return _write_frames(frames, Path(folder))
