"""Sourcing rules: which provenance pools a buyer may take now, and what audit a lot needs.

A trusted-only rule comes from a facility's own ``trusted_only_from`` date or
from a ``policies.trusted_sourcing`` mandate naming the buyer's country and
the material; either way the buyer may then take only pools whose every
country of provenance is a coalition member on that day.
"""

from __future__ import annotations

from collections.abc import Callable

from paxsim.models.scenario import TrustedSourcing
from paxsim.models.trust import Trust
from paxsim.sim.calendar import SimCalendar
from paxsim.sim.distributions import _Dist
from paxsim.sim.stocks import PoolKey

__all__ = ["Accept", "SourcingRules"]

Accept = Callable[[PoolKey], bool]


class SourcingRules:
    def __init__(
        self, policies: dict[str, TrustedSourcing], trust: Trust, calendar: SimCalendar
    ) -> None:
        self.trust = trust
        # (start day, countries, materials, audit) of every enabled mandate
        self._mandates = [
            (
                calendar.to_days(p.start),
                frozenset(p.countries),
                frozenset(p.materials),
                p.audit_days,
            )
            for p in policies.values()
            if p.enabled
        ]
        self.has_mandates = bool(self._mandates)

    def _mandated(self, country: str, material: str, now: float) -> bool:
        if not self._mandates:
            return False
        return any(
            now >= start and country in countries and material in materials
            for start, countries, materials, _ in self._mandates
        )

    def accept_filter(
        self, country: str, material: str, trusted_only_day: float | None, now: float
    ) -> Accept | None:
        """None when any pool will do; else a test that admits trusted pools only."""
        required = (trusted_only_day is not None and now >= trusted_only_day) or self._mandated(
            country, material, now
        )
        if not required:
            return None
        trust = self.trust
        return lambda key: trust.is_trusted(key[1], now)

    def audit_days(self, country: str, material: str, now: float) -> _Dist | None:
        if not self._mandates:
            return None
        for start, countries, materials, audit in self._mandates:
            if (
                now >= start
                and country in countries
                and material in materials
                and audit.upper_bound() > 0
            ):
                return audit
        return None
