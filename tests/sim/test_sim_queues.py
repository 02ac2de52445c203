"""ServiceQueue: recorded fields, FIFO and priority order, pure delay, invariants."""

from __future__ import annotations

from collections.abc import Generator
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from paxsim.sim.arrivals import poisson_arrivals
from paxsim.sim.queues import QueueLog, ServiceQueue
from paxsim.sim.random import StreamFactory, StreamName
from paxsim.sim.records import QueueRecord


def submit(
    env: simpy.Environment, queue: ServiceQueue, at: float, rid: str, days: float, **kw: Any
) -> simpy.Process:
    def body() -> Generator[simpy.Event, Any, QueueRecord]:
        if at > env.now:
            yield env.timeout(at - env.now)
        record = yield from queue.serve(rid, days, **kw)
        return record

    return env.process(body())


def test_record_fields() -> None:
    env = simpy.Environment()
    log = QueueLog()
    q = ServiceQueue(env, "permits:EPA", 1, log)
    first = submit(env, q, 0.0, "dc1", 3.0, kind="nepa", outcome="approved")
    second = submit(env, q, 1.0, "bg7", 2.0, kind="bg", background=True)
    env.run()
    assert first.value == QueueRecord(
        "permits:EPA", "dc1", "nepa", False, 0.0, 0.0, 3.0, "approved"
    )
    assert second.value == QueueRecord("permits:EPA", "bg7", "bg", True, 1.0, 3.0, 5.0, "done")
    assert log.records == [first.value, second.value]  # logged on leaving, in order
    assert second.value.wait == 2.0
    assert second.value.service == 2.0


def test_to_frame_adds_wait_and_service() -> None:
    env = simpy.Environment()
    log = QueueLog()
    q = ServiceQueue(env, "desk", 1, log)
    for i, at in enumerate([0.0, 0.5, 0.6]):
        submit(env, q, at, f"r{i}", 1.0)
    env.run()
    frame = log.to_frame()
    assert list(frame.columns) == [*QueueRecord._fields, "wait", "service", "censored"]
    assert not frame["censored"].any()
    assert frame["wait"].tolist() == pytest.approx([0.0, 0.5, 1.4])
    assert frame["service"].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert frame["background"].dtype == bool


def test_empty_log_frame_has_the_columns() -> None:
    frame = QueueLog().to_frame()
    assert len(frame) == 0
    assert {*QueueRecord._fields, "wait", "service"} <= set(frame.columns)
    assert frame["wait"].dtype == float


def test_single_server_is_fifo() -> None:
    env = simpy.Environment()
    log = QueueLog()
    q = ServiceQueue(env, "desk", 1, log)
    for i in range(6):
        submit(env, q, 0.1 * i, f"r{i}", 1.0 + (5 - i) * 0.1)
    env.run()
    starts = {r.request_id: r.start for r in log.records}
    assert sorted(starts, key=starts.__getitem__) == [f"r{i}" for i in range(6)]
    # back to back: each starts when the previous one ends
    recs = sorted(log.records, key=lambda r: r.start)
    for a, b in pairwise(recs):
        assert b.start == pytest.approx(a.end)


def test_c_servers_work_in_parallel() -> None:
    env = simpy.Environment()
    log = QueueLog()
    q = ServiceQueue(env, "team", 2, log)
    for i in range(5):
        submit(env, q, 0.0, f"r{i}", 10.0)
    env.run()
    starts = sorted(r.start for r in log.records)
    assert starts == [0.0, 0.0, 10.0, 10.0, 20.0]
    assert env.now == 30.0


def test_same_time_arrivals_keep_submission_order() -> None:
    env = simpy.Environment()
    log = QueueLog()
    q = ServiceQueue(env, "desk", 1, log)
    for i in range(5):
        submit(env, q, 2.0, f"r{i}", 1.0)
    env.run()
    assert [r.request_id for r in log.records] == [f"r{i}" for i in range(5)]


def test_unlimited_servers_is_a_pure_delay() -> None:
    env = simpy.Environment()
    log = QueueLog()
    q = ServiceQueue(env, "study", None, log)
    for i in range(50):
        submit(env, q, 0.5 * (i % 3), f"r{i}", 7.0)
    env.run()
    assert len(log.records) == 50
    for r in log.records:
        assert r.start == r.arrival
        assert r.end == pytest.approx(r.arrival + 7.0)
    assert q.in_queue == 0
    assert q.in_service == 0
    assert env.now == pytest.approx(8.0)


def test_priority_queue_serves_lower_priority_first() -> None:
    env = simpy.Environment()
    log = QueueLog()
    q = ServiceQueue(env, "desk", 1, log, prioritised=True)
    submit(env, q, 0.0, "busy", 10.0, priority=9)  # occupies the server
    for i, prio in enumerate([5, 1, 3, 1, 0, 5]):
        submit(env, q, 1.0 + i, f"p{prio}-{i}", 1.0, priority=prio)
    env.run()
    order = [r.request_id for r in sorted(log.records, key=lambda r: r.start)]
    # ties (two 1s, two 5s) keep arrival order
    assert order == ["busy", "p0-4", "p1-1", "p1-3", "p3-2", "p5-0", "p5-5"]


def test_priority_ties_at_the_same_instant_keep_submission_order() -> None:
    env = simpy.Environment()
    log = QueueLog()
    q = ServiceQueue(env, "desk", 1, log, prioritised=True)
    submit(env, q, 0.0, "busy", 1.0, priority=0)
    for i, prio in enumerate([2, 1, 2, 1, 2]):
        submit(env, q, 0.5, f"r{i}", 1.0, priority=prio)
    env.run()
    order = [r.request_id for r in sorted(log.records, key=lambda r: r.start)]
    assert order == ["busy", "r1", "r3", "r0", "r2", "r4"]


def test_priority_does_not_preempt() -> None:
    env = simpy.Environment()
    log = QueueLog()
    q = ServiceQueue(env, "desk", 1, log, prioritised=True)
    low = submit(env, q, 0.0, "low", 5.0, priority=10)
    submit(env, q, 1.0, "urgent", 1.0, priority=-10)
    env.run()
    assert low.value.end == 5.0
    assert log.records[1].start == 5.0


def test_priority_is_ignored_by_a_fifo_queue() -> None:
    env = simpy.Environment()
    log = QueueLog()
    q = ServiceQueue(env, "desk", 1, log)
    submit(env, q, 0.0, "busy", 10.0)
    for i, prio in enumerate([5, 1, 3]):
        submit(env, q, 1.0 + i, f"r{i}", 1.0, priority=prio)
    env.run()
    assert [r.request_id for r in sorted(log.records, key=lambda r: r.start)] == [
        "busy",
        "r0",
        "r1",
        "r2",
    ]


def test_in_queue_and_in_service_counters() -> None:
    env = simpy.Environment()
    q = ServiceQueue(env, "team", 2, QueueLog())
    for i in range(5):
        submit(env, q, 0.0, f"r{i}", 4.0)
    seen: list[tuple[float, int, int]] = []

    def probe() -> Generator[simpy.Event, Any, None]:
        for t in (1.0, 5.0, 9.0, 13.0):
            yield env.timeout(t - env.now)
            seen.append((t, q.in_service, q.in_queue))

    env.process(probe())
    env.run()
    assert seen == [(1.0, 2, 3), (5.0, 2, 1), (9.0, 1, 0), (13.0, 0, 0)]


@pytest.mark.parametrize("servers", [0, -1])
def test_bad_server_count_rejected(servers: int) -> None:
    with pytest.raises(ValueError, match="servers must be >= 1"):
        ServiceQueue(simpy.Environment(), "bad", servers, QueueLog())


def test_queues_can_share_a_log() -> None:
    env = simpy.Environment()
    log = QueueLog()
    a = ServiceQueue(env, "a", 1, log)
    b = ServiceQueue(env, "b", None, log)
    submit(env, a, 0.0, "x", 2.0)
    submit(env, b, 0.0, "y", 1.0)
    env.run()
    frame = log.to_frame()
    assert sorted(frame["gate"]) == ["a", "b"]


def test_negative_service_time_is_an_error() -> None:
    env = simpy.Environment()
    q = ServiceQueue(env, "desk", 1, QueueLog())
    submit(env, q, 0.0, "x", -1.0)
    with pytest.raises(ValueError):
        env.run()


# --------------------------------------------------------------------------- properties
def run_mmc(lam: float, mu: float, c: int, seed: int, until: float) -> pd.DataFrame:
    f = StreamFactory(seed)
    svc = f.stream(StreamName("test", "service", "draws"))
    env = simpy.Environment()
    log = QueueLog()
    q = ServiceQueue(env, "prop", c, log)
    env.process(
        poisson_arrivals(
            env,
            lam,
            f.stream(StreamName("test", "arrivals", "draws")),
            lambda i: q.serve(f"r{i}", float(svc.exponential(1 / mu))),
            until=until,
        )
    )
    env.run(until=until)  # stop mid-run: some requests are still queued or in service
    return log.to_frame()


def busy_profile(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Times and the number in service just after each, from the start/end columns."""
    times = np.concatenate([frame["start"], frame["end"]])
    steps = np.concatenate([np.ones(len(frame)), -np.ones(len(frame))])
    order = np.lexsort((steps, times))  # at equal times, a departure frees the server first
    return times[order], np.cumsum(steps[order])


@settings(max_examples=40, deadline=None, database=None)
@given(
    c=st.integers(1, 6),
    rho=st.floats(0.05, 0.95),
    mu=st.floats(0.05, 5.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_queue_invariants_under_random_load(c: int, rho: float, mu: float, seed: int) -> None:
    lam = rho * c * mu
    until = 300.0 / lam  # about 300 arrivals
    frame = run_mmc(lam, mu, c, seed, until)
    if frame.empty:
        return
    assert (frame["wait"] >= 0).all()
    assert (frame["service"] >= 0).all()
    assert (frame["end"] <= until).all()
    # utilisation over [0, until] never exceeds 1
    busy = frame["service"].sum()
    assert busy / (c * until) <= 1.0 + 1e-9
    # never more than c in service at once
    _, in_service = busy_profile(frame)
    assert in_service.max() <= c
    # FIFO: service starts in arrival order
    ordered = frame.sort_values(["arrival", "start"])
    assert ordered["start"].is_monotonic_increasing
    # work-conserving: whoever waited started the moment someone else finished
    ends = set(frame["end"])
    waited = frame[frame["wait"] > 0]
    assert all(s in ends for s in waited["start"])
