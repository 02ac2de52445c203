"""A grid region's headroom: spare MW, MW reserved for designated sites, network upgrades.

A load that fits in the spare MW takes it. One that does not triggers a
network upgrade (a build, in parallel with transformer orders from the shared
transformer pool) that adds ``upgrade_mw`` blocks. ``prebuilt_upgrades`` add
headroom on their dates whether anyone asked or not.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any, cast

import simpy

from paxsim.models.grid.request import GridRequest
from paxsim.models.scenario import GridRegion
from paxsim.models.transformers import TransformerFactory
from paxsim.sim.attribution import Milestone

__all__ = ["Headroom"]


class Headroom:
    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        spec: GridRegion,
        transformers: TransformerFactory | None,
    ) -> None:
        self.env = env
        self.name = name
        self.spec = spec
        self.transformers = transformers
        self.spare_mw = spec.spare_mw
        self.reserved_mw = spec.reserved_mw
        self.connected_mw = 0.0
        self.upgrades_started = 0

    def add_prebuilt(self, day: float, mw: float) -> None:
        def build() -> Generator[simpy.Event, Any, None]:
            yield self.env.timeout(day)
            self.spare_mw += mw

        self.env.process(build())

    def fits(self, req: GridRequest) -> bool:
        """Would the request be served from headroom now (designated sites count the reserve)?"""
        if req.mw <= self.spare_mw + 1e-9:
            return True
        return req.designated and self.reserved_mw + self.spare_mw >= req.mw

    def take(self, req: GridRequest) -> bool:
        """Reserve headroom for the request now if there is enough; designated sites first."""
        need = req.mw
        if req.designated and self.reserved_mw > 0:
            from_reserve = min(self.reserved_mw, need)
            if need - from_reserve <= self.spare_mw + 1e-9:
                self.reserved_mw -= from_reserve
                self.spare_mw -= need - from_reserve
                return True
        if need <= self.spare_mw + 1e-9:
            self.spare_mw -= need
            return True
        return False

    def _build_upgrade(self, days: float) -> Generator[simpy.Event, Any, float]:
        yield self.env.timeout(days)
        return float(self.env.now)

    def secure(
        self, req: GridRequest, milestone: Milestone
    ) -> Generator[simpy.Event, Any, Milestone]:
        """Take spare MW, or build the upgrade that makes room; return the path so far."""
        if self.take(req):
            return milestone
        deficit = req.mw - self.spare_mw
        blocks = math.ceil(deficit / self.spec.upgrade_mw - 1e-12)
        self.upgrades_started += 1
        build = self.env.process(self._build_upgrade(req.draws.upgrade_days()))
        orders = []
        if self.transformers is not None:
            rng = req.draws.transformer_rng()
            factory = self.transformers
            for k in range(self.spec.transformers_per_upgrade * blocks):
                order_id = f"{self.name}:{req.request_id}/t{k}"
                days = factory.build_days(rng)
                orders.append(self.env.process(factory.order(order_id, days, req.background)))
        yield self.env.all_of([build, *orders])
        upgrade_end = cast(float, build.value)
        transformer_end = max((cast(float, p.value) for p in orders), default=0.0)
        # Capacity is added and taken in the same instant, so no one else can grab it.
        self.spare_mw += blocks * self.spec.upgrade_mw - req.mw
        if transformer_end > upgrade_end:
            milestone = milestone.then("network_upgrade", upgrade_end, 0.0, self.name)
            return milestone.then("transformer_delivery", transformer_end, 0.0, self.name)
        return milestone.then("network_upgrade", upgrade_end, 0.0, self.name)
