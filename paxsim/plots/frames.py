"""The numbers behind the figures, computed apart from the drawing.

Kept out of the figure modules so each computation (a queue's waiting
series, which gates are duplicates, a batch's delay attribution with the
stranded part, paired differences) can be tested on its own and reused by a
report table, and so the figure functions stay about layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from paxsim.models.results.national import ALL_REGIONS
from paxsim.models.world import CAUSES
from paxsim.plots.style import EXTRA_CAUSES
from paxsim.sim import stats
from paxsim.sim.replications import REPLICATION

__all__ = [
    "AFTER_HORIZON_COLUMN",
    "DAYS_PER_MONTH",
    "DAYS_PER_YEAR",
    "WaitingSeries",
    "attribution_table",
    "cause_columns",
    "clip_limit",
    "group_identical",
    "monthly_mean_wait",
    "national_rows",
    "origin_of",
    "paired_national_differences",
    "waiting_series",
]

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
#: The attribution column for replications where a phase never came online.
AFTER_HORIZON_COLUMN = "after_horizon"
Floats = npt.NDArray[np.float64]


def cause_columns(frame: pd.DataFrame) -> list[str]:
    """The ``days_<cause>`` columns, in the model's cause order, then any unknown ones.

    Unknown ``days_`` columns (a cause added to the model later) are kept, so a
    new cause shows up instead of silently breaking the segments' sum.
    """
    known = [f"days_{c}" for c in (*CAUSES, *EXTRA_CAUSES)]
    present = [c for c in known if c in frame.columns]
    others = [c for c in frame.columns if c.startswith("days_") and c not in known]
    return present + others


def origin_of(frame: pd.DataFrame, pairs: Sequence[tuple[str, str]]) -> pd.Timestamp:
    """The run's start date, from a (simulation day, calendar date) column pair.

    Tables keep times as days from the start and give dates alongside; the
    critical path has only days, so its dates come from the projects' pairs.
    Some date columns are truncated to the day, so a row whose day is a whole
    number (a plan or start date) is exact and preferred; otherwise the latest
    ``date - day`` is the closest (truncation only moves it earlier).
    """
    candidates: list[pd.Series] = []
    for day_col, date_col in pairs:
        if day_col not in frame or date_col not in frame:
            continue
        days = pd.to_numeric(frame[day_col], errors="coerce")
        dates = pd.to_datetime(frame[date_col], errors="coerce")
        origins = (dates - pd.to_timedelta(days, unit="D"))[days.notna() & dates.notna()]
        whole = (days == days.round())[origins.index]
        if whole.any():
            return pd.Timestamp(origins[whole].iloc[0])
        candidates.append(origins)
    found = pd.concat(candidates) if candidates else pd.Series(dtype="datetime64[ns]")
    if found.empty:
        names = ", ".join(f"{d}/{c}" for d, c in pairs)
        raise ValueError(f"cannot tell the run's start date: no row with both of {names}")
    return pd.Timestamp(found.max())


# ------------------------------------------------------------------------------ queues
@dataclass(frozen=True)
class WaitingSeries:
    """Requests waiting at a gate: after the events at ``times[i]``, ``counts[i]`` wait."""

    times: Floats
    counts: Floats

    def value_at(self, day: float) -> float:
        i = int(np.searchsorted(self.times, day, side="right")) - 1
        return float(self.counts[i]) if i >= 0 else 0.0

    def same_as(self, other: WaitingSeries) -> bool:
        return (
            len(self.times) == len(other.times)
            and bool(np.allclose(self.times, other.times, rtol=0, atol=1e-9))
            and bool(np.array_equal(self.counts, other.counts))
        )


def waiting_series(records: pd.DataFrame) -> WaitingSeries:
    """Number waiting (arrived, not yet started) over time, one step per distinct time.

    A request leaves the line when it starts; one that gave up (reneged) has
    no start and leaves at its ``end``; one still waiting at the horizon
    (censored, no start, no end) never leaves. Events at the same time are
    netted, so a request served on arrival makes no spike and two gates with
    the same line compare equal.
    """
    arrival = records["arrival"].to_numpy(dtype=float)
    leave = records["start"].to_numpy(dtype=float, copy=True)
    gave_up = np.isnan(leave)
    leave[gave_up] = records["end"].to_numpy(dtype=float)[gave_up]
    leave = leave[~np.isnan(leave)]
    arrival = arrival[~np.isnan(arrival)]
    times = np.concatenate([arrival, leave])
    steps = np.concatenate([np.ones(len(arrival)), -np.ones(len(leave))])
    if len(times) == 0:
        return WaitingSeries(np.zeros(1), np.zeros(1))
    unique, inverse = np.unique(times, return_inverse=True)
    net = np.bincount(inverse, weights=steps, minlength=len(unique))
    counts = np.cumsum(net)
    changed = np.concatenate([[True], net[1:] != 0])
    return WaitingSeries(unique[changed], counts[changed])


def group_identical(series: dict[str, WaitingSeries]) -> list[list[str]]:
    """Gates whose waiting lines are identical, grouped (first-seen order).

    A grid region logs the same requests at its study gate and at its
    ``:requests`` gate; drawn separately they are two lines on top of each
    other, so the figure draws one and names both.
    """
    groups: list[list[str]] = []
    for name, line in series.items():
        for group in groups:
            if series[group[0]].same_as(line):
                group.append(name)
                break
        else:
            groups.append([name])
    return groups


def clip_limit(
    series: Sequence[WaitingSeries], after_day: float, quantile: float = 0.99
) -> float | None:
    """A y-limit that shows the steady state, or None if nothing needs clipping.

    The limit is the ``quantile`` of the waiting counts after ``after_day``
    (the start-up backlog excluded) with 15 % headroom; None when the run is
    too short to have a steady state or when no value exceeds the limit.
    """
    later: list[float] = []
    peak = 0.0
    for line in series:
        peak = max(peak, float(line.counts.max()))
        tail = line.counts[line.times > after_day]
        later += [line.value_at(after_day), *tail.tolist()]
    if not any(float(line.times[-1]) > after_day for line in series):
        return None
    limit = max(float(np.quantile(later, quantile)) * 1.15, 1.0)
    return limit if peak > limit else None


def monthly_mean_wait(records: pd.DataFrame, window_months: int = 3) -> pd.DataFrame:
    """Mean wait (days) of requests by arrival month, smoothed over ``window_months``.

    The rolling mean is weighted by the number of requests (sum of waits over
    sum of counts in the window), so a month with one request does not swing
    the line. Only requests that started have a wait; those still waiting at
    the horizon or gone are not in it (the line is low near the horizon).
    """
    started = records.dropna(subset=["start", "arrival"])
    if started.empty:
        return pd.DataFrame(columns=["month", "mid_day", "mean_wait_days", "requests"])
    wait = started["start"].astype(float) - started["arrival"].astype(float)
    month = np.floor(started["arrival"].astype(float) / DAYS_PER_MONTH).astype(int)
    per = (
        pd.DataFrame({"month": month, "wait": wait})
        .groupby("month")["wait"]
        .agg(["sum", "count"])
        .reindex(range(int(month.min()), int(month.max()) + 1), fill_value=0)
    )
    rolled = per.rolling(window_months, center=True, min_periods=1).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = rolled["sum"] / rolled["count"].where(rolled["count"] > 0)
    return pd.DataFrame(
        {
            "month": per.index,
            "mid_day": (per.index + 0.5) * DAYS_PER_MONTH,
            "mean_wait_days": mean.to_numpy(),
            "requests": per["count"].to_numpy(),
        }
    )


# ------------------------------------------------------------------------------ batches
def attribution_table(
    projects: pd.DataFrame, horizon_days: float, by: str = "phase", confidence: float = 0.95
) -> pd.DataFrame:
    """Mean days of delay by cause over replications, with the stranded part as its own column.

    A replication where the phase came online contributes its critical-path
    split (``days_<cause>``, summing to its delay); one where it did not
    contributes ``horizon - planned`` days to :data:`AFTER_HORIZON_COLUMN`
    (a lower bound) and nothing to the causes. So the columns sum to the mean
    delay censored at the horizon (as in ``BatchResults.phase_summary``) and
    no replication is dropped. ``by="country"`` averages over a country's
    phases within each replication first, so replications stay independent
    for the interval on the total.

    Returns one row per group: the cause columns and ``after_horizon`` (mean
    days), ``total`` (mean), ``halfwidth`` (its CI), ``n`` (replications) and
    ``n_after_horizon`` of ``phase_runs`` (phase-replications) not online.
    """
    key = {"phase": "phase_id", "country": "country"}.get(by)
    if key is None:
        raise ValueError(f"by must be 'phase' or 'country', got {by!r}")
    if key not in projects.columns:
        raise ValueError(f"projects lacks column {key!r}, needed for by={by!r}")
    causes = cause_columns(projects)
    online = projects["online_day"].notna().to_numpy()
    parts = projects[causes].astype(float).fillna(0.0)
    parts.loc[~online, :] = 0.0
    parts[AFTER_HORIZON_COLUMN] = np.where(
        online, 0.0, horizon_days - projects["planned_day"].to_numpy(dtype=float)
    )
    parts["total"] = parts.sum(axis=1)
    parts["not_online"] = (~online).astype(float)
    parts[key] = projects[key].to_numpy()
    parts[REPLICATION] = projects[REPLICATION].to_numpy()
    values = [*causes, AFTER_HORIZON_COLUMN, "total"]
    per_rep = parts.groupby([key, REPLICATION], sort=False).agg(
        {**dict.fromkeys(values, "mean"), "not_online": "sum"}
    )
    per_rep = per_rep.reset_index()
    order = list(dict.fromkeys(projects[key]))
    means = per_rep.groupby(key, sort=False)[values].mean().reindex(order)
    ci = stats.grouped_intervals(per_rep, key, "total", confidence).set_index(key).reindex(order)
    out = means.rename(columns=lambda c: c.removeprefix("days_"))
    out["halfwidth"] = ci["halfwidth"]
    out["n"] = ci["n"].astype(int)
    out["n_after_horizon"] = per_rep.groupby(key, sort=False)["not_online"].sum().reindex(order)
    out["phase_runs"] = parts.groupby(key, sort=False).size().reindex(order)
    return out.reset_index().rename(columns={key: by})


def national_rows(national: pd.DataFrame, by: str) -> pd.DataFrame:
    """The national table's rows that mean one series per ``by`` key, with a ``key`` column.

    ``by="country"``: the country totals (region ``all``: installed base,
    pipeline sites and named campuses together). ``by="region"``: each grid
    region and each country's installed base, keyed ``country/region``.
    """
    if by == "country":
        rows = national[national["region"] == ALL_REGIONS]
        keys = rows["country"].astype(str)
    elif by == "region":
        rows = national[national["region"] != ALL_REGIONS]
        keys = rows["country"].astype(str) + "/" + rows["region"].astype(str)
    else:
        raise ValueError(f"by must be 'country' or 'region', got {by!r}")
    if rows.empty:
        raise ValueError(f"the national table has no rows for by={by!r}")
    return rows.assign(key=keys.to_numpy())


def paired_national_differences(
    base: pd.DataFrame, policy: pd.DataFrame, metric: str, by: str
) -> pd.DataFrame:
    """``policy - base`` of ``metric`` per key, year and replication, paired on replication.

    Only replications present in both batches are paired (a failed one drops
    out of the pair rather than being compared with nothing).
    """
    cols = ["key", "year", REPLICATION, metric]
    a = national_rows(base, by)[cols]
    b = national_rows(policy, by)[cols]
    merged = a.merge(b, on=["key", "year", REPLICATION], suffixes=("_base", "_policy"))
    if merged.empty:
        raise ValueError("no replication is in both batches: nothing to pair")
    merged["diff"] = merged[f"{metric}_policy"] - merged[f"{metric}_base"]
    return merged[["key", "year", REPLICATION, "diff"]]
