"""Grid interconnection: cluster windows, study phases, spare MW, network upgrades.

How a request moves (ours, a planned plant's, or background load and generation):

1. *Readiness* (only under ``queue_order = "first_ready"``): the request must
   show it is ready (site control, deposits: ``readiness_days``) before it may
   join a study; in exchange, withdrawals during studies are scaled down by
   ``first_ready_withdrawal_factor`` (FERC Order 2023's logic: fewer
   speculative requests, fewer restudies).
2. *Studies.* With ``cluster_cycle_days > 0`` requests wait for the next
   window and are studied together as a cluster: each study phase takes one
   draw for the whole cluster and needs one of the region's study teams. After
   each phase, each member may withdraw; a withdrawal triggers a restudy of the
   rest of the cluster (``restudy_days``). Without clusters every request is
   studied on its own, first come first served, phase by phase.
   ``parallel_studies`` runs the phases at the same time (the longest sets the
   pace). A ``designated_site`` (watt-bit coordination) skips the window, goes
   to the front of the study queue and draws on ``reserved_mw`` first.
3. *Capacity.* A load that fits in the region's spare MW takes it. One that
   does not triggers a network upgrade (a build, in parallel with transformer
   orders from the finite transformer supply) that adds ``upgrade_mw`` blocks.
   With ``flexible_connection_share`` > 0, that share of the MW is energised
   early (non-firm) and the rest after the upgrade. ``prebuilt_upgrades`` add
   headroom on their dates whether anyone asked or not.
4. *Energisation* works (``connection_days``). Background generation instead
   builds its plant (``generation_build_days``) and reaches commercial
   operation, or withdraws after its studies.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

import numpy as np
import simpy

from paxsim.models.scenario import GridRegion
from paxsim.models.transformers import TransformerFactory
from paxsim.sim.arrivals import poisson_arrivals
from paxsim.sim.attribution import Milestone
from paxsim.sim.calendar import DAYS_PER_YEAR, SimCalendar
from paxsim.sim.queues import QueueLog, ServiceQueue
from paxsim.sim.records import QueueRecord, RecordList

__all__ = ["GRID_REQUEST_COLUMNS", "MAX_RESTUDIES", "GridConnection", "GridRegionGate"]

#: A request restudied this many times proceeds anyway (guards p = 1).
MAX_RESTUDIES = 5

GRID_REQUEST_COLUMNS = (
    "region",
    "request_id",
    "kind",
    "background",
    "mw",
    "arrival",
    "study_start",
    "study_end",
    "energized",
    "outcome",
)


class GridConnection(NamedTuple):
    """What a project's request came to: full energisation, and an early partial one."""

    full: Milestone
    early: Milestone | None = None
    early_share: float = 0.0


@dataclass
class _Request:
    request_id: str
    kind: str
    background: bool
    mw: float
    arrival: float
    rng: np.random.Generator
    withdraw_scale: float
    designated: bool = False
    done: simpy.Event | None = None
    path: Milestone = field(default_factory=lambda: Milestone.origin(0.0))
    withdrawn: bool = False
    study_start: float = math.nan
    restudies: int = 0
    phase_withdrawal: float | None = None  # overrides the phases' own odds


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
        calendar: SimCalendar | None = None,
        requests: RecordList | None = None,
    ) -> None:
        self.env = env
        self.name = name
        self.spec = spec
        self.rng = rng
        self.phases = spec.phases()
        self.spare_mw = spec.spare_mw
        self.reserved_mw = spec.reserved_mw
        self.connected_mw = 0.0
        self.upgrades_started = 0
        self.queue = ServiceQueue(env, f"grid:{name}", spec.study_teams, log, prioritised=True)
        self.log = log
        self.transformers = transformers
        self.requests = requests if requests is not None else RecordList(GRID_REQUEST_COLUMNS)
        self._bg_rng = background_rng
        self._pending: list[_Request] = []
        self._clusters = 0
        self._seq = 0
        if spec.cluster_cycle_days > 0:
            env.process(self._windows(horizon_days))
        for kind, per_year in (
            ("load", spec.background_load_per_year),
            ("generation", spec.background_generation_per_year),
        ):
            env.process(
                poisson_arrivals(
                    env,
                    per_year / DAYS_PER_YEAR,
                    background_rng,
                    self._background_starter(kind),
                    until=horizon_days,
                )
            )
        self._seed_backlog(spec)
        if calendar is not None:
            for up in spec.prebuilt_upgrades:
                env.process(self._prebuilt(max(0.0, calendar.to_days(up.ready)), up.mw))

    def _background_starter(self, kind: str) -> Callable[[int], Generator[simpy.Event, Any, None]]:
        def start(index: int) -> Generator[simpy.Event, Any, None]:
            return self._background_request(index, kind)

        return start

    def _seed_backlog(self, spec: GridRegion) -> None:
        """Requests already in the queue when the simulation starts (the real queue is not empty).

        They split between load and generation in proportion to the two
        background rates, and enter at time 0 in that order.
        """
        total_rate = spec.background_load_per_year + spec.background_generation_per_year
        load_share = spec.background_load_per_year / total_rate if total_rate > 0 else 0.0
        for i in range(spec.initial_backlog):
            kind = "load" if self._bg_rng.random() < load_share else "generation"
            self.env.process(self._background_request(i, f"{kind}", prefix="backlog-"))

    # ------------------------------------------------------------------ planning figures
    def study_nominal_days(self) -> float:
        medians = [p.days.median() for p in self.phases]
        return max(medians) if self.spec.parallel_studies else sum(medians)

    def nominal_days(self) -> float:
        """Request to energisation with no queue, no window wait and no upgrade."""
        return self.study_nominal_days() + self.spec.connection_days.median()

    def next_window(self, now: float) -> float:
        cycle = self.spec.cluster_cycle_days
        if cycle <= 0:
            return now
        first = self.spec.first_window_days
        if now <= first:
            return first
        return first + math.ceil((now - first) / cycle - 1e-12) * cycle

    # ------------------------------------------------------------------ capacity events
    def _prebuilt(self, day: float, mw: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(day)
        self.spare_mw += mw

    # ------------------------------------------------------------------ studies
    def _new_request(
        self, request_id: str, kind: str, background: bool, mw: float, rng: np.random.Generator
    ) -> _Request:
        scale = (
            self.spec.first_ready_withdrawal_factor
            if self.spec.queue_order == "first_ready"
            else 1.0
        )
        return _Request(request_id, kind, background, mw, self.env.now, rng, scale)

    def _withdraws(self, req: _Request, probability: float) -> bool:
        if req.phase_withdrawal is not None:
            probability = req.phase_withdrawal
        return bool(req.rng.random() < probability * req.withdraw_scale)

    def _study(self, req: _Request, start: Milestone) -> Generator[simpy.Event, Any, None]:
        """Take a request through readiness, window and study phases; fills ``req.path``."""
        req.path = start
        if self.spec.queue_order == "first_ready":
            ready_days = max(0.0, self.spec.readiness_days.sample(req.rng))
            if ready_days > 0:
                yield self.env.timeout(ready_days)
                req.path = req.path.then("interconnection_queue", self.env.now, 0.0, "readiness")
        if self.spec.cluster_cycle_days > 0 and not req.designated:
            req.done = self.env.event()
            self._pending.append(req)
            yield req.done
        else:
            yield from self._study_alone(req)
        self._log_request(req)

    def _windows(self, horizon_days: float) -> Generator[simpy.Event, Any, None]:
        """At every window, the requests waiting form a cluster and start their studies."""
        while True:
            wait = self.next_window(self.env.now) - self.env.now
            if wait <= 0:
                wait = self.spec.cluster_cycle_days
            if self.env.now + wait > horizon_days:
                return
            yield self.env.timeout(wait)
            if self._pending:
                members, self._pending = self._pending, []
                self._clusters += 1
                self.env.process(self._run_cluster(members, self._clusters))

    def _phase_service(
        self, label: str, days: float, kind: str, priority: int
    ) -> Generator[simpy.Event, Any, QueueRecord]:
        record = yield from self.queue.serve(label, days, kind=kind, priority=priority)
        return record

    def _phase_plan(self, rng: np.random.Generator) -> list[tuple[str, float, float, float]]:
        """(name, drawn days, nominal days, withdrawal probability) for each phase."""
        plan = [
            (
                p.name,
                max(0.0, p.days.sample(rng)),
                p.days.median(),
                p.withdrawal_probability.sample(rng),
            )
            for p in self.phases
        ]
        if self.spec.parallel_studies:
            longest = max(d for _, d, _, _ in plan)
            nominal = max(n for _, _, n, _ in plan)
            total_p = 1.0 - float(np.prod([1.0 - w for *_, w in plan]))
            return [("parallel_studies", longest, nominal, total_p)]
        return plan

    def _run_cluster(
        self, members: list[_Request], number: int
    ) -> Generator[simpy.Event, Any, None]:
        rng = self.rng
        live = list(members)
        for phase_name, days, nominal, p_withdraw in self._phase_plan(rng):
            if not live:
                break
            record = yield from self._phase_service(
                f"cluster{number}:{phase_name}", days, f"cluster:{phase_name}", 1
            )
            for req in live:
                if math.isnan(req.study_start):
                    req.study_start = record.start
                req.path = req.path.then("interconnection_queue", record.start, 0.0, self.name)
                req.path = req.path.then("interconnection_study", record.end, nominal, phase_name)
            leaving = [r for r in live if self._withdraws(r, p_withdraw)]
            for req in leaving:
                req.withdrawn = True
            live = [r for r in live if not r.withdrawn]
            if leaving and live and self.spec.restudy_days is not None:
                redo = max(0.0, self.spec.restudy_days.sample(rng))
                record = yield from self._phase_service(
                    f"cluster{number}:restudy", redo, "cluster:restudy", 1
                )
                for req in live:
                    req.restudies += 1
                    req.path = req.path.then("interconnection_queue", record.start, 0.0, self.name)
                    req.path = req.path.then("interconnection_restudy", record.end, 0.0, phase_name)
        for req in members:
            assert req.done is not None
            req.done.succeed()

    def _study_alone(self, req: _Request) -> Generator[simpy.Event, Any, None]:
        priority = 0 if req.designated else 1
        for phase_name, days, nominal, p_withdraw in self._phase_plan(req.rng):
            record = yield from self._phase_service(
                f"{req.request_id}:{phase_name}", days, req.kind, priority
            )
            if math.isnan(req.study_start):
                req.study_start = record.start
            req.path = req.path.then("interconnection_queue", record.start, 0.0, self.name)
            req.path = req.path.then("interconnection_study", record.end, nominal, phase_name)
            if self._withdraws(req, p_withdraw):
                req.withdrawn = True
                return

    def _log_request(self, req: _Request) -> None:
        start = req.study_start if not math.isnan(req.study_start) else self.env.now
        self.log.add(
            QueueRecord(
                f"grid:{self.name}:requests",
                req.request_id,
                req.kind,
                req.background,
                req.arrival,
                start,
                self.env.now,
                "withdrawn" if req.withdrawn else "studied",
            )
        )

    def _record(self, req: _Request, energized: float, outcome: str) -> None:
        self.requests.rows.append(
            (
                self.name,
                req.request_id,
                req.kind,
                req.background,
                req.mw,
                req.arrival,
                req.study_start,
                req.path.time,
                energized,
                outcome,
            )
        )

    # ------------------------------------------------------------------ background load
    def _background_request(
        self, index: int, kind: str, prefix: str = "bg-"
    ) -> Generator[simpy.Event, Any, None]:
        rng = self._bg_rng
        dist = (
            self.spec.background_load_mw if kind == "load" else self.spec.background_generation_mw
        )
        mw = max(0.0, dist.sample(rng))
        req = self._new_request(f"{prefix}{kind}{index}", kind, True, mw, rng)
        p = self.spec.background_withdrawal_probability.sample(rng)
        # Background requests carry one overall withdrawal probability during
        # studies, spread evenly over the phases.
        stages = 1 if self.spec.parallel_studies else max(1, len(self.phases))
        req.phase_withdrawal = 1.0 - (1.0 - p) ** (1.0 / stages)
        yield from self._study(req, Milestone.origin(self.env.now))
        if req.withdrawn:
            self._record(req, math.nan, "withdrawn")
            return
        if req.kind == "generation":
            post = self.spec.generation_post_study_withdrawal.sample(req.rng)
            if req.rng.random() < post:
                self._record(req, math.nan, "withdrawn_after_study")
                return
            yield self.env.timeout(max(0.0, self.spec.generation_build_days.sample(req.rng)))
            self._record(req, self.env.now, "operating")
            return
        yield from self._secure_capacity(req, Milestone.origin(self.env.now))
        yield self.env.timeout(max(0.0, self.spec.connection_days.sample(req.rng)))
        self.connected_mw += req.mw
        self._record(req, self.env.now, "energized")

    # ------------------------------------------------------------------ capacity
    def _build_upgrade(self, days: float) -> Generator[simpy.Event, Any, float]:
        yield self.env.timeout(days)
        return float(self.env.now)

    def _take_headroom(self, req: _Request) -> bool:
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

    def _secure_capacity(
        self, req: _Request, milestone: Milestone
    ) -> Generator[simpy.Event, Any, Milestone]:
        """Take spare MW, or build the upgrade that makes room; return the path so far."""
        if self._take_headroom(req):
            return milestone
        deficit = req.mw - self.spare_mw
        blocks = math.ceil(deficit / self.spec.upgrade_mw - 1e-12)
        self.upgrades_started += 1
        build = self.env.process(
            self._build_upgrade(max(0.0, self.spec.upgrade_days.sample(req.rng)))
        )
        orders = []
        if self.transformers is not None:
            for k in range(self.spec.transformers_per_upgrade * blocks):
                orders.append(
                    self.env.process(self.transformers.order(f"{self.name}:{req.request_id}/t{k}"))
                )
        yield self.env.all_of([build, *orders])
        upgrade_end = cast(float, build.value)
        transformer_end = max((cast(float, p.value) for p in orders), default=0.0)
        # Capacity is added and taken in the same instant, so no one else can grab it.
        self.spare_mw += blocks * self.spec.upgrade_mw - req.mw
        if transformer_end > upgrade_end:
            milestone = milestone.then("network_upgrade", upgrade_end, 0.0, self.name)
            return milestone.then("transformer_delivery", transformer_end, 0.0, self.name)
        return milestone.then("network_upgrade", upgrade_end, 0.0, self.name)

    # ------------------------------------------------------------------ a project's request
    def connect(
        self,
        request_id: str,
        mw: float,
        start: Milestone,
        designated: bool = False,
        rng: np.random.Generator | None = None,
    ) -> Generator[simpy.Event, Any, GridConnection]:
        """A project's request from submission to energisation, with its critical path.

        Our projects do not walk away: a drawn withdrawal sends them back through
        the studies (up to ``MAX_RESTUDIES`` times).
        """
        req = self._new_request(request_id, "project", False, mw, rng or self.rng)
        req.designated = designated
        path = start
        for attempt in range(MAX_RESTUDIES + 1):
            req.withdrawn = False
            yield from self._study(req, path)
            path = req.path
            if not req.withdrawn:
                break
            req.request_id = f"{request_id}#{attempt + 2}"
        req.path = path
        share = self.spec.flexible_connection_share
        early: Milestone | None = None
        if (
            share > 0
            and req.mw > self.spare_mw + 1e-9
            and not (req.designated and self.reserved_mw + self.spare_mw >= req.mw)
        ):
            early_proc = self.env.process(self._energize_early(path, req.rng))
            full = yield from self._secure_capacity(req, path)
            early = yield early_proc
        else:
            full = yield from self._secure_capacity(req, path)
            share = 0.0
        yield self.env.timeout(max(0.0, self.spec.connection_days.sample(req.rng)))
        self.connected_mw += req.mw
        full = full.then(
            "grid_energization", self.env.now, self.spec.connection_days.median(), self.name
        )
        self._record(req, self.env.now, "energized")
        if early is not None and early.time >= full.time:
            early, share = None, 0.0
        return GridConnection(full, early, share)

    def _energize_early(
        self, path: Milestone, rng: np.random.Generator
    ) -> Generator[simpy.Event, Any, Milestone]:
        yield self.env.timeout(max(0.0, self.spec.connection_days.sample(rng)))
        return path.then(
            "grid_energization", self.env.now, self.spec.connection_days.median(), "flexible"
        )
