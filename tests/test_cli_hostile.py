"""Hostile and careless command lines: exit 2, a message naming the argument, nothing written.

Every case of :data:`CORPUS` runs ``paxsim`` in a subprocess from a fresh
working folder deep inside its own temporary folder, and asserts exit code 2,
a message on stderr naming the argument at fault, no traceback, no "internal
error", no raw escape or bidirectional characters on the terminal, and that
the whole temporary folder is unchanged (nothing written outside ``--out``,
and for these refusals, nothing written at all). Resource errors that cannot
be caused from a command line on demand (a full disk, no memory) are injected
in-process. Scenario names that try to escape the output folder are run for
real.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

import paxsim.api
import paxsim.models.results.run as run_module
import paxsim.sim.replications.store as store_module
from paxsim.batch import load_batch
from paxsim.cli import main
from paxsim.sim.replications.lock import LOCK_NAME
from paxsim.sim.safe_paths import MAX_NAME_CHARS, terminal_safe

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "scenarios" / "tiny.toml"
#: What a terminal would act on, or what passes for something else.
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\u200f", "\u200b")


@dataclass
class Case:
    """One command line; ``{tmp}``, ``{file}``, ``{batch}`` ... are filled by :func:`_fixtures`."""

    argv: list[str]
    names: tuple[str, ...]  # each must appear in stderr
    out: str | None = None  # the --out this case is allowed to touch (none: nothing at all)
    skip_if: Callable[[], bool] = field(default=lambda: False)


CORPUS: dict[str, Case] = {
    # ---------------------------------------------------------------- run: --out
    "run-out-is-a-file": Case(["run", "{tiny}", "--out", "{file}"], ("--out", "existing file")),
    "run-out-under-a-file": Case(
        ["run", "{tiny}", "--out", "{file}/sub/dir"], ("--out", "afile is a file")
    ),
    "run-out-unwritable-proc": Case(
        ["run", "{tiny}", "--out", "/proc/paxsim_hostile_test/x"], ("--out", "/proc/paxsim")
    ),
    "run-out-unwritable-sys": Case(
        ["run", "{tiny}", "--out", "/sys/paxsim_hostile_test"],
        ("--out", "not permitted"),
        skip_if=lambda: not Path("/sys/kernel").is_dir() or os.geteuid() != 0,
    ),
    "run-out-read-only-folder": Case(
        ["run", "{tiny}", "--out", "{readonly}/x"],
        ("--out", "not writable"),
        skip_if=lambda: os.geteuid() == 0,
    ),
    "run-out-is-a-batch": Case(["run", "{tiny}", "--out", "{batch}"], ("--out", "batch folder")),
    "run-out-is-a-comparison": Case(
        ["run", "{tiny}", "--out", "{comparison}"], ("--out", "batch folder")
    ),
    "run-out-foreign-manifest": Case(
        ["run", "{tiny}", "--out", "{foreign}"], ("--out", "did not write")
    ),
    "run-out-name-too-long": Case(
        ["run", "{tiny}", "--out", "{tmp}/" + "x" * 300], ("--out", "too long")
    ),
    # ---------------------------------------------------------------- run: other arguments
    "run-seed-negative": Case(["run", "{tiny}", "--seed", "-1"], ("--seed", ">= 0")),
    "run-seed-huge": Case(["run", "{tiny}", "--seed", str(2**64)], ("--seed", "2**64 - 1")),
    "run-seed-text": Case(["run", "{tiny}", "--seed", "\x1b[31mred"], ("--seed",)),
    "run-set-no-equals": Case(["run", "{tiny}", "--set", "grid.west.spare_mw"], ("KEY=VALUE",)),
    "run-set-negative": Case(
        ["run", "{tiny}", "--set", "grid.west.spare_mw=-5"], ("grid.west.spare_mw",)
    ),
    "run-set-text-for-number": Case(
        ["run", "{tiny}", "--set", "grid.west.spare_mw=\x1b[2Jlots"], ("grid.west.spare_mw",)
    ),
    "run-set-escape-in-key": Case(
        ["run", "{tiny}", "--set", "grid.\x1b[2Jwest.spare_mw=5"], ("grid.",)
    ),
    "run-set-rtl-in-key": Case(
        ["run", "{tiny}", "--set", "grid.we\u202est.spare_mw=5"], ("grid.",)
    ),
    "run-missing-scenario": Case(["run", "{tmp}/nope.toml"], ("nope.toml",)),
    # ---------------------------------------------------------------- batch
    "batch-reps-billion": Case(
        ["batch", "{tiny}", "--reps", "1000000000", "--out", "{tmp}/o"],
        ("--reps", "100,000", "memory"),
    ),
    "batch-reps-zero": Case(["batch", "{tiny}", "--reps", "0", "--out", "{tmp}/o"], ("--reps",)),
    "batch-reps-negative": Case(
        ["batch", "{tiny}", "--reps", "-5", "--out", "{tmp}/o"], ("--reps",)
    ),
    "batch-reps-float": Case(
        ["batch", "{tiny}", "--reps", "1e9", "--out", "{tmp}/o"], ("--reps", "whole number")
    ),
    "batch-max-reps-billion": Case(
        ["batch", "{tiny}", "--max-reps", "1000000000", "--until-halfwidth", "5"],
        ("--max-reps", "100,000"),
    ),
    "batch-chunk-size-billion": Case(
        ["batch", "{tiny}", "--chunk-size", "1000000000"], ("--chunk-size", "100,000")
    ),
    "batch-workers-zero": Case(["batch", "{tiny}", "--workers", "0"], ("--workers", ">= 1")),
    "batch-workers-huge": Case(["batch", "{tiny}", "--workers", "100000"], ("--workers", "core")),
    "batch-workers-text": Case(["batch", "{tiny}", "--workers", "all"], ("--workers",)),
    "batch-scheduler-unreachable": Case(
        ["batch", "{tiny}", "--reps", "2", "--scheduler", "tcp://127.0.0.1:1", "--out", "{tmp}/o"],
        ("--scheduler", "tcp://127.0.0.1:1", "cannot connect"),
    ),
    "batch-scheduler-malformed": Case(
        ["batch", "{tiny}", "--scheduler", "127.0.0.1", "--out", "{tmp}/o"],
        ("--scheduler", "tcp://host:8786"),
    ),
    "batch-scheduler-and-dask-local": Case(
        ["batch", "{tiny}", "--scheduler", "tcp://127.0.0.1:1", "--dask-local"],
        ("--scheduler", "--dask-local"),
    ),
    "batch-scheduler-and-workers": Case(
        ["batch", "{tiny}", "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"],
        ("--workers",),
    ),
    "batch-out-is-a-run": Case(
        ["batch", "{tiny}", "--reps", "2", "--out", "{run}"], ("--out", "run folder")
    ),
    "batch-resume-a-run": Case(
        ["batch", "{tiny}", "--reps", "2", "--out", "{run}", "--resume"], ("--out", "run folder")
    ),
    "batch-out-is-a-file": Case(
        ["batch", "{tiny}", "--reps", "2", "--out", "{file}"], ("--out", "existing file")
    ),
    "batch-out-under-a-file": Case(
        ["batch", "{tiny}", "--reps", "2", "--out", "{file}/b"], ("--out", "is a file")
    ),
    "batch-out-foreign-manifest": Case(
        ["batch", "{tiny}", "--reps", "2", "--workers", "1", "--out", "{foreign}"],
        ("--out", "not a batch"),
    ),
    "batch-existing-without-resume": Case(
        ["batch", "{tiny}", "--reps", "2", "--workers", "1", "--out", "{batch}"],
        ("--out", "--resume"),
    ),
    "batch-resume-other-seed": Case(
        ["batch", "{tiny}", "--reps", "2", "--seed", "9", "--out", "{batch}", "--resume"],
        ("--resume", "seed"),
    ),
    "batch-halfwidth-negative": Case(
        ["batch", "{tiny}", "--until-halfwidth", "-1"], ("--until-halfwidth",)
    ),
    "batch-halfwidth-nan": Case(
        ["batch", "{tiny}", "--until-halfwidth", "nan"], ("--until-halfwidth",)
    ),
    "batch-target-date-year": Case(
        ["batch", "{tiny}", "--target-date", "2035"], ("--target-date",)
    ),
    "batch-seed-huge": Case(["batch", "{tiny}", "--seed", str(10**30)], ("--seed",)),
    # ---------------------------------------------------------------- compare
    "compare-out-is-a-run": Case(
        ["compare", "{tiny}", "{tiny}", "--reps", "2", "--out", "{run}"], ("--out", "run folder")
    ),
    "compare-out-is-a-batch": Case(
        ["compare", "{tiny}", "{tiny}", "--reps", "2", "--out", "{batch}"],
        ("--out", "batch folder"),
    ),
    "compare-out-is-a-file": Case(
        ["compare", "{tiny}", "{tiny}", "--reps", "2", "--out", "{file}"], ("--out",)
    ),
    "compare-reps-billion": Case(
        ["compare", "{tiny}", "{tiny}", "--reps", "1000000000"], ("--reps", "100,000")
    ),
    "compare-workers-zero": Case(["compare", "{tiny}", "{tiny}", "--workers", "0"], ("--workers",)),
    "compare-scheduler-unreachable": Case(
        ["compare", "{tiny}", "{tiny}", "--scheduler", "tcp://127.0.0.1:1", "--out", "{tmp}/o"],
        ("--scheduler", "cannot connect"),
    ),
    "compare-policy-set-negative": Case(
        ["compare", "{tiny}", "{tiny}", "--policy-set", "grid.west.spare_mw=-1"],
        ("grid.west.spare_mw",),
    ),
}


def _tree(root: Path) -> dict[str, str]:
    """Every path under ``root`` with a digest of its content (folders: "dir")."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        out[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A batch, a comparison and a run, made once and copied into each case's folder."""
    base = tmp_path_factory.mktemp("made")
    assert main(["run", str(TINY), "--out", str(base / "run"), "--quiet"]) == 0
    argv = ["--reps", "2", "--workers", "1", "--quiet"]
    assert main(["batch", str(TINY), *argv, "--out", str(base / "batch")]) == 0
    assert main(["compare", str(TINY), str(TINY), *argv, "--out", str(base / "comparison")]) == 0
    return {"run": base / "run", "batch": base / "batch", "comparison": base / "comparison"}


def _fixtures(case_dir: Path, prepared: dict[str, Path]) -> dict[str, str]:
    import shutil

    made = case_dir / "made"
    made.mkdir()
    for name, source in prepared.items():
        shutil.copytree(source, made / name)
    (made / "afile").write_text("not a folder\n")
    foreign = made / "foreign"
    foreign.mkdir()
    (foreign / "manifest.json").write_text(json.dumps({"name": "someone else's"}))
    readonly = made / "readonly"
    readonly.mkdir(mode=0o500)
    return {
        "tiny": str(TINY),
        "tmp": str(made),
        "file": str(made / "afile"),
        "readonly": str(readonly),
        "foreign": str(foreign),
        **{name: str(made / name) for name in prepared},
    }


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def _paxsim(argv: list[str], cwd: Path) -> Outcome:
    """``paxsim ARGV`` as a subprocess (the console script's very path)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "paxsim.cli", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        errors="surrogateescape",
    )
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def _paxsim_here(
    argv: list[str], cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Outcome:
    """``paxsim ARGV`` through :func:`paxsim.cli.main` in this process (no start-up cost)."""
    monkeypatch.chdir(cwd)
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse
        code = int(stop.code or 0)
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def _assert_user_error(proc: Outcome, names: tuple[str, ...]) -> None:
    text = proc.stdout + proc.stderr
    assert proc.returncode == 2, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in text
    assert "internal error" not in text
    for name in names:
        assert name in proc.stderr, f"{name!r} not in\n{proc.stderr}"
    for char in RAW:
        assert char not in text, f"raw {char!r} printed:\n{text!r}"


def _case_folder(root: Path, prepared: dict[str, Path], case: Case) -> tuple[list[str], Path]:
    values = _fixtures(root, prepared)
    cwd = root / "a" / "b" / "work"  # deep, so `..` from here stays inside root
    cwd.mkdir(parents=True)
    return [part.format(**values) for part in case.argv], cwd


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 20
    for command in ("run", "batch", "compare"):
        assert sum(case.argv[0] == command for case in CORPUS.values()) >= 7


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_hostile_command_line(
    name: str,
    prepared: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = CORPUS[name]
    if case.skip_if():
        pytest.skip("not applicable here (needs or forbids root)")
    argv, cwd = _case_folder(tmp_path, prepared, case)
    before = _tree(tmp_path)
    outcome = _paxsim_here(argv, cwd, capsys, monkeypatch)
    _assert_user_error(outcome, case.names)
    after = _tree(tmp_path)
    assert after == before, f"files changed: {sorted(set(after.items()) ^ set(before.items()))}"


#: Cases also run as real ``paxsim`` processes (two at a time): the same answers.
SUBPROCESS_SAMPLE = (
    "run-out-is-a-batch",
    "run-set-escape-in-key",
    "batch-reps-billion",
    "batch-scheduler-unreachable",
    "compare-out-is-a-batch",
)


def test_hostile_command_lines_in_real_processes(prepared: dict[str, Path], tmp_path: Path) -> None:
    def one(name: str) -> tuple[str, Outcome, dict[str, str], dict[str, str]]:
        root = tmp_path / name
        root.mkdir()
        argv, cwd = _case_folder(root, prepared, CORPUS[name])
        before = _tree(root)
        return name, _paxsim(argv, cwd), before, _tree(root)

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(one, SUBPROCESS_SAMPLE))
    for name, outcome, before, after in done:
        _assert_user_error(outcome, CORPUS[name].names)
        assert after == before, name


# ------------------------------------------------------------------------------ resource errors
def _fail_with(exc: BaseException) -> Callable[..., None]:
    def fail(*args: object, **kwargs: object) -> None:
        raise exc

    return fail


def test_full_disk_during_run_is_a_user_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    full = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "o" / "x.parquet"))
    monkeypatch.setattr(run_module, "_parquet_safe", _fail_with(full))
    assert main(["run", str(TINY), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "no space left on the device" in err
    assert "internal error" not in err


def test_full_disk_during_batch_is_a_user_error_and_resume_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "b"
    argv = ["batch", str(TINY), "--reps", "6", "--workers", "1", "--chunk-size", "2"]
    argv += ["--out", str(out), "--quiet"]
    real = store_module.pq.write_table
    calls = {"n": 0}

    def fills_up(table: object, where: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] > 5:  # the second part: Arrow puts the errno in the message only
            raise OSError("[Errno 28] Error writing bytes to file. Detail: [errno 28] No space")
        real(table, where, **kwargs)

    monkeypatch.setattr(store_module.pq, "write_table", fills_up)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "no space left" in err and "--resume" in err
    assert "internal error" not in err
    assert not (out / LOCK_NAME).exists()
    monkeypatch.setattr(store_module.pq, "write_table", real)
    assert main([*argv, "--resume"]) == 0
    projects = load_batch(out).projects
    assert sorted(projects["replication"].unique()) == list(range(6))


def test_out_of_memory_is_a_user_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(paxsim.api, "simulate", _fail_with(MemoryError()))
    assert main(["run", str(TINY), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "out of memory" in err and "internal error" not in err
    assert not (tmp_path / "o").exists()


def test_a_real_bug_is_still_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(paxsim.api, "simulate", _fail_with(KeyError("oops")))
    assert main(["run", str(TINY), "--out", str(tmp_path / "o")]) == 3
    err = capsys.readouterr().err
    assert "internal error: KeyError" in err and "bug in paxsim" in err


# ------------------------------------------------------------------------------ hostile names
HOSTILE_NAMES = {
    "dotdot": "../../x",
    "absolute": "/tmp/paxsim_hostile_absolute",
    "only-dots": "..",
    "escape-codes": "\x1b[31mred\x1b]0;title\x07",
    "rtl-override": "\u202eevil\u202c.toml",
    "zero-width": "a\u200bb",
    "lookalike": "\u0430\u0430_mine",
    "very-long": "n" * 5000,
    "backslashes": "..\\..\\x",
}


def _scenario_named(folder: Path, name: str) -> Path:
    text = TINY.read_text(encoding="utf-8").replace('name = "tiny"', f"name = {json.dumps(name)}")
    path = folder / "named.toml"
    path.write_text(text, encoding="utf-8")
    return path


#: Names also tried as a batch's (``paxsim batch`` names its folder after the scenario too).
BATCH_NAMES = ("dotdot", "escape-codes", "very-long")


@pytest.mark.parametrize(
    ("command", "key"),
    [("run", key) for key in sorted(HOSTILE_NAMES)] + [("batch", key) for key in BATCH_NAMES],
)
def test_scenario_names_never_escape_the_results_folder(
    command: str,
    key: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cwd = tmp_path / "a" / "b" / "work"
    cwd.mkdir(parents=True)
    scenario = _scenario_named(tmp_path, HOSTILE_NAMES[key])
    argv = [command, str(scenario)]
    if command == "batch":
        argv += ["--reps", "2", "--workers", "1"]
    before = _tree(tmp_path)
    proc = _paxsim_here(argv, cwd, capsys, monkeypatch)
    _assert_safe_output_folder(proc, tmp_path, before, cwd)


def test_a_hostile_name_in_a_real_process(tmp_path: Path) -> None:
    cwd = tmp_path / "a" / "b" / "work"
    cwd.mkdir(parents=True)
    scenario = _scenario_named(tmp_path, "../../\x1b[2J\u202eevil")
    before = _tree(tmp_path)
    proc = _paxsim(["run", str(scenario)], cwd)
    _assert_safe_output_folder(proc, tmp_path, before, cwd)


def _assert_safe_output_folder(
    proc: Outcome, root: Path, before: dict[str, str], cwd: Path
) -> None:
    text = proc.stdout + proc.stderr
    assert proc.returncode in (0, 2), text  # a clean refusal of the name is fine too
    assert "Traceback" not in text and "internal error" not in text
    for char in RAW:
        assert char not in text, f"raw {char!r} printed:\n{text!r}"
    changed = set(_tree(root)) ^ set(before)
    results = cwd / "paxsim_results"
    assert all((root / p).is_relative_to(results) for p in changed), sorted(changed)
    assert not Path("/tmp/paxsim_hostile_absolute_seed0").exists()
    if proc.returncode == 0:
        folders = [p for p in results.iterdir() if p.is_dir()]
        assert len(folders) == 1
        folder = folders[0].name
        assert folder.isprintable() and "/" not in folder and not folder.startswith(".")
        assert len(folder) <= MAX_NAME_CHARS + len("_batch_seed0")
        assert terminal_safe(str(folders[0].relative_to(cwd))) in proc.stdout


def test_escape_codes_in_out_are_printed_escaped(tmp_path: Path) -> None:
    out = tmp_path / "o\x1b[2J\u202e"
    proc = _paxsim(["run", str(TINY), "--out", str(out), "--quiet"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert out.is_dir()  # the folder asked for, exactly
    assert "\x1b" not in proc.stdout and "\u202e" not in proc.stdout
    assert "o\\x1b[2J\\u202e/" in proc.stdout


def test_look_alike_phase_ids_are_printed_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Cyrillic а in a project id: printed as \\u0430 (if the id is accepted at all)."""
    text = TINY.read_text(encoding="utf-8")
    text = text.replace("[datacenters.bb_campus]", '[datacenters."bb_c\u0430mpus"]')
    scenario = tmp_path / "lookalike.toml"
    scenario.write_text(text, encoding="utf-8")
    argv = ["run", str(scenario), "--out", str(tmp_path / "o")]
    proc = _paxsim_here(argv, tmp_path, capsys, monkeypatch)
    assert proc.returncode in (0, 2), proc.stderr
    assert "\u0430" not in proc.stdout + proc.stderr
    assert "internal error" not in proc.stderr
    if proc.returncode == 0:
        assert "bb_c\\u0430mpus/phase1" in proc.stdout
        projects = pd.read_parquet(tmp_path / "o" / "projects.parquet")
        assert projects["phase_id"].iloc[0] == "bb_c\u0430mpus/phase1"  # stored as it is
    else:
        assert "bb_c\\u0430mpus" in proc.stderr or "U+0430" in proc.stderr
