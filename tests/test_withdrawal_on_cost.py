"""Withdrawal on assigned upgrade cost: cluster decision points, generation hosting capacity.

Exact where fixed tolerances and sizes make the answer exact; the levers
(upgrade cost, hosting capacity) are checked for the direction their
mechanism implies on a background stream whose draws they do not change.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from paxsim.models.context import SimContext
from paxsim.models.grid import GridRegionGate
from paxsim.models.grid.request import GridRequest, RequestDraws
from paxsim.models.scenario import GridRegion
from paxsim.sim.attribution import Milestone


def _spec(**fields: Any) -> GridRegion:
    base: dict[str, Any] = {
        "country": "US",
        "spare_mw": 150.0,
        "study_teams": 5,
        "study_days": 10.0,
        "connection_days": 5.0,
        "upgrade_days": 100.0,
        "upgrade_mw": 100.0,
        "transformers_per_upgrade": 0,
        "upgrade_cost_usd_per_kw": 100.0,
        "source": "assumption: test",
    }
    return GridRegion.model_validate(base | fields)


def _gate(spec: GridRegion, horizon: float = 5000.0) -> tuple[SimContext, GridRegionGate]:
    ctx = SimContext.standalone(2, horizon)
    return ctx, GridRegionGate(ctx, "r", spec, None)


def _member(gate: GridRegionGate, rid: str, mw: float, tolerance: float | None) -> GridRequest:
    draws = RequestDraws(np.random.default_rng(0), gate.spec)
    req = GridRequest(rid, "load", True, mw, 0.0, draws)
    req.tolerance = tolerance
    req.phase_withdrawal = 0.0
    return req


def test_a_cluster_reprices_after_each_withdrawal_until_nobody_else_leaves() -> None:
    # 300 MW in the cluster, 150 MW available: each pays 100 x 150/300 = 50 USD/kW.
    # B (tolerance 30) leaves; then 200 MW share a 50 MW deficit: 25 USD/kW, so C
    # (tolerance 60) stays. Without re-pricing C would have been judged at 50.
    ctx, gate = _gate(_spec(cluster_cycle_days=100.0, first_window_days=10.0, restudy_days=7.0))
    members = {
        "A": _member(gate, "A", 100.0, 1000.0),
        "B": _member(gate, "B", 100.0, 30.0),
        "C": _member(gate, "C", 100.0, 60.0),
    }
    done: list[str] = []
    for rid, req in members.items():
        gate.studies.begin(req, Milestone.origin(0.0), lambda rid=rid: done.append(rid))
    ctx.env.run(until=200.0)
    assert sorted(done) == ["A", "B", "C"]
    assert members["B"].withdrawn and members["B"].assigned_cost == pytest.approx(50.0)
    assert not members["A"].withdrawn and not members["C"].withdrawn
    assert members["A"].assigned_cost == pytest.approx(25.0)
    assert members["C"].assigned_cost == pytest.approx(25.0)
    # the withdrawal triggered a restudy of those who stayed
    assert members["A"].restudies == 1 and members["C"].restudies == 1
    assert members["B"].restudies == 0


def test_no_cost_no_withdrawal_and_requests_without_tolerance_never_leave() -> None:
    ctx, gate = _gate(
        _spec(cluster_cycle_days=100.0, first_window_days=10.0, upgrade_cost_usd_per_kw=0.0)
    )
    cheap = [_member(gate, f"r{i}", 100.0, 1.0) for i in range(3)]
    ctx2, gate2 = _gate(_spec(cluster_cycle_days=100.0, first_window_days=10.0))
    ours = [_member(gate2, f"o{i}", 100.0, None) for i in range(3)]
    for g, reqs in ((gate, cheap), (gate2, ours)):
        for req in reqs:
            g.studies.begin(req, Milestone.origin(0.0), lambda: None)
    ctx.env.run(until=200.0)
    ctx2.env.run(until=200.0)
    assert not any(r.withdrawn for r in cheap)
    assert not any(r.withdrawn for r in ours)


def test_generation_pays_for_what_it_needs_beyond_the_hosting_capacity() -> None:
    spec = _spec(
        generation_hosting_mw=1000.0,
        generation_hosting_growth_mw_per_year=365.25,
        generation_upgrade_cost_usd_per_kw=200.0,
    )
    ctx, gate = _gate(spec)
    assert gate.hosting_mw() == pytest.approx(1000.0)
    assert gate.cluster_cost(True, 1500.0) == pytest.approx(200.0 * 500 / 1500)
    assert gate.cluster_cost(True, 800.0) == 0.0
    ctx.env.run(until=100.0)  # 100 days of growth at 1 MW a day
    assert gate.hosting_mw() == pytest.approx(1100.0)
    # load is priced against the load headroom, not the hosting capacity
    assert gate.cluster_cost(False, 300.0) == pytest.approx(100.0 * 150 / 300)


def _generation_outcomes(**fields: Any) -> tuple[int, int]:
    spec = _spec(
        background_generation_per_year=60.0,
        background_generation_mw=100.0,
        background_generation_cost_tolerance_usd_per_kw={
            "dist": "lognormal",
            "median": 150,
            "p90": 450,
        },
        generation_upgrade_cost_usd_per_kw=200.0,
        **fields,
    )
    ctx, gate = _gate(spec, horizon=3650.0)
    ctx.env.run(until=3650.0)
    gate.close()
    frame = gate.requests.to_frame()
    gen = frame[frame["kind"] == "generation"]
    return int(gen["outcome"].eq("withdrawn_on_cost").sum()), len(gen)


def test_more_hosting_capacity_means_fewer_generators_priced_out() -> None:
    tight, n_tight = _generation_outcomes(generation_hosting_mw=0.0)
    roomy, n_roomy = _generation_outcomes(generation_hosting_mw=100_000.0)
    assert n_tight == n_roomy  # the same arrivals: the lever changes no draw
    assert roomy == 0 < tight
    # with no hosting at all every generator pays the full 200 USD/kW:
    # P(tolerance < 200) for a lognormal with median 150, p90 450
    sigma = math.log(3) / 1.2816
    p = 0.5 * (1 + math.erf(math.log(200 / 150) / sigma / math.sqrt(2)))
    assert tight / n_tight == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / n_tight) + 0.02)
