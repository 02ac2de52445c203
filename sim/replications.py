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
"""

from __future__ import annotations

import contextlib
import json
import math
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = [
    "REPLICATION",
    "Backend",
    "BackendUnavailableError",
    "ChunkPlanner",
    "ChunkResult",
    "Failure",
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

#: The column every stored table gains: which replication a row came from.
REPLICATION = "replication"
MANIFEST = "manifest.json"
FORMAT = "sim.replications/1"

BackendKind = Literal["serial", "processes", "dask"]


class ReplicationFn(Protocol):
    """One replication: must be picklable and must not depend on global state."""

    def __call__(self, index: int, seed: np.random.SeedSequence) -> Mapping[str, pd.DataFrame]: ...


class StoreExistsError(Exception):
    """The output folder already holds a batch and ``resume`` was not asked for."""


class ResumeMismatchError(Exception):
    """``resume`` was asked for, but the batch on disk was made with other inputs."""


class BackendUnavailableError(Exception):
    """The requested backend needs a package that is not installed."""


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


def _arrow_safe(frame: pd.DataFrame) -> pa.Table:
    """Parquet wants one type per column: stringify object columns of mixed types."""
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        fixed = frame.copy()
        for col in fixed.columns:
            if fixed[col].dtype == object:
                mask = fixed[col].notna()
                fixed[col] = fixed[col].where(~mask, fixed[col].astype(str))
        return pa.Table.from_pandas(fixed, preserve_index=False)


def _cast_all_null_columns(tables: Sequence[pa.Table]) -> list[pa.Table]:
    """Give an all-null column the type other tables give it.

    pandas infers a column's type from its values, so a column that is empty
    in one replication (say, a date no phase reached) can come out as another
    type than in the next; being all null, it can take any type losslessly.
    """
    typed: dict[str, pa.DataType] = {}
    for table in tables:
        for fld, column in zip(table.schema, table.columns, strict=True):
            if column.null_count < len(column) and fld.name not in typed:
                typed[fld.name] = fld.type
    out = []
    for table in tables:
        for i, fld in enumerate(table.schema):
            want = typed.get(fld.name)
            column = table.column(i)
            if want is not None and fld.type != want and column.null_count == len(column):
                table = table.set_column(i, fld.with_type(want), pa.nulls(len(column), want))
        out.append(table)
    return out


def _concat(tables: Sequence[pa.Table]) -> pa.Table:
    """Concatenate parts whose all-null columns may have been typed differently."""
    if len(tables) == 1:
        return tables[0]
    return pa.concat_tables(_cast_all_null_columns(tables), promote_options="permissive")


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


def _to_arrow(frames: Sequence[pd.DataFrame]) -> pa.Table:
    """One Arrow table for a chunk's frames of one table.

    Converting once per chunk is several times cheaper than once per
    replication; if pandas cannot reconcile the frames' types, fall back to
    converting each one and unifying in Arrow.
    """
    try:
        return _arrow_safe(pd.concat(frames, ignore_index=True))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return _concat([_arrow_safe(frame) for frame in frames])


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


# ------------------------------------------------------------------------------ storage
def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _normalise(value: Mapping[str, Any]) -> dict[str, Any]:
    """What a mapping looks like after a JSON round trip (how it is compared on resume)."""
    out: dict[str, Any] = json.loads(json.dumps(dict(value), sort_keys=True, default=str))
    return out


class ReplicationStore:
    """A batch folder: parts written atomically, and a manifest that lists them.

    Only parts named in the manifest count. A part file without a manifest
    entry (the process died between the two writes) is an orphan; it is
    removed on resume and its replications are run again.
    """

    def __init__(self, root: str | Path, manifest: dict[str, Any]) -> None:
        self.root = Path(root)
        self.manifest = manifest

    # -- creating and opening
    @classmethod
    def exists(cls, root: str | Path) -> bool:
        return (Path(root) / MANIFEST).is_file()

    @classmethod
    def create(
        cls,
        root: str | Path,
        seed: int,
        identity: Mapping[str, Any],
        meta: Mapping[str, Any] | None = None,
    ) -> ReplicationStore:
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        manifest = {
            "format": FORMAT,
            "seed": int(seed),
            "identity": _normalise(identity),
            "meta": _normalise(meta or {}),
            "n_replications": 0,
            "status": "created",
            "created": _now(),
            "updated": _now(),
            "parts": [],
            "failures": [],
        }
        store = cls(root, manifest)
        store.save()
        return store

    @classmethod
    def open(cls, root: str | Path) -> ReplicationStore:
        path = Path(root) / MANIFEST
        if not path.is_file():
            raise FileNotFoundError(f"{root}: no {MANIFEST}; not a batch folder")
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise ValueError(f"{path}: unknown format {manifest.get('format')!r}, want {FORMAT}")
        return cls(root, manifest)

    def check_identity(self, seed: int, identity: Mapping[str, Any]) -> None:
        """Raise :class:`ResumeMismatchError` naming every input that differs."""
        problems = []
        if self.manifest["seed"] != seed:
            problems.append(f"seed: the batch on disk used {self.manifest['seed']}, not {seed}")
        stored = self.manifest["identity"]
        asked = _normalise(identity)
        for key in sorted(set(stored) | set(asked)):
            if stored.get(key) != asked.get(key):
                problems.append(
                    f"{key}: the batch on disk has {stored.get(key)!r}, this run {asked.get(key)!r}"
                )
        if problems:
            raise ResumeMismatchError(
                f"cannot resume the batch in {self.root}: it was made with other inputs\n  "
                + "\n  ".join(problems)
                + "\nUse another output folder, or rerun with the original inputs."
            )

    # -- writing
    def save(self) -> None:
        self.manifest["updated"] = _now()
        text = json.dumps(self.manifest, indent=1, default=str) + "\n"
        _atomic_write_bytes(self.root / MANIFEST, text.encode("utf-8"))

    def _part_path(self, table: str, part: int) -> Path:
        return self.root / "parts" / table / f"part-{part:06d}.parquet"

    def next_part(self) -> int:
        return 1 + max((p["part"] for p in self.manifest["parts"]), default=-1)

    def add(self, result: ChunkResult) -> None:
        """Write a chunk's tables (each atomically), then record them in the manifest."""
        if not result.replications:
            return
        part = self.next_part()
        files: dict[str, str] = {}
        rows: dict[str, int] = {}
        for name, table in sorted(result.tables.items()):
            path = self._part_path(name, part)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
            pq.write_table(table, tmp)
            os.replace(tmp, path)
            files[name] = str(path.relative_to(self.root))
            rows[name] = table.num_rows
        self.manifest["parts"].append(
            {
                "part": part,
                "replications": list(result.replications),
                "failed": [f.replication for f in result.failures],
                "files": files,
                "rows": rows,
                "seconds": round(result.seconds, 3),
                "worker": result.worker,
                "finished": _now(),
            }
        )
        self.manifest["failures"].extend(f.as_dict() for f in result.failures)
        self.save()

    def remove_orphans(self) -> list[Path]:
        """Delete part and temporary files the manifest does not list."""
        listed = {self.root / f for p in self.manifest["parts"] for f in p["files"].values()}
        removed = []
        parts_dir = self.root / "parts"
        if parts_dir.is_dir():
            for path in parts_dir.rglob("*"):
                if path.is_file() and path not in listed:
                    path.unlink()
                    removed.append(path)
        for tmp in self.root.glob(f"{MANIFEST}.tmp*"):
            tmp.unlink()
            removed.append(tmp)
        return removed

    # -- reading
    def done(self) -> set[int]:
        """Replications finished, successfully or not (a failure is deterministic)."""
        return {i for p in self.manifest["parts"] for i in p["replications"]}

    def failures(self) -> pd.DataFrame:
        columns = ["replication", "error", "traceback"]
        return pd.DataFrame(self.manifest["failures"], columns=columns)

    def table_names(self) -> list[str]:
        return sorted({name for p in self.manifest["parts"] for name in p["files"]})

    def columns(self, name: str) -> list[str]:
        """Column names of a stored table, from the union of its parts' schemas."""
        seen: dict[str, None] = {}
        for part in self.manifest["parts"]:
            rel = part["files"].get(name)
            if rel is not None:
                seen.update(dict.fromkeys(pq.read_schema(self.root / rel).names))
        return list(seen)

    def read_arrow(
        self, name: str, columns: Sequence[str] | None = None, below: int | None = None
    ) -> pa.Table | None:
        """All parts of one table as Arrow, sorted (stably) by replication.

        ``below`` keeps replications ``< below`` only, so a batch extended past
        ``n`` can still be analysed at ``n``.
        """
        cols = None if columns is None else list(dict.fromkeys([REPLICATION, *columns]))
        pieces = []
        for part in self.manifest["parts"]:
            rel = part["files"].get(name)
            if rel is None:
                continue
            table = pq.read_table(self.root / rel, columns=cols)
            if below is not None:
                table = table.filter(pc.less(table[REPLICATION], below))
            pieces.append(table)
        if not pieces:
            return None
        table = _concat(pieces)
        return table.sort_by([(REPLICATION, "ascending")])

    def read_table(
        self, name: str, columns: Sequence[str] | None = None, below: int | None = None
    ) -> pd.DataFrame:
        """One stored table as pandas, rows in replication order (an empty frame if none)."""
        table = self.read_arrow(name, columns, below)
        if table is None:
            return pd.DataFrame({REPLICATION: pd.Series(dtype="int64")})
        return table.to_pandas()


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


# ------------------------------------------------------------------------------ backends
@dataclass(frozen=True)
class Backend:
    """Where replications run.

    ``serial`` runs in this process; ``processes`` (the default) uses a pool of
    ``workers`` local processes (all cores if None); ``dask`` uses a running
    Dask scheduler at ``scheduler`` (``tcp://host:8786``), or a
    ``LocalCluster`` of ``workers`` processes when no address is given.
    """

    kind: BackendKind = "processes"
    workers: int | None = None
    scheduler: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("serial", "processes", "dask"):
            raise ValueError(f"unknown backend {self.kind!r}; use serial, processes or dask")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")

    @property
    def n_workers(self) -> int:
        if self.kind == "serial":
            return 1
        return self.workers or os.cpu_count() or 1

    def describe(self) -> str:
        if self.kind == "serial":
            return "serial (this process)"
        if self.kind == "processes":
            return f"{self.n_workers} local processes"
        where = self.scheduler or f"a local Dask cluster of {self.n_workers} processes"
        return f"dask at {where}" if self.scheduler else where

    def map_unordered(
        self, task: Callable[[list[int]], ChunkResult], chunks: Iterable[list[int]]
    ) -> Generator[ChunkResult, None, None]:
        """Run ``task`` on each chunk, yielding results as they complete.

        Closing the generator (or an exception inside it) stops the workers.
        """
        if self.kind == "serial":
            return (task(chunk) for chunk in chunks)
        if self.kind == "processes":
            return _process_map(task, chunks, self.n_workers)
        return _dask_map(task, chunks, self.n_workers, self.scheduler)


def _watch_parent(parent: int, every: float = 1.0) -> None:
    while True:
        time.sleep(every)
        if os.getppid() != parent:
            os._exit(1)


def _init_worker() -> None:
    """Leave Ctrl-C to the parent, and die with it.

    The parent stops its workers in an orderly way on Ctrl-C. If it is killed
    outright (SIGKILL, OOM killer) it cannot, and orphaned workers would block
    for ever on a result pipe nobody reads; a watchdog thread ends them.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watchdog = threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True)
    watchdog.start()


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel queued chunks and end busy workers now rather than after their chunk.

    Python 3.11 has no public way to terminate a pool's workers (3.14 adds
    ``terminate_workers``), so this reads the pool's own process table.
    """
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    for proc in processes:
        proc.join(timeout=5)


def _process_map(
    task: Callable[[list[int]], ChunkResult], chunks: Iterable[list[int]], workers: int
) -> Generator[ChunkResult, None, None]:
    # spawn, not fork: the parent may hold threads (tqdm, Arrow) that fork would copy mid-lock.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker)
    source = iter(chunks)
    pending: set[Future[ChunkResult]] = set()
    finished = False

    def fill() -> None:
        while len(pending) < 2 * workers:
            chunk = next(source, None)
            if chunk is None:
                return
            pending.add(pool.submit(task, chunk))

    try:
        fill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                pending.discard(future)
                yield future.result()
                fill()
        finished = True
    finally:
        if finished:
            pool.shutdown(wait=True)
        else:
            _stop_pool(pool)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while starting child processes (only the main thread may do this)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise BackendUnavailableError(
            "the Dask backend needs the optional extra: pip install 'paxsim[dask]'"
        ) from None
    return distributed


def _dask_map(
    task: Callable[[list[int]], ChunkResult],
    chunks: Iterable[list[int]],
    workers: int,
    scheduler: str | None,
) -> Generator[ChunkResult, None, None]:
    distributed = _import_distributed()
    cluster = None
    if scheduler is None:
        with _sigint_ignored():  # the cluster's processes inherit it: Ctrl-C is ours to handle
            cluster = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
        client = distributed.Client(cluster)
    else:
        client = distributed.Client(scheduler)
    try:
        slots = 2 * max(1, sum(client.nthreads().values()))
        source = iter(chunks)
        queue = distributed.as_completed()
        for chunk in source:
            queue.add(client.submit(task, chunk, pure=False))
            if queue.count() >= slots:
                break
        for future in queue:
            result: ChunkResult = future.result()
            future.release()
            yield result
            more = next(source, None)
            if more is not None:
                queue.add(client.submit(task, more, pure=False))
    finally:
        with contextlib.suppress(Exception):
            client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()


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


def open_store(
    out: str | Path,
    seed: int,
    identity: Mapping[str, Any],
    meta: Mapping[str, Any] | None,
    resume: bool,
) -> ReplicationStore:
    """Create the batch folder, or reopen it for ``resume`` after checking its inputs."""
    if ReplicationStore.exists(out):
        if not resume:
            raise StoreExistsError(
                f"{out} already holds a batch; add --resume (resume=True) to finish it, "
                "or choose another output folder"
            )
        store = ReplicationStore.open(out)
        store.check_identity(seed, identity)
        store.remove_orphans()
        return store
    return ReplicationStore.create(out, seed, identity, meta)


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
) -> RunReport:
    """Make sure replications ``0 .. n-1`` of ``fn`` are in the batch folder ``out``.

    ``identity`` names every input that changes results (scenario hash,
    options); resuming with a different identity or seed raises
    :class:`ResumeMismatchError`. ``meta`` is recorded but not compared. A
    ``KeyboardInterrupt`` stops the workers, keeps what finished, and is
    re-raised. Resuming with a larger ``n`` extends the batch.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if int(seed) < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    backend = backend or Backend()
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
