"""What every producing facility shares: lifecycle, capacity, inputs, outages.

Lifecycle of a *planned* facility (in this order, documented in docs/model.md):
project start -> permits (authorities in sequence) -> construction; in parallel
from project start, a grid connection for ``grid_mw`` if it has one. It comes
online when both are done, then ramps linearly to capacity over ``ramp_days``.
An *operating* facility is online from the first day.

Every ``step_days`` an online facility produces what its capacity, outages and
input stocks allow (subclasses say how), then tops up its inputs with a
reorder-point policy: when stock plus open orders falls below
``reorder_days`` of full-rate use, it orders up to ``cover_days`` of use.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from paxsim.models.scenario import Facility as FacilitySpec
from paxsim.models.streams import Entity, Purpose
from paxsim.sim.attribution import Milestone
from paxsim.sim.stocks import Parts, PoolKey, Stock

if TYPE_CHECKING:
    from paxsim.models.chain import Chain

__all__ = ["InputSlot", "ProducingFacility"]


class InputSlot:
    """One input material: its stock, suppliers, open orders, and use per unit of output."""

    __slots__ = ("last_reason", "material", "on_order", "per_unit", "stock", "suppliers")

    def __init__(self, owner: str, material: str, suppliers: list[str], per_unit: float) -> None:
        self.material = material
        self.stock = Stock(f"{owner}:{material}")
        self.suppliers = suppliers
        self.on_order = 0.0
        self.per_unit = per_unit
        self.last_reason = ""


class ProducingFacility:
    """Base class; subclasses implement :meth:`produce` and declare inputs/outputs."""

    section = "facility"
    #: A plant ships whenever it has stock (a stockpile waits for its release date).
    always_ships = True

    def __init__(self, chain: Chain, name: str, spec: FacilitySpec) -> None:
        self.chain = chain
        self.env = chain.ctx.env
        self.name = name
        self.supply_tier = spec.supply_tier  # priority under shortage (models/allocation.py)
        self.spec = spec
        self.country = spec.country
        self.inputs: dict[str, InputSlot] = {}
        self.outputs: dict[str, Stock] = {}
        self.online_day: float | None = None
        self.outage_factor = 1.0
        self.limit_reason = "not_online"
        self.produced_since_sample: dict[str, float] = {}
        self.short_since_sample = 0.0
        cal = chain.ctx.calendar
        self._changes = sorted((cal.to_days(c.date), c.capacity) for c in spec.capacity_changes)
        self._trusted_only_day = (
            cal.to_days(spec.trusted_only_from) if spec.trusted_only_from else None
        )
        # Hot-path references, looked up once (a run steps every plant ~600 times).
        self._produced = chain.ledger.produced
        self._consumed = chain.ledger.consumed
        self._provenance_of = chain.recorder.provenance_of
        self._available: float | None = None
        # Only plants with a supplier rule of their own pay for asking it.
        overrides = type(self).usable is not ProducingFacility.usable
        self._usable = self.usable if overrides else None

    # ------------------------------------------------------------------ wiring
    def base_capacity_per_year(self) -> float:
        raise NotImplementedError

    def add_output(self, material: str) -> Stock:
        stock = Stock(f"{self.name}:{material}")
        self.outputs[material] = stock
        return stock

    def output_stock(self, material: str) -> Stock | None:
        return self.outputs.get(material)

    def can_ship(self, day: float) -> bool:
        return True

    def start(self) -> None:
        """Operating plants come online now; planned ones after their permits, build and grid.

        Online, a plant is stepped by the production tick
        (:class:`~paxsim.models.production.ProductionTick`).
        """
        if self.spec.status == "planned":
            self.env.process(self._lifecycle())
        else:
            self._come_online()
            self.chain.production.add_plant(self)
        if self.spec.outages is not None:
            self.env.process(self._outages())

    # ------------------------------------------------------------------ capacity
    def capacity_per_year(self, day: float) -> float:
        cap = self.base_capacity_per_year()
        if not self._changes:
            return cap
        for when, value in self._changes:
            if when <= day:
                cap = value
            else:
                break
        return cap

    def ramp_factor(self, day: float) -> float:
        if self.online_day is None:
            return 0.0
        ramp = self.spec.ramp_days
        if ramp <= 0:
            return 1.0
        return min(1.0, max(0.0, (day - self.online_day) / ramp))

    def available_this_step(self, step_days: float) -> float:
        """Output (in output units) the plant could make this step, before inputs."""
        if self._available is not None:
            return self._available  # worked out by tick() for this very step
        day = self.env.now
        return (
            self.capacity_per_year(day)
            / 365.25
            * step_days
            * self.ramp_factor(day)
            * self.outage_factor
        )

    # ------------------------------------------------------------------ processes
    def _come_online(self) -> None:
        self.online_day = float(self.env.now)
        self.chain.recorder.event(self.name, "online")

    def tick(self, step_days: float) -> None:
        """One production step: produce what capacity and inputs allow, then reorder."""
        # Until an input or an outage says otherwise, output is bounded by capacity.
        self.limit_reason = "at_capacity"
        now = self.env.now
        capacity = self.capacity_per_year(now)
        self._available = capacity / 365.25 * step_days * self.ramp_factor(now) * self.outage_factor
        self.produce(step_days)
        self._available = None
        self.reorder(now, capacity)

    def _lifecycle(self) -> Generator[simpy.Event, Any, None]:
        yield from self._build()
        self._come_online()
        production = self.chain.production
        # A partial first step, up to the next tick of the production grid.
        self.tick(production.until_next(self.env.now))
        production.join(self)

    def _build(self) -> Generator[simpy.Event, Any, None]:
        chain = self.chain
        spec = self.spec
        assert spec.project_start is not None and spec.construction_days is not None
        start_day = chain.ctx.calendar.to_days(spec.project_start)
        rng = chain.ctx.stream(Entity.FACILITY, self.name, Purpose.BUILD)
        construction = max(0.0, spec.construction_days.sample(rng))
        if start_day > 0:
            yield self.env.timeout(start_day)
            milestone = Milestone.origin(self.env.now)
            permits_needed = True
        else:
            # Work done before the simulation starts is taken as done.
            construction = max(0.0, construction + start_day)
            milestone = Milestone.origin(0.0)
            permits_needed = False
        grid_proc = None
        if spec.grid_region is not None and spec.grid_mw > 0:
            region = chain.gates.grid[spec.grid_region]
            grid_proc = self.env.process(region.connect(self.name, spec.grid_mw, milestone))
        if permits_needed:
            for auth in spec.permits:
                milestone = yield from chain.gates.authorities[auth].apply(
                    self.name, self.section, milestone
                )
        self.limit_reason = "under_construction"
        yield self.env.timeout(construction)
        if grid_proc is not None:
            self.limit_reason = "awaiting_grid"
            yield grid_proc

    def _outages(self) -> Generator[simpy.Event, Any, None]:
        spec = self.spec.outages
        assert spec is not None
        rng = self.chain.ctx.stream(Entity.FACILITY, self.name, Purpose.OUTAGES)
        while True:
            yield self.env.timeout(max(1e-6, spec.every_days.sample(rng)))
            self.outage_factor = 1.0 - spec.capacity_lost
            self.chain.recorder.event(self.name, "outage_start")
            yield self.env.timeout(max(0.0, spec.duration_days.sample(rng)))
            self.outage_factor = 1.0
            self.chain.recorder.event(self.name, "outage_end")

    def produce(self, step_days: float) -> None:
        raise NotImplementedError

    def sample_into(self, rows: list[tuple[Any, ...]], now: float) -> None:
        """This plant's contribution to the time series since the last sample."""
        kind = self.section
        name = self.name
        produced = self.produced_since_sample
        for material, stock in self.outputs.items():
            rows.append((now, name, kind, material, "output", produced.get(material, 0.0)))
            rows.append((now, name, kind, material, "output_stock", stock.level))
        for material, slot in self.inputs.items():
            rows.append((now, name, kind, material, "input_stock", slot.stock.level))
            rows.append((now, name, kind, material, "on_order", slot.on_order))
        capacity = self.capacity_per_year(now) * self.ramp_factor(now) * self.outage_factor
        rows.append((now, name, kind, "", "capacity_per_year", capacity))
        rows.append((now, name, kind, "", "shortfall", self.short_since_sample))
        self.produced_since_sample = {}
        self.short_since_sample = 0.0

    # ------------------------------------------------------------------ inputs
    def accept_filter(self, material: str) -> Any:
        """Pools this facility may take: trusted only, if a rule says so now."""
        return self.chain.rules.accept_filter(
            self.country, material, self._trusted_only_day, self.env.now
        )

    def usable(self, supplier: str) -> str | None:
        """Reason a supplier cannot be used now, or None (subclasses add rules)."""
        return None

    def input_rate_per_day(self, slot: InputSlot, day: float) -> float:
        """Full-rate use of an input at the capacity in force on ``day``."""
        return self.capacity_per_year(day) / 365.25 * slot.per_unit

    def reorder(self, now: float, capacity_per_year: float) -> None:
        """Top up each input whose stock plus open orders fell below ``reorder_days`` of use."""
        per_day = capacity_per_year / 365.25
        reorder_days = self.spec.reorder_days
        for slot in self.inputs.values():
            rate = per_day * slot.per_unit
            if rate <= 0:
                continue
            position = slot.stock.level + slot.on_order
            if position >= rate * reorder_days:
                continue
            want = rate * self.spec.cover_days - position
            result = self.chain.logistics.source(
                self,
                slot.material,
                want,
                slot.suppliers,
                self.accept_filter(slot.material),
                self._usable,
            )
            slot.on_order += result.got
            short = want - result.got
            if short > 1e-9:
                slot.last_reason = result.first_reason
                self.chain.recorder.shortage(
                    self.name, slot.material, short, result.first_reason, "order"
                )

    def receive(self, material: str, parts: Parts, arrival: Milestone | None, qty: float) -> None:
        slot = self.inputs[material]
        left = slot.on_order - qty
        slot.on_order = left if left > 0.0 else 0.0
        slot.stock.put_parts(parts)

    def denied(self, material: str, qty: float) -> None:
        slot = self.inputs[material]
        slot.on_order = max(0.0, slot.on_order - qty)
        slot.last_reason = "export_licence_denied"

    # ------------------------------------------------------------------ outputs
    def emit(self, material: str, qty: float, key: PoolKey) -> None:
        if qty <= 1e-12:
            return
        self.outputs[material].put(qty, key)
        self._produced[material] += qty
        since = self.produced_since_sample
        since[material] = since.get(material, 0.0) + qty
        self._provenance_of(self.name, material, key[1], qty)

    def consume(self, slot: InputSlot, qty: float) -> Parts:
        parts, got = slot.stock.take_counted(qty)
        self._consumed[slot.material] += got
        return parts
