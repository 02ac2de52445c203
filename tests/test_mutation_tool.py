"""benchmarks/mutation.py on a throwaway module: it measures, and it always puts the code back."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "paxsim_mutation_tool", REPO / "benchmarks" / "mutation.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


tool = _tool()

# Two mutants only: max -> min (the test sees it) and True -> False (nothing checks it).
MODULE = '''\
"""A throwaway module."""


def bigger(a, b):
    return max(a, b)


def flag():
    return True
'''
TEST = """\
from mod import bigger


def test_bigger():
    assert bigger(1, 2) == 2
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "mod.py").write_text(MODULE, encoding="utf-8")
    (tmp_path / "test_mod.py").write_text(TEST, encoding="utf-8")
    # Backups and journals of this test stay in its own directory.
    monkeypatch.setenv("PAXSIM_MUTATION_STATE", str(tmp_path / "state"))
    return tmp_path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.mutation", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )


def test_one_mutant_killed_one_survivor_and_the_file_restored(project: Path) -> None:
    mod = project / "mod.py"
    before, mtime = mod.read_bytes(), mod.stat().st_mtime_ns
    report, out_json = project / "report.md", project / "out.json"
    done = _cli(
        str(mod),
        "--root",
        str(project),
        "--tests",
        str(project / "test_mod.py"),
        "--timeout",
        "120",
        "--report",
        str(report),
        "--json",
        str(out_json),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert mod.read_bytes() == before  # byte-identical
    assert mod.stat().st_mtime_ns == mtime  # so no bytecode cache can mistake a mutant for it
    assert not list(project.glob(".*mutation-tmp"))
    assert not list((project / "state").glob("*")), "backup and journal are cleaned up"

    data = json.loads(out_json.read_text(encoding="utf-8"))
    (module,) = data["modules"]
    status = {o["description"]: o["status"] for o in module["outcomes"]}
    assert status == {"max -> min": "killed", "True -> False": "survived"}
    assert (module["killed"], module["total"]) == (1, 2)
    low, high = module["wilson95"]
    assert 0.0 < low < 0.5 < high < 1.0

    text = report.read_text(encoding="utf-8")
    assert "mod.py:9` True -> False" in text
    assert "| **all** | 1 | 2 | 2 |" in text
    assert "mod.py:9" in done.stdout and "survivors (1)" in done.stdout


def test_a_mutant_that_hangs_is_killed_by_the_timeout(project: Path) -> None:
    mod = project / "mod.py"
    lines = ['"""Counts."""', "", "", "def count(n):", "    i = 0", "    while i < n:"]
    mod.write_text("\n".join([*lines, "        i += 1", "    return i", ""]), encoding="utf-8")
    (project / "test_mod.py").write_text(
        "from mod import count\n\n\ndef test_count():\n    assert count(3) == 3\n",
        encoding="utf-8",
    )
    before = mod.read_bytes()
    out_json = project / "out.json"
    # mod.py:7:0 is ``i += 1`` -> ``i -= 1``: the loop never ends.
    done = _cli(
        str(mod), "--root", str(project), "--tests", "test_mod.py", "--only", "mod.py:7:0",
        "--timeout", "4", "--json", str(out_json),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (outcome,) = json.loads(out_json.read_text(encoding="utf-8"))["modules"][0]["outcomes"]
    assert (outcome["description"], outcome["status"]) == ("+= -> -=", "timeout")
    assert mod.read_bytes() == before


def test_report_keeps_the_notes_around_its_markers(project: Path) -> None:
    report = project / "notes.md"
    report.write_text(
        f"# Notes\n\nbefore\n\n{tool.BEGIN}\nold table\n{tool.END}\n\nafter\n", encoding="utf-8"
    )
    tool.write_report(report, "new table\n")
    assert report.read_text(encoding="utf-8") == (
        f"# Notes\n\nbefore\n\n{tool.BEGIN}\nnew table\n{tool.END}\n\nafter\n"
    )
    # A named section is appended once, then replaced in place; the other block stays.
    tool.write_report(report, "gates v1\n", "gates")
    tool.write_report(report, "gates v2\n", "gates")
    text = report.read_text(encoding="utf-8")
    begin, end = tool.markers("gates")
    assert text.count(begin) == 1 and "gates v1" not in text
    assert text.endswith(f"after\n\n{begin}\ngates v2\n{end}\n")
    assert "new table" in text
    with pytest.raises(ValueError):
        tool.markers("no spaces -->")


def test_sandbox_never_writes_the_tree(project: Path) -> None:
    mod = project / "mod.py"
    mtime = mod.stat().st_mtime_ns
    done = _cli(str(mod), "--root", str(project), "--tests", "test_mod.py", "--sandbox")
    assert done.returncode == 0, done.stdout + done.stderr
    assert mod.stat().st_mtime_ns == mtime and mod.read_text(encoding="utf-8") == MODULE
    assert "survivors (1)" in done.stdout


def test_failing_baseline_measures_nothing(project: Path) -> None:
    (project / "test_mod.py").write_text("def test_no():\n    assert False\n", encoding="utf-8")
    done = _cli(str(project / "mod.py"), "--root", str(project), "--tests", "test_mod.py")
    assert done.returncode != 0
    assert "fail on the unmutated code" in done.stdout + done.stderr
    assert (project / "mod.py").read_text(encoding="utf-8") == MODULE


def test_a_run_killed_outright_is_undone_by_restore(project: Path) -> None:
    mod = project / "mod.py"
    before = mod.read_bytes()
    # A child writes a mutant through the guard and dies without its finally (as on SIGKILL).
    path = str(REPO / "benchmarks" / "mutation.py")
    crash = textwrap.dedent(
        f"""
        import importlib.util, os, sys
        spec = importlib.util.spec_from_file_location("t", {path!r})
        m = importlib.util.module_from_spec(spec); sys.modules["t"] = m; spec.loader.exec_module(m)
        guard = m.FileGuard(m.Path({str(mod)!r}))
        guard.write(b"MUTANT = 1\\n")
        os._exit(9)
        """
    )
    subprocess.run([sys.executable, "-c", crash], check=False, timeout=60)
    assert mod.read_bytes() == b"MUTANT = 1\n"
    done = _cli("--restore")
    assert done.returncode == 0, done.stderr
    assert mod.read_bytes() == before
    assert "replaced by the original" in done.stdout


def test_operators_are_enumerated() -> None:
    source = textwrap.dedent(
        """
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            X = 1 + 2

        def f(a: int, b: int) -> int:
            '''Doc.'''
            c = a < b and not a == 3
            c += min(a, b) * 2
            assert a > 0
            g(f"{a + 1}")
            return True
        """
    )
    mutants = tool.enumerate_mutants(source, "m.py")
    kinds = {m.kind for m in mutants}
    assert kinds == {
        "compare",
        "boolean",
        "not",
        "number",
        "arith",
        "augassign",
        "minmax",
        "delete",
        "bool",
        "return",
    }
    # Nothing from the TYPE_CHECKING block, the assert, the docstring or the f-string.
    lines = {m.line for m in mutants}
    assert lines == {8, 9, 11, 12}
    for m in mutants:
        compile(tool.mutate_source(source.encode(), m), "m.py", "exec")
    # Sampling is reproducible and in line order.
    a = tool.sample_mutants(mutants, 5, seed=3)
    assert a == tool.sample_mutants(mutants, 5, seed=3) and len(a) == 5
    assert [m.line for m in a] == sorted(m.line for m in a)


def test_wilson_interval() -> None:
    assert tool.wilson_interval(0, 10)[0] == 0.0
    assert tool.wilson_interval(10, 10)[1] == pytest.approx(1.0)
    low, high = tool.wilson_interval(20, 25)
    assert low == pytest.approx(0.609, abs=1e-3) and high == pytest.approx(0.911, abs=1e-3)
