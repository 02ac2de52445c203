"""A batch's summaries: many replications' compact tables, and what they mean.

:class:`BatchResults` reads the tables a batch folder holds (each with a
``replication`` column, see :mod:`paxsim.models.results.compact`) and gives
the per-phase online-date quantiles, mean delays with CIs, on-time
probabilities, MW fans by region and year, delay by cause, queue waits and
convergence; :class:`PrecisionStatus` says whether the mean-delay CIs are as
narrow as asked.

Conventions: a phase not online by the horizon has online date +inf for
quantiles ("after horizon"); means of delay are *censored at the horizon*
(a lower bound whenever some replications never came online), and the count
of censored replications is reported beside them.

This is its own module, beside the single-run results, because it is the
batch counterpart of :class:`~paxsim.models.results.run.Results`: it only
reads a finished (or partly finished) batch folder and never runs anything,
so running batches (:mod:`paxsim.batch`) and summarising them stay apart.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from paxsim.sim import stats
from paxsim.sim.replications import REPLICATION, ReplicationStore, RunReport

__all__ = ["NOT_CAUSES", "QUANTILES", "BatchResults", "PrecisionStatus"]

QUANTILES = (0.1, 0.5, 0.9)
#: Columns of ``projects`` the summaries rely on.
_PHASE_COLUMNS = (
    "phase_id",
    "project",
    "region",
    "it_mw",
    "planned_day",
    "online_day",
    "first_power_day",
    "delay_days",
)
#: Cause columns that are bookkeeping rather than delay (never "top causes").
NOT_CAUSES = {"unused_float"}


@dataclass(frozen=True)
class PrecisionStatus:
    """Where a batch stands against a half-width target (days of mean delay)."""

    target: float
    n: int
    max_halfwidth: float
    worst_phase: str
    reached: bool
    suggested_n: int


class BatchResults:
    """A finished (or partly finished) batch: tables with a ``replication`` column.

    Tables are read from the batch folder on first use and only for
    replications ``< n``; summaries are computed from them on demand.
    """

    precision_status: PrecisionStatus | None = None

    def __init__(
        self, store: ReplicationStore, n: int | None = None, report: RunReport | None = None
    ) -> None:
        self.store = store
        self.n = int(store.manifest["n_replications"]) if n is None else n
        self.report = report
        meta = store.manifest["meta"]
        self.start = pd.Timestamp(meta["start"])
        self.horizon_days = float(meta["horizon_days"])
        self.seed = int(store.manifest["seed"])
        self.scenario_name = str(store.manifest["identity"].get("scenario", ""))

    @property
    def out(self) -> Path:
        return self.store.root

    def table(self, name: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        return self.store.read_table(name, columns, below=self.n)

    @cached_property
    def projects(self) -> pd.DataFrame:
        return self.table("projects")

    @cached_property
    def capacity_by_year(self) -> pd.DataFrame:
        return self.table("capacity_by_year")

    @cached_property
    def queue_waits(self) -> pd.DataFrame:
        return self.table("queue_waits")

    @cached_property
    def national(self) -> pd.DataFrame:
        return self.table("national")

    @cached_property
    def facility_shortfall(self) -> pd.DataFrame:
        if "facility_shortfall" not in self.store.table_names():
            return pd.DataFrame()
        return self.table("facility_shortfall")

    @cached_property
    def runs(self) -> pd.DataFrame:
        return self.table("runs")

    @property
    def capacity_online(self) -> pd.DataFrame:
        """Not cached: one row per sample, region and replication can be large."""
        return self.table("capacity_online")

    @property
    def failures(self) -> pd.DataFrame:
        frame = self.store.failures()
        return frame[frame[REPLICATION] < self.n].reset_index(drop=True)

    @property
    def completed(self) -> int:
        return len([i for i in self.store.done() if i < self.n])

    # -- per phase
    def _day_to_date(self, day: float) -> date | None:
        if not np.isfinite(day):
            return None
        return (self.start + pd.Timedelta(days=float(day))).date()

    def phase_frame(self) -> pd.DataFrame:
        """The numeric ``projects`` columns plus the derived ones every summary uses.

        ``online_inf`` (online day, +inf if never), ``censored_delay`` (delay
        with "never" counted to the horizon), ``on_time`` and ``is_online``
        (0/1 floats, so their means are probabilities). Long text columns are
        not read, which keeps a 10,000-replication summary small. The frame is
        cached and shared: copy it before changing it.
        """
        return self._phase_frame

    @cached_property
    def _phase_frame(self) -> pd.DataFrame:
        wanted = [
            c
            for c in self.store.columns("projects")
            if c in _PHASE_COLUMNS or c.startswith("days_")
        ]
        p = self.table("projects", wanted)
        if "phase_id" not in p.columns:  # no replication succeeded
            p = pd.DataFrame(columns=[REPLICATION, *_PHASE_COLUMNS])
        online = p["online_day"].astype(float)
        return p.assign(
            online_inf=online.fillna(np.inf),
            censored_delay=online.fillna(self.horizon_days) - p["planned_day"].astype(float),
            on_time=(online <= p["planned_day"]).fillna(False).astype(float),
            is_online=online.notna().astype(float),
        )

    def phase_summary(
        self, target_date: date | str | None = None, confidence: float = 0.95
    ) -> pd.DataFrame:
        """Per phase: online-date P10/P50/P90, mean delay ± CI, P(on time), P(by target)."""
        p = self.phase_frame()
        if p.empty:
            return pd.DataFrame()
        keys = ["phase_id"]
        info = p.groupby(keys, sort=False).first()[["project", "region", "it_mw", "planned_day"]]
        q = stats.grouped_quantiles(p, keys, "online_inf", QUANTILES).set_index(keys)
        delay = stats.grouped_intervals(p, keys, "censored_delay", confidence).set_index(keys)
        online_only = stats.grouped_intervals(p, keys, "delay_days", confidence).set_index(keys)
        counts = p.groupby(keys).agg(
            n=("on_time", "size"), on_time=("on_time", "sum"), online=("is_online", "sum")
        )
        out = info.join(counts)
        out["planned_date"] = [self._day_to_date(d) for d in out["planned_day"]]
        for name in q.columns.drop("n"):
            out[f"online_{name}_day"] = q[name]  # aligned on phase_id, not position
            out[f"online_{name}"] = [self._day_to_date(d) for d in out[f"online_{name}_day"]]
        out["mean_delay_days"] = delay["mean"]
        out["delay_halfwidth"] = delay["halfwidth"]
        out["after_horizon"] = out["n"] - out["online"]
        out["mean_delay_if_online"] = online_only["mean"].reindex(out.index)
        out["p_online_by_horizon"] = out["online"] / out["n"]
        self._add_probability(out, "p_on_time", out["on_time"], confidence)
        if target_date is not None:
            target = pd.Timestamp(target_date)
            target_day = (target - self.start) / pd.Timedelta(days=1)
            hits = (p["online_inf"] <= target_day).groupby(p["phase_id"]).sum()
            self._add_probability(out, "p_by_target", hits.reindex(out.index), confidence)
            out["target_date"] = target.date()
        out["top_causes"] = self._top_causes(out.index)
        return out.drop(columns=["on_time", "online"]).reset_index()

    @staticmethod
    def _add_probability(out: pd.DataFrame, name: str, hits: pd.Series, confidence: float) -> None:
        bounds = [
            stats.proportion_interval(int(h), int(n), confidence)
            for h, n in zip(hits, out["n"], strict=True)
        ]
        out[name] = hits.astype(float) / out["n"]
        out[f"{name}_low"] = [b[0] for b in bounds]
        out[f"{name}_high"] = [b[1] for b in bounds]

    def _top_causes(self, phases: Iterable[str], k: int = 2) -> list[str]:
        causes = self.cause_summary()
        texts = []
        for phase in phases:
            rows = causes[(causes["phase_id"] == phase) & (causes["mean"] > 0.5)]
            rows = rows[~rows["cause"].isin(NOT_CAUSES)].nlargest(k, "mean")
            texts.append(
                ", ".join(f"{c} {m:.0f}d" for c, m in zip(rows["cause"], rows["mean"], strict=True))
            )
        return texts

    def cause_columns(self) -> list[str]:
        return [c for c in self.phase_frame().columns if c.startswith("days_")]

    def cause_summary(self, confidence: float = 0.95) -> pd.DataFrame:
        """Mean days of delay by cause per phase, ± CI, over replications it came online.

        The ``days_<cause>`` columns split a phase's delay along its critical
        path; a phase not online by the horizon has no path, so it is absent
        (``n`` says how many replications each mean rests on).
        """
        cols = self.cause_columns()
        if not cols:
            return pd.DataFrame(columns=["phase_id", "cause", "n", "mean", "halfwidth"])
        long = self.phase_frame().melt(
            id_vars=[REPLICATION, "phase_id"], value_vars=cols, var_name="cause", value_name="days"
        )
        long["cause"] = long["cause"].str.removeprefix("days_")
        return stats.grouped_intervals(long, ["phase_id", "cause"], "days", confidence)

    def cause_totals(self, confidence: float = 0.95) -> pd.DataFrame:
        """Per cause, phase-days of delay per replication summed over phases online.

        Summing within a replication first keeps replications independent, so
        the t interval is valid across phases that share queues.
        """
        cols = self.cause_columns()
        if not cols:
            return pd.DataFrame(columns=["cause", "n", "mean", "halfwidth"])
        sums = self.phase_frame().groupby(REPLICATION)[cols].sum(min_count=0).reset_index()
        long = sums.melt(id_vars=[REPLICATION], var_name="cause", value_name="days")
        long["cause"] = long["cause"].str.removeprefix("days_")
        out = stats.grouped_intervals(long, "cause", "days", confidence)
        return out.sort_values("mean", ascending=False, kind="stable").reset_index(drop=True)

    # -- capacity and queues
    def capacity_fan(self, qs: Sequence[float] = QUANTILES) -> pd.DataFrame:
        """AI MW online at each year's end, by region (and 'all'): quantiles and mean."""
        cap = self.capacity_by_year
        if cap.empty:
            return pd.DataFrame()
        fan = stats.grouped_quantiles(cap, ["region", "year"], "online_mw", qs, prefix="mw_p")
        extra = cap.groupby(["region", "year"], as_index=False).agg(
            mean_mw=("online_mw", "mean"), planned_mw=("planned_mw", "mean")
        )
        return fan.merge(extra, on=["region", "year"])

    def national_fan(self, qs: Sequence[float] = (0.1, 0.5, 0.9)) -> pd.DataFrame:
        """Data-centre GW online and TWh by country, region and year: P10/P50/P90 and mean."""
        nat = self.national
        if nat.empty:
            return pd.DataFrame()
        keys = ["country", "region", "year"]
        gw = stats.grouped_quantiles(nat, keys, "gw_online", qs, prefix="gw_p")
        twh = stats.grouped_quantiles(nat, keys, "twh", qs, prefix="twh_p").drop(columns="n")
        means = nat.groupby(keys, as_index=False).agg(
            gw_mean=("gw_online", "mean"), twh_mean=("twh", "mean")
        )
        out = gw.merge(twh, on=keys).merge(means, on=keys)
        # A P10 or P90 from fewer than 10 replications is an extreme value, not a quantile.
        out["warning"] = np.where(
            out["n"] < 10, "fewer than 10 replications: P10/P90 are unreliable", ""
        )
        return out

    def queue_summary(self, confidence: float = 0.95) -> pd.DataFrame:
        """Per gate: mean over replications of the mean wait, ± CI, and requests."""
        q = self.queue_waits
        if q.empty:
            return pd.DataFrame()
        out = stats.grouped_intervals(q, ["gate", "background"], "mean_wait", confidence)
        req = q.groupby(["gate", "background"], as_index=False)["requests"].mean()
        return out.merge(req, on=["gate", "background"]).rename(columns={"mean": "mean_wait"})

    def shortfall_summary(self, confidence: float = 0.95) -> pd.DataFrame:
        """Per facility: how often it ran dry, when first (P10/P50/P90, +inf if never), and
        mean days short and dry with CIs; facilities that never ran short are kept."""
        sf = self.facility_shortfall
        if sf.empty:
            return pd.DataFrame()
        keys = ["entity", "kind"]
        frame = sf.assign(
            first_dry=sf["first_dry_day"].fillna(np.inf),
            ever_dry=sf["first_dry_day"].notna().astype(float),
        )
        first = stats.grouped_quantiles(frame, keys, "first_dry", QUANTILES, prefix="first_dry_p")
        dry = stats.grouped_intervals(frame, keys, "dry_days", confidence)
        short = stats.grouped_intervals(frame, keys, "short_days", confidence)
        out = first.merge(
            frame.groupby(keys, as_index=False).agg(
                p_ever_dry=("ever_dry", "mean"), lost_output=("lost_output", "mean")
            ),
            on=keys,
        )
        out = out.merge(
            dry[[*keys, "mean", "halfwidth"]].rename(
                columns={"mean": "dry_days", "halfwidth": "dry_days_halfwidth"}
            ),
            on=keys,
        ).merge(
            short[[*keys, "mean", "halfwidth"]].rename(
                columns={"mean": "short_days", "halfwidth": "short_days_halfwidth"}
            ),
            on=keys,
        )
        return out.sort_values(["first_dry_p50", "entity"], kind="stable").reset_index(drop=True)

    # -- precision
    def convergence(self, ns: Sequence[int] | None = None) -> pd.DataFrame:
        """Per phase, mean censored delay and its CI half-width after n replications."""
        p = self.phase_frame()
        frames = []
        for phase, group in p.groupby("phase_id", sort=True):
            conv = stats.convergence(group["censored_delay"].to_numpy(), ns)
            frames.append(conv.assign(phase_id=phase))
        if not frames:
            return pd.DataFrame(columns=["phase_id", "n", "mean", "halfwidth"])
        out = pd.concat(frames, ignore_index=True)
        return out[["phase_id", "n", "mean", "halfwidth", "relative_halfwidth"]]

    def precision(self, target: float, k_limit: int = 5) -> PrecisionStatus:
        """Is every phase's mean-delay half-width within ``target`` days, stably (Hoad)?"""
        p = self.phase_frame()
        worst, worst_half, reached, needed = "", 0.0, True, 0
        for phase, group in p.groupby("phase_id", sort=True):
            values = group["censored_delay"].to_numpy()
            half = stats.t_interval(values).halfwidth
            if not np.isfinite(half) or half > worst_half:
                worst, worst_half = str(phase), half if np.isfinite(half) else math.inf
            if stats.hoad_replications(values, target, k_limit=k_limit) is None:
                reached = False
            std = float(np.std(values, ddof=1)) if len(values) > 1 else math.inf
            n_needed = stats.replications_needed(std, target) if np.isfinite(std) else 2 * self.n
            needed = max(needed, n_needed + stats.lookahead(n_needed, k_limit))
        return PrecisionStatus(target, self.n, worst_half, worst, reached, needed)

    # -- output
    def summaries(self, target_date: date | str | None = None) -> dict[str, pd.DataFrame]:
        return {
            "phase_summary": self.phase_summary(target_date),
            "capacity_fan": self.capacity_fan(),
            "national_fan": self.national_fan(),
            "cause_summary": self.cause_summary(),
            "cause_totals": self.cause_totals(),
            "queue_summary": self.queue_summary(),
            "shortfall_summary": self.shortfall_summary(),
            "convergence": self.convergence(),
            "failures": self.failures,
        }

    def write_summaries(
        self, folder: str | Path | None = None, target_date: date | str | None = None
    ) -> list[Path]:
        """Each summary as Parquet and CSV under ``<out>/summary`` (or ``folder``)."""
        return _write_frames(self.summaries(target_date), Path(folder or self.out / "summary"))


def _write_frames(frames: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in frames.items():
        csv = folder / f"{name}.csv"
        frame.to_csv(csv, index=False)
        parquet = folder / f"{name}.parquet"
        frame.to_parquet(parquet, index=False)
        written += [parquet, csv]
    return written
