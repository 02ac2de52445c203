"""The permitting x interconnection factorial: its folder and the factorial arithmetic.

The end-to-end run uses two replications and a horizon of 2027-07-01: by then
the first phases (planned 2026) have met the permit shot clock and the ERCOT
queue reform, which is all the run needs to exercise every arm.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from study_checks import check_rerun_reuses_every_batch, check_study_folder, load_script, run_study

ARGS = ["--reps", "2", "--workers", "1", "--quiet", "--set", "time.end=2027-07-01"]
ARMS = ["baseline", "permitting", "interconnection", "both"]
FIGURES = [
    "interaction_full_power_day",
    "interaction_mw_years_lost",
    "effects_full_power_day",
    "effects_mw_years_lost",
]
TABLES = ["factorial_effects", "cell_means", "outcomes_per_replication", "effects"]


def _module() -> ModuleType:
    return load_script("permitting_vs_interconnection")


def _cells(
    interaction: list[float], permitting: float = -30.0, grid: float = -50.0
) -> dict[tuple[int, int], pd.DataFrame]:
    """Four cells of a known factorial: a replication level, two additive effects and an
    interaction that varies by replication (so its interval has a known width)."""
    reps = len(interaction)
    level = np.array([1000.0, 1100.0, 900.0, 1200.0][:reps])
    rows: dict[tuple[int, int], pd.DataFrame] = {}
    for p, g in ((0, 0), (1, 0), (0, 1), (1, 1)):
        frames = []
        for group, offset in (("US", 0.0), ("JP", 500.0)):
            y = level + offset + p * permitting + g * grid + p * g * np.array(interaction)
            frames.append(pd.DataFrame({"replication": range(reps), "group": group, "y": y}))
        rows[(p, g)] = pd.concat(frames, ignore_index=True)
    return rows


def test_factorial_effects_recover_known_main_effects_and_interaction() -> None:
    m = _module()
    out = m.factorial_effects(_cells([4.0, 5.0, 6.0]), "y", "group")
    assert list(out["effect"][:3]) == ["permitting", "interconnection", "interaction"]
    us = out[out["group"] == "US"].set_index("effect")
    # main effect = the reform's effect averaged over the other off (0) and on (interaction)
    assert us.loc["permitting", "mean"] == pytest.approx(-30.0 + 5.0 / 2)
    assert us.loc["interconnection", "mean"] == pytest.approx(-50.0 + 5.0 / 2)
    assert us.loc["interaction", "mean"] == pytest.approx(5.0)
    # interaction 4, 5, 6: sd 1, t(0.975, 2) = 4.303
    assert us.loc["interaction", "halfwidth"] == pytest.approx(4.3027 / np.sqrt(3), rel=1e-3)
    assert us.loc["permitting", "halfwidth"] == pytest.approx(4.3027 / np.sqrt(3) / 2, rel=1e-3)
    assert (us["n"] == 3).all()
    assert "n=3" in us.loc["interaction", "warning"]
    jp = out[out["group"] == "JP"].set_index("effect")
    assert jp["mean"].to_numpy() == pytest.approx(us["mean"].to_numpy())


def test_additive_reforms_have_no_interaction_and_the_level_cancels() -> None:
    out = (
        _module()
        .factorial_effects(_cells([0.0, 0.0]), "y", ["group"])
        .set_index(["group", "effect"])
    )
    assert out.loc[("US", "interaction"), "mean"] == 0.0
    assert out.loc[("US", "interaction"), "halfwidth"] == 0.0
    # the replication level (1000 vs 1100) differs, yet the paired effects do not vary
    assert out.loc[("US", "permitting"), "halfwidth"] == pytest.approx(0.0)
    assert out.loc[("US", "interconnection"), "mean"] == pytest.approx(-50.0)


def test_factorial_effects_use_only_replications_in_every_cell() -> None:
    frames = _cells([4.0, 5.0, 6.0])
    frames[(1, 1)] = frames[(1, 1)][frames[(1, 1)]["replication"] != 2]
    out = _module().factorial_effects(frames, "y", "group")
    assert (out["n"] == 2).all()


def test_factorial_effects_refuse_what_would_mislead() -> None:
    m = _module()
    frames = _cells([1.0, 2.0])
    with pytest.raises(ValueError, match="cell"):
        m.factorial_effects({k: v for k, v in frames.items() if k != (1, 1)}, "y", "group")
    twice = dict(frames)
    twice[(1, 0)] = pd.concat([frames[(1, 0)], frames[(1, 0)]])
    with pytest.raises(ValueError, match="several rows"):
        m.factorial_effects(twice, "y", "group")
    never = dict(frames)
    never[(0, 1)] = frames[(0, 1)].assign(y=np.inf)
    with pytest.raises(ValueError, match="infinite"):
        m.factorial_effects(never, "y", "group")
    with pytest.raises(ValueError, match="lacks"):
        m.factorial_effects(frames, "z", "group")


def test_cell_means_give_each_cell_its_interval() -> None:
    means = _module().cell_means(_cells([4.0, 5.0, 6.0]), "y", "group")
    both = means[(means["permitting"] == 1) & (means["interconnection"] == 1)]
    us = both[both["group"] == "US"].iloc[0]
    assert us["mean"] == pytest.approx(1000.0 - 80.0 + 5.0)
    assert us["n"] == 3 and us["halfwidth"] > 0
    assert len(means) == 8


def test_shot_clock_overrides_come_from_the_permitting_file(tmp_path: Path) -> None:
    m = _module()
    overrides = m.shot_clock_overrides()
    assert len(overrides) == 5
    assert "authorities.virginia_local.shot_clock_days=180" in overrides
    assert m.cells()[(1, 1)].overrides == overrides
    bad = tmp_path / "reform.toml"
    bad.write_text('name = "x"\n[authorities.a]\nshot_clock_days = 90\n[grid.ercot]\nx = 1\n')
    with pytest.raises(ValueError, match="grid"):
        m.shot_clock_overrides(bad)
    other = tmp_path / "other.toml"
    other.write_text('name = "x"\nextends = "grid_reform.toml"\n[authorities.a]\nx = 1\n')
    with pytest.raises(ValueError, match="extends"):
        m.shot_clock_overrides(other)


@pytest.fixture(scope="module")
def study_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_study(_module().main, ARGS, tmp_path_factory.mktemp("factorial") / "s")


def test_the_study_folder_lists_every_arm_figure_and_table(study_run: Path) -> None:
    manifest, findings = check_study_folder(study_run, ARMS, FIGURES, TABLES)
    assert sorted(a["label"] for a in manifest["scenarios"]) == sorted(ARMS)
    assert "Full power, not first power" in findings
    assert "## How to read this" in findings
    for country in ("US", "JP", "all"):
        assert f"**MW-weighted full-power day, {country}**" in findings


def test_the_tables_agree_with_the_replications(study_run: Path) -> None:
    """The factorial table is the decomposition of the per-replication outcomes it saved."""
    m = _module()
    per_rep = pd.read_parquet(study_run / "tables" / "outcomes_per_replication.parquet")
    labels = {arm.label: cell for cell, arm in m.cells().items()}
    frames = {labels[a]: f.drop(columns="arm") for a, f in per_rep.groupby("arm")}
    again = m.factorial_effects(frames, "full_power_day", "group")
    saved = pd.read_parquet(study_run / "tables" / "factorial_effects.parquet")
    saved = saved[saved["outcome"] == "full_power_day"].reset_index(drop=True)
    assert saved["mean"].to_numpy() == pytest.approx(again["mean"].to_numpy())
    assert set(saved["group"]) == {"US", "JP", "all"}
    assert (per_rep["first_power_day"] <= per_rep["full_power_day"] + 1e-9).all()


def test_running_the_same_command_again_reuses_every_batch(study_run: Path) -> None:
    check_rerun_reuses_every_batch(_module().main, ARGS, study_run, 4)
