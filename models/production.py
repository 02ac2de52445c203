"""The production tick: one event per step steps every online plant and demand sink.

Plants and sinks all step on one grid of days (``0, step, 2*step, …``), in a
fixed order: plants in the order they came online, then sinks. One process
for all of them replaces one per component (a run has ~25,000 component
steps). A plant built during the run makes a partial first step from the
moment it comes online to the next tick, then joins.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any, Protocol

import simpy

__all__ = ["ProductionTick", "Steps"]


class Steps(Protocol):
    def tick(self, step_days: float) -> None: ...


class ProductionTick:
    def __init__(self, env: simpy.Environment, step_days: float) -> None:
        self.env = env
        self.step_days = step_days
        self.plants: list[Steps] = []
        self.sinks: list[Steps] = []
        self._joining: list[tuple[float, Steps]] = []

    def add_plant(self, plant: Steps) -> None:
        """Step ``plant`` from the next tick on, this instant's included (it has not stepped)."""
        self.plants.append(plant)

    def join(self, plant: Steps) -> None:
        """Step ``plant`` from the next tick strictly after now (it has just stepped)."""
        self._joining.append((self.env.now, plant))

    def add_sink(self, sink: Steps) -> None:
        self.sinks.append(sink)

    def until_next(self, now: float) -> float:
        """Days from ``now`` to the next tick strictly after it."""
        step = self.step_days
        return (math.floor(now / step + 1e-9) + 1) * step - now

    def start(self) -> None:
        self.env.process(self._run())

    def _run(self) -> Generator[simpy.Event, Any, None]:
        step = self.step_days
        plants, sinks = self.plants, self.sinks
        while True:
            if self._joining:
                now = self.env.now
                ready = [p for when, p in self._joining if when < now - 1e-9]
                if ready:
                    plants.extend(ready)
                    self._joining = [(w, p) for w, p in self._joining if w >= now - 1e-9]
            for plant in plants:
                plant.tick(step)
            for sink in sinks:
                sink.tick(step)
            yield self.env.timeout(step)
