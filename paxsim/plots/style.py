"""The one house style every paxsim figure shares: colours, rc settings, titles, input checks.

Why one module: a briefing puts figures from a run, a batch and a comparison
side by side, so a cause, a country or a scenario must have the same colour
in all of them and every title must say what it rests on (which scenario, how
many replications). The style is applied *inside* each figure function with
:func:`styled` (``plt.rc_context``), never by changing matplotlib's global
rcParams or backend, so importing :mod:`paxsim.plots` leaves a notebook's own
settings alone.
"""

from __future__ import annotations

import functools
import re
import textwrap
import zlib
from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING, Any, ParamSpec

import matplotlib
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from paxsim.models.world import CAUSES

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = [
    "AFTER_HORIZON",
    "AFTER_HORIZON_LABEL",
    "CAUSE_COLOURS",
    "COUNTRY_COLOURS",
    "EXTRA_CAUSES",
    "MATERIAL_COLOURS",
    "REGION_COLOURS",
    "SCENARIO_COLOURS",
    "STYLE",
    "batch_context",
    "cause_colour",
    "check_choice",
    "check_frame",
    "date_axis",
    "key_colour",
    "legend_outside",
    "run_context",
    "set_title",
    "styled",
    "waits_on",
    "wrap_label",
]

#: rc settings applied (temporarily) while a figure is built and saved.
STYLE: dict[RcKeyType, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "figure.titlesize": 11,
    "hatch.linewidth": 0.8,
    "svg.hashsalt": "paxsim",  # stable ids: the same figure gives the same SVG
}

#: Columns of ``projects`` that split a delay but are not causes a lever can act on.
EXTRA_CAUSES = ("plan_optimism", "unused_float")

_TAB20 = [to_hex(c) for c in plt.get_cmap("tab20")(np.arange(20))]
_TAB10 = [to_hex(c) for c in plt.get_cmap("tab10")(np.arange(10))]
#: One stable, distinct colour per cause, so every figure reads the same.
#: tab20 covers the 20 causes; the two bookkeeping columns get colours of their own.
CAUSE_COLOURS: dict[str, str] = {
    **{cause: _TAB20[i % len(_TAB20)] for i, cause in enumerate(CAUSES)},
    "plan_optimism": "#393b79",
    "unused_float": "#8c6d31",
}
#: "Not online by the horizon": a hatched, uncoloured segment, read as "at least".
AFTER_HORIZON: dict[str, Any] = {
    "facecolor": "#f2f2f2",
    "edgecolor": "#555555",
    "hatch": "///",
    "linewidth": 0.6,
}
AFTER_HORIZON_LABEL = "after horizon (at least)"
#: Countries of the default world (others get a stable colour from :func:`key_colour`).
COUNTRY_COLOURS: dict[str, str] = {
    "US": "#1f77b4",
    "JP": "#d62728",
    "CN": "#ff7f0e",
    "DE": "#2ca02c",
    "TW": "#9467bd",
    "KR": "#8c564b",
}
#: Grid regions of the default world, each its own tab10 colour (figures put several together).
REGION_COLOURS: dict[str, str] = {
    region: _TAB10[i]
    for i, region in enumerate(
        (
            "pjm_dominion",
            "ercot",
            "pjm_west",
            "southeast",
            "miso",
            "us_west",
            "tepco_chiba",
            "hokkaido",
            "kansai",
            "tepco_other",
        )
    )
}
#: Materials of the default world, upstream to downstream.
MATERIAL_COLOURS: dict[str, str] = {
    material: _TAB10[i]
    for i, material in enumerate(
        (
            "concentrate",
            "ndpr_oxide",
            "dy_oxide",
            "tb_oxide",
            "ce_oxide",
            "ndpr_metal",
            "ndfeb_magnet",
            "accelerator",
        )
    )
}
#: The two sides of a comparison.
SCENARIO_COLOURS: dict[str, str] = {"base": "#4c72b0", "policy": "#dd8452"}


def cause_colour(cause: str) -> str:
    """A cause's colour; an unknown cause (new in the model) gets a stable one, not an error."""
    return CAUSE_COLOURS.get(cause, key_colour(cause))


def key_colour(key: str) -> str:
    """The same colour for the same name (country, region, gate, material) in every figure.

    Countries, grid regions and materials of the default world have fixed
    colours (:data:`COUNTRY_COLOURS`, :data:`REGION_COLOURS`,
    :data:`MATERIAL_COLOURS`); any other name is hashed (crc32, stable across
    processes, unlike ``hash``) onto tab10.
    """
    for table in (COUNTRY_COLOURS, REGION_COLOURS, MATERIAL_COLOURS):
        if key in table:
            return table[key]
    return _TAB10[zlib.crc32(key.encode("utf-8")) % len(_TAB10)]


_P = ParamSpec("_P")


def styled(func: Callable[_P, Figure]) -> Callable[_P, Figure]:
    """Build the figure under :data:`STYLE`; close it again if building fails.

    A figure function that raises half-way would otherwise leave an open
    figure in pyplot, which a notebook shows (blank) at the end of the cell.

    Interactive mode survives the style's ``rc_context``: in a fresh Jupyter
    kernel the first figure triggers IPython's inline set-up, which turns
    interactive mode on; a plain ``rc_context`` would turn it off again on
    exit, and every later figure would stay hidden.
    """

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Figure:
        before = set(plt.get_fignums())
        try:
            with plt.rc_context(STYLE):
                fig = func(*args, **kwargs)
                interactive = matplotlib.is_interactive()
            matplotlib.interactive(interactive)  # keep what IPython's set-up chose
            return fig
        except BaseException:
            for number in set(plt.get_fignums()) - before:
                plt.close(number)
            raise

    return wrapper


# ------------------------------------------------------------------------------ titles
def run_context(scenario: str | None, seed: int | str | None) -> str:
    """What a single-run figure rests on: "default · one replication, seed 0"."""
    reps = "one replication" if seed is None else f"one replication, seed {seed}"
    return f"{scenario} · {reps}" if scenario else reps


def batch_context(scenario: str, n: int, paired: bool = False) -> str:
    """What a batch figure rests on: "default · n = 20 replications"."""
    what = "paired replications" if paired else "replications"
    if n == 1:
        what = what.removesuffix("s")
    return f"{scenario} · n = {n} {what}" if scenario else f"n = {n} {what}"


def set_title(fig: Figure, headline: str, context: str, title: str | None = None) -> None:
    """Title = headline (or the caller's ``title``) over the context line.

    The context (scenario, replications) is kept even when the caller
    overrides the headline, so a figure lifted into a report still says what
    it rests on.
    """
    fig.suptitle(f"{title or headline}\n{context}")


def wrap_label(text: str, width: int = 38) -> str:
    """Long legend and tick labels (gate lists, phase ids) wrapped rather than cut."""
    return "\n".join(textwrap.wrap(text, width)) or text


# ------------------------------------------------------------------------------ checks
def check_frame(
    frame: object, columns: Iterable[str], what: str, allow_empty: bool = False
) -> pd.DataFrame:
    """``frame`` as a DataFrame holding ``columns``, or a ValueError that names what is wrong.

    Figures are called from notebooks with whatever table is at hand; a clear
    message ("queue_records lacks column 'arrival'") beats a KeyError deep in
    matplotlib.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        raise ValueError(f"{what} lacks column(s) {names}: is it the {what} table of a run?")
    if frame.empty and not allow_empty:
        raise ValueError(f"{what} is empty: nothing to plot")
    return frame


def check_choice(chosen: Collection[str] | None, known: Iterable[str], what: str) -> list[str]:
    """The caller's selection (all ``known`` if None), each checked against ``known``."""
    known_list = list(dict.fromkeys(str(k) for k in known))
    if chosen is None:
        return known_list
    if isinstance(chosen, str):
        chosen = [chosen]
    unknown = [c for c in chosen if c not in known_list]
    if unknown:
        sample = ", ".join(known_list[:10])
        raise ValueError(f"unknown {what} {', '.join(map(repr, unknown))}; known: {sample}")
    if not chosen:
        raise ValueError(f"no {what} chosen: pass None for all")
    return list(chosen)


def date_axis(ax: Axes) -> None:
    """Compact date ticks ("2026", "Jul") that do not collide in narrow panels."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def legend_outside(ax: Axes, **kwargs: Any) -> None:
    """Legend to the right of the axes (so it never hides data), one entry per label.

    Figures draw a segment per phase and cause; labelling each and keeping
    the first of each label here is simpler than tracking which were drawn.
    """
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    if unique:
        ax.legend(
            list(unique.values()),
            list(unique.keys()),
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            **kwargs,
        )


_PAREN = re.compile(r"\(([^()]*)\)\s*$")


def waits_on(held_back_by: object) -> str:
    """What a phase not online by the horizon waits on: "... horizon (grid)" -> "grid"."""
    text = held_back_by if isinstance(held_back_by, str) else ""
    match = _PAREN.search(text)
    return match.group(1) if match else (text or "unknown")
