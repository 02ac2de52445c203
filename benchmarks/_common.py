"""Shared helpers for the benchmark scripts (not part of the package).

Every script prints the machine load beside its figures: on a shared machine
a busy neighbour halves parallel efficiency, and the numbers should say so.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from paxsim.models.loader import ScenarioError, load_scenario
from paxsim.models.scenario import Scenario

TINY = Path(__file__).resolve().parents[1] / "tests" / "scenarios" / "tiny.toml"


def pick_scenario(name: str | None) -> tuple[Scenario, str]:
    """The scenario asked for; for 'default', fall back to tiny if the default does not load."""
    if name in (None, "default"):
        try:
            return load_scenario(None), "default"
        except (ScenarioError, FileNotFoundError, OSError) as exc:
            first = str(exc).splitlines()[0]
            print(f"# default world unavailable ({first}); using tests/scenarios/tiny.toml")
            return load_scenario(TINY), "tiny (fallback)"
    if name == "tiny":
        return load_scenario(TINY), "tiny"
    return load_scenario(name), str(name)


def machine() -> str:
    load = os.getloadavg()
    return (
        f"# machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def median(values: list[float]) -> float:
    return statistics.median(values)
