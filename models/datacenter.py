"""Data-center projects: phases of MW gated by permits, grid, build and supply.

For each phase, from its development start (see docs/model.md for the diagram):

- in parallel: the grid connection request (``it_mw x pue`` MW) and the permits
  (authorities in sequence or in parallel; shared by all phases of a project
  unless ``permit_per_phase``);
- after the permits: construction; at the same moment the phase orders its
  magnets (for electrical and cooling equipment, ``magnet_t_per_mw``) and its
  accelerators (``accelerators_per_mw``);
- once the magnets are all delivered, the equipment is manufactured
  (``equipment_lead_days``);
- when the building, the equipment and the accelerators are all there, the
  accelerators are installed (``accelerator_install_days``);
- the phase is online when it is installed *and* energised.

Every step leaves a :class:`~sim.attribution.Segment`, so the phase's online
date comes with its critical path and the days by cause.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, cast

import simpy

from paxsim.models.grid import GridConnection
from paxsim.models.phase_outcome import phase_outcome
from paxsim.models.scenario import DataCenter as DataCenterSpec
from paxsim.models.scenario import Phase
from paxsim.models.streams import Entity, Purpose
from paxsim.sim.attribution import Milestone, clipped, join
from paxsim.sim.stocks import Parts

if TYPE_CHECKING:
    from paxsim.models.chain import Chain

__all__ = ["DataCenterProject", "PhaseOrder", "SiteSupply", "procure"]


class PhaseOrder:
    """A one-off order of a phase: the receiver that logistics delivers to.

    ``contract_buyer`` (the project) is whose contracts apply; ``supply_tier``
    is the project's priority under shortage.
    """

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        country: str,
        qty: float,
        consumed: Any,
        project: str = "",
        supply_tier: int = 1,
        trust: Any = None,
    ) -> None:
        self.name = name
        self.env = env
        self._trust = trust
        self.trusted = 0.0  # of what arrived, the quantity trusted on arrival
        self.contract_buyer = project or name
        self.supply_tier = supply_tier
        self._consumed = consumed
        self.country = country
        self.qty = qty
        self.sourced = 0.0
        self.received = 0.0
        self.arrivals: list[Milestone] = []
        self.done = env.event()
        #: while everything is on its way the order sleeps until done or a lot is denied
        self.wake: simpy.Event | None = None
        #: a one-off buyer's own generator for transit draws (None: the lane's stream)
        self.transit_rng: Any = None

    def receive(self, material: str, parts: Parts, arrival: Milestone | None, qty: float) -> None:
        self.received += qty
        if self._trust is not None:
            now = self.env.now
            self.trusted += sum(q for key, q in parts if self._trust.is_trusted(key[1], now))
        # Installed in the phase on arrival: it leaves the material balance as used.
        self._consumed[material] += qty
        if arrival is not None:
            self.arrivals.append(arrival)
        if self.received >= self.qty - 1e-9 and not self.done.triggered:
            self.done.succeed()

    def trusted_share(self) -> float:
        """Of what arrived, the share trusted on arrival (NaN if nothing arrived)."""
        return self.trusted / self.received if self.received > 0 else math.nan

    def denied(self, material: str, qty: float) -> None:
        self.sourced -= qty
        if self.wake is not None and not self.wake.triggered:
            self.wake.succeed()  # a lot came back: order again at once


class DataCenterProject:
    section = "datacenter"

    def __init__(self, chain: Chain, name: str, spec: DataCenterSpec) -> None:
        self.chain = chain
        self.env = chain.ctx.env
        self.name = name
        self.spec = spec
        self.country = spec.country
        self.region = chain.gates.grid[spec.grid_region]
        self._permit_done: simpy.Event | None = None
        self._permit_origin = 0.0
        self.state: dict[int, str] = {}
        self.waiting_on: dict[str, str] = {}  # phase id -> latest upstream culprit
        self.orders: dict[tuple[str, str], PhaseOrder] = {}  # (phase id, material) -> order
        # The lists sourcing reads: the world appends contracted suppliers and
        # stockpiles this project may draw on.
        self.magnet_suppliers = list(spec.magnet_suppliers)
        self.accelerator_suppliers = list(spec.accelerator_suppliers)
        cal = chain.ctx.calendar
        self._trusted_day = cal.to_days(spec.trusted_only_from) if spec.trusted_only_from else None

    def phase_id(self, index: int) -> str:
        phase = self.spec.phases[index]
        return f"{self.name}/{phase.name or f'phase{index + 1}'}"

    def start(self) -> None:
        if not self.spec.permit_per_phase:
            self._permit_done = self.env.event()
            self._permit_origin = min(self._start_day(i) for i in range(len(self.spec.phases)))
            self.env.process(self._project_permits())
        for i in range(len(self.spec.phases)):
            self.env.process(self._phase(i))

    # ------------------------------------------------------------------ planning figures
    def permit_nominal(self) -> float:
        offices = [self.chain.gates.authorities[a] for a in self.spec.permits]
        spans = [o.nominal_days(self.section) for o in offices]
        if not spans:
            return 0.0
        return max(spans) if self.spec.permit_mode == "parallel" else sum(spans)

    def planned_transit(self, suppliers: list[str]) -> float:
        if not suppliers:
            return 0.0
        logistics = self.chain.logistics
        first = logistics.suppliers[suppliers[0]]
        return logistics.transit_dist(first.country, self.country).median()

    def unconstrained_days(self, index: int, start_day: float) -> float:
        """Phase length if every step took its median and nothing ever queued."""
        spec = self.spec
        permits = self.permit_nominal()
        if not spec.permit_per_phase:
            first_start = min(self._start_day(i) for i in range(len(spec.phases)))
            permits = max(0.0, first_start + permits - start_day)
        branches = [permits + spec.construction_days.median()]
        if spec.magnet_t_per_mw > 0:
            branches.append(
                permits
                + self.planned_transit(self.magnet_suppliers)
                + spec.equipment_lead_days.median()
            )
        if spec.accelerators_per_mw > 0:
            branches.append(permits + self.planned_transit(self.accelerator_suppliers))
        fitout = max(branches) + spec.accelerator_install_days.median()
        waits = [fitout]
        if spec.colocated_generation_share < 1.0:
            waits.append(self.region.nominal_days())
        if spec.colocated_generation_share > 0.0:
            waits.append(spec.colocated_build_days.median())
        return max(waits)

    def _start_day(self, index: int) -> float:
        return max(0.0, self.chain.ctx.calendar.to_days(self.spec.phases[index].start))

    # ------------------------------------------------------------------ the phase process
    def _phase(self, index: int) -> Generator[simpy.Event, Any, None]:
        spec = self.spec
        phase: Phase = spec.phases[index]
        pid = self.phase_id(index)
        start_day = self._start_day(index)
        if start_day > 0:
            yield self.env.timeout(start_day)
        origin = Milestone.origin(self.env.now)
        rng = self.chain.ctx.stream(Entity.DATACENTER_PHASE, pid, Purpose.BUILD)
        grid_mw = phase.it_mw * spec.pue * (1.0 - spec.colocated_generation_share)
        self.state[index] = "permits"
        grid = self.env.process(self._grid(pid, grid_mw, origin))
        colocated = self.env.process(self._colocated(origin, rng))
        permitted = yield from self._permits(index, origin)
        self.state[index] = "construction"
        construction_days = max(0.0, spec.construction_days.sample(rng))
        magnets = self.env.process(
            self._procure(
                pid,
                spec.magnet_material,
                phase.it_mw * spec.magnet_t_per_mw,
                self.magnet_suppliers,
                permitted,
                "magnet_shortage",
                lead=True,
            )
        )
        chips = self.env.process(
            self._procure(
                pid,
                spec.accelerator_material,
                phase.it_mw * spec.accelerators_per_mw,
                self.accelerator_suppliers,
                permitted,
                "accelerator_shortage",
                lead=False,
            )
        )
        yield self.env.timeout(construction_days)
        built = permitted.then("construction", self.env.now, spec.construction_days.median())
        self.state[index] = "equipment"
        equipped = yield magnets
        self.state[index] = "accelerators"
        delivered = yield chips
        fitout = join(built, equipped, delivered)
        self.state[index] = "install"
        yield self.env.timeout(max(0.0, spec.accelerator_install_days.sample(rng)))
        installed = fitout.then(
            "accelerator_install", self.env.now, spec.accelerator_install_days.median()
        )
        self.state[index] = "grid"
        connection: GridConnection = yield grid
        own_power: Milestone = yield colocated
        first_power = connection.early if connection.early is not None else connection.full
        online = join(installed, first_power, own_power)
        full = join(installed, connection.full, own_power)
        share = connection.early_share if connection.early is not None else 1.0
        self.state[index] = "online"
        # The headline is full power; first power (a flexible connection's
        # early share) is reported beside it, never instead of it.
        self._record(index, start_day, full, grid_mw, online.time, share)

    def planned_day(self, index: int, start_day: float) -> float:
        """The announced online date, or the unconstrained plan where none was announced."""
        phase = self.spec.phases[index]
        if phase.planned_online is None:
            return start_day + self.unconstrained_days(index, start_day)
        return self.chain.ctx.calendar.to_days(phase.planned_online)

    def _record(
        self,
        index: int,
        start_day: float,
        full: Milestone,
        grid_mw: float,
        first_power_day: float,
        initial_share: float,
    ) -> None:
        self.chain.recorder.phase(
            phase_outcome(
                project=self.name,
                index=index,
                phase_id=self.phase_id(index),
                country=self.country,
                region=self.spec.grid_region,
                it_mw=self.spec.phases[index].it_mw,
                grid_mw=grid_mw,
                start_day=start_day,
                planned_day=self.planned_day(index, start_day),
                unconstrained_day=start_day + self.unconstrained_days(index, start_day),
                online=full,
                first_power_day=first_power_day,
                initial_share=initial_share,
            )
        )

    def _grid(
        self, pid: str, grid_mw: float, origin: Milestone
    ) -> Generator[simpy.Event, Any, GridConnection]:
        if grid_mw <= 0:
            return GridConnection(origin)
        connection: GridConnection = yield from self.region.connect(
            pid, grid_mw, origin, designated=self.spec.designated_site
        )
        return connection

    def _colocated(self, origin: Milestone, rng: Any) -> Generator[simpy.Event, Any, Milestone]:
        """On-site generation serving part of the load must itself be built."""
        spec = self.spec
        if spec.colocated_generation_share <= 0:
            return origin
        yield self.env.timeout(max(0.0, spec.colocated_build_days.sample(rng)))
        return origin.then("colocated_generation", self.env.now, spec.colocated_build_days.median())

    def _permits(self, index: int, origin: Milestone) -> Generator[simpy.Event, Any, Milestone]:
        """Per-phase permits, or the project's shared permits seen from this phase's start."""
        if self.spec.permit_per_phase:
            return (yield from self._run_permits(self.phase_id(index), origin))
        assert self._permit_done is not None
        if not self._permit_done.triggered:
            yield self._permit_done
        project_permits = cast(Milestone, self._permit_done.value)
        remaining = max(0.0, self._permit_origin + self.permit_nominal() - origin.time)
        return clipped(project_permits, origin.time, remaining)

    def _project_permits(self) -> Generator[simpy.Event, Any, None]:
        """Shared permits, applied for when the project's earliest phase starts."""
        assert self._permit_done is not None
        if self._permit_origin > 0:
            yield self.env.timeout(self._permit_origin)
        milestone = yield from self._run_permits(self.name, Milestone.origin(self.env.now))
        self._permit_done.succeed(milestone)

    def _run_permits(
        self, request_id: str, origin: Milestone
    ) -> Generator[simpy.Event, Any, Milestone]:
        offices = [self.chain.gates.authorities[a] for a in self.spec.permits]
        if self.spec.permit_mode == "sequence":
            milestone = origin
            for office in offices:
                milestone = yield from office.apply(request_id, self.section, milestone)
            return milestone
        procs = [self.env.process(o.apply(request_id, self.section, origin)) for o in offices]
        if not procs:
            return origin
        results = yield self.env.all_of(procs)
        return join(*(results[p] for p in procs))

    def _procure(
        self,
        pid: str,
        material: str,
        qty: float,
        suppliers: list[str],
        ordered: Milestone,
        shortage_cause: str,
        lead: bool,
    ) -> Generator[simpy.Event, Any, Milestone]:
        """Source a one-off quantity until it has all arrived; returns its path."""
        if qty <= 0:
            return ordered
        order = PhaseOrder(
            self.env,
            pid,
            self.country,
            qty,
            self.chain.ledger.consumed,
            self.name,
            self.spec.supply_tier,
            self.chain.recorder.trust,
        )
        self.orders[(pid, material)] = order
        spec = self.spec
        arrived = yield from procure(
            self.chain,
            order,
            material,
            suppliers,
            ordered,
            shortage_cause,
            self._trusted_day,
            self.planned_transit(suppliers),
            self.waiting_on,
        )
        if not lead:
            return arrived
        rng = self.chain.ctx.stream(Entity.DATACENTER_PHASE, pid, Purpose.EQUIPMENT)
        yield self.env.timeout(max(0.0, spec.equipment_lead_days.sample(rng)))
        return arrived.then(
            "equipment_manufacture", self.env.now, spec.equipment_lead_days.median()
        )


def procure(
    chain: Chain,
    order: PhaseOrder,
    material: str,
    suppliers: list[str],
    ordered: Milestone,
    shortage_cause: str,
    trusted_day: float | None,
    transit_nominal: float,
    waiting_on: dict[str, str] | None = None,
) -> Generator[simpy.Event, Any, Milestone]:
    """Ask the suppliers every step until the whole order has arrived; returns its path.

    Each attempt obeys the buyer's tier and the trusted-only rules in force on
    that day; what is still missing is a shortage, traced upstream.
    """
    env = chain.ctx.env
    rules = chain.rules
    culprit = ""
    step = chain.ctx.step_days
    pid = order.name
    accept = rules.accept_filter(order.country, material, trusted_day, env.now)
    while not order.done.triggered:
        remaining = order.qty - order.sourced
        if remaining > 1e-9:
            path = ordered
            if env.now > ordered.time:
                path = ordered.then(shortage_cause, env.now, 0.0, culprit)
            result = chain.logistics.source(
                order, material, remaining, suppliers, accept, None, path, transit_nominal
            )
            order.sourced += result.got
            if remaining - result.got > 1e-9:
                latest = chain.tracer.chain(result.reasons, material)
                if waiting_on is not None:
                    waiting_on[pid] = f"{material}: {latest}"
                culprit = culprit or latest
                chain.recorder.shortage(
                    pid, material, remaining - result.got, result.first_reason, "phase"
                )
        if order.qty - order.sourced <= 1e-9:
            # Everything is shipped: sleep until it has all arrived or a lot is denied.
            order.wake = env.event()
            yield env.any_of([order.done, order.wake])
            order.wake = None
        else:
            yield env.any_of([order.done, env.timeout(step)])
        accept = rules.accept_filter(order.country, material, trusted_day, env.now)
    return join(*order.arrivals) if order.arrivals else ordered


class SiteSupply:
    """Magnets and accelerators for one region's pipeline sites, ordered when a site commits.

    The same sourcing as a named phase (its tier, the trusted-only rules, export
    licences, transit); a site is *equipped* when its magnets have arrived and
    been built into equipment (``equipment_lead_days``) and its accelerators
    have arrived. Orders are kept, so each site's trusted shares can be reported.
    """

    def __init__(self, chain: Chain, region: str, country: str, pipeline: Any) -> None:
        self.chain = chain
        self.env = chain.ctx.env
        self.region = region
        self.country = country
        self.spec = pipeline
        self.orders: dict[tuple[str, str], PhaseOrder] = {}
        self.magnet_suppliers = list(pipeline.magnet_suppliers)
        self.accelerator_suppliers = list(pipeline.accelerator_suppliers)

    @property
    def orders_anything(self) -> bool:
        return self.spec.magnet_t_per_mw > 0 or self.spec.accelerators_per_mw > 0

    def equip(self, site_id: str, it_mw: float, rng: Any) -> Generator[simpy.Event, Any, float]:
        """A process: order both, wait for them (and the equipment build); return the day.

        ``rng`` is the site's own generator (from the draws fixed when it arrived):
        its transit times and equipment build come from it, not from new streams.
        """
        spec = self.spec
        start = Milestone.origin(self.env.now)
        waits = []
        for material, qty, suppliers, cause in (
            (
                spec.magnet_material,
                it_mw * spec.magnet_t_per_mw,
                self.magnet_suppliers,
                "magnet_shortage",
            ),
            (
                spec.accelerator_material,
                it_mw * spec.accelerators_per_mw,
                self.accelerator_suppliers,
                "accelerator_shortage",
            ),
        ):
            if qty <= 0:
                continue
            order = PhaseOrder(
                self.env,
                site_id,
                self.country,
                qty,
                self.chain.ledger.consumed,
                f"{self.region}:pipeline",
                spec.supply_tier,
                self.chain.recorder.trust,
            )
            order.transit_rng = rng
            self.orders[(site_id, material)] = order
            transit = _median_transit(self.chain, suppliers, self.country)
            waits.append(
                self.env.process(
                    procure(self.chain, order, material, suppliers, start, cause, None, transit)
                )
            )
        if waits:
            yield self.env.all_of(waits)
        if spec.magnet_t_per_mw > 0:
            yield self.env.timeout(max(0.0, spec.equipment_lead_days.sample(rng)))
        return float(self.env.now)

    def trusted_share(self, site_id: str, material: str) -> float:
        order = self.orders.get((site_id, material))
        return order.trusted_share() if order is not None else math.nan


def _median_transit(chain: Chain, suppliers: list[str], country: str) -> float:
    if not suppliers:
        return 0.0
    first = chain.logistics.suppliers[suppliers[0]]
    return chain.logistics.transit_dist(first.country, country).median()
