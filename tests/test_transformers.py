"""Transformer lead times come out of orders against factory capacity."""

from __future__ import annotations

from typing import Any

import pytest
import simpy

from paxsim.models.context import SimContext
from paxsim.models.scenario import TransformerSupply
from paxsim.models.transformers import TransformerFactory


def _factory(**fields: Any) -> tuple[simpy.Environment, TransformerFactory]:
    spec = TransformerSupply.model_validate(
        {"build_days": 100, "source": "assumption: test", **fields}
    )
    ctx = SimContext.standalone(1, 5000.0)
    return ctx.env, TransformerFactory(ctx, spec)


def _lead(env: simpy.Environment, factory: TransformerFactory, at: float) -> float:
    out: list[float] = []

    def order():  # type: ignore[no-untyped-def]
        yield env.timeout(at)
        delivered = yield from factory.order("ours", 100.0)
        out.append(delivered - at)

    env.process(order())
    env.run()
    return out[0]


def test_an_idle_line_delivers_after_one_slot_and_manufacture() -> None:
    env, factory = _factory(units_per_year=365.25)  # one unit a day
    assert _lead(env, factory, 10.0) == pytest.approx(100.0)


def test_a_backlog_adds_its_share_of_capacity_to_the_lead_time() -> None:
    env, factory = _factory(units_per_year=36.525, initial_backlog=50)  # one unit per 10 days
    # 50 units ahead at 10 days each: the slot opens on day 500, delivery 100 days later
    assert _lead(env, factory, 0.0) == pytest.approx(500.0 + 100.0)


def test_the_backlog_drains_when_demand_is_below_capacity() -> None:
    env, factory = _factory(units_per_year=36.525, initial_backlog=50)
    assert _lead(env, factory, 300.0) == pytest.approx(200.0 + 100.0)


def test_background_demand_above_capacity_lengthens_lead_times() -> None:
    env, factory = _factory(units_per_year=36.525, background_per_year=45.0)
    early = _lead(env, factory, 365.0)
    env, factory = _factory(units_per_year=36.525, background_per_year=45.0)
    late = _lead(env, factory, 3650.0)
    assert late > early + 200  # ~8 units/yr of excess demand pile up ahead


def test_default_world_lead_times_grow_from_the_2024_level(default_run: Any) -> None:
    """Calibrated: the 2024 backlog. Not fitted: that the lead keeps growing (WoodMac 2025:
    128-143 weeks; PwC 2026: up to 4 years)."""
    q = default_run.queue_records
    t = q[(q["gate"] == "transformers") & q["wait"].notna()]
    manufacture = 450.0
    weeks = {
        year: (t[(t["arrival"] >= d) & (t["arrival"] < d + 365)]["wait"].mean() + manufacture) / 7
        for year, d in ((2025, 0.0), (2026, 365.0), (2028, 1096.0))
    }
    assert 90 <= weeks[2025] <= 150
    assert weeks[2026] > weeks[2025]
    assert weeks[2028] > weeks[2026]
