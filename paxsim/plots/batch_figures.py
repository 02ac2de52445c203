"""Figures of many replications: a :class:`BatchResults` or a paired :class:`Comparison`.

Every figure says how many replications it rests on ("n = 20
replications"), shows spread (P10-P90 bands) and precision (CIs on means)
apart, and keeps replications in which a phase never came online (as "after
horizon", counted to the horizon) instead of averaging them away. Nothing
here runs a simulation.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from paxsim.models.results.batch import BatchResults
from paxsim.models.results.comparison import Comparison
from paxsim.plots.frames import (
    AFTER_HORIZON_COLUMN,
    attribution_table,
    cause_columns,
    national_rows,
    paired_national_differences,
)
from paxsim.plots.style import (
    AFTER_HORIZON,
    AFTER_HORIZON_LABEL,
    batch_context,
    cause_colour,
    check_frame,
    key_colour,
    legend_outside,
    set_title,
    styled,
)
from paxsim.sim import stats
from paxsim.sim.replications import REPLICATION

__all__ = ["delay_attribution", "deployment_s_curves", "policy_fan", "queue_waits"]

#: National-table metrics a fan can show, with their axis wording.
NATIONAL_METRICS = {
    "gw_online": "data-centre load online at year end (GW at the meter)",
    "twh": "data-centre energy used in the year (TWh)",
}
_NATIONAL_COLUMNS = (REPLICATION, "country", "region", "year")
_BAND = (0.1, 0.5, 0.9)
_MIN_SEGMENT_DAYS = 0.5


def _check_batch(batch: object) -> BatchResults:
    if not isinstance(batch, BatchResults):
        raise ValueError(
            f"expected a BatchResults (from run_batch or load_batch), got {type(batch).__name__}"
        )
    return batch


def _check_comparison(comparison: object) -> Comparison:
    if not isinstance(comparison, Comparison):
        raise ValueError(f"expected a Comparison (from compare), got {type(comparison).__name__}")
    return comparison


def _check_metric(metric: str) -> str:
    if metric not in NATIONAL_METRICS:
        raise ValueError(f"metric must be one of {', '.join(NATIONAL_METRICS)}, got {metric!r}")
    return metric


def _series_colour(key: str) -> str:
    """A country's colour, or a ``country/region`` key's region colour."""
    return key_colour(key.split("/")[-1])


def _band_note(n: int) -> str:
    """P10/P90 from a handful of replications are near the extremes: say so on the figure."""
    return " (n < 10: band edges are near the extremes)" if n < 10 else ""


# ------------------------------------------------------------------------------ deployment
@styled
def deployment_s_curves(
    batch: BatchResults, by: str = "country", *, title: str | None = None
) -> Figure:
    """Data-centre GW online at each year end: P10-P90 band and P50 line per country.

    ``by="country"`` uses the country totals (the national table's region
    ``all``: installed base + pipeline sites + named campuses at full power);
    ``by="region"`` draws each grid region and installed base instead.
    """
    b = _check_batch(batch)
    nat = check_frame(b.national, (*_NATIONAL_COLUMNS, "gw_online"), "national")
    rows = national_rows(nat, by)
    n = int(rows[REPLICATION].nunique())
    fig, ax = plt.subplots(figsize=(9.5, 5), layout="constrained")
    for key in dict.fromkeys(rows["key"]):
        q = rows[rows["key"] == key].groupby("year")["gw_online"].quantile(list(_BAND)).unstack()
        colour = _series_colour(str(key))
        years = q.index.to_numpy()
        ax.fill_between(years, q[_BAND[0]], q[_BAND[2]], color=colour, alpha=0.2, lw=0)
        ax.plot(years, q[_BAND[1]], color=colour, marker="o", ms=3, label=f"{key}")
    ax.set_xticks(sorted(rows["year"].unique()))
    ax.set_xlabel("year end")
    ax.set_ylabel(NATIONAL_METRICS["gw_online"])
    ax.set_ylim(bottom=0)
    legend_outside(ax, title="P50 line, P10–P90 band")
    context = batch_context(b.scenario_name, n) + _band_note(n)
    set_title(fig, f"Data-centre deployment by {by}", context, title)
    return fig


@styled
def policy_fan(
    comparison: Comparison,
    metric: str = "gw_online",
    by: str = "country",
    *,
    title: str | None = None,
    confidence: float = 0.95,
) -> Figure:
    """Policy - base per replication, by year: P10-P90 band, P50 line, mean with its CI.

    Replication ``i`` of both batches shares its random numbers, so the
    difference is taken within each replication (paired on ``replication``)
    before any summary: the band shows how much the policy's effect varies,
    the error bars how precisely its mean is known. A mean whose interval
    crosses the zero line is not distinguishable from no effect.
    """
    c = _check_comparison(comparison)
    _check_metric(metric)
    sides = {"base": c.base, "policy": c.policy}
    for side, res in sides.items():
        check_frame(res.national, (*_NATIONAL_COLUMNS, metric), f"{side} national")
    diffs = paired_national_differences(c.base.national, c.policy.national, metric, by)
    keys = list(dict.fromkeys(diffs["key"]))
    ncols = min(2, len(keys))
    nrows = math.ceil(len(keys) / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(5.5 * ncols + 1.5, 3.6 * nrows + 1.2), sharex=True,
        layout="constrained", squeeze=False,
    )  # fmt: skip
    pct = f"{100 * confidence:g} %"
    for ax, key in zip(axes.flat, keys, strict=False):
        sub = diffs[diffs["key"] == key]
        grouped = sub.groupby("year")["diff"]
        q = grouped.quantile(list(_BAND)).unstack()
        years = q.index.to_numpy()
        cis = [stats.t_interval(values.to_numpy(), confidence) for _, values in grouped]
        colour = _series_colour(str(key))
        ax.axhline(0, color="grey", lw=0.9)
        ax.fill_between(years, q[_BAND[0]], q[_BAND[2]], color=colour, alpha=0.2, lw=0,
                        label="P10–P90 of paired differences")  # fmt: skip
        ax.plot(years, q[_BAND[1]], color=colour, label="P50")
        means = np.array([ci.mean for ci in cis], dtype=float)
        halfwidths = np.array([ci.halfwidth for ci in cis], dtype=float)
        ax.errorbar(years, means, yerr=halfwidths, fmt="o", ms=4, color="black", capsize=3,
                    label=f"mean ± {pct} CI")  # fmt: skip
        ax.set_title(str(key), fontsize=9)
        ax.set_xticks(years)
        ax.set_ylabel(f"policy − base\n({_unit_of(metric)})")
        ax.set_xlabel("year end")
    for ax in list(axes.flat)[len(keys) :]:
        ax.set_visible(False)
    legend_outside(axes.flat[ncols - 1])
    n = int(diffs[REPLICATION].nunique())
    names = f"{c.policy.scenario_name} (policy) − {c.base.scenario_name} (base)"
    context = f"{names} · {batch_context('', n, paired=True)}{_band_note(n)}"
    headline = f"Policy effect on {NATIONAL_METRICS[metric]}, paired by replication"
    set_title(fig, headline, context, title)
    return fig


def _unit_of(metric: str) -> str:
    return {"gw_online": "GW", "twh": "TWh"}[metric]


# ------------------------------------------------------------------------------ delays
@styled
def delay_attribution(
    batch: BatchResults,
    by: str = "phase",
    *,
    title: str | None = None,
    confidence: float = 0.95,
) -> Figure:
    """Mean days of delay by cause, stacked per phase (or per country), with a CI on the total.

    Replications in which a phase was not online by the horizon have no
    critical path; they enter as their own hatched "after horizon" segment
    (horizon - planned days, a lower bound), never dropped, so the bar's
    total is the mean delay censored at the horizon and a grid-starved phase
    does not look punctual. Negative causes (faster than median, optimistic
    plans) stack left of zero. ``by="country"`` averages over each country's
    phases within a replication (days per phase).
    """
    b = _check_batch(batch)
    need = (REPLICATION, "phase_id", "planned_day", "online_day")
    p = check_frame(b.projects, (*need, *(("country",) if by == "country" else ())), "projects")
    table = attribution_table(p, b.horizon_days, by, confidence)
    causes = [c.removeprefix("days_") for c in cause_columns(p)]
    k = len(table)
    y = np.arange(k)
    fig, ax = plt.subplots(figsize=(10.5, 0.42 * max(4, k) + 2.2), layout="constrained")
    left_pos, left_neg = np.zeros(k), np.zeros(k)
    for cause in [*causes, AFTER_HORIZON_COLUMN]:
        vals = table[cause].to_numpy(dtype=float)
        if np.abs(vals).max() <= _MIN_SEGMENT_DAYS:
            continue
        if cause == AFTER_HORIZON_COLUMN:
            style = {**AFTER_HORIZON, "label": AFTER_HORIZON_LABEL, "gid": "after_horizon"}
        else:
            style = {"color": cause_colour(cause), "label": cause}
        pos, neg = np.clip(vals, 0, None), np.clip(vals, None, 0)
        for part, left in ((pos, left_pos), (neg, left_neg)):
            drawn = part != 0  # an empty bar group would give the legend a default colour
            if drawn.any():
                ax.barh(y[drawn], part[drawn], left=left[drawn], **style)
        left_pos += pos
        left_neg += neg
    pct = f"{100 * confidence:g} %"
    totals = table["total"].to_numpy(dtype=float)
    halfwidths = table["halfwidth"].to_numpy(dtype=float)
    ax.errorbar(totals, y, xerr=halfwidths, fmt="D", ms=4, color="black", capsize=3,
                label=f"total: mean ± {pct} CI")  # fmt: skip
    ax.set_yticks(y, [_attribution_label(r, by) for r in table.to_dict("records")])
    ax.invert_yaxis()
    ax.axvline(0, color="grey", lw=0.8)
    per = "per phase " if by == "country" else ""
    ax.set_xlabel(
        f"mean delay {per}against the announced plan (days; replications not online "
        "counted to the horizon)"
    )
    legend_outside(ax)
    n = int(p[REPLICATION].nunique())
    set_title(fig, f"Delay by cause, per {by}", batch_context(b.scenario_name, n), title)
    return fig


def _attribution_label(values: Mapping[Hashable, Any], by: str) -> str:
    """The group's name and how often it was stranded (a mean hides a bimodal outcome)."""
    stranded = int(values["n_after_horizon"])
    if by == "phase":
        return f"{values[by]}  ({stranded}/{int(values['n'])} after horizon)"
    return f"{values[by]}  ({stranded} of {int(values['phase_runs'])} phase-runs after horizon)"


# ------------------------------------------------------------------------------ queues
_REQUESTER = {False: ("named phases and sites", "#1f77b4"), True: ("background", "#aaaaaa")}


@styled
def queue_waits(
    batch: BatchResults,
    gate_prefix: str | None = None,
    *,
    title: str | None = None,
    confidence: float = 0.95,
) -> Figure:
    """Mean wait per gate (days), each run's mean averaged over replications, with its CI.

    Named phases and background requests are shown apart: they share a gate
    but not always a priority.
    """
    b = _check_batch(batch)
    summary = b.queue_summary(confidence)
    qs = check_frame(
        summary, ("gate", "background", "mean_wait", "halfwidth", "n"), "queue_summary"
    )
    if gate_prefix is not None:
        qs = qs[qs["gate"].astype(str).str.startswith(gate_prefix)]
        if qs.empty:
            raise ValueError(f"no gate starts with {gate_prefix!r}")
    gates = sorted(qs["gate"].astype(str).unique())
    row = {g: i for i, g in enumerate(gates)}
    fig, ax = plt.subplots(figsize=(10, 0.38 * max(5, len(gates)) + 2), layout="constrained")
    for background, (label, colour) in _REQUESTER.items():
        sub = qs[qs["background"].astype(bool) == background]
        offset = 0.2 if background else -0.2
        y = np.array([row[g] for g in sub["gate"].astype(str)]) + offset
        ax.barh(y, sub["mean_wait"], height=0.38, xerr=sub["halfwidth"].fillna(0.0),
                color=colour, label=label, capsize=2, error_kw={"lw": 0.8})  # fmt: skip
    ax.set_yticks(range(len(gates)), gates)
    ax.invert_yaxis()
    pct = f"{100 * confidence:g} %"
    ax.set_xlabel(f"mean wait (days): each run's mean, averaged over replications, ± {pct} CI")
    ax.set_xlim(left=0)
    legend_outside(ax)
    n = int(b.queue_waits[REPLICATION].nunique())
    set_title(fig, "Waits at each gate", batch_context(b.scenario_name, n), title)
    return fig
