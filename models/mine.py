"""Mines: concentrate at capacity, with random disruptions.

Output is tonnes of REO in concentrate; its pool grade is the deposit's
basket, so a separation plant knows what oxides the lot will yield.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paxsim.models.facility import ProducingFacility
from paxsim.models.scenario import Mine as MineSpec
from paxsim.models.trust import stage_tags

if TYPE_CHECKING:
    from paxsim.models.chain import Chain

__all__ = ["Mine"]


class Mine(ProducingFacility):
    section = "mine"
    spec: MineSpec

    def __init__(self, chain: Chain, name: str, spec: MineSpec) -> None:
        super().__init__(chain, name, spec)
        self.add_output(spec.output)
        self._key = (spec.basket, stage_tags(spec.country, spec.foreign_entity_of_concern))

    def base_capacity_per_year(self) -> float:
        return self.spec.capacity_t_per_year

    def produce(self, step_days: float) -> None:
        qty = self.available_this_step(step_days)
        if self.outage_factor < 1.0:
            self.limit_reason = "outage"
        self.emit(self.spec.output, qty, self._key)
