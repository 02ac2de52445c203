"""Write figures to disk: one at a time, or the standard set of a run, a batch, a comparison.

Every helper closes each figure it saved, even when saving fails, so calling
them from a notebook leaves nothing behind for Jupyter to show. A standard
set skips a figure whose table is empty (a short run has no phase online, a
scenario may have no grid gate) and returns what it wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from paxsim.models.results.batch import BatchResults
from paxsim.models.results.comparison import Comparison
from paxsim.models.results.run import TABLES, Results
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
from paxsim.plots.style import STYLE
from paxsim.sim.safe_paths import safe_name

__all__ = [
    "PNG_DPI",
    "save_batch_figures",
    "save_comparison_figures",
    "save_figure",
    "save_run_figures",
    "save_standard_figures",
]

#: PNG resolution: sharp on a slide, small enough for an HTML report.
PNG_DPI = 110
_GRID = "grid:"

Makers = dict[str, Callable[[], Figure]]


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name or safe_name(name, fallback="") != name:
        raise ValueError(
            f"figure name {name!r} is not a plain file name: use letters, digits, '-', '_' "
            "and '.', without a folder or an extension"
        )
    return name


def save_figure(fig: Figure, folder: str | Path, name: str) -> list[Path]:
    """Write ``name.png`` (``PNG_DPI``) and ``name.svg`` into ``folder``; always close ``fig``.

    PNG for slides and the HTML report, SVG for print. The SVG carries no
    date, so the same figure gives the same file (diffable in a repository).
    """
    try:
        if not isinstance(fig, Figure):
            raise ValueError(f"expected a matplotlib Figure, got {type(fig).__name__}")
        _check_name(name)
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        png, svg = out / f"{name}.png", out / f"{name}.svg"
        with plt.rc_context(STYLE):
            fig.savefig(png, dpi=PNG_DPI)
            fig.savefig(svg, metadata={"Date": None})
        return [png, svg]
    finally:
        if isinstance(fig, Figure):
            plt.close(fig)


def _save_all(makers: Makers, out: str | Path) -> list[Path]:
    """Make and save each figure in turn, so at most one is open at a time."""
    written: list[Path] = []
    for name, make in makers.items():
        written += save_figure(make(), out, name)
    return written


def _has_rows(frame: object) -> bool:
    return isinstance(frame, pd.DataFrame) and not frame.empty


def _has_gate(records: pd.DataFrame, prefix: str) -> bool:
    return "gate" in records and bool(records["gate"].astype(str).str.startswith(prefix).any())


def _most_delayed(projects: pd.DataFrame) -> str | None:
    """The phase online by the horizon with the largest delay, if any is online."""
    if not {"online_day", "delay_days", "phase_id"} <= set(projects.columns):
        return None
    done = projects[projects["online_day"].notna()]
    if done.empty:
        return None
    return str(done.sort_values("delay_days", kind="stable").iloc[-1]["phase_id"])


def save_run_figures(
    tables: Mapping[str, pd.DataFrame],
    out: str | Path,
    scenario: str | None = None,
    seed: int | str | None = None,
) -> list[Path]:
    """The standard figures of one run (PNG + SVG each) from its tables; returns the paths.

    ``tables`` maps table names (as in a run folder: ``projects``,
    ``queue_records``, ...) to DataFrames, e.g. ``Results.tables()`` or the
    folder's Parquet files. A figure whose table is absent or empty is
    skipped; a name that is not a run table is an error (a typo would
    otherwise skip figures silently).
    """
    unknown = sorted(set(tables) - set(TABLES))
    if unknown:
        raise ValueError(
            f"not run tables: {', '.join(map(repr, unknown))}; known: {', '.join(TABLES)}"
        )

    def table(name: str) -> pd.DataFrame:
        return tables[name]

    makers: Makers = {}
    if _has_rows(tables.get("projects")):
        makers["delay_by_cause"] = lambda: delay_by_cause(
            table("projects"), scenario=scenario, seed=seed
        )
        if "critical_path" in tables:
            makers["gantt"] = lambda: gantt(
                table("projects"), table("critical_path"), scenario=scenario, seed=seed
            )
        worst = _most_delayed(table("projects"))
        if worst is not None:
            makers["waterfall_most_delayed"] = lambda: delay_waterfall(
                table("projects"), worst, scenario=scenario, seed=seed
            )
    if _has_rows(tables.get("queue_records")) and _has_gate(table("queue_records"), _GRID):
        makers["grid_queues"] = lambda: queue_over_time(
            table("queue_records"), _GRID, scenario=scenario, seed=seed
        )
    if _has_rows(tables.get("capacity_online")):
        makers["capacity_online"] = lambda: capacity_online(
            table("capacity_online"), scenario=scenario, seed=seed
        )
    if _has_rows(tables.get("headroom")):
        makers["headroom"] = lambda: headroom(table("headroom"), scenario=scenario, seed=seed)
    if _has_rows(tables.get("trusted_share")):
        makers["trusted_share"] = lambda: trusted_share(
            table("trusted_share"), scenario=scenario, seed=seed
        )
    if _has_rows(tables.get("facility_timeseries")) and "shortages" in tables:
        makers["stocks_and_shortages"] = lambda: stocks_and_shortages(
            table("facility_timeseries"), table("shortages"), scenario=scenario, seed=seed
        )
    return _save_all(makers, out)


def save_batch_figures(batch: BatchResults, out: str | Path) -> list[Path]:
    """The standard figures of a batch (PNG + SVG each); returns the paths written."""
    if not isinstance(batch, BatchResults):
        raise ValueError(f"expected a BatchResults, got {type(batch).__name__}")
    makers: Makers = {}
    if _has_rows(batch.national):
        makers["deployment_s_curves"] = lambda: deployment_s_curves(batch, "country")
    if _has_rows(batch.projects):
        makers["delay_attribution_phase"] = lambda: delay_attribution(batch, "phase")
        if "country" in batch.projects:
            makers["delay_attribution_country"] = lambda: delay_attribution(batch, "country")
    if _has_rows(batch.queue_waits):
        makers["queue_waits"] = lambda: queue_waits(batch)
    return _save_all(makers, out)


def save_comparison_figures(comparison: Comparison, out: str | Path) -> list[Path]:
    """The standard figures of a paired comparison (PNG + SVG each); returns the paths."""
    if not isinstance(comparison, Comparison):
        raise ValueError(f"expected a Comparison, got {type(comparison).__name__}")
    makers: Makers = {}
    if _has_rows(comparison.base.national) and _has_rows(comparison.policy.national):
        makers["policy_fan_gw_online"] = lambda: policy_fan(comparison, "gw_online")
        makers["policy_fan_twh"] = lambda: policy_fan(comparison, "twh")
        makers["deployment_s_curves_base"] = lambda: deployment_s_curves(comparison.base)
        makers["deployment_s_curves_policy"] = lambda: deployment_s_curves(comparison.policy)
    return _save_all(makers, out)


def save_standard_figures(results: Results, out_dir: str | Path) -> list[Path]:
    """The figures ``paxsim run --plots`` writes (PNG only); returns their paths.

    Each figure is closed once saved, even if saving fails, so calling this from
    a notebook leaves no figure behind to show inline.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scenario, seed = results.scenario_name, results.seed
    makers: Makers = {
        "delay_by_cause": lambda: delay_by_cause(results.projects, scenario=scenario, seed=seed),
        "capacity_online": lambda: capacity_online(
            results.capacity_online, scenario=scenario, seed=seed
        ),
    }
    if _has_gate(results.queue_records, _GRID):
        makers["grid_queue_lengths"] = lambda: queue_lengths(
            results.queue_records, _GRID, scenario=scenario, seed=seed
        )
    worst = _most_delayed(results.projects)
    if worst is not None:
        makers["waterfall_most_delayed"] = lambda: delay_waterfall(
            results.projects, worst, scenario=scenario, seed=seed
        )
    written = []
    for name, make in makers.items():
        path = out / f"{name}.png"
        fig = make()
        try:
            with plt.rc_context(STYLE):
                fig.savefig(path, dpi=PNG_DPI)
        finally:
            plt.close(fig)
        written.append(path)
    return written
