"""Figures from results tables, in one house style; each returns a matplotlib Figure.

Single run (tables of :class:`~paxsim.models.results.run.Results`):
:func:`delay_by_cause`, :func:`delay_waterfall`, :func:`gantt`,
:func:`queue_over_time` (alias :func:`queue_lengths`), :func:`stocks_and_shortages`,
:func:`trusted_share`, :func:`headroom`, :func:`capacity_online`.
Batches and comparisons: :func:`deployment_s_curves`, :func:`policy_fan`,
:func:`delay_attribution`, :func:`queue_waits`. Saving: :func:`save_figure`,
:func:`save_run_figures`, :func:`save_batch_figures`,
:func:`save_comparison_figures`, :func:`save_standard_figures`. Studies (many arms
against one baseline): :func:`arm_effects`, :func:`effect_grid`.

Functions take DataFrames, a BatchResults or a Comparison and never run a
simulation, so a notebook can restyle them and scripts can save them.

Figures are made with ``plt.subplots``, so they belong to pyplot and follow
whatever backend is active; this package never chooses one and never changes
global rcParams (the style is applied inside each function). In Jupyter (the
inline backend) a figure made in a cell shows when the cell ends, or where
``plt.show()`` is called; do not also leave ``fig`` as the cell's last
expression, or it shows twice. Headless (no display) matplotlib falls back to
Agg, which is all the save helpers need.
"""

from __future__ import annotations

from paxsim.plots.batch_figures import (
    delay_attribution,
    deployment_s_curves,
    policy_fan,
    queue_waits,
)
from paxsim.plots.run_figures import (
    capacity_online,
    delay_by_cause,
    delay_waterfall,
    gantt,
    headroom,
    queue_lengths,
    queue_over_time,
    stocks_and_shortages,
    trusted_share,
)
from paxsim.plots.save import (
    save_batch_figures,
    save_comparison_figures,
    save_figure,
    save_run_figures,
    save_standard_figures,
)
from paxsim.plots.study_figures import arm_effects, effect_grid
from paxsim.plots.style import (
    CAUSE_COLOURS,
    COUNTRY_COLOURS,
    MATERIAL_COLOURS,
    REGION_COLOURS,
    SCENARIO_COLOURS,
    STYLE,
    cause_colour,
    key_colour,
)

__all__ = [
    "CAUSE_COLOURS",
    "COUNTRY_COLOURS",
    "MATERIAL_COLOURS",
    "REGION_COLOURS",
    "SCENARIO_COLOURS",
    "STYLE",
    "arm_effects",
    "capacity_online",
    "cause_colour",
    "delay_attribution",
    "delay_by_cause",
    "delay_waterfall",
    "deployment_s_curves",
    "effect_grid",
    "gantt",
    "headroom",
    "key_colour",
    "policy_fan",
    "queue_lengths",
    "queue_over_time",
    "queue_waits",
    "save_batch_figures",
    "save_comparison_figures",
    "save_figure",
    "save_run_figures",
    "save_standard_figures",
    "stocks_and_shortages",
    "trusted_share",
]
