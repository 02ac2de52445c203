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

With ``replenish_t_per_year``, a stockpile that is not releasing buys back up
to its initial size from ``replenish_from``, at most at that rate, as the last
buyer in line (tier 9): refilling never takes material from anyone who needs it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from paxsim.models.scenario import Stockpile as StockpileSpec
from paxsim.sim.stocks import Parts, Stock

if TYPE_CHECKING:
    from paxsim.models.export_control import ExportRegimes
    from paxsim.models.ledger import Ledger
    from paxsim.sim.calendar import SimCalendar

__all__ = ["StockpileFacility"]

_MONTH_DAYS = 365.25 / 12
#: Replenishment buys last: after every buyer with a need.
REPLENISH_TIER = 9


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
        self.last_release_day = -math.inf
        # as a buyer, when it replenishes
        self.supply_tier = REPLENISH_TIER
        self.on_order = 0.0
        self.bought_t = 0.0
        self._logistics: Any = None
        self._suppliers = list(spec.replenish_from)

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
        """What the release cap still allows now (no cap: everything)."""
        rate = self.spec.release_t_per_year
        if rate is None:
            return math.inf
        since = max(0.0, day - self._release_day) + _MONTH_DAYS
        return max(0.0, rate / 365.25 * since - self.released_t)

    def released(self, qty: float) -> None:
        self.released_t += qty
        if self._logistics is not None:
            self.last_release_day = self._logistics.env.now

    def releasing(self, day: float) -> bool:
        """Is it handing material out now? A shortage-triggered one: if drawn on lately."""
        if not self.can_ship(day):
            return False
        if self.spec.release_on == "shortage":
            return day - self.last_release_day <= _MONTH_DAYS
        return True

    def start(self) -> None:
        """A stockpile has no process of its own (the production tick steps a replenishing one)."""

    def replenish_with(self, logistics: Any) -> None:
        self._logistics = logistics

    def tick(self, step_days: float) -> None:
        """While not releasing, buy back towards the initial size at the replenishment rate."""
        rate = self.spec.replenish_t_per_year
        if rate is None or self._logistics is None:
            return
        now = self._logistics.env.now
        if self.releasing(now):
            return  # it does not buy what it is handing out
        gap = self.spec.initial - self.stock.level - self.on_order
        want = min(gap, rate / 365.25 * step_days)
        if want <= 1e-9:
            return
        result = self._logistics.source(self, self.spec.material, want, self._suppliers, None)
        self.on_order += result.got

    def receive(self, material: str, parts: Parts, arrival: Any, qty: float) -> None:
        self.on_order = max(0.0, self.on_order - qty)
        self.bought_t += qty
        self.stock.put_parts(parts)

    def denied(self, material: str, qty: float) -> None:
        self.on_order = max(0.0, self.on_order - qty)
