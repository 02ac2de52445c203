"""The figure library (paxsim.plots): every figure from real tables, checked for what it shows.

One short run (to 2029, so some phases are online with a critical path and
others are still waiting at the horizon) and a 2-replication serial batch
(plus a policy batch with the same seeds, for the paired comparison) are made
once per module. Tests look inside the returned figures (bars, lines, titles,
limits) rather than at pixels.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import matplotlib
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Annotation

from paxsim import load_scenario, plots, run_batch, simulate
from paxsim.models.results import Results
from paxsim.models.results.batch import BatchResults
from paxsim.models.results.comparison import Comparison
from paxsim.plots.frames import group_identical, waiting_series
from paxsim.sim.replications import Backend

END = "time.end=2029-01-01"
POLICY = "grid.ercot.spare_mw=20000"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def run() -> Results:
    return simulate(load_scenario(overrides=[END]), 0)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> BatchResults:
    out = tmp_path_factory.mktemp("batch")
    return run_batch(
        load_scenario(overrides=[END]),
        reps=2,
        seed=0,
        out=out / "base",
        backend=Backend("serial"),
        progress=False,
    )


@pytest.fixture(scope="module")
def comparison(batch: BatchResults, tmp_path_factory: pytest.TempPathFactory) -> Comparison:
    """Base = the batch above; policy = more spare grid in ERCOT, same replication seeds."""
    out = tmp_path_factory.mktemp("policy")
    policy = run_batch(
        load_scenario(overrides=[END, POLICY]),
        reps=2,
        seed=0,
        out=out / "policy",
        backend=Backend("serial"),
        progress=False,
    )
    return Comparison(batch, policy)


@pytest.fixture(autouse=True)
def _no_figure_left() -> Iterator[None]:
    """Every test closes what it made; a leak would pile figures up in a notebook."""
    before = set(plt.get_fignums())
    yield
    for number in set(plt.get_fignums()) - before:
        plt.close(number)


def _title(fig: Figure) -> str:
    return fig.get_suptitle()


def _hatched(ax: Axes) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_gid() == "after_horizon"]


def _texts(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.texts]


def _close(fig: Figure) -> None:
    plt.close(fig)


# ------------------------------------------------------------------------------ style
def test_import_leaves_backend_and_rcparams_alone(tmp_path: Path) -> None:
    code = (
        "import matplotlib; before = matplotlib.get_backend(); "
        "rc = dict(matplotlib.rcParams); rc.pop('backend'); "
        "import paxsim.plots; after = dict(matplotlib.rcParams); after.pop('backend'); "
        "print(before == matplotlib.get_backend(), rc == after)"
    )
    env = {"PATH": "/usr/bin:/bin", "MPLBACKEND": "agg"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]


def test_figures_do_not_change_global_rcparams(run: Results) -> None:
    before = {k: v for k, v in matplotlib.rcParams.items() if k != "backend"}
    fig = plots.delay_by_cause(run.projects, scenario="default", seed=0)
    after = {k: v for k, v in matplotlib.rcParams.items() if k != "backend"}
    assert after == before
    assert fig.axes[0].spines["top"].get_visible() is False  # yet the house style was applied
    _close(fig)


def test_one_distinct_colour_per_cause() -> None:
    colours = [to_hex(c) for c in plots.CAUSE_COLOURS.values()]
    assert len(set(colours)) == len(colours)
    assert plots.key_colour("some_new_region") == plots.key_colour("some_new_region")


# ------------------------------------------------------------------------------ single run
def test_delay_by_cause_shows_every_phase_including_censored(run: Results) -> None:
    p = run.projects
    censored = p[p["online_day"].isna()]
    online = p[p["online_day"].notna()]
    assert len(censored) and len(online)  # the fixture covers both kinds
    fig = plots.delay_by_cause(p, scenario=run.scenario_name, seed=run.seed)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(p["phase_id"])
    hatched = _hatched(ax)
    assert len(hatched) == len(censored)
    widths = sorted(round(r.get_width(), 6) for r in hatched)
    assert widths == sorted(round(w, 6) for w in censored["delay_at_least_days"])
    notes = [t for t in _texts(ax) if t.startswith("after horizon: ")]
    assert len(notes) == len(censored)
    assert "after horizon: grid" in notes
    assert "default" in _title(fig) and "one replication, seed 0" in _title(fig)
    _close(fig)


def test_delay_by_cause_segments_sum_to_the_net_delay(run: Results) -> None:
    p = run.projects
    fig = plots.delay_by_cause(p)
    ax = fig.axes[0]
    coloured = [r for r in ax.patches if isinstance(r, Rectangle) and r.get_gid() is None]
    for i, row in p.reset_index(drop=True).iterrows():
        if pd.isna(row["online_day"]):
            continue
        total = sum(
            r.get_width() for r in coloured if abs(r.get_y() + r.get_height() / 2 - i) < 1e-9
        )
        assert total == pytest.approx(row["delay_days"], abs=3.0)
    _close(fig)


def test_title_override_keeps_the_context_line(run: Results) -> None:
    fig = plots.delay_by_cause(run.projects, title="Where the delay comes from", scenario="base")
    title = _title(fig)
    assert title.startswith("Where the delay comes from\n")
    assert "base · one replication" in title
    _close(fig)


def test_wrong_or_empty_tables_raise_clear_errors(run: Results) -> None:
    with pytest.raises(ValueError, match="held_back_by"):
        plots.delay_by_cause(run.projects.drop(columns="held_back_by"))
    with pytest.raises(ValueError, match="empty"):
        plots.delay_by_cause(run.projects.iloc[0:0])
    with pytest.raises(ValueError, match="DataFrame"):
        plots.capacity_online(run)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'gate'"):
        plots.queue_over_time(run.projects)
    with pytest.raises(ValueError, match="no gate starts with 'nope:'"):
        plots.queue_over_time(run.queue_records, "nope:")


def test_gantt_colours_the_critical_path_and_arrows_censored_phases(run: Results) -> None:
    p, cp = run.projects, run.critical_path
    assert len(cp)
    fig = plots.gantt(p, cp, scenario="default", seed=0)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(p["phase_id"])
    # One bar per critical-path segment, in its cause's colour.
    segments = [r for r in ax.patches if isinstance(r, Rectangle) and r.get_gid() is None]
    assert sorted(to_hex(r.get_facecolor()) for r in segments) == sorted(
        plots.CAUSE_COLOURS[c] for c in cp["cause"]
    )
    # Each censored phase: a hatched bar to the horizon and an arrow past it.
    censored = p[p["online_day"].isna()]
    hatched = _hatched(ax)
    assert len(hatched) == len(censored)
    horizon_day = float((censored["planned_day"] + censored["delay_at_least_days"]).iloc[0])
    horizon = mdates.date2num(pd.Timestamp(run.start)) + horizon_day
    for bar in hatched:
        assert bar.get_x() + bar.get_width() == pytest.approx(horizon)
    arrows = [t for t in ax.texts if isinstance(t, Annotation) and t.arrow_patch is not None]
    assert len(arrows) == len(censored)
    _close(fig)


def test_gantt_selects_phases_and_rejects_unknown_ones(run: Results) -> None:
    chosen = list(run.projects["phase_id"].iloc[[6, 0]])
    fig = plots.gantt(run.projects, run.critical_path, phases=chosen)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == chosen
    _close(fig)
    with pytest.raises(ValueError, match="unknown phase 'nowhere/X1'"):
        plots.gantt(run.projects, run.critical_path, phases=["nowhere/X1"])


def _queue_records(gate: str, arrival: np.ndarray, start: np.ndarray) -> pd.DataFrame:
    origin = pd.Timestamp("2025-01-01")
    return pd.DataFrame(
        {
            "gate": gate,
            "arrival": arrival,
            "start": start,
            "end": start + 30.0,
            "arrival_date": origin + pd.to_timedelta(arrival, unit="D"),
        }
    )


def _backlogged_gate(gate: str) -> pd.DataFrame:
    """600 requests queued at t = 0 and cleared in 200 days, then ~3 waiting for 3 years."""
    backlog = _queue_records(gate, np.zeros(600), np.linspace(1.0, 200.0, 600))
    steady_arrivals = np.arange(5.0, 4 * 365.0, 10.0)
    steady = _queue_records(gate, steady_arrivals, steady_arrivals + 30.0)
    return pd.concat([backlog, steady], ignore_index=True)


def test_queue_plot_is_not_scaled_by_the_initial_backlog() -> None:
    records = pd.concat(
        [
            _backlogged_gate("grid:a"),
            _backlogged_gate("grid:a:requests"),  # the same requests logged at a second gate
            _queue_records("grid:b", np.arange(0.0, 1400.0, 50.0), np.arange(0.0, 1400.0, 50.0)),
        ],
        ignore_index=True,
    )
    fig = plots.queue_over_time(records, "grid:", scenario="toy", seed=1)
    ax_n = fig.axes[0]
    top = ax_n.get_ylim()[1]
    assert top < 20, "the steady state (about 3 waiting) must fill the panel, not the spike"
    assert ax_n.get_ylim()[1] >= 3
    notes = [t.get_text() for t in ax_n.texts if t.get_gid() == "off_scale_note"]
    assert len(notes) == 1 and "initial backlog" in notes[0] and "600 waiting" in notes[0]
    labels = [line.get_label() for line in ax_n.get_lines()]
    assert len(labels) == 2  # grid:a and grid:a:requests are one line
    assert any("grid:a = grid:a:requests" in label.replace("\n", " ") for label in labels)
    assert "toy · one replication, seed 1" in _title(fig)
    _close(fig)


def test_queue_plot_without_a_spike_is_not_clipped() -> None:
    arrivals = np.arange(0.0, 1400.0, 5.0)
    records = _queue_records("grid:c", arrivals, arrivals + 40.0)
    fig = plots.queue_over_time(records)
    assert not [t for t in fig.axes[0].texts if t.get_gid() == "off_scale_note"]
    assert fig.axes[0].get_ylim()[1] >= 8  # ~8 waiting: the automatic limit stays
    _close(fig)


def test_waiting_series_counts_reneged_and_censored_requests_right() -> None:
    nan = np.nan
    records = pd.DataFrame(
        {
            "arrival": [0.0, 1.0, 2.0, 3.0],
            "start": [5.0, nan, nan, 3.0],  # served, reneged, still waiting, served at once
            "end": [9.0, 4.0, nan, 8.0],
        }
    )
    line = waiting_series(records)
    assert line.value_at(0.5) == 1
    assert line.value_at(2.5) == 3
    assert line.value_at(3.0) == 3  # the request served on arrival makes no step
    assert line.value_at(4.5) == 2  # the reneged one left at its end
    assert line.value_at(100.0) == 1  # the censored one never leaves
    same = waiting_series(records.copy())
    other = waiting_series(records.iloc[:2])
    assert group_identical({"x": line, "y": same, "z": other}) == [["x", "y"], ["z"]]


def test_queue_lengths_is_the_same_figure(run: Results) -> None:
    fig = plots.queue_lengths(run.queue_records, "grid:")
    assert len(fig.axes) == 2 and fig.axes[0].get_ylabel() == "requests waiting"
    assert "wait" in fig.axes[1].get_ylabel()
    _close(fig)


def test_stocks_and_shortages_marks_each_shortage(run: Results) -> None:
    sh = run.shortages
    fig = plots.stocks_and_shortages(run.facility_timeseries, sh, scenario="default", seed=0)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 6
    top = panels[0].get_title().split(" (")[0]
    assert top == sh["entity"].value_counts().index[0]  # the facility short most often first
    ticks = [line for line in panels[0].get_lines() if line.get_gid() == "shortage"]
    assert sum(len(line.get_xdata()) for line in ticks) == int((sh["entity"] == top).sum())
    assert panels[0].get_ylabel().startswith("stock (t")
    _close(fig)


def test_stocks_and_shortages_filters(run: Results) -> None:
    fig = plots.stocks_and_shortages(
        run.facility_timeseries, run.shortages, facilities=["cn_metal"], material="ndpr_oxide"
    )
    (ax,) = [a for a in fig.axes if a.get_visible()]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels and all(label.startswith("ndpr_oxide") for label in labels)
    _close(fig)
    with pytest.raises(ValueError, match="unknown material 'unobtainium'"):
        plots.stocks_and_shortages(run.facility_timeseries, run.shortages, material="unobtainium")
    with pytest.raises(ValueError, match="unknown facility"):
        plots.stocks_and_shortages(run.facility_timeseries, run.shortages, facilities=["x"])


def test_trusted_share_is_in_percent(run: Results) -> None:
    ts = run.trusted_share
    fig = plots.trusted_share(ts, materials=["ndfeb_magnet", "accelerator"])
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"ndfeb_magnet", "accelerator"}
    sub = ts[ts["material"] == "ndfeb_magnet"].sort_values("date")
    expected = 100 * sub["trusted_share"].where(sub["output"] > 0).to_numpy()
    np.testing.assert_allclose(lines["ndfeb_magnet"].get_ydata(), expected)
    assert ax.get_ylim() == (0, 100) and "%" in ax.get_ylabel()
    _close(fig)


def test_headroom_small_multiples(run: Results) -> None:
    hr = run.headroom
    regions = list(dict.fromkeys(hr["region"]))
    fig = plots.headroom(hr, scenario="default", seed=0)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == regions
    first = hr[hr["region"] == regions[0]].sort_values("date", kind="stable")
    spare = next(line for line in panels[0].get_lines() if line.get_label() == "spare")
    assert spare.get_ydata()[-1] == first["spare_mw"].iloc[-1]  # held to the end
    assert panels[0].get_ylabel() == "MW"
    _close(fig)
    with pytest.raises(ValueError, match="unknown region 'atlantis'"):
        plots.headroom(hr, regions=["atlantis"])


def test_capacity_online_title_and_units(run: Results) -> None:
    fig = plots.capacity_online(run.capacity_online, "With the reform", "reform", 3)
    assert _title(fig).startswith("With the reform\nreform · one replication, seed 3")
    assert "MW" in fig.axes[0].get_ylabel()
    _close(fig)


def test_a_figure_that_fails_half_way_leaves_no_figure(run: Results) -> None:
    broken = run.critical_path.assign(start_day="not a number")
    before = plt.get_fignums()
    with pytest.raises(ValueError):
        plots.gantt(run.projects, broken)
    assert plt.get_fignums() == before


# ------------------------------------------------------------------------------ batches
def test_deployment_s_curves_use_country_totals(batch: BatchResults) -> None:
    fig = plots.deployment_s_curves(batch)
    ax = fig.axes[0]
    totals = batch.national[batch.national["region"] == "all"]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == set(totals["country"])
    us = totals[totals["country"] == "US"].groupby("year")["gw_online"].median()
    np.testing.assert_allclose(lines["US"].get_ydata(), us.to_numpy())
    assert "default" in _title(fig) and "n = 2 replications" in _title(fig)
    assert "GW" in ax.get_ylabel()
    _close(fig)
    with pytest.raises(ValueError, match="by must be"):
        plots.deployment_s_curves(batch, by="planet")
    with pytest.raises(ValueError, match="BatchResults"):
        plots.deployment_s_curves(batch.national)  # type: ignore[arg-type]


def test_policy_fan_pairs_on_replication(comparison: Comparison) -> None:
    fig = plots.policy_fan(comparison, "gw_online")
    base, policy = comparison.base.national, comparison.policy.national
    keys = ["replication", "country", "region", "year"]
    merged = base.merge(policy, on=keys, suffixes=("_b", "_p"))
    merged = merged[(merged["region"] == "all") & (merged["country"] == "US")]
    expected = (merged["gw_online_p"] - merged["gw_online_b"]).groupby(merged["year"]).mean()
    assert expected.abs().max() > 0.01  # the lever moves something, so pairing is tested
    us = next(ax for ax in fig.axes if ax.get_title() == "US")
    means = [line for line in us.get_lines() if line.get_marker() == "o"]
    np.testing.assert_allclose(means[0].get_ydata(), expected.to_numpy())
    assert any(np.allclose(line.get_ydata(), 0) for line in us.get_lines())  # the zero line
    title = _title(fig)
    assert "default (policy) − default (base)" in title and "n = 2 paired replications" in title
    _close(fig)
    with pytest.raises(ValueError, match="metric must be one of"):
        plots.policy_fan(comparison, "dollars")
    with pytest.raises(ValueError, match="Comparison"):
        plots.policy_fan(comparison.base)  # type: ignore[arg-type]


def test_delay_attribution_keeps_stranded_replications(batch: BatchResults) -> None:
    fig = plots.delay_attribution(batch)
    ax = fig.axes[0]
    summary = batch.phase_summary().set_index("phase_id")
    labels = [t.get_text().split("  (")[0] for t in ax.get_yticklabels()]
    assert labels == list(summary.index)  # a bar for every phase, stranded or not
    p = batch.projects
    stranded_days = (batch.horizon_days - p["planned_day"]).where(p["online_day"].isna(), 0.0)
    stranded = stranded_days.groupby(p["phase_id"]).mean()
    assert (stranded != 0).sum() >= 5 and (stranded == 0).sum() >= 2  # both kinds are covered
    assert len(_hatched(ax)) == int((stranded != 0).sum())
    (totals,) = [line for line in ax.get_lines() if line.get_marker() == "D"]
    # Causes plus the after-horizon part add up to the mean delay censored at the horizon.
    np.testing.assert_allclose(totals.get_xdata(), summary["mean_delay_days"].to_numpy())
    assert "n = 2 replications" in _title(fig)
    _close(fig)


def test_delay_attribution_by_country(batch: BatchResults) -> None:
    fig = plots.delay_attribution(batch, by="country")
    labels = [t.get_text().split("  (")[0] for t in fig.axes[0].get_yticklabels()]
    assert labels == list(dict.fromkeys(batch.projects["country"]))
    _close(fig)


def test_queue_waits_one_row_per_gate(batch: BatchResults) -> None:
    fig = plots.queue_waits(batch, gate_prefix="grid:")
    gates = sorted(g for g in batch.queue_summary()["gate"] if g.startswith("grid:"))
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == sorted(set(gates))
    assert "days" in fig.axes[0].get_xlabel() and "n = 2" in _title(fig)
    _close(fig)


# ------------------------------------------------------------------------------ saving
def test_save_figure_writes_png_and_svg_and_closes(tmp_path: Path, run: Results) -> None:
    fig = plots.capacity_online(run.capacity_online)
    paths = plots.save_figure(fig, tmp_path / "figs", "capacity")
    assert [p.name for p in paths] == ["capacity.png", "capacity.svg"]
    assert paths[0].read_bytes()[:8] == PNG_MAGIC
    assert b"<svg" in paths[1].read_bytes()[:1000]
    assert fig.number not in plt.get_fignums()
    bad = plots.capacity_online(run.capacity_online)
    with pytest.raises(ValueError, match="plain file name"):
        plots.save_figure(bad, tmp_path, "../escape")
    assert bad.number not in plt.get_fignums()  # closed even though nothing was written
    assert not (tmp_path.parent / "escape.png").exists()


def test_save_run_figures_from_parquet_skips_empty_tables(tmp_path: Path, run: Results) -> None:
    tables = {}
    for name in ("projects", "critical_path"):  # as a run folder holds them (dates as objects)
        getattr(run, name).to_parquet(tmp_path / f"{name}.parquet")
        tables[name] = pd.read_parquet(tmp_path / f"{name}.parquet")
    tables["headroom"] = run.headroom.iloc[0:0]
    before = plt.get_fignums()
    written = plots.save_run_figures(tables, tmp_path / "figs", scenario="default", seed=0)
    stems = {p.stem for p in written}
    assert stems == {"delay_by_cause", "gantt", "waterfall_most_delayed"}
    assert all(p.exists() and p.stat().st_size > 0 for p in written)
    assert plt.get_fignums() == before
    with pytest.raises(ValueError, match="not run tables: 'project'"):
        plots.save_run_figures({"project": run.projects}, tmp_path / "x")


def test_save_batch_and_comparison_figures(tmp_path: Path, comparison: Comparison) -> None:
    before = plt.get_fignums()
    written = plots.save_batch_figures(comparison.base, tmp_path / "batch")
    assert {p.name for p in written} >= {"deployment_s_curves.png", "delay_attribution_phase.svg"}
    assert {p.stem for p in written} == {
        "deployment_s_curves",
        "delay_attribution_phase",
        "delay_attribution_country",
        "queue_waits",
    }
    written = plots.save_comparison_figures(comparison, tmp_path / "cmp")
    assert {p.stem for p in written} >= {"policy_fan_gw_online", "policy_fan_twh"}
    assert all(p.stat().st_size > 0 for p in written)
    assert plt.get_fignums() == before
