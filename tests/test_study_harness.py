"""The study harness (paxsim.study): arms, cached batches, effects, the folder it writes."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from paxsim.study import (
    STUDY_FORMAT,
    Arm,
    Study,
    StudyOptions,
    covers_zero,
    difference_text,
    effect_of,
    effect_text,
    effect_text_noting_zero,
    interval_text,
    level_text,
    number,
    row_where,
    run_study_main,
    study_main,
    study_parser,
)

TINY = Path(__file__).parent / "scenarios" / "tiny.toml"
#: A lever in the tiny world: a data center twice as large needs more of everything.
BIGGER = Arm("bigger", TINY, ("datacenters.bb_campus.phases.0.it_mw=200",), "a larger phase")


def _options(out: Path, reps: int = 3, cache: Path | None = None) -> StudyOptions:
    return StudyOptions(out=out, reps=reps, seed=4, workers=1, cache=cache, progress=False)


def test_interval_text_keeps_the_interval_and_says_when_there_is_none() -> None:
    assert interval_text(-120.4, 30.0) == "-120 d (95 % CI -150 to -90)"
    assert interval_text(1.25, 0.5, "GW", 2) == "+1.25 GW (95 % CI +0.75 to +1.75)"
    assert "too few replications" in interval_text(3.0, math.nan)
    assert interval_text(math.inf, 1.0) == "after the horizon"


def test_the_finding_helpers_say_levels_differences_and_zero() -> None:
    assert covers_zero(-1.0, 2.0) and covers_zero(0.0, 3.0) and not covers_zero(0.5, 2.0)
    assert covers_zero(math.nan, 2.0) and covers_zero(1.0, math.inf)  # no interval
    assert level_text(0.85, 0.05) == "0.85 (95 % CI 0.80 to 0.90)"
    assert level_text(57.26, 2.2, "TWh", 1) == "57.3 TWh (95 % CI 55.1 to 59.5)"
    assert level_text(3.0, math.nan, "d", 0) == "3 d (no interval: too few replications)"
    assert level_text(math.nan, 1.0) == "n/a"
    assert number("2.5") == 2.5 and math.isnan(number(None)) and math.isnan(number("x"))
    frame = pd.DataFrame({"arm": ["a", "a", "b"], "group": ["US", "JP", "US"], "v": [1, 2, 3]})
    assert row_where(frame, arm="a", group="JP") == {"arm": "a", "group": "JP", "v": 2}
    assert row_where(frame, arm="a")["v"] == 1  # the first match
    with pytest.raises(KeyError, match="no row"):
        row_where(frame, arm="c")
    flat = {"diff_mean": 1.0, "halfwidth": 2.0, "gap_gw": -3.0, "gap_gw_halfwidth": 1.0}
    assert difference_text(flat, "MW") == "+1 MW (95 % CI -1 to +3), indistinguishable from zero"
    assert difference_text(flat, "GW", 1, "gap_gw") == "-3.0 GW (95 % CI -4.0 to -2.0)"
    effects = pd.DataFrame(
        {
            "arm": ["a", "b"],
            "metric": ["m", "m"],
            "group": ["all", "all"],
            "unit": ["days", "GW"],
            "diff_mean": [-10.0, 0.5],
            "halfwidth": [4.0, 1.0],
            "low": [-14.0, -0.5],
            "high": [-6.0, 1.5],
            "warning": ["", ""],
        }
    )
    assert effect_text_noting_zero(effects, "a", "m") == effect_text(effects, "a", "m")
    assert effect_text_noting_zero(effects, "b", "m", digits=1) == (
        "+0.5 GW (95 % CI -0.5 to +1.5), indistinguishable from zero"
    )
    with pytest.raises(KeyError):
        effect_text_noting_zero(effects, "c", "m")


def test_study_main_is_the_shared_parser_and_runner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def body(options: StudyOptions) -> Study:
        raise AssertionError("not reached: --reps 1 is refused first")

    argv = ["--reps", "1", "--out", str(tmp_path / "s")]
    assert study_main("demo", "A demo.", body, argv) == 2
    assert "python -m experiments.demo: error: --reps must be at least 2" in capsys.readouterr().err


def test_arm_variants_add_overrides_and_keep_the_source() -> None:
    base = Arm("ban", "magnet_ban_2027.toml", ("a=1",), "a ban")
    variant = base.with_overrides("b=2", label="ban_6m")
    assert variant.source == base.source
    assert variant.overrides == ("a=1", "b=2")
    assert (variant.label, variant.description) == ("ban_6m", "a ban")


def test_same_inputs_share_one_batch_and_a_rerun_reuses_it(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = Study("s", "q?", _options(tmp_path / "a", cache=cache), Arm("base", TINY))
    batch = first.run(Arm("base", TINY))
    # The same scenario under another label is the same batch folder.
    assert first.batch_folder(first.scenario(Arm("other", TINY))) == batch.out
    assert first.arms["base"]["replications_reused"] == 0
    second = Study("s2", "q?", _options(tmp_path / "b", cache=cache), Arm("base", TINY))
    again = second.run(Arm("base", TINY))
    assert again.out == batch.out
    assert second.arms["base"]["replications_reused"] == 3
    pd.testing.assert_frame_equal(again.projects, batch.projects)
    # A different lever is a different folder.
    assert first.batch_folder(first.scenario(BIGGER)) != batch.out


def test_effects_are_paired_and_the_folder_is_complete(tmp_path: Path) -> None:
    out = tmp_path / "study"
    study = Study(
        "tiny_study", "Does a bigger phase come online later?", _options(out), Arm("base", TINY)
    )
    effects = study.effects([BIGGER])
    assert set(effects["arm"]) == {"bigger"}
    row = effects[(effects["metric"] == "mw_years_lost") & (effects["group"] == "all")].iloc[0]
    assert row["n"] == 3
    assert row["diff_mean"] == pytest.approx(row["policy_mean"] - row["base_mean"])
    text = effect_text(effects, "bigger", "mw_years_lost", "all", 1)
    assert "95 % CI" in text and "n=3 < 10" in text  # the small-sample warning travels along
    # A metric a run cannot give (a year past a shortened horizon) says so, never a number.
    assert effect_text(effects, "nonexistent", "mw_years_lost") == "n/a (not computed)"
    with pytest.raises(KeyError, match="no effect"):
        effect_of(effects, "nonexistent", "mw_years_lost")

    study.table(effects, "effects")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    study.figure(fig, "line")
    assert not plt.get_fignums()  # saved figures are closed
    study.finding(f"bigger: MW-years lost {text}")
    folder = study.write()

    manifest = json.loads((folder / "study.json").read_text(encoding="utf-8"))
    assert manifest["format"] == STUDY_FORMAT
    assert manifest["reps"] == 3 and manifest["seed"] == 4
    assert [a["label"] for a in manifest["scenarios"]] == ["base", "bigger"]
    assert manifest["scenarios"][1]["overrides"] == list(BIGGER.overrides)
    assert sorted(manifest["figures"]) == ["figures/line.png", "figures/line.svg"]
    assert (folder / "tables" / "effects.parquet").exists()
    assert (folder / "tables" / "effects.csv").exists()
    findings = (folder / "findings.md").read_text(encoding="utf-8")
    assert "bigger: MW-years lost" in findings and "censored" in findings
    assert "**bigger**" in findings  # every arm is described


def _parser() -> argparse.ArgumentParser:
    return study_parser("demo", "demo study", default_reps=5)


def test_user_mistakes_exit_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def body(options: StudyOptions) -> Study:
        raise AssertionError("never reached")

    assert run_study_main(_parser(), body, ["--reps", "1", "--out", str(tmp_path)]) == 2
    assert "--reps must be at least 2" in capsys.readouterr().err
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    assert run_study_main(_parser(), body, ["--out", str(a_file)]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_a_bad_override_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def body(options: StudyOptions) -> Study:
        study = Study("demo", "q", options, Arm("base", TINY))
        study.run(Arm("base", TINY))
        return study

    argv = ["--reps", "2", "--workers", "1", "--quiet", "--out", str(tmp_path / "o")]
    assert run_study_main(_parser(), body, [*argv, "--set", "time.step_days=-3"]) == 2
    assert "step_days" in capsys.readouterr().err
