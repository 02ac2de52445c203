"""The world: build every facility and gate from a scenario, run it, record it.

Explicit phases, after desmod: ``World(scenario, seed)`` builds and connects
(a missing connection fails here, not as a hang), ``run()`` runs the SimPy
environment to the horizon, and :func:`models.results.collect` turns the
records into tables. The world holds no global state: two worlds never share
anything, so batches can run them in any process, in any order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
import simpy

from paxsim.models.datacenter import DataCenterProject
from paxsim.models.demand import DemandSink
from paxsim.models.export_control import ExportRegime, ExportRegimes
from paxsim.models.fab import Fab
from paxsim.models.facility import ProducingFacility
from paxsim.models.interconnection import GRID_REQUEST_COLUMNS, GridRegionGate
from paxsim.models.ledger import Ledger
from paxsim.models.logistics import Logistics, Supplier
from paxsim.models.magnets import MagnetMaker
from paxsim.models.mine import Mine
from paxsim.models.permitting import PermitOffice
from paxsim.models.scenario import Scenario
from paxsim.models.separation import SeparationPlant
from paxsim.models.stockpile import StockpileFacility
from paxsim.models.transformers import TransformerFactory
from paxsim.models.trust import Trust
from paxsim.sim.attribution import Milestone, attribute
from paxsim.sim.calendar import SimCalendar
from paxsim.sim.distributions import _Dist
from paxsim.sim.queues import QueueLog
from paxsim.sim.random import StreamFactory
from paxsim.sim.records import RecordList
from paxsim.sim.stocks import PoolKey

__all__ = ["CAUSES", "World"]

#: Every cause a phase's critical path can contain, in the order tables show them.
CAUSES = (
    "permit_queue",
    "permit_review",
    "litigation",
    "interconnection_queue",
    "interconnection_study",
    "interconnection_restudy",
    "network_upgrade",
    "transformer_delivery",
    "grid_energization",
    "colocated_generation",
    "construction",
    "magnet_shortage",
    "accelerator_shortage",
    "export_licence",
    "export_quota",
    "trusted_audit",
    "transit",
    "equipment_manufacture",
    "accelerator_install",
)

PHASE_COLUMNS = (
    "project",
    "phase",
    "phase_id",
    "country",
    "region",
    "it_mw",
    "grid_mw",
    "start_day",
    "planned_day",
    "unconstrained_day",
    "online_day",
    "critical_cause",
    "culprit",
    "days",
    "path",
)


class World:
    def __init__(self, scenario: Scenario, seed: int | np.random.SeedSequence = 0) -> None:
        self.scenario = scenario
        self.seed = seed
        self.env = simpy.Environment()
        self.calendar = SimCalendar(scenario.time.start)
        self.horizon_days = scenario.time.horizon_days
        self.step_days = scenario.time.step_days
        self.streams = StreamFactory(seed)
        self.ledger = Ledger()
        self.trust = Trust(scenario.coalitions[scenario.trust_coalition], self.calendar)
        self.queue_log = QueueLog()
        self.timeseries = RecordList(("time", "entity", "kind", "material", "variable", "value"))
        self.shortages = RecordList(("time", "entity", "material", "qty", "reason", "context"))
        self.shipments = RecordList(("time", "supplier", "buyer", "material", "qty"))
        self.licences = RecordList(
            ("regime", "applied", "decided", "supplier", "buyer", "material", "qty", "granted")
        )
        self.events = RecordList(("time", "entity", "event"))
        self.phases: list[tuple[Any, ...]] = []
        self.provenance = RecordList(
            ("time", "facility", "material", "provenance", "trusted", "qty")
        )
        self._prov_acc: dict[tuple[str, str, frozenset[str]], float] = defaultdict(float)
        self.awaiting_licence: dict[tuple[str, str], int] = defaultdict(int)
        self.grid_requests = RecordList(GRID_REQUEST_COLUMNS)
        self.exports = RecordList(
            ("time", "supplier", "buyer", "origin", "destination", "material", "qty")
        )
        self.oxide_materials = sorted(
            {m for b in scenario.baskets.values() if b.enabled for m in b.shares}
        )
        self._build_gates()
        self._build_facilities()
        self.logistics = Logistics(self)
        if scenario.time.warm_start:
            self._warm_start()

    # ------------------------------------------------------------------ build
    def _bg(self, name: str) -> np.random.Generator:
        return self.streams.stream(f"background:{name}")

    def _build_gates(self) -> None:
        s = self.scenario
        env, log, horizon = self.env, self.queue_log, self.horizon_days
        self.authorities = {
            name: PermitOffice(
                env, name, spec, log, self.streams.stream(f"permit:{name}"), self._bg(name), horizon
            )
            for name, spec in s.authorities.items()
            if spec.enabled
        }
        self.transformers = (
            TransformerFactory(
                env,
                s.transformers,
                log,
                self.streams.stream("transformers"),
                self._bg("transformers"),
                horizon,
            )
            if s.transformers is not None
            else None
        )
        self.grid = {
            name: GridRegionGate(
                env,
                name,
                spec,
                log,
                self.streams.stream(f"grid:{name}"),
                self._bg(f"grid:{name}"),
                self.transformers,
                horizon,
                self.calendar,
                self.grid_requests,
            )
            for name, spec in s.grid.items()
            if spec.enabled
        }
        self.regimes = ExportRegimes(
            [
                ExportRegime(
                    env,
                    name,
                    spec,
                    self.calendar,
                    log,
                    self.streams.stream(f"licence:{name}"),
                    self._bg(f"licence:{name}"),
                    horizon,
                )
                for name, spec in s.export_controls.items()
                if spec.enabled
            ]
        )

    def _build_facilities(self) -> None:
        s = self.scenario
        self.facilities: dict[str, ProducingFacility] = {}
        builders: list[tuple[dict[str, Any], Callable[..., ProducingFacility]]] = [
            (s.mines, Mine),
            (s.separation_plants, SeparationPlant),
            (s.magnet_makers, MagnetMaker),
            (s.fabs, Fab),
        ]
        for table, cls in builders:
            for name, spec in table.items():
                if spec.enabled:
                    self.facilities[name] = cls(self, name, spec)
        self.stockpiles = {
            name: StockpileFacility(self, name, spec)
            for name, spec in s.stockpiles.items()
            if spec.enabled
        }
        self.suppliers: dict[str, Supplier] = {**self.facilities, **self.stockpiles}
        self.demands = {
            name: DemandSink(self, name, spec) for name, spec in s.demands.items() if spec.enabled
        }
        self.datacenters = {
            name: DataCenterProject(self, name, spec)
            for name, spec in s.datacenters.items()
            if spec.enabled
        }

    def typical_key(self, supplier: str, material: str, depth: int = 8) -> PoolKey:
        """The pool a supplier's output usually falls in: its first-choice chain upstream."""
        sup = self.suppliers[supplier]
        tags: set[str] = {sup.country}
        if isinstance(sup, StockpileFacility):
            return ("", frozenset(sup.spec.provenance or [sup.country]))
        if isinstance(sup, Mine):
            return (sup.spec.basket, frozenset(tags))
        if depth > 0 and isinstance(sup, ProducingFacility):
            for slot in sup.inputs.values():
                if slot.suppliers:
                    _, up = self.typical_key(slot.suppliers[0], slot.material, depth - 1)
                    tags |= up
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
        for fac in self.facilities.values():
            fac.start()
        for dem in self.demands.values():
            dem.start()
        for dc in self.datacenters.values():
            dc.start()
        self.env.process(self._sampler())
        self.env.run(until=self.horizon_days)
        self._sample(self.env.now)
        return self

    def _sampler(self) -> Any:
        every = self.scenario.time.sample_every_days
        while True:
            yield self.env.timeout(every)
            self._sample(self.env.now)

    def _sample(self, now: float) -> None:
        rows = self.timeseries.rows
        for name, fac in self.facilities.items():
            kind = fac.section
            for material, stock in fac.outputs.items():
                rows.append(
                    (
                        now,
                        name,
                        kind,
                        material,
                        "output",
                        fac.produced_since_sample.get(material, 0.0),
                    )
                )
                rows.append((now, name, kind, material, "output_stock", stock.level))
            for material, slot in fac.inputs.items():
                rows.append((now, name, kind, material, "input_stock", slot.stock.level))
                rows.append((now, name, kind, material, "on_order", slot.on_order))
            rows.append(
                (
                    now,
                    name,
                    kind,
                    "",
                    "capacity_per_year",
                    fac.capacity_per_year(now) * fac.ramp_factor(now) * fac.outage_factor,
                )
            )
            rows.append((now, name, kind, "", "shortfall", fac.short_since_sample))
            fac.produced_since_sample = {}
            fac.short_since_sample = 0.0
        for name, dem in self.demands.items():
            m = dem.spec.material
            rows.append((now, name, "demand", m, "consumed", dem.consumed_since_sample))
            rows.append((now, name, "demand", m, "unmet", dem.short_since_sample))
            rows.append((now, name, "demand", m, "input_stock", dem.slot.stock.level))
            dem.consumed_since_sample = 0.0
            dem.short_since_sample = 0.0
        for name, gate in self.grid.items():
            rows.append((now, name, "grid", "", "spare_mw", gate.spare_mw))
            rows.append((now, name, "grid", "", "study_queue", float(gate.queue.in_queue)))
        prov = self.provenance.rows
        trust = self.trust
        for (facility, material, tags), qty in self._prov_acc.items():
            prov.append(
                (now, facility, material, "+".join(sorted(tags)), trust.is_trusted(tags, now), qty)
            )
        self._prov_acc.clear()

    # ------------------------------------------------------------------ rules used by processes
    def accept_filter(
        self, country: str, material: str, trusted_only_day: float | None, now: float
    ) -> Callable[[PoolKey], bool] | None:
        required = trusted_only_day is not None and now >= trusted_only_day
        if not required:
            for pol in self.scenario.policies.trusted_sourcing.values():
                if (
                    pol.enabled
                    and country in pol.countries
                    and material in pol.materials
                    and now >= self.calendar.to_days(pol.start)
                ):
                    required = True
                    break
        if not required:
            return None
        trust = self.trust
        return lambda key: trust.is_trusted(key[1], now)

    def audit_days(self, country: str, material: str) -> _Dist | None:
        now = self.env.now
        for pol in self.scenario.policies.trusted_sourcing.values():
            if (
                pol.enabled
                and country in pol.countries
                and material in pol.materials
                and now >= self.calendar.to_days(pol.start)
                and pol.audit_days.upper_bound() > 0
            ):
                return pol.audit_days
        return None

    def culprit_chain(self, reasons: list[tuple[str, str]], material: str) -> str:
        """Why each supplier could not deliver, each followed upstream (first three)."""
        return " | ".join(self._trace(s, r, material) for s, r in reasons[:3])

    def _trace(self, supplier: str, reason: str, material: str, depth: int = 6) -> str:
        """Follow one supplier's shortage upstream: who was short, and what *they* waited for."""
        links = [f"{supplier}:{reason}"]
        current = supplier
        for _ in range(depth):
            fac = self.facilities.get(current)
            if fac is None or reason != "supplier_short":
                break
            limit = fac.limit_reason
            if not limit.startswith("input:"):
                links.append(f"{current}:{limit}")
                break
            mat = limit.split(":", 1)[1]
            if self.awaiting_licence.get((current, mat), 0) > 0:
                links.append(f"{current}:awaiting export_licence for {mat}")
                break
            last = fac.inputs[mat].last_reason or "input_short"
            links.append(f"{current}:short of {mat} ({last})")
            if ":" not in last:
                break
            reason, current = last.split(":", 1)
        return " <- ".join(links)

    # ------------------------------------------------------------------ records
    def record_shortage(
        self, entity: str, material: str, qty: float, reason: str, context: str
    ) -> None:
        self.shortages.rows.append((self.env.now, entity, material, qty, reason, context))

    def record_shipment(self, supplier: str, buyer: str, material: str, qty: float) -> None:
        self.shipments.rows.append((self.env.now, supplier, buyer, material, qty))

    def record_licence(
        self,
        regime: str,
        supplier: str,
        buyer: str,
        material: str,
        qty: float,
        applied: float,
        granted: bool,
    ) -> None:
        self.licences.rows.append(
            (regime, applied, self.env.now, supplier, buyer, material, qty, granted)
        )

    def record_export(self, supplier: Any, buyer: Any, material: str, qty: float) -> None:
        """A lot crossing a border, at the moment it clears export control."""
        self.exports.rows.append(
            (
                self.env.now,
                supplier.name,
                buyer.name,
                supplier.country,
                buyer.country,
                material,
                qty,
            )
        )

    def record_event(self, entity: str, event: str, time: float) -> None:
        self.events.rows.append((time, entity, event))

    def record_provenance(
        self, facility: str, material: str, tags: frozenset[str], qty: float
    ) -> None:
        self._prov_acc[(facility, material, tags)] += qty

    def record_phase(
        self,
        project: DataCenterProject,
        index: int,
        start_day: float,
        online: Milestone,
        grid_mw: float,
        full_online_day: float,
        initial_share: float,
    ) -> None:
        phase = project.spec.phases[index]
        unconstrained = start_day + project.unconstrained_days(index, start_day)
        planned = (
            self.calendar.to_days(phase.planned_online)
            if phase.planned_online is not None
            else unconstrained
        )
        float_days = (unconstrained - start_day) - online.nominal_length()
        days, unused_float = attribute(online.path, float_days)
        days["unused_float"] = unused_float
        days["plan_optimism"] = unconstrained - planned
        positive = {c: d for c, d in days.items() if c in CAUSES and d > 1e-9}
        critical = max(positive, key=lambda c: positive[c]) if positive else ""
        culprit = ""
        for seg in online.path:
            if seg.cause == critical and seg.detail:
                culprit = seg.detail
        self.phases.append(
            (
                project.name,
                index + 1,
                project.phase_id(index),
                project.country,
                project.spec.grid_region,
                phase.it_mw,
                grid_mw,
                start_day,
                planned,
                unconstrained,
                online.time,
                critical,
                culprit,
                days,
                online.path,
                full_online_day,
                initial_share,
            )
        )
