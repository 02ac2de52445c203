"""Export licensing on lots that leave a country.

A regime covers an exporting country, a set of materials and a period. Under
``licence`` each shipment queues at the regime's licence desk (reviewers,
review time, other exporters' applications as background load) and may be
denied; under ``ban`` nothing covered may leave; under ``quota`` (the 2010
kind) shipments pass the desk and draw on a yearly export quota, waiting for
the next quota year once it is used up. Domestic shipments and exempt
destinations pass freely.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from paxsim.models.scenario import ExportControl
from paxsim.sim.arrivals import poisson_arrivals
from paxsim.sim.calendar import DAYS_PER_YEAR, SimCalendar
from paxsim.sim.queues import QueueLog, ServiceQueue

__all__ = ["ExportRegime", "ExportRegimes"]


class ExportRegime:
    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        spec: ExportControl,
        calendar: SimCalendar,
        log: QueueLog,
        rng: np.random.Generator,
        background_rng: np.random.Generator,
        horizon_days: float,
    ) -> None:
        self.env = env
        self.name = name
        self.spec = spec
        self.rng = rng
        self.start_day = calendar.to_days(spec.start)
        self.end_day = calendar.to_days(spec.end) if spec.end else float("inf")
        self.materials = frozenset(spec.materials)
        self.exempt = frozenset(spec.exempt_countries)
        self.desk = ServiceQueue(env, f"licence:{name}", spec.reviewers, log)
        self.quota_used = 0.0
        self._quota_year = 0
        self._bg_rng = background_rng
        if spec.mode == "licence" and spec.background_per_year > 0:
            env.process(self._background(horizon_days))

    def _background(self, horizon_days: float) -> Generator[simpy.Event, Any, None]:
        if self.start_day > 0:
            yield self.env.timeout(min(self.start_day, horizon_days))
        yield from poisson_arrivals(
            self.env,
            self.spec.background_per_year / DAYS_PER_YEAR,
            self._bg_rng,
            self._background_application,
            until=min(self.end_day, horizon_days),
        )

    def _background_application(self, index: int) -> None:
        days = max(0.0, self.spec.review_days.sample(self._bg_rng))
        self.desk.submit(f"bg{index}", days, kind="background", background=True)

    def covers(self, origin: str, destination: str, material: str, day: float) -> bool:
        return (
            origin == self.spec.country
            and destination != origin
            and destination not in self.exempt
            and material in self.materials
            and self.start_day <= day < self.end_day
        )

    def apply(
        self, request_id: str, material: str, qty: float = 0.0
    ) -> Generator[simpy.Event, Any, bool]:
        """One shipment's licence; returns True if granted."""
        days = max(0.0, self.spec.review_days.sample(self.rng))
        denied = bool(self.rng.random() < self.spec.denial_probability.sample(self.rng))
        yield from self.desk.serve(
            request_id, days, kind=material, outcome="denied" if denied else "granted"
        )
        return not denied

    def _roll_quota_year(self) -> None:
        year = int((self.env.now - self.start_day) // DAYS_PER_YEAR)
        if year != self._quota_year:
            self._quota_year = year
            self.quota_used = 0.0

    def wait_for_quota(self, qty: float) -> Generator[simpy.Event, Any, None]:
        """Hold a shipment until the year's quota has room for it (quota regimes only).

        A lot larger than a whole year's quota passes at the start of a fresh
        quota year, so nothing waits forever.
        """
        quota = self.spec.quota_per_year
        if quota is None:
            return
        while True:
            self._roll_quota_year()
            if self.quota_used + qty <= quota + 1e-9 or (self.quota_used == 0 and qty > quota):
                self.quota_used += qty
                return
            next_year = self.start_day + (self._quota_year + 1) * DAYS_PER_YEAR
            if next_year >= self.end_day:
                # The regime ends before the quota renews: the lot waits for the end.
                yield self.env.timeout(max(0.0, self.end_day - self.env.now))
                return
            yield self.env.timeout(max(1e-6, next_year - self.env.now))


class ExportRegimes:
    """All regimes; answers 'which regime, if any, governs this shipment now?'."""

    def __init__(self, regimes: list[ExportRegime]) -> None:
        self.regimes = regimes
        self._by_country: dict[str, list[ExportRegime]] = {}
        for r in regimes:
            self._by_country.setdefault(r.spec.country, []).append(r)

    def governing(
        self, origin: str, destination: str, material: str, day: float
    ) -> list[ExportRegime]:
        """Every regime a shipment must pass now, in the order they are listed.

        A regime in force removes the ones it ``supersedes``. If any remaining
        regime is a ban, only the ban is returned (nothing else matters).
        """
        live = [
            r
            for r in self._by_country.get(origin, ())
            if r.covers(origin, destination, material, day)
        ]
        if len(live) > 1:
            gone = {name for r in live for name in r.spec.supersedes}
            live = [r for r in live if r.name not in gone]
        bans = [r for r in live if r.spec.mode == "ban"]
        return bans[:1] if bans else live
