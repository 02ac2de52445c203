"""What every component of a run shares: the clock, the random streams, the calendar.

An explicit, small context replaces reaching into the world: a component is
built with the context and with the few collaborators it really uses.
"""

from __future__ import annotations

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

    def stream(
        self, kind: Entity, entity: str, purpose: Purpose, member: str = ""
    ) -> np.random.Generator:
        return self.streams.stream(stream_name(kind, entity, purpose, member))
