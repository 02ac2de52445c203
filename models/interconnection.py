"""Grid interconnection: cluster windows, a study queue, spare MW and network upgrades.

A request (a data-center phase, a planned plant, or background load and
generation) waits for the next cluster window (if the region studies in
clusters), queues for a study team, and is studied. Some requests withdraw
after their study. A load request that fits in the region's spare MW takes it
and is energised after the connection works; one that does not fit triggers a
network upgrade (a build time, run in parallel with transformer orders), which
adds ``upgrade_mw`` blocks of capacity to the region.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from models.scenario import GridRegion
from models.transformers import TransformerFactory
from sim.arrivals import poisson_arrivals
from sim.attribution import Milestone
from sim.calendar import DAYS_PER_YEAR
from sim.queues import QueueLog, ServiceQueue

__all__ = ["MAX_RESTUDIES", "GridRegionGate"]

#: A project restudied this many times proceeds anyway (guards p = 1).
MAX_RESTUDIES = 5


class GridRegionGate:
    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        spec: GridRegion,
        log: QueueLog,
        rng: np.random.Generator,
        background_rng: np.random.Generator,
        transformers: TransformerFactory | None,
        horizon_days: float,
    ) -> None:
        self.env = env
        self.name = name
        self.spec = spec
        self.rng = rng
        self.spare_mw = spec.spare_mw
        self.connected_mw = 0.0
        self.upgrades_started = 0
        self.queue = ServiceQueue(env, f"grid:{name}", spec.study_teams, log)
        self.log = log
        self.transformers = transformers
        self._bg_rng = background_rng
        for kind, per_year in (
            ("load", spec.background_load_per_year),
            ("generation", spec.background_generation_per_year),
        ):
            env.process(
                poisson_arrivals(
                    env,
                    per_year / DAYS_PER_YEAR,
                    background_rng,
                    lambda i, k=kind: self._background_request(i, k),
                    until=horizon_days,
                )
            )

    # ------------------------------------------------------------------ planning figures
    def nominal_days(self) -> float:
        """Request to energisation with no queue, no window wait and no upgrade."""
        return self.spec.study_days.median() + self.spec.connection_days.median()

    def next_window(self, now: float) -> float:
        cycle = self.spec.cluster_cycle_days
        if cycle <= 0:
            return now
        first = self.spec.first_window_days
        if now <= first:
            return first
        return first + math.ceil((now - first) / cycle - 1e-12) * cycle

    # ------------------------------------------------------------------ processes
    def _background_request(self, index: int, kind: str) -> Generator[simpy.Event, Any, None]:
        rng = self._bg_rng
        mw = max(0.0, self.spec.background_load_mw.sample(rng)) if kind == "load" else 0.0
        withdraw_p = self.spec.background_withdrawal_probability.sample(rng)
        request_id = f"bg-{kind}{index}"
        _, _, withdrawn = yield from self._through_study(request_id, kind, rng, withdraw_p, True)
        if kind == "load" and not withdrawn:
            yield from self._secure_capacity(request_id, mw, rng, Milestone.origin(self.env.now))
            self.connected_mw += mw

    def _through_study(
        self,
        request_id: str,
        kind: str,
        rng: np.random.Generator,
        withdraw_p: float,
        background: bool,
    ) -> Generator[simpy.Event, Any, tuple[float, float, bool]]:
        """Window wait, study queue and study: returns (study_start, study_end, withdrawn)."""
        window = self.next_window(self.env.now)
        if window > self.env.now:
            yield self.env.timeout(window - self.env.now)
        study_days = max(0.0, self.spec.study_days.sample(rng))
        withdraws = bool(rng.random() < withdraw_p)
        record = yield from self.queue.serve(
            request_id,
            study_days,
            kind=kind,
            background=background,
            outcome="withdrawn" if withdraws else "studied",
        )
        return record.start, record.end, withdraws

    def _build_upgrade(self, days: float) -> Generator[simpy.Event, Any, float]:
        yield self.env.timeout(days)
        return float(self.env.now)

    def _secure_capacity(
        self, request_id: str, mw: float, rng: np.random.Generator, milestone: Milestone
    ) -> Generator[simpy.Event, Any, Milestone]:
        """Take spare MW, or build the upgrade that makes room; return the path so far."""
        if mw <= self.spare_mw + 1e-9:
            self.spare_mw -= mw
            return milestone
        deficit = mw - self.spare_mw
        blocks = math.ceil(deficit / self.spec.upgrade_mw - 1e-12)
        self.upgrades_started += 1
        build = self.env.process(
            self._build_upgrade(max(0.0, self.spec.upgrade_days.sample(rng)))
        )
        orders = []
        if self.transformers is not None:
            for k in range(self.spec.transformers_per_upgrade * blocks):
                orders.append(self.env.process(self.transformers.order(f"{request_id}/t{k}")))
        yield self.env.all_of([build, *orders])
        upgrade_end = float(build.value)
        transformer_end = max((float(p.value) for p in orders), default=0.0)
        # Capacity is added and taken in the same instant, so no one else can grab it.
        self.spare_mw += blocks * self.spec.upgrade_mw - mw
        if transformer_end > upgrade_end:
            milestone = milestone.then("network_upgrade", upgrade_end, 0.0, self.name)
            return milestone.then("transformer_delivery", transformer_end, 0.0, self.name)
        return milestone.then("network_upgrade", upgrade_end, 0.0, self.name)

    def connect(
        self, request_id: str, mw: float, start: Milestone
    ) -> Generator[simpy.Event, Any, Milestone]:
        """A project's request from submission to energisation, with its critical path.

        A drawn withdrawal in the project's cluster forces a restudy: the project
        goes back through the window and the study queue.
        """
        rng = self.rng
        withdraw_p = self.spec.withdrawal_probability.sample(rng)
        study_start, study_end, restudy = yield from self._through_study(
            request_id, "datacenter", rng, withdraw_p, background=False
        )
        milestone = start.then("interconnection_queue", study_start, 0.0, self.name)
        milestone = milestone.then(
            "interconnection_study", study_end, self.spec.study_days.median(), self.name
        )
        attempt = 1
        while restudy and attempt < MAX_RESTUDIES:
            attempt += 1
            study_start, study_end, restudy = yield from self._through_study(
                f"{request_id}#{attempt}", "datacenter", rng, withdraw_p, background=False
            )
            milestone = milestone.then("interconnection_queue", study_start, 0.0, self.name)
            milestone = milestone.then("interconnection_study", study_end, 0.0, self.name)
        milestone = yield from self._secure_capacity(request_id, mw, rng, milestone)
        yield self.env.timeout(max(0.0, self.spec.connection_days.sample(rng)))
        self.connected_mw += mw
        return milestone.then(
            "grid_energization", self.env.now, self.spec.connection_days.median(), self.name
        )
