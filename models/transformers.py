"""Large power transformers: a finite pool of factory slots with a backlog.

Every order (ours and the background's) waits for a slot and is then built;
lead time = queue wait + build time, so it grows with the backlog. The pool is
shared by every grid region: it may couple their outcomes (a region that
orders more lengthens everyone's wait), never their draws. Build times are
known when an order is placed, so the pool is a
:class:`~paxsim.sim.queues.KnownServiceQueue` and background orders cost no
SimPy events; each of our orders brings the build time drawn from the
ordering request's own stream.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import numpy as np
import simpy

from paxsim.models.context import SimContext
from paxsim.models.scenario import TransformerSupply
from paxsim.models.streams import Entity, Purpose
from paxsim.sim.arrivals import poisson_blocks
from paxsim.sim.calendar import DAYS_PER_YEAR
from paxsim.sim.queues import BackgroundRequest, KnownServiceQueue

__all__ = ["TransformerFactory"]

POOL = "pool"


class TransformerFactory:
    def __init__(self, ctx: SimContext, spec: TransformerSupply) -> None:
        self.ctx = ctx
        self.env = ctx.env
        self.spec = spec
        self.queue = KnownServiceQueue(
            ctx.env,
            "transformers",
            spec.factory_slots,
            ctx.queue_log,
            ctx.horizon_days,
            self._background(),
        )

    def nominal_days(self) -> float:
        return self.spec.build_days.median()

    def _background(self) -> Iterator[BackgroundRequest]:
        ctx = self.ctx
        arrivals = ctx.stream(Entity.TRANSFORMERS, POOL, Purpose.ARRIVALS)
        what = ctx.stream(Entity.TRANSFORMERS, POOL, Purpose.ATTRIBUTES)
        rate = self.spec.background_per_year / DAYS_PER_YEAR
        index = 0
        for times in poisson_blocks(arrivals, rate, 0.0, ctx.horizon_days):
            days = np.maximum(self.spec.build_days.sample_many(what, len(times)), 0.0)
            for arrival, build in zip(times, days.tolist(), strict=True):
                yield BackgroundRequest(arrival, build, "background", f"bg{index}")
                index += 1

    def build_days(self, rng: np.random.Generator) -> float:
        """One transformer's build time, drawn from the orderer's stream."""
        return max(0.0, self.spec.build_days.sample(rng))

    def order(
        self, request_id: str, build_days: float, background: bool = False
    ) -> Generator[simpy.Event, Any, float]:
        """Wait for one transformer; returns the delivery time.

        ``background`` marks orders placed by background requests' upgrades, so
        waits in the records split ours from everyone else's.
        """
        record = yield from self.queue.serve(
            request_id, build_days, kind="upgrade", background=background
        )
        return record.end
