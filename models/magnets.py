"""Magnet makers: NdPr oxide (and Dy/Tb for high-temperature grades) into NdFeB."""

from __future__ import annotations

from paxsim.models.converter import ConverterFacility
from paxsim.models.scenario import MagnetMaker as MagnetMakerSpec

__all__ = ["MagnetMaker"]


class MagnetMaker(ConverterFacility):
    section = "magnet_maker"
    spec: MagnetMakerSpec

    def base_capacity_per_year(self) -> float:
        return self.spec.capacity_t_per_year
