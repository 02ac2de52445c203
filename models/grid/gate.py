"""A grid region's interconnection gate: studies, then capacity, then energisation.

How a request moves (ours, a planned plant's, or background load and
generation): studies (:mod:`~paxsim.models.grid.studies`), then capacity
(:mod:`~paxsim.models.grid.capacity`): spare MW or a network upgrade; with
``flexible_connection_share`` > 0, that share of the MW is energised early
(non-firm) and the rest after the upgrade. Then energisation works
(``connection_days``). Background generation instead builds its plant
(``generation_build_days``) and reaches commercial operation, or withdraws
after its studies.

A load request that must wait for an upgrade is assigned the cost of the
upgrade MW it causes ("but for" cost responsibility, at
``upgrade_cost_usd_per_kw``); one carrying a cost tolerance (a pipeline site,
or background load where the region gives
``background_cost_tolerance_usd_per_kw``) withdraws when the cost is above it.
So withdrawals rise with congestion instead of following a fixed probability.
Pipeline sites (:mod:`~paxsim.models.grid.pipeline`) then build while they
wait, and are online when built and energised. The gate owns its
``grid_requests`` table.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Generator, Iterator
from typing import Any

import simpy

from paxsim.models.context import SimContext
from paxsim.models.grid.background import AttributeBlocks, BackgroundAttributes, PredrawnDraws
from paxsim.models.grid.capacity import Headroom
from paxsim.models.grid.pipeline import KIND as SITE
from paxsim.models.grid.pipeline import PipelineSites
from paxsim.models.grid.request import (
    GRID_REQUEST_COLUMNS,
    MAX_RESTUDIES,
    GridConnection,
    GridRequest,
    RequestDraws,
)
from paxsim.models.grid.studies import Studies
from paxsim.models.scenario import GridRegion
from paxsim.models.streams import Entity, Purpose
from paxsim.models.transformers import TransformerFactory
from paxsim.sim.arrivals import piecewise_poisson_times
from paxsim.sim.attribution import Milestone
from paxsim.sim.calendar import DAYS_PER_YEAR
from paxsim.sim.records import RecordList

__all__ = ["GridRegionGate"]


class GridRegionGate:
    def __init__(
        self,
        ctx: SimContext,
        name: str,
        spec: GridRegion,
        transformers: TransformerFactory | None,
        requests: RecordList | None = None,
        headroom: RecordList | None = None,
        pipeline_requests: RecordList | None = None,
    ) -> None:
        self.ctx = ctx
        self.env = ctx.env
        self.name = name
        self.spec = spec
        self.requests = requests if requests is not None else RecordList(GRID_REQUEST_COLUMNS)
        self.studies = Studies(
            ctx.env,
            name,
            spec,
            ctx.queue_log,
            ctx.stream(Entity.GRID, name, Purpose.STUDIES),
            ctx.horizon_days,
            individual_until_day=(
                ctx.calendar.to_days(spec.individual_studies_until)
                if spec.individual_studies_until is not None
                else -math.inf
            ),
        )
        self.headroom = Headroom(ctx.env, name, spec, transformers, headroom)
        self._screens = spec.queue_order == "first_ready"
        # Speculative requests always withdraw; the others withdraw with the odds
        # that keep the overall share at background_withdrawal_probability.
        self._speculative = spec.speculative_share
        stages = 1 if spec.parallel_studies else max(1, len(spec.phases()))
        self._per_stage = 1.0 / stages
        self._live: dict[int, GridRequest] = {}  # requests not yet recorded, by identity
        self._generation_committed_mw = 0.0
        self.studies.pricing = self.cluster_cost
        self.pipeline: PipelineSites | None = None
        if spec.datacenter_pipeline is not None:
            self.pipeline = PipelineSites(
                ctx, name, spec, spec.datacenter_pipeline, pipeline_requests
            )
            self._arrivals(self.pipeline.times, self.pipeline.attributes, SITE)
        self._start_background()
        for i, reserve in enumerate(spec.reserved_upgrades):
            self.headroom.add_reserved_upgrade(
                ctx.calendar.to_days(reserve.start),
                reserve.mw,
                ctx.stream(Entity.GRID, name, Purpose.BUILD, f"reserved{i}"),
                f"{name}:reserved{i}",
            )
        for up in spec.prebuilt_upgrades:
            self.headroom.add_prebuilt(max(0.0, ctx.calendar.to_days(up.ready)), up.mw)

    # ------------------------------------------------------------------ state others read
    @property
    def queue(self) -> Any:
        return self.studies.queue

    @property
    def spare_mw(self) -> float:
        return self.headroom.spare_mw

    @property
    def reserved_mw(self) -> float:
        return self.headroom.reserved_mw

    @property
    def connected_mw(self) -> float:
        return self.headroom.connected_mw

    @property
    def upgrades_started(self) -> int:
        return self.headroom.upgrades_started

    def nominal_days(self) -> float:
        """Request to energisation with no queue, no window wait and no upgrade."""
        return self.studies.nominal_days() + self.spec.connection_days.median()

    def next_window(self, now: float) -> float:
        return self.studies.next_window(now)

    def sample_into(self, rows: list[tuple[Any, ...]], now: float) -> None:
        """The gate's contribution to the time series."""
        rows.append((now, self.name, "grid", "", "spare_mw", self.spare_mw))
        rows.append((now, self.name, "grid", "", "study_queue", float(self.queue.in_queue)))

    # ------------------------------------------------------------------ background
    def _start_background(self) -> None:
        ctx, spec = self.ctx, self.spec
        for kind, per_year, steps, size in (
            (
                "load",
                spec.background_load_per_year,
                spec.background_load_steps,
                spec.background_load_mw,
            ),
            (
                "generation",
                spec.background_generation_per_year,
                spec.background_generation_steps,
                spec.background_generation_mw,
            ),
        ):
            # The rate path: the constant rate, then each step from its date.
            path = [(-math.inf, per_year / DAYS_PER_YEAR)] + [
                (ctx.calendar.to_days(step.start), step.per_year / DAYS_PER_YEAR)
                for step in sorted(steps, key=lambda st: st.start)
            ]
            if all(rate <= 0 for _, rate in path):
                continue
            times = piecewise_poisson_times(
                ctx.stream(Entity.GRID, self.name, Purpose.ARRIVALS, kind),
                path,
                ctx.horizon_days,
            )
            what = AttributeBlocks(
                ctx.stream(Entity.GRID, self.name, Purpose.ATTRIBUTES, kind),
                spec,
                size,
                tolerance_dist=self._tolerance(kind),
            )
            self._arrivals(times, what, kind)
        self._seed_backlog()

    def _arrivals(self, times: Iterator[float], what: AttributeBlocks, kind: str) -> None:
        """Each arrival is a timeout whose callback makes the request and schedules the next.

        A chain of callbacks, not a process: thousands of arrivals a run cost
        one event each and no generator resumption.
        """
        env = self.env
        count = itertools.count()

        def arrive(event: simpy.Event | None) -> None:
            if event is not None:
                self._background_request(f"bg-{kind}{next(count)}", kind, next(what))
            arrival = next(times, None)
            if arrival is not None:
                env.timeout(arrival - env.now).callbacks.append(arrive)

        arrive(None)

    def _seed_backlog(self) -> None:
        """Requests already in the queue when the simulation starts (the real queue is not empty).

        They split between load and generation in proportion to the two
        background rates, and enter at time 0 in that order.
        """
        spec = self.spec
        if spec.initial_backlog <= 0:
            return
        total_rate = spec.background_load_per_year + spec.background_generation_per_year
        load_share = spec.background_load_per_year / total_rate if total_rate > 0 else 0.0
        rng = self.ctx.stream(Entity.GRID, self.name, Purpose.BACKLOG)
        kinds = rng.random(spec.initial_backlog) < load_share
        sizes = {
            "load": AttributeBlocks(
                rng, spec, spec.background_load_mw, tolerance_dist=self._tolerance("load")
            ),
            "generation": AttributeBlocks(
                rng,
                spec,
                spec.background_generation_mw,
                tolerance_dist=self._tolerance("generation"),
            ),
        }
        # Draw every backlog request's attributes before any starts: a fixed order.
        drawn = []
        for is_load in kinds.tolist():
            kind = "load" if is_load else "generation"
            drawn.append((kind, next(sizes[kind])))
        for i, (kind, attrs) in enumerate(drawn):
            self._background_request(f"backlog-{kind}{i}", kind, attrs)

    def _tolerance(self, kind: str) -> Any:
        """The cost tolerance each background request of this kind draws (None: no cost rule)."""
        if kind == "generation":
            return self.spec.background_generation_cost_tolerance_usd_per_kw
        return self.spec.background_cost_tolerance_usd_per_kw

    # ------------------------------------------------------------------ assigned upgrade cost
    def hosting_mw(self) -> float:
        """Injection capacity for generation not yet committed (never negative)."""
        spec = self.spec
        grown = spec.generation_hosting_growth_mw_per_year * self.env.now / DAYS_PER_YEAR
        return max(0.0, spec.generation_hosting_mw + grown - self._generation_committed_mw)

    def cluster_cost(self, generation: bool, mw: float) -> float:
        """USD/kW each member pays when a cluster of ``mw`` shares its upgrade pro rata.

        The upgrade covers what the cluster needs beyond the capacity available
        to it: spare and being-built load headroom not already waited for, or
        the generation hosting capacity.
        """
        if mw <= 0:
            return 0.0
        if generation:
            available, cost = self.hosting_mw(), self.spec.generation_upgrade_cost_usd_per_kw
        else:
            room = self.headroom
            available = room.spare_mw + room.building_mw - room.waiting_mw
            cost = self.spec.upgrade_cost_usd_per_kw
        return cost * max(0.0, mw - max(0.0, available)) / mw

    def _background_request(self, request_id: str, kind: str, attrs: BackgroundAttributes) -> None:
        """One exogenous request (background, or a pipeline site), driven by callbacks."""
        env = self.env
        draws: PredrawnDraws = attrs.draws
        site = kind == SITE
        req = GridRequest(request_id, kind, not site, attrs.mw, env.now, draws)
        req.patience = attrs.patience
        req.tolerance = attrs.tolerance
        self._live[id(req)] = req
        if site:
            assert self.pipeline is not None
            self.pipeline.arrived(req)
        if attrs.speculative and self._screens:
            # Readiness screening (site control, deposits) turns it away at entry:
            # it never loads the study teams, the capacity line or the transformers.
            self._record(req, math.nan, "screened_out")
            return
        req.phase_withdrawal = self._study_withdrawal(attrs)

        def studied() -> None:
            if attrs.speculative and not req.withdrawn:
                self._record(req, math.nan, "withdrawn_after_study")
            elif req.reneged:
                self._record(req, math.nan, "withdrawn_while_waiting")
            elif req.withdrawn:
                priced_out = req.tolerance is not None and req.assigned_cost > req.tolerance
                self._record(req, math.nan, "withdrawn_on_cost" if priced_out else "withdrawn")
            elif kind == "generation":
                if attrs.tolerance is not None:
                    if self._generation_walks_away(req, attrs.tolerance):
                        self._record(req, math.nan, "withdrawn_on_cost")
                        return
                    self._generation_committed_mw += req.mw
                elif draws.post_study_withdraws():
                    self._record(req, math.nan, "withdrawn_after_study")
                    return
                built = env.timeout(draws.generation_build_days())
                built.callbacks.append(lambda _e: self._record(req, env.now, "operating"))
            elif self.headroom.take(req):
                self._commit(req, attrs)
                self._energize_background(req)
            elif self._walks_away_on_cost(req, attrs):
                self._record(req, math.nan, "withdrawn_on_cost")
            else:
                self._commit(req, attrs)
                env.process(self._upgrade_then_energize(req))

        self.studies.begin(req, Milestone.origin(env.now), studied)

    def _study_withdrawal(self, attrs: BackgroundAttributes) -> float:
        """The odds a serious request withdraws at each study phase.

        Where a request carries a cost tolerance (pipeline sites; background
        load where the region gives one), withdrawal comes from its assigned
        upgrade cost, not a coin: 0 here. Otherwise the overall
        ``background_withdrawal_probability`` applies, spread evenly over the
        phases; speculative requests withdraw for sure after their studies, so
        the others get the odds that keep the overall share.
        """
        if attrs.tolerance is not None:
            return 0.0
        p = attrs.withdrawal_probability
        s = self._speculative
        p_serious = 0.0 if attrs.speculative else max(0.0, (p - s) / (1.0 - s)) if s < 1 else 0.0
        return 1.0 - (1.0 - p_serious) ** self._per_stage

    def _generation_walks_away(self, req: GridRequest, tolerance: float) -> bool:
        """A generator studied alone pays for what it needs beyond the hosting capacity."""
        if math.isnan(req.assigned_cost):  # a cluster member was priced at its decision points
            req.assigned_cost = self.cluster_cost(True, req.mw)
        return req.assigned_cost > tolerance

    def _walks_away_on_cost(self, req: GridRequest, attrs: BackgroundAttributes) -> bool:
        """Assigned the cost of the upgrade MW it causes, does it exceed its tolerance?

        A cluster member accepted its share at the cluster's decision points and
        does not reconsider here.
        """
        cost = self.spec.upgrade_cost_usd_per_kw
        if attrs.tolerance is None or cost <= 0 or req.mw <= 0:
            return False
        if not math.isnan(req.assigned_cost):
            return False
        req.assigned_cost = cost * self.headroom.added_deficit_mw(req) / req.mw
        return req.assigned_cost > attrs.tolerance

    def _commit(self, req: GridRequest, attrs: BackgroundAttributes) -> None:
        if req.kind == SITE and self.pipeline is not None:
            self.pipeline.commit(req, attrs.build_days or 0.0)

    def _energize_background(self, req: GridRequest) -> None:
        env = self.env

        def energized(_event: simpy.Event) -> None:
            self.headroom.connected(req.mw)
            req.energized_day = env.now
            self._record(req, env.now, "energized")
            if req.kind == SITE and self.pipeline is not None:
                self.pipeline.energized(req)

        env.timeout(req.draws.connection_days()).callbacks.append(energized)

    def _upgrade_then_energize(self, req: GridRequest) -> Generator[simpy.Event, Any, None]:
        path = yield from self.headroom.secure(req, Milestone.origin(self.env.now), req.patience)
        if path is None:
            self._record(req, math.nan, "withdrawn_waiting_for_capacity")
            return
        self._energize_background(req)

    # ------------------------------------------------------------------ a project's request
    def connect(
        self,
        request_id: str,
        mw: float,
        start: Milestone,
        designated: bool = False,
    ) -> Generator[simpy.Event, Any, GridConnection]:
        """A project's request from submission to energisation, with its critical path.

        The request draws from its own stream. Our projects do not walk away: a
        drawn withdrawal sends them back through the studies (up to
        ``MAX_RESTUDIES`` times).
        """
        rng = self.ctx.stream(Entity.GRID, self.name, Purpose.REQUEST, request_id)
        draws = RequestDraws(rng, self.spec)
        req = GridRequest(request_id, "project", False, mw, self.env.now, draws)
        req.designated = designated
        self._live[id(req)] = req
        path = start
        for attempt in range(MAX_RESTUDIES + 1):
            req.withdrawn = False
            yield from self.studies.study(req, path)
            path = req.path
            if not req.withdrawn:
                break
            req.request_id = f"{request_id}#{attempt + 2}"
        req.path = path
        share = self.spec.flexible_connection_share
        early: Milestone | None = None
        if share > 0 and not self.headroom.fits(req):
            early_proc = self.env.process(self._energize_early(path, draws))
            secured = yield from self.headroom.secure(req, path)
            early = yield early_proc
        else:
            secured = yield from self.headroom.secure(req, path)
            share = 0.0
        assert secured is not None  # our projects never give up (no patience)
        full = secured
        yield self.env.timeout(draws.connection_days())
        self.headroom.connected(req.mw)
        full = full.then(
            "grid_energization", self.env.now, self.spec.connection_days.median(), self.name
        )
        self._record(req, self.env.now, "energized")
        if early is not None and early.time >= full.time:
            early, share = None, 0.0
        return GridConnection(full, early, share)

    def _energize_early(
        self, path: Milestone, draws: RequestDraws
    ) -> Generator[simpy.Event, Any, Milestone]:
        yield self.env.timeout(draws.early_connection_days())
        return path.then(
            "grid_energization", self.env.now, self.spec.connection_days.median(), "flexible"
        )

    # ------------------------------------------------------------------ records
    def close(self) -> None:
        """At the horizon: requests still in progress are recorded as ``pending``.

        Dropping them would bias every queue statistic toward the requests
        that happened to finish in time.
        """
        for req in list(self._live.values()):
            self._record(req, math.nan, "pending")
        if self.pipeline is not None:
            self.pipeline.close()

    def _record(self, req: GridRequest, energized: float, outcome: str) -> None:
        self._live.pop(id(req), None)
        if req.kind == SITE and outcome != "energized" and self.pipeline is not None:
            self.pipeline.left(req, outcome)
        self.requests.rows.append(
            (
                self.name,
                req.request_id,
                req.kind,
                req.background,
                req.mw,
                req.arrival,
                req.study_start,
                # studies that never began (screened out, gave up waiting) have no end
                req.path.time if not math.isnan(req.study_start) else math.nan,
                energized,
                outcome,
            )
        )
