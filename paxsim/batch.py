"""Monte Carlo batches of a scenario: what each replication keeps, and what it means.

The engine (:mod:`sim.replications`) runs replications anywhere and stores
tables; :mod:`sim.stats` turns numbers into intervals. This module is the
domain glue between them:

* :class:`ScenarioReplication` runs one replication and keeps only compact
  tables (projects, capacity by region, queue-wait summaries), so a batch of
  10,000 never holds raw facility time series;
* :func:`run_batch` / :func:`load_batch` give a :class:`BatchResults` whose
  tables carry a ``replication`` column and whose methods give the per-phase
  online-date quantiles, mean delays with CIs, on-time probabilities, MW fans
  by region and year, delay by cause and convergence;
* :func:`compare` runs a base and a policy scenario with common random numbers
  and reports paired differences (:class:`Comparison`).

Conventions: a phase not online by the horizon has online date +inf for
quantiles ("after horizon"); means of delay are *censored at the horizon*
(a lower bound whenever some replications never came online), and the count
of censored replications is reported beside them.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from paxsim.models.loader import load_scenario, scenario_hash
from paxsim.models.results import Results
from paxsim.models.scenario import Scenario
from paxsim.models.simulation import PAXSIM_VERSION, simulate
from paxsim.sim import stats
from paxsim.sim.replications import (
    REPLICATION,
    Backend,
    ReplicationStore,
    RunReport,
    run_replications,
)

__all__ = [
    "KEPT_TABLES",
    "BatchResults",
    "Comparison",
    "ScenarioReplication",
    "compact_tables",
    "compare",
    "content_hash",
    "load_batch",
    "make_backend",
    "run_batch",
]

#: What each replication keeps (everything else is dropped in the worker).
KEPT_TABLES = {
    "projects": "one row per data-center phase (as in a single run)",
    "capacity_online": "AI MW online by grid region at each sample time",
    "capacity_by_year": "AI MW online by region (and 'all') at the last sample of each year",
    "queue_waits": "per gate and background flag: requests, mean/p90/max wait, mean service",
    "runs": "per replication: simulated events and wall seconds (timing; not reproducible)",
}
#: Bumped whenever what a replication keeps changes, so old batches are not resumed.
BATCH_FORMAT = 1
ALL_REGIONS = "all"
QUANTILES = (0.1, 0.5, 0.9)
#: Columns of ``projects`` the summaries rely on.
_PHASE_COLUMNS = (
    "phase_id",
    "project",
    "region",
    "it_mw",
    "planned_day",
    "online_day",
    "delay_days",
)
#: Cause columns that are bookkeeping rather than delay (never "top causes").
NOT_CAUSES = {"unused_float"}


# ------------------------------------------------------------------------------ one replication
def content_hash(scenario: Scenario) -> str:
    """Hash of every value in the scenario, serialised by runtime type.

    Recorded beside ``models.loader.scenario_hash``: serialising with
    ``serialize_as_any`` covers a distribution's parameters even where a
    field is declared as the distribution base class (an early schema
    dumped those as ``{}``), so resuming after editing one is refused.
    """
    data = scenario.model_dump(mode="json", by_alias=True, serialize_as_any=True)
    payload = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def _year_end(capacity: pd.DataFrame) -> pd.DataFrame:
    """Per region and calendar year, the MW online at the year's last sample, plus 'all'.

    Plain numpy rather than groupby: this runs once per replication, where
    pandas' per-call overhead would rival a small scenario's simulation time.
    """
    cols = ["region", "year", "time", "online_mw", "planned_mw"]
    if capacity.empty:
        return pd.DataFrame(columns=cols)
    years = pd.DatetimeIndex(capacity["date"]).year.to_numpy()
    times = capacity["time"].to_numpy(dtype=float)
    last = {int(y): float(times[years == y].max()) for y in np.unique(years)}
    keep = np.isin(times, list(last.values()))
    ends = capacity.loc[keep, ["region", "time", "online_mw", "planned_mw"]]
    ends.insert(1, "year", years[keep].astype(np.int64))
    total = ends.groupby(["year", "time"], as_index=False, sort=True)[
        ["online_mw", "planned_mw"]
    ].sum()
    total.insert(0, "region", ALL_REGIONS)
    out = pd.concat([ends[cols], total[cols]], ignore_index=True)
    return out.sort_values(["region", "year"], kind="stable").reset_index(drop=True)


def _queue_waits(records: pd.DataFrame) -> pd.DataFrame:
    """Per gate and background flag: how many requests, and how long they waited."""
    cols = ["gate", "background", "requests", "mean_wait", "p90_wait", "max_wait", "mean_service"]
    if records.empty:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols})
    groups: dict[tuple[str, bool], list[int]] = {}
    for i, key in enumerate(
        zip(records["gate"].astype(str), records["background"].astype(bool), strict=True)
    ):
        groups.setdefault(key, []).append(i)
    wait = records["wait"].to_numpy(dtype=float)
    service = records["service"].to_numpy(dtype=float)
    rows = []
    for (gate, background), idx in sorted(groups.items()):
        w, s = wait[idx], service[idx]
        rows.append((gate, background, len(idx), w.mean(), np.quantile(w, 0.9), w.max(), s.mean()))
    return pd.DataFrame(rows, columns=cols)


def compact_tables(results: Results) -> dict[str, pd.DataFrame]:
    """The tables a batch keeps from one run (see :data:`KEPT_TABLES`)."""
    capacity = results.capacity_online
    return {
        "projects": results.projects,
        "capacity_online": capacity,
        "capacity_by_year": _year_end(capacity),
        "queue_waits": _queue_waits(results.queue_records),
        "runs": pd.DataFrame(
            {
                "sim_events": [int(results.meta.get("sim_events", 0))],
                "wall_seconds": [float(results.meta.get("wall_seconds", math.nan))],
            }
        ),
    }


class ScenarioReplication:
    """Picklable ``fn(index, seed) -> tables`` for :func:`sim.replications.run_replications`.

    Carries the scenario as plain data (a validated dump, re-validated once per
    worker chunk) rather than a path, so a file edited mid-batch cannot change
    later replications; the content hash is checked after re-validation.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.payload = scenario.model_dump(mode="python", by_alias=True, serialize_as_any=True)
        self.content_hash = content_hash(scenario)
        self._scenario: Scenario | None = scenario

    def __getstate__(self) -> dict[str, Any]:
        return {"payload": self.payload, "content_hash": self.content_hash}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.payload = state["payload"]
        self.content_hash = state["content_hash"]
        self._scenario = None

    @property
    def scenario(self) -> Scenario:
        if self._scenario is None:
            scenario = Scenario.model_validate(self.payload)
            if content_hash(scenario) != self.content_hash:
                raise RuntimeError("the scenario changed in transit to the worker (hash mismatch)")
            self._scenario = scenario
        return self._scenario

    def __call__(self, index: int, seed: np.random.SeedSequence) -> dict[str, pd.DataFrame]:
        return compact_tables(simulate(self.scenario, seed))


# ------------------------------------------------------------------------------ running
def make_backend(
    workers: int | None = None, dask: bool = False, scheduler: str | None = None
) -> Backend:
    """The backend the CLI flags describe: 1 worker runs in-process, more use processes."""
    if scheduler is not None:
        return Backend("dask", workers, scheduler)
    if dask:
        return Backend("dask", workers)
    if workers == 1:
        return Backend("serial")
    return Backend("processes", workers)


def _resolve(
    scenario: Scenario | str | Path | None, overrides: Sequence[str]
) -> tuple[Scenario, str]:
    if isinstance(scenario, Scenario):
        if overrides:
            raise ValueError("overrides apply to scenario files; pass a path, not a Scenario")
        return scenario, "(Scenario object)"
    return load_scenario(scenario, list(overrides)), str(scenario or "default")


def _identity(scenario: Scenario) -> dict[str, Any]:
    """Everything that changes what a replication produces (compared on resume)."""
    return {
        "scenario": scenario.name,
        "scenario_hash": scenario_hash(scenario),
        "content_hash": content_hash(scenario),
        "paxsim_version": PAXSIM_VERSION,
        "batch_format": BATCH_FORMAT,
        "tables": sorted(KEPT_TABLES),
    }


def run_batch(
    scenario: Scenario | str | Path | None = None,
    *,
    reps: int = 100,
    seed: int = 0,
    out: str | Path | None = None,
    overrides: Sequence[str] = (),
    backend: Backend | None = None,
    resume: bool = False,
    chunk_size: int | None = None,
    until_halfwidth: float | None = None,
    max_reps: int | None = None,
    progress: bool | None = None,
) -> BatchResults:
    """Run (or finish, with ``resume``) ``reps`` replications of a scenario into ``out``.

    ``scenario`` is a Scenario, a TOML path, or None for the default world.
    ``out`` defaults to a new temporary folder. With ``until_halfwidth``
    (days), replications are added in rounds until every phase's mean-delay
    CI half-width is within it, confirmed over Hoad's look-ahead, or until
    ``max_reps`` (default 20 x ``reps``).
    """
    resolved, source = _resolve(scenario, overrides)
    folder = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="paxsim_batch_"))
    fn = ScenarioReplication(resolved)
    meta = {
        "source": source,
        "overrides": list(overrides),
        "start": resolved.time.start.isoformat(),
        "horizon_days": float(resolved.time.horizon_days),
    }

    def run(n: int, again: bool) -> RunReport:
        return run_replications(
            fn,
            n,
            seed,
            folder,
            identity=_identity(resolved),
            meta=meta,
            backend=backend,
            chunk_size=chunk_size,
            resume=again,
            progress=progress,
            description=resolved.name,
        )

    report = run(reps, resume)
    results = BatchResults(report.store, reps, report)
    if until_halfwidth is None:
        return results
    cap = max_reps if max_reps is not None else 20 * reps
    n = reps
    while True:
        status = results.precision(until_halfwidth)
        if status.reached or n >= cap:
            results.precision_status = status
            return results
        n = min(cap, max(n + max(10, n // 10), min(status.suggested_n, 2 * n)))
        report = run(n, True)
        results = BatchResults(report.store, n, report)


def load_batch(out: str | Path, n: int | None = None) -> BatchResults:
    """Open a batch folder written by :func:`run_batch` (or ``paxsim batch``)."""
    return BatchResults(ReplicationStore.open(out), n)


# ------------------------------------------------------------------------------ results
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

    def queue_summary(self, confidence: float = 0.95) -> pd.DataFrame:
        """Per gate: mean over replications of the mean wait, ± CI, and requests."""
        q = self.queue_waits
        if q.empty:
            return pd.DataFrame()
        out = stats.grouped_intervals(q, ["gate", "background"], "mean_wait", confidence)
        req = q.groupby(["gate", "background"], as_index=False)["requests"].mean()
        return out.merge(req, on=["gate", "background"]).rename(columns={"mean": "mean_wait"})

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
            "cause_summary": self.cause_summary(),
            "cause_totals": self.cause_totals(),
            "queue_summary": self.queue_summary(),
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


# ------------------------------------------------------------------------------ comparison
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
        return frame.assign(online_censored=frame["online_day"].fillna(res.horizon_days))

    def phase_differences(self, confidence: float = 0.95) -> pd.DataFrame:
        """Per phase: online day (censored at the horizon) and on-time indicator differences."""
        a, b = (self._censored(res) for res in (self.base, self.policy))
        days = stats.grouped_paired_differences(
            a, b, REPLICATION, "phase_id", "online_censored", confidence
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
        out = days.merge(ontime, on="phase_id", how="left")
        order = pd.unique(a["phase_id"])  # scenario order, as in phase_summary
        return (
            out.set_index("phase_id")
            .reindex([p for p in order if p in set(out["phase_id"])])
            .reset_index()
        )

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

    def write(self, folder: str | Path) -> list[Path]:
        frames = {
            "phase_differences": self.phase_differences(),
            "capacity_differences": self.capacity_differences(),
            "variance_reduction": self.variance_reduction(),
        }
        return _write_frames(frames, Path(folder))


def compare(
    base: Scenario | str | Path | None,
    policy: Scenario | str | Path | None,
    *,
    reps: int = 100,
    seed: int = 0,
    out: str | Path | None = None,
    overrides: Sequence[str] = (),
    policy_overrides: Sequence[str] = (),
    backend: Backend | None = None,
    resume: bool = False,
    chunk_size: int | None = None,
    progress: bool | None = None,
) -> Comparison:
    """Run base and policy with identical replication seeds into ``out/base`` and ``out/policy``.

    ``overrides`` apply to both scenarios, ``policy_overrides`` to the policy
    only (``compare(None, None, policy_overrides=[...])`` compares the default
    world with a variant of itself).
    """
    folder = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="paxsim_compare_"))
    common: dict[str, Any] = {
        "reps": reps,
        "seed": seed,
        "backend": backend,
        "resume": resume,
        "chunk_size": chunk_size,
        "progress": progress,
    }
    base_res = run_batch(base, out=folder / "base", overrides=list(overrides), **common)
    policy_res = run_batch(
        policy, out=folder / "policy", overrides=[*overrides, *policy_overrides], **common
    )
    return Comparison(base_res, policy_res)
