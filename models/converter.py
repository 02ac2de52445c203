"""Facilities that turn inputs into one output by a recipe (magnet makers, fabs).

The recipe gives each input per unit of output. Each step the facility makes
the most its capacity and every input stock allow. The output's provenance is
that of the *primary* input (the first in the recipe), with the countries of
the other inputs consumed in the same step and the maker's own country added.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paxsim.models.facility import InputSlot, ProducingFacility
from paxsim.models.scenario import Converter as ConverterSpec

if TYPE_CHECKING:
    from paxsim.models.chain import Chain

__all__ = ["ConverterFacility"]


class ConverterFacility(ProducingFacility):
    spec: ConverterSpec

    def __init__(self, chain: Chain, name: str, spec: ConverterSpec) -> None:
        super().__init__(chain, name, spec)
        self.add_output(spec.output)
        for material, per_unit in spec.recipe.items():
            self.inputs[material] = InputSlot(
                name, material, list(spec.suppliers[material]), per_unit
            )
        self.primary = next(iter(spec.recipe))
        self._recipe = [(self.inputs[m], per_unit) for m, per_unit in spec.recipe.items()]
        self._per_unit_primary = spec.recipe[self.primary]

    def produce(self, step_days: float) -> None:
        possible = self.available_this_step(step_days)
        if possible <= 0:
            self.limit_reason = "outage" if self.outage_factor < 1 else "ramp_up"
            return
        target = possible
        recipe = self._recipe
        for slot, per_unit in recipe:
            can = slot.stock.level / per_unit
            if can < possible - 1e-9:
                possible = can
                self.limit_reason = f"input:{slot.material}"
        self.short_since_sample += target - possible
        if possible <= 1e-12:
            return
        extra_tags: set[str] = {self.country}
        primary_parts: list[tuple[tuple[str, frozenset[str]], float]] = []
        for slot, per_unit in recipe:
            parts = self.consume(slot, possible * per_unit)
            if slot.material == self.primary:
                primary_parts = parts
            else:
                for (_, tags), _q in parts:
                    extra_tags |= tags
        per_unit_primary = self._per_unit_primary
        extra = frozenset(extra_tags)
        output = self.spec.output
        for (_, tags), qty in primary_parts:
            self.emit(output, qty / per_unit_primary, ("", tags | extra))
