"""Profile one replication with cProfile and print the hot spots.

    python -m benchmarks.bench_profile [SCENARIO|default|tiny] [--top 25] [--out prof.pstats]

Prints the functions with the most own time (tottime) and the most
cumulative time; load the ``--out`` file in snakeviz or pstats for more.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats

from benchmarks._common import machine, pick_scenario
from paxsim.models.simulation import simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="default")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=None, help="also save the raw profile here")
    args = parser.parse_args()
    scenario, label = pick_scenario(args.scenario)
    print(machine())
    print(f"scenario: {label}; seed {args.seed}")
    simulate(scenario, args.seed)  # warm-up: first-call imports are not the model's cost
    profiler = cProfile.Profile()
    profiler.enable()
    results = simulate(scenario, args.seed)
    profiler.disable()
    print(f"simulated events: {results.meta['sim_events']}")
    if args.out:
        profiler.dump_stats(args.out)
    for order in ("tottime", "cumulative"):
        buffer = io.StringIO()
        stats = pstats.Stats(profiler, stream=buffer).strip_dirs().sort_stats(order)
        stats.print_stats(args.top)
        print(f"==== top {args.top} by {order} ====")
        print(buffer.getvalue().split("\n", 4)[-1].strip("\n"))


if __name__ == "__main__":
    main()
