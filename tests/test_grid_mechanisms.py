"""The interconnection gate's mechanisms, each pinned where the mechanism fixes the answer.

Window arithmetic, parallel-phase planning figures, cluster restudies, the
restudy loop of a project, the capacity ledger (spare, reserve, line,
upgrade blocks) and the background requests' withdrawal spreading and draws.
Exact times are asserted wherever fixed durations make them exact; shares of
thousands of background requests are asserted within a few standard errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import Any, cast

import numpy as np
import pytest
import simpy

from paxsim.models.context import SimContext
from paxsim.models.grid import GridRegionGate
from paxsim.models.grid.background import AttributeBlocks
from paxsim.models.grid.capacity import Headroom
from paxsim.models.grid.request import (
    MAX_RESTUDIES,
    GridConnection,
    GridRequest,
    RequestDraws,
    collapse_parallel,
)
from paxsim.models.grid.studies import Studies
from paxsim.models.scenario import GridRegion, TransformerSupply
from paxsim.models.transformers import TransformerFactory
from paxsim.sim.arrivals import piecewise_poisson_times
from paxsim.sim.attribution import Milestone
from paxsim.sim.distributions import Fixed
from paxsim.sim.queues import QueueLog

TWO_PHASES = [{"name": "cluster", "days": 300}, {"name": "facilities", "days": 200}]


def _withdrawing(p: float) -> dict[str, object]:
    """One 100-day study phase that a project withdraws from with probability ``p``."""
    return {
        "study_days": None,
        "study_phases": [{"name": "study", "days": 100, "withdrawal_probability": p}],
    }


def _spec(**fields: object) -> GridRegion:
    return GridRegion.model_validate(
        {
            "country": "BB",
            "spare_mw": 100,
            "study_teams": 1,
            "study_days": 100,
            "connection_days": 10,
            "upgrade_days": 500,
            "upgrade_mw": 100,
            "transformers_per_upgrade": 0,
            "source": "assumption: test",
            **fields,
        }
    )


def _ctx(seed: int = 1, horizon_days: float = 1e5) -> SimContext:
    return SimContext.standalone(seed, horizon_days)


def _gate(horizon_days: float = 1e5, **fields: object) -> tuple[simpy.Environment, GridRegionGate]:
    ctx = _ctx(horizon_days=horizon_days)
    return ctx.env, GridRegionGate(ctx, "r", _spec(**fields), None)


def _connect(env: simpy.Environment, gate: GridRegionGate, mw: float, **kw: Any) -> Any:
    proc = env.process(gate.connect("p", mw, Milestone.origin(env.now), **kw))
    env.run()
    return proc.value


def _request(spec: GridRegion, rid: str, mw: float, **kw: Any) -> GridRequest:
    draws = RequestDraws(np.random.default_rng(0), spec)
    return GridRequest(rid, "project", False, mw, 0.0, draws, **kw)


def _causes(m: Milestone) -> list[str]:
    return [s.cause for s in m.path]


def _ledger(gate_or_room: Any) -> Any:
    room = gate_or_room.headroom if isinstance(gate_or_room, GridRegionGate) else gate_or_room
    return room.table.to_frame()


# ---------------------------------------------------------------------------- planning figures
def test_collapse_parallel_takes_the_longest_draw_the_longest_median_and_any_withdrawal() -> None:
    plan = [("a", 300.0, 250.0, 0.2), ("b", 200.0, 260.0, 0.5), ("c", 10.0, 5.0, 0.0)]
    ((name, days, nominal, p),) = collapse_parallel(plan)
    assert (name, days, nominal) == ("parallel_studies", 300.0, 260.0)
    assert p == pytest.approx(1.0 - 0.8 * 0.5)


def test_nominal_days_add_serial_phases_and_take_the_longest_parallel_one() -> None:
    _, serial = _gate(study_days=None, study_phases=TWO_PHASES)
    _, parallel = _gate(study_days=None, study_phases=TWO_PHASES, parallel_studies=True)
    assert serial.nominal_days() == pytest.approx(300 + 200 + 10)
    assert parallel.nominal_days() == pytest.approx(300 + 10)


def test_next_window_is_the_first_window_then_every_cycle() -> None:
    _, gate = _gate(cluster_cycle_days=365, first_window_days=200)
    expected = {0.0: 200, 199.5: 200, 200.0: 200, 200.5: 565, 564.0: 565, 565.0: 565, 566.0: 930}
    for now, window in expected.items():
        assert gate.next_window(now) == pytest.approx(window), now
    _, no_windows = _gate()
    assert no_windows.next_window(123.0) == 123.0


# ---------------------------------------------------------------------------- a project's request
def test_an_upgrade_is_sized_in_whole_blocks_with_no_extra_block_on_an_exact_multiple() -> None:
    env, gate = _gate(spare_mw=0)
    conn = _connect(env, gate, 200)
    assert conn.full.time == pytest.approx(100 + 500 + 10)
    upgrade = [s for s in conn.full.path if s.cause == "network_upgrade"]
    assert [s.detail for s in upgrade] == ["r:upgrade1"]
    assert gate.upgrades_started == 1
    assert gate.connected_mw == pytest.approx(200)
    assert gate.spare_mw == pytest.approx(0)  # exactly two 100-MW blocks, both taken
    assert gate.reserved_mw == 0
    ledger = _ledger(gate)
    waiting = ledger[ledger["event"] == "waiting"].iloc[0]
    assert (waiting["building_mw"], waiting["waiting_mw"]) == (200, 200)
    landed = ledger[ledger["event"] == "upgrade_landed"].iloc[0]
    assert landed["time"] == pytest.approx(600)
    assert (landed["building_mw"], landed["waiting_mw"], landed["spare_mw"]) == (0, 0, 0)


def test_zero_day_upgrade_and_connection_take_no_time() -> None:
    env, gate = _gate(upgrade_days=0, connection_days=0)
    conn = _connect(env, gate, 150)
    assert conn.full.time == pytest.approx(100)
    assert _causes(conn.full)[-2:] == ["network_upgrade", "grid_energization"]


def test_project_rows_say_project_and_a_pending_project_is_recorded_at_close() -> None:
    env, gate = _gate()
    env.process(gate.connect("p", 50, Milestone.origin(0.0)))
    env.run(until=50)
    gate.close()
    rows = gate.requests.to_frame()
    assert rows[["request_id", "kind", "background", "outcome"]].values.tolist() == [
        ["p", "project", False, "pending"]
    ]


def test_an_undesignated_project_waits_for_the_window_by_default() -> None:
    env, gate = _gate(cluster_cycle_days=365, first_window_days=200)
    conn = _connect(env, gate, 50)
    assert conn.full.time == pytest.approx(200 + 100 + 10)


def _attempts(log: QueueLog) -> dict[str, list[tuple[str, str]]]:
    """Each project's studies in order: (request id, outcome)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for rec in log.records:
        if rec.gate == "grid:r:requests" and not rec.background:
            out.setdefault(rec.request_id.split("#")[0], []).append((rec.request_id, rec.outcome))
    return out


def test_a_project_that_always_withdraws_is_restudied_max_restudies_times_then_proceeds() -> None:
    ctx = _ctx()
    gate = GridRegionGate(ctx, "r", _spec(**_withdrawing(1.0)), None)
    proc = ctx.env.process(gate.connect("p", 50, Milestone.origin(0.0)))
    ctx.env.run()
    conn = cast(GridConnection, proc.value)
    studies = MAX_RESTUDIES + 1
    assert studies == 6
    assert conn.full.time == pytest.approx(studies * 100 + 10)
    ids = ["p"] + [f"p#{k}" for k in range(2, studies + 1)]
    assert _attempts(ctx.queue_log)["p"] == [(i, "withdrawn") for i in ids]
    assert _causes(conn.full).count("interconnection_study") == studies


def test_a_restudy_starts_clean_each_attempt_ends_at_the_first_study_kept() -> None:
    ctx = _ctx(seed=3)
    gate = GridRegionGate(ctx, "r", _spec(study_teams=50, **_withdrawing(0.5)), None)
    procs = [ctx.env.process(gate.connect(f"p{k}", 1, Milestone.origin(0.0))) for k in range(30)]
    ctx.env.run()
    attempts = _attempts(ctx.queue_log)
    assert len(attempts) == 30
    restudied_then_kept = 0
    for rid, seq in attempts.items():
        outcomes = [o for _, o in seq]
        k = len(seq)
        assert [i for i, _ in seq] == [rid] + [f"{rid}#{n}" for n in range(2, k + 1)]
        if outcomes[-1] == "studied":
            assert outcomes == ["withdrawn"] * (k - 1) + ["studied"]
            restudied_then_kept += k > 1
        else:
            assert k == MAX_RESTUDIES + 1
    assert restudied_then_kept >= 3
    for proc in procs:  # studies back to back, one team each: 100 days an attempt
        conn = cast(GridConnection, proc.value)
        n = _causes(conn.full).count("interconnection_study")
        assert conn.full.time == pytest.approx(n * 100 + 10)


# ---------------------------------------------------------------------------- clusters
def _studies(**fields: object) -> tuple[simpy.Environment, Studies, QueueLog]:
    env = simpy.Environment()
    log = QueueLog()
    spec = _spec(**fields)
    return env, Studies(env, "r", spec, log, np.random.default_rng(0), 1e5), log


def _cluster(restudy: bool, b_withdraws: float) -> tuple[dict[str, GridRequest], dict[str, float]]:
    fields: dict[str, object] = {"cluster_cycle_days": 1000, "first_window_days": 50}
    if restudy:
        fields["restudy_days"] = 40
    env, studies, _ = _studies(**fields)
    reqs = {
        "a": _request(studies.spec, "a", 10, phase_withdrawal=0.0),
        "b": _request(studies.spec, "b", 10, phase_withdrawal=b_withdraws),
        "c": _request(studies.spec, "c", 10, phase_withdrawal=0.0),
    }
    done: dict[str, float] = {}

    def finished(name: str) -> Callable[[], None]:
        return lambda: done.__setitem__(name, env.now)

    for name, req in reqs.items():
        studies.begin(req, Milestone.origin(0.0), finished(name))
    env.run()
    return reqs, done


def test_a_withdrawal_in_a_cluster_restudies_the_rest() -> None:
    reqs, done = _cluster(restudy=True, b_withdraws=1.0)
    a, b = reqs["a"], reqs["b"]
    assert b.withdrawn and not a.withdrawn
    assert (a.restudies, b.restudies, reqs["c"].restudies) == (1, 0, 1)
    assert _causes(a.path) == [
        "interconnection_queue",
        "interconnection_study",
        "interconnection_queue",
        "interconnection_restudy",
    ]
    restudy = a.path.path[-1]
    assert (restudy.start, restudy.end, restudy.detail) == (150, 190, "r/study")
    assert a.path.time == 190 and reqs["c"].path.time == 190
    assert b.path.time == 150
    assert a.study_start == 50
    assert done == {"a": 190, "b": 190, "c": 190}


def test_no_withdrawal_no_restudy() -> None:
    reqs, done = _cluster(restudy=True, b_withdraws=0.0)
    for req in reqs.values():
        assert req.restudies == 0 and not req.withdrawn
        assert _causes(req.path) == ["interconnection_queue", "interconnection_study"]
        assert req.path.time == 150
    assert done == {"a": 150, "b": 150, "c": 150}


def test_without_restudy_days_the_rest_of_the_cluster_carries_on() -> None:
    reqs, done = _cluster(restudy=False, b_withdraws=1.0)
    assert reqs["a"].restudies == 0 and reqs["a"].path.time == 150
    assert done["a"] == 150


def test_a_designated_site_goes_ahead_of_a_waiting_cluster() -> None:
    env, studies, _ = _studies(cluster_cycle_days=1000, first_window_days=50)
    spec = studies.spec
    d1 = _request(spec, "d1", 10, designated=True)
    a = _request(spec, "a", 10)
    d2 = _request(spec, "d2", 10, designated=True)
    done: dict[str, float] = {}

    def later() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(60)  # the cluster has been waiting for the team since day 50
        studies.begin(d2, Milestone.origin(60.0), lambda: done.__setitem__("d2", env.now))

    studies.begin(d1, Milestone.origin(0.0), lambda: done.__setitem__("d1", env.now))
    studies.begin(a, Milestone.origin(0.0), lambda: done.__setitem__("a", env.now))
    env.process(later())
    env.run()
    assert done == {"d1": 100, "d2": 200, "a": 300}


# ---------------------------------------------------------------------------- capacity
def _reserved(start: str, mw: float) -> list[dict[str, object]]:
    return [{"start": start, "mw": mw, "source": "assumption: test"}]


def test_a_reserve_started_before_the_run_serves_a_designated_site_at_once() -> None:
    # started in 2020 with a 150-day build: landed before day 0
    env, gate = _gate(spare_mw=0, upgrade_days=150, reserved_upgrades=_reserved("2020-01-01", 300))
    conn = _connect(env, gate, 100, designated=True)
    assert conn.full.time == pytest.approx(100 + 10)
    assert "network_upgrade" not in _causes(conn.full)
    assert gate.reserved_mw == pytest.approx(200)
    assert gate.spare_mw == 0 and gate.upgrades_started == 0
    ledger = _ledger(gate)
    landed = ledger[ledger["event"] == "reserved_landed"]
    assert landed["time"].tolist() == [0.0]


def test_a_reserve_started_during_the_run_takes_its_whole_build() -> None:
    env, gate = _gate(spare_mw=0, upgrade_days=150, reserved_upgrades=_reserved("2025-02-01", 300))
    env.run()
    ledger = _ledger(gate)
    started = ledger[ledger["event"] == "reserved_started"]["time"].tolist()
    landed = ledger[ledger["event"] == "reserved_landed"]["time"].tolist()
    assert started == [31.0] and landed == [181.0]
    assert gate.reserved_mw == 300


def _room(spare: float, reserve: float) -> tuple[simpy.Environment, Headroom, GridRegion]:
    env = simpy.Environment()
    spec = _spec(spare_mw=spare, upgrade_days=150)
    room = Headroom(env, "r", spec, None)
    room.add_reserved_upgrade(-1000.0, reserve, np.random.default_rng(0), "r:reserved0")
    env.run(until=1)
    assert room.reserved_mw == reserve
    return env, room, spec


def test_fits_counts_the_reserve_only_for_designated_sites_and_exactly() -> None:
    env, room, spec = _room(spare=50, reserve=49.5)

    def fits(mw: float, designated: bool) -> bool:
        return room.fits(_request(spec, "x", mw, designated=designated))

    assert fits(50, False) and not fits(50.5, False)
    assert fits(99.5, True) and not fits(99.6, True)
    # a line forms: now only a designated site's own reserve may be counted
    env.process(room.secure(_request(spec, "big", 200), Milestone.origin(1.0)))
    env.run(until=2)
    assert room.waiting_mw == 200
    assert not fits(10, False)
    assert fits(49.5, True) and not fits(50, True)


def test_take_behind_a_line_uses_only_the_designated_reserve() -> None:
    env, room, spec = _room(spare=50, reserve=49.5)
    env.process(room.secure(_request(spec, "big", 200), Milestone.origin(1.0)))
    env.run(until=2)
    assert not room.take(_request(spec, "d", 60, designated=True))
    assert not room.take(_request(spec, "u", 10))
    assert room.take(_request(spec, "d", 40, designated=True))
    assert (room.reserved_mw, room.spare_mw) == pytest.approx((9.5, 50))


def test_take_without_a_line_uses_the_reserve_first_then_spare() -> None:
    _, room, spec = _room(spare=50, reserve=49.5)
    assert room.take(_request(spec, "d", 70, designated=True))
    assert (room.reserved_mw, room.spare_mw) == pytest.approx((0, 29.5))
    assert not room.take(_request(spec, "d", 30, designated=True))
    assert room.take(_request(spec, "u", 29.5))
    assert room.spare_mw == 0


def test_designated_sites_waiting_for_a_reserve_take_it_in_order_as_it_lands() -> None:
    env = simpy.Environment()
    spec = _spec(spare_mw=0, upgrade_days=150)
    room = Headroom(env, "r", spec, None)
    room.add_reserved_upgrade(0.0, 300, np.random.default_rng(0), "r:reserved0")
    got: dict[str, float] = {}

    def wait(req: GridRequest) -> Generator[simpy.Event, Any, None]:
        m = yield from room.secure(req, Milestone.origin(env.now))
        got[req.request_id] = m.time
        assert m.path[-1].detail == "r:reserved0"

    for rid, mw in (("d1", 100), ("d2", 150)):
        env.process(wait(_request(spec, rid, mw, designated=True)))
    env.run()
    assert got == {"d1": 150, "d2": 150}
    assert room.reserved_mw == pytest.approx(50)
    assert room.upgrades_started == 0 and room.waiting_mw == 0


def test_the_line_is_served_in_order_while_the_head_fits() -> None:
    env = simpy.Environment()
    spec = _spec(spare_mw=0, upgrade_days=100, upgrade_mw=100)
    room = Headroom(env, "r", spec, None)
    room.add_prebuilt(50.0, 120)
    got: dict[str, float] = {}

    def wait(req: GridRequest) -> Generator[simpy.Event, Any, None]:
        m = yield from room.secure(req, Milestone.origin(env.now))
        got[req.request_id] = m.time

    for rid, mw in (("a", 100), ("b", 50), ("c", 10)):
        env.process(wait(_request(spec, rid, mw)))
    env.run()
    # a's 100-MW deficit starts one block, b's extra 50 MW a second, c's 10 MW
    # fit in what is being built; both land on day 100. The prebuilt 120 MW on
    # day 50 serve a (100); then b (50) does not fit, so c (10) waits behind it
    assert got == {"a": 50, "b": 100, "c": 100}
    assert room.upgrades_started == 2
    ledger = _ledger(room)
    prebuilt = ledger[ledger["event"] == "prebuilt"]
    assert prebuilt[["time", "spare_mw", "waiting_mw", "building_mw"]].values.tolist() == [
        [50, 20, 60, 200]
    ]
    assert room.spare_mw == pytest.approx(120 + 200 - 160)
    assert room.waiting_mw == 0


# ---------------------------------------------------------------------------- background
def _background(**fields: object) -> tuple[GridRegionGate, Any]:
    env, gate = _gate(horizon_days=60, **fields)
    env.run(until=50)
    gate.close()
    return gate, gate.requests.to_frame()


@pytest.mark.parametrize(
    "phases",
    [
        {"study_days": 1},
        {"study_days": None, "study_phases": [{"name": "a", "days": 1}, {"name": "b", "days": 1}]},
        {
            "study_days": None,
            "study_phases": [{"name": "a", "days": 1}, {"name": "b", "days": 1}],
            "parallel_studies": True,
        },
    ],
    ids=["one_phase", "two_serial", "two_parallel"],
)
def test_background_withdrawal_is_spread_so_the_overall_share_holds(
    phases: dict[str, object],
) -> None:
    _, rows = _background(
        initial_backlog=3000,
        background_generation_per_year=1,
        study_teams=5000,
        background_withdrawal_probability=0.5,
        **phases,
    )
    assert len(rows) >= 3000
    backlog = rows[rows["request_id"].str.startswith("backlog-")]
    share = (backlog["outcome"] == "withdrawn").mean()
    assert share == pytest.approx(0.5, abs=0.04)  # 0.009 is one standard error


def test_speculative_requests_withdraw_after_study_and_the_rest_keep_the_overall_share() -> None:
    _, rows = _background(
        initial_backlog=3000,
        background_generation_per_year=1,
        study_teams=5000,
        study_days=1,
        background_withdrawal_probability=0.5,
        speculative_share=0.4,
    )
    backlog = rows[rows["request_id"].str.startswith("backlog-")]
    outcomes = backlog["outcome"].value_counts(normalize=True)
    assert outcomes["withdrawn_after_study"] == pytest.approx(0.4, abs=0.04)
    assert outcomes["withdrawn"] == pytest.approx(0.1, abs=0.03)  # (0.5 - 0.4) of all


def test_backlog_splits_between_load_and_generation_by_their_rates() -> None:
    def kinds(load: float, generation: float) -> Any:
        _, rows = _background(
            initial_backlog=2000,
            background_load_per_year=load,
            background_generation_per_year=generation,
            study_teams=5000,
            spare_mw=1e6,
        )
        backlog = rows[rows["request_id"].str.startswith("backlog-")]
        assert len(backlog) == 2000
        assert (backlog["arrival"] == 0).all()
        assert (backlog["kind"] + backlog["request_id"].str.extract(r"(\d+)$")[0]).tolist() == [
            f"{k}{i}" for k, i in zip(backlog["kind"], range(2000), strict=True)
        ]
        return backlog["kind"].value_counts(normalize=True)

    assert kinds(3, 1)["load"] == pytest.approx(0.75, abs=0.04)
    assert kinds(1e-6, 0).to_dict() == {"load": 1.0}
    assert kinds(0, 1e-6).to_dict() == {"generation": 1.0}
    _, none = _background(initial_backlog=0, background_load_per_year=1e-6)
    assert len(none) == 0


def test_background_load_within_spare_is_energised_and_counted_as_connected() -> None:
    gate, rows = _background(
        initial_backlog=20,
        background_load_per_year=1e-6,
        background_load_mw=10,
        spare_mw=1000,
        study_days=10,
        connection_days=0,
        study_teams=100,
    )
    assert (rows["outcome"] == "energized").all() and len(rows) == 20
    assert (rows["energized"] == 10).all()
    assert gate.connected_mw == pytest.approx(200)
    assert gate.spare_mw == pytest.approx(800)


def test_background_requests_study_parallel_phases_side_by_side() -> None:
    env, gate = _gate(
        horizon_days=400,
        initial_backlog=5,
        background_load_per_year=1e-6,
        background_load_mw=10,
        study_days=None,
        study_phases=TWO_PHASES,
        parallel_studies=True,
        connection_days=0,
        study_teams=10,
    )
    env.run(until=400)
    rows = gate.requests.to_frame()
    assert (rows["energized"] == 300).all() and len(rows) == 5
    jobs = [r.request_id for r in gate.ctx.queue_log.records if r.gate == "grid:r"]
    assert sorted(jobs) == [f"backlog-load{i}:parallel_studies" for i in range(5)]


def test_each_background_request_has_its_own_private_stream() -> None:
    spec = _spec(readiness_days=0)
    blocks = AttributeBlocks(np.random.default_rng(7), spec, Fixed(value=100.0))
    firsts = [next(blocks).draws.rng.random() for _ in range(200)]
    assert len(set(firsts)) == 200


def test_zero_day_background_draws_stay_zero() -> None:
    spec = _spec(
        study_days=0, connection_days=0, upgrade_days=0, generation_build_days=0, readiness_days=0
    )
    blocks = AttributeBlocks(np.random.default_rng(7), spec, Fixed(value=0.0))
    for _ in range(5):
        attrs = next(blocks)
        d = attrs.draws
        assert attrs.mw == 0
        assert (d.readiness_days(), d.connection_days(), d.upgrade_days()) == (0, 0, 0)
        assert d.generation_build_days() == 0
        assert d.phase_plan()[0][1] == 0
    assert not math.isnan(spec.spare_mw)


def test_background_load_beyond_spare_waits_for_an_upgrade_that_covers_the_line() -> None:
    env, gate = _gate(
        horizon_days=2000,
        initial_backlog=3,
        background_load_per_year=1e-6,
        background_load_mw=60,
        study_days=10,
        connection_days=0,
        study_teams=10,
    )
    env.run(until=2000)
    rows = gate.requests.to_frame()
    # the first takes 60 of the 100 spare MW; the second starts one 100-MW block
    # (deficit 20); the third waits behind it, covered by the same block
    assert rows["energized"].tolist() == [10, 510, 510]
    assert gate.upgrades_started == 1
    assert gate.spare_mw == pytest.approx(100 + 100 - 180)
    assert gate.connected_mw == pytest.approx(180)


def test_flexible_connection_only_when_the_request_does_not_fit_and_only_if_earlier() -> None:
    env, gate = _gate(flexible_connection_share=0.5)
    conn = _connect(env, gate, 150)
    assert conn.early is not None and conn.early.time == pytest.approx(110)
    assert (conn.early_share, conn.full.time) == (0.5, pytest.approx(610))
    assert conn.early.path[-1].detail == "flexible"
    env, gate = _gate(flexible_connection_share=0.5)
    conn = _connect(env, gate, 50)  # fits: no early connection
    assert (conn.early, conn.early_share, conn.full.time) == (None, 0.0, pytest.approx(110))
    env, gate = _gate(flexible_connection_share=0.5, upgrade_days=0, connection_days=0)
    conn = _connect(env, gate, 150)  # instant upgrade and works: early is not earlier
    assert (conn.early, conn.early_share, conn.full.time) == (None, 0.0, pytest.approx(100))


def test_a_request_waiting_for_a_study_team_is_charged_to_the_queue() -> None:
    env, gate = _gate(spare_mw=1000)
    first = env.process(gate.connect("p1", 10, Milestone.origin(0.0)))
    second = env.process(gate.connect("p2", 10, Milestone.origin(0.0)))
    env.run()
    assert cast(GridConnection, first.value).full.days_by_cause() == {
        "interconnection_queue": 0,
        "interconnection_study": 100,
        "grid_energization": 10,
    }
    assert cast(GridConnection, second.value).full.days_by_cause() == {
        "interconnection_queue": 100,
        "interconnection_study": 100,
        "grid_energization": 10,
    }


def test_a_reserve_started_during_the_run_waits_for_its_transformers() -> None:
    ctx = _ctx()
    factory = TransformerFactory(
        ctx,
        TransformerSupply.model_validate(
            {"factory_slots": 10, "build_days": 300, "source": "assumption: test"}
        ),
    )
    spec = _spec(
        spare_mw=0,
        upgrade_days=150,
        transformers_per_upgrade=1,
        reserved_upgrades=_reserved("2025-02-01", 300),
    )
    gate = GridRegionGate(ctx, "r", spec, factory)
    ctx.env.run()
    ledger = _ledger(gate)
    assert ledger[ledger["event"] == "reserved_landed"]["time"].tolist() == [31.0 + 300]
    orders = [r.request_id for r in ctx.queue_log.records if r.gate == "transformers"]
    assert sorted(orders) == [f"r:reserved0/t{k}" for k in range(3)]  # one per 100-MW block


# ---------------------------------------------------------------------------- background rate steps
def test_rate_steps_begin_at_day_0_and_keep_a_segment_that_ends_early_in_the_run() -> None:
    rng = np.random.default_rng(11)
    # a step from before the run at 100 a day until day 0.5, then 1 a day
    times = list(piecewise_poisson_times(rng, [(-10.0, 100.0), (0.5, 1.0)], 20.0))
    early = [t for t in times if t < 0.5]
    assert 25 < len(early) < 80 and min(early) < 0.1
    assert 5 < len(times) - len(early) < 45
    assert times == sorted(times) and all(0 <= t < 20 for t in times)
    # a segment wholly before the run has none
    assert list(piecewise_poisson_times(rng, [(-10.0, 100.0), (0.0, 0.0)], 20.0)) == []


def _with_transformers(ctx: SimContext, build_days: float) -> TransformerFactory:
    return TransformerFactory(
        ctx,
        TransformerSupply.model_validate(
            {"factory_slots": 100, "build_days": build_days, "source": "assumption: test"}
        ),
    )


def test_an_upgrade_waiting_for_transformers_splits_build_and_delivery() -> None:
    ctx = _ctx()
    spec = _spec(transformers_per_upgrade=2)
    gate = GridRegionGate(ctx, "r", spec, _with_transformers(ctx, 700))
    proc = ctx.env.process(gate.connect("p", 150, Milestone.origin(0.0)))
    ctx.env.run()
    conn = cast(GridConnection, proc.value)
    tail = [(s.cause, s.start, s.end, s.nominal, s.detail) for s in conn.full.path][-3:]
    assert tail == [
        ("network_upgrade", 100, 600, 0.0, "r:upgrade1"),
        ("transformer_delivery", 600, 800, 0.0, "r:upgrade1"),
        ("grid_energization", 800, 810, 10, "r"),
    ]
    orders = [r.request_id for r in ctx.queue_log.records if r.gate == "transformers"]
    assert sorted(orders) == ["r:upgrade1/t0", "r:upgrade1/t1"]


def test_an_upgrade_built_before_its_transformers_is_one_segment_with_no_nominal() -> None:
    env, gate = _gate()
    conn = _connect(env, gate, 150)
    seg = [s for s in conn.full.path if s.cause == "network_upgrade"]
    assert [(s.start, s.end, s.nominal) for s in seg] == [(100, 600, 0.0)]


def test_a_reserve_of_whole_blocks_orders_one_transformer_set_per_block_despite_rounding() -> None:
    ctx = _ctx()
    assert 999 / 33.3 > 30  # the division rounds up a hair
    spec = _spec(
        upgrade_mw=33.3,
        upgrade_days=10,
        transformers_per_upgrade=1,
        reserved_upgrades=_reserved("2025-02-01", 999),
    )
    GridRegionGate(ctx, "r", spec, _with_transformers(ctx, 5))
    ctx.env.run()
    orders = [r for r in ctx.queue_log.records if r.gate == "transformers"]
    assert len(orders) == 30


def test_a_designated_site_beyond_a_landed_reserve_builds_its_own_upgrade() -> None:
    reserve = _reserved("2020-01-01", 100)  # landed before the run
    env, gate = _gate(spare_mw=0, upgrade_days=500, reserved_upgrades=reserve)
    first = env.process(gate.connect("d1", 100, Milestone.origin(0.0), designated=True))
    second = env.process(gate.connect("d2", 100, Milestone.origin(0.0), designated=True))
    env.run()
    assert cast(GridConnection, first.value).full.time == pytest.approx(110)
    assert second.triggered, "the second waits for a reserve that will never come"
    assert cast(GridConnection, second.value).full.time == pytest.approx(200 + 500 + 10)
    assert gate.upgrades_started == 1 and gate.reserved_mw == 0
