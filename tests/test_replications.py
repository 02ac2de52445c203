"""sim.replications with a toy model: seeds, chunking, failures, resume, interrupts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from paxsim.sim.replications import (
    REPLICATION,
    Backend,
    BackendUnavailableError,
    ChunkPlanner,
    ChunkResult,
    ReplicationStore,
    ResumeMismatchError,
    StoreExistsError,
    replication_seed,
    run_replications,
)


def toy(index: int, seed: np.random.SeedSequence) -> dict[str, pd.DataFrame]:
    """Draws from the replication's own stream; replication 3 (mod 7) always fails.

    Replication 4 (mod 9) has an all-missing date column, which pandas types
    differently from the others: the parts must still concatenate.
    """
    rng = np.random.default_rng(seed)
    if index % 7 == 3:
        raise ValueError(f"replication {index} is broken")
    day = None if index % 9 == 4 else pd.Timestamp("2030-01-01").date()
    return {
        "draws": pd.DataFrame({"x": rng.normal(size=3), "label": ["a", "b", "c"]}),
        "summary": pd.DataFrame({"total": [float(rng.integers(100))], "day": [day]}),
    }


class Interrupting:
    """Raises KeyboardInterrupt (as Ctrl-C would) when it reaches ``at``."""

    def __init__(self, at: int) -> None:
        self.at = at

    def __call__(self, index: int, seed: np.random.SeedSequence) -> dict[str, pd.DataFrame]:
        if index == self.at:
            raise KeyboardInterrupt
        return toy(index, seed)


def _run(out: Path, n: int = 20, **kwargs: object) -> ReplicationStore:
    kwargs.setdefault("backend", Backend("serial"))
    return run_replications(toy, n, 11, out, progress=False, **kwargs).store  # type: ignore[arg-type]


def _tables(store: ReplicationStore) -> dict[str, pd.DataFrame]:
    return {name: store.read_table(name) for name in store.table_names()}


def _assert_same(a: ReplicationStore, b: ReplicationStore) -> None:
    ta, tb = _tables(a), _tables(b)
    assert ta.keys() == tb.keys()
    for name in ta:
        pd.testing.assert_frame_equal(ta[name], tb[name])


# ------------------------------------------------------------------------------ seeds
@pytest.mark.parametrize("n", [5, 12, 100])
def test_replication_seed_is_spawn_child_for_any_n(n: int) -> None:
    children = np.random.SeedSequence(42).spawn(n)
    for i in (0, 4):
        assert (replication_seed(42, i).generate_state(4) == children[i].generate_state(4)).all()


# ------------------------------------------------------------------------------ running
def test_tables_failures_and_manifest(tmp_path: Path) -> None:
    store = _run(tmp_path / "b")
    draws = store.read_table("draws")
    assert list(draws.columns) == [REPLICATION, "x", "label"]
    ok = [i for i in range(20) if i % 7 != 3]
    assert sorted(set(draws[REPLICATION])) == ok
    assert draws[REPLICATION].is_monotonic_increasing
    failures = store.failures()
    assert list(failures[REPLICATION]) == [3, 10, 17]
    assert failures["error"].str.contains("ValueError: replication 3 is broken").any()
    assert "Traceback" in failures["traceback"].iloc[0]
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["seed"] == 11
    assert not list((tmp_path / "b").rglob("*.tmp*"))
    # replication 2 drew from its own child stream, whatever ran before it
    x2 = np.random.default_rng(replication_seed(11, 2)).normal(size=3)
    np.testing.assert_array_equal(draws.loc[draws[REPLICATION] == 2, "x"], x2)


def test_chunk_size_and_processes_do_not_change_results(tmp_path: Path) -> None:
    one = _run(tmp_path / "one", chunk_size=1)
    seven = _run(tmp_path / "seven", chunk_size=7)
    procs = _run(tmp_path / "procs", backend=Backend("processes", workers=2), chunk_size=3)
    assert len(one.manifest["parts"]) == 20 and len(seven.manifest["parts"]) == 3
    _assert_same(one, seven)
    _assert_same(one, procs)
    assert len({p["worker"] for p in procs.manifest["parts"]}) >= 1


def test_all_null_column_types_are_unified(tmp_path: Path) -> None:
    store = _run(tmp_path / "b", n=10, chunk_size=1)
    summary = store.read_table("summary")
    assert summary["day"].isna().sum() == 1  # replication 4
    assert (
        summary.loc[summary[REPLICATION] == 0, "day"].iloc[0] == pd.Timestamp("2030-01-01").date()
    )


# ------------------------------------------------------------------------------ resume
def test_resume_runs_only_what_is_missing(tmp_path: Path) -> None:
    out = tmp_path / "b"
    _run(out, n=8)
    report = run_replications(
        toy, 20, 11, out, backend=Backend("serial"), resume=True, progress=False
    )
    assert report.already_done == 8 and report.ran == 12
    _assert_same(report.store, _run(tmp_path / "fresh", n=20))
    again = run_replications(
        toy, 20, 11, out, backend=Backend("serial"), resume=True, progress=False
    )
    assert again.ran == 0


def test_resume_refuses_other_inputs(tmp_path: Path) -> None:
    out = tmp_path / "b"
    _run(out, n=4, identity={"scenario_hash": "abc", "version": 1})
    with pytest.raises(StoreExistsError, match="resume"):
        _run(out, n=4, identity={"scenario_hash": "abc", "version": 1})
    with pytest.raises(ResumeMismatchError, match="scenario_hash"):
        _run(out, n=4, identity={"scenario_hash": "xyz", "version": 1}, resume=True)
    with pytest.raises(ResumeMismatchError, match="seed"):
        run_replications(
            toy, 4, 12, out, identity={"scenario_hash": "abc", "version": 1}, resume=True
        )


def test_resume_drops_orphan_parts(tmp_path: Path) -> None:
    out = tmp_path / "b"
    store = _run(out, n=6)
    # a part written just before a kill, never recorded in the manifest
    orphan = out / "parts" / "draws" / f"part-{store.next_part():06d}.parquet"
    orphan.write_bytes(b"not parquet")
    (out / "parts" / "draws" / "part-000000.parquet.tmp999").write_bytes(b"half written")
    report = run_replications(
        toy, 9, 11, out, backend=Backend("serial"), resume=True, progress=False
    )
    assert report.ran == 3
    _assert_same(report.store, _run(tmp_path / "fresh", n=9))


def test_interrupt_keeps_finished_replications(tmp_path: Path) -> None:
    out = tmp_path / "b"
    with pytest.raises(KeyboardInterrupt):
        run_replications(Interrupting(at=5), 12, 11, out, backend=Backend("serial"), chunk_size=4)
    store = ReplicationStore.open(out)
    assert store.done() == {0, 1, 2, 3, 4}  # 4 finished inside the interrupted chunk
    assert store.manifest["status"] == "interrupted"
    report = run_replications(
        toy, 12, 11, out, backend=Backend("serial"), resume=True, progress=False
    )
    assert report.ran == 7
    _assert_same(report.store, _run(tmp_path / "fresh", n=12))


# ------------------------------------------------------------------------------ plumbing
def test_planner_adapts_and_balances() -> None:
    planner = ChunkPlanner(list(range(1000)), workers=2, target_seconds=1.0)
    chunks = iter(planner)
    assert len(next(chunks)) == 1
    planner.observe(ChunkResult([0], {}, [], 0.01, "w"))  # 10 ms a replication
    assert len(next(chunks)) == 100
    tail = ChunkPlanner(list(range(10)), workers=2, target_seconds=10.0)
    tail.observe(ChunkResult([0], {}, [], 0.01, "w"))
    assert tail.size() == 3  # ceil(10 / 4): leave work for both workers
    assert [len(c) for c in ChunkPlanner(list(range(7)), 1, chunk_size=3)] == [3, 3, 1]


def test_progress_is_silent_off_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_replications(toy, 5, 1, tmp_path / "b", backend=Backend("serial"))
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_backend_validation_and_missing_dask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="unknown backend"):
        Backend("threads")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="workers"):
        Backend("processes", workers=0)
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(BackendUnavailableError, match=r"paxsim\[dask\]"):
        run_replications(toy, 2, 1, tmp_path / "b", backend=Backend("dask"), progress=False)
