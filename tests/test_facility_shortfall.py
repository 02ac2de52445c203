"""What a batch keeps of facility shortages: when each facility first ran short and dry."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from paxsim.models.results.compact import _facility_shortfall


def _series(entity: str, outputs: list[float], shortfalls: list[float]) -> pd.DataFrame:
    rows = []
    for i, (made, short) in enumerate(zip(outputs, shortfalls, strict=True)):
        t = 30.0 * (i + 1)
        rows.append((t, entity, "magnet_maker", "ndfeb_magnet", "output", made))
        rows.append((t, entity, "magnet_maker", "ndfeb_magnet", "shortfall", short))
    return pd.DataFrame(rows, columns=["time", "entity", "kind", "material", "variable", "value"])


def test_short_and_dry_periods_are_counted_from_the_share_made() -> None:
    # made 100 %, 85 % (short), 40 % (dry), 95 %, 0 % (dry)
    ts = _series("maker", [100, 85, 40, 95, 0], [0, 15, 60, 5, 100])
    row = _facility_shortfall(ts).iloc[0]
    assert row["first_short_day"] == 60.0
    assert row["first_dry_day"] == 90.0
    assert row["short_days"] == 3 * 30.0
    assert row["dry_days"] == 2 * 30.0
    assert row["lost_output"] == pytest.approx(180.0)
    assert row["intended_output"] == pytest.approx(500.0)


def test_a_facility_never_short_is_kept_with_no_first_day() -> None:
    ts = pd.concat([_series("fine", [10, 10], [0, 0]), _series("idle", [0, 0], [0, 0])])
    out = _facility_shortfall(ts).set_index("entity")
    assert set(out.index) == {"fine", "idle"}  # idle (nothing intended) is not "dry"
    assert math.isnan(out.loc["fine", "first_dry_day"])
    assert out.loc["idle", "dry_days"] == 0.0


def test_an_empty_series_gives_the_columns() -> None:
    empty = pd.DataFrame(columns=["time", "entity", "kind", "material", "variable", "value"])
    assert "first_dry_day" in _facility_shortfall(empty).columns
