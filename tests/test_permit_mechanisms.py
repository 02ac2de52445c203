"""The permitting office's mechanisms: background mix, review times by kind, requeued attempts."""

from __future__ import annotations

from collections import Counter
from typing import cast

import pytest

from paxsim.models.context import SimContext
from paxsim.models.permitting import PermitOffice
from paxsim.models.scenario import Authority
from paxsim.sim.attribution import Milestone


def _office(horizon_days: float = 1e5, **fields: object) -> tuple[SimContext, PermitOffice]:
    spec = Authority.model_validate(
        {
            "country": "BB",
            "reviewers": 1,
            "review_days": 100,
            "source": "assumption: test",
            **fields,
        }
    )
    ctx = SimContext.standalone(1, horizon_days)
    return ctx, PermitOffice(ctx, "o", spec)


def _apply(ctx: SimContext, office: PermitOffice, rid: str, kind: str = "datacenter") -> Milestone:
    proc = ctx.env.process(office.apply(rid, kind, Milestone.origin(ctx.env.now)))
    ctx.env.run()
    return cast(Milestone, proc.value)


def test_background_kinds_follow_the_mix_weights_and_their_own_review_times() -> None:
    ctx, office = _office(
        horizon_days=2000,
        reviewers=10_000,
        background_per_year=2000,
        background_mix={"solar": 1, "housing": 3},
        review_days_by_kind={"solar": 10, "housing": 30},
    )
    # one application of ours at the end pulls every background request through
    ctx.env.run(until=1500)
    _apply(ctx, office, "p")
    bg = [r for r in ctx.queue_log.records if r.background]
    assert len(bg) > 5000
    kinds = Counter(r.kind for r in bg)
    assert set(kinds) == {"solar", "housing"}
    assert kinds["housing"] / len(bg) == pytest.approx(0.75, abs=0.03)
    for r in bg:
        assert r.end - r.start == pytest.approx({"solar": 10, "housing": 30}[r.kind])
    assert [r.request_id for r in bg[:3]] == ["bg0", "bg1", "bg2"]


def test_a_single_kind_mix_is_all_that_kind() -> None:
    ctx, office = _office(horizon_days=2000, reviewers=10_000, background_per_year=500)
    ctx.env.run(until=1500)
    _apply(ctx, office, "p")
    bg = [r for r in ctx.queue_log.records if r.background]
    assert len(bg) > 1000 and {r.kind for r in bg} == {"other"}


def test_review_time_by_kind_and_the_shot_clock() -> None:
    ctx, office = _office(review_days_by_kind={"datacenter": 40}, shot_clock_days=60)
    assert office.nominal_days("datacenter") == 40
    assert office.nominal_days("plant") == 60  # 100-day review capped by the clock
    assert _apply(ctx, office, "p").time == pytest.approx(40)
    assert _apply(ctx, office, "q", "plant").time == pytest.approx(40 + 60)


def test_a_requeued_application_is_reviewed_again_under_a_new_attempt_id() -> None:
    ctx, office = _office(
        litigation_probability=0.5, litigation_days=50, litigation_outcome="requeue"
    )
    attempts = Counter[int]()
    for k in range(12):
        rid = f"p{k}"
        start = ctx.env.now
        m = _apply(ctx, office, rid)
        records = [r for r in ctx.queue_log.records if r.request_id.split("#")[0] == rid]
        n = len(records)
        attempts[n] += 1
        assert [r.request_id for r in records] == [rid] + [f"{rid}#{i}" for i in range(2, n + 1)]
        assert [r.outcome for r in records] == ["challenged"] * (n - 1) + ["granted"]
        causes = [s.cause for s in m.path]
        assert causes == ["permit_queue", "permit_review", "litigation"] * (n - 1) + [
            "permit_queue",
            "permit_review",
        ]
        reviews = [s for s in m.path if s.cause == "permit_review"]
        assert [s.nominal for s in reviews] == [100.0] + [0.0] * (n - 1)
        assert m.time - start == pytest.approx(n * 100 + (n - 1) * 50)
    assert attempts[1] > 0 and sum(v for k, v in attempts.items() if k > 1) > 0


def test_litigation_delay_adds_the_court_days_once() -> None:
    ctx, office = _office(litigation_probability=1.0, litigation_days=50)
    m = _apply(ctx, office, "p")
    assert [s.cause for s in m.path] == ["permit_queue", "permit_review", "litigation"]
    assert m.time == pytest.approx(150)
    assert [r.outcome for r in ctx.queue_log.records] == ["challenged"]
