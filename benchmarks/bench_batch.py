"""Batch throughput: serial against local processes (and optionally Dask).

    python -m benchmarks.bench_batch [SCENARIO|default|tiny] [--reps N] [--dask]

Parallel efficiency = (serial seconds / parallel seconds) / workers. Wall
times include starting the workers (spawned interpreters import numpy,
pandas and the model, about a second each), so short batches understate what
long ones achieve; "busy" is worker-seconds inside replications / (wall x
workers), i.e. how much of the pool's time went to simulating.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from pathlib import Path

from benchmarks._common import machine, pick_scenario
from paxsim.batch import run_batch
from paxsim.models.scenario import Scenario
from paxsim.sim.replications import Backend


def _spin(n: int) -> int:
    """Pure-Python CPU work, like a replication but with no I/O or imports."""
    total = 0
    for i in range(n):
        total += i % 7
    return total


def hardware_speedup(workers: int, n: int = 20_000_000) -> float:
    """How much faster ``workers`` independent CPU-bound processes finish W jobs than one.

    On a machine whose cores are real and idle this is ``workers``; on a VM
    whose vCPUs share a physical core, or on a busy machine, it is less, and
    no batch runner can beat it.
    """
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        pool.map(_spin, [1000] * workers)  # start the interpreters first
        started = time.perf_counter()
        pool.map(_spin, [n] * workers)
        parallel = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(workers):
        _spin(n)
    serial = time.perf_counter() - started
    return serial / parallel


def timed_batch(
    scenario: Scenario, reps: int, backend: Backend, out: Path
) -> tuple[float, float, int]:
    started = time.perf_counter()
    results = run_batch(scenario, reps=reps, seed=1, out=out, backend=backend, progress=False)
    wall = time.perf_counter() - started
    busy = sum(p["seconds"] for p in results.store.manifest["parts"])
    return wall, busy, len(results.failures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="default")
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--dask", action="store_true", help="also time a local Dask cluster")
    args = parser.parse_args()
    scenario, label = pick_scenario(args.scenario)
    cores = os.cpu_count() or 1
    print(machine())
    print(
        f"hardware ceiling: {cores} independent pure-Python processes run "
        f"{hardware_speedup(cores):.2f}x faster than one"
    )
    print(f"scenario: {label}; replications per batch: {args.reps}")
    backends = [("serial", Backend("serial"), 1)]
    backends += [(f"processes x{w}", Backend("processes", w), w) for w in range(1, cores + 1)]
    if args.dask:
        backends.append((f"dask local x{cores}", Backend("dask", cores), cores))
    serial = None
    print(
        f"{'backend':<16} {'wall s':>8} {'reps/s':>8} {'speedup':>8} {'efficiency':>10} "
        f"{'busy':>6} {'failed':>6}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name, backend, workers in backends:
            out = Path(tmp) / name.replace(" ", "_")
            wall, busy, failed = timed_batch(scenario, args.reps, backend, out)
            serial = serial or wall
            speedup = serial / wall
            print(
                f"{name:<16} {wall:8.2f} {args.reps / wall:8.1f} {speedup:8.2f} "
                f"{speedup / workers:10.2f} {busy / (wall * workers):6.2f} {failed:6d}"
            )
    print(machine())


if __name__ == "__main__":
    main()
