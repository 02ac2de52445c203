"""One replication: median wall seconds, and simulated events/s against bare SimPy.

    python -m benchmarks.bench_replication [SCENARIO|default|tiny] [--reps K]

The bare loop (one process yielding ``env.timeout(1)``) is measured in the
same run, so the ratio is robust to the machine's speed: it says what share
of SimPy's raw event rate the model keeps once it does real work per event.
"""

from __future__ import annotations

import argparse
import time

import simpy

from benchmarks._common import machine, median, pick_scenario
from paxsim.models.simulation import simulate


def bare_simpy_rate(events: int = 300_000) -> float:
    """Events per second of the simplest possible SimPy model."""
    env = simpy.Environment()

    def ticker(env: simpy.Environment):  # type: ignore[no-untyped-def]
        while True:
            yield env.timeout(1)

    env.process(ticker(env))
    started = time.perf_counter()
    env.run(until=events)
    return events / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="default")
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    scenario, label = pick_scenario(args.scenario)
    print(machine())
    simulate(scenario, 10_000)  # warm-up: imports, caches
    seconds, events = [], []
    for seed in range(args.reps):
        started = time.perf_counter()
        results = simulate(scenario, seed)
        seconds.append(time.perf_counter() - started)
        events.append(int(results.meta["sim_events"]))
    rate = sum(events) / sum(seconds)
    bare = median([bare_simpy_rate() for _ in range(3)])
    print(f"scenario: {label}")
    print(f"replications timed: {args.reps}")
    print(f"median seconds per replication: {median(seconds):.3f}")
    print(f"min / max seconds: {min(seconds):.3f} / {max(seconds):.3f}")
    print(f"simulated events per replication (median): {median([float(e) for e in events]):.0f}")
    print(f"model events per second: {rate:,.0f}")
    print(f"bare SimPy timeout loop, events per second: {bare:,.0f}")
    print(f"ratio model / bare: {rate / bare:.3f}")


if __name__ == "__main__":
    main()
