"""Batches of the tiny scenario: backends agree, a SIGKILL loses nothing, the CLI reports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import paxsim.batch as batch_module
from paxsim import api
from paxsim.batch import (
    KEPT_TABLES,
    BatchResults,
    ScenarioReplication,
    compare,
    load_batch,
    run_batch,
)
from paxsim.cli import main
from paxsim.models.loader import load_scenario
from paxsim.sim.replications import Backend, replication_seed, run_replications

TINY = str(Path(__file__).parent / "scenarios" / "tiny.toml")
#: ``runs`` holds wall-clock timing, the one thing that may differ between runs.
REPRODUCIBLE = sorted(set(KEPT_TABLES) - {"runs"})


def _same_tables(a: BatchResults, b: BatchResults) -> None:
    for name in REPRODUCIBLE:
        pd.testing.assert_frame_equal(a.table(name), b.table(name), obj=name)


def test_replication_keeps_compact_tables_only() -> None:
    fn = ScenarioReplication(load_scenario(TINY))
    tables = fn(0, replication_seed(1, 0))
    assert set(tables) == set(KEPT_TABLES)  # no facility time series, shipments, ...
    by_year = tables["capacity_by_year"]
    total = by_year[by_year["region"] == "all"].set_index("year")["online_mw"]
    west = by_year[by_year["region"] == "west"].set_index("year")["online_mw"]
    pd.testing.assert_series_equal(total, west, check_names=False)
    assert tables["runs"]["sim_events"].iloc[0] > 0


class TwoPhases:
    """A stand-in model with known answers; phases listed out of alphabetical order."""

    def __call__(self, index: int, seed: np.random.SeedSequence) -> dict[str, pd.DataFrame]:
        z = 100.0 + index  # always online; planned day 105
        a = np.nan if index % 4 == 0 else 300.0 + 10 * index  # planned day 350
        projects = pd.DataFrame(
            {
                "phase_id": ["z/1", "a/1"],
                "project": ["z", "a"],
                "region": ["r1", "r2"],
                "it_mw": [10.0, 20.0],
                "planned_day": [105.0, 350.0],
                "online_day": [z, a],
                "delay_days": [z - 105, a - 350],
                "held_back_by": ["long text", "never read by summaries"],
                "days_grid": [z - 105, 5.0 if a == a else np.nan],
                "days_permits": [0.0, a - 355],
            }
        )
        return {"projects": projects}


def test_phase_summary_on_known_values(tmp_path: Path) -> None:
    meta = {"start": "2025-01-01", "horizon_days": 400.0}
    report = run_replications(
        TwoPhases(), 8, 0, tmp_path / "b", meta=meta, backend=Backend("serial"), progress=False
    )
    summary = BatchResults(report.store).phase_summary("2025-12-01").set_index("phase_id")
    assert list(summary.index) == ["z/1", "a/1"]  # scenario order, not sorted
    z, a = summary.loc["z/1"], summary.loc["a/1"]
    start = pd.Timestamp("2025-01-01")
    assert (
        z["online_p50_day"] == 103.5
        and z["online_p50"] == (start + pd.Timedelta(days=103.5)).date()
    )
    assert a["online_p50_day"] == 355.0 and a["online_p50"] == date(2025, 12, 22)
    assert np.isinf(a["online_p90_day"]) and a["online_p90"] is None  # after horizon
    assert z["p_on_time"] == 0.75 and a["p_on_time"] == 0.5
    assert a["p_by_target"] == 3 / 8 and z["p_by_target"] == 1.0
    assert a["after_horizon"] == 2 and a["mean_delay_days"] == pytest.approx(5.0)  # censored
    assert a["mean_delay_if_online"] == pytest.approx(-10.0)  # (-40-30-20+0+10+20) / 6
    assert a["p_on_time_low"] < 0.5 < a["p_on_time_high"]
    assert a["top_causes"] == "grid 5d" and z["top_causes"] == ""


def test_serial_processes_and_dask_give_identical_tables(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    runs = {
        kind: run_batch(TINY, reps=6, seed=3, out=tmp_path / kind, backend=backend, progress=False)
        for kind, backend in {
            "serial": Backend("serial"),
            "processes": Backend("processes", workers=2),
            "dask": Backend("dask", workers=2),  # a LocalCluster on 127.0.0.1
        }.items()
    }
    assert runs["serial"].projects[["replication"]].nunique().iloc[0] == 6
    _same_tables(runs["serial"], runs["processes"])
    _same_tables(runs["serial"], runs["dask"])


def _wait_for(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the batch to make progress")
        time.sleep(0.05)


def _done(out: Path) -> int:
    try:
        manifest = json.loads((out / "manifest.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return 0
    return sum(len(p["replications"]) for p in manifest["parts"])


def test_sigkill_then_resume_equals_uninterrupted_run(tmp_path: Path) -> None:
    out, reps = tmp_path / "killed", 20
    argv = ["batch", TINY, "--reps", str(reps), "--seed", "5", "--out", str(out), "--quiet"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "paxsim.cli", *argv, "--workers", "2", "--chunk-size", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the kill takes the workers too
    )
    try:
        _wait_for(lambda: _done(out) >= 4 or proc.poll() is not None)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    saved = _done(out)
    assert 4 <= saved < reps
    assert main([*argv, "--workers", "1", "--resume"]) == 0
    resumed = load_batch(out)
    assert resumed.report is None and resumed.completed == reps
    parts = json.loads((out / "manifest.json").read_text())["parts"]
    assert sum(len(p["replications"]) for p in parts) == reps  # nothing ran twice
    reference = run_batch(TINY, reps=reps, seed=5, out=tmp_path / "ref", backend=Backend("serial"))
    _same_tables(resumed, reference)


def test_batch_cli_prints_and_writes_summaries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "b"
    argv = ["batch", TINY, "--reps", "12", "--seed", "1", "--workers", "1", "--out", str(out)]
    assert main([*argv, "--target-date", "2028-01-01"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # no progress bar off a terminal
    text = captured.out
    for needle in (
        "P10",
        "P50",
        "P90",
        "P(on time)",
        "P(by 2028-01-01)",
        "top causes",
        "bb_campus/phase1",
        "Convergence",
        "AI MW online",
    ):
        assert needle in text
    summary = pd.read_csv(out / "summary" / "phase_summary.csv")
    assert (out / "summary" / "phase_summary.parquet").exists()
    assert (out / "summary" / "capacity_fan.csv").exists()
    # the summary agrees with the raw per-replication table
    projects = load_batch(out).projects
    for phase, group in projects.groupby("phase_id"):
        row = summary[summary["phase_id"] == phase].iloc[0]
        on_time = (group["online_day"] <= group["planned_day"]).mean()
        assert row["p_on_time"] == pytest.approx(on_time)
        median = np.median(group["online_day"].fillna(np.inf))
        assert row["online_p50_day"] == pytest.approx(median)
        censored = group["online_day"].fillna(load_batch(out).horizon_days) - group["planned_day"]
        assert row["mean_delay_days"] == pytest.approx(censored.mean())
    # a different --set is a different scenario: resume is refused, with the reason
    assert main([*argv, "--resume", "--set", "grid.west.spare_mw=400"]) == 2
    assert "hash" in capsys.readouterr().err


def test_failed_replications_are_reported_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = batch_module.simulate

    def flaky(scenario, seed, tables=None):  # type: ignore[no-untyped-def]
        if seed.spawn_key == (2,):
            raise RuntimeError("injected failure")
        return real(scenario, seed, tables)

    monkeypatch.setattr(batch_module, "simulate", flaky)  # in-process: --workers 1
    out = tmp_path / "b"
    code = main(["batch", TINY, "--reps", "4", "--workers", "1", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "1 of 4 replications failed" in text and "RuntimeError: injected failure" in text
    results = load_batch(out)
    assert sorted(results.projects["replication"].unique()) == [0, 1, 3]
    assert list(pd.read_csv(out / "summary" / "failures.csv")["replication"]) == [2]
    monkeypatch.setattr(batch_module, "simulate", lambda scenario, seed, tables=None: 1 / 0)
    assert main(["batch", TINY, "--reps", "2", "--workers", "1", "--out", str(tmp_path / "c")]) == 3
    assert "every replication failed" in capsys.readouterr().err


def test_until_halfwidth_adds_replications(tmp_path: Path) -> None:
    results = run_batch(
        TINY,
        reps=4,
        seed=2,
        out=tmp_path / "b",
        backend=Backend("serial"),
        until_halfwidth=150.0,
        max_reps=14,
        progress=False,
    )
    status = results.precision_status
    assert status is not None and results.n > 4
    if status.reached:
        assert status.max_halfwidth <= 150.0
    else:
        assert results.n == 14
    assert results.completed == results.n


def test_compare_uses_common_random_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    same = compare(TINY, TINY, reps=4, seed=4, out=tmp_path / "same", backend=Backend("serial"))
    diffs = same.phase_differences()
    assert (diffs["online_day_diff"] == 0).all() and (diffs["online_day_halfwidth"] == 0).all()
    assert list(diffs["phase_id"]) == ["bb_campus/phase1", "bb_campus/phase2"]
    online = same.variance_reduction().set_index("metric").loc["online day"]
    assert online["cells"] > 0
    assert online["pooled_ratio"] == 0.0  # identical streams: no variance left
    argv = [
        "compare",
        TINY,
        TINY,
        "--policy-set",
        "grid.west.spare_mw=400",
        "--reps",
        "4",
        "--workers",
        "1",
        "--out",
        str(tmp_path / "cmp"),
    ]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "Δ online (d)" in text and "Common random numbers" in text
    table = pd.read_csv(tmp_path / "cmp" / "comparison" / "phase_differences.csv")
    assert set(table["phase_id"]) == {"bb_campus/phase1", "bb_campus/phase2"}
    assert (tmp_path / "cmp" / "comparison" / "variance_reduction.csv").exists()


def test_api_exports_batch_functions() -> None:
    for name in ("run_batch", "load_batch", "compare", "BatchResults", "Comparison"):
        assert hasattr(api, name)
