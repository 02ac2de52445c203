"""The export-licensing study end to end (2 replications, a short horizon), and its arms."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

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
    out = tmp_path / "export"
    argv = ["--reps", "2", "--workers", "1", "--quiet", "--out", str(out)]
    assert study.main([*argv, "--set", "time.end=2027-09-01"]) == 0
    manifest = json.loads((out / "study.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "paxsim.study/1"
    labels = {a["label"] for a in manifest["scenarios"]}
    assert labels == {"no_controls", *(a.label for a in study.arms())}
    findings = (out / "findings.md").read_text(encoding="utf-8")
    for arm in study.arms():
        assert f"**{arm.label}**" in findings
    assert "95 % CI" in findings
    for name in ("effect_mw_years_lost", "policy_fan_ban_open", "attribution_ban_open"):
        assert (out / "figures" / f"{name}.png").exists()
        assert (out / "figures" / f"{name}.svg").exists()
    effects = pd.read_parquet(out / "tables" / "effects.parquet")
    assert set(effects["arm"]) == {a.label for a in study.arms()}
    dry = pd.read_csv(out / "tables" / "facilities_dry.csv")
    assert {"facility", "first_dry_date", "extra_dry_days"} <= set(dry.columns)
