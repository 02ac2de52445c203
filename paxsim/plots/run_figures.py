"""Figures of one run: each takes tables of a :class:`~paxsim.models.results.run.Results`.

Every function returns a Figure made with ``plt.subplots`` (so Jupyter shows
it inline), built under the house style, titled with what it shows over
"<scenario> · one replication, seed <seed>" (pass ``scenario`` and ``seed``:
a table does not carry them). ``title`` replaces the headline only. Nothing
here runs a simulation; a wrong or empty table raises ValueError naming the
problem.

Phases not online by the horizon are never dropped: they are drawn hatched,
as "at least" this late, with what they were still waiting on.
"""

from __future__ import annotations

import math
from collections.abc import Collection

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from paxsim.plots.frames import (
    DAYS_PER_YEAR,
    WaitingSeries,
    cause_columns,
    clip_limit,
    group_identical,
    monthly_mean_wait,
    origin_of,
    waiting_series,
)
from paxsim.plots.style import (
    AFTER_HORIZON,
    AFTER_HORIZON_LABEL,
    cause_colour,
    check_choice,
    check_frame,
    date_axis,
    key_colour,
    legend_outside,
    run_context,
    set_title,
    styled,
    waits_on,
    wrap_label,
)

__all__ = [
    "capacity_online",
    "delay_by_cause",
    "delay_waterfall",
    "gantt",
    "headroom",
    "queue_lengths",
    "queue_over_time",
    "stocks_and_shortages",
    "trusted_share",
]

#: What each single-run figure needs of ``projects``.
_DELAY_COLUMNS = ("phase_id", "online_day", "delay_days", "delay_at_least_days", "held_back_by")
#: (day, date) column pairs of ``projects`` that tell the run's start date.
_DAY_DATE_PAIRS = (
    ("start_day", "start_date"),
    ("planned_day", "planned_date"),
    ("online_day", "online_date"),
)
#: A segment shorter than this (days) is not worth a colour of its own.
_MIN_SEGMENT_DAYS = 0.5


def _phase_rows_height(n: int) -> float:
    return 0.42 * max(4, n) + 2.0


# ------------------------------------------------------------------------------ delays
@styled
def delay_by_cause(
    projects: pd.DataFrame,
    title: str | None = None,
    scenario: str | None = None,
    *,
    seed: int | str | None = None,
) -> Figure:
    """Each phase's delay against its announced plan, split by cause (days, signed).

    Phases online by the horizon: causes stack to the right of zero, steps
    faster than their median (and optimistic plans) to the left; the black
    tick is the net delay, which the segments sum to. Phases not online by
    the horizon have no critical path yet, but hiding them would make a grid
    bottleneck look like good news: each gets a hatched bar from 0 to
    ``delay_at_least_days`` (horizon - planned; negative when the plan date is
    itself after the horizon), a ">" meaning "at least", and what it waits on.
    """
    p = check_frame(projects, _DELAY_COLUMNS, "projects").reset_index(drop=True)
    online = p["online_day"].notna().to_numpy()
    n = len(p)
    y = np.arange(n)
    fig, ax = plt.subplots(figsize=(10, _phase_rows_height(n)), layout="constrained")
    left_pos, left_neg = np.zeros(n), np.zeros(n)
    for col in cause_columns(p):
        vals = np.where(online, p[col].astype(float).fillna(0.0), 0.0)
        if np.abs(vals).max() <= _MIN_SEGMENT_DAYS:
            continue
        cause = col.removeprefix("days_")
        pos, neg = np.clip(vals, 0, None), np.clip(vals, None, 0)
        ax.barh(y, pos, left=left_pos, color=cause_colour(cause), label=cause)
        ax.barh(y, neg, left=left_neg, color=cause_colour(cause))
        left_pos += pos
        left_neg += neg
    if online.any():
        net = p.loc[online, "delay_days"].astype(float)
        ax.scatter(net, y[online], marker="|", color="black", s=200, zorder=3, label="net delay")
    if (~online).any():
        at_least = p.loc[~online, "delay_at_least_days"].astype(float).to_numpy()
        ax.barh(
            y[~online], at_least, gid="after_horizon", label=AFTER_HORIZON_LABEL, **AFTER_HORIZON
        )
        ax.scatter(at_least, y[~online], marker=">", color="#333333", s=30, zorder=4,
                   label="at least (the true delay lies right)")  # fmt: skip
        for yi, days, why in zip(y[~online], at_least, p.loc[~online, "held_back_by"], strict=True):
            ax.annotate(
                f"after horizon: {waits_on(why)}",
                xy=(max(days, 0.0), yi),
                xytext=(8, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
            )
        low, high = ax.get_xlim()
        ax.set_xlim(low, high + 0.3 * (high - low))  # room for the labels
    ax.set_yticks(y, p["phase_id"].astype(str))
    ax.invert_yaxis()
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel("delay against the announced plan (days; hatched: at least, not yet online)")
    legend_outside(ax)
    set_title(fig, "Delay by cause, per data-centre phase", run_context(scenario, seed), title)
    return fig


@styled
def delay_waterfall(
    projects: pd.DataFrame,
    phase_id: str,
    *,
    title: str | None = None,
    scenario: str | None = None,
    seed: int | str | None = None,
) -> Figure:
    """Waterfall for one phase: from the announced plan, cause by cause, to the online date."""
    p = check_frame(projects, (*_DELAY_COLUMNS, "planned_date", "online_date"), "projects")
    row = p.loc[p["phase_id"] == phase_id]
    if row.empty:
        known = ", ".join(p["phase_id"].astype(str).head(8))
        raise ValueError(f"unknown phase_id {phase_id!r}; e.g. {known}")
    rec = row.iloc[0]
    if pd.isna(rec["online_day"]):
        raise ValueError(f"{phase_id} is not online by the horizon: no waterfall to draw")
    steps = [(c.removeprefix("days_"), float(rec[c])) for c in cause_columns(p)]
    steps = [(c, v) for c, v in steps if abs(v) > _MIN_SEGMENT_DAYS]
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(steps) + 3), 4.8), layout="constrained")
    running = 0.0
    labels = ["planned"]
    ax.bar(0, 0, color="grey")
    for i, (cause, value) in enumerate(steps, start=1):
        ax.bar(i, value, bottom=running, color=cause_colour(cause))
        ax.text(i, running + value, f"{value:+.0f}", ha="center", va="bottom", fontsize=8)
        running += value
        labels.append(cause.replace("_", "\n"))
    ax.bar(len(steps) + 1, running, color="black")
    labels.append("online")
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_ylabel("delay against the announced plan (days)")
    online_date = pd.Timestamp(rec["online_date"]).date()
    headline = (
        f"{phase_id}: {running:+.0f} days (planned {rec['planned_date']}, online {online_date})"
    )
    set_title(fig, headline, run_context(scenario, seed), title)
    return fig


@styled
def gantt(
    projects: pd.DataFrame,
    critical_path: pd.DataFrame,
    phases: Collection[str] | None = None,
    *,
    title: str | None = None,
    scenario: str | None = None,
    seed: int | str | None = None,
) -> Figure:
    """One row per phase: critical path coloured by cause, plan and online dates.

    Each segment of a phase's critical path (``start_day`` to ``end_day``)
    takes its cause's colour, so a row reads left to right as what the phase
    waited on; the open diamond is the announced plan, the black bar the
    full-power date. A phase not online by the horizon has no path yet: a
    hatched bar runs from its start to the horizon, with an arrow past it and
    what it waits on.
    """
    p = check_frame(projects, (*_DELAY_COLUMNS, "start_day", "planned_day"), "projects")
    cp = check_frame(
        critical_path,
        ("phase_id", "order", "cause", "start_day", "end_day"),
        "critical_path",
        allow_empty=True,
    )
    if p["phase_id"].duplicated().any():
        raise ValueError("projects has repeated phase_id rows: pass one run's table, not a batch's")
    chosen = check_choice(phases, p["phase_id"].astype(str), "phase")
    rows = p.set_index(p["phase_id"].astype(str)).loc[chosen]
    origin = origin_of(p, _DAY_DATE_PAIRS)
    base = float(mdates.date2num(origin))
    all_censored = p["online_day"].isna()
    horizon_all = (p["planned_day"] + p["delay_at_least_days"])[all_censored].astype(float)
    horizon = float(horizon_all.max()) if len(horizon_all) else math.nan
    span = float(np.nanmax([rows["planned_day"].max(), rows["online_day"].max(), horizon]))
    arrow_days = 0.06 * max(span - float(rows["start_day"].min()), 1.0)

    fig, ax = plt.subplots(figsize=(11, _phase_rows_height(len(rows))), layout="constrained")
    starts = rows["start_day"].to_numpy(dtype=float)
    planned = rows["planned_day"].to_numpy(dtype=float)
    onlines = rows["online_day"].to_numpy(dtype=float)
    ends = planned + rows["delay_at_least_days"].to_numpy(dtype=float)
    why = [waits_on(w) for w in rows["held_back_by"]]
    for i, pid in enumerate(chosen):
        start = starts[i]
        if np.isnan(onlines[i]):
            end = ends[i]
            ax.barh(i, end - start, left=base + start, height=0.6, gid="after_horizon",
                    label=AFTER_HORIZON_LABEL, **AFTER_HORIZON)  # fmt: skip
            ax.annotate("", xy=(base + end + arrow_days, i), xytext=(base + end, i),
                        arrowprops={"arrowstyle": "->", "color": "#333333"})  # fmt: skip
            text_at = max(end + arrow_days, planned[i] + 0.5 * arrow_days)  # clear of the plan
            ax.text(base + text_at, i, f" after horizon: {why[i]}", va="center", fontsize=7)
        else:
            _draw_path(ax, cp[cp["phase_id"] == pid], i, base, start, onlines[i])
            ax.plot(base + onlines[i], i, marker="|", ms=14, mew=2, color="black",
                    ls="none", label="online (full power)")  # fmt: skip
        ax.plot(base + planned[i], i, marker="D", mfc="white", mec="black",
                ls="none", label="announced plan")  # fmt: skip
    if math.isfinite(horizon):
        ax.axvline(base + horizon, ls="--", color="grey", lw=1, label="horizon")
        low, high = ax.get_xlim()
        ax.set_xlim(low, max(high, base + horizon + 6 * arrow_days))
    ax.xaxis_date()
    date_axis(ax)
    ax.set_yticks(range(len(rows)), list(rows.index))
    ax.invert_yaxis()
    ax.set_xlabel("date (segments: critical path, coloured by cause)")
    legend_outside(ax)
    set_title(fig, "Phases from start to full power", run_context(scenario, seed), title)
    return fig


def _draw_path(
    ax: Axes, segments: pd.DataFrame, row: int, base: float, start: float, online: float
) -> None:
    """A phase's critical path as coloured segments (a grey bar if none was recorded)."""
    if segments.empty:
        ax.barh(row, online - start, left=base + start, height=0.6, color="#bbbbbb",
                label="no critical path recorded")  # fmt: skip
        return
    ordered = segments.sort_values("order")
    for cause, s, e in zip(
        ordered["cause"].astype(str),
        ordered["start_day"].to_numpy(dtype=float),
        ordered["end_day"].to_numpy(dtype=float),
        strict=True,
    ):
        ax.barh(row, e - s, left=base + s, height=0.6, color=cause_colour(cause), label=cause)


def _hide_unused(axes: np.ndarray, used: int) -> None:
    """Hide the empty panels of a grid, and date every panel that is last in its column.

    With a shared x axis only the bottom row shows tick labels; a panel
    above a hidden one would otherwise have none.
    """
    ncols = axes.shape[1]
    for k, ax in enumerate(axes.flat):
        if k >= used:
            ax.set_visible(False)
            continue
        date_axis(ax)
        below = k + ncols
        if below >= used:
            ax.xaxis.set_tick_params(labelbottom=True)


# ------------------------------------------------------------------------------ capacity
@styled
def capacity_online(
    capacity: pd.DataFrame,
    title: str | None = None,
    scenario: str | None = None,
    seed: int | str | None = None,
    *,
    regions: Collection[str] | None = None,
) -> Figure:
    """AI IT MW online vs the announced plan by grid region over time (step lines)."""
    cap = check_frame(capacity, ("date", "region", "online_mw", "planned_mw"), "capacity_online")
    chosen = check_choice(regions, cap["region"].astype(str), "region")
    fig, ax = plt.subplots(figsize=(10, 4.8), layout="constrained")
    for region in chosen:
        sub = cap[cap["region"] == region].sort_values("date")
        colour = key_colour(region)
        ax.step(sub["date"], sub["online_mw"], where="post", color=colour, label=f"{region} online")
        ax.step(sub["date"], sub["planned_mw"], where="post", color=colour, ls=":", alpha=0.8)
    ax.set_ylabel("AI IT load (MW; dotted: announced plan)")
    ax.set_xlabel("date")
    date_axis(ax)
    legend_outside(ax)
    set_title(fig, "AI capacity online by grid region", run_context(scenario, seed), title)
    return fig


# ------------------------------------------------------------------------------ queues
_QUEUE_COLUMNS = ("gate", "arrival", "start", "end", "arrival_date")
_NO_QUEUE_COLOUR = "#9e9e9e"


def _gate_style(group: list[str], never_waits: bool) -> tuple[str, str, str]:
    """Colour (the gate's grid region), line style and label of one line of identical gates."""
    if never_waits and len(group) > 1:
        label = f"{len(group)} gates, never a line: " + ", ".join(group)
        return _NO_QUEUE_COLOUR, "-", wrap_label(label, 45)
    parts = group[0].split(":")
    colour = key_colour(parts[1] if len(parts) > 1 else group[0])
    style = "--" if group[0].endswith(":requests") and len(group) == 1 else "-"
    label = " = ".join(group) + (" (identical)" if len(group) > 1 else "")
    return colour, style, wrap_label(label, 45)


@styled
def queue_over_time(
    queue_records: pd.DataFrame,
    gate_prefix: str = "grid:",
    title: str | None = None,
    *,
    scenario: str | None = None,
    seed: int | str | None = None,
    clip_quantile: float = 0.99,
    window_months: int = 3,
) -> Figure:
    """Requests waiting, and their mean wait by arrival month, at each gate over time.

    Two fixes over a plain plot: (a) the backlog present at the start (many
    requests queued at t = 0) would set the y-scale and flatten the steady
    state, so the upper panel's y-limit is the ``clip_quantile`` of the counts
    after the first year, and the clipped peak is annotated; (b) a region logs
    the same requests at two gates, and gates that never queue are all flat
    zero, so identical lines are drawn once and labelled with every gate.
    The lower panel is the mean wait (days) of requests arriving in each
    month, smoothed over ``window_months`` months (weighted by requests).
    """
    q = check_frame(queue_records, _QUEUE_COLUMNS, "queue_records")
    gates = sorted(g for g in q["gate"].astype(str).unique() if g.startswith(gate_prefix))
    if not gates:
        known = sorted({g.split(":")[0] + ":" for g in q["gate"].astype(str)})
        raise ValueError(f"no gate starts with {gate_prefix!r}; prefixes: {', '.join(known)}")
    if not 0 < clip_quantile <= 1:
        raise ValueError(f"clip_quantile must be in (0, 1], got {clip_quantile}")
    q = q[q["gate"].isin(gates)]
    origin = origin_of(q, [("arrival", "arrival_date")])
    last_day = float(np.nanmax(q[["arrival", "start", "end"]].to_numpy(dtype=float)))
    series = {g: waiting_series(q[q["gate"] == g]) for g in gates}
    groups = group_identical(series)

    fig, (ax_n, ax_w) = plt.subplots(2, 1, sharex=True, figsize=(11, 7.5), layout="constrained")
    for group in groups:
        line = series[group[0]]
        never = bool((line.counts == 0).all())
        colour, style, label = _gate_style(group, never)
        times = np.append(line.times, max(last_day, float(line.times[-1])))
        counts = np.append(line.counts, line.counts[-1])
        dates = origin + pd.to_timedelta(times, unit="D")
        ax_n.step(dates, counts, where="post", color=colour, ls=style, label=label)
        if never:
            continue
        waits = monthly_mean_wait(q[q["gate"] == group[0]], window_months)
        mid = origin + pd.to_timedelta(waits["mid_day"].to_numpy(dtype=float), unit="D")
        ax_w.plot(mid, waits["mean_wait_days"], color=colour, ls=style)
    limit = clip_limit([series[g[0]] for g in groups], DAYS_PER_YEAR, clip_quantile)
    if limit is not None:
        ax_n.set_ylim(0, limit)
        _note_off_scale(ax_n, [(g, series[g[0]]) for g in groups], limit, origin)
    ax_n.set_ylabel("requests waiting")
    ax_w.set_ylabel(f"mean wait (days, by arrival month,\n{window_months}-month rolling)")
    ax_w.set_xlabel("date")
    date_axis(ax_w)
    ax_w.set_ylim(bottom=0)
    legend_outside(ax_n)
    headline = f"Queues at {gate_prefix}* gates: requests waiting and their wait"
    set_title(fig, headline, run_context(scenario, seed), title)
    return fig


def _note_off_scale(
    ax: Axes,
    lines: list[tuple[list[str], WaitingSeries]],
    limit: float,
    origin: pd.Timestamp,
) -> None:
    """Say where a clipped line peaks: the start-up backlog is data, just not the story."""
    notes = 0
    for group, line in lines:
        counts, times = line.counts, line.times
        if float(counts.max()) <= limit:
            continue
        i = int(np.argmax(counts))
        when = origin + pd.Timedelta(days=float(times[i]))
        what = "initial backlog" if times[i] < DAYS_PER_YEAR else "peak"
        ax.annotate(
            f"{what} at {group[0]}: {counts[i]:.0f} waiting on {when.date()} (off scale)",
            xy=(when, limit),
            xytext=(15, -14 - 12 * notes),
            textcoords="offset points",
            fontsize=7,
            arrowprops={"arrowstyle": "->", "color": "#333333"},
            gid="off_scale_note",
        )
        notes += 1


def queue_lengths(
    queue_records: pd.DataFrame,
    gate_prefix: str = "grid:",
    title: str | None = None,
    *,
    scenario: str | None = None,
    seed: int | str | None = None,
) -> Figure:
    """The older name of :func:`queue_over_time` (kept for notebooks and ``paxsim run --plots``)."""
    return queue_over_time(queue_records, gate_prefix, title, scenario=scenario, seed=seed)


# ------------------------------------------------------------------------------ materials
_STOCK_VARIABLES = {"output_stock": "output stock", "input_stock": "input stock"}
#: Per sample period: production lost (facilities) or use not met (demand sinks).
_SHORT_VARIABLES = ("shortfall", "unmet")


def _unit(material: str) -> str:
    """Materials are in tonnes except accelerators, counted in units (docs/model.md 2.3)."""
    return "units" if material == "accelerator" else "t"


@styled
def stocks_and_shortages(
    facility_timeseries: pd.DataFrame,
    shortages: pd.DataFrame,
    facilities: Collection[str] | None = None,
    material: str | None = None,
    *,
    title: str | None = None,
    scenario: str | None = None,
    seed: int | str | None = None,
    max_facilities: int = 6,
) -> Figure:
    """Stock per facility over time with its shortages marked, one panel per facility.

    Solid lines are output stocks, dashed input stocks (one colour per
    material). Each order the facility could not get filled (``shortages``) is
    a tick along the bottom, in its material's colour, so a stock running dry
    and the orders going short read together; a faint red band marks a sample
    period in which production or use was lost for want of input. (Quantities
    short are not summed: an order short one week is asked again the next.)
    With ``facilities=None`` the ``max_facilities`` with the most shortages
    are shown (a briefing asks "where did it run short?").
    """
    ft = check_frame(
        facility_timeseries,
        ("time", "date", "entity", "kind", "material", "variable", "value"),
        "facility_timeseries",
    )
    sh = check_frame(
        shortages, ("date", "entity", "material", "qty"), "shortages", allow_empty=True
    )
    if max_facilities < 1:
        raise ValueError(f"max_facilities must be >= 1, got {max_facilities}")
    stocks = ft[ft["variable"].isin(list(_STOCK_VARIABLES))]
    if material is not None:
        known_materials = sorted(m for m in stocks["material"].astype(str).unique() if m)
        check_choice([material], known_materials, "material")
        stocks = stocks[stocks["material"] == material]
        sh = sh[sh["material"] == material]
    known = list(dict.fromkeys(stocks["entity"].astype(str)))
    if not known:
        raise ValueError("facility_timeseries has no stock rows (input_stock, output_stock)")
    if facilities is None:
        counts = sh["entity"].astype(str).value_counts()
        ranked = sorted(known, key=lambda f: -int(counts.get(f, 0)))  # stable: table order
        chosen = ranked[:max_facilities]
    else:
        chosen = check_choice(facilities, known, "facility")
    sample_days = np.diff(np.unique(ft["time"].to_numpy(dtype=float)))
    period = float(np.median(sample_days)) if len(sample_days) else 1.0  # days per sample

    ncols = min(2, len(chosen))
    nrows = math.ceil(len(chosen) / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(6 * ncols, 3.2 * nrows + 1), sharex=True, layout="constrained",
        squeeze=False,
    )  # fmt: skip
    for ax, facility in zip(axes.flat, chosen, strict=False):
        _stock_panel(ax, facility, stocks, ft, sh, period)
    _hide_unused(axes, len(chosen))
    what = f" of {material}" if material else ""
    set_title(fig, f"Stocks and shortages{what}, per facility", run_context(scenario, seed), title)
    return fig


def _stock_panel(
    ax: Axes,
    facility: str,
    stocks: pd.DataFrame,
    ft: pd.DataFrame,
    sh: pd.DataFrame,
    period_days: float,
) -> None:
    """One facility: its stocks, the periods it ran short, and each order not met (a tick)."""
    own = stocks[stocks["entity"] == facility]
    units: set[str] = set()
    for (variable, mat), sub in own.groupby(["variable", "material"], sort=True):
        sub = sub.sort_values("date")
        units.add(_unit(str(mat)))
        ax.step(sub["date"], sub["value"], where="post", color=key_colour(str(mat)),
                ls="-" if variable == "output_stock" else "--",
                label=f"{mat} {_STOCK_VARIABLES[str(variable)]}")  # fmt: skip
    short = ft[
        (ft["entity"] == facility) & ft["variable"].isin(_SHORT_VARIABLES) & (ft["value"] > 0)
    ]
    for end in short["date"]:
        ax.axvspan(end - pd.Timedelta(days=period_days), end, color="#d62728", alpha=0.07, lw=0,
                   label="period short of input (production or use lost)")  # fmt: skip
    events = sh[sh["entity"] == facility]
    for key, sub in events.groupby("material", sort=True):
        mat = str(key)
        ax.plot(sub["date"], np.full(len(sub), 0.03), transform=ax.get_xaxis_transform(),
                marker="|", ms=9, mew=1.2, ls="none", color=key_colour(mat), alpha=0.8,
                gid="shortage", label=f"{mat} order not met ({len(sub)} orders)")  # fmt: skip
    kind = str(own["kind"].iloc[0]) if len(own) else ""
    ax.set_title(f"{facility} ({kind})", fontsize=9)
    ax.set_ylabel(f"stock ({' or '.join(sorted(units)) or 't'})")
    ax.set_ylim(bottom=0)
    legend_outside(ax, fontsize=7)


@styled
def trusted_share(
    trusted_share_table: pd.DataFrame,
    materials: Collection[str] | None = None,
    *,
    title: str | None = None,
    scenario: str | None = None,
    seed: int | str | None = None,
) -> Figure:
    """Share of each material's output (per sample period) from trusted sources, in percent.

    A period with no output has no share (a gap, not a zero).
    """
    ts = check_frame(
        trusted_share_table,
        ("date", "material", "output", "trusted_output", "trusted_share"),
        "trusted_share",
    )
    chosen = check_choice(materials, ts["material"].astype(str), "material")
    fig, ax = plt.subplots(figsize=(10, 4.8), layout="constrained")
    for mat in chosen:
        sub = ts[ts["material"] == mat].sort_values("date")
        share = 100.0 * sub["trusted_share"].astype(float).where(sub["output"] > 0)
        ax.plot(sub["date"], share, color=key_colour(mat), label=mat)
    ax.set_ylim(0, 100)
    ax.set_ylabel("trusted share of output (%)")
    ax.set_xlabel("date")
    date_axis(ax)
    legend_outside(ax)
    set_title(fig, "Trusted share of output by material", run_context(scenario, seed), title)
    return fig


_HEADROOM = {
    "spare_mw": ("spare", "#2ca02c"),
    "reserved_mw": ("reserved", "#1f77b4"),
    "building_mw": ("being built", "#ff7f0e"),
    "waiting_mw": ("waiting", "#d62728"),
}


@styled
def headroom(
    headroom_table: pd.DataFrame,
    regions: Collection[str] | None = None,
    *,
    title: str | None = None,
    scenario: str | None = None,
    seed: int | str | None = None,
) -> Figure:
    """Per grid region: spare, reserved, being-built and waiting MW over time (small multiples).

    The table has a row per change, so each quantity is a step that holds
    until the next change; the last value is held to the table's last date.
    """
    hr = check_frame(headroom_table, ("date", "region", *_HEADROOM), "headroom")
    chosen = check_choice(regions, hr["region"].astype(str), "region")
    end = hr["date"].max()
    ncols = min(3, len(chosen))
    nrows = math.ceil(len(chosen) / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(4.2 * ncols + 1, 2.8 * nrows + 1.2), sharex=True,
        layout="constrained", squeeze=False,
    )  # fmt: skip
    for ax, region in zip(axes.flat, chosen, strict=False):
        sub = hr[hr["region"] == region].sort_values(["date"], kind="stable")
        dates = pd.concat([sub["date"], pd.Series([end])], ignore_index=True)
        for col, (label, colour) in _HEADROOM.items():
            values = np.append(sub[col].to_numpy(dtype=float), float(sub[col].iloc[-1]))
            ax.step(dates, values, where="post", color=colour, label=label)
        ax.set_title(region, fontsize=9)
        ax.set_ylabel("MW")
        ax.set_ylim(bottom=0)
    _hide_unused(axes, len(chosen))
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(_HEADROOM))
    headline = "Grid headroom per region: spare, reserved, being built, waiting"
    set_title(fig, headline, run_context(scenario, seed), title)
    return fig
