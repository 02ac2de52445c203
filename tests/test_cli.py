"""End-to-end tests of the ``paxsim`` command line, through subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from paxsim.models.loader import load_scenario, scenario_hash
from paxsim.models.simulation import PAXSIM_VERSION

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "scenarios" / "tiny.toml"
PHASE_IDS = ("bb_campus/phase1", "bb_campus/phase2")


def paxsim(
    *args: str | Path, cwd: Path = REPO, hashseed: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if hashseed is not None:
        env["PYTHONHASHSEED"] = hashseed
    return subprocess.run(
        [sys.executable, "-m", "paxsim.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def _ok(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr


def _usage_error(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 2, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "internal error" not in proc.stderr
    assert proc.stderr.strip()


def _tables(folder: Path) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, object]]:
    """The ``paxsim run`` invocations several tests look at, two at a time."""
    base = tmp_path_factory.mktemp("runs")
    jobs: dict[str, tuple[Sequence[str | Path], str]] = {
        "a": (["run", TINY, "--seed", "3", "--out", base / "a", "--csv"], "1"),
        "b": (["run", TINY, "--seed", "3", "--out", base / "b", "--csv"], "2"),
        "set": (
            [
                "run",
                TINY,
                "--seed",
                "3",
                "--out",
                base / "set",
                "--set",
                "datacenters.bb_campus.phases.0.it_mw=50",
                "--set",
                "grid.west.spare_mw=0",
            ],
            "3",
        ),
        "seed4": (["run", TINY, "--seed", "4", "--out", base / "seed4", "--quiet"], "4"),
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(paxsim, *args, hashseed=hs) for name, (args, hs) in jobs.items()
        }
        return {name: (base / name, fut.result()) for name, fut in futures.items()}


# ------------------------------------------------------------------ run
def test_run_prints_project_table_and_writes_files(runs: dict) -> None:
    out, proc = runs["a"]
    _ok(proc)
    for pid in PHASE_IDS:
        assert pid in proc.stdout
    assert "simulated online" in proc.stdout
    assert "held back most by" in proc.stdout
    assert "seed 3" in proc.stdout
    assert f"to {out}" in proc.stdout

    parquet = sorted(out.glob("*.parquet"))
    assert any("project" in p.name for p in parquet), parquet
    projects = pd.read_parquet(out / "projects.parquet")
    assert list(projects["phase_id"]) == list(PHASE_IDS)

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3
    assert manifest["paxsim_version"] == PAXSIM_VERSION
    assert manifest["scenario_hash"] == scenario_hash(load_scenario(TINY))
    assert manifest["scenario"] == "tiny"


def test_run_csv_writes_csv_next_to_parquet(runs: dict) -> None:
    out, proc = runs["a"]
    _ok(proc)
    stems = {p.stem for p in out.glob("*.parquet")}
    assert stems
    assert {p.stem for p in out.glob("*.csv")} == stems
    csv = pd.read_csv(out / "projects.csv")
    assert list(csv["phase_id"]) == list(PHASE_IDS)


def test_run_without_csv_writes_no_csv(runs: dict) -> None:
    out, proc = runs["seed4"]
    _ok(proc)
    assert not list(out.glob("*.csv"))
    assert "bb_campus/phase1" not in proc.stdout  # --quiet
    assert (out / "manifest.json").exists()


def test_same_seed_gives_identical_tables(runs: dict) -> None:
    """Two processes (different PYTHONHASHSEED), same seed: identical tables."""
    (a, pa), (b, pb) = runs["a"], runs["b"]
    _ok(pa)
    _ok(pb)
    assert (a / "projects.parquet").read_bytes() == (b / "projects.parquet").read_bytes()
    assert (a / "projects.csv").read_bytes() == (b / "projects.csv").read_bytes()
    ta, tb = _tables(a), _tables(b)
    assert ta.keys() == tb.keys()
    for name in ta:
        pd.testing.assert_frame_equal(ta[name], tb[name], obj=name)
    ma = json.loads((a / "manifest.json").read_text())
    mb = json.loads((b / "manifest.json").read_text())
    ma.pop("wall_seconds", None)
    mb.pop("wall_seconds", None)
    assert ma == mb


def test_different_seed_gives_different_results(runs: dict) -> None:
    (a, _), (c, pc) = runs["a"], runs["seed4"]
    _ok(pc)
    qa = pd.read_parquet(a / "queue_records.parquet")
    qc = pd.read_parquet(c / "queue_records.parquet")
    assert not (qa.shape == qc.shape and qa.equals(qc))


def test_set_changes_results(runs: dict) -> None:
    (a, _), (s, ps) = runs["a"], runs["set"]
    _ok(ps)
    base = pd.read_parquet(a / "projects.parquet").set_index("phase_id")
    changed = pd.read_parquet(s / "projects.parquet").set_index("phase_id")
    assert base.loc["bb_campus/phase1", "it_mw"] == 100
    assert changed.loc["bb_campus/phase1", "it_mw"] == 50
    assert changed.loc["bb_campus/phase2", "it_mw"] == 100
    assert not base.equals(changed)
    ma = json.loads((a / "manifest.json").read_text())
    ms = json.loads((s / "manifest.json").read_text())
    assert ma["scenario_hash"] != ms["scenario_hash"]


# ------------------------------------------------------------------ usage errors
def test_negative_seed_is_a_usage_error(tmp_path: Path) -> None:
    proc = paxsim("run", TINY, "--seed", "-1", "--out", tmp_path / "o")
    _usage_error(proc)
    assert "--seed" in proc.stderr
    assert ">= 0" in proc.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("grid.west.spare_mw", "expected KEY=VALUE"),
        ("grid.west.spare_mw=-5", "grid.west.spare_mw"),
    ],
    ids=["syntax", "bad-value"],
)
def test_bad_set_is_a_usage_error(tmp_path: Path, override: str, fragment: str) -> None:
    proc = paxsim("run", TINY, "--set", override, "--out", tmp_path / "o")
    _usage_error(proc)
    assert "paxsim: error:" in proc.stderr
    assert fragment in proc.stderr
    assert not (tmp_path / "o").exists()


def test_missing_scenario_file_is_a_usage_error(tmp_path: Path) -> None:
    proc = paxsim("run", tmp_path / "nope.toml", "--out", tmp_path / "o")
    _usage_error(proc)
    assert "nope.toml" in proc.stderr
    assert "file not found" in proc.stderr


# ------------------------------------------------------------------ validate, show
def test_validate_good_file() -> None:
    proc = paxsim("validate", TINY)
    _ok(proc)
    assert f"OK {TINY}" in proc.stdout
    assert "'tiny' is valid" in proc.stdout
    assert proc.stderr == ""


def test_show_applies_set() -> None:
    proc = paxsim("show", TINY, "--set", "grid.west.spare_mw=999")
    _ok(proc)
    assert "spare_mw = 999" in proc.stdout
    assert "spare_mw = 150" not in proc.stdout
    assert 'name = "tiny"' in proc.stdout


def test_console_script_entry_point() -> None:
    proc = subprocess.run(
        ["paxsim", "validate", str(TINY)], capture_output=True, text=True, timeout=120
    )
    _ok(proc)
    assert "is valid" in proc.stdout


# ------------------------------------------------------------------ the embedded default world
def test_run_default_world(tmp_path: Path) -> None:
    """``paxsim run`` with no scenario argument runs the embedded default world."""
    out = tmp_path / "default"
    proc = paxsim("run", "--seed", "1", "--out", out, cwd=tmp_path)
    _ok(proc)
    assert "scenario" in proc.stdout and "seed 1" in proc.stdout
    projects = pd.read_parquet(out / "projects.parquet")
    assert len(projects) > 0
    for pid in projects["phase_id"]:
        assert pid in proc.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 1


# ------------------------------------------------------------------ known bug
def test_run_with_phases_out_of_order_is_not_an_internal_error(tmp_path: Path) -> None:
    proc = paxsim(
        "run",
        TINY,
        "--set",
        "datacenters.bb_campus.phases.1.start=2025-02-01",
        "--out",
        tmp_path / "o",
        "--quiet",
    )
    assert proc.returncode in (0, 2), proc.stderr
    assert "internal error" not in proc.stderr


def test_run_prints_scenario_warnings_as_validate_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from paxsim.cli import main

    early = tmp_path / "early.toml"
    early.write_text(
        'extends = "default"\nname = "early"\n[time]\nallow_phases_outside_run = true\n'
        "start = 2026-01-01\nend = 2027-01-01\n",
        encoding="utf-8",
    )
    assert main(["run", str(early), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert f"WARNING {early}: datacenters." in err and "before time.start" in err
    assert "ScenarioWarning" not in err
