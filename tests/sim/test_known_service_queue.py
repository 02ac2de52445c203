"""KnownServiceQueue: the same passage as a SimPy FCFS resource, without the events."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest
import simpy

from paxsim.sim.arrivals import poisson_times
from paxsim.sim.queues import (
    CENSORED,
    BackgroundRequest,
    KnownServiceQueue,
    QueueLog,
    ServiceQueue,
)


def _requests(seed: int, n: int, lam: float, mu: float) -> list[BackgroundRequest]:
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.exponential(1 / lam, n))
    services = rng.exponential(1 / mu, n)
    return [
        BackgroundRequest(float(t), float(s), "bg", f"r{i}")
        for i, (t, s) in enumerate(zip(times, services, strict=True))
    ]


def _simpy_records(reqs: list[BackgroundRequest], c: int) -> dict[str, tuple[float, float]]:
    env = simpy.Environment()
    log = QueueLog()
    queue = ServiceQueue(env, "q", c, log)

    def feeder():  # type: ignore[no-untyped-def]
        for r in reqs:
            yield env.timeout(r.arrival - env.now)
            env.process(queue.serve(r.request_id, r.service_days))

    env.process(feeder())
    env.run()
    return {rec.request_id: (rec.start, rec.end) for rec in log.records}


@pytest.mark.parametrize("servers", [1, 3])
@pytest.mark.parametrize("ours_every", [0, 2, 5])
def test_same_starts_and_ends_as_a_simpy_resource(servers: int, ours_every: int) -> None:
    """Background read lazily and our own requests mixed in: identical to SimPy, to rounding."""
    reqs = _requests(7, 2000, lam=0.8 * servers, mu=1.0)
    expected = _simpy_records(reqs, servers)
    ours = [r for i, r in enumerate(reqs) if ours_every and i % ours_every == 0]
    background = iter([r for r in reqs if r not in ours])
    env = simpy.Environment()
    log = QueueLog()
    queue = KnownServiceQueue(env, "q", servers, log, background=background)

    def feeder():  # type: ignore[no-untyped-def]
        for r in ours:
            yield env.timeout(r.arrival - env.now)
            env.process(queue.serve(r.request_id, r.service_days))

    env.process(feeder())
    env.run()
    queue.close()
    got = {rec.request_id: (rec.start, rec.end) for rec in log.records}
    assert got.keys() == expected.keys()
    for rid, (start, end) in expected.items():
        assert got[rid][0] == pytest.approx(start, abs=1e-9)
        assert got[rid][1] == pytest.approx(end, abs=1e-9)
    assert sum(r.background for r in log.records) == len(reqs) - len(ours)


def test_background_waits_are_recorded_not_zero() -> None:
    reqs = _requests(3, 500, lam=0.9, mu=1.0)
    log = QueueLog()
    queue = KnownServiceQueue(simpy.Environment(), "q", 1, log, background=iter(reqs))
    queue.close()
    waits = [r.wait for r in log.records]
    assert len(waits) == 500
    assert max(waits) > 1.0
    assert all(w >= 0 for w in waits)


def _mm(lam: float, mu: float, c: int, n: int, seed: int) -> Iterator[BackgroundRequest]:
    rng = np.random.default_rng(seed)
    for i, t in enumerate(poisson_times(rng, lam)):
        if i >= n:
            return
        yield BackgroundRequest(t, float(rng.exponential(1 / mu)), "bg", str(i))


def _erlang_c_wq(lam: float, mu: float, c: int) -> float:
    a = lam / mu
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


@pytest.mark.parametrize(("lam", "mu", "c"), [(0.8, 1.0, 1), (2.1, 1.0, 3)])
def test_mean_wait_matches_erlang_c(lam: float, mu: float, c: int) -> None:
    """Mean wait over 8 independent runs of 40,000 customers, a 95 % interval around theory."""
    means = []
    for seed in range(8):
        log = QueueLog()
        queue = KnownServiceQueue(
            simpy.Environment(), "q", c, log, background=_mm(lam, mu, c, 40_000, seed)
        )
        queue.close()
        waits = np.array([r.wait for r in log.records[4000:]])  # drop warm-up
        means.append(waits.mean())
    m, s = float(np.mean(means)), float(np.std(means, ddof=1))
    half = 2.365 * s / math.sqrt(len(means))
    assert abs(m - _erlang_c_wq(lam, mu, c)) < max(half, 0.03 * _erlang_c_wq(lam, mu, c))


def test_in_queue_counts_requests_waiting_now() -> None:
    env = simpy.Environment()
    reqs = [BackgroundRequest(0.0, 10.0, "bg", f"r{i}") for i in range(4)]
    queue = KnownServiceQueue(env, "q", 1, QueueLog(), background=iter(reqs), track_waiting=True)
    assert queue.in_queue == 3
    env.run(until=25)
    assert queue.in_queue == 1


def test_unlimited_servers_never_wait_and_unfinished_are_censored_at_the_horizon() -> None:
    reqs = [BackgroundRequest(float(i), 5.0, "bg", f"r{i}") for i in range(10)]
    log = QueueLog()
    queue = KnownServiceQueue(simpy.Environment(), "q", None, log, 8.0, iter(reqs))
    queue.close()
    done = [r for r in log.records if r.outcome != CENSORED]
    assert [r.request_id for r in done] == ["r0", "r1", "r2", "r3"]
    assert all(r.wait == 0 for r in done)
    censored = [r for r in log.records if r.outcome == CENSORED]
    # arrived by the horizon (day 8) but not finished: recorded, end unknown
    assert [r.request_id for r in censored] == ["r4", "r5", "r6", "r7", "r8"]
    assert all(math.isnan(r.end) and r.start == r.arrival for r in censored)


def test_censored_requests_of_both_queue_kinds_at_the_horizon() -> None:
    env = simpy.Environment()
    log = QueueLog()
    studies = ServiceQueue(env, "s", 1, log)
    desk = KnownServiceQueue(env, "d", 1, log, 15.0)
    for i in range(3):
        studies.submit(f"s{i}", 10.0)
        env.process(desk.serve(f"d{i}", 10.0))
    env.run(until=15.0)
    studies.close()
    desk.close()
    frame = log.to_frame()
    assert frame["censored"].sum() == 4  # s1 in service, s2 waiting; d1 in service, d2 waiting
    waiting = frame[frame["censored"] & frame["start"].isna()]
    assert sorted(waiting["request_id"]) == ["d2", "s2"]
    assert frame.loc[~frame["censored"], "end"].notna().all()


def test_a_request_that_waits_longer_than_its_patience_reneges() -> None:
    from paxsim.sim.queues import RENEGED

    env = simpy.Environment()
    log = QueueLog()
    queue = ServiceQueue(env, "q", 1, log)
    gave_up: list[str] = []
    served: list[str] = []
    queue.submit("first", 10.0, on_done=lambda r: served.append(r.request_id))
    for name, patience in (("impatient", 4.0), ("patient", 50.0)):
        queue.submit(
            name,
            10.0,
            patience=patience,
            on_done=lambda r: served.append(r.request_id),
            on_renege=lambda r: gave_up.append(r.request_id),
        )
    env.run(until=5.0)
    assert gave_up == ["impatient"] and queue.in_queue == 1
    env.run()
    assert served == ["first", "patient"]
    frame = log.to_frame().set_index("request_id")
    assert frame.loc["impatient", "outcome"] == RENEGED
    assert frame.loc["impatient", "end"] == 4.0 and np.isnan(frame.loc["impatient", "start"])
    assert frame.loc["patient", "start"] == 10.0  # the reneged one no longer holds its place
