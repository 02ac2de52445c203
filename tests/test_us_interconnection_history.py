"""The US interconnection history replay: its outputs, the lengthening and its counterfactual.

Thresholds come from measurements (one replication each, seeds 0-5): the
late/early ratio of median request -> operation (COD years 2022-25 over
2005-10) was 2.4-2.8 with the recorded volumes and 0.90-1.04 with volumes
frozen at 2005's. With study capacity made practically unlimited (the
mechanism removed) the recorded volumes give a ratio near 1 too.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

ROOT = Path(__file__).parent.parent
SCRIPT = ROOT / "experiments" / "us_interconnection_history.py"
EARLY, LATE = range(2005, 2011), range(2022, 2026)


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("us_interconnection_history", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_cli(out: Path, *extra: str) -> pd.DataFrame:
    command = [sys.executable, "-m", "experiments.us_interconnection_history"]
    subprocess.run(
        [*command, "--reps", "1", "--out", str(out), *extra],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    assert list(pd.read_csv(out / "tables" / "completion.csv").columns) == [
        "request_year",
        "completion_share",
    ]
    cohorts = pd.read_csv(out / "tables" / "cohorts.csv")
    assert list(cohorts.columns) == ["cod_year", "median_ir_to_cod_months", "n_projects"]
    assert (out / "findings.md").exists()
    return cohorts


def _ratio(cohorts: pd.DataFrame) -> float:
    med = cohorts.set_index("cod_year")["median_ir_to_cod_months"]
    return float(med.reindex(LATE).median() / med.reindex(EARLY).median())


def test_recorded_volumes_lengthen_request_to_operation(tmp_path: Path) -> None:
    cohorts = _run_cli(tmp_path / "recorded")
    assert _ratio(cohorts) > 1.8


def test_volumes_frozen_at_2005_do_not(tmp_path: Path) -> None:
    cohorts = _run_cli(tmp_path / "held", "--hold-arrivals-at", "2005")
    assert _ratio(cohorts) < 1.3


def test_without_finite_study_throughput_no_lengthening(monkeypatch: pytest.MonkeyPatch) -> None:
    history = _module()
    monkeypatch.setattr(history, "STUDY_TEAMS", 10_000)
    assert _ratio(history.cohorts(history.run(1, 0))) < 1.3


def test_workers_do_not_change_the_pooled_requests() -> None:
    import importlib

    history = importlib.import_module("experiments.us_interconnection_history")  # picklable
    serial = history.run(2, 3, workers=1)
    parallel = history.run(2, 3, workers=2)
    pd.testing.assert_frame_equal(serial, parallel)


def test_the_folder_is_a_study_folder_the_report_reads(tmp_path: Path) -> None:
    import json

    from paxsim.report import build_report

    out = tmp_path / "history"
    _run_cli(out)
    manifest = json.loads((out / "study.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "paxsim.study/1"
    assert manifest["figures"] == ["figures/cohorts.png", "figures/cohorts.svg"]
    assert (out / "figures" / "cohorts.svg").exists()
    assert "cohorts" in build_report(out).read_text(encoding="utf-8")
