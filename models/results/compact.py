"""What a batch keeps of each replication: a few compact tables, not the whole run.

A single run's :class:`~paxsim.models.results.run.Results` holds raw facility
time series, queue records and shipments; a batch of 10,000 replications
cannot. :func:`compact_tables` reduces one run to the tables named in
:data:`KEPT_TABLES` (projects, capacity by region and year end, queue-wait
summaries, timing) inside the worker, before anything is sent back or stored.

This is its own module because it is the contract between a replication and
the batch summaries: changing what is kept means bumping :data:`BATCH_FORMAT`
(so old batches are not resumed), and the summaries in
:mod:`paxsim.models.results.batch` read exactly these tables.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from paxsim.models.results.run import Results

__all__ = ["ALL_REGIONS", "BATCH_FORMAT", "KEPT_TABLES", "compact_tables"]

#: What each replication keeps (everything else is dropped in the worker).
KEPT_TABLES = {
    "projects": "one row per data-center phase (as in a single run)",
    "capacity_online": "AI MW online by grid region at each sample time",
    "capacity_by_year": "AI MW online by region (and 'all') at the last sample of each year",
    "queue_waits": "per gate and background flag: requests, mean/p90/max wait, mean service",
    "national": "data-centre GW online (year end) and TWh by country, region and year",
    "facility_shortfall": "per facility: when it first ran short and ran dry of inputs, and for "
    "how many days",
    "runs": "per replication: simulated events and wall seconds (timing; not reproducible)",
}
#: Bumped whenever what a replication keeps changes, so old batches are not resumed.
BATCH_FORMAT = 4
ALL_REGIONS = "all"


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
    """Per gate and background flag: how many requests, how many censored, how long they waited.

    Waits and services are over the requests that started (a censored request
    still waiting at the horizon has no wait yet; its count says how many).
    """
    cols = [
        "gate",
        "background",
        "requests",
        "censored",
        "mean_wait",
        "p90_wait",
        "max_wait",
        "mean_service",
    ]
    if records.empty:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols})
    groups: dict[tuple[str, bool], list[int]] = {}
    for i, key in enumerate(
        zip(records["gate"].astype(str), records["background"].astype(bool), strict=True)
    ):
        groups.setdefault(key, []).append(i)
    wait = records["wait"].to_numpy(dtype=float)
    service = records["service"].to_numpy(dtype=float)
    censored = (
        records["censored"].to_numpy(dtype=bool)
        if "censored" in records
        else np.zeros(len(records), dtype=bool)
    )
    rows = []
    for (gate, background), idx in sorted(groups.items()):
        w, s = wait[idx], service[idx]
        w, s = w[~np.isnan(w)], s[~np.isnan(s)]
        rows.append(
            (
                gate,
                background,
                len(idx),
                int(censored[idx].sum()),
                w.mean() if len(w) else math.nan,
                np.quantile(w, 0.9) if len(w) else math.nan,
                w.max() if len(w) else math.nan,
                s.mean() if len(s) else math.nan,
            )
        )
    return pd.DataFrame(rows, columns=cols)


#: A sample period in which a facility made less than this share of what it meant to make
#: counts as "short"; below :data:`DRY_SHARE`, it ran dry.
SHORT_SHARE = 0.9
DRY_SHARE = 0.5
_SHORTFALL_COLUMNS = [
    "entity",
    "kind",
    "first_short_day",
    "short_days",
    "first_dry_day",
    "dry_days",
    "lost_output",
    "intended_output",
]


def _facility_shortfall(timeseries: pd.DataFrame) -> pd.DataFrame:
    """Per facility: the first day and total days it made < 90 % (short) or < 50 % (dry) of
    its intended output for want of inputs, and the output lost.

    From the ``shortfall`` (intended minus made) and ``output`` samples of
    ``facility_timeseries``; a period counts whole, so days are multiples of
    the sample period. Facilities never short are kept (NaN first days, 0 days),
    so a study can say "never ran dry" rather than drop them.
    """
    if timeseries.empty:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in _SHORTFALL_COLUMNS})
    ts = timeseries[timeseries["variable"].isin(["output", "shortfall"])]
    wide = ts.pivot_table(
        index=["entity", "kind", "time"], columns="variable", values="value", aggfunc="sum"
    ).reset_index()
    if "shortfall" not in wide or "output" not in wide:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in _SHORTFALL_COLUMNS})
    rows = []
    for (entity, kind), sub in wide.groupby(["entity", "kind"], sort=True):
        times = sub["time"].to_numpy(dtype=float)
        period = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
        lost = sub["shortfall"].fillna(0.0).to_numpy(dtype=float)
        intended = lost + sub["output"].fillna(0.0).to_numpy(dtype=float)
        made = np.divide(intended - lost, intended, out=np.ones_like(lost), where=intended > 0)
        short, dry = made < SHORT_SHARE, made < DRY_SHARE
        rows.append(
            (
                entity,
                kind,
                float(times[short][0]) if short.any() else math.nan,
                float(short.sum() * period),
                float(times[dry][0]) if dry.any() else math.nan,
                float(dry.sum() * period),
                float(lost.sum()),
                float(intended.sum()),
            )
        )
    return pd.DataFrame(rows, columns=_SHORTFALL_COLUMNS)


def compact_tables(results: Results) -> dict[str, pd.DataFrame]:
    """The tables a batch keeps from one run (see :data:`KEPT_TABLES`)."""
    capacity = results.capacity_online
    return {
        "projects": results.projects,
        "capacity_online": capacity,
        "capacity_by_year": _year_end(capacity),
        "queue_waits": _queue_waits(results.queue_records),
        "national": results.national,
        "facility_shortfall": _facility_shortfall(results.facility_timeseries),
        "runs": pd.DataFrame(
            {
                "sim_events": [int(results.meta.get("sim_events", 0))],
                "wall_seconds": [float(results.meta.get("wall_seconds", math.nan))],
            }
        ),
    }
