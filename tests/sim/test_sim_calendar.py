"""Calendar: dates at the edges, float days inside."""

from __future__ import annotations

import datetime as dt

import pytest

from paxsim.sim.calendar import DAYS_PER_YEAR, SimCalendar

START = dt.date(2025, 1, 1)


def test_to_days_and_back() -> None:
    cal = SimCalendar(START)
    assert cal.to_days(START) == 0.0
    assert cal.to_days(dt.date(2025, 3, 1)) == 59.0
    assert cal.to_days(dt.date(2024, 12, 31)) == -1.0
    for d in (0, 1, 59, 365, 366, 1000, -40):
        day = START + dt.timedelta(days=d)
        assert cal.to_date(cal.to_days(day)) == day
    assert isinstance(cal.to_days(START), float)


def test_leap_day_counts() -> None:
    cal = SimCalendar(dt.date(2024, 2, 28))
    assert cal.to_date(1.0) == dt.date(2024, 2, 29)
    assert cal.to_date(2.0) == dt.date(2024, 3, 1)
    assert cal.to_days(dt.date(2025, 2, 28)) == 366.0


@pytest.mark.parametrize(
    ("days", "expected"),
    [(0.0, 0), (0.999, 0), (1.0, 1), (1.5, 1), (-0.25, -1), (-1.0, -1), (364.9, 364)],
)
def test_to_date_floors_fractional_days(days: float, expected: int) -> None:
    assert SimCalendar(START).to_date(days) == START + dt.timedelta(days=expected)


def test_year_fraction() -> None:
    cal = SimCalendar(START)
    assert cal.year_fraction(0.0) == 2025.0
    assert cal.year_fraction(DAYS_PER_YEAR) == pytest.approx(2026.0)
    assert cal.year_fraction(DAYS_PER_YEAR / 2) == pytest.approx(2025.5)
    mid = SimCalendar(dt.date(2025, 7, 2))  # day 183 of the year
    assert mid.year_fraction(0.0) == pytest.approx(2025 + 182 / DAYS_PER_YEAR)
    # monotone in days
    xs = [cal.year_fraction(d) for d in range(0, 2000, 37)]
    assert xs == sorted(xs)


def test_year_fraction_tracks_to_date_within_a_day() -> None:
    cal = SimCalendar(dt.date(2024, 3, 15))
    for days in (0.0, 100.0, 1000.0, 3652.0):
        date = cal.to_date(days)
        jan1 = dt.date(date.year, 1, 1)
        exact = date.year + (date - jan1).days / DAYS_PER_YEAR
        assert abs(cal.year_fraction(days) - exact) < 2.0 / DAYS_PER_YEAR
