"""Property tests: invariants that hold for every small scenario hypothesis can draw.

Scenarios come from :mod:`strategies` (tiny.toml with random capacities, rates,
phases, time step, reviewers, spare MW, export control off/licence/ban and a
2-4 year horizon); each is validated with ``validate_raw`` and simulated.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from strategies import scenario_dicts, seeds, tiny_raw

from paxsim.models.loader import validate_raw
from paxsim.models.results import Results
from paxsim.models.scenario import Scenario
from paxsim.models.simulation import simulate

STOCK_VARIABLES = ("input_stock", "output_stock", "on_order")

SETTINGS = settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(SETTINGS, max_examples=8)


def _run(raw: dict, seed: int) -> tuple[Scenario, Results]:
    scenario = validate_raw(raw, "<hypothesis scenario>")
    return scenario, simulate(scenario, seed)


def _planned_mw_by_region(scenario: Scenario) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for dc in scenario.datacenters.values():
        if dc.enabled:
            out[dc.grid_region] += sum(p.it_mw for p in dc.phases)
    return out


# ------------------------------------------------------------------ material balance
@SETTINGS
@given(raw=scenario_dicts(), seed=seeds)
def test_material_balance(raw: dict, seed: int) -> None:
    """For every material: produced = consumed + on hand + in transit."""
    _, results = _run(raw, seed)
    bal = results.balance
    assert not bal.empty
    assert bal["material"].is_unique
    recomputed = bal["produced"] - bal["consumed"] - bal["on_hand"] - bal["in_transit"]
    np.testing.assert_allclose(bal["imbalance"], recomputed, rtol=0, atol=1e-6)
    tolerance = 1e-6 * np.maximum(1.0, bal["produced"].abs())
    bad = bal[bal["imbalance"].abs() > tolerance]
    assert bad.empty, bad.to_string()
    for col in ("produced", "consumed", "on_hand", "in_transit"):
        assert (bal[col] >= -1e-9).all(), bal.to_string()
    # Everything that moved is accounted for.
    assert set(results.shipments["material"]) <= set(bal["material"])


# ------------------------------------------------------------------ stocks
@SETTINGS
@given(raw=scenario_dicts(), seed=seeds)
def test_no_negative_stock(raw: dict, seed: int) -> None:
    _, results = _run(raw, seed)
    ts = results.facility_timeseries
    stocks = ts[ts["variable"].isin(STOCK_VARIABLES)]
    assert not stocks.empty
    negative = stocks[stocks["value"] < -1e-9]
    assert negative.empty, negative.head(10).to_string()
    assert np.isfinite(stocks["value"].to_numpy(dtype=float)).all()


# ------------------------------------------------------------------ megawatts
@SETTINGS
@given(raw=scenario_dicts(), seed=seeds)
def test_online_mw_never_exceeds_planned(raw: dict, seed: int) -> None:
    scenario, results = _run(raw, seed)
    planned = _planned_mw_by_region(scenario)
    cap = results.capacity_online
    assert not cap.empty
    for region, frame in cap.groupby("region"):
        limit = planned.get(str(region), 0.0)
        frame = frame.sort_values("time")
        assert (frame["online_mw"] <= limit + 1e-9).all(), (region, limit, frame.to_string())
        assert (frame["online_mw"] >= -1e-9).all()
        assert (frame["planned_mw"] <= limit + 1e-9).all()
        # Capacity, once online, stays online.
        assert (frame["online_mw"].diff().dropna() >= -1e-9).all(), frame.to_string()

    # Phase by phase: the table's size is the scenario's, and nothing online exceeds it.
    sizes = {
        f"{name}/phase{i + 1}": phase.it_mw
        for name, dc in scenario.datacenters.items()
        for i, phase in enumerate(dc.phases)
    }
    projects = results.projects
    assert set(projects["phase_id"]) == set(sizes)
    for row in projects.itertuples():
        assert row.it_mw == pytest.approx(sizes[row.phase_id])
    online = projects[projects["online_by_horizon"].astype(bool)]
    for row in online.itertuples():
        assert row.it_mw <= sizes[row.phase_id] + 1e-9
        assert row.online_day >= row.start_day - 1e-9
        assert row.online_day <= scenario.time.horizon_days + 1e-9


# ------------------------------------------------------------------ reproducibility
@FEW
@given(raw=scenario_dicts(), seed=seeds)
def test_same_seed_identical_tables(raw: dict, seed: int) -> None:
    scenario = validate_raw(raw, "<hypothesis scenario>")
    first = simulate(scenario, seed).tables()
    second = simulate(scenario, seed).tables()
    assert first.keys() == second.keys()
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name], obj=name)


@FEW
@given(raw=scenario_dicts(), seed_a=seeds, seed_b=seeds)
def test_different_seeds_different_queue_records(raw: dict, seed_a: int, seed_b: int) -> None:
    assume(seed_a != seed_b)
    scenario = validate_raw(raw, "<hypothesis scenario>")
    a = simulate(scenario, seed_a).queue_records
    b = simulate(scenario, seed_b).queue_records
    assert not a.empty
    assert not (a.shape == b.shape and a.equals(b))


# ------------------------------------------------------------------ known crash
def test_phases_out_of_order_simulate() -> None:
    """tiny.toml with phase 2 starting (2025-02-01) before phase 1 (2025-03-01)."""
    raw = tiny_raw()
    raw["datacenters"]["bb_campus"]["phases"][1]["start"] = raw["time"]["start"].replace(month=2)
    scenario = validate_raw(raw, "<tiny, phases out of order>")
    results = simulate(scenario, 0)
    assert len(results.projects) == 2
