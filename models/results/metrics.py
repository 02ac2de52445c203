"""Study metrics: headline numbers for a baseline and a policy that cannot mislead.

Every metric is computed **per replication first** (one number per replication
and group, so replications stay the independent unit of a confidence interval)
and only then summarised (:func:`summarise`, or :func:`paired` for policy -
base under common random numbers). Groups are ``by="country"``, ``"region"``,
``"phase_id"`` or ``None`` (every phase, labelled ``"all"``); each
per-replication frame has the columns ``replication`` and ``group``.

Conventions that keep the numbers honest:

* A phase with ``online_day`` NaN was not online by the horizon (*censored*).
  Day metrics count it **at the horizon** (a lower bound, flagged by
  ``censored_mw`` / ``censored`` columns and notes) or, where a day was never
  reached, give **+inf** ("after horizon"): quantiles keep +inf, means use the
  horizon and say so. Stranded phases are never dropped.
* A P(on time) where every replication was late (or every one on time) is NaN
  with a note, not 0 % (or 100 %) with an interval that reads as information.
* Every summary carries a ``warning`` when the replications are too few for the
  statistic (:func:`replication_warning`).

This is its own module because the experiment scripts, ``paxsim compare`` and
the HTML report must quote the same definitions; the batch summaries in
:mod:`paxsim.models.results.batch` are per phase, these are per study.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

from paxsim.models.results.batch import BatchResults
from paxsim.models.results.run import Results
from paxsim.sim import stats
from paxsim.sim.replications import REPLICATION

__all__ = [
    "ALL",
    "DAYS_PER_YEAR",
    "attribution_summary",
    "day_share_online",
    "delay_attribution",
    "headline_differences",
    "headline_table",
    "mw_weighted_full_power_day",
    "mw_years_lost",
    "national_gw",
    "on_time_share",
    "p_on_time",
    "paired",
    "replication_warning",
    "replications_for_quantile",
    "stranded_mw",
    "stranded_summary",
    "summarise",
]

#: The group label of "every phase" (and the national table's country-total region).
ALL = "all"
DAYS_PER_YEAR = 365.25
#: Grouping columns a metric may be split by (``None``: every phase, labelled "all").
GROUPINGS = ("country", "region", "phase_id")
#: Slack for float days (an online day computed at the horizon may exceed it by rounding).
_TOL_DAYS = 1e-6
_CAUSE_PREFIX = "days_"
_AFTER_HORIZON = "after_horizon"
_WAITS_ON = re.compile(r"not online by horizon \((?P<what>[^)]*)\)")
_CORE = ("phase_id", "it_mw", "planned_day", "online_day")
#: Every per-replication frame is keyed by these (a list: pandas reads a tuple as one key).
_KEYS = [REPLICATION, "group"]
#: The statistics :func:`paired` gives each key: both sides' means, the difference's mean
#: and t interval, and its P10/P50/P90 over replications.
_PAIRED_STATS = (
    "base_mean",
    "policy_mean",
    "diff_mean",
    "halfwidth",
    "low",
    "high",
    "diff_p10",
    "diff_p50",
    "diff_p90",
)

By = Literal["country", "region", "phase_id"] | None
Statistic = Literal["mean", "quantile", "median", "proportion"]


# ------------------------------------------------------------------------------ inputs
def _check_horizon(horizon_days: float) -> float:
    h = float(horizon_days)
    if not math.isfinite(h) or h <= 0:
        raise ValueError(f"horizon_days must be a positive number of days, got {horizon_days!r}")
    return h


def _prepare(
    projects: pd.DataFrame, horizon_days: float, by: By, extra: Sequence[str] = ()
) -> pd.DataFrame:
    """The columns a metric needs, as floats, with ``replication`` and ``group`` added.

    Refuses what would silently give a wrong number: missing columns, missing
    or negative MW, missing planned days, and online days beyond the horizon
    (the sign of a ``horizon_days`` that is not the run's).
    """
    h = _check_horizon(horizon_days)
    if by is not None and by not in GROUPINGS:
        raise ValueError(f"by must be one of {GROUPINGS} or None (all phases), got {by!r}")
    needed = [*_CORE, *([by] if by else []), *extra]
    missing = [c for c in dict.fromkeys(needed) if c not in projects.columns]
    if missing:
        raise ValueError(
            f"projects lacks column(s) {missing}; pass the projects table of a run or batch"
        )
    out = pd.DataFrame(
        {
            REPLICATION: projects[REPLICATION].to_numpy()
            if REPLICATION in projects
            else np.zeros(len(projects), dtype=np.int64),
            "group": projects[by].astype(str).to_numpy() if by else ALL,
            "phase_id": projects["phase_id"].astype(str).to_numpy(),
            "it_mw": projects["it_mw"].to_numpy(dtype=float),
            "planned_day": projects["planned_day"].to_numpy(dtype=float),
            "online_day": projects["online_day"].to_numpy(dtype=float),
        }
    )
    for col in extra:
        out[col] = projects[col].to_numpy()
    if out["it_mw"].isna().any() or (out["it_mw"] < 0).any():
        raise ValueError("projects has a missing or negative it_mw")
    if out["planned_day"].isna().any():
        raise ValueError("projects has a missing planned_day")
    late = out["online_day"] > h + _TOL_DAYS
    if late.any():
        raise ValueError(
            f"online_day {out.loc[late, 'online_day'].max():g} lies beyond horizon_days {h:g}: "
            "pass the horizon of the run that produced these projects"
        )
    if out.duplicated([REPLICATION, "phase_id"]).any():
        raise ValueError("projects has a phase twice in one replication")
    return out


def _censored_day(frame: pd.DataFrame, horizon_days: float) -> pd.Series:
    """Online day with "not online by the horizon" counted at the horizon."""
    return frame["online_day"].fillna(horizon_days)


# ------------------------------------------------------------------------------ metrics
def mw_weighted_full_power_day(
    projects: pd.DataFrame, horizon_days: float, by: By = None
) -> pd.DataFrame:
    """MW-weighted full-power day per replication and group (a lower bound when censored).

    ``full_power_day`` = Σ it_mw · online_c / Σ it_mw, where ``online_c`` is the
    full-power online day with a phase not online by the horizon counted *at*
    the horizon; ``mw_weighted_delay_days`` weights ``online_c - planned_day``
    the same way. Both are lower bounds whenever ``censored_mw`` > 0, which is
    why ``censored_mw`` and ``censored_share`` (of the group's MW) sit beside them.
    """
    h = _check_horizon(horizon_days)
    p = _prepare(projects, h, by)
    online_c = _censored_day(p, h)
    p = p.assign(
        w_day=p["it_mw"] * online_c,
        w_delay=p["it_mw"] * (online_c - p["planned_day"]),
        censored_mw=p["it_mw"].where(p["online_day"].isna(), 0.0),
    )
    out = p.groupby(_KEYS, sort=True)[["it_mw", "w_day", "w_delay", "censored_mw"]].sum()
    total = out["it_mw"].where(out["it_mw"] > 0)
    out["full_power_day"] = out["w_day"] / total
    out["mw_weighted_delay_days"] = out["w_delay"] / total
    out["censored_share"] = out["censored_mw"] / total
    cols = ["it_mw", "full_power_day", "mw_weighted_delay_days", "censored_mw", "censored_share"]
    return out[cols].reset_index()


def day_share_online(
    projects: pd.DataFrame, share: float, horizon_days: float, by: By = None
) -> pd.DataFrame:
    """First day on which the group's full-power MW online reaches ``share`` of its planned MW.

    Planned MW is the group's total ``it_mw``. The day is +inf ("after
    horizon") when the share is not reached by the horizon; it is never
    dropped. Only full power counts (a flexible connection's early share does
    not), as everywhere in the headlines. Column ``day``, with ``share``.
    """
    if not 0 < share <= 1:
        raise ValueError(f"share must lie in (0, 1], got {share!r}")
    h = _check_horizon(horizon_days)
    p = _prepare(projects, h, by)
    p = p.assign(online_inf=p["online_day"].fillna(np.inf))
    p = p.sort_values([*_KEYS, "online_inf"], kind="stable")
    grouped = p.groupby(_KEYS, sort=False)["it_mw"]
    cum = grouped.cumsum()
    need = grouped.transform("sum") * share
    # relative slack: 0.1 + 0.2 of 0.3 must count as reached
    reached = (cum >= need * (1 - 1e-12)) & np.isfinite(p["online_inf"]) & (need > 0)
    first = p[reached].groupby(_KEYS, sort=True)["online_inf"].min()
    out = p.groupby(_KEYS, sort=True).size().to_frame("phases")
    out["day"] = first.reindex(out.index).fillna(np.inf)
    out["share"] = float(share)
    return out[["share", "day"]].reset_index()


def mw_years_lost(projects: pd.DataFrame, horizon_days: float, by: By = None) -> pd.DataFrame:
    """MW-years of capacity planned but not yet online, within the horizon.

    Σ it_mw · max(0, min(online_c, H) − min(planned_day, H)) / 365.25, with
    ``online_c`` the online day counted at the horizon H when censored. It is
    the integral of :func:`stranded_mw` over [0, H]; a phase early on its plan
    loses nothing (it does not offset another's loss).
    """
    h = _check_horizon(horizon_days)
    p = _prepare(projects, h, by)
    lost_days = (_censored_day(p, h).clip(upper=h) - p["planned_day"].clip(upper=h)).clip(lower=0.0)
    p = p.assign(mw_years_lost=p["it_mw"] * lost_days / DAYS_PER_YEAR)
    return p.groupby(_KEYS, sort=True)["mw_years_lost"].sum().reset_index()


def stranded_mw(
    projects: pd.DataFrame, days: Iterable[float], horizon_days: float, by: By = None
) -> pd.DataFrame:
    """MW planned by day t but not at full power at t, per replication, group and t.

    A phase counts at t when ``planned_day <= t < online_day`` (a censored phase:
    from its planned day on). The curve's integral over [0, H] is
    :func:`mw_years_lost` (× 365.25). Days beyond ``horizon_days`` are refused:
    a censored phase says nothing about them.
    """
    h = _check_horizon(horizon_days)
    wanted = np.asarray(list(days), dtype=float)
    if wanted.size == 0:
        raise ValueError("stranded_mw needs at least one day")
    if not np.isfinite(wanted).all() or (wanted < 0).any() or (wanted > h + _TOL_DAYS).any():
        raise ValueError(
            f"days must lie in [0, horizon_days={h:g}], got {wanted.min():g} to {wanted.max():g}"
        )
    p = _prepare(projects, h, by)
    groups = p.groupby(_KEYS, sort=True)
    code = np.asarray(groups.ngroup(), dtype=np.int64)
    n_groups = groups.ngroups
    online_inf = p["online_day"].fillna(np.inf).to_numpy()
    planned = p["planned_day"].to_numpy()
    mw = p["it_mw"].to_numpy()
    due = _mw_by_day(code, planned, mw, n_groups, wanted, h)
    done = _mw_by_day(code, np.maximum(planned, online_inf), mw, n_groups, wanted, h)
    out = groups.size().index.to_frame(index=False)
    out = out.loc[out.index.repeat(len(wanted))].reset_index(drop=True)
    out["day"] = np.tile(wanted, n_groups)
    out["stranded_mw"] = np.maximum(due - done, 0.0).ravel()  # clears float residue below 0
    return out


def _mw_by_day(
    code: npt.NDArray[np.int64],
    day: npt.NDArray[np.float64],
    mw: npt.NDArray[np.float64],
    n_groups: int,
    wanted: npt.NDArray[np.float64],
    horizon_days: float,
) -> npt.NDArray[np.float64]:
    """Σ mw over rows with ``day <= t``, for every group code and wanted t (groups × days).

    One sorted sweep instead of a loop over days: each group's days are laid on
    its own stretch of one number line (``code * span + day``, days clipped to
    just outside [0, H], where every wanted t lies), so one ``searchsorted``
    answers every (group, t) at once.
    """
    span = horizon_days + 4.0
    key = code * span + np.clip(day, -1.0, horizon_days + 1.0)
    order = np.argsort(key, kind="stable")
    cum = np.concatenate([[0.0], np.cumsum(mw[order])])
    sorted_key = key[order]
    first = np.searchsorted(sorted_key, np.arange(n_groups) * span - 2.0, side="left")
    query = np.arange(n_groups)[:, None] * span + wanted[None, :]
    upto = np.searchsorted(sorted_key, query.ravel(), side="right").reshape(query.shape)
    return np.asarray(cum[upto] - cum[first][:, None], dtype=float)


def stranded_summary(projects: pd.DataFrame, horizon_days: float, by: By = None) -> pd.DataFrame:
    """Per replication and group: how much MW was stranded, at worst, at the end, and how long.

    ``peak_stranded_mw`` is the maximum of :func:`stranded_mw` over [0, H];
    ``stranded_mw_at_horizon`` the MW due by H and still not online at H;
    ``mw_years_lost`` its integral (:func:`mw_years_lost`); ``stranded_days``
    the length of time (days within [0, H]) during which *any* MW was stranded.
    """
    h = _check_horizon(horizon_days)
    p = _prepare(projects, h, by)
    begin = p["planned_day"].clip(upper=h)
    end = _censored_day(p, h).clip(upper=h)
    live = (end > begin).to_numpy()
    keys = p.loc[live, _KEYS]
    mw = p.loc[live, "it_mw"].to_numpy()
    # Removals sort before additions at the same day: the curve is right-continuous.
    events = pd.concat(
        [
            keys.assign(day=end[live].to_numpy(), order=0, change=-mw),
            keys.assign(day=begin[live].to_numpy(), order=1, change=mw),
        ],
        ignore_index=True,
    ).sort_values([*_KEYS, "day", "order"], kind="stable")
    events["level"] = events.groupby(_KEYS, sort=False)["change"].cumsum()
    next_day = events.groupby(_KEYS, sort=False)["day"].shift(-1)
    events["covered"] = np.where(events["level"] > 1e-9, next_day - events["day"], 0.0)
    spans = events.groupby(_KEYS, sort=True).agg(
        peak=("level", "max"), stranded_days=("covered", "sum")
    )
    at_h = p["it_mw"].where(p["online_day"].isna() & (p["planned_day"] <= h), 0.0)
    out = p.assign(at_horizon=at_h).groupby(_KEYS, sort=True)[["at_horizon"]].sum()
    out = out.join(spans).fillna({"peak": 0.0, "stranded_days": 0.0})
    lost = mw_years_lost(projects, h, by).set_index(_KEYS)["mw_years_lost"]
    return pd.DataFrame(
        {
            "peak_stranded_mw": np.maximum(out["peak"].clip(lower=0.0), out["at_horizon"]),
            "stranded_mw_at_horizon": out["at_horizon"],
            "mw_years_lost": lost.reindex(out.index),
            "stranded_days": out["stranded_days"],
        }
    ).reset_index()


def on_time_share(projects: pd.DataFrame, horizon_days: float, by: By = None) -> pd.DataFrame:
    """Per replication and group: the share of phases *due by the horizon* that were on time.

    On time means full power on or before the planned day. A phase planned
    after the horizon and not yet online is undetermined (it may still be on
    time) and is left out; a censored phase planned by the horizon is late.
    ``due`` counts the phases that were determined; the share is NaN (missing)
    in a replication where none was.
    """
    h = _check_horizon(horizon_days)
    p = _prepare(projects, h, by)
    due = p["online_day"].notna() | (p["planned_day"] <= h)
    on_time = (p["online_day"] <= p["planned_day"]) & due
    p = p.assign(due=due.astype(int), on_time=on_time.astype(int))
    out = p.groupby(_KEYS, sort=True)[["due", "on_time"]].sum()
    out["on_time_share"] = out["on_time"] / out["due"].where(out["due"] > 0)
    return out.reset_index()


def _wilson(share_sum: float, n: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval counting each replication as one trial worth its on-time share.

    With one phase per replication the shares are 0/1 and this is exactly
    :func:`~paxsim.sim.stats.proportion_interval`. With several phases it is
    conservative: phases in one replication share queues, so they are not
    independent trials, and a [0, 1] share has at most the variance p(1 - p)
    of one Bernoulli trial.
    """
    if float(share_sum).is_integer():
        return stats.proportion_interval(int(share_sum), n, confidence)
    z = float(special.ndtri(0.5 + confidence / 2.0))
    p = share_sum / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def _on_time_note(shares: pd.Series) -> str:
    """Why a P(on time) is withheld ("" when it is informative)."""
    n = int(shares.notna().sum())
    reps = f"{n} replication{'s' if n != 1 else ''}"
    if n == 0:
        return "no phase due by the horizon"
    if (shares.dropna() == 0).all():
        return f"always late in {reps}"
    if (shares.dropna() == 1).all():
        return f"always on time in {reps}"
    return ""


def p_on_time(
    projects: pd.DataFrame, horizon_days: float, by: By = None, confidence: float = 0.95
) -> pd.DataFrame:
    """P(full power on or before the planned day), given only where it is informative.

    The estimate is the mean over replications of :func:`on_time_share`; its
    interval is a Wilson interval over replications (:func:`_wilson`). When
    every replication was late (or every one on time) for the group the value
    and interval are NaN and ``note`` says "always late in N replications": a
    0 % with a CI would read as information it is not.
    """
    shares = on_time_share(projects, horizon_days, by)
    rows = []
    for group, rows_g in shares.groupby("group", sort=True):
        s = rows_g["on_time_share"]
        n = int(s.notna().sum())
        note = _on_time_note(s)
        p, low, high = math.nan, math.nan, math.nan
        if not note:
            p = float(s.mean())
            low, high = _wilson(float(s.sum()), n, confidence)
        warning = replication_warning(n, "proportion") if n else ""
        due, hits = int(rows_g["due"].sum()), int(rows_g["on_time"].sum())
        rows.append((group, n, due, hits, p, low, high, note, warning))
    cols = ["group", "n", "due", "on_time", "p_on_time", "low", "high", "note", "warning"]
    return pd.DataFrame(rows, columns=cols)


def _waits_on(held_back_by: object) -> str:
    match = _WAITS_ON.search(str(held_back_by)) if isinstance(held_back_by, str) else None
    return f"{_AFTER_HORIZON}: {match.group('what')}" if match else _AFTER_HORIZON


def delay_attribution(projects: pd.DataFrame, horizon_days: float) -> pd.DataFrame:
    """Delay days by cause, one row per replication, phase and cause; stranded phases included.

    A phase online by the horizon splits its delay (online − planned) along its
    critical path: its ``days_<cause>`` columns, which sum to the delay
    (``plan_optimism`` is negative when the plan had slack). A phase *not*
    online by the horizon has no path; it gets one pseudo-cause
    ``after_horizon: <what it waits on>`` (parsed from ``held_back_by``) with
    days = horizon − planned, the least its delay can be (negative when it was
    planned after the horizon, flagged by ``planned_by_horizon`` False). Causes
    zero for every phase everywhere are left out; every (replication, phase)
    keeps at least one row, so the set of replications is complete. Columns:
    replication, phase_id, country, region, it_mw, cause, days, planned_by_horizon.
    """
    h = _check_horizon(horizon_days)
    extra = [c for c in ("country", "region", "held_back_by") if c in projects.columns]
    causes = [c for c in projects.columns if str(c).startswith(_CAUSE_PREFIX)]
    if not causes:
        raise ValueError("projects has no days_<cause> columns to attribute delay to")
    p = _prepare(projects, h, None, extra=[*extra, *causes])
    for col in ("country", "region"):
        if col not in p:
            p[col] = ""
    ids = [REPLICATION, "phase_id", "country", "region", "it_mw"]
    online = p[p["online_day"].notna()]
    values = online[causes].astype(float)
    active = [c for c in causes if (values[c].fillna(0.0) != 0).any()] or causes[:1]
    long = online.melt(id_vars=ids, value_vars=active, var_name="cause", value_name="days")
    long["cause"] = long["cause"].str.removeprefix(_CAUSE_PREFIX)
    long["days"] = long["days"].astype(float).fillna(0.0)
    stranded = p[p["online_day"].isna()]
    after = stranded[ids].assign(
        cause=[_waits_on(w) for w in stranded["held_back_by"]]
        if "held_back_by" in stranded
        else _AFTER_HORIZON,
        days=h - stranded["planned_day"],
        planned_by_horizon=stranded["planned_day"] <= h,
    )
    out = pd.concat([long.assign(planned_by_horizon=True), after], ignore_index=True)
    out = out.sort_values([REPLICATION, "phase_id"], kind="stable").reset_index(drop=True)
    return out[[*ids, "cause", "days", "planned_by_horizon"]]


def attribution_summary(
    attribution: pd.DataFrame, by: By = "phase_id", confidence: float = 0.95
) -> pd.DataFrame:
    """Mean days by cause per group ± CI, summing within a replication first.

    Phases in one replication share queues, so they are not independent;
    replications are. Each replication's days are summed per group and cause
    (0 where a cause did not apply), then averaged over replications, so the
    causes of a phase add up to its mean delay with "not online" counted at
    the horizon. Columns: group, cause, n, mean_days, halfwidth, low, high, warning
    (which also flags a mean that includes phases planned after the horizon).
    """
    if by is not None and by not in GROUPINGS:
        raise ValueError(f"by must be one of {GROUPINGS} or None (all phases), got {by!r}")
    needed = [REPLICATION, "cause", "days", *([by] if by else [])]
    missing = [c for c in needed if c not in attribution.columns]
    if missing:
        raise ValueError(f"attribution lacks column(s) {missing}; use delay_attribution()")
    frame = attribution.assign(group=attribution[by].astype(str) if by else ALL)
    wide = frame.pivot_table(
        index=[REPLICATION, "group"], columns="cause", values="days", aggfunc="sum", fill_value=0.0
    )
    long = wide.reset_index().melt(id_vars=[REPLICATION, "group"], value_name="days")
    out = stats.grouped_intervals(long, ["group", "cause"], "days", confidence)
    out = out.rename(columns={"mean": "mean_days"}).drop(columns="std")
    due = frame.get("planned_by_horizon", pd.Series(True, index=frame.index)).astype(bool)
    not_due = set(frame.loc[~due, ["group", "cause"]].itertuples(index=False, name=None))
    out["warning"] = [
        _join(
            replication_warning(int(n), "mean"),
            "includes phases planned after the horizon (their days are negative lower bounds)"
            if (group, cause) in not_due
            else "",
        )
        for group, cause, n in zip(out["group"], out["cause"], out["n"], strict=True)
    ]
    return out


def national_gw(national: pd.DataFrame, year: int, by: By = "country") -> pd.DataFrame:
    """Data-centre GW online at the end of ``year``, per replication and group.

    The national table's region ``"all"`` is the country total (installed base
    plus every grid region): ``by="country"`` reads it, ``by=None`` sums it over
    countries, ``by="region"`` gives the regions themselves (including
    ``installed_base``). Column ``gw_online``.
    """
    missing = [c for c in ("country", "region", "year", "gw_online") if c not in national]
    if missing:
        raise ValueError(f"national lacks column(s) {missing}; pass a run's or batch's national")
    if by not in ("country", "region", None):
        raise ValueError(f"national_gw groups by 'country', 'region' or None, got {by!r}")
    years = sorted(int(y) for y in pd.unique(national["year"]))
    if int(year) not in years:
        raise ValueError(f"year {year} is not in the national table (years {years})")
    frame = national[national["year"] == int(year)]
    if REPLICATION not in frame:
        frame = frame.assign(**{REPLICATION: 0})
    total = frame["region"] == ALL
    if by == "region":
        frame = frame[~total].assign(group=frame["region"].astype(str))
    else:
        frame = frame[total].assign(group=frame["country"].astype(str) if by else ALL)
    out = frame.groupby([REPLICATION, "group"], sort=True)["gw_online"].sum().reset_index()
    return out.assign(year=int(year))


# ------------------------------------------------------------------------------ warnings
def replications_for_quantile(q: float, confidence: float = 0.95) -> int:
    """Fewest replications whose min and max bracket the q-quantile with ``confidence``.

    That is the smallest n with 1 − qⁿ − (1 − q)ⁿ ≥ confidence: below it no
    distribution-free (order-statistic) interval exists, so a sample P10 is
    just an extreme value. 29 for a P10/P90 and 6 for the median at 95 %.
    """
    if not 0 < q < 1:
        raise ValueError(f"quantile level must lie in (0, 1), got {q!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    n = 1
    while 1 - q**n - (1 - q) ** n < confidence:
        n += 1
    return n


def replication_warning(
    n: int, statistic: Statistic, q: float | None = None, confidence: float = 0.95
) -> str:
    """A short warning when ``n`` replications are too few for ``statistic`` ("" if enough).

    ``"mean"``: below 2 there is no interval; below 10 the t interval rests on
    the mean being near normal. ``"quantile"`` (level ``q``) and ``"median"``:
    below :func:`replications_for_quantile` a P10 or P90 is an extreme value.
    ``"proportion"``: below 2 no interval; below 10 a probability moves in
    steps of more than 10 points.
    """
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    if statistic == "mean":
        if n < 2:
            return f"n={n}: no CI"
        return f"n={n} < 10: the t interval rests on normality" if n < 10 else ""
    if statistic == "proportion":
        if n < 2:
            return f"n={n}: no CI for a probability"
        return f"n={n} < 10: a probability moves in steps of {100 / n:.0f} pp" if n < 10 else ""
    if statistic == "median":
        need = replications_for_quantile(0.5, confidence)
        return f"n={n} < {need}: no distribution-free CI for the median" if n < need else ""
    if statistic == "quantile":
        if q is None:
            raise ValueError("replication_warning(..., 'quantile') needs q")
        need = replications_for_quantile(q, confidence)
        lo, hi = sorted((round(100 * q), round(100 * (1 - q))))
        name = f"P{lo}" if lo == hi else f"P{lo}/P{hi}"
        if n < need:
            return f"too few replications for a {name} (n={n} < {need}): it is an extreme value"
        return ""
    raise ValueError(f"statistic must be mean, quantile, median or proportion, got {statistic!r}")


def _join(*texts: str) -> str:
    return "; ".join(dict.fromkeys(t for t in texts if t))


def _quantile_warning(n: int, confidence: float) -> str:
    """What is wrong with a P10/P50/P90 from ``n`` replications ("" if nothing)."""
    return _join(
        replication_warning(n, "quantile", 0.1, confidence),
        replication_warning(n, "median", confidence=confidence),
    )


# ------------------------------------------------------------------------------ summaries
def _key_list(frame: pd.DataFrame, value: str, keys: str | Sequence[str]) -> list[str]:
    key_list = [keys] if isinstance(keys, str) else list(keys)
    if not key_list:
        raise ValueError("keys must name at least one grouping column (e.g. 'group')")
    missing = [c for c in [REPLICATION, value, *key_list] if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks column(s) {missing}; expected one row per replication")
    if frame.duplicated([REPLICATION, *key_list]).any():
        raise ValueError(f"frame has several rows per replication and {key_list}")
    if (frame[value].astype(float) == -np.inf).any():
        raise ValueError(f"{value} has -inf values; only +inf ('after horizon') is meaningful")
    return key_list


def _censor(values: pd.Series, censor_at: float | None, value: str) -> pd.Series:
    """+inf replaced by ``censor_at`` for means; refused when no censoring point is given."""
    x = values.astype(float)
    if np.isinf(x).any():
        if censor_at is None:
            raise ValueError(
                f"{value} has +inf (after horizon) values: pass censor_at=<horizon days> "
                "so means count them at the horizon"
            )
        return x.replace(np.inf, float(censor_at))
    return x


def _censored_note(count: int, n: int, side: str = "") -> str:
    if count == 0:
        return ""
    where = f" in {side}" if side else ""
    return f"{count} of {n} replications after the horizon{where}: mean counts them at it"


def summarise(
    frame: pd.DataFrame,
    value: str,
    keys: str | Sequence[str] = "group",
    confidence: float = 0.95,
    censor_at: float | None = None,
) -> pd.DataFrame:
    """Across replications, per ``keys``: mean ± CI half-width, P10/P50/P90, n, warnings.

    ``frame`` has one row per replication and key. +inf ("after horizon") is
    kept by the quantiles and counted at ``censor_at`` (the horizon) by the
    mean, which is then a lower bound: ``censored`` counts those replications
    and ``warning`` says so (a +inf without ``censor_at`` is refused). NaN is a
    missing replication and is dropped. ``warning`` concerns the mean and its
    interval, ``quantile_warning`` the P10/P50/P90 (:func:`replication_warning`).
    """
    key_list = _key_list(frame, value, keys)
    data = frame[[*key_list, REPLICATION]].assign(
        raw=frame[value].astype(float), value=_censor(frame[value], censor_at, value)
    )
    data["censored"] = np.isinf(data["raw"]).astype(int)
    means = stats.grouped_intervals(data, key_list, "value", confidence).drop(columns="std")
    qs = stats.grouped_quantiles(data, key_list, "raw", (0.1, 0.5, 0.9)).drop(columns="n")
    counts = data.groupby(key_list, sort=True, as_index=False)["censored"].sum()
    out = means.merge(qs, on=key_list, how="left").merge(counts, on=key_list, how="left")
    out["warning"] = [
        _join(replication_warning(int(n), "mean"), _censored_note(int(c), int(n)))
        for n, c in zip(out["n"], out["censored"], strict=True)
    ]
    out["quantile_warning"] = [_quantile_warning(int(n), confidence) for n in out["n"]]
    return out


def paired(
    base: pd.DataFrame,
    policy: pd.DataFrame,
    value: str,
    keys: str | Sequence[str] = "group",
    confidence: float = 0.95,
    censor_at: float | None = None,
) -> pd.DataFrame:
    """Paired difference policy − base per replication, summarised per ``keys``.

    Rows are matched on replication + keys (inner join: a replication missing
    on either side drops out of the pair). Columns: n, base_mean, policy_mean,
    diff_mean, halfwidth, low, high (t interval of the paired differences),
    diff_p10/p50/p90, variance_ratio = var(diff) / (var(base) + var(policy))
    (below 1: common random numbers helped), censored_base, censored_policy,
    censored_both, warning (mean and CI), quantile_warning (P10/P50/P90).
    +inf ("after horizon") is counted at ``censor_at`` on both sides, so a
    difference involving it is a bound, and ``warning`` says how many; where
    every pair is after the horizon on both sides the difference is unknown
    (NaN), not 0.
    """
    key_list = _key_list(base, value, keys)
    _key_list(policy, value, keys)
    a = base[[*key_list, REPLICATION]].assign(
        value=_censor(base[value], censor_at, value), inf=np.isinf(base[value].astype(float))
    )
    b = policy[[*key_list, REPLICATION]].assign(
        value=_censor(policy[value], censor_at, value), inf=np.isinf(policy[value].astype(float))
    )
    merged = a.merge(b, on=[*key_list, REPLICATION], suffixes=("_a", "_b"))
    merged = merged.dropna(subset=["value_a", "value_b"])
    merged["diff"] = merged["value_b"] - merged["value_a"]
    merged["inf_both"] = merged["inf_a"] & merged["inf_b"]
    diffs = stats.grouped_paired_differences(
        merged.rename(columns={"value_a": "value"}),
        merged.rename(columns={"value_b": "value"}),
        REPLICATION,
        key_list,
        "value",
        confidence,
    )
    diffs = diffs.rename(
        columns={"mean_a": "base_mean", "mean_b": "policy_mean", "diff": "diff_mean"}
    )
    qs = stats.grouped_quantiles(merged, key_list, "diff", (0.1, 0.5, 0.9), prefix="diff_p")
    censored = merged.groupby(key_list, sort=True, as_index=False).agg(
        censored_base=("inf_a", "sum"),
        censored_policy=("inf_b", "sum"),
        censored_both=("inf_both", "sum"),
    )
    out = diffs.merge(qs.drop(columns="n"), on=key_list, how="left").merge(
        censored, on=key_list, how="left"
    )
    # After the horizon on both sides in every pair: the difference is unknown, not 0.
    unknown = out["censored_both"] == out["n"]
    measured = list(_PAIRED_STATS[2:])  # the difference's, not the two sides' means
    out[[*measured, "variance_ratio"]] = out[[*measured, "variance_ratio"]].where(~unknown)
    out["warning"] = [
        _join(
            replication_warning(int(n), "mean"),
            "after the horizon on both sides in every replication: difference unknown"
            if both == n
            else _join(
                _censored_note(int(cb), int(n), "base"),
                _censored_note(int(cp), int(n), "policy"),
                f"{both} of {n} pairs after the horizon on both sides count as no difference"
                if both
                else "",
            ),
        )
        for n, cb, cp, both in zip(
            out["n"],
            out["censored_base"],
            out["censored_policy"],
            out["censored_both"],
            strict=True,
        )
    ]
    out["quantile_warning"] = [_quantile_warning(int(n), confidence) for n in out["n"]]
    cols = [
        *key_list,
        "n",
        *_PAIRED_STATS,
        "variance_ratio",
        "censored_base",
        "censored_policy",
        "censored_both",
        "warning",
        "quantile_warning",
    ]
    return out[cols]


# ------------------------------------------------------------------------------ headlines
@dataclass(frozen=True)
class _Study:
    """What the headline metrics need from one scenario's run or batch."""

    projects: pd.DataFrame
    horizon_days: float
    national: pd.DataFrame | None
    start: pd.Timestamp | None


@dataclass(frozen=True)
class _Metric:
    """One headline metric's per-replication values (column ``value``) by group."""

    name: str
    unit: str
    values: pd.DataFrame
    censor_at: float | None = None
    note: str = ""


Source = BatchResults | Results | pd.DataFrame
_HEADLINE_COLUMNS = ("phase_id", "country", "region", "it_mw", "planned_day", "online_day")


def _study(
    source: Source,
    horizon_days: float | None,
    national: pd.DataFrame | None,
    start: pd.Timestamp | None,
) -> _Study:
    """The projects, horizon, national table and start date of a batch, run or projects frame.

    A batch or run brings its own horizon and start; a ``horizon_days`` that
    disagrees is refused rather than silently preferred.
    """
    if isinstance(source, BatchResults):
        cols = [c for c in _HEADLINE_COLUMNS if c in source.store.columns("projects")]
        own_h, own_start = source.horizon_days, source.start
        projects = source.table("projects", cols)
        national = source.national if national is None else national
    elif isinstance(source, Results):
        if "end" not in source.meta:
            raise ValueError("this run's meta has no 'end': pass its projects and horizon_days")
        own_start = pd.Timestamp(source.start)
        own_h = float((pd.Timestamp(source.meta["end"]) - own_start) / pd.Timedelta(days=1))
        projects = source.projects
        national = source.national if national is None else national
    elif isinstance(source, pd.DataFrame):
        if horizon_days is None:
            raise ValueError("a projects frame needs horizon_days (the run's horizon)")
        return _Study(source, _check_horizon(horizon_days), national, start)
    else:
        raise TypeError(f"expected BatchResults, Results or a projects DataFrame, got {source!r}")
    if horizon_days is not None and abs(float(horizon_days) - own_h) > _TOL_DAYS:
        raise ValueError(f"horizon_days {horizon_days} disagrees with the run's horizon {own_h}")
    return _Study(projects, own_h, national, own_start if start is None else start)


def _both(fn: Callable[..., pd.DataFrame], *args: object) -> pd.DataFrame:
    """A metric by country and for all phases (label "all"), stacked."""
    return pd.concat([fn(*args, by="country"), fn(*args, by=None)], ignore_index=True)


def _metrics(study: _Study, years: Sequence[int], shares: Sequence[float]) -> list[_Metric]:
    """Every headline metric of one scenario, per replication, by country and "all"."""
    p, h = study.projects, study.horizon_days
    full = _both(mw_weighted_full_power_day, p, h)
    stranded = _both(stranded_summary, p, h)
    metrics = [
        _Metric(
            "full_power_day",
            "day",
            full.rename(columns={"full_power_day": "value"}),
            note="MW-weighted; MW not online by the horizon counted at it (a lower bound)",
        ),
        _Metric(
            "mw_weighted_delay_days",
            "days",
            full.rename(columns={"mw_weighted_delay_days": "value"}),
            note="MW-weighted full-power delay; not online counted at the horizon",
        ),
        _Metric("censored_mw_share", "share", full.rename(columns={"censored_share": "value"})),
    ]
    for share in shares:
        frame = _both(day_share_online, p, share, h)
        metrics.append(
            _Metric(
                f"day_{round(100 * share)}pct_online",
                "day",
                frame.rename(columns={"day": "value"}),
                censor_at=h,
                note=f"first day with {100 * share:g}% of planned MW at full power",
            )
        )
    metrics += [
        _Metric("mw_years_lost", "MW·yr", stranded.rename(columns={"mw_years_lost": "value"})),
        _Metric(
            "stranded_mw_at_horizon",
            "MW",
            stranded.rename(columns={"stranded_mw_at_horizon": "value"}),
        ),
        _Metric(
            "p_on_time",
            "share",
            _both(on_time_share, p, h).rename(columns={"on_time_share": "value"}),
        ),
    ]
    if study.national is not None and not study.national.empty:
        available = set(pd.unique(study.national["year"]).astype(int))
        for year in years:
            name = f"gw_online_{int(year)}"
            if int(year) in available:
                frame = _both(national_gw, study.national, year)
                metrics.append(_Metric(name, "GW", frame.rename(columns={"gw_online": "value"})))
            else:
                empty = pd.DataFrame(columns=[REPLICATION, "group", "value"])
                metrics.append(_Metric(name, "GW", empty, note=f"{year} is not in the run"))
    return metrics


def _dated(out: pd.DataFrame, start: pd.Timestamp | None, columns: Sequence[str]) -> pd.DataFrame:
    """``<col>_date`` = start + whole days for day-valued rows (NaT for +inf and other units).

    Day d is the calendar day it falls in (d = 0.5 is the start date), as in
    the projects table's dates.
    """
    if start is None:
        return out
    is_day = out["unit"] == "day"
    for col in columns:
        days = out[col].astype(float).where(is_day & np.isfinite(out[col].astype(float)))
        out[f"{col}_date"] = pd.Timestamp(start).normalize() + pd.to_timedelta(
            np.floor(days), unit="D"
        )
    return out


def _order(out: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """Metrics in headline order, countries alphabetically, "all" last."""
    rank = {name: i for i, name in enumerate(names)}
    return (
        out.assign(
            _m=out["metric"].map(rank), _g=(out["group"] == ALL).astype(int), _n=out["group"]
        )
        .sort_values(["_m", "_g", "_n"], kind="stable")
        .drop(columns=["_m", "_g", "_n"])
        .reset_index(drop=True)
    )


def _text_filled(table: pd.DataFrame) -> pd.DataFrame:
    """Text columns as "" rather than NaN where they do not apply."""
    for col in ("warning", "quantile_warning", "note", "why_withheld"):
        table[col] = table[col].fillna("") if col in table else ""
    return table


def _label(frame: pd.DataFrame, metric: _Metric) -> pd.DataFrame:
    frame.insert(0, "unit", metric.unit)
    frame.insert(0, "metric", metric.name)
    frame["note"] = metric.note
    return frame


def headline_table(
    source: Source,
    horizon_days: float | None = None,
    *,
    national: pd.DataFrame | None = None,
    years: Sequence[int] = (2028, 2030),
    start: pd.Timestamp | None = None,
    shares: Sequence[float] = (0.5, 0.9),
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The headline metrics of one scenario, by country and "all", as one tidy frame.

    ``source`` is a batch, a single run or a projects frame (then
    ``horizon_days`` is required, and ``national`` / ``start`` optional). Rows:
    MW-weighted full-power day and delay, the share of MW censored, the days
    ``shares`` of planned MW were online, MW-years lost, MW stranded at the
    horizon, P(on time) where informative, and GW online at each of ``years``'
    end (if a national table is at hand). Columns: metric, unit, group, n,
    mean, halfwidth, low, high, p10, p50, p90, censored, warning (mean and CI),
    quantile_warning, note (the metric's definition), why_withheld (P(on time)
    not given), and ``*_date`` twins of the day columns when ``start`` is known.
    """
    study = _study(source, horizon_days, national, start)
    if study.projects.empty:
        return pd.DataFrame(columns=["metric", "unit", "group", "n", "mean", "warning", "note"])
    metrics = _metrics(study, years, shares)
    frames = []
    for metric in metrics:
        if metric.name == "p_on_time":
            frames.append(_label(_p_on_time_rows(study, confidence), metric))
            continue
        if metric.values.empty:
            frames.append(_label(pd.DataFrame({"group": [ALL], "n": [0]}), metric))
            continue
        out = summarise(metric.values, "value", "group", confidence, metric.censor_at)
        frames.append(_label(out, metric))
    table = _order(pd.concat(frames, ignore_index=True), [m.name for m in metrics])
    return _dated(_text_filled(table), study.start, ["mean", "p10", "p50", "p90"])


def _p_on_time_rows(study: _Study, confidence: float) -> pd.DataFrame:
    """P(on time) in the headline table's columns; the note replaces a withheld value."""
    rows = pd.concat(
        [p_on_time(study.projects, study.horizon_days, by, confidence) for by in ("country", None)],
        ignore_index=True,
    )
    # Wilson bounds are asymmetric: low/high, no half-width.
    out = rows.rename(columns={"p_on_time": "mean"})[["group", "n", "mean", "low", "high"]]
    out["warning"] = rows["warning"]
    out["why_withheld"] = rows["note"]
    return out


def headline_differences(
    base: Source,
    policy: Source,
    horizon_days: float | None = None,
    *,
    national_base: pd.DataFrame | None = None,
    national_policy: pd.DataFrame | None = None,
    years: Sequence[int] = (2028, 2030),
    start: pd.Timestamp | None = None,
    shares: Sequence[float] = (0.5, 0.9),
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The headline metrics as paired differences policy − base, by country and "all".

    Same metrics as :func:`headline_table`, each paired on the replication
    number (common random numbers) with :func:`paired`. Both sides must share a
    horizon: a censored day means "after *this* horizon". P(on time) is paired
    on each replication's on-time share and withheld (NaN, ``why_withheld``)
    when both sides were always late, or always on time.
    """
    a = _study(base, horizon_days, national_base, start)
    b = _study(policy, horizon_days, national_policy, start)
    if abs(a.horizon_days - b.horizon_days) > _TOL_DAYS:
        raise ValueError(
            f"base and policy horizons differ ({a.horizon_days} vs {b.horizon_days} days): "
            "censored days cannot be compared"
        )
    if a.projects.empty or b.projects.empty:
        return pd.DataFrame(columns=["metric", "unit", "group", "n", "diff_mean", "warning"])
    ma, mb = _metrics(a, years, shares), _metrics(b, years, shares)
    frames = []
    for x, y in zip(ma, mb, strict=True):
        if x.values.empty or y.values.empty:
            note = x.note or y.note
            frames.append(
                _label(
                    pd.DataFrame({"group": [ALL], "n": [0]}),
                    _Metric(x.name, x.unit, x.values, note=note),
                )
            )
            continue
        out = paired(x.values, y.values, "value", "group", confidence, x.censor_at)
        if x.name == "p_on_time":
            out["why_withheld"] = [_withheld(x.values, y.values, group) for group in out["group"]]
            stats_cols = list(_PAIRED_STATS)
            out[stats_cols] = out[stats_cols].where(out["why_withheld"] == "")
        frames.append(_label(out, x))
    table = _order(pd.concat(frames, ignore_index=True), [m.name for m in ma])
    return _dated(_text_filled(table), a.start, ["base_mean", "policy_mean"])


def _withheld(base: pd.DataFrame, policy: pd.DataFrame, group: str) -> str:
    """Why a P(on time) difference is withheld: both sides always late, or always on time."""
    notes = [
        _on_time_note(side.loc[side["group"] == group, "value"]).split(" in ")[0]
        for side in (base, policy)
    ]
    return f"{notes[0]} in base and policy" if notes[0] and notes[0] == notes[1] else ""
