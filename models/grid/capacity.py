"""A grid region's headroom: spare MW, MW reserved for designated sites, shared upgrades.

Capacity is accounted for exactly, as a ledger and a line:

* ``spare_mw`` is built and unallocated; a request takes its MW from it in
  one instant, so it is never negative.
* A request that does not fit joins the region's capacity line (first come,
  first served). The line's *deficit* is what it waits for beyond the spare
  MW and the MW already being built; only a positive deficit starts a
  network upgrade, sized to cover it in ``upgrade_mw`` blocks (a build in
  parallel with transformer orders from the shared transformer pool). So one
  upgrade covers every request waiting when it started, and no deficit is
  built twice.
* With ``upgrade_crews``, only that many upgrades are built at once; the
  others wait their turn (their transformers are ordered at once).
* When an upgrade (or a ``prebuilt_upgrades`` entry) lands, its MW become
  spare and the line is served in order while the head fits.

Every change is one row of the ``headroom`` table (time, spare, reserved,
being built, waiting, connected).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator
from typing import Any, NamedTuple, cast

import numpy as np
import simpy

from paxsim.models.grid.request import GridRequest
from paxsim.models.scenario import GridRegion
from paxsim.models.transformers import TransformerFactory
from paxsim.sim.attribution import Milestone
from paxsim.sim.records import RecordList

__all__ = ["HEADROOM_COLUMNS", "Headroom", "UpgradeLanded"]

HEADROOM_COLUMNS = (
    "time",
    "region",
    "spare_mw",
    "reserved_mw",
    "building_mw",
    "waiting_mw",
    "connected_mw",
    "event",
)


class UpgradeLanded(NamedTuple):
    """What a waiting request learns when capacity is allocated to it."""

    upgrade: str  # the upgrade whose MW it got ("" for spare freed otherwise)
    build_end: float
    transformer_end: float


class Headroom:
    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        spec: GridRegion,
        transformers: TransformerFactory | None,
        table: RecordList | None = None,
    ) -> None:
        self.env = env
        self.name = name
        self.spec = spec
        self.transformers = transformers
        self.spare_mw = spec.spare_mw
        self.reserved_mw = 0.0  # only reserved upgrades, once built, fill it
        self.building_mw = 0.0
        self.reserved_building_mw = 0.0
        self.waiting_mw = 0.0
        self.connected_mw = 0.0
        self.upgrades_started = 0
        # upgrade crews: None is no limit; else free crews and the builds waiting for one
        self._crews_free = spec.upgrade_crews
        self._crew_line: deque[simpy.Event] = deque()
        self._line: deque[tuple[GridRequest, simpy.Event]] = deque()
        # designated sites waiting for reserved upgrades, and the MW they claim
        self._reserve_line: deque[tuple[GridRequest, simpy.Event]] = deque()
        self._reserve_claimed_mw = 0.0
        self.table = table if table is not None else RecordList(HEADROOM_COLUMNS)
        self._note("start")

    # ------------------------------------------------------------------ ledger
    def _note(self, event: str) -> None:
        self.table.rows.append(
            (
                self.env.now,
                self.name,
                self.spare_mw,
                self.reserved_mw,
                self.building_mw,
                self.waiting_mw,
                self.connected_mw,
                event,
            )
        )

    def connected(self, mw: float) -> None:
        self.connected_mw += mw
        self._note("energized")

    def add_prebuilt(self, day: float, mw: float) -> None:
        def build() -> Generator[simpy.Event, Any, None]:
            yield self.env.timeout(day)
            self.spare_mw += mw
            self._serve_line(UpgradeLanded("prebuilt", self.env.now, self.env.now))
            self._note("prebuilt")

        self.env.process(build())

    def add_reserved_upgrade(
        self, start_day: float, mw: float, rng: np.random.Generator, label: str
    ) -> None:
        """An upgrade for designated sites, started on ``start_day`` (may be before the run)."""

        def build() -> Generator[simpy.Event, Any, None]:
            env = self.env
            days = max(0.0, self.spec.upgrade_days.sample(rng))
            if start_day > 0:
                yield env.timeout(start_day)
            remaining = max(0.0, days - max(0.0, -start_day))
            # Not in building_mw: the line's deficit must not count on MW it may not use.
            self.reserved_building_mw += mw
            self._note("reserved_started")
            orders = []
            if self.transformers is not None and start_day >= 0:
                blocks = math.ceil(mw / self.spec.upgrade_mw - 1e-12)
                factory = self.transformers
                for k in range(self.spec.transformers_per_upgrade * blocks):
                    orders.append(factory.delivery(f"{label}/t{k}", factory.build_days(rng)))
            yield env.all_of([env.timeout(remaining), *orders])
            self.reserved_building_mw -= mw
            self.reserved_mw += mw
            self._serve_designated(UpgradeLanded(label, env.now, env.now))
            self._note("reserved_landed")

        self.env.process(build())

    def _serve_designated(self, landed: UpgradeLanded) -> None:
        """Designated sites waiting for the reserve take it, in order, as it lands."""
        line = self._reserve_line
        while line and line[0][0].mw <= self.reserved_mw + 1e-9:
            req, allocated = line.popleft()
            self.reserved_mw = max(0.0, self.reserved_mw - req.mw)
            self._reserve_claimed_mw -= req.mw
            allocated.succeed(landed)

    def fits(self, req: GridRequest) -> bool:
        """Would the request be served from headroom now (designated sites count the reserve)?"""
        if self._line:
            return req.designated and self.reserved_mw >= req.mw - 1e-9
        if req.mw <= self.spare_mw + 1e-9:
            return True
        return req.designated and self.reserved_mw + self.spare_mw >= req.mw

    def take(self, req: GridRequest) -> bool:
        """Allocate headroom to the request now if it may have it; designated sites first.

        Behind a line, only a designated site's own reserve may be taken: the
        spare MW belong to those already waiting.
        """
        need = req.mw
        spare = 0.0 if self._line else self.spare_mw
        if req.designated and self.reserved_mw > 0:
            from_reserve = min(self.reserved_mw, need)
            if need - from_reserve <= spare + 1e-9:
                self.reserved_mw -= from_reserve
                self.spare_mw = max(0.0, self.spare_mw - (need - from_reserve))
                self._note("allocated")
                return True
        if not self._line and need <= self.spare_mw + 1e-9:
            self.spare_mw = max(0.0, self.spare_mw - need)
            self._note("allocated")
            return True
        return False

    def added_deficit_mw(self, req: GridRequest) -> float:
        """MW of new upgrade the request would cause if it joined the line now.

        "But for" cost responsibility: capacity already spare or being built
        for the line covers part of it; the request answers for the rest.
        """
        before = self.waiting_mw - self.spare_mw - self.building_mw
        return max(0.0, before + req.mw) - max(0.0, before)

    # ------------------------------------------------------------------ the line
    def secure(
        self, req: GridRequest, milestone: Milestone, patience: float | None = None
    ) -> Generator[simpy.Event, Any, Milestone | None]:
        """Take spare MW, or wait in line for the upgrade that makes room; return the path.

        With ``patience``, a request still in the line after that many days
        leaves it (returns None); the MW it would have used go to those behind.
        """
        if self.take(req):
            return milestone
        allocated = self.env.event()
        coming = self.reserved_mw + self.reserved_building_mw - self._reserve_claimed_mw
        own: str | None = ""  # the upgrade this request started, if any
        if req.designated and req.mw <= coming + 1e-9:
            # A reserved upgrade will cover it: it waits for that (its own
            # dedicated build), and no general upgrade is built for those MW.
            self._reserve_claimed_mw += req.mw
            self._reserve_line.append((req, allocated))
            own = None
        else:
            self._line.append((req, allocated))
            self.waiting_mw += req.mw
            deficit = self.waiting_mw - self.spare_mw - self.building_mw
            if deficit > 1e-9:
                own = self._start_upgrade(deficit, req)
        self._note("waiting")
        if patience is not None and own is not None:
            self._give_up_after(req, allocated, patience)
        landed = cast(UpgradeLanded | None, (yield allocated))
        if landed is None:
            return None
        now = self.env.now
        if own is not None and landed.upgrade != own:
            # Served by capacity built for, or freed by, others: the time in
            # line was queueing, not this request's own build.
            return milestone.then("grid_capacity_queue", now, 0.0, self.name)
        build_end = max(milestone.time, min(landed.build_end, now))
        if landed.transformer_end > landed.build_end and landed.transformer_end > milestone.time:
            milestone = milestone.then("network_upgrade", build_end, 0.0, landed.upgrade)
            return milestone.then("transformer_delivery", now, 0.0, landed.upgrade)
        return milestone.then("network_upgrade", now, 0.0, landed.upgrade)

    def _give_up_after(self, req: GridRequest, allocated: simpy.Event, patience: float) -> None:
        def give_up(_event: simpy.Event) -> None:
            if allocated.triggered:
                return
            self._line.remove((req, allocated))
            self.waiting_mw = max(0.0, self.waiting_mw - req.mw) if self._line else 0.0
            allocated.succeed(None)
            self._note("gave_up")
            # those behind may fit in the spare MW it leaves
            self._serve_line(UpgradeLanded("", self.env.now, self.env.now))

        self.env.timeout(patience).callbacks.append(give_up)

    def _start_upgrade(self, deficit: float, req: GridRequest) -> str:
        """Start the upgrade that covers the line's deficit; return its label."""
        blocks = math.ceil(deficit / self.spec.upgrade_mw - 1e-12)
        mw = blocks * self.spec.upgrade_mw
        self.upgrades_started += 1
        self.building_mw += mw
        label = f"{self.name}:upgrade{self.upgrades_started}"
        self.env.process(self._build(label, blocks, mw, req))
        return label

    def _build(
        self, label: str, blocks: int, mw: float, req: GridRequest
    ) -> Generator[simpy.Event, Any, None]:
        """Build one upgrade; its draws come from the request that started it."""
        env = self.env
        build_days = req.draws.upgrade_days()
        orders = []
        if self.transformers is not None:
            # Transformers are ordered when the upgrade is decided, crew or not.
            rng = req.draws.transformer_rng()
            factory = self.transformers
            for k in range(self.spec.transformers_per_upgrade * blocks):
                days = factory.build_days(rng)
                orders.append(factory.delivery(f"{label}/t{k}", days, req.background))
        yield from self._crew()
        started = env.now
        yield env.all_of([env.timeout(build_days), *orders])
        self._release_crew()
        transformer_end = max((cast(float, p.value) for p in orders), default=started)
        build_end = started + build_days
        self.building_mw -= mw
        self.spare_mw += mw
        self._serve_line(UpgradeLanded(label, build_end, transformer_end))
        self._note("upgrade_landed")

    def _crew(self) -> Generator[simpy.Event, Any, None]:
        """Wait for a free upgrade crew (first come, first served), if crews are limited."""
        if self._crews_free is None:
            return
        if self._crews_free > 0:
            self._crews_free -= 1
            return
        turn = self.env.event()
        self._crew_line.append(turn)
        yield turn  # the crew is handed over directly by the build that frees it

    def _release_crew(self) -> None:
        if self._crews_free is None:
            return
        if self._crew_line:
            self._crew_line.popleft().succeed()
        else:
            self._crews_free += 1

    def _serve_line(self, landed: UpgradeLanded) -> None:
        """Allocate spare MW to the line in order while the head fits."""
        line = self._line
        while line and line[0][0].mw <= self.spare_mw + 1e-9:
            req, allocated = line.popleft()
            self.spare_mw = max(0.0, self.spare_mw - req.mw)
            self.waiting_mw -= req.mw
            allocated.succeed(landed)
        if not line:
            self.waiting_mw = 0.0  # no rounding residue once the line is empty
