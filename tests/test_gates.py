"""Domain tests of the gates: export control, interconnection levers, permitting."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import simpy

from paxsim.models.context import SimContext
from paxsim.models.grid import GridRegionGate
from paxsim.models.loader import load_scenario
from paxsim.models.permitting import PermitOffice
from paxsim.models.scenario import Authority, GridRegion
from paxsim.models.simulation import simulate
from paxsim.models.world import CAUSES
from paxsim.sim.attribution import Milestone
from paxsim.sim.queues import QueueLog

TINY = Path(__file__).parent / "scenarios" / "tiny.toml"


def run_tiny(*overrides: str, seed: int = 1):  # type: ignore[no-untyped-def]
    return simulate(load_scenario(TINY, list(overrides)), seed)


# ---------------------------------------------------------------------------- export control
def test_ban_stops_every_covered_export() -> None:
    res = run_tiny("export_controls.aa_heavy.mode='ban'")
    ex = res.exports
    covered = ex[
        (ex["origin"] == "AA") & ex["material"].isin(["dy_oxide", "tb_oxide", "ndfeb_magnet"])
    ]
    # The regime starts on 4 April 2025 (day 93): nothing covered leaves after that.
    assert (covered["time"] < 93.5).all()
    reasons = res.shortages["reason"]
    assert reasons.str.startswith("export_ban").any()


def test_licence_regime_delays_but_passes_exports() -> None:
    res = run_tiny()
    lic = res.licences
    assert len(lic) > 0
    waits = lic["decided"] - lic["applied"]
    assert (waits >= 0).all() and waits.mean() > 7
    gates = res.queue_records
    desk = gates[gates["gate"] == "licence:aa_heavy"]
    assert desk["background"].any() and (~desk["background"]).any()


def test_denial_returns_lots_to_the_exporter() -> None:
    res = run_tiny("export_controls.aa_heavy.denial_probability=1.0")
    assert not res.licences["granted"].any()
    bal = res.balance.set_index("material")
    assert bal.loc["ndfeb_magnet", "denied"] > 0
    assert abs(bal.loc["ndfeb_magnet", "imbalance"]) < 1e-6 * bal.loc["ndfeb_magnet", "produced"]


def test_quota_caps_yearly_exports() -> None:
    quota = 20.0
    res = run_tiny(
        "export_controls.aa_heavy.mode='quota'",
        f"export_controls.aa_heavy.quota_per_year={quota}",
        "export_controls.aa_heavy.materials=['ndfeb_magnet']",
    )
    ex = res.exports
    mag = ex[(ex["origin"] == "AA") & (ex["material"] == "ndfeb_magnet") & (ex["time"] >= 93)]
    year = ((mag["time"] - 93) // 365.25).astype(int)
    per_year = mag.groupby(year)["qty"].sum()
    largest_lot = mag["qty"].max()
    assert len(per_year) >= 2
    assert (per_year <= quota + largest_lot + 1e-6).all()


# ---------------------------------------------------------------------------- interconnection
def _ctx(seed: int = 1, horizon_days: float = 1e5) -> SimContext:
    return SimContext.standalone(seed, horizon_days)


def _gate(**fields: object) -> tuple[simpy.Environment, GridRegionGate, QueueLog]:
    spec = GridRegion.model_validate(
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
    ctx = _ctx()
    gate = GridRegionGate(ctx, "r", spec, None)
    return ctx.env, gate, ctx.queue_log


def _connect(env: simpy.Environment, gate: GridRegionGate, mw: float, **kw: object):  # type: ignore[no-untyped-def]
    proc = env.process(gate.connect("p", mw, Milestone.origin(env.now), **kw))  # type: ignore[arg-type]
    env.run()
    return proc.value


def test_request_within_spare_needs_no_upgrade() -> None:
    env, gate, _ = _gate()
    conn = _connect(env, gate, 80)
    assert conn.full.time == pytest.approx(110)
    assert {s.cause for s in conn.full.path} == {
        "interconnection_queue",
        "interconnection_study",
        "grid_energization",
    }
    assert gate.spare_mw == pytest.approx(20)


def test_request_beyond_spare_waits_for_upgrade() -> None:
    env, gate, _ = _gate()
    conn = _connect(env, gate, 150)
    assert conn.full.time == pytest.approx(100 + 500 + 10)
    assert "network_upgrade" in {s.cause for s in conn.full.path}
    assert gate.spare_mw == pytest.approx(100 + 100 - 150)


def test_flexible_connection_energises_a_share_early() -> None:
    env, gate, _ = _gate(flexible_connection_share=0.5)
    conn = _connect(env, gate, 150)
    assert conn.early is not None and conn.early.time == pytest.approx(110)
    assert conn.early_share == 0.5
    assert conn.full.time == pytest.approx(610)


def test_prebuilt_upgrade_adds_headroom_on_its_date() -> None:

    spec = GridRegion.model_validate(
        {
            "country": "BB",
            "spare_mw": 0,
            "study_teams": 1,
            "study_days": 100,
            "connection_days": 10,
            "upgrade_days": 5000,
            "upgrade_mw": 100,
            "transformers_per_upgrade": 0,
            "prebuilt_upgrades": [{"ready": "2025-03-01", "mw": 300, "source": "assumption: t"}],
            "source": "assumption: test",
        }
    )
    ctx = _ctx()
    env = ctx.env
    gate = GridRegionGate(ctx, "r", spec, None)
    proc = env.process(gate.connect("p", 200, Milestone.origin(0.0)))
    env.run()
    assert proc.value.full.time == pytest.approx(110)  # no 5000-day upgrade


def test_cluster_window_wait_is_attributed_to_the_queue() -> None:
    env, gate, log = _gate(cluster_cycle_days=365, first_window_days=200)
    conn = _connect(env, gate, 50)
    queue_days = sum(s.actual for s in conn.full.path if s.cause == "interconnection_queue")
    assert queue_days == pytest.approx(200)
    members = log.to_frame()
    assert (members["gate"] == "grid:r:requests").any()


def test_designated_site_skips_the_window_and_takes_the_reserved_upgrade_when_it_lands() -> None:
    reserve = [{"start": "2025-01-01", "mw": 300, "source": "assumption: test"}]
    env, gate, _ = _gate(
        cluster_cycle_days=365,
        first_window_days=200,
        reserved_upgrades=reserve,
        spare_mw=0,
        upgrade_days=150,
    )
    conn = _connect(env, gate, 250, designated=True)
    # studied at once (100 d, no window), then it waits for the reserved
    # upgrade, which takes its build time (150 d): no free capacity
    assert conn.full.time == pytest.approx(150 + 10)
    assert gate.reserved_mw == pytest.approx(50)
    assert gate.spare_mw == pytest.approx(0)


def test_reserved_upgrades_never_serve_undesignated_requests() -> None:
    reserve = [{"start": "2025-01-01", "mw": 300, "source": "assumption: test"}]
    env, gate, _ = _gate(reserved_upgrades=reserve, spare_mw=0, upgrade_days=400)
    conn = _connect(env, gate, 250)
    # it waits for an upgrade of its own (built from day 100), not the reserve
    assert conn.full.time == pytest.approx(100 + 400 + 10)
    assert gate.reserved_mw == pytest.approx(300)


def test_readiness_screening_turns_speculative_requests_away_at_entry() -> None:
    def outcomes(order: str) -> tuple[int, int, float, float]:
        env, gate, log = _gate(
            queue_order=order,
            study_teams=50,
            background_generation_per_year=400,
            background_withdrawal_probability=0.8,
            speculative_share=0.6,
        )
        env.run(until=3000)
        gate.close()  # requests still pending are recorded too
        req = gate.requests.to_frame()
        studied = log.to_frame()
        studied = studied[studied["gate"] == "grid:r"]
        return (
            int((req["outcome"] == "screened_out").sum()),
            int((req["outcome"] != "screened_out").sum()),
            float(studied["wait"].mean()),
            float((req["outcome"] == "operating").sum()),
        )

    screened, entered_ready, wait_ready, operating_ready = outcomes("first_ready")
    none_screened, entered_come, wait_come, operating_come = outcomes("first_come")
    assert none_screened == 0 and screened > 0
    # screening removes load from the study teams, so the serious requests wait less ...
    assert entered_ready < 0.6 * entered_come
    assert wait_ready < 0.5 * wait_come
    # ... and turns no serious project away (same draws: at least as many reach operation)
    assert operating_ready >= operating_come


def test_parallel_studies_take_the_longest_phase() -> None:
    phases = [
        {"name": "cluster", "days": 300},
        {"name": "facilities", "days": 200},
    ]
    env, gate, _ = _gate(study_days=None, study_phases=phases, parallel_studies=True)
    conn = _connect(env, gate, 10)
    assert conn.full.time == pytest.approx(310)
    env, gate, _ = _gate(study_days=None, study_phases=phases)
    conn = _connect(env, gate, 10)
    assert conn.full.time == pytest.approx(510)


# ---------------------------------------------------------------------------- permitting
def _office(**fields: object) -> tuple[simpy.Environment, PermitOffice]:
    spec = Authority.model_validate(
        {
            "country": "BB",
            "reviewers": 1,
            "review_days": 100,
            "source": "assumption: test",
            **fields,
        }
    )
    ctx = _ctx()
    office = PermitOffice(ctx, "o", spec)
    return ctx.env, office


def test_shot_clock_caps_review() -> None:
    env, office = _office(shot_clock_days=60)
    proc = env.process(office.apply("p", "datacenter", Milestone.origin(0.0)))
    env.run()
    assert proc.value.time == pytest.approx(60)


def test_litigation_requeue_runs_the_review_again() -> None:
    env, office = _office(
        litigation_probability=1.0, litigation_days=50, litigation_outcome="delay"
    )
    proc = env.process(office.apply("p", "datacenter", Milestone.origin(0.0)))
    env.run()
    assert proc.value.time == pytest.approx(150)
    assert [s.cause for s in proc.value.path][-1] == "litigation"


def test_background_applications_make_projects_wait() -> None:
    env, office = _office(background_per_year=3.0)
    env.run(until=2000)
    proc = env.process(office.apply("p", "datacenter", Milestone.origin(env.now)))
    env.run()
    assert proc.value.time - 2000 >= 100


# ------------------------------------------------------------------------ attribution end to end
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_days_by_cause_sum_exactly_to_the_delay(seed: int) -> None:
    res = run_tiny("grid.west.spare_mw=1000", seed=seed)
    done = res.projects[res.projects["online_by_horizon"]]
    assert len(done) > 0
    cols = [f"days_{c}" for c in (*CAUSES, "unused_float", "plan_optimism")]
    total = done[cols].sum(axis=1)
    assert np.allclose(total, done["delay_days"], atol=1e-6)
    # and the critical path tiles start..online exactly
    for _, row in done.iterrows():
        segs = res.critical_path[res.critical_path["phase_id"] == row["phase_id"]]
        assert segs["actual_days"].sum() == pytest.approx(row["online_day"] - row["start_day"])


def test_unconstrained_plan_is_met_when_nothing_queues() -> None:
    res = run_tiny(
        "grid.west.spare_mw=10000",
        "grid.west.background_load_per_year=0",
        "authorities.county.background_per_year=0",
        "export_controls.aa_heavy.enabled=false",
        "demands.bb_chips.rate_per_year=0",
        "datacenters.bb_campus.construction_days=400",
        "datacenters.bb_campus.equipment_lead_days=100",
        "grid.west.study_days=300",
        "authorities.county.review_days=100",
        seed=3,
    )
    first = res.projects.iloc[0]
    assert first["online_by_horizon"]
    assert math.isclose(first["online_day"], first["unconstrained_day"], abs_tol=15)
    assert isinstance(res.projects, pd.DataFrame)


def test_background_rate_path_steps_the_arrival_rate() -> None:
    steps = [{"start": "2028-01-01", "per_year": 400.0, "source": "assumption: test"}]
    counts = {}
    for label, extra in (("flat", {}), ("stepped", {"background_generation_steps": steps})):
        env, gate, _ = _gate(study_teams=1000, background_generation_per_year=100.0, **extra)
        env.run(until=3650)
        gate.close()
        req = gate.requests.to_frame()
        day_2028 = 3 * 365 + 1  # the calendar of _ctx starts on 2025-01-01
        counts[label] = (
            int((req["arrival"] < day_2028).sum()),
            int((req["arrival"] >= day_2028).sum()),
        )
    # identical before the step (same stream), about four times the rate after it
    assert counts["flat"][0] == counts["stepped"][0]
    assert counts["stepped"][1] > 3 * counts["flat"][1]


def test_certain_litigation_with_requeue_still_ends() -> None:
    from paxsim.models.permitting import MAX_CHALLENGES

    env, office = _office(
        review_days=0, litigation_probability=1.0, litigation_days=0, litigation_outcome="requeue"
    )
    proc = env.process(office.apply("p", "datacenter", Milestone.origin(0.0)))
    env.run()
    segments = [s.cause for s in proc.value.path]
    assert segments.count("litigation") == MAX_CHALLENGES


def test_background_requests_give_up_waiting_after_their_patience() -> None:
    def run(patience: object) -> tuple[Any, Any]:
        extra = {} if patience is None else {"background_patience_days": patience}
        env, gate, log = _gate(study_teams=1, background_generation_per_year=10.0, **extra)
        env.run(until=3000)
        gate.close()
        return gate.requests.to_frame(), log.to_frame()

    requests, records = run(60)
    studies = records[(records["gate"] == "grid:r") & records["background"]]
    started = studies[studies["start"].notna()]
    assert (requests["outcome"] == "withdrawn_while_waiting").sum() > 0
    assert (started["wait"] <= 60 + 1e-9).all()  # no one who started had waited longer
    patient_requests, patient_records = run(None)
    assert (patient_requests["outcome"] == "withdrawn_while_waiting").sum() == 0
    patient = patient_records[(patient_records["gate"] == "grid:r")]
    assert patient["wait"].max() > 60  # without patience the line only grows
