"""Coalition membership by date, and what counts as a trusted lot.

Membership is data with dates, not code: a lot is trusted at a moment when
every country in its provenance is a member of the trust coalition then.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from paxsim.models.scenario import Coalition
from paxsim.sim.calendar import SimCalendar

__all__ = ["Trust"]


class Trust:
    def __init__(self, coalition: Coalition, calendar: SimCalendar) -> None:
        self.name = coalition.name
        # (country -> list of [joined_day, left_day)) in simulation days
        self._spells: dict[str, list[tuple[float, float]]] = {}
        for m in coalition.members:
            left = calendar.to_days(m.left) if m.left else float("inf")
            self._spells.setdefault(m.country, []).append((calendar.to_days(m.joined), left))

        # Membership changes only on these days; between two of them answers are cached.
        self._changes = sorted({d for spells in self._spells.values() for s in spells for d in s})
        self._cache: dict[tuple[frozenset[str], int], bool] = {}

    def is_member(self, country: str, day: float) -> bool:
        return any(a <= day < b for a, b in self._spells.get(country, ()))

    def is_trusted(self, countries: Iterable[str], day: float) -> bool:
        if not isinstance(countries, frozenset):
            return all(self.is_member(c, day) for c in countries)
        key = (countries, bisect.bisect_right(self._changes, day))
        found = self._cache.get(key)
        if found is None:
            found = all(self.is_member(c, day) for c in countries)
            self._cache[key] = found
        return found

    def members_at(self, day: float) -> frozenset[str]:
        return frozenset(c for c in self._spells if self.is_member(c, day))
