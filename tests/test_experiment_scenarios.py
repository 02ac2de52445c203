"""The policy scenarios shipped with the experiments load, and each changes what it says."""

from __future__ import annotations

from pathlib import Path

import pytest

from paxsim.models.loader import load_scenario

SCENARIOS = sorted((Path(__file__).parent.parent / "experiments" / "scenarios").glob("*.toml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_policy_scenario_is_valid_and_differs_from_default(path: Path) -> None:
    scenario = load_scenario(path)
    # a policy extends the default world, or another shipped policy (a lever on a shock)
    assert scenario.extends == "default" or (path.parent / str(scenario.extends)).exists()
    labels = {"name", "description", "extends"}
    assert scenario.model_dump(exclude=labels) != load_scenario().model_dump(exclude=labels)


def test_there_is_a_scenario_for_each_lever_family() -> None:
    names = {p.stem for p in SCENARIOS}
    assert {"no_export_controls", "quota_2010_replay", "grid_reform", "watt_bit_japan"} <= names
    assert {"trusted_sourcing_2028", "permitting_shot_clock", "heavy_ree_acceleration"} <= names
