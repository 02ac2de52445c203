"""Separation plants ("the mill"): concentrate in, separated oxides out.

Each step the plant feeds up to its capacity of concentrate (t REO). Each
lot yields ``basket share x recovery_yield`` of every oxide; heavy oxides (Dy,
Tb) only while the plant has heavy-rare-earth capability, otherwise they stay
in the residue. A supplier not in ``qualified`` must first pass feedstock
qualification: the plant starts it the first time it would need that
supplier, and cannot buy from it until it completes.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from paxsim.models.facility import InputSlot, ProducingFacility
from paxsim.models.scenario import Basket
from paxsim.models.scenario import SeparationPlant as SeparationSpec
from paxsim.models.streams import Entity, Purpose
from paxsim.models.trust import stage_tags

if TYPE_CHECKING:
    from paxsim.models.chain import Chain

__all__ = ["SeparationPlant"]


class SeparationPlant(ProducingFacility):
    section = "separation_plant"
    spec: SeparationSpec

    def __init__(
        self, chain: Chain, name: str, spec: SeparationSpec, baskets: dict[str, Basket]
    ) -> None:
        super().__init__(chain, name, spec)
        self.baskets = {k: b.shares for k, b in baskets.items() if b.enabled}
        for material in sorted({m for shares in self.baskets.values() for m in shares}):
            self.add_output(material)
        self.inputs[spec.input] = InputSlot(name, spec.input, list(spec.suppliers), 1.0)
        self.qualified = set(spec.suppliers if spec.qualified is None else spec.qualified)
        self.qualifying: set[str] = set()
        self.heavy = set(spec.heavy_materials)
        self._stage = stage_tags(spec.country, spec.foreign_entity_of_concern)
        self._heavy_day = (
            chain.ctx.calendar.to_days(spec.heavy_from) if spec.heavy_from is not None else 0.0
        )

    def base_capacity_per_year(self) -> float:
        return self.spec.capacity_t_per_year

    def heavy_now(self) -> bool:
        return self.spec.heavy_capable and self.env.now >= self._heavy_day

    def usable(self, supplier: str) -> str | None:
        if supplier in self.qualified:
            return None
        if supplier not in self.qualifying:
            self.qualifying.add(supplier)
            self.env.process(self._qualify(supplier))
        return "feedstock_qualification"

    def _qualify(self, supplier: str) -> Generator[simpy.Event, Any, None]:
        rng = self.chain.ctx.stream(Entity.FACILITY, self.name, Purpose.QUALIFICATION, supplier)
        yield self.env.timeout(max(0.0, self.spec.qualification_days.sample(rng)))
        self.qualified.add(supplier)
        self.qualifying.discard(supplier)
        self.chain.recorder.event(self.name, f"qualified:{supplier}")

    def produce(self, step_days: float) -> None:
        slot = self.inputs[self.spec.input]
        feed = self.available_this_step(step_days)
        if feed <= 0:
            self.limit_reason = "outage" if self.outage_factor < 1 else "ramp_up"
            return
        if slot.stock.level < feed - 1e-9:
            self.limit_reason = f"input:{slot.material}"
            self.short_since_sample += feed - slot.stock.level
        parts = self.consume(slot, feed)
        heavy_ok = self.heavy_now()
        own = self._stage
        yield_ = self.spec.recovery_yield
        for (grade, tags), qty in parts:
            shares = self.baskets.get(grade, {})
            key = ("", tags | own)
            for material, share in shares.items():
                if share <= 0 or (material in self.heavy and not heavy_ok):
                    continue
                if material in self.outputs:
                    self.emit(material, qty * share * yield_, key)
