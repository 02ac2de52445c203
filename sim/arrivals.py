"""Background arrival streams: the other projects that load the same queue."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy

__all__ = ["poisson_arrivals"]


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
