"""The SimPy environment paxsim runs in: SimPy's own, counting what it schedules.

The number of scheduled events is a run's basic cost measure (benchmarks
report CPU per event). SimPy keeps its own event id counter private; counting
here keeps us off its internals.
"""

from __future__ import annotations

from typing import Any

import simpy
from simpy.core import NORMAL

__all__ = ["CountingEnvironment"]


class CountingEnvironment(simpy.Environment):
    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self.scheduled = 0

    def schedule(self, event: Any, priority: Any = NORMAL, delay: float = 0) -> None:
        self.scheduled += 1
        super().schedule(event, priority, delay)
