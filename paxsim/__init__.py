"""paxsim: when do AI data centers come online, how sure are we, and which queue held them back?

The public API (see :mod:`paxsim.api`)::

    from paxsim import load_scenario, simulate
    results = simulate(load_scenario(), seed=1)
"""

from paxsim.api import (
    PAXSIM_VERSION,
    TABLES,
    Results,
    Scenario,
    ScenarioError,
    load_scenario,
    run,
    scenario_to_dict,
    scenario_to_toml,
    simulate,
)

__version__ = PAXSIM_VERSION

__all__ = [
    "PAXSIM_VERSION",
    "TABLES",
    "Results",
    "Scenario",
    "ScenarioError",
    "__version__",
    "load_scenario",
    "run",
    "scenario_to_dict",
    "scenario_to_toml",
    "simulate",
]
