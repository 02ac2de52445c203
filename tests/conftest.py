"""Fixtures shared across test modules."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from paxsim.models.results import Results


@pytest.fixture(scope="session")
def default_run() -> Results:
    """The embedded default world simulated once, seed 0, shared by the whole session.

    Several modules check the same replication; running it once saves a few
    seconds per module. The tables are shared: read them, never modify them
    in place (copy first).
    """
    from paxsim import load_scenario, simulate

    return simulate(load_scenario(), 0)
