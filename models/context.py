"""What every component of a run shares: the clock, the random streams, the calendar.

An explicit, small context replaces reaching into the world: a component is
built with the context and with the few collaborators it really uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import simpy

from paxsim.models.streams import Entity, Purpose, stream_name
from paxsim.sim.calendar import SimCalendar
from paxsim.sim.queues import QueueLog
from paxsim.sim.random import StreamFactory

__all__ = ["SimContext"]


@dataclass(frozen=True, slots=True)
class SimContext:
    env: simpy.Environment
    streams: StreamFactory
    calendar: SimCalendar
    horizon_days: float
    step_days: float
    queue_log: QueueLog

    @classmethod
    def standalone(
        cls,
        seed: int = 1,
        horizon_days: float = 1e5,
        start: dt.date = dt.date(2025, 1, 1),
        step_days: float = 7.0,
    ) -> SimContext:
        """A fresh context for one component on its own (a gate in a test or a notebook)."""
        return cls(
            env=simpy.Environment(),
            streams=StreamFactory(seed),
            calendar=SimCalendar(start),
            horizon_days=horizon_days,
            step_days=step_days,
            queue_log=QueueLog(),
        )

    def stream(
        self, kind: Entity, entity: str, purpose: Purpose, member: str = ""
    ) -> np.random.Generator:
        return self.streams.stream(stream_name(kind, entity, purpose, member))
