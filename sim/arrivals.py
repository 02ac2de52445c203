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
    on_arrival: Callable[[int], Generator[simpy.Event, Any, Any]],
    until: float = float("inf"),
) -> Generator[simpy.Event, Any, None]:
    """Start ``on_arrival(i)`` as a new process at Poisson times until ``until``.

    A zero rate yields nothing, so callers need not special-case it.
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
        env.process(on_arrival(index))
        index += 1
