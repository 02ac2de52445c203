"""An export-control regime's mechanisms: coverage, the licence desk, quotas, precedence."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
import simpy

from paxsim.models.context import SimContext
from paxsim.models.export_control import ExportRegime, ExportRegimes
from paxsim.models.scenario import ExportControl
from paxsim.sim.calendar import DAYS_PER_YEAR

START = 93.0  # 2025-04-04 from 2025-01-01
END = 365.0  # 2026-01-01


def _regime(name: str = "r", horizon_days: float = 1000, **fields: object) -> ExportRegime:
    return _regimes({name: fields}, horizon_days)[0]


def _regimes(specs: dict[str, dict[str, object]], horizon_days: float = 1000) -> list[ExportRegime]:
    ctx = SimContext.standalone(1, horizon_days)
    out = []
    for name, fields in specs.items():
        spec = ExportControl.model_validate(
            {
                "country": "AA",
                "materials": ["dy_oxide"],
                "start": "2025-04-04",
                "source": "assumption: test",
                **fields,
            }
        )
        out.append(ExportRegime(ctx, name, spec))
    return out


def test_covers_only_its_materials_from_its_country_abroad_while_in_force() -> None:
    r = _regime(end="2026-01-01", exempt_countries=["CC"])
    assert (r.start_day, r.end_day) == (START, END)
    assert r.covers("AA", "BB", "dy_oxide", START)
    assert r.covers("AA", "BB", "dy_oxide", END - 1e-6)
    assert not r.covers("AA", "BB", "dy_oxide", START - 1e-6)
    assert not r.covers("AA", "BB", "dy_oxide", END)
    assert not r.covers("AA", "AA", "dy_oxide", 200)
    assert not r.covers("AA", "CC", "dy_oxide", 200)
    assert not r.covers("BB", "CC", "dy_oxide", 200)
    assert not r.covers("AA", "BB", "tb_oxide", 200)


def test_background_applications_arrive_only_while_the_regime_is_in_force() -> None:
    r = _regime(end="2026-01-01", reviewers=10_000, review_days=5, background_per_year=1000)
    r.desk.close()
    bg = [rec for rec in r.ctx.queue_log.records if rec.background]
    expected = 1000 * (END - START) / DAYS_PER_YEAR
    assert abs(len(bg) - expected) < 4 * expected**0.5
    assert all(START <= rec.arrival < END for rec in bg)
    assert all(rec.end - rec.start == pytest.approx(5) for rec in bg)
    assert [rec.request_id for rec in bg[:2]] == ["bg0", "bg1"]


def test_zero_day_background_reviews_take_no_time() -> None:
    r = _regime(reviewers=10_000, review_days=0, background_per_year=100)
    r.desk.close()
    bg = [rec for rec in r.ctx.queue_log.records if rec.background]
    assert len(bg) > 100
    assert all(rec.end == rec.start == rec.arrival for rec in bg)


def _decide(r: ExportRegime, n: int) -> list[bool]:
    env = r.env
    procs = [env.process(r.apply(f"x{i}", "dy_oxide", 1.0, "buyer")) for i in range(n)]
    env.run()
    return [bool(p.value) for p in procs]


def test_denial_probability_zero_grants_and_one_denies() -> None:
    assert _decide(_regime(review_days=10), 5) == [True] * 5
    r = _regime(review_days=10, denial_probability=1.0)
    assert _decide(r, 5) == [False] * 5
    assert {rec.outcome for rec in r.ctx.queue_log.records} == {"denied"}


def _ship(r: ExportRegime, lots: list[tuple[float, float]]) -> list[float]:
    """Release days of lots (arrival day, qty) through the quota."""
    env = r.env
    released: list[float] = []

    def lot(day: float, qty: float) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(day)
        yield from r.wait_for_quota(qty)
        released.append(env.now)

    for day, qty in lots:
        env.process(lot(day, qty))
    env.run()
    return released


def test_a_quota_holds_lots_to_the_next_quota_year() -> None:
    r = _regime(mode="quota", quota_per_year=100)
    released = _ship(r, [(START + 7, 60), (START + 17, 60)])
    assert released == [START + 7, pytest.approx(START + DAYS_PER_YEAR)]
    assert r.quota_used == 60


def test_a_lot_larger_than_the_quota_passes_at_the_start_of_a_fresh_year() -> None:
    r = _regime(mode="quota", quota_per_year=100)
    released = _ship(r, [(START + 7, 60), (START + 17, 250)])
    assert released == [START + 7, pytest.approx(START + DAYS_PER_YEAR)]


def test_a_quota_that_ends_before_it_renews_releases_lots_at_the_end() -> None:
    r = _regime(mode="quota", quota_per_year=100, end="2025-12-01")
    released = _ship(r, [(START + 7, 60), (START + 17, 60)])
    assert released == [START + 7, pytest.approx(334.0)]


def test_a_regime_in_force_removes_those_it_supersedes_and_a_ban_overrides_the_rest() -> None:
    lic, strict = _regimes({"lic": {}, "strict": {"start": "2025-06-01", "supersedes": ["lic"]}})
    both = ExportRegimes([lic, strict])
    assert both.exporters == frozenset({"AA"})
    assert both.governing("AA", "BB", "dy_oxide", 100) == [lic]
    assert both.governing("AA", "BB", "dy_oxide", 200) == [strict]
    assert both.governing("AA", "BB", "dy_oxide", 201) == [strict]  # cached answer
    assert both.governing("AA", "BB", "dy_oxide", 10) == []
    assert both.governing("ZZ", "BB", "dy_oxide", 200) == []
    lic, ban = _regimes({"lic": {}, "ban": {"mode": "ban", "start": "2025-06-01"}})
    assert ExportRegimes([lic, ban]).governing("AA", "BB", "dy_oxide", 200) == [ban]
    one, two = _regimes({"one": {}, "two": {}})
    assert ExportRegimes([one, two]).governing("AA", "BB", "dy_oxide", 200) == [one, two]
