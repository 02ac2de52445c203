"""Headlines that cannot mislead: full power is the headline, first power stands beside it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from paxsim import load_scenario, simulate

TINY = Path(__file__).parent / "scenarios" / "tiny.toml"
FLEXIBLE = [
    "time.end=2034-01-01",
    "grid.west.spare_mw=0",
    "grid.west.flexible_connection_share=0.5",
]


@pytest.fixture(scope="module")
def flexible():  # type: ignore[no-untyped-def]
    return simulate(load_scenario(TINY, FLEXIBLE), 2)


def test_full_power_is_the_headline_and_first_power_is_beside_it(flexible) -> None:  # type: ignore[no-untyped-def]
    p = flexible.projects
    online = p[p["online_by_horizon"]]
    assert len(online) > 0
    # a flexible connection brought part of the MW earlier than all of it
    assert (online["first_power_day"] < online["online_day"] - 1).any()
    assert (online["first_power_day"] <= online["online_day"] + 1e-9).all()
    np.testing.assert_allclose(online["delay_days"], online["online_day"] - online["planned_day"])
    np.testing.assert_allclose(
        online["first_power_delay_days"], online["first_power_day"] - online["planned_day"]
    )


def test_days_by_cause_explain_the_full_power_date(flexible) -> None:  # type: ignore[no-untyped-def]
    """The critical path whose days the causes split ends on the full-power day."""
    p = flexible.projects[flexible.projects["online_by_horizon"]]
    segments = flexible.critical_path
    last_end = segments.groupby("phase_id")["end_day"].max()
    np.testing.assert_allclose(last_end.loc[p["phase_id"]].to_numpy(), p["online_day"].to_numpy())
    assert (p["first_power_day"] < last_end.loc[p["phase_id"]].to_numpy() - 1).any()


def test_capacity_counts_the_early_share_then_all_of_it(flexible) -> None:  # type: ignore[no-untyped-def]
    p = flexible.projects
    row = p[p["first_power_day"] < p["online_day"] - 30].iloc[0]
    cap = flexible.capacity_online
    west = cap[cap["region"] == row["region"]].set_index("time")["online_mw"]
    between = west[(west.index > row["first_power_day"]) & (west.index < row["online_day"])]
    after = west[west.index >= row["online_day"]]
    assert len(between) and len(after)
    assert after.iloc[-1] >= between.iloc[0] + row["it_mw"] * (1 - row["initial_share"]) - 1e-6
