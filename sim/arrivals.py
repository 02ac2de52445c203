"""Background arrival streams: the other projects that load the same queue."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any

import numpy as np
import simpy

__all__ = ["piecewise_poisson_times", "poisson_arrivals", "poisson_blocks", "poisson_times"]


def poisson_arrivals(
    env: simpy.Environment,
    rate_per_day: float,
    rng: np.random.Generator,
    on_arrival: Callable[[int], Generator[simpy.Event, Any, Any] | None],
    until: float = float("inf"),
) -> Generator[simpy.Event, Any, None]:
    """Call ``on_arrival(i)`` at Poisson times until ``until``.

    If it returns a generator, that runs as a new process; a callback that
    only schedules events (see :meth:`sim.queues.ServiceQueue.submit`) returns
    None and costs no process. A zero rate yields nothing, so callers need not
    special-case it.
    """
    if rate_per_day <= 0:
        return
    mean_gap = 1.0 / rate_per_day
    index = 0
    while True:
        gap = float(rng.exponential(mean_gap))
        if env.now + gap > until:
            return
        yield env.timeout(gap)
        body = on_arrival(index)
        if body is not None:
            env.process(body)
        index += 1


def poisson_blocks(
    rng: np.random.Generator,
    rate_per_day: float,
    start: float = 0.0,
    until: float = float("inf"),
    block: int = 256,
) -> Iterator[list[float]]:
    """Arrival times of a Poisson stream on ``[start, until)``, a block (list) at a time.

    No SimPy events: a gate whose service times are known on arrival consumes
    these lazily (see :class:`sim.queues.KnownServiceQueue`). Blocks are a fixed
    size, so the times depend only on the stream, never on who reads them when.
    """
    if rate_per_day <= 0 or start >= until:
        return
    mean_gap = 1.0 / rate_per_day
    now = start
    while True:
        times = now + np.cumsum(rng.exponential(mean_gap, size=block))
        now = float(times[-1])
        if now >= until:
            kept = times[times < until].tolist()
            if kept:
                yield kept
            return
        yield times.tolist()


def piecewise_poisson_times(
    rng: np.random.Generator,
    steps: list[tuple[float, float]],
    until: float,
    block: int = 256,
) -> Iterator[float]:
    """Arrival times of a Poisson stream whose rate (per day) changes at given days.

    ``steps`` is ``[(from_day, rate_per_day), ...]`` in time order; each rate
    holds until the next step's day (the last until ``until``). One stream is
    read throughout, segment after segment, so the times depend only on the
    stream and the path.
    """
    for i, (start, rate) in enumerate(steps):
        end = steps[i + 1][0] if i + 1 < len(steps) else until
        if end > 0.0:  # a segment wholly before the run has no arrivals in it
            yield from poisson_times(rng, rate, max(0.0, start), min(end, until), block)


def poisson_times(
    rng: np.random.Generator,
    rate_per_day: float,
    start: float = 0.0,
    until: float = float("inf"),
    block: int = 256,
) -> Iterator[float]:
    """The same times as :func:`poisson_blocks`, one at a time."""
    for times in poisson_blocks(rng, rate_per_day, start, until, block):
        yield from times
