"""Strategic stockpiles: material held in reserve, released by rule.

A stockpile ships only from ``release_from`` and only while its trigger holds:

* ``"date"``: from that date on;
* ``"export_ban"``: while ``ban_exporter`` bans exports of the material to the
  stockpile's country (an export-control regime in ``mode = "ban"``);
* ``"shortage"``: whenever a buyer reaches it, which happens only when that
  buyer's other suppliers fell short (a stockpile is added as the last
  supplier of each buyer in ``eligible``).

``release_t_per_year`` caps the release: at most that rate since the release
began, with a month's worth drawable ahead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paxsim.models.scenario import Stockpile as StockpileSpec
from paxsim.sim.stocks import Stock

if TYPE_CHECKING:
    from paxsim.models.export_control import ExportRegimes
    from paxsim.models.ledger import Ledger
    from paxsim.sim.calendar import SimCalendar

__all__ = ["StockpileFacility"]

_MONTH_DAYS = 365.25 / 12


class StockpileFacility:
    section = "stockpile"

    def __init__(
        self,
        ledger: Ledger,
        calendar: SimCalendar,
        name: str,
        spec: StockpileSpec,
        regimes: ExportRegimes | None = None,
    ) -> None:
        self.name = name
        self.spec = spec
        self.country = spec.country
        self.stock = Stock(f"{name}:{spec.material}")
        countries = spec.provenance or [spec.country]
        tags = frozenset(countries) | frozenset("@" + c for c in countries)
        self.stock.put(spec.initial, ("", tags))
        # The reserve exists before the run: count it as produced for the balance.
        ledger.produced[spec.material] += spec.initial
        self._release_day = calendar.to_days(spec.release_from)
        self._regimes = regimes
        self.outputs = {spec.material: self.stock}
        self.released_t = 0.0
        if spec.release_t_per_year is None:
            self.allowance = None  # type: ignore[assignment]  # no cap: logistics skips the check

    def output_stock(self, material: str) -> Stock | None:
        return self.stock if material == self.spec.material else None

    def can_ship(self, day: float) -> bool:
        if day < self._release_day:
            return False
        if self.spec.release_on == "export_ban":
            return self._banned(day)
        return True

    def _banned(self, day: float) -> bool:
        """Does ``ban_exporter`` ban exports of the material to this country now?"""
        if self._regimes is None or self.spec.ban_exporter is None:
            return False
        regimes = self._regimes.governing(
            self.spec.ban_exporter, self.country, self.spec.material, day
        )
        return bool(regimes) and regimes[0].spec.mode == "ban"

    def allowance(self, day: float) -> float:
        """What the release cap still allows now."""
        rate = self.spec.release_t_per_year
        assert rate is not None
        since = max(0.0, day - self._release_day) + _MONTH_DAYS
        return max(0.0, rate / 365.25 * since - self.released_t)

    def released(self, qty: float) -> None:
        self.released_t += qty

    def start(self) -> None:
        """A stockpile has no process of its own."""
