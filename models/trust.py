"""Trust by rules of origin: country tiers with dates, stages a lot carries, FEOC ownership.

A lot's provenance is a set of tokens (its pool key's tags):

* ``"CN"`` — a country the lot's chain touched (every input, however small);
* ``"@CN"`` — a qualifying stage in that country that confers origin: every
  processing stage on the lot's chain except those reached only through an
  input below the de minimis mass share (:class:`RulesOfOrigin`);
* ``"!feoc"`` — a facility on that origin path is a foreign entity of concern.

A lot is trusted on a day when every origin stage is in a country of an
accepted tier that day (signatory by default; a mandate names its own tiers)
and the path has no foreign entity of concern. Tiers are data with dates:
``members`` (signatories), ``partners``, ``of_concern``; everyone else is neutral.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterable

from paxsim.models.scenario import Coalition, Membership, RulesOfOrigin
from paxsim.sim.calendar import SimCalendar

__all__ = ["FEOC", "Trust", "origin_tokens", "stage_tags", "touched_only"]

FEOC = "!feoc"


def stage_tags(country: str, feoc: bool = False) -> frozenset[str]:
    """The tokens a processing stage in ``country`` adds to what it makes."""
    tags = {country, "@" + country}
    if feoc:
        tags.add(FEOC)
    return frozenset(tags)


def touched_only(tags: frozenset[str]) -> frozenset[str]:
    """An input below the de minimis share: its countries count as touched, not as origin."""
    return frozenset(t for t in tags if t[0] not in "@!")


def origin_tokens(tags: Iterable[str]) -> frozenset[str]:
    """The countries of the origin stages (for a plain country list: those countries)."""
    tags = frozenset(tags)
    origins = frozenset(t[1:] for t in tags if t.startswith("@"))
    if origins:
        return origins
    return frozenset(t for t in tags if t[0] not in "@!")


def _spells(
    members: list[Membership], calendar: SimCalendar
) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {}
    for m in members:
        left = calendar.to_days(m.left) if m.left else float("inf")
        out.setdefault(m.country, []).append((calendar.to_days(m.joined), left))
    return out


class Trust:
    def __init__(
        self, coalition: Coalition, calendar: SimCalendar, rules: RulesOfOrigin | None = None
    ) -> None:
        self.name = coalition.name
        self.rules = rules if rules is not None else RulesOfOrigin()
        self.tiers = tuple(self.rules.trusted_tiers)
        # country -> list of [joined_day, left_day) in simulation days, per tier
        self._by_tier = {
            "signatory": _spells(coalition.members, calendar),
            "partner": _spells(coalition.partners, calendar),
            "concern": _spells(coalition.of_concern, calendar),
        }
        self._spells = self._by_tier["signatory"]
        # Tiers change only on these days; between two of them answers are cached.
        self._changes = sorted(
            {d for table in self._by_tier.values() for sp in table.values() for s in sp for d in s}
        )
        self._cache: dict[tuple[frozenset[str], int, tuple[str, ...]], bool] = {}

    def is_member(self, country: str, day: float) -> bool:
        return any(a <= day < b for a, b in self._spells.get(country, ()))

    def tier(self, country: str, day: float) -> str:
        """signatory, partner, concern or neutral, on ``day``."""
        for name in ("signatory", "partner", "concern"):
            if any(a <= day < b for a, b in self._by_tier[name].get(country, ())):
                return name
        return "neutral"

    def is_trusted(
        self, tags: Iterable[str], day: float, tiers: Collection[str] | None = None
    ) -> bool:
        """Every origin stage in an accepted tier on ``day``, and no FEOC on the path."""
        accepted = self.tiers if tiers is None else tuple(tiers)
        tags = tags if isinstance(tags, frozenset) else frozenset(tags)
        key = (tags, bisect.bisect_right(self._changes, day), accepted)
        found = self._cache.get(key)
        if found is None:
            found = FEOC not in tags and all(
                self.tier(c, day) in accepted for c in origin_tokens(tags)
            )
            self._cache[key] = found
        return found

    def members_at(self, day: float) -> frozenset[str]:
        return frozenset(c for c in self._spells if self.is_member(c, day))
