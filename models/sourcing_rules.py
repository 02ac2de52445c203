"""Sourcing rules: which provenance pools a buyer may take now, and what audit a lot needs.

A trusted-only rule comes from a facility's own ``trusted_only_from`` date or
from a ``policies.trusted_sourcing`` mandate naming the buyer's country and
the material; either way the buyer may then take only pools that are trusted
on that day under the rules of origin (:mod:`~paxsim.models.trust`): the
scenario's trusted tiers for a facility's own rule, the mandate's
``qualifying_tiers`` for a mandate. The rules also say which inputs of a
recipe confer origin (those at or above the de minimis mass share).
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
        self,
        policies: dict[str, TrustedSourcing],
        trust: Trust,
        calendar: SimCalendar,
        unit_mass_t: dict[str, float] | None = None,
    ) -> None:
        self.trust = trust
        self.de_minimis = trust.rules.de_minimis_mass_share
        self._unit_mass = unit_mass_t or {}
        # (start day, countries, materials, audit, tiers) of every enabled mandate
        self._mandates = [
            (
                calendar.to_days(p.start),
                frozenset(p.countries),
                frozenset(p.materials),
                p.audit_days,
                tuple(p.qualifying_tiers) if p.qualifying_tiers else trust.tiers,
            )
            for p in policies.values()
            if p.enabled
        ]
        self.has_mandates = bool(self._mandates)

    def confers_origin(self, output: str, per_unit: float) -> bool:
        """Does an input used at ``per_unit`` per unit of ``output`` confer origin on it?"""
        if self.de_minimis <= 0:
            return True
        share = per_unit / self._unit_mass.get(output, 1.0)
        return share >= self.de_minimis

    def _mandated(self, country: str, material: str, now: float) -> tuple[str, ...] | None:
        """The tiers a mandate in force requires, or None (the strictest if several)."""
        found: tuple[str, ...] | None = None
        for start, countries, materials, _, tiers in self._mandates:
            if now >= start and country in countries and material in materials:
                found = tiers if found is None else tuple(t for t in found if t in tiers)
        return found

    def accept_filter(
        self, country: str, material: str, trusted_only_day: float | None, now: float
    ) -> Accept | None:
        """None when any pool will do; else a test that admits trusted pools only."""
        tiers = self._mandated(country, material, now) if self._mandates else None
        own_rule = trusted_only_day is not None and now >= trusted_only_day
        if tiers is None and not own_rule:
            return None
        if tiers is None:
            tiers = self.trust.tiers
        trust = self.trust
        return lambda key: trust.is_trusted(key[1], now, tiers)

    def audit_days(self, country: str, material: str, now: float) -> _Dist | None:
        if not self._mandates:
            return None
        for start, countries, materials, audit, _ in self._mandates:
            if (
                now >= start
                and country in countries
                and material in materials
                and audit.upper_bound() > 0
            ):
                return audit
        return None
