"""The trusted-sourcing study: its folder, its reuse of batches, and its stranding analysis.

The end-to-end run is kept cheap: two replications of the eight arms to 2028-07-01, half a
year into the 2028 mandate (and a year and a half into the 2027 one), the earliest end at
which both mandates are in force.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType

import numpy as np
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
from paxsim.sim.replications import REPLICATION

ARGS = ["--reps", "2", "--workers", "1", "--quiet", "--set", "time.end=2028-07-01"]
ARMS = [
    "no_mandate",
    "mandate_2027",
    "mandate_2028",
    "mandate_2030",
    "2028_without_uae_qatar",
    "2028_with_india_2027",
    "2028_signatories_only",
    "2028_neutral_counts",
]
FIGURES = [
    "effect_stranded_mw_at_horizon",
    "effect_mw_years_lost",
    "effect_gw_online_2027",
    "stranded_mw_over_time",
    "national_gw_difference_US",
    "national_gw_difference_JP",
    "policy_fan_mandate_2028",
]
TABLES = [
    "effects",
    "variants_vs_mandate_2028",
    "stranded_mw_difference_curve",
    "extra_stranded_days",
    "stranded_peak_and_duration_effects",
    "national_gw_difference",
    "national_gw_years_lost",
    "trusted_share",
    "variant_country_supply_stages",
]


def _module() -> ModuleType:
    return load_script("trusted_sourcing")


@pytest.fixture(scope="module")
def study_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_study(_module().main, ARGS, tmp_path_factory.mktemp("trusted") / "s")


def test_the_study_folder_lists_every_arm_figure_and_table(study_run: Path) -> None:
    manifest, findings = check_study_folder(study_run, ARMS, FIGURES, TABLES)
    assert [a["label"] for a in manifest["scenarios"]] == ARMS
    assert "## How to read this" in findings and "95 % CI" in findings
    assert "No modelled processing stage" in findings and "AE, QA, IN" in findings


def test_the_tables_cover_every_mandate_and_group(study_run: Path) -> None:
    out = study_run
    curve = pd.read_parquet(out / "tables" / "stranded_mw_difference_curve.parquet")
    assert set(curve["arm"]) == set(ARMS[1:])
    assert {"US", "JP", "all"} <= set(curve["group"])
    assert curve["day"].max() == pytest.approx(1277.0)  # 2025-01-01 -> 2028-07-01
    # A mandate from 2030 cannot act before a 2028 horizon: identical runs, zero effect.
    late = curve[curve["arm"] == "mandate_2030"]
    assert (late["diff_mean"] == 0).all()
    shares = pd.read_parquet(out / "tables" / "trusted_share.parquet")
    assert set(shares["arm"]) == set(ARMS)
    assert shares["mean"].dropna().between(0.0, 1.0).all()
    effects = pd.read_parquet(out / "tables" / "effects.parquet")
    assert set(effects["arm"]) == set(ARMS[1:])


def test_running_the_same_command_again_reuses_every_batch(study_run: Path) -> None:
    check_rerun_reuses_every_batch(_module().main, ARGS, study_run, len(ARMS))


def _curve(values: dict[tuple[int, str], list[float]], days: list[float]) -> pd.DataFrame:
    rows = [
        (rep, group, day, mw)
        for (rep, group), series in values.items()
        for day, mw in zip(days, series, strict=True)
    ]
    return pd.DataFrame(rows, columns=[REPLICATION, "group", "day", "stranded_mw"])


def test_extra_stranded_days_count_the_grid_days_the_policy_strands_more() -> None:
    m = _module()
    days = [0.0, 30.0, 60.0, 90.0]
    base = _curve({(0, "US"): [0, 100, 100, 0], (1, "US"): [0, 0, 0, 0]}, days)
    policy = _curve({(0, "US"): [0, 100, 250, 150], (1, "US"): [0, 0.2, 0, 0]}, days)
    out = m.extra_stranded_days(base, policy, step_days=30.0).set_index(REPLICATION)
    assert out.loc[0, "extra_stranded_days"] == 60.0
    assert (out.loc[0, "first_extra_day"], out.loc[0, "last_extra_day"]) == (60.0, 90.0)
    # 0.2 MW is below the tolerance: no extra stranding, no first or last day.
    assert out.loc[1, "extra_stranded_days"] == 0.0
    assert math.isnan(out.loc[1, "first_extra_day"])
    diff = m.curve_difference(base, policy).set_index("day")
    assert diff.loc[60.0, "diff_mean"] == pytest.approx(75.0)
    with pytest.raises(ValueError, match="share no"):
        m.extra_stranded_days(base, policy.assign(group="JP"))


def test_the_curve_grid_ends_at_the_horizon_and_refuses_nonsense() -> None:
    m = _module()
    assert m.curve_days(100.0, 30.0).tolist() == [0.0, 30.0, 60.0, 90.0, 100.0]
    assert m.curve_days(90.0, 30.0).tolist() == [0.0, 30.0, 60.0, 90.0]
    for bad in (0.0, -5.0, float("nan")):
        with pytest.raises(ValueError, match="step_days"):
            m.curve_days(100.0, bad)
    projects = pd.DataFrame(
        {
            REPLICATION: [0, 0],
            "phase_id": ["a", "b"],
            "country": ["US", "JP"],
            "it_mw": [100.0, 50.0],
            "planned_day": [10.0, 20.0],
            "online_day": [40.0, np.nan],
        }
    )
    curve = m.stranded_curve(projects, 60.0, 30.0).set_index(["group", "day"])["stranded_mw"]
    assert curve[("US", 30.0)] == 100.0 and curve[("US", 60.0)] == 0.0
    assert curve[("all", 30.0)] == 150.0 and curve[("JP", 60.0)] == 50.0


def test_national_shortfall_is_paired_within_each_replication() -> None:
    m = _module()
    national = pd.DataFrame(
        {
            REPLICATION: [0] * 6,
            "country": ["US", "US", "US", "JP", "JP", "JP"],
            "region": ["all", "all", "pjm", "all", "all", "installed_base"],
            "year": [2025, 2026, 2026, 2025, 2026, 2026],
            "gw_online": [30.0, 40.0, 9.0, 3.0, 4.0, 2.7],
        }
    )
    base = m.national_gw(national)
    total = base[base["group"] == "all"].set_index("year")["gw_online"]
    assert total.to_dict() == pytest.approx({2025: 33.0, 2026: 44.0})  # regions are not added
    policy = m.national_gw(national.assign(gw_online=national["gw_online"] - [0, 2, 0, 0, 1, 0]))
    lost = m.gw_years_lost(base, policy).set_index("group")["gw_years_lost"]
    assert lost.to_dict() == pytest.approx({"US": 2.0, "JP": 1.0, "all": 3.0})
    with pytest.raises(ValueError, match="share no"):
        m.gw_years_lost(base, policy.assign(year=1990))
    with pytest.raises(ValueError, match="lacks"):
        m.national_gw(national.drop(columns="region"))
    diffs = pd.DataFrame({"year": [2025, 2026, 2027, 2028], "high": [0.1, -0.2, 0.0, -1.0]})
    assert m.shortfall_years(diffs) == [2026, 2028]


def test_trusted_share_is_weighted_by_mw_and_skips_phases_that_received_nothing() -> None:
    m = _module()
    projects = pd.DataFrame(
        {
            REPLICATION: [0, 0, 0, 1],
            "country": ["US", "US", "JP", "US"],
            "it_mw": [100.0, 300.0, 50.0, 100.0],
            "magnet_trusted_share": [1.0, 0.0, np.nan, 0.5],
            "accelerator_trusted_share": [1.0, 1.0, 0.0, np.nan],
        }
    )
    out = m.trusted_share(projects).set_index([REPLICATION, "group", "material"])
    share = out["trusted_share"]
    assert share[(0, "US", "magnet")] == pytest.approx(0.25)
    assert share[(1, "US", "magnet")] == pytest.approx(0.5)
    assert (0, "JP", "magnet") not in share.index  # it received no magnets
    assert share[(0, "all", "accelerator")] == pytest.approx(400 / 450)
    with pytest.raises(ValueError, match="lacks"):
        m.trusted_share(projects.drop(columns="magnet_trusted_share"))


def test_the_arms_change_what_they_say_and_the_variant_countries_hold_no_supply() -> None:
    m = _module()
    world = load_scenario()
    stages = m.supply_stages_in(world, ["AE", "QA", "IN", "EE"])
    assert stages["AE"] == stages["QA"] == stages["IN"] == []
    assert any(s.startswith("separation_plants.") for s in stages["EE"])
    arms = {a.label: a for a in m.arms(world.trust_coalition)}
    assert list(arms) == ARMS[1:]
    scenarios = {
        label: load_scenario(ROOT / "experiments" / "scenarios" / arm.source, list(arm.overrides))
        for label, arm in arms.items()
    }
    policy = m.MANDATE_ID
    assert str(scenarios["mandate_2027"].policies.trusted_sourcing[policy].start) == "2027-01-01"
    assert str(scenarios["mandate_2028"].policies.trusted_sourcing[policy].start) == "2028-01-01"
    members = {
        label: {x.country for x in s.coalitions[world.trust_coalition].members}
        for label, s in scenarios.items()
    }
    assert {"AE", "QA"} & members["2028_without_uae_qatar"] == set()
    assert "IN" in members["2028_with_india_2027"] and "IN" not in members["mandate_2028"]
    assert scenarios["2028_signatories_only"].rules_of_origin.trusted_tiers == ["signatory"]
    assert "neutral" in scenarios["2028_neutral_counts"].rules_of_origin.trusted_tiers
    with pytest.raises(ValueError, match="no facility table"):
        m.supply_stages_in(world, ["US"], kinds=("windmills",))
