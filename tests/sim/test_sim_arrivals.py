"""Poisson background arrivals."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import pytest
import simpy
from scipy import stats

from paxsim.sim.arrivals import poisson_arrivals
from paxsim.sim.random import StreamFactory, StreamName


def collect(
    rate: float, until: float, seed: int = 1, run_until: float | None = None
) -> list[tuple[int, float]]:
    env = simpy.Environment()
    seen: list[tuple[int, float]] = []

    def on_arrival(i: int) -> Generator[simpy.Event, Any, None]:
        seen.append((i, env.now))
        yield env.timeout(0)

    env.process(
        poisson_arrivals(
            env,
            rate,
            StreamFactory(seed).stream(StreamName("test", "bg", "draws")),
            on_arrival,
            until=until,
        )
    )
    env.run(until=run_until)
    return seen


@pytest.mark.parametrize("rate", [0.0, -1.0])
def test_zero_or_negative_rate_yields_nothing(rate: float) -> None:
    env = simpy.Environment()
    proc = env.process(
        poisson_arrivals(env, rate, np.random.default_rng(0), lambda i: iter(()), until=100.0)
    )
    env.run()
    assert proc.triggered
    assert env.now == 0.0


def test_indices_are_consecutive_and_times_increase() -> None:
    seen = collect(2.0, 100.0)
    assert [i for i, _ in seen] == list(range(len(seen)))
    times = np.array([t for _, t in seen])
    assert np.all(np.diff(times) > 0)
    assert times[0] > 0.0
    assert times[-1] <= 100.0


def test_no_arrival_after_until_and_generator_stops() -> None:
    env = simpy.Environment()
    arrived: list[float] = []

    def on_arrival(i: int) -> Generator[simpy.Event, Any, None]:
        arrived.append(env.now)
        yield env.timeout(0)

    proc = env.process(poisson_arrivals(env, 5.0, np.random.default_rng(3), on_arrival, until=10.0))
    env.run()
    assert proc.triggered  # it returned instead of running forever
    assert len(arrived) > 0
    assert max(arrived) <= 10.0
    assert env.now <= 10.0


def test_count_matches_rate_times_horizon() -> None:
    rate, until = 2.0, 5_000.0
    n = len(collect(rate, until, seed=4))
    # Poisson(10,000): sd = 100
    assert abs(n - rate * until) < 4 * np.sqrt(rate * until)


def test_gaps_are_exponential() -> None:
    rate = 0.25
    times = np.array([t for _, t in collect(rate, 40_000.0, seed=5)])
    gaps = np.diff(np.concatenate([[0.0], times]))
    assert gaps.mean() == pytest.approx(1 / rate, rel=0.05)
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, abs=0.05)
    assert stats.kstest(gaps, "expon", args=(0, 1 / rate)).pvalue > 0.001


def test_counts_in_disjoint_windows_are_poisson() -> None:
    times = np.array([t for _, t in collect(3.0, 2_000.0, seed=6)])
    counts = np.histogram(times, bins=np.arange(0.0, 2_001.0, 1.0))[0]
    assert counts.mean() == pytest.approx(3.0, rel=0.05)
    assert counts.var(ddof=1) / counts.mean() == pytest.approx(1.0, abs=0.12)  # dispersion
    # independent increments: neighbouring windows uncorrelated
    assert abs(np.corrcoef(counts[:-1], counts[1:])[0, 1]) < 0.1


def test_reproducible_and_seed_dependent() -> None:
    assert collect(1.0, 200.0, seed=9) == collect(1.0, 200.0, seed=9)
    assert collect(1.0, 200.0, seed=9) != collect(1.0, 200.0, seed=10)


def test_unbounded_stream_runs_until_the_environment_stops() -> None:
    seen = collect(1.0, float("inf"), seed=2, run_until=500.0)
    assert len(seen) == pytest.approx(500, abs=4 * np.sqrt(500))


def test_arrival_processes_really_run() -> None:
    env = simpy.Environment()
    finished: list[float] = []

    def on_arrival(i: int) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(10.0)
        finished.append(env.now)

    env.process(poisson_arrivals(env, 1.0, np.random.default_rng(7), on_arrival, until=20.0))
    env.run()
    assert finished
    assert max(finished) <= 30.0
    assert min(finished) >= 10.0


def test_piecewise_poisson_follows_its_rate_path() -> None:
    from paxsim.sim.arrivals import piecewise_poisson_times

    rng = np.random.default_rng(5)
    steps = [(float("-inf"), 0.0), (-50.0, 1.0), (1000.0, 4.0), (2000.0, 0.0)]
    times = np.array(list(piecewise_poisson_times(rng, steps, 3000.0)))
    assert times.min() >= 0.0 and (np.diff(times) > 0).all()
    first = ((times >= 0) & (times < 1000)).sum()
    second = ((times >= 1000) & (times < 2000)).sum()
    assert abs(first - 1000) < 4 * 1000**0.5  # the step that began before day 0 applies
    assert abs(second - 4000) < 4 * 4000**0.5
    assert (times >= 2000).sum() == 0
