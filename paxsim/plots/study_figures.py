"""Figures of a study: many policies against one baseline, each effect with its interval.

A study (``experiments/``) runs several arms with common random numbers and
tabulates paired differences (:func:`paxsim.models.results.metrics.headline_differences`,
one row per arm, metric and country). These figures read those tables, so a
notebook can redraw any study's figure from its ``tables/`` folder.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from paxsim.plots.style import check_frame, key_colour, set_title, styled

__all__ = ["arm_effects", "effect_grid"]

_EFFECT_COLUMNS = ("arm", "group", "diff_mean", "halfwidth")


@styled
def arm_effects(
    effects: pd.DataFrame,
    metric: str,
    *,
    unit: str,
    context: str,
    groups: Sequence[str] | None = None,
    title: str | None = None,
    headline: str | None = None,
) -> Figure:
    """Horizontal bars: each arm's paired effect on ``metric`` (policy - baseline) per group,
    with its 95 % CI as an error bar, and a zero line.

    ``effects`` has one row per arm, metric and group (columns arm, metric,
    group, diff_mean, halfwidth). Arms keep the order they first appear in, so
    the study decides how they read (e.g. shortest ban first).
    """
    frame = check_frame(effects, (*_EFFECT_COLUMNS, "metric"), "effects")
    frame = frame[frame["metric"] == metric]
    if frame.empty:
        raise ValueError(f"no rows for metric {metric!r}; metrics: {sorted(set(effects.metric))}")
    wanted = list(groups) if groups is not None else list(pd.unique(frame["group"]))
    arms = list(pd.unique(frame["arm"]))
    fig, ax = plt.subplots(figsize=(8.5, 0.5 * len(arms) * max(1, len(wanted)) ** 0.5 + 2.0))
    height = 0.8 / max(1, len(wanted))
    y = np.arange(len(arms), dtype=float)
    for i, group in enumerate(wanted):
        sub = frame[frame["group"] == group].set_index("arm").reindex(arms)
        means = sub["diff_mean"].to_numpy(dtype=float)
        halves = np.nan_to_num(sub["halfwidth"].to_numpy(dtype=float), nan=0.0)
        ax.barh(
            y + (i - (len(wanted) - 1) / 2) * height,
            means,
            height=height * 0.9,
            xerr=halves,
            color=key_colour(str(group)),
            ecolor="black",
            capsize=2,
            label=str(group),
        )
    ax.set_yticks(y, arms)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(f"{metric.replace('_', ' ')}: policy - baseline ({unit}); bars: 95 % CI")
    if len(wanted) > 1:
        ax.legend(loc="best")
    set_title(fig, headline or f"Effect on {metric.replace('_', ' ')}", context, title)
    fig.tight_layout()
    return fig


@styled
def effect_grid(
    effects: pd.DataFrame,
    x: str,
    metric: str,
    *,
    unit: str,
    context: str,
    series: str = "series",
    group: str | None = None,
    title: str | None = None,
    headline: str | None = None,
) -> Figure:
    """Lines of an effect (with a 95 % CI band) against a numeric design variable ``x``,
    one line per ``series`` (e.g. months of delay avoided against capacity, per start date).
    """
    frame = check_frame(effects, (x, series, "metric", "diff_mean", "halfwidth"), "effects")
    frame = frame[frame["metric"] == metric]
    if group is not None:
        frame = frame[frame["group"] == group]
    if frame.empty:
        raise ValueError(f"no rows for metric {metric!r} (group {group!r})")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, sub in frame.groupby(series, sort=False):
        sub = sub.sort_values(x)
        xs = sub[x].to_numpy(dtype=float)
        mean = sub["diff_mean"].to_numpy(dtype=float)
        half = np.nan_to_num(sub["halfwidth"].to_numpy(dtype=float), nan=0.0)
        colour = key_colour(str(name))
        ax.plot(xs, mean, marker="o", color=colour, label=str(name))
        ax.fill_between(xs, mean - half, mean + half, color=colour, alpha=0.2)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel(f"{metric.replace('_', ' ')} ({unit}); band: 95 % CI")
    ax.legend(loc="best")
    set_title(fig, headline or f"{metric.replace('_', ' ')} by {x}", context, title)
    fig.tight_layout()
    return fig
