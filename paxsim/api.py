"""The Python API a notebook uses: everything the CLI does, as functions.

>>> from paxsim import load_scenario, simulate
>>> results = simulate(load_scenario(), seed=1)          # doctest: +SKIP
>>> results.projects[["phase_id", "online_date", "delay_days"]]  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import date
from importlib import import_module
from typing import TYPE_CHECKING, Any

import tomli_w

from paxsim.models.loader import ScenarioError, load_scenario
from paxsim.models.scenario import Scenario

if TYPE_CHECKING:
    from paxsim.batch import BatchResults, Comparison, compare, load_batch, run_batch
    from paxsim.models.results import TABLES, Results
    from paxsim.models.simulation import PAXSIM_VERSION, run, simulate

#: Names that bring in pandas, scipy or pyarrow: imported on first use (PEP 562), from the
#: same modules as the TYPE_CHECKING imports above (keep the two in step).
_LAZY = {
    "BatchResults": "paxsim.batch",
    "Comparison": "paxsim.batch",
    "compare": "paxsim.batch",
    "load_batch": "paxsim.batch",
    "run_batch": "paxsim.batch",
    "TABLES": "paxsim.models.results",
    "Results": "paxsim.models.results",
    "PAXSIM_VERSION": "paxsim.models.simulation",
    "run": "paxsim.models.simulation",
    "simulate": "paxsim.models.simulation",
}

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


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if not TYPE_CHECKING:  # mypy sees the imports above; a visible __getattr__ would hide typos

    def __getattr__(name: str) -> Any:
        if name not in _LAZY:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value  # later look-ups skip __getattr__
        return value
