"""Scenario deltas: unset an inherited key, append to and remove from lists, ``show --diff``.

Each syntax is checked in a file that ``extends`` another and through ``--set``,
with the mistakes it can make (nothing to unset, nothing to remove, a delta on
something that is not a list) and the README example, whose ``show --diff``
output is compared with the text in README.md.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from paxsim.cli import main
from paxsim.models.loader import ScenarioError, deep_merge, load_raw, load_scenario
from paxsim.models.scenario_diff import Change, diff_against_parent, diff_scenarios, format_diff

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "scenarios" / "tiny.toml"


def _child(tmp_path: Path, body: str, parent: Path = TINY, name: str = "child.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'extends = "{parent.as_posix()}"\nname = "child"\n{body}', encoding="utf-8")
    return path


def _error(source: Path | None, overrides: list[str] | None = None) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(source, overrides or [])
    return info.value


# ------------------------------------------------------------------ unset
def test_unset_an_inherited_key_in_a_file(tmp_path: Path) -> None:
    child = _child(
        tmp_path,
        '[grid.west]\nstudy_days = "__unset__"\n'
        'study_phases = [{ name = "cluster", days = 200 }, { name = "facilities", days = 100 }]\n',
    )
    west = load_scenario(child).grid["west"]
    assert west.study_days is None
    assert [p.name for p in west.phases()] == ["cluster", "facilities"]


def test_unset_through_set() -> None:
    s = load_scenario(
        TINY, ["grid.west.study_days=__unset__", 'grid.west.study_phases=[{name="a", days=5}]']
    )
    assert s.grid["west"].study_days is None
    assert s.grid["west"].phases()[0].name == "a"


def test_unset_returns_a_field_to_its_default(tmp_path: Path) -> None:
    child = _child(tmp_path, '[datacenters.bb_campus]\npue = "__unset__"\n')
    assert load_scenario(child).datacenters["bb_campus"].pue == 1.3
    assert (
        load_scenario(TINY, ["separation_plants.bb_sep.qualified=__unset__"])
        .separation_plants["bb_sep"]
        .qualified
        is None
    )


def test_unset_a_whole_entity(tmp_path: Path) -> None:
    child = _child(tmp_path, '[demands]\nbb_chips = "__unset__"\n')
    assert "bb_chips" not in load_scenario(child).demands


def test_unset_a_missing_key_suggests(tmp_path: Path) -> None:
    (problem,) = _error(_child(tmp_path, '[grid.west]\nstudy_dayz = "__unset__"\n')).problems
    assert problem.path == "grid.west.study_dayz"
    assert "nothing to unset" in problem.message and "did you mean 'study_days'?" in problem.message
    (problem,) = _error(TINY, ["grid.west.spare_mx=__unset__"]).problems
    assert (problem.file, problem.path) == ("--set", "grid.west.spare_mx")
    assert "did you mean 'spare_mw'?" in problem.message


def test_unset_a_required_key_is_reported_as_missing(tmp_path: Path) -> None:
    (problem,) = _error(_child(tmp_path, '[grid.west]\nupgrade_days = "__unset__"\n')).problems
    assert (problem.path, problem.message) == (
        "grid.west.upgrade_days",
        "required field is missing",
    )


def test_unset_in_a_file_without_a_parent_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "root.toml"
    path.write_text(TINY.read_text(encoding="utf-8") + '\n[grid.west.sources]\nx = "__unset__"\n')
    (problem,) = _error(path).problems
    assert problem.path == "grid.west.sources.x" and "nothing to unset" in problem.message


def test_unset_a_list_item_is_refused() -> None:
    (problem,) = _error(TINY, ["separation_plants.bb_sep.suppliers.0=__unset__"]).problems
    assert "use separation_plants.bb_sep.suppliers-=" in problem.message


# ------------------------------------------------------------------ append and remove
def test_append_and_remove_in_a_file(tmp_path: Path) -> None:
    child = _child(
        tmp_path,
        "[coalitions.club]\n"
        '"members+" = [{ country = "AA", joined = 2027-01-01, source = "assumption: t" }]\n'
        "[separation_plants.bb_sep]\n"
        '"suppliers-" = ["aa_mine"]\n'
        '"qualified+" = ["bb_mine"]\n'
        "[magnet_makers.bb_magnets.suppliers]\n"
        '"ndpr_oxide-" = "bb_sep"\n',
    )
    s = load_scenario(child)
    assert [(m.country, m.joined) for m in s.coalitions["club"].members] == [
        ("BB", dt.date(2025, 6, 1)),
        ("AA", dt.date(2027, 1, 1)),
    ]
    assert s.separation_plants["bb_sep"].suppliers == ["bb_mine"]
    assert s.separation_plants["bb_sep"].qualified == ["bb_mine", "bb_mine"]
    assert s.magnet_makers["bb_magnets"].suppliers["ndpr_oxide"] == ["aa_sep"]


def test_append_and_remove_through_set() -> None:
    s = load_scenario(
        TINY,
        [
            "separation_plants.bb_sep.suppliers-=aa_mine",
            'datacenters.bb_campus.magnet_suppliers+=["aa_magnets"]',
            'coalitions.club.members+={country="AA", joined=2026-01-01, source="assumption: t"}',
        ],
    )
    assert s.separation_plants["bb_sep"].suppliers == ["bb_mine"]
    assert s.datacenters["bb_campus"].magnet_suppliers == ["bb_magnets", "aa_magnets", "aa_magnets"]
    assert [m.country for m in s.coalitions["club"].members] == ["BB", "AA"]


def test_remove_a_table_item_by_the_keys_given() -> None:
    s = load_scenario(
        TINY,
        [
            'grid.west.prebuilt_upgrades=[{ready=2026-01-01, mw=50, source="assumption: t"}, '
            '{ready=2027-01-01, mw=50, source="assumption: t"}]',
            "grid.west.prebuilt_upgrades-={ready=2026-01-01}",
        ],
    )
    assert [u.ready for u in s.grid["west"].prebuilt_upgrades] == [dt.date(2027, 1, 1)]


def test_remove_a_missing_item_lists_the_items() -> None:
    (problem,) = _error(TINY, ["separation_plants.bb_sep.suppliers-=cc_mine"]).problems
    assert (problem.file, problem.path) == ("--set", "separation_plants.bb_sep.suppliers-")
    assert problem.message == (
        "nothing to remove: no item of separation_plants.bb_sep.suppliers matches "
        '"cc_mine"; its items: "bb_mine", "aa_mine"'
    )


def test_remove_matches_a_boolean_only_with_a_boolean() -> None:
    merged = deep_merge({"x": [1, True]}, {"x-": [True]})
    assert merged == {"x": [1]}


def test_a_delta_on_something_that_is_not_a_list(tmp_path: Path) -> None:
    (problem,) = _error(_child(tmp_path, '[grid.west]\n"spare_mw+" = [5]\n')).problems
    assert problem.path == "grid.west.spare_mw+"
    assert "'spare_mw+' appends to a list, but grid.west.spare_mw is 150" in problem.message
    (problem,) = _error(TINY, ["grid.west-=x"]).problems
    assert "removes from a list" in problem.message


def test_a_list_the_parent_leaves_unset_starts_from_its_default() -> None:
    s = load_scenario(TINY, ["separation_plants.aa_sep.heavy_materials-=tb_oxide"])
    assert s.separation_plants["aa_sep"].heavy_materials == ["dy_oxide"]
    s = load_scenario(TINY, ["datacenters.bb_campus.permits+=county"])
    assert s.datacenters["bb_campus"].permits == ["county", "county"]
    s = load_scenario(TINY, ["mines.bb_mine.permits+=county"])
    assert s.mines["bb_mine"].permits == ["county"]


def test_plain_key_first_then_removals_then_appends(tmp_path: Path) -> None:
    child = _child(
        tmp_path,
        "[separation_plants.bb_sep]\n"
        '"suppliers+" = ["aa_mine"]\n'
        '"suppliers-" = ["aa_mine"]\n'
        'suppliers = ["aa_mine", "bb_mine"]\n',
    )
    assert load_scenario(child).separation_plants["bb_sep"].suppliers == ["bb_mine", "aa_mine"]


def test_deltas_follow_a_chain_of_parents(tmp_path: Path) -> None:
    middle = _child(
        tmp_path, '[separation_plants.bb_sep]\n"suppliers-" = ["aa_mine"]\n', name="middle.toml"
    )
    leaf = _child(
        tmp_path,
        '[separation_plants.bb_sep]\n"suppliers+" = ["aa_mine", "bb_mine"]\n',
        parent=middle,
        name="leaf.toml",
    )
    assert load_scenario(leaf).separation_plants["bb_sep"].suppliers == [
        "bb_mine",
        "aa_mine",
        "bb_mine",
    ]


def test_resolved_raw_holds_no_delta_keys(tmp_path: Path) -> None:
    child = _child(
        tmp_path,
        '[separation_plants.bb_sep]\n"suppliers-" = ["aa_mine"]\n'
        '[grid.west]\nrestudy_days = 30\n[grid.west.sources]\nx = "__unset__"\n',
    )
    with pytest.raises(ScenarioError, match="nothing to unset"):
        load_raw(child)
    child = _child(tmp_path, '[separation_plants.bb_sep]\n"suppliers-" = ["aa_mine"]\n')
    raw, _ = load_raw(child)
    assert "suppliers-" not in raw["separation_plants"]["bb_sep"]


def test_a_delta_inside_a_new_table_still_applies(tmp_path: Path) -> None:
    child = _child(
        tmp_path,
        "[stockpiles.pile]\n"
        'country = "BB"\nmaterial = "dy_oxide"\ninitial = 5\nrelease_from = 2026-01-01\n'
        'source = "assumption: t"\n"provenance+" = ["AA"]\n',
    )
    assert load_scenario(child).stockpiles["pile"].provenance == ["AA"]


# ------------------------------------------------------------------ show --diff
def _readme_example() -> tuple[str, str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Scenario deltas") :]
    toml = re.search(r"```toml\n(.*?)```", section, re.S)
    shown = re.search(r"\$ paxsim show --diff staged_studies.toml\n(.*?)```", section, re.S)
    assert toml and shown
    return toml.group(1), shown.group(1)


def test_readme_example_diff_is_what_paxsim_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    toml, expected = _readme_example()
    (tmp_path / "staged_studies.toml").write_text(toml, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["show", "--diff", "staged_studies.toml"]) == 0
    assert capsys.readouterr().out == expected


def test_diff_with_set_and_without_a_parent(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "--diff", str(TINY), "--set", "grid.west.spare_mw=5"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"scenario 'tiny' ({TINY} with --set) against itself without --set:",
        "~ grid.west.spare_mw: 150 -> 5",
        "1 change (1 changed)",
    ]


def test_diff_of_the_default_world_with_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "--diff", "--set", "grid.ercot.initial_backlog=__unset__"]) == 0
    out = capsys.readouterr().out
    assert "(the embedded default world with --set) against itself without --set" in out
    assert "~ grid.ercot.initial_backlog: 90 -> 0" in out


def test_diff_without_a_parent_or_set_is_a_user_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "--diff", str(TINY)]) == 2
    err = capsys.readouterr().err
    assert f"{TINY}: extends: this scenario extends no other" in err
    assert "Traceback" not in err


def test_diff_of_an_identical_child(tmp_path: Path) -> None:
    child = tmp_path / "same.toml"
    child.write_text(f'extends = "{TINY.as_posix()}"\n', encoding="utf-8")
    heading, changes = diff_against_parent(child)
    assert changes == []
    assert format_diff(heading, changes).endswith("\nno changes\n")


def test_diff_of_a_broken_child_is_the_childs_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="spare_mw"):
        diff_against_parent(_child(tmp_path, "[grid.west]\nspare_mw = -1\n"))


def test_diff_scenarios_by_kind_and_by_item_key() -> None:
    old = load_scenario(TINY)
    new = load_scenario(
        TINY,
        [
            "datacenters.bb_campus.phases.0.it_mw=50",
            "separation_plants.bb_sep.qualified=__unset__",
            "grid.west.restudy_days=30",
            "coalitions.club.members+={country='AA', joined=2026-01-01, source='assumption: t'}",
        ],
    )
    changes = {c.path: c for c in diff_scenarios(old, new)}
    assert changes["datacenters.bb_campus.phases.0.it_mw"] == Change(
        "datacenters.bb_campus.phases.0.it_mw", "changed", 100.0, 50.0
    )
    assert changes["separation_plants.bb_sep.qualified"].kind == "removed"
    assert changes["grid.west.restudy_days"].kind == "added"
    added = changes["coalitions.club.members[country=AA]"]
    assert added.kind == "added" and added.new["joined"] == dt.date(2026, 1, 1)
    assert len(changes) == 4


def test_diff_names_phases_by_name_when_they_have_one() -> None:
    old = load_scenario(None)
    new = load_scenario(None, ["datacenters.stargate_abilene.phases.1.it_mw=300"])
    (change,) = diff_scenarios(old, new)
    assert change.path == "datacenters.stargate_abilene.phases[name=P2b].it_mw"
    assert str(change) == "~ datacenters.stargate_abilene.phases[name=P2b].it_mw: 250 -> 300"


def test_deltas_leave_the_hash_as_if_the_list_were_written_out(tmp_path: Path) -> None:
    from paxsim.models.loader import scenario_hash

    by_delta = load_scenario(TINY, ["separation_plants.bb_sep.suppliers-=aa_mine"])
    written = load_scenario(TINY, ['separation_plants.bb_sep.suppliers=["bb_mine"]'])
    assert scenario_hash(by_delta) == scenario_hash(written)
