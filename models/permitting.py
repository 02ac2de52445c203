"""Permitting authorities: reviewers in parallel, review times by kind, background load.

A project's application queues for a reviewer (``permit_queue``), is reviewed
(``permit_review``) and may be challenged in court: litigation either adds a
delay or sends the application back to the end of the queue. A statutory
shot clock caps the review time (the permit is deemed granted at the deadline).
"""

from __future__ import annotations

import bisect
from collections.abc import Generator, Iterator
from typing import Any

import numpy as np
import simpy

from paxsim.models.context import SimContext
from paxsim.models.scenario import Authority
from paxsim.models.streams import Entity, Purpose
from paxsim.sim.arrivals import poisson_times
from paxsim.sim.attribution import Milestone
from paxsim.sim.calendar import DAYS_PER_YEAR
from paxsim.sim.distributions import _Dist
from paxsim.sim.queues import BackgroundRequest, KnownServiceQueue

__all__ = ["MAX_CHALLENGES", "PermitOffice"]

#: Court challenges an application can face before it is decided for good.
MAX_CHALLENGES = 5


class PermitOffice:
    """Reviewers in parallel, first come first served; every applicant draws from its own stream.

    Review times are known when an application is filed, so the office is a
    :class:`~paxsim.sim.queues.KnownServiceQueue`: other sponsors'
    applications load the reviewers without costing SimPy events.
    """

    def __init__(self, ctx: SimContext, name: str, spec: Authority) -> None:
        self.ctx = ctx
        self.env = ctx.env
        self.name = name
        self.spec = spec
        kinds = list(spec.background_mix)
        weights = np.asarray([spec.background_mix[k] for k in kinds], dtype=float)
        self._bg_kinds = kinds
        self._bg_cumulative = list(np.cumsum(weights / weights.sum()))
        self.queue = KnownServiceQueue(
            ctx.env,
            f"permit:{name}",
            spec.reviewers,
            ctx.queue_log,
            ctx.horizon_days,
            self._background(),
        )

    def review_dist(self, kind: str) -> _Dist:
        return self.spec.review_days_by_kind.get(kind, self.spec.review_days)

    def nominal_days(self, kind: str) -> float:
        """Review time under the unconstrained plan: the median, no queue, no court."""
        return self._cap(self.review_dist(kind).median())

    def _cap(self, days: float) -> float:
        clock = self.spec.shot_clock_days
        return days if clock is None else min(days, clock)

    def _background(self) -> Iterator[BackgroundRequest]:
        """Other sponsors' applications: Poisson arrivals, each with a kind and a review time."""
        ctx, spec = self.ctx, self.spec
        arrivals = ctx.stream(Entity.PERMIT_OFFICE, self.name, Purpose.ARRIVALS)
        what = ctx.stream(Entity.PERMIT_OFFICE, self.name, Purpose.ATTRIBUTES)
        times = poisson_times(
            arrivals, spec.background_per_year / DAYS_PER_YEAR, 0.0, ctx.horizon_days
        )
        for index, arrival in enumerate(times):
            pick = bisect.bisect_right(self._bg_cumulative, what.random())
            kind = self._bg_kinds[min(pick, len(self._bg_kinds) - 1)]
            days = self._cap(max(0.0, self.review_dist(kind).sample(what)))
            yield BackgroundRequest(arrival, days, kind, f"bg{index}")

    def apply(
        self, request_id: str, kind: str, start: Milestone
    ) -> Generator[simpy.Event, Any, Milestone]:
        """Run one application to a decision; return ``start`` extended by its segments."""
        rng = self.ctx.stream(Entity.PERMIT_OFFICE, self.name, Purpose.APPLICATION, request_id)
        milestone = start
        nominal = self.nominal_days(kind)
        attempt = 0
        while True:
            attempt += 1
            days = self._cap(max(0.0, self.review_dist(kind).sample(rng)))
            # A permit back from court this many times is not challenged again
            # (guards litigation probability 1 with requeue, which never ends).
            challenged = attempt <= MAX_CHALLENGES and (
                rng.random() < self.spec.litigation_probability.sample(rng)
            )
            outcome = "challenged" if challenged else "granted"
            record = yield from self.queue.serve(
                request_id if attempt == 1 else f"{request_id}#{attempt}",
                days,
                kind=kind,
                outcome=outcome,
            )
            milestone = milestone.then("permit_queue", record.start, 0.0, self.name)
            milestone = milestone.then(
                "permit_review", record.end, nominal if attempt == 1 else 0.0, self.name
            )
            if not challenged:
                return milestone
            court_days = max(0.0, self.spec.litigation_days.sample(rng))
            yield self.env.timeout(court_days)
            milestone = milestone.then("litigation", self.env.now, 0.0, self.name)
            if self.spec.litigation_outcome == "delay":
                return milestone
