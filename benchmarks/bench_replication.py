"""CPU per replication, and the model's cost per event against a bare SimPy model.

    python -m benchmarks.bench_replication [SCENARIO|default|tiny] [--reps K]

Prints, for K replications measured in this one process (CPU seconds from
``time.process_time``, garbage collection included):

* **batch replication**: what one Monte Carlo replication costs inside
  ``paxsim batch`` (simulate, building only the tables a batch keeps, and
  compacting them);
* **simulate, all tables**: ``simulate(scenario, seed)`` building all 14 tables;
* **run only**: building and running the world, no tables.

Where the scenario has national data-centre pipelines, the batch replication
is also timed without them (the same world, named campuses only), so the
pipelines' cost is a ratio measured in the same run.

Then the *event mix* of one run (timeouts resumed by processes, timeouts and
events with plain callbacks, process starts and ends, conditions) and a bare
SimPy model that schedules exactly that mix and does nothing else, measured
in the same process: the ratio is the model's CPU per event over the bare
model's. A ratio near 1 would mean the model's own work is free; the run's
real work (sourcing, production, shipments) is what the ratio counts.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections import Counter
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy

from benchmarks._common import machine, pick_scenario
from paxsim.batch import ScenarioReplication
from paxsim.models.scenario import Scenario
from paxsim.models.simulation import simulate
from paxsim.models.world import World
from paxsim.sim.environment import CountingEnvironment


def cpu_per_call(fn: Callable[[int], object], reps: int) -> tuple[float, float]:
    """(median, mean) CPU seconds per call over ``reps`` calls, GC included."""
    gc.collect()
    each = []
    started_all = time.process_time()
    for i in range(reps):
        started = time.process_time()
        fn(i)
        each.append(time.process_time() - started)
    return statistics.median(each), (time.process_time() - started_all) / reps


def event_mix(scenario: Scenario, seed: int) -> Counter[str]:
    """What one run schedules, by kind (classified at the moment each event fires)."""
    world = World(scenario, seed)
    env = world.env
    mix: Counter[str] = Counter()
    plain_step = simpy.Environment.step

    def step(self: simpy.Environment) -> None:
        # A benchmark-only look at SimPy's queue (the package never reads it).
        event = self._queue[0][3]  # type: ignore[attr-defined]
        callbacks = event.callbacks or []
        if isinstance(event, simpy.events.Initialize):
            mix["process_start"] += 1
        elif isinstance(event, simpy.events.Process):
            mix["process_end"] += 1
        elif isinstance(event, simpy.events.Condition):
            mix["condition"] += 1
        elif any(getattr(cb, "__name__", "") == "_resume" for cb in callbacks):
            mix[
                "timeout_resumes_process"
                if isinstance(event, simpy.Timeout)
                else "event_resumes_process"
            ] += 1
        else:
            mix["timeout_callback" if isinstance(event, simpy.Timeout) else "event_callback"] += 1
        plain_step(self)

    env.step = step.__get__(env)  # type: ignore[method-assign]
    world.run()
    return mix


def bare_same_mix(mix: Counter[str]) -> tuple[float, int]:
    """A SimPy model that schedules the same mix of events and does nothing else.

    As many processes as the run starts, each resumed by timeouts as often as
    the run's processes are on average; as many timeouts with a (no-op)
    callback as the run's callbacks, spread over the horizon. Returns (CPU
    seconds, events scheduled, counted the way the model counts them).
    """
    env = CountingEnvironment()
    rng = np.random.default_rng(0)
    n_proc = max(1, mix["process_start"])
    resumes = mix["timeout_resumes_process"] + mix["event_resumes_process"] + mix["condition"]
    per_proc = max(1, round(resumes / n_proc))
    callbacks = mix["timeout_callback"] + mix["event_callback"]
    horizon = 4000.0

    def noop(_event: simpy.Event) -> None:
        return None

    def proc(gaps: list[float]) -> Generator[simpy.Event, Any, None]:
        for gap in gaps:
            yield env.timeout(gap)

    gc.collect()
    gc.disable()  # as the model runs (paxsim.models.world runs without GC passes)
    started = time.process_time()
    for _ in range(n_proc):
        env.process(proc((rng.random(per_proc) * horizon / per_proc).tolist()))
    for delay in (rng.random(callbacks) * horizon).tolist():
        env.timeout(delay).callbacks.append(noop)
    env.run()
    cpu = time.process_time() - started
    gc.enable()
    return cpu, env.scheduled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="default")
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    scenario, label = pick_scenario(args.scenario)
    print(machine())
    print(f"scenario: {label}; replications timed: {args.reps}")
    simulate(scenario, 10_000)  # warm-up: imports, caches
    replication = ScenarioReplication(scenario)
    seeds = [np.random.SeedSequence(0, spawn_key=(i,)) for i in range(args.reps)]
    batch_med, batch_mean = cpu_per_call(lambda i: replication(i, seeds[i]), args.reps)
    full_med, full_mean = cpu_per_call(lambda i: simulate(scenario, i), args.reps)
    worlds: list[World] = []
    run_med, run_mean = cpu_per_call(lambda i: worlds.append(World(scenario, i).run()), args.reps)
    events = statistics.median([w.env.scheduled for w in worlds])
    worlds.clear()
    years = scenario.time.horizon_days / 365.25
    print(f"CPU per batch replication:       median {batch_med:.3f} s, mean {batch_mean:.3f} s")
    print(f"CPU per simulate (all tables):   median {full_med:.3f} s, mean {full_mean:.3f} s")
    print(f"CPU per run (no tables):         median {run_med:.3f} s, mean {run_mean:.3f} s")
    print(f"CPU per simulated year (run):    {run_med / years:.4f} s over {years:.1f} years")
    print(f"events scheduled per run:        {events:.0f}")
    model_us = run_med / events * 1e6
    mix = event_mix(scenario, 0)
    print("event mix: " + ", ".join(f"{k} {v}" for k, v in sorted(mix.items())))
    bare_cpu, bare_events = bare_same_mix(mix)
    bare_us = bare_cpu / bare_events * 1e6
    print(f"model CPU per event:             {model_us:.2f} us")
    print(f"bare same-mix SimPy, per event:  {bare_us:.2f} us ({bare_events} events)")
    print(f"ratio model / bare same-mix:     {model_us / bare_us:.2f}")
    if any(r.datacenter_pipeline is not None for r in scenario.grid.values()):
        national, local = interleaved(scenario, without_pipelines(scenario), seeds)
        print(
            f"national world vs the same world without its pipelines, interleaved: "
            f"{national:.3f} s vs {local:.3f} s per batch replication ({national / local:.2f}x)"
        )


def interleaved(
    a: Scenario, b: Scenario, seeds: list[np.random.SeedSequence]
) -> tuple[float, float]:
    """Median CPU per batch replication of two scenarios timed alternately (A, B, A, B...),
    so a machine whose speed drifts during the run biases neither."""
    reps = (ScenarioReplication(a), ScenarioReplication(b))
    times: tuple[list[float], list[float]] = ([], [])
    for i, seed in enumerate(seeds):
        for k in (0, 1):
            gc.collect()
            started = time.process_time()
            reps[k](i, seed)
            times[k].append(time.process_time() - started)
    return statistics.median(times[0]), statistics.median(times[1])


def without_pipelines(scenario: Scenario) -> Scenario:
    """The scenario with every region's data-centre pipeline removed (the pre-national world)."""
    grid = {
        name: region.model_copy(update={"datacenter_pipeline": None})
        for name, region in scenario.grid.items()
    }
    return scenario.model_copy(update={"grid": grid})


if __name__ == "__main__":
    main()
