"""Queues that record every request's arrival, start, end and outcome.

A :class:`ServiceQueue` is ``c`` parallel servers in front of a FIFO (or
priority) line. Domain code uses it as a gate: a permitting office with
reviewers, a licence desk, a study team. Every request, including background
load, leaves a :class:`~sim.records.QueueRecord`, so waits, utilisation and
Little's law can be checked on the recorded table alone.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Generator, Iterator
from typing import Any, NamedTuple

import pandas as pd
import simpy

from paxsim.sim.records import QueueRecord, records_to_frame

__all__ = [
    "CENSORED",
    "RENEGED",
    "BackgroundRequest",
    "KnownServiceQueue",
    "QueueLog",
    "ServiceQueue",
]

#: The outcome of a request still waiting or in service when the run ends.
#: Dropping such requests would bias waits and utilisation low.
CENSORED = "censored"
#: The outcome of a request that gave up waiting (reneged) before service began.
RENEGED = "reneged"
NAN = float("nan")


class QueueLog:
    """Collects :class:`QueueRecord` rows from any number of queues."""

    def __init__(self) -> None:
        self.records: list[QueueRecord] = []

    def add(self, record: QueueRecord) -> None:
        self.records.append(record)

    def to_frame(self) -> pd.DataFrame:
        """One row per request; ``censored`` rows were still waiting or in service at the
        horizon (their ``end``, and ``start`` if still waiting, are NaN)."""
        frame = records_to_frame(self.records, QueueRecord._fields)
        if len(frame):
            frame["wait"] = frame["start"] - frame["arrival"]
            frame["service"] = frame["end"] - frame["start"]
            frame["censored"] = frame["outcome"] == CENSORED
        else:
            frame["wait"] = pd.Series(dtype=float)
            frame["service"] = pd.Series(dtype=float)
            frame["censored"] = pd.Series(dtype=bool)
        return frame


class _Job:
    """A request in a :class:`ServiceQueue`: what it needs and who is told when it leaves."""

    __slots__ = (
        "arrival",
        "background",
        "done",
        "kind",
        "on_done",
        "outcome",
        "reneged",
        "request_id",
        "service_days",
        "started",
    )

    def __init__(
        self,
        request_id: str,
        service_days: float,
        kind: str,
        background: bool,
        outcome: str,
        arrival: float,
        done: simpy.Event | None,
        on_done: Callable[[QueueRecord], None] | None,
    ) -> None:
        self.request_id = request_id
        self.reneged = False
        self.started = False
        self.service_days = service_days
        self.kind = kind
        self.background = background
        self.outcome = outcome
        self.arrival = arrival
        self.done = done
        self.on_done = on_done


class _Queue:
    """What both queue kinds share: a name, servers (None: unlimited) and a log."""

    def __init__(
        self, env: simpy.Environment, name: str, servers: int | None, log: QueueLog
    ) -> None:
        if servers is not None and servers < 1:
            raise ValueError(f"queue {name!r}: servers must be >= 1 or None, got {servers}")
        self.env = env
        self.name = name
        self.servers = servers
        self.log = log


def _background_record(
    queue: str, request: BackgroundRequest, start: float, end: float, horizon: float
) -> QueueRecord:
    """A background request's record; one not finished by the horizon is censored."""
    if end <= horizon:
        return QueueRecord(
            queue, request.request_id, request.kind, True, request.arrival, start, end, "done"
        )
    begun = start if start <= horizon else NAN
    return QueueRecord(
        queue, request.request_id, request.kind, True, request.arrival, begun, NAN, CENSORED
    )


class ServiceQueue(_Queue):
    """``servers`` parallel servers; ``servers=None`` means unlimited (a pure delay).

    ``serve`` is a SimPy process body: ``yield from queue.serve(...)`` returns
    the record once the request leaves. Lower ``priority`` is served first when
    the queue was created with ``prioritised=True``; ties keep arrival order.

    The servers are a counter and the line a heap, not a SimPy resource: a
    request costs one timeout (its service) and, if someone waits on it, one
    event; a freed server starts the next request at once. Same starts and
    ends as ``simpy.Resource`` (checked against it in the tests), at a
    fraction of the cost.
    """

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        servers: int | None,
        log: QueueLog,
        prioritised: bool = False,
    ) -> None:
        super().__init__(env, name, servers, log)
        self.prioritised = prioritised
        self._busy = 0
        self._reneged_in_line = 0  # gave up while waiting; dropped when they reach the head
        self._serving: dict[int, tuple[_Job, float]] = {}  # in service now, with start
        self._line: list[tuple[int, int, _Job]] = []  # (priority, arrival order, job)
        self._order = 0

    @property
    def in_queue(self) -> int:
        return len(self._line) - self._reneged_in_line

    @property
    def in_service(self) -> int:
        return self._busy

    def _arrive(self, job: _Job, priority: int) -> None:
        if self.servers is None or self._busy < self.servers:
            self._start(job)
            return
        self._order += 1
        heapq.heappush(self._line, (priority if self.prioritised else 0, self._order, job))

    def _start(self, job: _Job) -> None:
        self._busy += 1
        env = self.env
        start = env.now
        job.started = True
        self._serving[id(job)] = (job, start)

        def finish(_event: simpy.Event) -> None:
            self._busy -= 1
            del self._serving[id(job)]
            record = self._job_record(job, start, env.now, job.outcome)
            self.log.records.append(record)
            self._start_next()
            if job.done is not None:
                job.done.succeed(record)
            if job.on_done is not None:
                job.on_done(record)

        env.timeout(job.service_days).callbacks.append(finish)

    def _start_next(self) -> None:
        """A server is free: start the first request in line that is still waiting."""
        line = self._line
        while line:
            job = heapq.heappop(line)[2]
            if job.reneged:
                self._reneged_in_line -= 1
                continue
            self._start(job)
            return

    def close(self) -> None:
        """At the horizon: record who is still in service or waiting, as censored."""
        add = self.log.records.append
        for job, start in self._serving.values():
            add(self._job_record(job, start, NAN, CENSORED))
        for _priority, _order, job in sorted(self._line, key=lambda entry: entry[:2]):
            if not job.reneged:
                add(self._job_record(job, NAN, NAN, CENSORED))

    def _job_record(self, job: _Job, start: float, end: float, outcome: str) -> QueueRecord:
        return QueueRecord(
            self.name, job.request_id, job.kind, job.background, job.arrival, start, end, outcome
        )

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
        done = env.event()
        self._arrive(
            _Job(request_id, service_days, kind, background, outcome, env.now, done, None),
            priority,
        )
        record: QueueRecord = yield done
        return record

    def submit(
        self,
        request_id: str,
        service_days: float,
        kind: str = "",
        background: bool = True,
        outcome: str = "done",
        on_done: Callable[[QueueRecord], None] | None = None,
        priority: int = 0,
        patience: float | None = None,
        on_renege: Callable[[QueueRecord], None] | None = None,
    ) -> None:
        """Fire-and-forget: the same passage as :meth:`serve`, driven by callbacks.

        For requests nobody waits on (background load): no process, no event
        beyond the service timeout. With ``patience`` a request that is still
        waiting after that many days leaves the line (its record's outcome is
        ``reneged``, its start NaN) and ``on_renege(record)`` is called instead
        of ``on_done``.
        """
        job = _Job(request_id, service_days, kind, background, outcome, self.env.now, None, on_done)
        waits = not (self.servers is None or self._busy < self.servers)
        self._arrive(job, priority)
        if patience is not None and waits:
            self._renege_after(job, patience, on_renege)

    def _renege_after(
        self, job: _Job, patience: float, on_renege: Callable[[QueueRecord], None] | None
    ) -> None:
        """If ``job`` still waits after ``patience`` days, it leaves the line (reneges)."""
        env = self.env

        def give_up(_event: simpy.Event) -> None:
            if job.started or job.reneged:
                return
            job.reneged = True
            self._reneged_in_line += 1
            record = self._job_record(job, NAN, env.now, RENEGED)
            self.log.records.append(record)
            if on_renege is not None:
                on_renege(record)

        env.timeout(patience).callbacks.append(give_up)


class BackgroundRequest(NamedTuple):
    """One exogenous request: when it arrives, how long it needs, what it is."""

    arrival: float
    service_days: float
    kind: str
    request_id: str


class KnownServiceQueue(_Queue):
    """First come, first served at ``servers`` servers, service time known on arrival.

    For such a queue the start of each request follows from the arrivals
    alone: it starts when it arrives or when the earliest server frees,
    whichever is later (the workload-vector recursion of Kiefer and
    Wolfowitz), so a heap of server-free times replaces the SimPy resource.
    Background load, which nobody waits on, is then pure arithmetic: it is
    read lazily from ``background`` (in arrival order) up to the moment a
    request of ours arrives, and costs no SimPy event at all. Our own requests
    still wait with one timeout each. Records are the same as
    :class:`ServiceQueue`'s (a background request is recorded if it ends by
    ``horizon_days``; ours when they leave).
    """

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        servers: int | None,
        log: QueueLog,
        horizon_days: float = float("inf"),
        background: Iterator[BackgroundRequest] | None = None,
        track_waiting: bool = False,
    ) -> None:
        super().__init__(env, name, servers, log)
        self.horizon_days = horizon_days
        self._free: list[float] = [0.0] * servers if servers is not None else []
        # Starts still ahead of the clock, kept only if someone will ask ``in_queue``.
        self._starts: list[float] | None = [] if track_waiting else None
        self._background = background
        self._next: BackgroundRequest | None = None
        # our requests not yet left: key -> (id, kind, background, arrival, start)
        self._in_flight: dict[int, tuple[str, str, bool, float, float]] = {}
        self._flights = 0
        self._advance()

    # ------------------------------------------------------------------ background
    def _advance(self) -> None:
        source = self._background
        self._next = next(source, None) if source is not None else None

    def catch_up(self, now: float) -> None:
        """Admit every background request that arrived by ``now`` (the hot loop of a run)."""
        nxt = self._next
        if nxt is None or nxt.arrival > now:
            return
        if self.servers is None or self._starts is not None:
            self._catch_up_general(now)
            return
        horizon = self.horizon_days
        add = self.log.records.append
        name = self.name
        free = self._free
        source = self._background
        assert source is not None
        pop, push = heapq.heappop, heapq.heappush
        while nxt is not None and nxt.arrival <= now:
            arrival = nxt.arrival
            first_free = pop(free)
            start = first_free if first_free > arrival else arrival
            end = start + nxt.service_days
            push(free, end)
            add(_background_record(name, nxt, start, end, horizon))
            nxt = next(source, None)
        self._next = nxt

    def _catch_up_general(self, now: float) -> None:
        nxt = self._next
        horizon = self.horizon_days
        add = self.log.records.append
        name = self.name
        while nxt is not None and nxt.arrival <= now:
            start, end = self._admit(nxt.arrival, nxt.service_days)
            add(_background_record(name, nxt, start, end, horizon))
            self._advance()
            nxt = self._next

    def _admit(self, arrival: float, service_days: float) -> tuple[float, float]:
        if self.servers is None:
            return arrival, arrival + service_days
        free = heapq.heappop(self._free)
        start = free if free > arrival else arrival
        end = start + service_days
        heapq.heappush(self._free, end)
        if start > arrival and self._starts is not None:
            heapq.heappush(self._starts, start)
        return start, end

    # ------------------------------------------------------------------ state
    @property
    def in_queue(self) -> int:
        """Requests waiting now (tracked from the first time anyone asks)."""
        now = self.env.now
        if self._starts is None:
            raise RuntimeError(
                f"queue {self.name!r}: create it with track_waiting=True to ask in_queue"
            )
        self.catch_up(now)
        starts = self._starts
        while starts and starts[0] <= now:
            heapq.heappop(starts)
        return len(starts)

    # ------------------------------------------------------------------ our requests
    def serve(
        self,
        request_id: str,
        service_days: float,
        kind: str = "",
        background: bool = False,
        outcome: str = "done",
    ) -> Generator[simpy.Event, Any, QueueRecord]:
        """A SimPy process body, like :meth:`ServiceQueue.serve`; returns the record."""
        done = self.env.event()

        def leave(record: QueueRecord) -> None:
            done.succeed(record)

        self.submit(request_id, service_days, kind, outcome, leave, background)
        record: QueueRecord = yield done
        return record

    def _in_flight_key(
        self, request_id: str, kind: str, background: bool, arrival: float, start: float
    ) -> int:
        self._flights += 1
        self._in_flight[self._flights] = (request_id, kind, background, arrival, start)
        return self._flights

    def submit(
        self,
        request_id: str,
        service_days: float,
        kind: str = "",
        outcome: str = "done",
        on_done: Callable[[QueueRecord], None] | None = None,
        background: bool = False,
    ) -> None:
        """Our request driven by a callback, not a process: ``on_done(record)`` when it leaves.

        ``background`` marks a request placed on behalf of other parties (so
        waits in the records split ours from everyone else's).
        """
        env = self.env
        arrival = env.now
        self.catch_up(arrival)
        start, end = self._admit(arrival, service_days)
        key = self._in_flight_key(request_id, kind, background, arrival, start)

        def leave(_event: simpy.Event) -> None:
            del self._in_flight[key]
            record = QueueRecord(
                self.name, request_id, kind, background, arrival, start, env.now, outcome
            )
            self.log.records.append(record)
            if on_done is not None:
                on_done(record)

        env.timeout(end - arrival).callbacks.append(leave)

    def close(self) -> None:
        """At the horizon: admit the background that arrived before it, and record every
        request still waiting or in service, ours included, as censored."""
        self.catch_up(self.horizon_days)
        horizon = self.horizon_days
        for request_id, kind, background, arrival, start in self._in_flight.values():
            begun = start if start <= horizon else NAN
            self.log.records.append(
                QueueRecord(self.name, request_id, kind, background, arrival, begun, NAN, CENSORED)
            )
