"""Build, run, collect: one replication of a scenario with one seed."""

from __future__ import annotations

import time
from collections.abc import Collection
from importlib import metadata
from pathlib import Path

import numpy as np

from paxsim.models.loader import load_scenario, scenario_hash
from paxsim.models.results import Results, collect
from paxsim.models.scenario import Scenario
from paxsim.models.world import World

__all__ = ["PAXSIM_VERSION", "run", "simulate"]


def _installed_version() -> str:
    try:
        return metadata.version("paxsim")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


PAXSIM_VERSION = _installed_version()


def simulate(
    scenario: Scenario,
    seed: int | np.random.SeedSequence = 0,
    tables: Collection[str] | None = None,
) -> Results:
    """Run ``scenario`` once; the same scenario and seed give identical tables.

    ``tables`` limits which result tables are built (all by default); a batch
    asks only for those it keeps.
    """
    started = time.perf_counter()
    world = World(scenario, seed, record=tables).run()
    seed_value = seed if isinstance(seed, int) else repr(seed)
    meta = {
        "scenario": scenario.name,
        "scenario_hash": scenario_hash(scenario),
        "seed": seed_value,
        "paxsim_version": PAXSIM_VERSION,
        "start": str(scenario.time.start),
        "end": str(scenario.time.end),
        "sim_events": world.env.scheduled,
    }
    results = collect(world, meta, tables)
    results.meta["wall_seconds"] = round(time.perf_counter() - started, 3)
    return results


def run(
    source: str | Path | None = None, seed: int = 0, overrides: list[str] | None = None
) -> Results:
    """Load (default world if ``source`` is None), apply overrides, simulate."""
    return simulate(load_scenario(source, overrides or []), seed)
