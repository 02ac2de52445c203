"""Where chunks run: in this process, in a local process pool, or on Dask.

:class:`Backend` maps :func:`~paxsim.sim.replications.planner.run_chunk` over
chunks and yields results in completion order. The process pool and the Dask
map each take care that Ctrl-C and a killed parent stop every worker (worker
initialisation ignores SIGINT and watches the parent), and that closing the
result generator cancels work still queued.

This is its own module because it is the only part of the engine that deals
with processes, signals and optional packages (``distributed``, behind
:class:`BackendUnavailableError`); nothing here knows about the store.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Literal

from paxsim.sim.replications.planner import ChunkResult

__all__ = ["Backend", "BackendKind", "BackendUnavailableError"]


BackendKind = Literal["serial", "processes", "dask"]


#: How long to try to connect to a Dask scheduler before giving up.
SCHEDULER_TIMEOUT_S = 10


class BackendUnavailableError(Exception):
    """The requested backend cannot be used: a package is missing or a scheduler unreachable."""


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
        try:
            client = distributed.Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise BackendUnavailableError(
                f"cannot reach the Dask scheduler at {scheduler}: {exc}"
            ) from None
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
