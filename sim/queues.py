"""Queues that record every request's arrival, start, end and outcome.

A :class:`ServiceQueue` is ``c`` parallel servers in front of a FIFO (or
priority) line. Domain code uses it as a gate: a permitting office with
reviewers, a licence desk, a study team. Every request, including background
load, leaves a :class:`~sim.records.QueueRecord`, so waits, utilisation and
Little's law can be checked on the recorded table alone.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pandas as pd
import simpy

from paxsim.sim.records import QueueRecord, records_to_frame

__all__ = ["QueueLog", "ServiceQueue"]


class QueueLog:
    """Collects :class:`QueueRecord` rows from any number of queues."""

    def __init__(self) -> None:
        self.records: list[QueueRecord] = []

    def add(self, record: QueueRecord) -> None:
        self.records.append(record)

    def to_frame(self) -> pd.DataFrame:
        frame = records_to_frame(self.records, QueueRecord._fields)
        if len(frame):
            frame["wait"] = frame["start"] - frame["arrival"]
            frame["service"] = frame["end"] - frame["start"]
        else:
            frame["wait"] = pd.Series(dtype=float)
            frame["service"] = pd.Series(dtype=float)
        return frame


class ServiceQueue:
    """``servers`` parallel servers; ``servers=None`` means unlimited (a pure delay).

    ``serve`` is a SimPy process body: ``yield from queue.serve(...)`` returns
    the record once the request leaves. Lower ``priority`` is served first when
    the queue was created with ``prioritised=True``; ties keep arrival order.
    """

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        servers: int | None,
        log: QueueLog,
        prioritised: bool = False,
    ) -> None:
        if servers is not None and servers < 1:
            raise ValueError(f"queue {name!r}: servers must be >= 1 or None, got {servers}")
        self.env = env
        self.name = name
        self.servers = servers
        self.log = log
        self._resource: simpy.Resource | None
        if servers is None:
            self._resource = None
        elif prioritised:
            self._resource = simpy.PriorityResource(env, capacity=servers)
        else:
            self._resource = simpy.Resource(env, capacity=servers)

    @property
    def in_queue(self) -> int:
        return 0 if self._resource is None else len(self._resource.queue)

    @property
    def in_service(self) -> int:
        return 0 if self._resource is None else self._resource.count

    def serve(
        self,
        request_id: str,
        service_days: float,
        kind: str = "",
        background: bool = False,
        outcome: str = "done",
        priority: int = 0,
    ) -> Generator[simpy.Event, Any, QueueRecord]:
        env = self.env
        arrival = env.now
        if self._resource is None:
            start = arrival
            yield env.timeout(service_days)
        else:
            request = (
                self._resource.request(priority=priority)
                if isinstance(self._resource, simpy.PriorityResource)
                else self._resource.request()
            )
            with request:
                yield request
                start = env.now
                yield env.timeout(service_days)
        record = QueueRecord(
            self.name, request_id, kind, background, arrival, start, env.now, outcome
        )
        self.log.add(record)
        return record

    def submit(
        self,
        request_id: str,
        service_days: float,
        kind: str = "",
        background: bool = True,
        outcome: str = "done",
        on_done: Callable[[QueueRecord], None] | None = None,
    ) -> None:
        """Fire-and-forget: the same passage as :meth:`serve`, driven by callbacks.

        For requests nobody waits on (background load), this skips the process
        a generator would need: two scheduled events fewer per request, which
        matters when thousands of background requests load a gate.
        """
        env = self.env
        arrival = env.now

        def finish(start: float, release: Callable[[], object] | None) -> None:
            if release is not None:
                release()
            record = QueueRecord(
                self.name, request_id, kind, background, arrival, start, env.now, outcome
            )
            self.log.add(record)
            if on_done is not None:
                on_done(record)

        resource = self._resource
        if resource is None:
            env.timeout(service_days).callbacks.append(lambda _ev: finish(arrival, None))
            return
        request = resource.request()

        def granted(_ev: simpy.Event) -> None:
            start = env.now
            done = env.timeout(service_days)
            done.callbacks.append(lambda _e: finish(start, lambda: resource.release(request)))

        request.callbacks.append(granted)
