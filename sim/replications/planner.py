"""What a replication is, and how replications are grouped into chunks of work.

The model protocol is one picklable callable, ``fn(index, seed) -> tables``
(:class:`ReplicationFn`): replication ``index`` gets the child seed
``SeedSequence(entropy=seed, spawn_key=(index,))`` (:func:`replication_seed`;
the same as ``SeedSequence(seed).spawn(n)[index]``, but independent of ``n``)
and returns a dict of DataFrames. :func:`run_chunk` is what a worker executes
for a list of indices, returning a :class:`ChunkResult` (Arrow tables tagged
with a ``replication`` column, and any :class:`Failure`); :class:`ChunkPlanner`
decides how many indices go in each chunk.

This is its own module because it is the unit of work shared by every
backend and by the store: because a replication depends on nothing but
``(fn, seed, index)``, chunk sizes and completion order never change results.
"""

from __future__ import annotations

import math
import os
import socket
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from paxsim.sim.replications.store import REPLICATION, _to_arrow

__all__ = [
    "ChunkPlanner",
    "ChunkResult",
    "Failure",
    "ReplicationFn",
    "replication_seed",
    "run_chunk",
]


class ReplicationFn(Protocol):
    """One replication: must be picklable and must not depend on global state."""

    def __call__(self, index: int, seed: np.random.SeedSequence) -> Mapping[str, pd.DataFrame]: ...


def replication_seed(seed: int, index: int) -> np.random.SeedSequence:
    """The seed of replication ``index``: ``SeedSequence(seed).spawn(n)[index]`` for any n."""
    if index < 0:
        raise ValueError(f"replication index must be >= 0, got {index}")
    return np.random.SeedSequence(entropy=seed, spawn_key=(index,))


# ------------------------------------------------------------------------------ one chunk
@dataclass(frozen=True)
class Failure:
    """A replication that raised: recorded, not fatal (desmod's rule)."""

    replication: int
    error: str
    traceback: str

    def as_dict(self) -> dict[str, Any]:
        return {"replication": self.replication, "error": self.error, "traceback": self.traceback}


@dataclass
class ChunkResult:
    """What a worker sends back for a chunk: Arrow tables, failures, timing."""

    replications: list[int]
    tables: dict[str, pa.Table]
    failures: list[Failure]
    seconds: float
    worker: str
    interrupted: bool = False


def _tag(index: int, tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    for name, frame in tables.items():
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"table {name!r} is a {type(frame).__name__}, not a DataFrame")
        if REPLICATION in frame.columns:
            raise ValueError(f"table {name!r} already has a {REPLICATION!r} column")
        tagged = frame.copy(deep=False)
        tagged.insert(0, REPLICATION, np.full(len(frame), index, dtype=np.int64))
        out[name] = tagged
    return out


def run_chunk(fn: ReplicationFn, seed: int, indices: Sequence[int]) -> ChunkResult:
    """Run replications ``indices`` one after another (this is what workers execute).

    A replication that raises becomes a :class:`Failure`. A Ctrl-C in the
    serial backend ends the chunk early but keeps the replications that
    finished, so an interrupt never throws away completed work.
    """
    started = time.perf_counter()
    done: list[int] = []
    parts: dict[str, list[pd.DataFrame]] = {}
    failures: list[Failure] = []
    interrupted = False
    for index in indices:
        try:
            tagged = _tag(index, fn(index, replication_seed(seed, index)))
        except KeyboardInterrupt:
            interrupted = True
            break
        except Exception as exc:  # a failed replication must not kill the batch
            failures.append(Failure(index, f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        else:
            for name, frame in tagged.items():
                parts.setdefault(name, []).append(frame)
        done.append(index)
    return ChunkResult(
        replications=done,
        tables={name: _to_arrow(frames) for name, frames in parts.items()},
        failures=failures,
        seconds=time.perf_counter() - started,
        worker=f"{socket.gethostname()}:{os.getpid()}",
        interrupted=interrupted,
    )


# ------------------------------------------------------------------------------ chunking
class ChunkPlanner:
    """Hands out chunks of the replications still to run, sized by measured speed.

    The first chunks hold one replication each (nothing is known yet); later
    ones aim at ``target_seconds`` of work, so a kill loses little and the
    manifest is not rewritten thousands of times. No chunk is larger than
    ``remaining / (2 * workers)``, so the last chunks spread over all workers.
    Chunk sizes never change results, only how often parts are written.
    """

    def __init__(
        self,
        todo: Sequence[int],
        workers: int,
        chunk_size: int | None = None,
        target_seconds: float = 5.0,
        max_size: int = 1000,
    ) -> None:
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self._todo = list(todo)
        self._next = 0
        self.workers = max(1, workers)
        self.chunk_size = chunk_size
        self.target_seconds = target_seconds
        self.max_size = max_size
        self._seconds = 0.0
        self._count = 0

    def observe(self, result: ChunkResult) -> None:
        self._seconds += result.seconds
        self._count += len(result.replications)

    def size(self) -> int:
        if self.chunk_size is not None:
            return self.chunk_size
        if self._count == 0:
            return 1
        per_rep = max(self._seconds / self._count, 1e-6)
        remaining = len(self._todo) - self._next
        balanced = math.ceil(remaining / (2 * self.workers))
        return max(1, min(round(self.target_seconds / per_rep), self.max_size, balanced))

    def __iter__(self) -> Iterator[list[int]]:
        while self._next < len(self._todo):
            size = self.size()
            chunk = self._todo[self._next : self._next + size]
            self._next += len(chunk)
            yield chunk
