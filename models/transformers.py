"""Large power transformers: finite factory capacity with a backlog of orders.

Every order, ours and the background's, takes the next free slot on the
production line (``units_per_year``: one unit every ``365.25 / units_per_year``
days, first come first served) and is delivered ``build_days`` after its slot
begins. The lead time is the wait for a slot plus manufacture, so it comes out
of orders against capacity: short when the line is idle (12–18 months before
2020), long behind a backlog (30–48 months now). The older form,
``factory_slots`` orders built in parallel for ``build_days`` each, is kept
for scenarios that use it.

The pool is shared by every grid region: it may couple their outcomes (a
region that orders more lengthens everyone's wait), never their draws. Slot
and build times are known when an order is placed, so the line is a
:class:`~paxsim.sim.queues.KnownServiceQueue` and background orders cost no
SimPy events; each of our orders brings the build time drawn from the ordering
request's own stream.
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
from paxsim.sim.records import QueueRecord

__all__ = ["TransformerFactory"]

POOL = "pool"


class TransformerFactory:
    def __init__(self, ctx: SimContext, spec: TransformerSupply) -> None:
        self.ctx = ctx
        self.env = ctx.env
        self.spec = spec
        #: Days of line capacity one unit takes (None: the parallel-slots form).
        self.slot_days = DAYS_PER_YEAR / spec.units_per_year if spec.units_per_year else None
        self.queue = KnownServiceQueue(
            ctx.env,
            "transformers",
            1 if self.slot_days is not None else spec.factory_slots,
            ctx.queue_log,
            ctx.horizon_days,
            self._background(),
        )

    def nominal_days(self) -> float:
        """Lead time with an idle line: the slot (if any) plus manufacture."""
        return (self.slot_days or 0.0) + self.spec.build_days.median()

    def _occupancy(self, build_days: float) -> float:
        """How long an order holds the line: its slot, or a whole parallel build."""
        return self.slot_days if self.slot_days is not None else build_days

    def _background(self) -> Iterator[BackgroundRequest]:
        ctx = self.ctx
        arrivals = ctx.stream(Entity.TRANSFORMERS, POOL, Purpose.ARRIVALS)
        what = ctx.stream(Entity.TRANSFORMERS, POOL, Purpose.ATTRIBUTES)
        backlog = ctx.stream(Entity.TRANSFORMERS, POOL, Purpose.BACKLOG)
        for index in range(self.spec.initial_backlog):
            days = max(0.0, self.spec.build_days.sample(backlog))
            yield BackgroundRequest(0.0, self._occupancy(days), "backlog", f"backlog{index}")
        rate = self.spec.background_per_year / DAYS_PER_YEAR
        index = 0
        for times in poisson_blocks(arrivals, rate, 0.0, ctx.horizon_days):
            days = np.maximum(self.spec.build_days.sample_many(what, len(times)), 0.0)
            for arrival, build in zip(times, days.tolist(), strict=True):
                yield BackgroundRequest(arrival, self._occupancy(build), "background", f"bg{index}")
                index += 1

    def build_days(self, rng: np.random.Generator) -> float:
        """One transformer's manufacturing time, drawn from the orderer's stream."""
        return max(0.0, self.spec.build_days.sample(rng))

    def delivery(self, request_id: str, build_days: float, background: bool = False) -> simpy.Event:
        """An event that fires on the delivery day, with that day as its value.

        The same passage as :meth:`order`, driven by callbacks: an upgrade
        waiting on several transformers needs no process for each.
        """
        env = self.env
        delivered = env.event()

        def slot_done(record: QueueRecord) -> None:
            if self.slot_days is None:
                delivered.succeed(record.end)
                return
            day = record.start + build_days
            if day <= env.now:
                delivered.succeed(day)
                return

            def arrive(_event: simpy.Event) -> None:
                delivered.succeed(day)

            env.timeout(day - env.now).callbacks.append(arrive)

        self.queue.submit(
            request_id,
            self._occupancy(build_days),
            kind="upgrade",
            on_done=slot_done,
            background=background,
        )
        return delivered

    def order(
        self, request_id: str, build_days: float, background: bool = False
    ) -> Generator[simpy.Event, Any, float]:
        """Wait for one transformer; returns the delivery time.

        ``background`` marks orders placed by background requests' upgrades, so
        waits in the records split ours from everyone else's.
        """
        delivered: float = yield self.delivery(request_id, build_days, background)
        return delivered
