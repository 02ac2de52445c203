"""Magnet makers (NdPr metal, and Dy/Tb for high-temperature grades, into NdFeB) and
the metal plants before them (NdPr oxide into metal)."""

from __future__ import annotations

from paxsim.models.converter import ConverterFacility
from paxsim.models.scenario import MagnetMaker as MagnetMakerSpec
from paxsim.models.scenario import MetalPlant as MetalPlantSpec

__all__ = ["MagnetMaker", "MetalPlant"]


class MagnetMaker(ConverterFacility):
    section = "magnet_maker"
    spec: MagnetMakerSpec

    def base_capacity_per_year(self) -> float:
        return self.spec.capacity_t_per_year


class MetalPlant(ConverterFacility):
    section = "metal_plant"
    spec: MetalPlantSpec

    def base_capacity_per_year(self) -> float:
        return self.spec.capacity_t_per_year
