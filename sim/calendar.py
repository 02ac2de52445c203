"""Calendar dates at the edges, float days inside the engine."""

from __future__ import annotations

import datetime as dt

__all__ = ["DAYS_PER_YEAR", "SimCalendar"]

DAYS_PER_YEAR = 365.25


class SimCalendar:
    """Maps simulation time (days since ``start``) to dates and back."""

    def __init__(self, start: dt.date) -> None:
        self.start = start

    def to_days(self, when: dt.date) -> float:
        return float((when - self.start).days)

    def to_date(self, days: float) -> dt.date:
        return self.start + dt.timedelta(days=int(days // 1))

    def year_fraction(self, days: float) -> float:
        return self.start.year + (self.start.timetuple().tm_yday - 1 + days) / DAYS_PER_YEAR
