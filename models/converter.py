"""Facilities that turn inputs into one output by a recipe (magnet makers, fabs).

The recipe gives each input per unit of output. Each step the facility makes
the most its capacity and every input stock allow. The output's provenance is
that of the *primary* input (the first in the recipe), with the provenance of
the other inputs consumed in the same step and the maker's own stage added.
An input below the de minimis mass share of the output confers no origin: its
countries are kept as touched only (:mod:`~paxsim.models.trust`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paxsim.models.facility import InputSlot, ProducingFacility
from paxsim.models.scenario import Converter as ConverterSpec
from paxsim.models.trust import stage_tags, touched_only

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
        self._stage = stage_tags(spec.country, spec.foreign_entity_of_concern)
        # which inputs confer origin on the output (at or above the de minimis share)
        self._confers = {
            m: chain.rules.confers_origin(spec.output, per_unit)
            for m, per_unit in spec.recipe.items()
        }
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
        extra_tags: set[str] = set(self._stage)
        primary_parts: list[tuple[tuple[str, frozenset[str]], float]] = []
        confers = self._confers
        for slot, per_unit in recipe:
            parts = self.consume(slot, possible * per_unit)
            if slot.material == self.primary:
                primary_parts = parts
            else:
                carried = confers[slot.material]
                for (_, tags), _q in parts:
                    extra_tags |= tags if carried else touched_only(tags)
        per_unit_primary = self._per_unit_primary
        extra = frozenset(extra_tags)
        output = self.spec.output
        primary_confers = confers[self.primary]
        for (_, tags), qty in primary_parts:
            own = tags if primary_confers else touched_only(tags)
            self.emit(output, qty / per_unit_primary, ("", own | extra))
