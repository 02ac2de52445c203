"""Start-up cost: CPU seconds of ``import paxsim`` and of short CLI commands.

    python -m benchmarks.bench_import [--repeat N]

Each command runs in a fresh interpreter, N times (default 5); its CPU time
(user + system) is the ``resource.getrusage(RUSAGE_CHILDREN)`` delta around
the run, and the median is printed. CPU rather than wall time, so a busy
neighbour on a shared machine does not inflate the figures. The bare
interpreter (``python -c pass``) is measured too: subtract it to get what
paxsim itself costs.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time

from benchmarks._common import machine, median

COMMANDS: dict[str, list[str]] = {
    "python -c pass (interpreter only)": ["-c", "pass"],
    "import paxsim": ["-c", "import paxsim"],
    "paxsim --help": ["-m", "paxsim.cli", "--help"],
    "paxsim validate default": ["-m", "paxsim.cli", "validate", "default"],
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(args: list[str]) -> tuple[float, float]:
    """CPU and wall seconds of one fresh ``python ARGS``."""
    cpu0, wall0 = _children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, capture_output=True)
    return _children_cpu() - cpu0, time.perf_counter() - wall0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (default 5)")
    args = parser.parse_args()
    print(machine())
    print(f"# median of {args.repeat} fresh interpreters each")
    print(f"{'command':<36} {'CPU s':>7} {'wall s':>7}")
    for label, argv in COMMANDS.items():
        runs = [measure(argv) for _ in range(args.repeat)]
        cpu = median([c for c, _ in runs])
        wall = median([w for _, w in runs])
        print(f"{label:<36} {cpu:7.3f} {wall:7.3f}")


if __name__ == "__main__":
    main()
