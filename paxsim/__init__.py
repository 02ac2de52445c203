"""paxsim: when do AI data centers come online, how sure are we, and which queue held them back?

The public API (see :mod:`paxsim.api`)::

    from paxsim import load_scenario, simulate
    results = simulate(load_scenario(), seed=1)
    batch = run_batch(load_scenario(), reps=1000, seed=1)   # Monte Carlo, all cores
"""

from paxsim.api import (
    PAXSIM_VERSION,
    TABLES,
    BatchResults,
    Comparison,
    Results,
    Scenario,
    ScenarioError,
    compare,
    load_batch,
    load_scenario,
    run,
    run_batch,
    scenario_to_dict,
    scenario_to_toml,
    simulate,
)

__version__ = PAXSIM_VERSION

__all__ = [
    "PAXSIM_VERSION",
    "TABLES",
    "BatchResults",
    "Comparison",
    "Results",
    "Scenario",
    "ScenarioError",
    "__version__",
    "compare",
    "load_batch",
    "load_scenario",
    "run",
    "run_batch",
    "scenario_to_dict",
    "scenario_to_toml",
    "simulate",
]
