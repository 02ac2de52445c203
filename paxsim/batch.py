"""Monte Carlo batches of a scenario: the orchestration layer.

The engine (:mod:`sim.replications`) runs replications anywhere and stores
tables; :mod:`sim.stats` turns numbers into intervals; the batch summaries
live beside the single-run results in :mod:`paxsim.models.results`. This
module is the domain glue between them:

* :class:`ScenarioReplication` runs one replication and keeps only compact
  tables (:func:`~paxsim.models.results.compact.compact_tables`), so a batch
  of 10,000 never holds raw facility time series;
* :func:`run_batch` / :func:`load_batch` give a
  :class:`~paxsim.models.results.batch.BatchResults` whose tables carry a
  ``replication`` column;
* :func:`compare` runs a base and a policy scenario with common random numbers
  and gives a :class:`~paxsim.models.results.comparison.Comparison`;
* :func:`make_backend` turns the CLI's worker flags into a backend.

A batch (or comparison) folder is written by one process at a time: each
holds the folder's :class:`~paxsim.sim.replications.BatchLock` while it runs,
and neither writes into a single run's folder.

The names that moved to :mod:`paxsim.models.results` are re-exported here, so
``from paxsim.batch import BatchResults`` (and friends) keeps working.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from paxsim.models.loader import load_scenario, scenario_hash
from paxsim.models.results.batch import NOT_CAUSES as NOT_CAUSES
from paxsim.models.results.batch import QUANTILES as QUANTILES
from paxsim.models.results.batch import BatchResults
from paxsim.models.results.batch import PrecisionStatus as PrecisionStatus
from paxsim.models.results.compact import ALL_REGIONS as ALL_REGIONS
from paxsim.models.results.compact import BATCH_FORMAT, KEPT_TABLES, compact_tables
from paxsim.models.results.comparison import Comparison
from paxsim.models.results.run import is_run_folder
from paxsim.models.scenario import Scenario
from paxsim.models.simulation import PAXSIM_VERSION, simulate
from paxsim.sim.replications import (
    MAX_REPLICATIONS,
    Backend,
    BatchLock,
    ReplicationStore,
    RunReport,
    run_replications,
)
from paxsim.sim.replications.store import FORMAT, manifest_format
from paxsim.sim.safe_paths import OutputPathError, check_output_dir, terminal_safe

__all__ = [
    "KEPT_TABLES",
    "MAX_REPLICATIONS",
    "BatchResults",
    "Comparison",
    "ScenarioReplication",
    "check_batch_folder",
    "compact_tables",
    "compare",
    "content_hash",
    "load_batch",
    "make_backend",
    "run_batch",
]


# ------------------------------------------------------------------------------ one replication
def content_hash(scenario: Scenario) -> str:
    """Hash of every value in the scenario, serialised by runtime type.

    Recorded beside ``models.loader.scenario_hash``: serialising with
    ``serialize_as_any`` covers a distribution's parameters even where a
    field is declared as the distribution base class (an early schema
    dumped those as ``{}``), so resuming after editing one is refused.
    """
    data = scenario.model_dump(mode="json", by_alias=True, serialize_as_any=True)
    payload = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


#: The single-run tables :func:`compact_tables` reads; a batch builds no others.
COLLECTED_TABLES = (
    "projects",
    "capacity_online",
    "queue_records",
    "national",
    "facility_timeseries",
)


class ScenarioReplication:
    """Picklable ``fn(index, seed) -> tables`` for :func:`sim.replications.run_replications`.

    Carries the scenario as plain data (a validated dump, re-validated once per
    worker chunk) rather than a path, so a file edited mid-batch cannot change
    later replications; the content hash is checked after re-validation.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.payload = scenario.model_dump(mode="python", by_alias=True, serialize_as_any=True)
        self.content_hash = content_hash(scenario)
        self._scenario: Scenario | None = scenario

    def __getstate__(self) -> dict[str, Any]:
        return {"payload": self.payload, "content_hash": self.content_hash}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.payload = state["payload"]
        self.content_hash = state["content_hash"]
        self._scenario = None

    @property
    def scenario(self) -> Scenario:
        if self._scenario is None:
            scenario = Scenario.model_validate(self.payload)
            if content_hash(scenario) != self.content_hash:
                raise RuntimeError("the scenario changed in transit to the worker (hash mismatch)")
            self._scenario = scenario
        return self._scenario

    def __call__(self, index: int, seed: np.random.SeedSequence) -> dict[str, pd.DataFrame]:
        return compact_tables(simulate(self.scenario, seed, tables=COLLECTED_TABLES))


# ------------------------------------------------------------------------------ running
def make_backend(
    workers: int | None = None, dask: bool = False, scheduler: str | None = None
) -> Backend:
    """The backend the CLI flags describe: 1 worker runs in-process, more use processes."""
    if scheduler is not None:
        return Backend("dask", workers, scheduler)
    if dask:
        return Backend("dask", workers)
    if workers == 1:
        return Backend("serial")
    return Backend("processes", workers)


def check_batch_folder(out: str | Path, *, comparison: bool = False) -> None:
    """Raise :class:`~paxsim.sim.safe_paths.OutputPathError` if a batch may not use ``out``.

    ``out`` must be (or be creatable as) a writable folder and must not hold a
    single run's tables; a comparison's folder must not itself be a batch.
    Nothing is created.
    """
    check_output_dir(out)
    if is_run_folder(out):
        raise OutputPathError(
            out,
            "is a run folder (written by paxsim run), not a batch folder; a batch there would "
            "mix its files with the run's. Choose another folder",
        )
    if comparison and manifest_format(out) == FORMAT:
        raise OutputPathError(
            out,
            "is a batch folder; a comparison writes two batches (base/ and policy/) into a "
            "folder of its own. Choose another folder",
        )


def _check_reps(reps: int, max_reps: int | None = None) -> None:
    for name, value in (("reps", reps), ("max_reps", max_reps)):
        if value is not None and value > MAX_REPLICATIONS:
            raise ValueError(
                f"{name} = {value:,} is more than {MAX_REPLICATIONS:,}, the most one batch holds; "
                "split the work into batches with different seeds"
            )


def _resolve(
    scenario: Scenario | str | Path | None, overrides: Sequence[str]
) -> tuple[Scenario, str]:
    if isinstance(scenario, Scenario):
        if overrides:
            raise ValueError("overrides apply to scenario files; pass a path, not a Scenario")
        return scenario, "(Scenario object)"
    return load_scenario(scenario, list(overrides)), str(scenario or "default")


def _identity(scenario: Scenario) -> dict[str, Any]:
    """Everything that changes what a replication produces (compared on resume)."""
    return {
        "scenario": scenario.name,
        "scenario_hash": scenario_hash(scenario),
        "content_hash": content_hash(scenario),
        "paxsim_version": PAXSIM_VERSION,
        "batch_format": BATCH_FORMAT,
        "tables": sorted(KEPT_TABLES),
    }


def run_batch(
    scenario: Scenario | str | Path | None = None,
    *,
    reps: int = 100,
    seed: int = 0,
    out: str | Path | None = None,
    overrides: Sequence[str] = (),
    backend: Backend | None = None,
    resume: bool = False,
    chunk_size: int | None = None,
    until_halfwidth: float | None = None,
    max_reps: int | None = None,
    progress: bool | None = None,
    lock_wait: float | None = 0.0,
) -> BatchResults:
    """Run (or finish, with ``resume``) ``reps`` replications of a scenario into ``out``.

    ``scenario`` is a Scenario, a TOML path, or None for the default world.
    ``out`` defaults to a new temporary folder. With ``until_halfwidth``
    (days), replications are added in rounds until every phase's mean-delay
    CI half-width is within it, confirmed over Hoad's look-ahead, or until
    ``max_reps`` (default 20 x ``reps``, at most
    :data:`~paxsim.sim.replications.MAX_REPLICATIONS`).

    Another process writing to ``out`` raises
    :class:`~paxsim.sim.replications.BatchLockedError`, unless it finishes
    within ``lock_wait`` seconds (None: wait for ever).
    """
    _check_reps(reps, max_reps)
    resolved, source = _resolve(scenario, overrides)
    folder = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="paxsim_batch_"))
    check_batch_folder(folder)
    fn = ScenarioReplication(resolved)
    meta = {
        "source": source,
        "overrides": list(overrides),
        "start": resolved.time.start.isoformat(),
        "horizon_days": float(resolved.time.horizon_days),
    }

    def run(n: int, again: bool) -> RunReport:
        return run_replications(
            fn,
            n,
            seed,
            folder,
            identity=_identity(resolved),
            meta=meta,
            backend=backend,
            chunk_size=chunk_size,
            resume=again,
            progress=progress,
            description=terminal_safe(resolved.name, multiline=False),
        )

    with BatchLock(folder, wait=lock_wait):
        return _run_rounds(run, reps, resume, until_halfwidth, max_reps)


def _run_rounds(
    run: Any, reps: int, resume: bool, until_halfwidth: float | None, max_reps: int | None
) -> BatchResults:
    """The first round of ``reps``, then, for a precision target, more until it is met."""
    report = run(reps, resume)
    results = BatchResults(report.store, reps, report)
    if until_halfwidth is None:
        return results
    cap = max_reps if max_reps is not None else min(20 * reps, MAX_REPLICATIONS)
    n = reps
    while True:
        status = results.precision(until_halfwidth)
        if status.reached or n >= cap:
            results.precision_status = status
            return results
        n = min(cap, max(n + max(10, n // 10), min(status.suggested_n, 2 * n)))
        report = run(n, True)
        results = BatchResults(report.store, n, report)


def load_batch(out: str | Path, n: int | None = None) -> BatchResults:
    """Open a batch folder written by :func:`run_batch` (or ``paxsim batch``)."""
    return BatchResults(ReplicationStore.open(out), n)


def compare(
    base: Scenario | str | Path | None,
    policy: Scenario | str | Path | None,
    *,
    reps: int = 100,
    seed: int = 0,
    out: str | Path | None = None,
    overrides: Sequence[str] = (),
    policy_overrides: Sequence[str] = (),
    backend: Backend | None = None,
    resume: bool = False,
    chunk_size: int | None = None,
    progress: bool | None = None,
    lock_wait: float | None = 0.0,
) -> Comparison:
    """Run base and policy with identical replication seeds into ``out/base`` and ``out/policy``.

    ``overrides`` apply to both scenarios, ``policy_overrides`` to the policy
    only (``compare(None, None, policy_overrides=[...])`` compares the default
    world with a variant of itself). The folder is locked while both run.
    """
    _check_reps(reps)
    folder = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="paxsim_compare_"))
    check_batch_folder(folder, comparison=True)
    with BatchLock(folder, wait=lock_wait):
        return _compare_locked(
            base,
            policy,
            folder,
            overrides,
            policy_overrides,
            reps,
            seed,
            backend,
            resume,
            chunk_size,
            progress,
        )


def _compare_locked(
    base: Scenario | str | Path | None,
    policy: Scenario | str | Path | None,
    folder: Path,
    overrides: Sequence[str],
    policy_overrides: Sequence[str],
    reps: int,
    seed: int,
    backend: Backend | None,
    resume: bool,
    chunk_size: int | None,
    progress: bool | None,
) -> Comparison:
    common: dict[str, Any] = {
        "reps": reps,
        "seed": seed,
        "backend": backend,
        "resume": resume,
        "chunk_size": chunk_size,
        "progress": progress,
    }
    base_res = run_batch(base, out=folder / "base", overrides=list(overrides), **common)
    policy_res = run_batch(
        policy, out=folder / "policy", overrides=[*overrides, *policy_overrides], **common
    )
    return Comparison(base_res, policy_res)
