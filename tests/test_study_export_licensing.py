"""The export-licensing study end to end (2 replications, a short horizon), and its arms."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from study_checks import check_study_folder, run_study

from experiments import export_licensing as study
from paxsim import load_scenario
from paxsim.study import SCENARIOS


def test_every_arm_loads_and_bans_end_when_they_say() -> None:
    arms = study.arms()
    labels = [a.label for a in arms]
    assert labels == [
        "april_2025",
        "as_recorded",
        "october_unsuspended",
        "ban_6m",
        "ban_12m",
        "ban_24m",
        "ban_open",
    ]
    by_label = {a.label: a for a in arms}
    for label, end in study.BAN_ENDS.items():
        arm = by_label[label]
        scenario = load_scenario(SCENARIOS / str(arm.source), list(arm.overrides))
        assert scenario.export_controls["cn_ban_2027"].end.isoformat() == end
    open_ban = load_scenario(SCENARIOS / "magnet_ban_2027.toml")
    assert open_ban.export_controls["cn_ban_2027"].end is None
    base = load_scenario(SCENARIOS / str(study.BASELINE.source))
    assert not any(c.enabled for c in base.export_controls.values())


def test_the_study_writes_its_folder(tmp_path: Path) -> None:
    argv = ["--reps", "2", "--workers", "1", "--quiet", "--set", "time.end=2027-09-01"]
    out = run_study(study.main, argv, tmp_path / "export")
    manifest, findings = check_study_folder(
        out,
        [a.label for a in study.arms()],
        figures=("effect_mw_years_lost", "policy_fan_ban_open", "attribution_ban_open"),
        tables=("effects", "facilities_dry"),
    )
    labels = {a["label"] for a in manifest["scenarios"]}
    assert labels == {"no_controls", *(a.label for a in study.arms())}
    assert "95 % CI" in findings
    effects = pd.read_parquet(out / "tables" / "effects.parquet")
    assert set(effects["arm"]) == {a.label for a in study.arms()}
    dry = pd.read_csv(out / "tables" / "facilities_dry.csv")
    assert {"facility", "first_dry_date", "extra_dry_days"} <= set(dry.columns)
