"""paxsim: when do AI data centers come online, how sure are we, and which queue held them back?

The public API (see :mod:`paxsim.api`)::

    from paxsim import load_scenario, simulate
    results = simulate(load_scenario(), seed=1)
    batch = run_batch(load_scenario(), reps=1000, seed=1)   # Monte Carlo, all cores

``import paxsim`` is cheap: the names below are imported from :mod:`paxsim.api`
on first use (PEP 562), so a CLI command or a worker that needs only the
scenario loader never pays for pandas, scipy or pyarrow.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

    __version__: str

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


def _installed_version() -> str:
    # The same source as paxsim.models.simulation.PAXSIM_VERSION, without importing the models.
    from importlib import metadata

    try:
        return metadata.version("paxsim")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if not TYPE_CHECKING:  # mypy sees the imports above; a visible __getattr__ would hide typos

    def __getattr__(name: str) -> Any:
        if name == "__version__":
            value = _installed_version()
        elif name in __all__:
            value = getattr(import_module("paxsim.api"), name)
        else:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        globals()[name] = value  # later look-ups skip __getattr__
        return value
