"""Checks every study test makes: load its script, run it end to end, check the folder.

Plain functions (no fixtures); a test module imports them as ``from study_checks import
...``, as tests/strategies.py is imported.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: The ``format`` a study folder's study.json declares.
STUDY_FORMAT = "paxsim.study/1"

Main = Callable[[list[str]], int]


def load_script(script: str, name: str | None = None) -> ModuleType:
    """experiments/<script>.py as module ``name`` (default ``script``), loaded once.

    Registered in ``sys.modules`` before it runs: dataclasses look their module up
    while the class is built.
    """
    name = name or script
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "experiments" / f"{script}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def run_study(main: Main, args: Sequence[str], out: Path) -> Path:
    """Run a study's ``main`` with ``args`` into ``out``; it must succeed."""
    assert main([*args, "--out", str(out)]) == 0
    return out


def manifest(out: Path) -> dict[str, Any]:
    """The folder's study.json."""
    data: dict[str, Any] = json.loads((out / "study.json").read_text(encoding="utf-8"))
    return data


def check_study_folder(
    out: Path, labels: Iterable[str], figures: Iterable[str], tables: Iterable[str]
) -> tuple[dict[str, Any], str]:
    """The folder is a study: its format, every label in bold in findings.md, every figure
    as non-empty PNG and SVG, every table as CSV and Parquet. Returns study.json and
    findings.md for the test's own checks."""
    data = manifest(out)
    assert data["format"] == STUDY_FORMAT
    findings = (out / "findings.md").read_text(encoding="utf-8")
    for label in labels:
        assert f"**{label}**" in findings
    for name in figures:
        for suffix in (".png", ".svg"):
            assert (out / "figures" / f"{name}{suffix}").stat().st_size > 0
    for name in tables:
        assert (out / "tables" / f"{name}.csv").exists()
        assert (out / "tables" / f"{name}.parquet").exists()
    return data, findings


def check_rerun_reuses_every_batch(
    main: Main, args: Sequence[str], out: Path, arms: int, reps: int = 2
) -> None:
    """A first run reused nothing; the same command again reuses every replication of
    every arm, from the same batch folders."""
    before = manifest(out)
    assert [a["replications_reused"] for a in before["scenarios"]] == [0] * arms
    run_study(main, args, out)
    after = manifest(out)
    assert [a["replications_reused"] for a in after["scenarios"]] == [reps] * arms
    assert [a["batch"] for a in after["scenarios"]] == [a["batch"] for a in before["scenarios"]]
