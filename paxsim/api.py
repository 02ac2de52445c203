"""The Python API a notebook uses: everything the CLI does, as functions.

>>> from paxsim import load_scenario, simulate
>>> results = simulate(load_scenario(), seed=1)          # doctest: +SKIP
>>> results.projects[["phase_id", "online_date", "delay_days"]]  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import date
from typing import Any

import tomli_w

from paxsim.batch import BatchResults, Comparison, compare, load_batch, run_batch
from paxsim.models.loader import ScenarioError, load_scenario
from paxsim.models.results import TABLES, Results
from paxsim.models.scenario import Scenario
from paxsim.models.simulation import PAXSIM_VERSION, run, simulate

__all__ = [
    "PAXSIM_VERSION",
    "TABLES",
    "BatchResults",
    "Comparison",
    "Results",
    "Scenario",
    "ScenarioError",
    "compare",
    "load_batch",
    "load_scenario",
    "run",
    "run_batch",
    "scenario_to_dict",
    "scenario_to_toml",
    "simulate",
]


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The resolved scenario as plain data (TOML has no null, so unset fields are left out)."""
    data = scenario.model_dump(mode="python", by_alias=True)
    return _drop_none(data)


def scenario_to_toml(scenario: Scenario) -> str:
    """The resolved scenario as TOML that ``load_scenario`` reads back to the same scenario."""
    data = scenario_to_dict(scenario)
    data.pop("extends", None)
    header = f"# resolved scenario {scenario.name!r}, written {date.today().isoformat()}\n"
    return header + tomli_w.dumps(data)
