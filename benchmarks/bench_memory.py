"""Peak memory of a large batch: is it bounded as the number of replications grows?

    python -m benchmarks.bench_memory [SCENARIO|default|tiny] [--reps 10000] [--workers W]

Runs a small baseline batch, then the large one, and for each reports the
parent's peak resident set size while replications run and while the
summaries are computed (which reads the compact tables back), plus the
largest worker's peak. Bounded memory means the running peak does not grow
with the number of replications; the summary peak grows only with the
compact per-replication tables (a few hundred bytes per phase).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks._common import machine, pick_scenario
from paxsim.batch import make_backend, run_batch
from paxsim.models.scenario import Scenario


def _rss_mib() -> float:
    """Current resident set size of this process (Linux /proc; 0 elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * resource.getpagesize() / 2**20


class PeakRss:
    """Samples this process's RSS every ``every`` seconds until stopped."""

    def __init__(self, every: float = 0.2) -> None:
        self.every = every
        self.peak = _rss_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, _rss_mib())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mib())


def _children_peak_mib() -> float:
    # ru_maxrss is in KiB on Linux, bytes on macOS
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / scale


def run(scenario: Scenario, reps: int, workers: int | None, out: Path) -> str:
    started = time.perf_counter()
    with PeakRss() as running:
        results = run_batch(
            scenario, reps=reps, seed=1, out=out, backend=make_backend(workers), progress=None
        )
    secs = time.perf_counter() - started
    with PeakRss() as summarising:
        results.write_summaries()
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    return (
        f"{reps:>6} reps: {secs:7.1f} s ({reps / secs:5.1f} reps/s), "
        f"{len(results.store.manifest['parts'])} parts, {size / 2**20:5.1f} MiB on disk; "
        f"parent peak RSS running {running.peak:4.0f} MiB, summarising {summarising.peak:4.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="default")
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=200)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    scenario, label = pick_scenario(args.scenario)
    print(machine())
    print(f"scenario: {label}")
    with tempfile.TemporaryDirectory() as tmp:
        print(run(scenario, args.baseline, args.workers, Path(tmp) / "small"))
        print(run(scenario, args.reps, args.workers, Path(tmp) / "large"))
    print(f"largest worker peak RSS: {_children_peak_mib():.0f} MiB")
    print(machine())


if __name__ == "__main__":
    main()
