"""The world: build every component from a scenario, wire them, run them.

Explicit phases, after desmod: ``World(scenario, seed)`` builds and connects
(a missing connection fails here, not as a hang), ``run()`` runs the SimPy
environment to the horizon, and :func:`paxsim.models.results.collect` turns
the records into tables. The world holds no global state: two worlds never
share anything, so batches can run them in any process, in any order.

Components do not reach into the world. Each is built with the
:class:`~paxsim.models.context.SimContext` (clock, streams, calendar) and the
collaborators it uses (:class:`~paxsim.models.chain.Chain`): the gates, the
material ledger, the :class:`~paxsim.models.recorder.Recorder` that owns the
result rows, the sourcing rules, the culprit tracer and logistics. Each
contributes its own rows to the time series (``sample_into``).
"""

from __future__ import annotations

import gc
from collections.abc import Collection, Generator, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import simpy

from paxsim.models.allocation import Allocation
from paxsim.models.chain import Chain, Gates
from paxsim.models.context import SimContext
from paxsim.models.culprits import CulpritTracer
from paxsim.models.datacenter import DataCenterProject, SiteSupply
from paxsim.models.demand import DemandSink
from paxsim.models.export_control import ExportRegime, ExportRegimes
from paxsim.models.fab import Fab
from paxsim.models.facility import ProducingFacility
from paxsim.models.grid import GridRegionGate
from paxsim.models.ledger import Ledger
from paxsim.models.logistics import Logistics, Supplier
from paxsim.models.magnets import MagnetMaker, MetalPlant
from paxsim.models.mine import Mine
from paxsim.models.permitting import PermitOffice
from paxsim.models.phase_outcome import CAUSES, PhaseOutcome
from paxsim.models.production import ProductionTick
from paxsim.models.recorder import Recorder
from paxsim.models.scenario import Scenario
from paxsim.models.separation import SeparationPlant
from paxsim.models.sourcing_rules import SourcingRules
from paxsim.models.stockpile import StockpileFacility
from paxsim.models.transformers import TransformerFactory
from paxsim.models.trust import Trust, stage_tags, touched_only
from paxsim.sim.calendar import SimCalendar
from paxsim.sim.environment import CountingEnvironment
from paxsim.sim.queues import KnownServiceQueue, QueueLog
from paxsim.sim.random import StreamFactory
from paxsim.sim.stocks import PoolKey

__all__ = ["CAUSES", "World"]


@contextmanager
def _no_gc_passes() -> Iterator[None]:
    """A run makes no cyclic garbage worth collecting, but retains ever more records,
    and every GC pass walks them all (16-23 % of run CPU, growing with the horizon)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class World:
    def __init__(
        self,
        scenario: Scenario,
        seed: int | np.random.SeedSequence = 0,
        record: Collection[str] | None = None,
    ) -> None:
        """``record`` names the result tables to record rows for (None: all)."""
        self.scenario = scenario
        self.seed = seed
        self.env = CountingEnvironment()
        self.calendar = SimCalendar(scenario.time.start)
        self.horizon_days = scenario.time.horizon_days
        self.queue_log = QueueLog()
        self.ctx = SimContext(
            env=self.env,
            streams=StreamFactory(seed),
            calendar=self.calendar,
            horizon_days=self.horizon_days,
            step_days=scenario.time.step_days,
            queue_log=self.queue_log,
        )
        trust = Trust(
            scenario.coalitions[scenario.trust_coalition],
            self.calendar,
            scenario.rules_of_origin,
        )
        self.ledger = Ledger()
        self.recorder = Recorder(self.env, trust, record)
        self.gates = self._build_gates()
        self.facilities: dict[str, ProducingFacility] = {}
        self.tracer = CulpritTracer(self.facilities)
        rules = SourcingRules(
            scenario.policies.trusted_sourcing,
            trust,
            self.calendar,
            {m: spec.unit_mass_t for m, spec in scenario.materials.items() if spec.unit_mass_t},
        )
        self.allocation = Allocation(scenario.contracts, self.calendar, scenario.time.step_days)
        self.logistics = Logistics(
            self.ctx,
            scenario.lanes,
            scenario.domestic_transit_days,
            self.gates.regimes,
            self.ledger,
            self.recorder,
            rules,
            self.tracer,
            self.allocation,
        )
        self.production = ProductionTick(self.env, scenario.time.step_days)
        self.chain = Chain(
            self.ctx,
            self.gates,
            self.ledger,
            self.recorder,
            rules,
            self.tracer,
            self.logistics,
            self.production,
        )
        self._build_facilities()
        if scenario.time.warm_start:
            self._warm_start()

    # ------------------------------------------------------------------ build
    @property
    def grid(self) -> dict[str, GridRegionGate]:
        return self.gates.grid

    @property
    def phases(self) -> list[PhaseOutcome]:
        return self.recorder.phases

    def _build_gates(self) -> Gates:
        s, ctx = self.scenario, self.ctx
        transformers = (
            TransformerFactory(ctx, s.transformers) if s.transformers is not None else None
        )
        return Gates(
            grid={
                name: GridRegionGate(
                    ctx,
                    name,
                    spec,
                    transformers,
                    self.recorder.grid_requests,
                    self.recorder.headroom,
                    self.recorder.pipeline_requests,
                )
                for name, spec in s.grid.items()
                if spec.enabled
            },
            authorities={
                name: PermitOffice(ctx, name, spec)
                for name, spec in s.authorities.items()
                if spec.enabled
            },
            regimes=ExportRegimes(
                [
                    ExportRegime(ctx, name, spec)
                    for name, spec in s.export_controls.items()
                    if spec.enabled
                ]
            ),
            transformers=transformers,
        )

    def _build_facilities(self) -> None:
        s, chain = self.scenario, self.chain
        for name, mine in s.mines.items():
            if mine.enabled:
                self.facilities[name] = Mine(chain, name, mine)
        for name, plant in s.separation_plants.items():
            if plant.enabled:
                self.facilities[name] = SeparationPlant(chain, name, plant, s.baskets)
        for name, metal in s.metal_plants.items():
            if metal.enabled:
                self.facilities[name] = MetalPlant(chain, name, metal)
        for name, maker in s.magnet_makers.items():
            if maker.enabled:
                self.facilities[name] = MagnetMaker(chain, name, maker)
        for name, fab in s.fabs.items():
            if fab.enabled:
                self.facilities[name] = Fab(chain, name, fab)
        self.stockpiles = {
            name: StockpileFacility(self.ledger, self.calendar, name, spec, self.gates.regimes)
            for name, spec in s.stockpiles.items()
            if spec.enabled
        }
        suppliers: dict[str, Supplier] = {**self.facilities, **self.stockpiles}
        self.logistics.suppliers.update(suppliers)
        self.demands = {
            name: DemandSink(chain, name, spec) for name, spec in s.demands.items() if spec.enabled
        }
        self.datacenters = {
            name: DataCenterProject(chain, name, spec)
            for name, spec in s.datacenters.items()
            if spec.enabled
        }
        self._supply_pipeline_sites()
        self._add_contracted_suppliers()

    def _supply_pipeline_sites(self) -> None:
        """Pipeline sites that order magnets or accelerators get a SiteSupply of their region."""
        self.site_supplies: dict[str, SiteSupply] = {}
        for name, gate in self.gates.grid.items():
            pipe = gate.spec.datacenter_pipeline
            if gate.pipeline is None or pipe is None:
                continue
            supply = SiteSupply(self.chain, name, gate.spec.country, pipe)
            if supply.orders_anything:
                gate.pipeline.supply = supply
                self.site_supplies[name] = supply

    def _supplier_lists(self) -> dict[tuple[str, str], list[str]]:
        """Every buyer's supplier list by (buyer, material): the lists sourcing reads."""
        lists: dict[tuple[str, str], list[str]] = {}
        for name, fac in self.facilities.items():
            for material, slot in fac.inputs.items():
                lists[(name, material)] = slot.suppliers
        for name, dem in self.demands.items():
            lists[(name, dem.spec.material)] = dem.slot.suppliers
        for name, dc in self.datacenters.items():
            lists[(name, dc.spec.magnet_material)] = dc.magnet_suppliers
            lists[(name, dc.spec.accelerator_material)] = dc.accelerator_suppliers
        return lists

    def _add_contracted_suppliers(self) -> None:
        """A contract's supplier, and a stockpile for its eligible buyers, join the buyer's
        list as its last suppliers: nobody restates a list to add one."""
        lists = self._supplier_lists()
        extra: list[tuple[str, str, str]] = [
            (c.buyer, c.material, c.supplier) for c in self.scenario.contracts.values() if c.enabled
        ]
        for name, pile in self.stockpiles.items():
            extra += [(buyer, pile.spec.material, name) for buyer in pile.spec.eligible]
        for buyer, material, supplier in extra:
            names = lists.get((buyer, material))
            if names is not None and supplier not in names:
                names.append(supplier)

    def typical_key(self, supplier: str, material: str, depth: int = 8) -> PoolKey:
        """The pool a supplier's output usually falls in: its first-choice chain upstream,
        with origin stages carried as production would carry them."""
        sup = self.logistics.suppliers[supplier]
        if isinstance(sup, StockpileFacility):
            countries = sup.spec.provenance or [sup.country]
            return ("", frozenset(countries) | frozenset("@" + c for c in countries))
        feoc = isinstance(sup, ProducingFacility) and sup.spec.foreign_entity_of_concern
        tags: set[str] = set(stage_tags(sup.country, feoc))
        if isinstance(sup, Mine):
            return (sup.spec.basket, frozenset(tags))
        if depth > 0 and isinstance(sup, ProducingFacility):
            for slot in sup.inputs.values():
                if slot.suppliers:
                    _, up = self.typical_key(slot.suppliers[0], slot.material, depth - 1)
                    output = getattr(sup.spec, "output", material)
                    confers = self.chain.rules.confers_origin(output, slot.per_unit)
                    tags |= up if confers else touched_only(up)
        return ("", frozenset(tags))

    def _warm_start(self) -> None:
        """Fill input stocks to their targets: real chains do not start empty.

        The material is booked as produced before the run (like a stockpile),
        with the provenance of each input's first-choice supply chain.
        """
        for fac in self.facilities.values():
            if fac.spec.status != "operating":
                continue  # a plant still to be built has no stock yet
            for slot in fac.inputs.values():
                qty = fac.input_rate_per_day(slot, 0.0) * fac.spec.cover_days
                if qty > 0 and slot.suppliers:
                    slot.stock.put(qty, self.typical_key(slot.suppliers[0], slot.material))
                    self.ledger.produced[slot.material] += qty
        for dem in self.demands.values():
            qty = dem.rate_per_day(0.0) * dem.spec.cover_days
            if qty > 0:
                key = self.typical_key(dem.spec.suppliers[0], dem.spec.material)
                dem.slot.stock.put(qty, key)
                self.ledger.produced[dem.spec.material] += qty

    # ------------------------------------------------------------------ run
    def run(self) -> World:
        with _no_gc_passes():
            for fac in self.facilities.values():
                fac.start()
            for dem in self.demands.values():
                self.production.add_sink(dem)
            for pile in self.stockpiles.values():
                if pile.spec.replenish_t_per_year is not None:
                    pile.replenish_with(self.logistics)
                    self.production.add_sink(pile)
            for dc in self.datacenters.values():
                dc.start()
            self.production.start()
            if self.recorder.keeps_timeseries or self.recorder.keeps_provenance:
                self.env.process(self._sampler())
            self.env.run(until=self.horizon_days)
            self._close_queues()
            if self.recorder.keeps_timeseries or self.recorder.keeps_provenance:
                self._sample(self.env.now)
        return self

    def _close_queues(self) -> None:
        gates = self.gates
        queues: list[KnownServiceQueue] = [o.queue for o in gates.authorities.values()]
        queues += [r.desk for r in gates.regimes.regimes]
        if gates.transformers is not None:
            queues.append(gates.transformers.queue)
        for queue in queues:
            queue.close()
        for gate in gates.grid.values():
            gate.close()
            gate.queue.close()

    def _sampler(self) -> Generator[simpy.Event, Any, None]:
        every = self.scenario.time.sample_every_days
        while True:
            yield self.env.timeout(every)
            self._sample(self.env.now)

    def _sample(self, now: float) -> None:
        rows = self.recorder.timeseries.rows
        for fac in self.facilities.values():
            fac.sample_into(rows, now)
        for dem in self.demands.values():
            dem.sample_into(rows, now)
        for gate in self.gates.grid.values():
            gate.sample_into(rows, now)
        self.recorder.flush_provenance(now)
