"""How CPU per replication grows with the number of facilities and with the horizon.

    python -m benchmarks.bench_scaling [SCENARIO|default|tiny] [--reps K]

Facilities: every data-center project and every mine is copied k times
(copied mines also supply the separation plants their original supplies), so
the world grows in its two most numerous kinds of facility. Horizon: the
scenario's end date is moved out in steps. Each row is the median of K runs.
"""

from __future__ import annotations

import argparse
import copy
import gc
import time
from datetime import date
from typing import Any

from benchmarks._common import machine, median, pick_scenario
from paxsim.models.loader import validate_raw
from paxsim.models.scenario import Scenario
from paxsim.models.simulation import simulate
from paxsim.models.world import World


def _raw(scenario: Scenario) -> dict[str, Any]:
    data = scenario.model_dump(mode="python", by_alias=True, serialize_as_any=True)
    data.pop("extends", None)
    return data


def _rename_suppliers(node: Any, old: str, extra: str) -> None:
    """Wherever ``old`` is listed as a supplier, list ``extra`` beside it."""
    if isinstance(node, dict):
        for value in node.values():
            _rename_suppliers(value, old, extra)
    elif isinstance(node, list) and old in node and extra not in node:
        node.append(extra)


def scaled(scenario: Scenario, k: int) -> Scenario:
    raw = _raw(scenario)
    for kind in ("datacenters", "mines"):
        originals = dict(raw.get(kind) or {})
        for name, spec in originals.items():
            for i in range(2, k + 1):
                copy_name = f"{name}_x{i}"
                raw[kind][copy_name] = copy.deepcopy(spec)
                if kind == "mines":
                    for plant in (raw.get("separation_plants") or {}).values():
                        _rename_suppliers(plant, name, copy_name)
    return validate_raw(raw, f"{scenario.name} x{k}")


def with_end(scenario: Scenario, end: date) -> Scenario:
    raw = _raw(scenario)
    raw["time"]["end"] = end
    return validate_raw(raw, f"{scenario.name} to {end}")


def facilities(scenario: Scenario) -> int:
    kinds = ("mines", "separation_plants", "metal_plants", "magnet_makers", "fabs", "datacenters")
    return sum(len(getattr(scenario, kind, {}) or {}) for kind in kinds)


def measure(scenario: Scenario, reps: int) -> tuple[float, float]:
    """Median CPU seconds of one run (build and run the world, no tables) and its events."""
    seconds, events = [], []
    for seed in range(reps):
        gc.collect()
        started = time.process_time()
        world = World(scenario, seed).run()
        seconds.append(time.process_time() - started)
        events.append(float(world.env.scheduled))
    return median(seconds), median(events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="default")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--factors", default="1,2,4,8")
    args = parser.parse_args()
    base, label = pick_scenario(args.scenario)
    print(machine())
    print(f"scenario: {label}; median of {args.reps} replications per row")
    simulate(base, 999)  # warm-up
    print("CPU seconds per run (build + run, no tables)")
    print(f"{'copies':>6} {'facilities':>10} {'s/rep':>8} {'events':>9} {'s per fac.':>10}")
    for k in (int(f) for f in args.factors.split(",")):
        world = scaled(base, k)
        secs, events = measure(world, args.reps)
        n = facilities(world)
        print(f"{k:>6} {n:>10} {secs:8.3f} {events:9.0f} {secs / n:10.4f}")
    start, end = base.time.start, base.time.end
    years = (end - start).days / 365.25
    hdr = f"{'years':>6} {'end':>10} {'s/rep':>8} {'events':>9} {'s per year':>10} {'us/event':>9}"
    print(hdr)
    for factor in (1, 2, 3, 4):
        new_end = date(start.year + round(years * factor), end.month, end.day)
        world = with_end(base, new_end)
        secs, events = measure(world, args.reps)
        span = (new_end - start).days / 365.25
        day = new_end.isoformat()
        per_event = secs / events * 1e6
        print(
            f"{span:6.1f} {day:>10} {secs:8.3f} {events:9.0f} {secs / span:10.4f} {per_event:9.2f}"
        )
    print(machine())


if __name__ == "__main__":
    main()
