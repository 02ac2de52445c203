"""Run many replications of a model, anywhere, without losing finished work.

The model protocol is one picklable callable, ``fn(index, seed) -> tables``:
replication ``index`` gets the child seed ``SeedSequence(entropy=seed,
spawn_key=(index,))`` (the same as ``SeedSequence(seed).spawn(n)[index]``, but
independent of ``n``) and returns a dict of DataFrames. Because a replication
depends on nothing but ``(fn, seed, index)``, the runner is free to group
replications into chunks of any size, ship them to any backend (in-process,
local processes, a Dask cluster) and write them in completion order: the
tables read back, sorted by replication, are identical in every case.

On disk, a batch is a folder (see :class:`ReplicationStore`)::

    manifest.json                       identity, seed, parts done, failures
    parts/<table>/part-000007.parquet   one file per table per finished chunk

Each part is written to a temporary name and moved into place with
``os.replace``, and the manifest is rewritten the same way after every part,
so a batch killed at any instant (even by SIGKILL) keeps every chunk that had
finished, and ``resume=True`` runs only what is missing.

Nothing here knows what the tables mean; domain code decides what to keep.

The package has one module per concept, and this file re-exports their
public names (import from ``paxsim.sim.replications``):

* :mod:`.store` -- the batch folder: manifest, atomic part writes, Arrow helpers;
* :mod:`.planner` -- one replication's seed, running a chunk, sizing chunks;
* :mod:`.backends` -- where chunks run: serial, local processes, Dask;
* :mod:`.runner` -- :func:`run_replications`, which ties the three together;
* :mod:`.lock` -- one writer per batch folder (:class:`BatchLock`).
"""

from paxsim.sim.replications.backends import Backend, BackendUnavailableError
from paxsim.sim.replications.backends import BackendKind as BackendKind
from paxsim.sim.replications.lock import BatchLock, BatchLockedError
from paxsim.sim.replications.planner import (
    ChunkPlanner,
    ChunkResult,
    Failure,
    ReplicationFn,
    replication_seed,
    run_chunk,
)
from paxsim.sim.replications.runner import MAX_REPLICATIONS, RunReport, run_replications
from paxsim.sim.replications.store import FORMAT as FORMAT
from paxsim.sim.replications.store import MANIFEST as MANIFEST
from paxsim.sim.replications.store import (
    REPLICATION,
    NotABatchError,
    ReplicationStore,
    ResumeMismatchError,
    StoreExistsError,
    open_store,
)

__all__ = [
    "MAX_REPLICATIONS",
    "REPLICATION",
    "Backend",
    "BackendUnavailableError",
    "BatchLock",
    "BatchLockedError",
    "ChunkPlanner",
    "ChunkResult",
    "Failure",
    "NotABatchError",
    "ReplicationFn",
    "ReplicationStore",
    "ResumeMismatchError",
    "RunReport",
    "StoreExistsError",
    "open_store",
    "replication_seed",
    "run_chunk",
    "run_replications",
]
