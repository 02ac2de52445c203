"""Who gets a supplier's stock under shortage: contract tier first, then pro rata.

Buyers poll their suppliers (plants each production step, data-centre phase
orders each step until filled, demand sinks when their cover runs low), so
"first come" would otherwise mean "whoever polls first". The rule here makes
priority explicit and independent of polling order:

* every buyer has a **tier** for each supplier (1 is served first): its own
  ``supply_tier``, or an offtake contract's tier while the contract holds
  and, if it has a volume, until that volume is used;
* a buyer that could not get all it asked for leaves a **claim** on each
  supplier it tried (what it still needs, its tier, when). Claims older than
  two production steps lapse (a buyer that stopped asking no longer needs it);
* when a buyer of tier ``k`` takes from a supplier, the claims of tiers above
  ``k`` are protected: it may take only the stock beyond them. Within its own
  tier it gets its share pro rata to what it and the other claimants need.

So under a shortage the data-centre phases' magnet orders (tier 1 by
default) are filled before other plants' inputs (2) and the rest of the
economy (3), whatever order they poll in; with enough stock, everyone gets
what they ask.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paxsim.models.scenario import Contract
    from paxsim.sim.calendar import SimCalendar

__all__ = ["Allocation"]

#: (tier, quantity still needed, day of the claim)
Claim = tuple[int, float, float]


class _Terms:
    """One contract in simulation days, with the volume it has delivered so far."""

    __slots__ = ("delivered", "end", "rate_per_day", "start", "tier")

    def __init__(self, contract: Contract, calendar: SimCalendar) -> None:
        self.tier = contract.tier
        self.start = calendar.to_days(contract.start) if contract.start else -math.inf
        self.end = calendar.to_days(contract.end) if contract.end else math.inf
        self.rate_per_day = (
            contract.t_per_year / 365.25 if contract.t_per_year is not None else None
        )
        self.delivered = 0.0

    def holds(self, now: float) -> bool:
        if not self.start <= now < self.end:
            return False
        if self.rate_per_day is None:
            return True
        entitled = self.rate_per_day * (now - max(self.start, 0.0) + 365.25 / 12)
        return self.delivered < entitled  # a month's volume may be drawn ahead


class Allocation:
    def __init__(
        self,
        contracts: Mapping[str, Contract],
        calendar: SimCalendar | None,
        step_days: float,
    ) -> None:
        """``calendar`` may be None only when there are no contracts."""
        live = [c for c in contracts.values() if c.enabled]
        self._terms: dict[tuple[str, str, str], _Terms] = {}
        if live:
            if calendar is None:
                raise ValueError("contracts need a calendar")
            self._terms = {(c.buyer, c.supplier, c.material): _Terms(c, calendar) for c in live}
        self._claims: dict[tuple[str, str], dict[str, Claim]] = {}
        self._lapse_days = 2.0 * step_days

    def tier(self, buyer: str, own_tier: int, supplier: str, material: str, now: float) -> int:
        if self._terms:
            terms = self._terms.get((buyer, supplier, material))
            if terms is not None and terms.holds(now):
                return terms.tier
        return own_tier

    def allowed(
        self,
        supplier: str,
        material: str,
        buyer: str,
        tier: int,
        want: float,
        level: float,
        now: float,
    ) -> float:
        """How much of ``want`` the buyer may take from a stock of ``level`` now."""
        claims = self._claims.get((supplier, material))
        if not claims:
            return want
        above = same = 0.0
        oldest = now - self._lapse_days
        lapsed = []
        for who, (t, qty, day) in claims.items():
            if day < oldest:
                lapsed.append(who)
            elif who == buyer:
                continue
            elif t < tier:
                above += qty
            elif t == tier:
                same += qty
        for who in lapsed:  # a buyer that stopped asking: forget it, do not sum it again
            del claims[who]
        free = max(0.0, level - above)
        if same > 0.0 and free < want + same:
            free *= want / (want + same)  # pro rata within the tier, under shortage only
        return min(want, free)

    def taken(self, buyer: str, supplier: str, material: str, qty: float) -> None:
        """Count what a buyer received under its contract (for the contract's volume)."""
        if self._terms:
            terms = self._terms.get((buyer, supplier, material))
            if terms is not None:
                terms.delivered += qty

    def claim(
        self,
        suppliers: list[str],
        material: str,
        buyer: str,
        tier_of: Mapping[str, int],
        still_needed: float,
        now: float,
    ) -> None:
        """After an attempt: leave (or clear) the buyer's claim on every supplier it tried."""
        for supplier in suppliers:
            key = (supplier, material)
            claims = self._claims.get(key)
            if still_needed > 1e-9:
                if claims is None:
                    claims = self._claims[key] = {}
                claims[buyer] = (tier_of[supplier], still_needed, now)
            elif claims is not None:
                claims.pop(buyer, None)
