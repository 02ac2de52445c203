"""The watt-bit Japan study: its folder, its reuse of batches, and its grid-binding analysis.

The end-to-end run is kept cheap: two replications of the ten arms to 2028-01-01, when
the national table holds 2025-2027 and the unconstrained reference already pulls ahead
(pipeline sites requested in 2025 come online from 2027); coordination's reserved
upgrades land later, so here they exercise the code, not the effect.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
from study_checks import (
    ROOT,
    check_rerun_reuses_every_batch,
    check_study_folder,
    load_script,
    run_study,
)

from paxsim import load_scenario

ARGS = ["--reps", "2", "--workers", "1", "--quiet", "--set", "time.end=2028-01-01"]
ARMS = [
    "default_demand",
    "default_demand+coord",
    "default_demand_unconstrained",
    "forecast",
    "forecast+coord",
    "forecast_slow_grid",
    "forecast_slow_grid+coord",
    "forecast_fast_grid",
    "forecast_fast_grid+coord",
    "forecast_unconstrained",
]
FIGURES = [
    "jp_deployment_s_curves",
    "gap_to_unconstrained_gw_default_demand",
    "gap_to_unconstrained_gw_forecast",
    "policy_fan_coordination_forecast",
    "policy_fan_coordination_forecast_twh",
    "effect_coordination_full_power_day",
    "effect_coordination_gw_online_2027",
    "effect_build_rate_gw_online_2027",
]
TABLES = [
    "design",
    "jp_by_year",
    "forecast_path",
    "gap_to_unconstrained",
    "grid_binds",
    "coordination_effects",
    "coordination_by_year",
    "build_rate_effects",
    "coordination_designated_phases",
]


def _module() -> ModuleType:
    return load_script("watt_bit_japan")


@pytest.fixture(scope="module")
def study_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_study(_module().main, ARGS, tmp_path_factory.mktemp("watt_bit") / "s")


def test_the_study_folder_lists_every_arm_figure_and_table(study_run: Path) -> None:
    manifest, findings = check_study_folder(study_run, ARMS, FIGURES, TABLES)
    assert [a["label"] for a in manifest["scenarios"]] == ARMS
    assert "## How to read this" in findings and "95 % CI" in findings
    assert "**Demand scenario** (not a validation)" in findings


def test_every_constrained_arm_is_measured_against_its_own_demand(study_run: Path) -> None:
    binds = pd.read_parquet(study_run / "tables" / "grid_binds.parquet")
    assert len(binds) == 8
    for arm, reference in zip(binds["arm"].astype(str), binds["reference"], strict=True):
        expected = "forecast" if arm.startswith("forecast") else "default_demand"
        assert reference == f"{expected}_unconstrained"
    levels = pd.read_parquet(study_run / "tables" / "jp_by_year.parquet")
    assert set(levels["year"]) == {2025, 2026, 2027}
    # No grid limit never leaves Japan with less load than the default grid, on average.
    gw = levels[levels["metric"] == "gw_online"].set_index(["arm", "year"])["mean"]
    for demand in ("default_demand", "forecast"):
        assert gw[(f"{demand}_unconstrained", 2027)] >= gw[(demand, 2027)] - 1e-9
    # The installed base is the floor of every arm.
    assert (gw >= 2.7 - 1e-9).all()


def test_running_the_same_command_again_reuses_every_batch(study_run: Path) -> None:
    check_rerun_reuses_every_batch(_module().main, ARGS, study_run, len(ARMS))


def _gaps(highs: list[float], metric: str = "gw_online") -> pd.DataFrame:
    years = list(range(2025, 2025 + len(highs)))
    return pd.DataFrame(
        {
            "metric": metric,
            "year": years,
            "diff_mean": [h - 0.1 for h in highs],
            "halfwidth": 0.1,
            "high": highs,
        }
    )


def test_the_grid_binds_in_the_first_year_the_interval_lies_below_zero() -> None:
    m = _module()
    assert m.binding_year(_gaps([0.2, 0.0, -0.05, 0.1, -0.3])) == 2027
    assert m.binding_year(_gaps([0.2, 0.05, 0.3])) is None
    # Another metric's rows do not count.
    both = pd.concat([_gaps([0.2, 0.1, 0.1]), _gaps([-1.0, -1.0, -1.0], "twh")])
    assert m.binding_year(both) is None
    with pytest.raises(ValueError, match="lacks column"):
        m.binding_year(_gaps([0.1]).drop(columns="high"))


def test_the_binding_table_reports_the_gap_then_and_whether_it_lasts() -> None:
    m = _module()
    gw = _gaps([0.2, -0.1, 0.1, -0.4]).assign(base_mean=[3.0, 4.0, 5.0, 6.0])
    twh = _gaps([0.0, -1.0, 0.5, -2.0], "twh").assign(base_mean=[20.0, 25.0, 30.0, 35.0])
    gaps = pd.concat([gw, twh], ignore_index=True).assign(arm="a", reference="a_unc")
    row = m.binding_table(gaps).iloc[0]
    assert row["binding_year"] == 2026
    assert not row["bound_every_year_after"]  # 2027 is not bound
    assert row["gap_gw"] == pytest.approx(-0.2)
    assert row["gap_twh"] == pytest.approx(-1.1)
    assert row["last_year"] == 2028
    assert row["last_gap_gw"] == pytest.approx(-0.5)
    assert row["unconstrained_gw_last"] == pytest.approx(6.0)


def test_the_levers_are_derived_from_the_world() -> None:
    m = _module()
    world = load_scenario()
    regions = m.country_regions(world)
    assert regions == sorted(["tepco_chiba", "tepco_other", "kansai", "hokkaido"])
    scaled = load_scenario(None, list(m.demand_overrides(world, 0.5)))
    for region in regions:
        before, after = (
            world.grid[region].datacenter_pipeline,
            scaled.grid[region].datacenter_pipeline,
        )
        assert before is not None and after is not None
        old, new = before.requests, after.requests
        assert [s.start for s in new] == [s.start for s in old]
        assert [s.gw(1.0) for s in new] == pytest.approx([0.5 * s.gw(1.0) for s in old])
    slow = load_scenario(None, list(m.build_rate_overrides(world, 0.5)))
    for region in regions:
        days, slower = world.grid[region].upgrade_days, slow.grid[region].upgrade_days
        assert slower.mean() == pytest.approx(2.0 * days.mean(), rel=1e-4)
        assert slow.grid[region].upgrade_crews == world.grid[region].upgrade_crews
    assert m.build_rate_overrides(world, 1.0) == ()
    free = load_scenario(None, list(m.unconstrained_overrides(world)))
    assert all(free.grid[r].spare_mw == m.UNCONSTRAINED_SPARE_MW for r in regions)
    assert free.grid["pjm_dominion"].spare_mw == world.grid["pjm_dominion"].spare_mw
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="positive"):
            m.demand_overrides(world, bad)
        with pytest.raises(ValueError, match="positive"):
            m.build_rate_overrides(world, bad)
    with pytest.raises(ValueError, match="no enabled grid region"):
        m.country_regions(world, "FR")


def test_a_scaled_distribution_keeps_its_shape() -> None:
    m = _module()
    world = load_scenario()
    cases: list[tuple[dict[str, object], float]] = [
        ({"dist": "lognormal", "median": 100, "p90": 300}, 2.0),
        ({"dist": "triangular", "min": 10, "mode": 20, "max": 40}, 0.5),
        ({"dist": "fixed", "value": 7}, 3.0),
        ({"dist": "uniform", "low": 1, "high": 3}, 2.0),
        ({"dist": "empirical", "samples": [1, 2, 4], "weights": [0.5, 0.25, 0.25]}, 2.0),
    ]
    for table, factor in cases:
        text = "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in table.items()) + " }"
        base = load_scenario(None, [f"grid.kansai.upgrade_days={text}"]).grid["kansai"]
        scaled_text = m.scaled_dist_toml(base.upgrade_days, factor)
        scaled = load_scenario(None, [f"grid.kansai.upgrade_days={scaled_text}"])
        got, want = scaled.grid["kansai"].upgrade_days, base.upgrade_days
        assert type(got) is type(want)
        assert got.mean() == pytest.approx(factor * want.mean(), rel=1e-4)
    with pytest.raises(ValueError, match="positive"):
        m.scaled_dist_toml(world.grid["kansai"].upgrade_days, 0.0)


def test_the_forecast_path_runs_from_2024_to_2034_and_the_designs_are_consistent() -> None:
    m = _module()
    assert m.forecast_path_twh(2024) == pytest.approx(19.0)
    assert m.forecast_path_twh(2034) == pytest.approx(61.5)
    assert m.forecast_path_twh(2029) == pytest.approx((19.0 * 61.5) ** 0.5)
    labels = [d.label for d in m.DESIGNS]
    assert labels == ARMS and len(set(labels)) == len(labels)
    world = load_scenario()
    coordinated = m.arm_for(m.Design("forecast", "slow", True), world)
    assert coordinated.source == m.COORDINATION_FILE
    assert any("upgrade_days" in o for o in coordinated.overrides)
    assert any("datacenter_pipeline.requests" in o for o in coordinated.overrides)
    with pytest.raises(ValueError, match="unconstrained"):
        m.arm_for(m.Design("forecast", "unconstrained", True), world)
    designated = m.designated_phases(
        load_scenario(ROOT / "experiments/scenarios/watt_bit_japan.toml")
    )
    assert "inzai_campus_a/IA1" in designated and "ishikari_campus/H2" in designated
    assert not any(p.startswith("stargate") for p in designated)  # a US designated site
