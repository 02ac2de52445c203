"""Make sure replications ``0 .. n-1`` are in a batch folder: the one entry point.

:func:`run_replications` opens (or resumes) the store, plans chunks of the
replications still missing, runs them on a backend, writes each finished
chunk as it arrives and shows a progress bar; :class:`RunReport` says what it
did. A ``KeyboardInterrupt`` stops the workers, keeps what finished and is
re-raised. The folder's :class:`~paxsim.sim.replications.lock.BatchLock` is
held from before the store is opened until the run ends, however it ends.

This is its own module because it is the only place that ties the store,
the planner and the backends together; each of those can be used and tested
without the others.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from paxsim.sim.replications.backends import Backend
from paxsim.sim.replications.lock import BatchLock
from paxsim.sim.replications.planner import ChunkPlanner, Failure, ReplicationFn, run_chunk
from paxsim.sim.replications.store import ReplicationStore, open_store

__all__ = ["MAX_REPLICATIONS", "RunReport", "run_replications"]

#: Most replications one batch folder holds. The manifest lists every
#: replication and is rewritten after every part, the runner plans with the
#: list of missing ones, and readers load every replication's rows; past this,
#: split the work into batches with different seeds.
MAX_REPLICATIONS = 100_000


# ------------------------------------------------------------------------------ the runner
@dataclass
class RunReport:
    """What :func:`run_replications` did (the tables themselves are in the store)."""

    store: ReplicationStore
    requested: int
    already_done: int
    ran: int = 0
    failed: int = 0
    seconds: float = 0.0
    backend: str = ""
    interrupted: bool = False
    new_failures: list[Failure] = field(default_factory=list)


def _progress_bar(total: int, initial: int, show: bool | None, desc: str) -> Any:
    """tqdm with an ETA on a terminal; silent (no output at all) otherwise."""
    from tqdm.auto import tqdm

    enabled = sys.stderr.isatty() if show is None else show
    return tqdm(
        total=total,
        initial=initial,
        disable=not enabled,
        desc=desc,
        unit="rep",
        dynamic_ncols=True,
        smoothing=0.05,
    )


def run_replications(
    fn: ReplicationFn,
    n: int,
    seed: int,
    out: str | Path,
    *,
    identity: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
    backend: Backend | None = None,
    chunk_size: int | None = None,
    resume: bool = False,
    progress: bool | None = None,
    description: str = "replications",
    lock_wait: float | None = 0.0,
) -> RunReport:
    """Make sure replications ``0 .. n-1`` of ``fn`` are in the batch folder ``out``.

    ``identity`` names every input that changes results (scenario hash,
    options); resuming with a different identity or seed raises
    :class:`ResumeMismatchError`. ``meta`` is recorded but not compared. A
    ``KeyboardInterrupt`` stops the workers, keeps what finished, and is
    re-raised. Resuming with a larger ``n`` extends the batch.

    Another process writing to ``out`` raises
    :class:`~paxsim.sim.replications.lock.BatchLockedError` (or is waited for
    up to ``lock_wait`` seconds; None waits for ever).
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n > MAX_REPLICATIONS:
        raise ValueError(
            f"at most {MAX_REPLICATIONS:,} replications per batch folder, got {n:,}; "
            "split the work into batches with different seeds"
        )
    if int(seed) < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    backend = backend or Backend()
    with BatchLock(out, wait=lock_wait):
        return _run_locked(
            fn, n, seed, out, identity, meta, backend, chunk_size, resume, progress, description
        )


def _run_locked(
    fn: ReplicationFn,
    n: int,
    seed: int,
    out: str | Path,
    identity: Mapping[str, Any] | None,
    meta: Mapping[str, Any] | None,
    backend: Backend,
    chunk_size: int | None,
    resume: bool,
    progress: bool | None,
    description: str,
) -> RunReport:
    store = open_store(out, seed, identity or {}, meta, resume)
    done = store.done()
    todo = [i for i in range(n) if i not in done]
    store.manifest["n_replications"] = max(n, int(store.manifest["n_replications"]))
    store.manifest["status"] = "running"
    store.save()
    report = RunReport(store, n, n - len(todo), backend=backend.describe())
    if not todo:
        store.manifest["status"] = "complete"
        store.save()
        return report
    planner = ChunkPlanner(todo, backend.n_workers, chunk_size)
    task = partial(run_chunk, fn, int(seed))
    started = time.perf_counter()
    bar = _progress_bar(n, n - len(todo), progress, description)
    try:
        with contextlib.closing(backend.map_unordered(task, planner)) as results:
            for result in results:
                planner.observe(result)
                store.add(result)
                report.ran += len(result.replications)
                report.failed += len(result.failures)
                report.new_failures.extend(result.failures)
                bar.update(len(result.replications))
                if report.failed:
                    bar.set_postfix(failed=report.failed, refresh=False)
                if result.interrupted:
                    raise KeyboardInterrupt
    except KeyboardInterrupt:
        report.interrupted = True
        store.manifest["status"] = "interrupted"
        store.save()
        raise
    finally:
        bar.close()
        report.seconds = time.perf_counter() - started
    store.manifest["status"] = "complete"
    store.save()
    return report
