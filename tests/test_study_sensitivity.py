"""The global sensitivity study (experiments/sensitivity.py): parameters, design, outputs.

The end-to-end run is kept cheap: three parameters, two Morris trajectories
(2 x 4 = 8 design points), 2 replications and a horizon of 2027-06-01, the
earliest end that keeps every named phase's start inside the run. GW online
in 2030 cannot exist at that horizon, which is what the missing-year note is
tested on.
"""

from __future__ import annotations

import time
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from study_checks import check_study_folder, load_script, manifest

from paxsim import load_scenario
from paxsim.models.scenario import Scenario
from paxsim.sim.distributions import LogNormal, Triangular

PARAMS = "magnet_t_per_mw,grid_study_days,export_review_days"
END = "2027-06-01"


S = load_script("sensitivity", "experiments_sensitivity_under_test")


def _argv(out: Path, *extra: str) -> list[str]:
    return [
        "--reps",
        "2",
        "--trajectories",
        "2",
        "--workers",
        "1",
        "--quiet",
        "--out",
        str(out),
        "--set",
        f"time.end={END}",
        "--params",
        PARAMS,
        *extra,
    ]


@pytest.fixture(scope="module")
def base() -> Scenario:
    return load_scenario()


@pytest.fixture(scope="module")
def study_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the study twice into one folder: the second run must reuse every batch."""
    out = tmp_path_factory.mktemp("sensitivity") / "s"
    started = time.perf_counter()
    first = S.main(_argv(out))
    first_seconds = time.perf_counter() - started
    first_json = manifest(out)
    started = time.perf_counter()
    second = S.main(_argv(out))
    second_seconds = time.perf_counter() - started
    return {
        "out": out,
        "codes": (first, second),
        "first": first_json,
        "second": manifest(out),
        "seconds": (first_seconds, second_seconds),
    }


# ------------------------------------------------------------------------------ end to end
def test_study_writes_its_folder(study_run: dict[str, Any]) -> None:
    out: Path = study_run["out"]
    assert study_run["codes"] == (0, 0)
    first = study_run["first"]
    assert first["format"] == "paxsim.study/1"
    labels = [a["label"] for a in first["scenarios"]]
    design = [f"morris_{i:04d}" for i in range(2 * (3 + 1))]
    tornado = [f"{end}_{p}" for p in PARAMS.split(",") for end in ("low", "high")]
    assert sorted(labels) == sorted([*design, *tornado, "default"])
    check_study_folder(
        out,
        labels,
        figures=("indices_mw_weighted_delay_days", "tornado_mw_weighted_delay_days"),
        tables=("parameters", "design", "outputs", "indices", "tornado"),
    )
    # every design point is a scenario file in the folder, and the arms carry no --set list
    assert sorted(p.stem for p in (out / "design").glob("*.toml")) == sorted([*design, *tornado])
    assert all(a["overrides"] == [f"time.end={END}"] for a in first["scenarios"])


def test_tables_hold_the_design_indices_and_a_sorted_tornado(study_run: dict[str, Any]) -> None:
    tables = study_run["out"] / "tables"
    params = pd.read_csv(tables / "parameters.csv")
    assert list(params["parameter"]) == PARAMS.split(",")
    assert {"description", "low", "high", "status", "range_reason"} <= set(params.columns)
    outputs = pd.read_csv(tables / "outputs.csv")
    assert len(outputs) == 8
    assert outputs["mw_weighted_delay_days"].notna().all()
    for name in PARAMS.split(","):  # Morris's 4 levels lie inside each range
        p = next(q for q in S.parameters() if q.name == name)
        assert outputs[name].between(p.low - 1e-9, p.high + 1e-9).all()
    indices = pd.read_csv(tables / "indices.csv")
    assert list(indices.columns[:5]) == ["method", "output", "unit", "parameter", "role"]
    assert {"mu_star", "mu_star_conf", "sigma"} <= set(indices.columns)
    assert set(indices["output"]) == {"mw_weighted_delay_days"}
    assert sorted(indices["parameter"]) == sorted(PARAMS.split(","))
    assert (indices["mu_star"] >= 0).all()
    tornado = pd.read_csv(tables / "tornado.csv")
    assert set(tornado["parameter"]) == set(PARAMS.split(","))
    for _, rows in tornado.groupby("output"):
        swings = rows["swing"].to_numpy()
        assert (np.diff(swings) <= 0).all(), "tornado must be sorted by swing, largest first"
    assert np.allclose(tornado["swing"], (tornado["diff_high"] - tornado["diff_low"]).abs())


def test_findings_state_cost_warnings_and_the_missing_year(study_run: dict[str, Any]) -> None:
    findings = (study_run["out"] / "findings.md").read_text(encoding="utf-8")
    assert "**Cost:** 8 morris design points" in findings
    assert "15 batches x 2 replications = 30 simulations" in findings
    assert "2 Morris trajectories is a quick screening" in findings
    # GW in 2030 does not exist with a 2027 horizon: a note, not a crash
    assert "GW online in US at end-2030: not available" in findings
    assert "2031-01-01" in findings
    assert "95 % CI" in findings
    assert "## How to read this" in findings


def test_second_run_reuses_every_batch(study_run: dict[str, Any]) -> None:
    assert all(a["replications_reused"] == 0 for a in study_run["first"]["scenarios"])
    assert all(a["replications_reused"] == 2 for a in study_run["second"]["scenarios"])
    first_seconds, second_seconds = study_run["seconds"]
    assert second_seconds < first_seconds  # nothing simulated the second time
    findings = (study_run["out"] / "findings.md").read_text(encoding="utf-8")
    assert "(30 reused from the cache)" in findings


# ------------------------------------------------------------------------------ user errors
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--params", "magnet_t_per_mw,nonsense"], "unknown --params nonsense"),
        (["--params", "magnet_t_per_mw"], "at least two"),
        (["--method", "sobol", "--n", "6"], "power of two"),
        (["--trajectories", "1"], "at least 2"),
        (
            ["--set", "transformers.initial_backlog=10", "--params", f"{PARAMS},transformer_lead"],
            "which the parameter transformer_lead varies",
        ),
    ],
)
def test_user_mistakes_exit_2_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    argv = [*_argv(tmp_path / "bad"), *extra]
    assert S.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert not (tmp_path / "bad" / "batches").exists()


# ------------------------------------------------------------------------------ scaling
def test_scaling_a_triangular_by_two_doubles_min_mode_max() -> None:
    tri = Triangular(dist="triangular", min=30, mode=90, max=180)
    assert S.scaled(tri, 2.0) == {"dist": "triangular", "min": 60.0, "mode": 180.0, "max": 360.0}
    logn = LogNormal.model_validate({"dist": "lognormal", "median": 450, "p90": 540})
    assert S.scaled(logn, 1.5) == {"dist": "lognormal", "median": 675.0, "p90": 810.0}
    assert S.scaled(0.15, 3.0) == pytest.approx(0.45)
    with pytest.raises(ValueError, match="positive"):
        S.scaled(tri, 0.0)


def test_toml_values_parse_back() -> None:
    value = {
        "dist": "lognormal",
        "median": 1 / 3,
        "steps": [{"start": pd.Timestamp("2027-01-01").date(), "note": 'a "quoted"\nline'}],
    }
    parsed = tomllib.loads(f"v = {S.toml_value(value)}")["v"]
    assert parsed["median"] == pytest.approx(1 / 3, rel=1e-5)
    assert parsed["steps"][0]["note"] == 'a "quoted"\nline'
    assert str(parsed["steps"][0]["start"]) == "2027-01-01"
    assert S.toml_value(0.15 * 3) == "0.45"  # not 0.44999999999999996
    with pytest.raises(ValueError):
        S.toml_value(float("nan"))


def test_every_parameter_overrides_load_at_both_ends(base: Scenario) -> None:
    params = S.parameters()
    assert len(params) == len({p.name for p in params}) >= 8
    for p in params:
        assert p.low < p.default < p.high
        assert p.overrides(base, p.default) == []
        assert p.overrides(base, p.low) and p.overrides(base, p.high), p.name
    # every parameter's overrides together, at each end (a ScenarioError names a bad key)
    load_scenario(overrides=S.point_overrides(params, [p.low for p in params], base))
    load_scenario(overrides=S.point_overrides(params, [p.high for p in params], base))


def test_overrides_scale_what_the_default_world_holds(base: Scenario) -> None:
    by_name = {p.name: p for p in S.parameters()}
    world = load_scenario(
        overrides=[
            *by_name["transformer_lead"].overrides(base, 1.5),
            *by_name["dc_requests"].overrides(base, 0.5),
            *by_name["grid_study_days"].overrides(base, 2.0),
            *by_name["magnet_t_per_mw"].overrides(base, 3.0),
            *by_name["grid_study_teams"].overrides(base, 0.5),
        ]
    )
    assert world.transformers is not None and base.transformers is not None
    assert world.transformers.build_days.median() == pytest.approx(
        1.5 * base.transformers.build_days.median()
    )
    assert world.transformers.initial_backlog == round(1.5 * base.transformers.initial_backlog)
    for region, grid in base.grid.items():
        new = world.grid[region]
        assert new.study_teams == max(1, round(grid.study_teams * 0.5))
        for old_phase, new_phase in zip(grid.study_phases, new.study_phases, strict=True):
            assert new_phase.name == old_phase.name
            assert new_phase.days.median() == pytest.approx(2 * old_phase.days.median())
        if grid.datacenter_pipeline is not None:
            assert new.datacenter_pipeline is not None
            old_steps = grid.datacenter_pipeline.requests
            for old, step in zip(old_steps, new.datacenter_pipeline.requests, strict=True):
                assert step.start == old.start
                assert step.gw_per_year == pytest.approx(0.5 * (old.gw_per_year or 0))
            assert new.datacenter_pipeline.magnet_t_per_mw == pytest.approx(
                3 * grid.datacenter_pipeline.magnet_t_per_mw
            )
    for name, dc in base.datacenters.items():
        assert world.datacenters[name].magnet_t_per_mw == pytest.approx(3 * dc.magnet_t_per_mw)


def test_a_point_file_loads_as_the_same_world_as_its_overrides(
    tmp_path: Path, base: Scenario
) -> None:
    params = S.select(["upgrade_days", "permit_review_days", "separation_build"])
    values = [1.3, 0.5, 2.0]
    arm = S.point_arm("p1", params, values, base, tmp_path)
    assert arm.overrides == ()
    assert arm.description == "upgrade_days x1.3; permit_review_days x0.5; separation_build x2"
    from_file = load_scenario(arm.source)
    from_set = load_scenario(overrides=S.point_overrides(params, values, base))
    dump = {"exclude": {"name", "description", "extends"}, "mode": "json"}
    assert from_file.model_dump(**dump) == from_set.model_dump(**dump)  # type: ignore[arg-type]
    assert from_file.model_dump(**dump) != base.model_dump(**dump)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ design
@pytest.mark.parametrize(("method", "size"), [("morris", 3), ("sobol", 4)])
def test_design_has_the_documented_number_of_points(method: str, size: int) -> None:
    params = S.select(["magnet_t_per_mw", "upgrade_days", "dc_requests"])
    x, spec = S.design(method, params, size, seed=0)
    assert x.shape == (S.design_points(method, size, 3), 3)
    assert S.design_points("morris", size, 3) == size * 4
    assert S.design_points("sobol", size, 3) == size * 8
    assert spec["names"] == [p.name for p in params]
    for j, p in enumerate(params):
        assert (x[:, j] >= p.low - 1e-12).all() and (x[:, j] <= p.high + 1e-12).all()
    assert "points" in S.cost_note(method, size, 3, 2, 4000.0)


def test_morris_indices_rank_a_known_function() -> None:
    """y = 10 a + 5 b (c unused): a dominates, c is negligible; mu* is per full range."""
    params = S.select(["magnet_t_per_mw", "upgrade_days", "dc_requests"])
    x, spec = S.design("morris", params, 8, seed=1)
    y = 10 * x[:, 0] + 5 * x[:, 1]
    ranked = S.classify(S.analyse("morris", spec, x, y, seed=0), "morris")
    assert list(ranked["parameter"]) == ["magnet_t_per_mw", "upgrade_days", "dc_requests"]
    assert list(ranked["role"]) == ["dominant", "minor", "negligible"]
    assert ranked["mu_star"].iloc[0] == pytest.approx(10 * (3 - 1 / 3), rel=1e-6)
    assert ranked["mu_star"].iloc[1] == pytest.approx(5 * (1.5 - 0.7), rel=1e-6)


def test_classify_on_a_hand_made_sobol_table() -> None:
    table = pd.DataFrame(
        {
            "parameter": ["a", "b", "c", "d"],
            "S1": [0.1, 0.5, 0.0, 0.02],
            "S1_conf": [0.05, 0.1, 0.01, 0.05],
            "ST": [0.2, 0.6, 0.01, 0.1],
            "ST_conf": [0.05, 0.1, 0.01, 0.2],
        }
    )
    ranked = S.classify(table, "sobol")
    assert list(ranked["parameter"]) == ["b", "a", "d", "c"]
    # b holds 0.6 of 0.91: alone past half; d's CI reaches zero; c is under 5 % of the top
    assert list(ranked["role"]) == ["dominant", "minor", "negligible", "negligible"]


def test_missing_year_is_a_note_not_a_crash() -> None:
    gw = next(o for o in S.OUTPUTS if o.unit == "GW")
    delay = next(o for o in S.OUTPUTS if o.name == S.DELAY)
    end = pd.Timestamp(END).date()
    note = S.missing_note(gw, np.full(4, np.nan), end)
    assert "not available" in note and "2031-01-01" in note
    assert "missing at 1 of 3" in S.missing_note(delay, np.array([1.0, np.nan, 2.0]), end)
    assert S.missing_note(delay, np.array([1.0, 2.0]), end) == ""
    means = S.point_means(pd.DataFrame({"replication": [0, 1], "output": S.DELAY, "value": [1, 3]}))
    assert means[S.DELAY] == 2.0
    assert np.isnan(means[gw.name])
