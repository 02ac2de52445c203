"""Figures from results tables; each returns a matplotlib Figure a notebook can show.

All functions take DataFrames (or a Results) and never run a simulation, so a
notebook can restyle them, and the CLI can save them.

Figures are made with ``plt.subplots``, so they belong to pyplot and follow
whatever backend is active; this module never chooses one. In Jupyter (the
inline backend) a figure made in a cell shows when the cell ends, or where
``plt.show()`` is called; do not also leave ``fig`` as the cell's last
expression, or it shows twice. Headless (no display) matplotlib falls back to
Agg, which is all :func:`save_standard_figures` needs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from paxsim.models.results import Results
from paxsim.models.world import CAUSES

__all__ = [
    "CAUSE_COLOURS",
    "capacity_online",
    "delay_by_cause",
    "delay_waterfall",
    "queue_lengths",
    "save_standard_figures",
]

_EXTRA = ("plan_optimism", "unused_float")
_PALETTE = plt.get_cmap("tab20")(np.linspace(0, 1, 20))
#: One stable colour per cause, so every figure reads the same.
CAUSE_COLOURS = {c: _PALETTE[i % len(_PALETTE)] for i, c in enumerate((*CAUSES, *_EXTRA))}


def _cause_columns(projects: pd.DataFrame) -> list[str]:
    return [f"days_{c}" for c in (*CAUSES, *_EXTRA) if f"days_{c}" in projects]


def delay_by_cause(projects: pd.DataFrame, title: str = "Delay by cause") -> Figure:
    """Stacked horizontal bars: each phase's delay split by cause (days, signed).

    Positive causes stack to the right of zero and negative ones (steps faster
    than their median, optimistic plans) to the left; the black tick marks the
    net delay, which the segments sum to exactly.
    """
    done = projects[projects["online_by_horizon"]].copy()
    cols = _cause_columns(done)
    used = [c for c in cols if done[c].abs().max() > 0.5]
    fig, ax = plt.subplots(figsize=(10, 0.45 * max(4, len(done)) + 1.5))
    y = np.arange(len(done))
    left_pos = np.zeros(len(done))
    left_neg = np.zeros(len(done))
    for col in used:
        vals = done[col].to_numpy(dtype=float)
        cause = col.removeprefix("days_")
        pos = np.clip(vals, 0, None)
        neg = np.clip(vals, None, 0)
        colour = CAUSE_COLOURS.get(cause)
        ax.barh(y, pos, left=left_pos, color=colour, label=cause)
        ax.barh(y, neg, left=left_neg, color=colour)
        left_pos += pos
        left_neg += neg
    ax.scatter(done["delay_days"], y, marker="|", color="black", s=200, zorder=3, label="net delay")
    ax.set_yticks(y, done["phase_id"])
    ax.invert_yaxis()
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel("days against the announced plan")
    ax.set_title(title)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def delay_waterfall(projects: pd.DataFrame, phase_id: str) -> Figure:
    """Waterfall for one phase: from the announced plan, cause by cause, to the online date."""
    row = projects.loc[projects["phase_id"] == phase_id]
    if row.empty:
        known = ", ".join(projects["phase_id"].head(8))
        raise ValueError(f"unknown phase_id {phase_id!r}; e.g. {known}")
    rec = row.iloc[0]
    if not bool(rec["online_by_horizon"]):
        raise ValueError(f"{phase_id} is not online by the horizon: no waterfall to draw")
    steps = [(c.removeprefix("days_"), float(rec[c])) for c in _cause_columns(projects)]
    steps = [(c, v) for c, v in steps if abs(v) > 0.5]
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(steps) + 3), 4.5))
    running = 0.0
    labels = ["planned"]
    ax.bar(0, 0, color="grey")
    for i, (cause, value) in enumerate(steps, start=1):
        ax.bar(i, value, bottom=running, color=CAUSE_COLOURS.get(cause))
        ax.text(i, running + value, f"{value:+.0f}", ha="center", va="bottom", fontsize=8)
        running += value
        labels.append(cause.replace("_", "\n"))
    ax.bar(len(steps) + 1, running, color="black")
    labels.append("online")
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_ylabel("days of delay against the announced plan")
    ax.set_title(
        f"{phase_id}: {running:+.0f} days\n"
        f"planned {rec['planned_date']}, online {rec['online_date']}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def capacity_online(capacity: pd.DataFrame, title: str = "AI capacity online") -> Figure:
    """Online vs planned IT MW by region over time (step lines)."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for i, (region, sub) in enumerate(capacity.groupby("region")):
        colour = _PALETTE[(2 * i) % len(_PALETTE)]
        ax.step(sub["date"], sub["online_mw"], where="post", color=colour, label=f"{region} online")
        ax.step(sub["date"], sub["planned_mw"], where="post", color=colour, ls=":", alpha=0.8)
    ax.set_ylabel("IT MW (dotted: announced plan)")
    ax.set_title(title)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def queue_lengths(queue_records: pd.DataFrame, gate_prefix: str = "grid:") -> Figure:
    """Number waiting (arrived, not started) at each gate over time, from the records."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    gates = sorted(g for g in queue_records["gate"].unique() if g.startswith(gate_prefix))
    for gate in gates:
        sub = queue_records[queue_records["gate"] == gate]
        times = np.concatenate([sub["arrival"].to_numpy(), sub["start"].to_numpy()])
        steps = np.concatenate([np.ones(len(sub)), -np.ones(len(sub))])
        order = np.argsort(times, kind="stable")
        ax.step(times[order] / 365.25, np.cumsum(steps[order]), where="post", label=gate)
    ax.set_xlabel("years from start")
    ax.set_ylabel("requests waiting")
    ax.set_title(f"Queue lengths ({gate_prefix}*)")
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def save_standard_figures(results: Results, out_dir: str | Path) -> list[Path]:
    """The figures `paxsim run --plots` writes (PNG); returns their paths.

    Each figure is closed once saved, even if saving fails, so calling this from
    a notebook leaves no figure behind to show inline.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    makers: dict[str, Callable[[], Figure]] = {
        "delay_by_cause.png": lambda: delay_by_cause(results.projects),
        "capacity_online.png": lambda: capacity_online(results.capacity_online),
        "grid_queue_lengths.png": lambda: queue_lengths(results.queue_records, "grid:"),
    }
    done = results.projects[results.projects["online_by_horizon"]]
    if len(done):
        worst = done.sort_values("delay_days").iloc[-1]["phase_id"]
        makers["waterfall_most_delayed.png"] = lambda: delay_waterfall(results.projects, worst)
    written = []
    for name, make in makers.items():
        path = out / name
        fig = make()
        try:
            fig.savefig(path, dpi=110)
        finally:
            plt.close(fig)
        written.append(path)
    return written
