"""National pipelines: request volume paths, withdrawal on assigned cost, commitment and
building, committed load, upgrade crews, ERCOT's move to batches, and the national table.

Standalone gates (no supply chain) keep these fast; each lever is checked for the
direction its mechanism implies, with the draws of everything else held fixed.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from paxsim.models.context import SimContext
from paxsim.models.grid import GridRegionGate
from paxsim.models.grid.pipeline import PIPELINE_COLUMNS, request_rate_path
from paxsim.models.results.national import ALL_REGIONS, INSTALLED_BASE, national_table
from paxsim.models.scenario import HOURS_PER_YEAR, DataCenterPipeline, DemandStep, GridRegion
from paxsim.sim.calendar import DAYS_PER_YEAR
from paxsim.sim.records import RecordList

HORIZON = 10 * 365.25
NAN3 = (math.nan, math.nan, math.nan)  # equipped, trusted shares: not used by the table


def _pipeline(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "requests": [{"start": dt.date(2025, 1, 1), "gw_per_year": 10.0, "source": "test"}],
        "request_mw": 200.0,
        "build_days": 300.0,
        "utilisation": 0.5,
        "source": "assumption: test",
    }
    return base | fields


def _region(pipeline: dict[str, Any] | None = None, **fields: Any) -> GridRegion:
    spec: dict[str, Any] = {
        "country": "US",
        "spare_mw": 1000.0,
        "study_teams": 50,
        "study_days": 100.0,
        "connection_days": 50.0,
        "upgrade_days": 700.0,
        "upgrade_mw": 500.0,
        "transformers_per_upgrade": 0,
        "source": "assumption: test",
        "datacenter_pipeline": _pipeline() if pipeline is None else pipeline,
    }
    return GridRegion.model_validate(spec | fields)


def _run(spec: GridRegion, seed: int = 3, horizon: float = HORIZON) -> pd.DataFrame:
    ctx = SimContext.standalone(seed, horizon)
    table = RecordList(PIPELINE_COLUMNS)
    gate = GridRegionGate(ctx, "r", spec, None, pipeline_requests=table)
    ctx.env.run(until=horizon)
    gate.close()
    return table.to_frame()


def _online_mw(frame: pd.DataFrame) -> float:
    return float(frame.loc[frame["outcome"] == "online", "mw"].sum())


# ---------------------------------------------------------------------------- inputs
def test_demand_step_takes_gw_or_twh_and_converts_twh_with_utilisation() -> None:
    step = DemandStep.model_validate(
        {"start": dt.date(2025, 1, 1), "twh_per_year": 8.766, "source": "test"}
    )
    assert step.gw(0.5) == pytest.approx(8.766 / (HOURS_PER_YEAR / 1000 * 0.5))
    assert step.gw(0.5) == pytest.approx(2.0)
    for bad in ({}, {"gw_per_year": 1.0, "twh_per_year": 1.0}):
        with pytest.raises(ValidationError, match="exactly one of gw_per_year or twh_per_year"):
            DemandStep.model_validate({"start": dt.date(2025, 1, 1), "source": "test", **bad})


def test_rate_path_turns_gw_per_year_into_requests_per_day_by_mean_size() -> None:
    pipe = DataCenterPipeline.model_validate(
        _pipeline(
            requests=[
                {"start": dt.date(2026, 1, 1), "gw_per_year": 20.0, "source": "test"},
                {"start": dt.date(2025, 1, 1), "gw_per_year": 10.0, "source": "test"},
            ]
        )
    )
    path = request_rate_path(pipe, lambda d: float((d - dt.date(2025, 1, 1)).days))
    assert path[0] == (-math.inf, 0.0)
    assert path[1] == (0.0, pytest.approx(10_000 / 200 / DAYS_PER_YEAR))
    assert path[2] == (365.0, pytest.approx(20_000 / 200 / DAYS_PER_YEAR))


# ---------------------------------------------------------------------------- the sites
def test_request_volume_matches_the_path_and_every_request_has_one_record() -> None:
    frame = _run(_region())
    arrived = frame[~frame["request_id"].str.startswith("committed")]
    # 10 GW a year of 200 MW requests: 50 a year for ten years (Poisson, sd ~22)
    assert abs(len(arrived) - 500) < 4 * math.sqrt(500)
    assert arrived["request_id"].is_unique
    assert set(frame["outcome"]) <= {
        "online",
        "pending",
        "withdrawn_after_study",
        "withdrawn_on_cost",
        "withdrawn",
        "withdrawn_while_waiting",
        "screened_out",
    }


def test_a_site_is_online_when_both_built_and_energised() -> None:
    frame = _run(_region())
    on = frame[frame["outcome"] == "online"]
    assert len(on) > 0
    built = on["committed"] + 300.0
    assert np.allclose(on["online"], np.maximum(on["energized"], built))
    assert (on["committed"] >= on["arrival"] + 100.0 - 1e-9).all()  # after its study


def test_speculative_requests_withdraw_after_study_and_readiness_screens_them_at_entry() -> None:
    spec = _pipeline(speculative_share=0.6)
    come = _run(_region(spec))
    ready = _run(_region(spec, queue_order="first_ready"))
    n = len(come)
    assert come["outcome"].eq("withdrawn_after_study").mean() == pytest.approx(0.6, abs=0.08)
    assert not come["outcome"].eq("screened_out").any()
    # Same arrivals and the same speculative draws: screening turns exactly them away
    # (those still in study at the horizon are pending in the first run).
    assert len(ready) == n
    screened = ready["outcome"].eq("screened_out").sum()
    after_study = come["outcome"].eq("withdrawn_after_study").sum()
    assert after_study <= screened <= after_study + come["outcome"].eq("pending").sum()
    assert _online_mw(ready) >= _online_mw(come)


def test_withdrawal_on_cost_rises_with_the_upgrade_cost_and_only_when_an_upgrade_is_needed() -> (
    None
):
    tolerant = _pipeline(cost_tolerance_usd_per_kw={"dist": "lognormal", "median": 300, "p90": 900})
    cheap = _run(_region(tolerant, upgrade_cost_usd_per_kw=50.0, spare_mw=0.0))
    dear = _run(_region(tolerant, upgrade_cost_usd_per_kw=1000.0, spare_mw=0.0))
    free = _run(_region(tolerant, upgrade_cost_usd_per_kw=1000.0, spare_mw=1e6))
    on_cost = [f["outcome"].eq("withdrawn_on_cost").sum() for f in (cheap, dear, free)]
    assert on_cost[1] > on_cost[0] > 0
    assert on_cost[2] == 0  # spare headroom: no upgrade, no cost, nobody walks away
    # the assigned cost is the upgrade cost times the share of its MW the request adds
    costs = dear["assigned_cost_usd_per_kw"].dropna()
    assert ((costs >= 0) & (costs <= 1000.0 + 1e-9)).all()
    assert (dear.loc[dear["outcome"] == "withdrawn_on_cost", "assigned_cost_usd_per_kw"] > 0).all()


def test_committed_load_comes_online_evenly_and_takes_nothing_from_the_line() -> None:
    committed = [{"gw": 5.0, "online_by": dt.date(2029, 1, 1), "source": "test"}]
    spec = _pipeline(
        committed=committed,
        requests=[{"start": dt.date(2025, 1, 1), "gw_per_year": 0.0, "source": "test"}],
    )
    frame = _run(_region(spec))
    assert frame["request_id"].str.startswith("committed").all()
    assert frame["mw"].sum() == pytest.approx(5000.0)
    days = frame["online"].to_numpy()
    last = float((dt.date(2029, 1, 1) - dt.date(2025, 1, 1)).days)
    assert days.min() >= 0 and days.max() <= last
    # evenly spread: about half by the midpoint
    mid_share = frame.loc[frame["online"] <= last / 2, "mw"].sum() / 5000.0
    assert 0.25 < mid_share < 0.75
    # past the horizon: pending (censored), not dropped
    short = _run(_region(spec), horizon=last / 2)
    assert len(short) == len(frame)
    assert set(short["outcome"]) == {"online", "pending"}


def test_fewer_upgrade_crews_bring_less_load_online() -> None:
    spec = _pipeline()
    many = _run(_region(spec, spare_mw=0.0))
    few = _run(_region(spec, spare_mw=0.0, upgrade_crews=1))
    assert _online_mw(few) < _online_mw(many)


def test_moving_to_batch_studies_clears_a_swamped_individual_queue() -> None:
    # 50 requests a year against one team of 100-day studies (~3.65 a year).
    swamped = {"study_teams": 1, "spare_mw": 1e6}
    alone = _run(_region(**swamped))
    batches = _run(
        _region(
            **swamped,
            cluster_cycle_days=365.0,
            first_window_days=730.0,
            individual_studies_until=dt.date(2027, 1, 1),
        )
    )
    assert _online_mw(batches) > 2 * _online_mw(alone)
    # requests still waiting on 2027-01-01 joined the first batch rather than withdrawing
    assert not batches["outcome"].eq("withdrawn_while_waiting").any()


def test_pipeline_in_one_region_changes_no_other_draws() -> None:
    """The pipeline draws from its own streams: background arrivals are unchanged."""
    base = _region(background_load_per_year=30.0)
    ctx_a, ctx_b = SimContext.standalone(5, HORIZON), SimContext.standalone(5, HORIZON)
    with_pipe = GridRegionGate(ctx_a, "r", base, None)
    without = GridRegionGate(
        ctx_b, "r", base.model_copy(update={"datacenter_pipeline": None}), None
    )
    ctx_a.env.run(until=HORIZON)
    ctx_b.env.run(until=HORIZON)
    with_pipe.close()
    without.close()
    a, b = with_pipe.requests.to_frame(), without.requests.to_frame()
    bg_a = a[a["background"].astype(bool)].sort_values("request_id")
    bg_b = b[b["background"].astype(bool)].sort_values("request_id")
    assert bg_a["request_id"].tolist() == bg_b["request_id"].tolist()
    assert np.array_equal(bg_a["arrival"].to_numpy(), bg_b["arrival"].to_numpy())
    assert np.array_equal(bg_a["mw"].to_numpy(), bg_b["mw"].to_numpy())
    assert (a.loc[a["kind"] == "datacenter", "background"] == False).all()  # noqa: E712


# ---------------------------------------------------------------------------- the national table
def _scenario() -> Any:
    from paxsim.models.loader import load_scenario

    return load_scenario("default")


def test_national_table_adds_installed_base_sites_and_campuses_by_year() -> None:
    scenario = _scenario()
    stock = scenario.countries["US"].datacenter_stock
    pipeline = pd.DataFrame(
        [
            ("ercot", "US", "s1", 1000.0, 0.0, 0.0, 100.0, 547.0, math.nan, "online", *NAN3),
            ("ercot", "US", "s2", 500.0, 0.0, 0.0, math.nan, math.nan, math.nan, "pending", *NAN3),
        ],
        columns=list(PIPELINE_COLUMNS),
    )
    projects = pd.DataFrame(
        {
            "region": ["pjm_dominion", "pjm_dominion"],
            "country": ["US", "US"],
            "grid_mw": [300.0, 200.0],
            "online_day": [10.0, math.nan],
            "online_by_horizon": [True, False],
        }
    )
    nat = national_table(scenario, projects, pipeline)
    us = nat[nat["country"] == "US"].set_index(["region", "year"])
    assert us.loc[(INSTALLED_BASE, 2025), "gw_online"] == pytest.approx(stock.gw)
    assert us.loc[(INSTALLED_BASE, 2025), "twh"] == pytest.approx(
        stock.gw * stock.utilisation * 365 * 24 / 1000
    )
    assert us.loc[("ercot", 2025), "gw_online"] == 0.0
    assert us.loc[("ercot", 2026), "gw_online"] == pytest.approx(
        1.0
    )  # the pending one never counts
    util = scenario.grid["ercot"].datacenter_pipeline.utilisation
    # online on day 547 (2026-07-02): 183 days of 2026 at 1 GW
    assert us.loc[("ercot", 2026), "twh"] == pytest.approx(1.0 * util * (730 - 547) * 24 / 1000)
    assert us.loc[("pjm_dominion", 2025), "gw_online"] == pytest.approx(0.3)  # full power only
    total = us.xs(2030, level="year")
    assert total.loc[ALL_REGIONS, "gw_online"] == pytest.approx(
        total.drop(index=ALL_REGIONS)["gw_online"].sum()
    )
    assert total.loc[ALL_REGIONS, "twh"] == pytest.approx(
        total.drop(index=ALL_REGIONS)["twh"].sum()
    )


def test_default_run_has_a_national_table_that_never_falls(default_run: Any) -> None:
    nat = default_run.national
    assert {"US", "JP"} <= set(nat["country"])
    for (_country, _region), rows in nat.groupby(["country", "region"]):
        gw = rows.sort_values("year")["gw_online"].to_numpy()
        assert (np.diff(gw) >= -1e-9).all()  # sites never go offline
    assert (nat["twh"] >= 0).all()
    pipe = default_run.pipeline_requests
    assert pipe["outcome"].eq("pending").any()  # censored sites are kept, not dropped
    assert pipe["request_id"].groupby(pipe["region"]).apply(lambda s: s.is_unique).all()
