"""Fabs: wafer starts into accelerators; cerium oxide and magnets for tools.

Capacity in accelerators per year = wafer starts per month x 12 x the share of
wafers making AI accelerators x good dies per wafer.
"""

from __future__ import annotations

from paxsim.models.converter import ConverterFacility
from paxsim.models.scenario import Fab as FabSpec

__all__ = ["Fab"]


class Fab(ConverterFacility):
    section = "fab"
    spec: FabSpec

    def base_capacity_per_year(self) -> float:
        return self.spec.capacity_units_per_year
