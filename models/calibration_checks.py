"""Checks of simulated figures against the public record (calibration.md).

Each check returns a small result with the simulated value, the published
value, the tolerance and whether it passes, so the same function feeds a test,
an experiment script and the docs.

- :func:`generation_queue_check` — the US generation queue: median time from
  interconnection request to commercial operation for projects that reach it
  (LBNL *Queued Up 2025* via Loopback: about 55 months for 2024 CODs), and the
  share of requests that complete (13–19 %: 13 % of capacity, 19 % of projects,
  requests 2000–2019).
- :func:`export_trough_check` — China's magnet exports after the April 2025
  licensing regime: May 2025 at −74 % year on year, back to the prior year's
  level by July (China customs via Reuters/Kitco and WSJ). The model starts in
  2025, so the months before the regime (January–March 2025) stand in for the
  prior year's level (an assumption: flat year on year before the shock).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import simpy

from paxsim.models.context import SimContext
from paxsim.models.grid import GRID_REQUEST_COLUMNS, GridRegionGate
from paxsim.models.results import Results
from paxsim.models.scenario import Scenario
from paxsim.models.transformers import TransformerFactory
from paxsim.sim.calendar import DAYS_PER_YEAR, SimCalendar
from paxsim.sim.queues import QueueLog
from paxsim.sim.random import StreamFactory
from paxsim.sim.records import RecordList

__all__ = [
    "CheckResult",
    "export_ratios",
    "export_trough_check",
    "generation_queue_check",
    "grid_requests_alone",
    "monthly_exports",
]

DAYS_PER_MONTH = DAYS_PER_YEAR / 12


@dataclass(frozen=True)
class CheckResult:
    name: str
    simulated: float
    published: str
    low: float
    high: float
    source: str

    @property
    def passed(self) -> bool:
        return bool(self.low <= self.simulated <= self.high)

    def line(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        return (
            f"{mark} {self.name}: simulated {self.simulated:.3g} "
            f"(published {self.published}; accepted {self.low:g}..{self.high:g}; {self.source})"
        )


def grid_requests_alone(
    scenario: Scenario, regions: list[str], seeds: list[int], years: float
) -> pd.DataFrame:
    """Run only the named grid regions (and the transformer supply) with their background.

    Validating the interconnection gate in isolation is both cleaner (nothing
    else moves) and much faster than running the whole world, so several
    replications can be pooled. Returns the pooled ``grid_requests`` rows with a
    ``replication`` column.
    """
    frames = []
    horizon = years * DAYS_PER_YEAR
    for seed in seeds:
        env = simpy.Environment()
        ctx = SimContext(
            env=env,
            streams=StreamFactory(seed),
            calendar=SimCalendar(scenario.time.start),
            horizon_days=horizon,
            step_days=scenario.time.step_days,
            queue_log=QueueLog(),
        )
        requests = RecordList(GRID_REQUEST_COLUMNS)
        factory = (
            TransformerFactory(ctx, scenario.transformers)
            if scenario.transformers is not None
            else None
        )
        gates = [
            GridRegionGate(ctx, name, scenario.grid[name], factory, requests) for name in regions
        ]
        env.run(until=horizon)
        for gate in gates:
            gate.close()
        frames.append(requests.to_frame().assign(replication=seed))
    return pd.concat(frames, ignore_index=True)


def generation_queue_check(
    requests: Results | pd.DataFrame,
    regions: list[str] | None = None,
    cohort_from_day: float = 0.0,
    cohort_years: float = 4.0,
) -> tuple[CheckResult, CheckResult]:
    """Median request-to-operation months and completion share of background generation.

    The cohort is the requests that *arrived* in ``[cohort_from_day,
    cohort_from_day + cohort_years)``; run far enough past it that nearly all
    have resolved (the median is over those that reached operation).
    ``requests`` is a run's results or a ``grid_requests`` table (pooled
    replications welcome).
    """
    req = requests.grid_requests if isinstance(requests, Results) else requests
    gen = req[(req["kind"] == "generation") & (req["background"].astype(bool))]
    if regions is not None:
        gen = gen[gen["region"].isin(regions)]
    cohort = gen[
        (gen["arrival"] >= cohort_from_day)
        & (gen["arrival"] < cohort_from_day + cohort_years * 365.25)
    ]
    done = cohort[cohort["outcome"] == "operating"]
    months = ((done["energized"] - done["arrival"]) / DAYS_PER_MONTH).to_numpy(dtype=float)
    median = float(np.median(months)) if len(months) else float("nan")
    share = float(len(done) / len(cohort)) if len(cohort) else float("nan")
    return (
        CheckResult(
            "generation request -> operation, median months",
            median,
            "about 55 months (2024 CODs)",
            45.0,
            65.0,
            "LBNL Queued Up 2025 via Loopback Systems",
        ),
        CheckResult(
            "generation requests completed, share",
            share,
            "13-19 % (requests 2000-2019)",
            0.10,
            0.22,
            "LBNL Queued Up 2025 via Loopback Systems; LBNL via EC&M",
        ),
    )


def monthly_exports(
    results: Results, origin: str = "CN", material: str = "ndfeb_magnet"
) -> pd.Series:
    """Tonnes exported per calendar month (by the date lots cleared export control)."""
    ex = results.exports
    ex = ex[(ex["origin"] == origin) & (ex["material"] == material)]
    if ex.empty:
        return pd.Series(dtype=float)
    months = ex["date"].dt.to_period("M")
    return ex.groupby(months)["qty"].sum().sort_index()


def export_ratios(
    results: Results | list[Results],
    origin: str = "CN",
    material: str = "ndfeb_magnet",
    baseline_months: tuple[str, ...] = ("2025-01", "2025-02", "2025-03"),
) -> pd.Series:
    """Monthly exports over the pre-regime monthly mean, averaged over replications.

    One replication's monthly exports are lumpy (whole lots clear their
    licences in one month or the next), so the check is made on the mean
    ratio across replications, as a calibration of a stochastic model should.
    """
    runs = results if isinstance(results, list) else [results]
    ratios = []
    for res in runs:
        series = monthly_exports(res, origin, material)
        base = float(np.mean([series.get(pd.Period(m, "M"), 0.0) for m in baseline_months]))
        if base > 0:
            ratios.append(series / base)
    if not ratios:
        return pd.Series(dtype=float)
    return pd.concat(ratios, axis=1).fillna(0.0).mean(axis=1).sort_index()


def export_trough_check(
    results: Results | list[Results],
    origin: str = "CN",
    material: str = "ndfeb_magnet",
) -> tuple[CheckResult, CheckResult]:
    """May 2025 and July 2025 exports relative to the pre-regime level (mean over runs)."""
    series = export_ratios(results, origin, material)

    def ratio(month: str) -> float:
        return float(series.get(pd.Period(month, "M"), float("nan")))

    return (
        CheckResult(
            "magnet exports May 2025 vs pre-regime level",
            ratio("2025-05"),
            "0.26 (-74 % y/y)",
            0.10,
            0.45,
            "China customs via WSJ / Automotive World",
        ),
        CheckResult(
            "magnet exports July 2025 vs pre-regime level",
            ratio("2025-07"),
            "1.06 (+5.7 % y/y)",
            0.85,
            1.30,
            "China customs via Reuters/Kitco",
        ),
    )
