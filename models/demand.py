"""The rest of the economy: a sink that buys a material at a (growing) rate.

Demand is what makes supply tight: EV, wind and electronics magnet demand,
other data centers' accelerator demand. Each step the sink consumes its rate
from its own stock and reorders like a facility; unmet use is a shortage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from paxsim.models.facility import InputSlot
from paxsim.models.scenario import Demand as DemandSpec
from paxsim.sim.attribution import Milestone
from paxsim.sim.stocks import Parts

if TYPE_CHECKING:
    from paxsim.models.chain import Chain

__all__ = ["DemandSink"]


class DemandSink:
    section = "demand"

    def __init__(self, chain: Chain, name: str, spec: DemandSpec) -> None:
        self.chain = chain
        self.env = chain.ctx.env
        self.name = name
        self.supply_tier = spec.supply_tier  # priority under shortage (models/allocation.py)
        self.spec = spec
        self.country = spec.country
        self.slot = InputSlot(name, spec.material, list(spec.suppliers), 0.0)
        self.consumed_since_sample = 0.0
        self.short_since_sample = 0.0
        self._trusted_day = (
            chain.ctx.calendar.to_days(spec.trusted_only_from) if spec.trusted_only_from else None
        )
        self._consumed = chain.ledger.consumed

    def sample_into(self, rows: list[tuple[Any, ...]], now: float) -> None:
        """This sink's contribution to the time series since the last sample."""
        m = self.spec.material
        rows.append((now, self.name, "demand", m, "consumed", self.consumed_since_sample))
        rows.append((now, self.name, "demand", m, "unmet", self.short_since_sample))
        rows.append((now, self.name, "demand", m, "input_stock", self.slot.stock.level))
        self.consumed_since_sample = 0.0
        self.short_since_sample = 0.0

    def rate_per_day(self, day: float) -> float:
        years = day / 365.25
        return self.spec.rate_per_year / 365.25 * (1.0 + self.spec.growth_per_year) ** years

    def start(self) -> None:
        """A sink has no process of its own: the world's production tick steps it."""

    def tick(self, step_days: float) -> None:
        """Consume one step's use from stock, then reorder."""
        rate = self.rate_per_day(self.env.now)
        want = rate * step_days
        _, got = self.slot.stock.take_counted(want)
        self._consumed[self.spec.material] += got
        self.consumed_since_sample += got
        if want - got > 1e-9:
            self.short_since_sample += want - got
        self._reorder(rate)

    def _reorder(self, rate: float) -> None:
        slot = self.slot
        position = slot.stock.level + slot.on_order
        if position >= rate * self.spec.reorder_days:
            return
        want = rate * self.spec.cover_days - position
        accept = self.chain.rules.accept_filter(
            self.country, slot.material, self._trusted_day, self.env.now
        )
        result = self.chain.logistics.source(self, slot.material, want, slot.suppliers, accept)
        slot.on_order += result.got
        if want - result.got > 1e-9:
            slot.last_reason = result.first_reason
            self.chain.recorder.shortage(
                self.name, slot.material, want - result.got, result.first_reason, "order"
            )

    def receive(self, material: str, parts: Parts, arrival: Milestone | None, qty: float) -> None:
        left = self.slot.on_order - qty
        self.slot.on_order = left if left > 0.0 else 0.0
        self.slot.stock.put_parts(parts)

    def denied(self, material: str, qty: float) -> None:
        self.slot.on_order = max(0.0, self.slot.on_order - qty)
        self.slot.last_reason = "export_licence_denied"
