"""Strategic stockpiles: material held in reserve, shippable from a release date."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paxsim.models.scenario import Stockpile as StockpileSpec
from paxsim.sim.stocks import Stock

if TYPE_CHECKING:
    from paxsim.models.ledger import Ledger
    from paxsim.sim.calendar import SimCalendar

__all__ = ["StockpileFacility"]


class StockpileFacility:
    section = "stockpile"

    def __init__(
        self, ledger: Ledger, calendar: SimCalendar, name: str, spec: StockpileSpec
    ) -> None:
        self.name = name
        self.spec = spec
        self.country = spec.country
        self.stock = Stock(f"{name}:{spec.material}")
        tags = frozenset(spec.provenance or [spec.country])
        self.stock.put(spec.initial, ("", tags))
        # The reserve exists before the run: count it as produced for the balance.
        ledger.produced[spec.material] += spec.initial
        self._release_day = calendar.to_days(spec.release_from)
        self.outputs = {spec.material: self.stock}

    def output_stock(self, material: str) -> Stock | None:
        return self.stock if material == self.spec.material else None

    def can_ship(self, day: float) -> bool:
        return day >= self._release_day

    def start(self) -> None:
        """A stockpile has no process of its own."""
