"""Loading scenarios: ``extends`` merging, ``--set`` overrides, hashing, ``show`` round trips."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from paxsim.api import scenario_to_dict, scenario_to_toml
from paxsim.models.loader import (
    ScenarioError,
    apply_overrides,
    deep_merge,
    load_raw,
    load_scenario,
    parse_override,
    scenario_hash,
    validate_raw,
)
from paxsim.models.scenario import Scenario
from paxsim.sim.distributions import Fixed, LogNormal, Triangular, Uniform

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "scenarios" / "tiny.toml"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _dump(s: Scenario, drop_extends: bool = True) -> dict[str, Any]:
    data = s.model_dump(mode="python")
    if drop_extends:
        data.pop("extends", None)
    return data


@pytest.fixture(scope="module")
def tiny() -> Scenario:
    return load_scenario(TINY)


# ------------------------------------------------------------------ deep_merge
def test_deep_merge_tables_merge_and_arrays_replace() -> None:
    base = {"a": {"x": 1, "y": {"p": 1, "q": 2}}, "list": [1, 2, 3], "keep": "k"}
    child = {"a": {"y": {"q": 20, "r": 30}}, "list": [9]}
    merged = deep_merge(base, child)
    assert merged == {"a": {"x": 1, "y": {"p": 1, "q": 20, "r": 30}}, "list": [9], "keep": "k"}
    # Inputs untouched.
    assert base["a"]["y"] == {"p": 1, "q": 2}
    assert base["list"] == [1, 2, 3]


def test_deep_merge_result_does_not_alias_child() -> None:
    child = {"t": {"list": [1]}}
    merged = deep_merge({}, child)
    merged["t"]["list"].append(2)
    assert child == {"t": {"list": [1]}}


# ------------------------------------------------------------------ extends
def test_extends_tables_merge(tmp_path: Path, tiny: Scenario) -> None:
    child = _write(
        tmp_path / "child.toml",
        f'extends = "{TINY.as_posix()}"\nname = "child"\n[grid.west]\nspare_mw = 500\n',
    )
    s = load_scenario(child)
    assert s.name == "child"
    assert s.extends == TINY.as_posix()
    assert s.grid["west"].spare_mw == 500
    # Everything else in the table is inherited.
    west, parent_west = s.grid["west"].model_dump(), tiny.grid["west"].model_dump()
    west.pop("spare_mw")
    parent_west.pop("spare_mw")
    assert west == parent_west
    assert s.mines.keys() == tiny.mines.keys()
    assert s.description == tiny.description


def test_extends_arrays_replace(tmp_path: Path, tiny: Scenario) -> None:
    assert len(tiny.datacenters["bb_campus"].phases) == 2
    child = _write(
        tmp_path / "child.toml",
        f'extends = "{TINY.as_posix()}"\n'
        "[datacenters.bb_campus]\n"
        "phases = [{ it_mw = 42, start = 2025-05-01 }]\n"
        "[separation_plants.bb_sep]\n"
        'suppliers = ["bb_mine"]\n',
    )
    s = load_scenario(child)
    assert [p.it_mw for p in s.datacenters["bb_campus"].phases] == [42]
    assert s.datacenters["bb_campus"].phases[0].planned_online is None
    assert s.separation_plants["bb_sep"].suppliers == ["bb_mine"]


def test_extends_relative_to_the_file_and_chained(
    tmp_path: Path, tiny: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    _write(
        tmp_path / "a" / "mid.toml",
        f'extends = "{TINY.as_posix()}"\nname = "mid"\n'
        "[grid.west]\nspare_mw = 10\nstudy_teams = 5\n",
    )
    leaf = _write(
        sub / "leaf.toml", 'extends = "../mid.toml"\nname = "leaf"\n[grid.west]\nspare_mw = 20\n'
    )
    monkeypatch.chdir(REPO)  # the cwd must not matter
    s = load_scenario(leaf)
    assert s.name == "leaf"
    assert s.grid["west"].spare_mw == 20  # child wins
    assert s.grid["west"].study_teams == 5  # from the middle file
    assert s.grid["west"].upgrade_mw == tiny.grid["west"].upgrade_mw  # from the root
    assert s.extends == "../mid.toml"


def test_child_can_disable_an_inherited_entity(tmp_path: Path) -> None:
    child = _write(
        tmp_path / "child.toml",
        f'extends = "{TINY.as_posix()}"\n[demands.aa_industry]\nenabled = false\n'
        "[export_controls.aa_heavy]\nenabled = false\n",
    )
    s = load_scenario(child)
    assert s.demands["aa_industry"].enabled is False
    assert s.demands["aa_industry"].rate_per_year == 9000  # still inherited, just off
    assert s.export_controls["aa_heavy"].enabled is False

    from paxsim.models.simulation import simulate

    r = simulate(
        s.model_copy(update={"time": s.time.model_copy(update={"end": dt.date(2026, 1, 1)})}),
        seed=1,
    )
    assert "aa_industry" not in set(r.shipments["buyer"])
    assert r.licences.empty
    assert not r.queue_records["gate"].astype(str).str.startswith("licence:").any()


def test_disabled_supplier_still_referenced_is_an_error(tmp_path: Path) -> None:
    child = _write(
        tmp_path / "child.toml",
        f'extends = "{TINY.as_posix()}"\n[mines.aa_mine]\nenabled = false\n',
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    paths = {p.path for p in info.value.problems}
    assert "separation_plants.aa_sep.suppliers.0" in paths
    assert "unknown supplier 'aa_mine'" in str(info.value)


def test_extends_must_be_a_string(tmp_path: Path) -> None:
    child = _write(tmp_path / "child.toml", "extends = 3\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert info.value.problems[0].path == "extends"
    assert str(child) in str(info.value)


def test_invalid_parent_is_reported_against_the_parent(tmp_path: Path) -> None:
    parent = _write(tmp_path / "parent.toml", "bogus_key = 1\n" + TINY.read_text())
    child = _write(tmp_path / "child.toml", 'extends = "parent.toml"\nname = "child"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    problem = info.value.problems[0]
    assert problem.path == "bogus_key"
    assert problem.file == str(parent)


def test_extends_can_replace_a_distribution_with_another_kind(tmp_path: Path) -> None:
    child = _write(
        tmp_path / "child.toml",
        f'extends = "{TINY.as_posix()}"\n'
        "[lanes.aa_bb]\n"
        'transit_days = { dist = "lognormal", median = 30, p90 = 60 }\n',
    )
    s = load_scenario(child)
    assert s.lanes["aa_bb"].transit_days == LogNormal(dist="lognormal", median=30, p90=60)


# ------------------------------------------------------------------ --set
@pytest.mark.parametrize(
    ("text", "parts", "value"),
    [
        ("grid.west.spare_mw=500", ["grid", "west", "spare_mw"], 500),
        ("grid.west.spare_mw = 2.5", ["grid", "west", "spare_mw"], 2.5),
        ('name="hello world"', ["name"], "hello world"),
        ("name=hello", ["name"], "hello"),
        ("time.end=2030-01-01", ["time", "end"], dt.date(2030, 1, 1)),
        ("datacenters.x.enabled=false", ["datacenters", "x", "enabled"], False),
        ('a.b=["x", "y"]', ["a", "b"], ["x", "y"]),
        ("a.b={ dist = 'fixed', value = 3 }", ["a", "b"], {"dist": "fixed", "value": 3}),
        ("notes=a=b", ["notes"], "a=b"),
        (
            "datacenters.bb_campus.phases.0.it_mw=50",
            ["datacenters", "bb_campus", "phases", "0", "it_mw"],
            50,
        ),
    ],
)
def test_parse_override(text: str, parts: list[str], value: Any) -> None:
    got_parts, got_value = parse_override(text)
    assert got_parts == parts
    assert got_value == value
    assert type(got_value) is type(value)


def test_set_number(tiny: Scenario) -> None:
    s = load_scenario(TINY, ["grid.west.spare_mw=999", "mines.bb_mine.capacity_t_per_year=1.5e3"])
    assert s.grid["west"].spare_mw == 999
    assert s.mines["bb_mine"].capacity_t_per_year == 1500
    assert tiny.grid["west"].spare_mw == 150


def test_set_string_quoted_and_bare() -> None:
    s = load_scenario(TINY, ['description="a b c"', "name=renamed"])
    assert s.description == "a b c"
    assert s.name == "renamed"


def test_set_date() -> None:
    s = load_scenario(TINY, ["time.end=2031-06-30"])
    assert s.time.end == dt.date(2031, 6, 30)


def test_set_table_replaces_distribution() -> None:
    s = load_scenario(TINY, ['lanes.aa_bb.transit_days={dist="uniform", low=5, high=9}'])
    assert s.lanes["aa_bb"].transit_days == Uniform(dist="uniform", low=5, high=9)
    s = load_scenario(TINY, ["grid.west.study_days=100"])
    assert s.grid["west"].study_days == Fixed(value=100)


def test_set_list_index() -> None:
    s = load_scenario(TINY, ["datacenters.bb_campus.phases.0.it_mw=50"])
    assert [p.it_mw for p in s.datacenters["bb_campus"].phases] == [50, 100]
    s = load_scenario(TINY, ["datacenters.bb_campus.phases.1.start=2025-10-01"])
    assert s.datacenters["bb_campus"].phases[1].start == dt.date(2025, 10, 1)
    s = load_scenario(TINY, ['separation_plants.bb_sep.suppliers.1="bb_mine"'])
    assert s.separation_plants["bb_sep"].suppliers == ["bb_mine", "bb_mine"]


def test_set_whole_list() -> None:
    s = load_scenario(TINY, ["datacenters.bb_campus.permits=[]"])
    assert s.datacenters["bb_campus"].permits == []


def test_set_applies_after_extends(tmp_path: Path) -> None:
    child = _write(
        tmp_path / "child.toml", f'extends = "{TINY.as_posix()}"\n[grid.west]\nspare_mw = 1\n'
    )
    assert load_scenario(child, ["grid.west.spare_mw=2"]).grid["west"].spare_mw == 2


def test_set_does_not_touch_its_input() -> None:
    raw, _ = load_raw(TINY)
    before = tomllib.loads(TINY.read_text())
    out = apply_overrides(raw, ["grid.west.spare_mw=1", "datacenters.bb_campus.phases.0.it_mw=5"])
    assert raw == before
    assert out["grid"]["west"]["spare_mw"] == 1


@pytest.mark.parametrize(
    ("override", "path", "fragment"),
    [
        ("grid.west.spare_mw", "grid.west.spare_mw", "expected KEY=VALUE"),
        ("grid..west=1", "grid..west", "empty segment"),
        ("=5", "", "empty segment"),
        (
            "datacenters.bb_campus.phases.2.it_mw=5",
            "datacenters.bb_campus.phases.2",
            "list index must be 0..1",
        ),
        (
            "datacenters.bb_campus.phases.x.it_mw=5",
            "datacenters.bb_campus.phases.x",
            "list index must be 0..1",
        ),
        (
            "datacenters.bb_campus.phases.-1.it_mw=5",
            "datacenters.bb_campus.phases.-1",
            "list index",
        ),
        ("datacenters.bb_campus.phases.5=5", "datacenters.bb_campus.phases.5", "list index"),
        ("name.first=x", "name", "is a value, not a table"),
        ("grid.west.spare_mw.x.y=1", "grid.west.spare_mw", "is a value, not a table"),
    ],
)
def test_bad_override_syntax(override: str, path: str, fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(TINY, [override])
    (problem,) = info.value.problems
    assert problem.file == "--set"
    assert problem.path == path
    assert fragment in problem.message
    assert "--set" in str(info.value)


@pytest.mark.parametrize(
    ("override", "path", "fragment"),
    [
        ("grid.west.spare_mwx=5", "grid.west.spare_mwx", "unknown key"),
        ("grid.west.spare_mw=-5", "grid.west.spare_mw", "greater than or equal to 0"),
        ("grid.west.study_teams=many", "grid.west.study_teams", "valid integer"),
        ("time.end=2020-01-01", "time", "must be after time.start"),
        (
            "datacenters.bb_campus.grid_region=east",
            "datacenters.bb_campus.grid_region",
            "unknown grid region 'east'",
        ),
    ],
)
def test_override_to_a_bad_value_names_the_override(
    override: str, path: str, fragment: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(TINY, [override])
    text = str(info.value)
    assert any(p.path == path and fragment in p.message for p in info.value.problems), text
    assert f"(with --set {override})" in text
    assert str(TINY) in text


# ------------------------------------------------------------------ hashing
def test_scenario_hash_is_stable(tiny: Scenario) -> None:
    h = scenario_hash(tiny)
    assert h == scenario_hash(load_scenario(TINY))
    assert h == scenario_hash(tiny.model_copy(deep=True))
    assert len(h) == 16
    int(h, 16)


def test_scenario_hash_ignores_number_spelling(tiny: Scenario) -> None:
    assert scenario_hash(load_scenario(TINY, ["grid.west.spare_mw=150.0"])) == scenario_hash(tiny)


@pytest.mark.parametrize(
    "override",
    [
        "grid.west.spare_mw=151",
        "name=other",
        "time.end=2029-01-02",
        "datacenters.bb_campus.phases.1.it_mw=101",
        "demands.aa_industry.enabled=false",
    ],
)
def test_scenario_hash_changes_with_content(tiny: Scenario, override: str) -> None:
    assert scenario_hash(load_scenario(TINY, [override])) != scenario_hash(tiny)


@pytest.mark.parametrize(
    "override",
    [
        "lanes.aa_bb.transit_days=5",
        "authorities.county.review_days={dist='lognormal', median=100, p90=240}",
        "export_controls.aa_heavy.denial_probability=0.5",
    ],
)
def test_scenario_hash_changes_with_a_distribution(tiny: Scenario, override: str) -> None:
    assert scenario_hash(load_scenario(TINY, [override])) != scenario_hash(tiny)


def test_model_dump_keeps_distribution_parameters(tiny: Scenario) -> None:
    """Sanity check on what is parsed (the object), independent of serialisation."""
    assert tiny.lanes["aa_bb"].transit_days == Triangular(
        dist="triangular", min=20, mode=30, max=45
    )
    assert tiny.export_controls["aa_heavy"].denial_probability == Fixed(value=0.1)


# ------------------------------------------------------------------ show round trip


def test_show_output_round_trips_through_cli(tiny: Scenario) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "paxsim.cli", "show", str(TINY)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    raw = tomllib.loads(proc.stdout)
    back = validate_raw(raw, "<paxsim show>")
    assert _dump(back) == _dump(tiny)


@pytest.mark.parametrize(
    "overrides",
    [[], ["grid.west.spare_mw=999", "datacenters.bb_campus.phases.0.it_mw=50"]],
    ids=["plain", "with-set"],
)
def test_scenario_to_toml_round_trips(overrides: list[str]) -> None:
    s = load_scenario(TINY, overrides)
    back = validate_raw(tomllib.loads(scenario_to_toml(s)), "<show>")
    assert _dump(back) == _dump(s)
    assert scenario_hash(back) == scenario_hash(s)


def test_show_dict_has_no_nulls_and_no_extends(tmp_path: Path) -> None:
    child = _write(tmp_path / "child.toml", f'extends = "{TINY.as_posix()}"\n')
    s = load_scenario(child)
    text = scenario_to_toml(s)
    raw = tomllib.loads(text)
    assert "extends" not in raw
    assert raw["name"] == "tiny"

    def walk(v: Any) -> None:
        assert v is not None
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(scenario_to_dict(s))
