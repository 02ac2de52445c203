"""Permitting authorities: reviewers in parallel, review times by kind, background load.

A project's application queues for a reviewer (``permit_queue``), is reviewed
(``permit_review``) and may be challenged in court: litigation either adds a
delay or sends the application back to the end of the queue. A statutory
shot clock caps the review time (the permit is deemed granted at the deadline).
"""

from __future__ import annotations

import bisect
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from paxsim.models.scenario import Authority
from paxsim.sim.arrivals import poisson_arrivals
from paxsim.sim.attribution import Milestone
from paxsim.sim.calendar import DAYS_PER_YEAR
from paxsim.sim.distributions import _Dist
from paxsim.sim.queues import QueueLog, ServiceQueue

__all__ = ["PermitOffice"]


class PermitOffice:
    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        spec: Authority,
        log: QueueLog,
        rng: np.random.Generator,
        background_rng: np.random.Generator,
        horizon_days: float,
    ) -> None:
        self.env = env
        self.name = name
        self.spec = spec
        self.rng = rng
        self.queue = ServiceQueue(env, f"permit:{name}", spec.reviewers, log)
        kinds = list(spec.background_mix)
        weights = np.asarray([spec.background_mix[k] for k in kinds], dtype=float)
        self._bg_kinds = kinds
        # A cumulative table and bisect: numpy's choice(p=...) re-validates p on
        # every call, which cost ~45 us per background application.
        self._bg_cumulative = list(np.cumsum(weights / weights.sum()))
        self._bg_rng = background_rng
        env.process(
            poisson_arrivals(
                env,
                spec.background_per_year / DAYS_PER_YEAR,
                background_rng,
                self._background_application,
                until=horizon_days,
            )
        )

    def review_dist(self, kind: str) -> _Dist:
        return self.spec.review_days_by_kind.get(kind, self.spec.review_days)

    def nominal_days(self, kind: str) -> float:
        """Review time under the unconstrained plan: the median, no queue, no court."""
        return self._cap(self.review_dist(kind).median())

    def _cap(self, days: float) -> float:
        clock = self.spec.shot_clock_days
        return days if clock is None else min(days, clock)

    def _background_application(self, index: int) -> None:
        pick = bisect.bisect_right(self._bg_cumulative, self._bg_rng.random())
        kind = self._bg_kinds[min(pick, len(self._bg_kinds) - 1)]
        days = self._cap(max(0.0, self.review_dist(kind).sample(self._bg_rng)))
        self.queue.submit(f"bg{index}", days, kind=kind, background=True)

    def apply(
        self, request_id: str, kind: str, start: Milestone
    ) -> Generator[simpy.Event, Any, Milestone]:
        """Run one application to a decision; return ``start`` extended by its segments."""
        milestone = start
        nominal = self.nominal_days(kind)
        attempt = 0
        while True:
            attempt += 1
            days = self._cap(max(0.0, self.review_dist(kind).sample(self.rng)))
            challenged = self.rng.random() < self.spec.litigation_probability.sample(self.rng)
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
            court_days = max(0.0, self.spec.litigation_days.sample(self.rng))
            yield self.env.timeout(court_days)
            milestone = milestone.then("litigation", self.env.now, 0.0, self.name)
            if self.spec.litigation_outcome == "delay":
                return milestone
