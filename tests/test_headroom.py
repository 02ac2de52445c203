"""Grid headroom is an exact ledger: never negative, no deficit built twice, no one starved."""

from __future__ import annotations

import numpy as np
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from paxsim.models.grid.capacity import Headroom
from paxsim.models.grid.request import GridRequest, RequestDraws
from paxsim.models.scenario import GridRegion
from paxsim.sim.attribution import Milestone


def _spec(spare: float, upgrade_mw: float, upgrade_days: float) -> GridRegion:
    return GridRegion.model_validate(
        {
            "country": "BB",
            "spare_mw": spare,
            "study_teams": 1,
            "study_days": 10,
            "connection_days": 10,
            "upgrade_days": upgrade_days,
            "upgrade_mw": upgrade_mw,
            "transformers_per_upgrade": 0,
            "source": "assumption: test",
        }
    )


requests = st.lists(
    st.tuples(st.floats(0, 2000), st.floats(1, 900)),  # (arrival day, MW)
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(
    reqs=requests,
    spare=st.floats(0, 500),
    upgrade_mw=st.floats(50, 1000),
    upgrade_days=st.floats(1, 400),
    prebuilt=st.lists(st.tuples(st.floats(0, 2000), st.floats(1, 500)), max_size=3),
)
def test_headroom_is_exact(
    reqs: list[tuple[float, float]],
    spare: float,
    upgrade_mw: float,
    upgrade_days: float,
    prebuilt: list[tuple[float, float]],
) -> None:
    env = simpy.Environment()
    spec = _spec(spare, upgrade_mw, upgrade_days)
    room = Headroom(env, "r", spec, None)
    for day, mw in prebuilt:
        room.add_prebuilt(day, mw)
    served: dict[int, float] = {}
    starts: list[tuple[float, float]] = []  # (deficit at start, MW started)
    original = room._start_upgrade

    def spy(deficit: float, req: GridRequest) -> None:
        before = room.building_mw
        original(deficit, req)
        starts.append((deficit, room.building_mw - before))

    room._start_upgrade = spy  # type: ignore[method-assign]

    def one(i: int, day: float, mw: float):  # type: ignore[no-untyped-def]
        yield env.timeout(day)
        draws = RequestDraws(np.random.default_rng(i), spec)
        req = GridRequest(f"q{i}", "load", True, mw, env.now, draws)
        yield from room.secure(req, Milestone.origin(env.now))
        served[i] = env.now

    for i, (day, mw) in enumerate(reqs):
        env.process(one(i, day, mw))
    env.run()
    rows = room.table.to_frame()
    assert (rows["spare_mw"] >= -1e-9).all()
    assert (rows["building_mw"] >= -1e-9).all()
    assert (rows["waiting_mw"] >= -1e-6).all()
    assert len(served) == len(reqs)  # everyone is served once upgrades land
    for deficit, mw in starts:
        assert deficit > 0
        # one upgrade covers its deficit, in whole blocks, and no more than a block over it
        assert mw >= deficit - 1e-9
        assert mw < deficit + upgrade_mw + 1e-9
    total_built = sum(mw for _, mw in starts)
    demand = sum(mw for _, mw in reqs)
    assert total_built <= demand + upgrade_mw * len(starts)
    # never built when the demand could not exceed what already existed
    if demand <= spare:
        assert total_built == 0


def test_two_requests_waiting_together_share_one_upgrade() -> None:
    env = simpy.Environment()
    spec = _spec(spare=50, upgrade_mw=500, upgrade_days=100)
    room = Headroom(env, "r", spec, None)
    done = []

    def one(i: int):  # type: ignore[no-untyped-def]
        draws = RequestDraws(np.random.default_rng(i), spec)
        req = GridRequest(f"q{i}", "load", True, 200, env.now, draws)
        path = yield from room.secure(req, Milestone.origin(env.now))
        done.append((i, env.now, path.path[-1].cause))

    env.process(one(1))
    env.process(one(2))
    env.run()
    assert room.upgrades_started == 1  # 400 MW waiting, 50 spare: one 500 MW block covers both
    assert [t for _, t, _ in done] == [100, 100]
    # the first started the upgrade (its build); the second queued for it
    assert [c for *_, c in sorted(done)] == ["network_upgrade", "grid_capacity_queue"]
    assert room.spare_mw == 500 + 50 - 400
