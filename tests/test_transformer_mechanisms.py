"""The transformer pool's mechanisms: a production line of slots, or parallel builds."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, cast

import numpy as np
import pytest
import simpy

from paxsim.models.context import SimContext
from paxsim.models.scenario import TransformerSupply
from paxsim.models.transformers import TransformerFactory
from paxsim.sim.calendar import DAYS_PER_YEAR


def _factory(horizon_days: float = 1e4, **fields: object) -> TransformerFactory:
    spec = TransformerSupply.model_validate({"source": "assumption: test", **fields})
    ctx = SimContext.standalone(1, horizon_days)
    return TransformerFactory(ctx, spec)


def _deliveries(f: TransformerFactory, builds: list[float]) -> list[float]:
    """Delivery days of orders placed on day 0; each order's wait ends on its delivery."""
    env = f.env
    arrived: dict[int, float] = {}

    def wait(k: int, build: float) -> Generator[simpy.Event, Any, float]:
        delivered = yield from f.order(f"t{k}", build)
        arrived[k] = env.now
        return delivered

    procs = [env.process(wait(k, b)) for k, b in enumerate(builds)]
    env.run()
    delivered = [cast(float, p.value) for p in procs]
    assert [arrived[k] for k in range(len(builds))] == pytest.approx(delivered)
    return delivered


def test_a_production_line_takes_one_slot_per_unit_then_builds() -> None:
    f = _factory(units_per_year=DAYS_PER_YEAR / 2, build_days=100)  # a 2-day slot
    assert f.slot_days == pytest.approx(2)
    assert f.nominal_days() == pytest.approx(102)
    assert f.queue.servers == 1
    assert _deliveries(f, [100, 100, 50]) == pytest.approx([100, 102, 54])


def test_a_backlog_on_the_line_delays_the_first_slot() -> None:
    f = _factory(units_per_year=DAYS_PER_YEAR / 2, build_days=100, initial_backlog=3)
    assert _deliveries(f, [100]) == pytest.approx([6 + 100])
    backlog = [r for r in f.ctx.queue_log.records if r.background]
    assert [(r.request_id, r.kind, r.start, r.end) for r in backlog] == [
        ("backlog0", "backlog", 0, 2),
        ("backlog1", "backlog", 2, 4),
        ("backlog2", "backlog", 4, 6),
    ]


def test_parallel_slots_build_side_by_side() -> None:
    f = _factory(factory_slots=2, build_days=100)
    assert f.slot_days is None
    assert f.nominal_days() == 100
    assert f.queue.servers == 2
    assert _deliveries(f, [100, 100, 100]) == pytest.approx([100, 100, 200])
    f = _factory(factory_slots=2, build_days=100, initial_backlog=2)
    assert _deliveries(f, [30]) == pytest.approx([130])


def test_background_orders_arrive_from_day_0_and_hold_the_line_for_their_build() -> None:
    f = _factory(horizon_days=50, factory_slots=100_000, build_days=0, background_per_year=3652.5)
    f.queue.close()
    bg = [r for r in f.ctx.queue_log.records if r.background]
    assert abs(len(bg) - 500) < 4 * 500**0.5
    assert min(r.arrival for r in bg) < 1
    assert all(r.end == r.start == r.arrival for r in bg)
    assert [r.request_id for r in bg[:3]] == ["bg0", "bg1", "bg2"]
    assert {r.kind for r in bg} == {"background"}


def test_build_days_are_drawn_from_the_orderers_stream_and_never_negative() -> None:
    f = _factory(build_days={"dist": "uniform", "low": 0, "high": 10})
    draws = [f.build_days(np.random.default_rng(5)) for _ in range(3)]
    assert draws[0] == draws[1] == draws[2] and 0 <= draws[0] <= 10
    z = _factory(build_days=0)
    assert z.build_days(np.random.default_rng(5)) == 0
