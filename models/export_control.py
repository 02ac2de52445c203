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

import bisect
from collections.abc import Callable, Generator, Iterator
from typing import Any

import numpy as np
import simpy

from paxsim.models.context import SimContext
from paxsim.models.scenario import ExportControl
from paxsim.models.streams import Entity, Purpose
from paxsim.sim.arrivals import poisson_blocks
from paxsim.sim.calendar import DAYS_PER_YEAR
from paxsim.sim.queues import BackgroundRequest, KnownServiceQueue

__all__ = ["ExportRegime", "ExportRegimes"]


class ExportRegime:
    def __init__(self, ctx: SimContext, name: str, spec: ExportControl) -> None:
        self.ctx = ctx
        self.env = ctx.env
        self.name = name
        self.spec = spec
        calendar = ctx.calendar
        self.start_day = calendar.to_days(spec.start)
        self.end_day = calendar.to_days(spec.end) if spec.end else float("inf")
        self.materials = frozenset(spec.materials)
        self.exempt = frozenset(spec.exempt_countries)
        background = (
            self._background() if spec.mode == "licence" and spec.background_per_year > 0 else None
        )
        # Review times are known on filing, so other exporters' applications load
        # the desk as arithmetic, not SimPy events (they were 43 % of all events).
        self.desk = KnownServiceQueue(
            ctx.env, f"licence:{name}", spec.reviewers, ctx.queue_log, ctx.horizon_days, background
        )
        self.quota_used = 0.0
        self._quota_year = 0
        self._applicants: dict[str, np.random.Generator] = {}

    def _background(self) -> Iterator[BackgroundRequest]:
        """Other exporters' applications while the regime is in force."""
        ctx = self.ctx
        arrivals = ctx.stream(Entity.LICENCE_DESK, self.name, Purpose.ARRIVALS)
        what = ctx.stream(Entity.LICENCE_DESK, self.name, Purpose.ATTRIBUTES)
        rate = self.spec.background_per_year / DAYS_PER_YEAR
        start = max(0.0, self.start_day)
        until = min(self.end_day, ctx.horizon_days)
        index = 0
        for times in poisson_blocks(arrivals, rate, start, until):
            days = np.maximum(self.spec.review_days.sample_many(what, len(times)), 0.0)
            for arrival, review in zip(times, days.tolist(), strict=True):
                yield BackgroundRequest(arrival, review, "background", f"bg{index}")
                index += 1

    def covers(self, origin: str, destination: str, material: str, day: float) -> bool:
        return (
            origin == self.spec.country
            and destination != origin
            and destination not in self.exempt
            and material in self.materials
            and self.start_day <= day < self.end_day
        )

    def apply(
        self, request_id: str, material: str, qty: float = 0.0, applicant: str = ""
    ) -> Generator[simpy.Event, Any, bool]:
        """One shipment's licence; returns True if granted.

        Each applicant (the importing buyer) draws from its own stream, so
        another buyer's extra shipments never change its review times.
        """
        decision = self.env.event()
        self.apply_then(request_id, material, applicant, decision.succeed)
        granted: bool = yield decision
        return granted

    def apply_then(
        self, request_id: str, material: str, applicant: str, then: Callable[[bool], Any]
    ) -> None:
        """The same application driven by a callback: ``then(granted)`` at the decision."""
        rng = self._applicants.get(applicant)
        if rng is None:
            rng = self.ctx.stream(Entity.LICENCE_DESK, self.name, Purpose.APPLICATION, applicant)
            self._applicants[applicant] = rng
        days = max(0.0, self.spec.review_days.sample(rng))
        denied = bool(rng.random() < self.spec.denial_probability.sample(rng))
        self.desk.submit(
            request_id,
            days,
            kind=material,
            outcome="denied" if denied else "granted",
            on_done=lambda _record: then(not denied),
        )

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
        # Which regimes apply changes only on their start and end days: between
        # two such days the answer for a lane and material is cached.
        self._changes: dict[str, list[float]] = {
            country: sorted({d for r in rs for d in (r.start_day, r.end_day)})
            for country, rs in self._by_country.items()
        }
        self._cache: dict[tuple[str, str, str, int], list[ExportRegime]] = {}
        #: Countries with any regime: shipments from elsewhere need no look-up.
        self.exporters = frozenset(self._by_country)

    def governing(
        self, origin: str, destination: str, material: str, day: float
    ) -> list[ExportRegime]:
        """Every regime a shipment must pass now (see :meth:`governing_uncached`)."""
        changes = self._changes.get(origin)
        if changes is None:
            return []
        key = (origin, destination, material, bisect.bisect_right(changes, day))
        found = self._cache.get(key)
        if found is None:
            found = self.governing_uncached(origin, destination, material, day)
            self._cache[key] = found
        return found

    def governing_uncached(
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
