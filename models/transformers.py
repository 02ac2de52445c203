"""Large power transformers: a finite pool of factory slots with a backlog.

Every order (ours and the background's) waits for a slot and is then built;
lead time = queue wait + build time, so it grows with the backlog.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from paxsim.models.scenario import TransformerSupply
from paxsim.sim.arrivals import poisson_arrivals
from paxsim.sim.calendar import DAYS_PER_YEAR
from paxsim.sim.queues import QueueLog, ServiceQueue

__all__ = ["TransformerFactory"]


class TransformerFactory:
    def __init__(
        self,
        env: simpy.Environment,
        spec: TransformerSupply,
        log: QueueLog,
        rng: np.random.Generator,
        background_rng: np.random.Generator,
        horizon_days: float,
    ) -> None:
        self.env = env
        self.spec = spec
        self.rng = rng
        self.queue = ServiceQueue(env, "transformers", spec.factory_slots, log)
        self._bg_rng = background_rng
        env.process(
            poisson_arrivals(
                env,
                spec.background_per_year / DAYS_PER_YEAR,
                background_rng,
                self._background_order,
                until=horizon_days,
            )
        )

    def nominal_days(self) -> float:
        return self.spec.build_days.median()

    def _background_order(self, index: int) -> None:
        days = max(0.0, self.spec.build_days.sample(self._bg_rng))
        self.queue.submit(f"bg{index}", days, kind="background", background=True)

    def order(self, request_id: str) -> Generator[simpy.Event, Any, float]:
        """Wait for one transformer; returns the delivery time."""
        days = max(0.0, self.spec.build_days.sample(self.rng))
        record = yield from self.queue.serve(request_id, days, kind="upgrade")
        return record.end
