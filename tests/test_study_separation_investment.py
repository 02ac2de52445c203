"""The separation-investment study: its folder, its savings arithmetic and its "what binds".

The end-to-end run is kept cheap: one shock (the open ban), one capacity and
two start dates (five arms), two replications and a horizon of 2027-07-01,
half a year into the ban, the earliest that lets the ban and the levers act.
"""

from __future__ import annotations

import math
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

ARGS = [
    "--reps",
    "2",
    "--workers",
    "1",
    "--quiet",
    "--set",
    "time.end=2027-07-01",
    "--shocks",
    "open",
    "--capacities",
    "6000",
    "--starts",
    "2025-01-01,2026-07-01",
]
FIGURES = [
    "effect_months_delay_avoided",
    "effect_mw_years_saved",
    "grid_months_delay_avoided",
    "grid_mw_years_saved",
    "attribution_ban_open",
]
TABLES = ["effects", "savings", "binding_constraints", "headlines"]


def _module() -> ModuleType:
    return load_script("separation_investment")


@pytest.fixture(scope="module")
def study_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_study(_module().main, ARGS, tmp_path_factory.mktemp("separation") / "s")


def test_the_study_folder_lists_every_arm_figure_and_table(study_run: Path) -> None:
    expected = [
        "ban open",
        "open: heavy 6000 t/yr from 2025-01",
        "open: heavy 6000 t/yr from 2026-07",
        "open: stockpile",
        "open: recycling x2",
    ]
    manifest, findings = check_study_folder(study_run, expected, FIGURES, TABLES)
    labels = [a["label"] for a in manifest["scenarios"]]
    assert sorted(labels) == sorted(expected)
    assert "95 % CI" in findings and "## How to read this" in findings
    assert "**Start date**, open ban, 6000 t/yr" in findings


def test_savings_are_the_sign_flipped_effects_and_say_what_binds(study_run: Path) -> None:
    out = study_run
    effects = pd.read_parquet(out / "tables" / "effects.parquet")
    saved = pd.read_parquet(out / "tables" / "savings.parquet")
    for arm in set(saved["arm"]):
        delay = effects[
            (effects["arm"] == arm)
            & (effects["metric"] == "mw_weighted_delay_days")
            & (effects["group"] == "all")
        ].iloc[0]
        months = saved[
            (saved["arm"] == arm)
            & (saved["metric"] == "months_delay_avoided")
            & (saved["group"] == "all")
        ].iloc[0]
        assert months["diff_mean"] == pytest.approx(-delay["diff_mean"] / 30.44)
    tally = pd.read_parquet(out / "tables" / "binding_constraints.parquet")
    shares = tally.groupby(["arm", "group"])["mw_share"].sum()
    assert shares.to_numpy() == pytest.approx(1.0)
    # A lever whose delay avoided is indistinguishable from zero names what binds instead.
    findings = (out / "findings.md").read_text(encoding="utf-8").splitlines()
    months = saved[saved["metric"] == "months_delay_avoided"]
    flat = months[(months["low"] <= 0) & (months["high"] >= 0)]
    assert not flat.empty  # half a year into the ban, little can move yet
    for arm in set(flat["arm"]):
        line = next(t for t in findings if t.startswith(f"- **{arm}**"))
        assert "what binds there instead" in line
        assert "% of MW" in line


def test_running_the_same_command_again_reuses_every_batch(study_run: Path) -> None:
    check_rerun_reuses_every_batch(_module().main, ARGS, study_run, 5)


def test_avoided_flips_the_sign_and_the_interval() -> None:
    m = _module()
    effects = pd.DataFrame(
        {
            "arm": ["a", "a", "a"],
            "metric": ["mw_weighted_delay_days", "mw_years_lost", "gw_online_2030"],
            "unit": ["days", "MW·yr", "GW"],
            "group": ["US", "US", "US"],
            "n": [5, 5, 5],
            "base_mean": [100.0, 50.0, 1.0],
            "diff_mean": [-60.88, 0.0, 0.1],
            "halfwidth": [30.44, 0.0, 0.05],
            "low": [-91.32, 0.0, 0.05],
            "high": [-30.44, 0.0, 0.15],
            "warning": ["", "", ""],
        }
    )
    saved = m.avoided(effects).set_index("metric")
    months = saved.loc["months_delay_avoided"]
    assert (months["diff_mean"], months["halfwidth"]) == pytest.approx((2.0, 1.0))
    assert (months["low"], months["high"]) == pytest.approx((1.0, 3.0))
    assert months["unit"] == "months"
    nothing = saved.loc["mw_years_saved"]
    assert math.copysign(1.0, nothing["diff_mean"]) == 1.0  # "+0", never "-0"
    assert "base_mean" not in saved.columns
    assert set(saved.index) == {"months_delay_avoided", "mw_years_saved"}
    assert m.includes_zero(nothing) and not m.includes_zero(months)
    with pytest.raises(ValueError, match="lacks column"):
        m.avoided(effects.drop(columns="low"))


def test_constraints_are_tallied_by_mw_and_phases_not_due_are_not_held() -> None:
    m = _module()
    phases = pd.DataFrame(
        {
            "phase_id": ["a", "b", "c", "d"],
            "country": ["US", "US", "JP", "JP"],
            "it_mw": [100.0, 300.0, 100.0, 50.0],
            "planned_day": [10.0, 20.0, 100.0, 2000.0],
            "binding_constraint": [
                "",
                "critical path: grid_capacity_queue",
                "not online by the horizon in the policy run",
                "not online by the horizon in the policy run",
            ],
            "waits_on": ["", "", "permits", "grid"],
        }
    )
    tally = m.tally_constraints(phases, horizon_days=1000.0)
    us = tally[tally["group"] == "US"].set_index("family")["mw_share"]
    assert us.to_dict() == pytest.approx({"grid": 0.75, "moved by the lever": 0.25})
    jp = tally[tally["group"] == "JP"].set_index("family")["mw_share"]
    assert jp.to_dict() == pytest.approx({"permits": 2 / 3, "not due by the horizon": 1 / 3})
    assert m.binding_text(tally, "all", top=2) == (
        "grid on 55 % of MW, moved by the lever on 18 % of MW"
    )
    assert m.binding_text(tally, "CN") == "no phases"


def test_lever_overrides_are_the_loan_case_and_twice_the_recycling() -> None:
    m = _module()
    heavy = m.heavy_circuit_overrides(12000, "2026-07-01")
    assert "separation_plants.mp_heavy_circuit.capacity_t_per_year=12000" in heavy
    assert "separation_plants.mp_heavy_circuit.project_start=2026-07-01" in heavy
    assert any("qualified=" in o and "serra_verde" in o for o in heavy)
    with pytest.raises(ValueError, match="capacity"):
        m.heavy_circuit_overrides(0, "2026-07-01")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        m.heavy_circuit_overrides(6000, "mid-2026")
    assert m.shock_arm("12m").overrides == ("export_controls.cn_ban_2027.end=2028-01-01",)
    from paxsim import load_scenario

    world = load_scenario(ROOT / "experiments" / "scenarios" / "magnet_ban_2027.toml")
    doubled = load_scenario(
        ROOT / "experiments" / "scenarios" / "magnet_ban_2027.toml",
        m.recycling_overrides(world),
    )
    mine, twice = world.mines["us_magnet_scrap"], doubled.mines["us_magnet_scrap"]
    assert twice.capacity_t_per_year == 2 * mine.capacity_t_per_year
    assert [c.capacity for c in twice.capacity_changes] == [
        2 * c.capacity for c in mine.capacity_changes
    ]
    assert [c.date for c in twice.capacity_changes] == [c.date for c in mine.capacity_changes]
    plant = "us_magnet_recycling"
    assert (
        doubled.separation_plants[plant].capacity_t_per_year
        == 2 * world.separation_plants[plant].capacity_t_per_year
    )


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--capacities", "6000,lots", "numbers"),
        ("--capacities", "-5", "> 0"),
        ("--starts", "2026-13-01", "YYYY-MM-DD"),
        ("--shocks", "forever", "unknown shock"),
        ("--shocks", "open,open", "twice"),
    ],
)
def test_a_bad_design_is_refused_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str, message: str
) -> None:
    out = tmp_path / "s"
    assert _module().main(["--reps", "2", "--quiet", "--out", str(out), flag, value]) == 2
    assert message in capsys.readouterr().err
    assert not (out / "batches").exists()
