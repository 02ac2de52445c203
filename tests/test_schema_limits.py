"""The schema's numbers, dates, ids and limits: each refused with a message that says why.

One test per stated limit (models/limits.py) at the bound and just past it;
the unit types (booleans are never numbers, counts are whole, everything is
finite); dates; ids; uniqueness and references to disabled entities; the
message helpers (did you mean, long lists, escaping).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from paxsim.models import limits
from paxsim.models.loader import ScenarioError, load_scenario
from paxsim.models.scenario import (
    Authority,
    GridRegion,
    Phase,
    char_name,
    choices,
    did_you_mean,
    shown_id,
)

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "scenarios" / "tiny.toml"


def _refused(overrides: list[str], path: str, *fragments: str) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(TINY, overrides)
    hits = [p for p in info.value.problems if p.path == path]
    assert hits, str(info.value)
    for fragment in fragments:
        assert any(fragment in p.message for p in hits), str(info.value)
    return hits[0].message


# ------------------------------------------------------------------ every limit, at and past it
#: limit -> (a --set at the limit, a --set past it, the path refused)
AT_AND_PAST: dict[str, tuple[list[str], list[str], str]] = {
    "horizon": (["time.end=2084-12-31"], ["time.end=2086-01-01"], "time"),
    "earliest date": (
        ["export_controls.aa_heavy.start=1900-01-01"],
        ["export_controls.aa_heavy.start=1899-12-31"],
        "export_controls.aa_heavy.start",
    ),
    "latest date": (
        ["export_controls.aa_heavy.start=2200-12-31"],
        ["export_controls.aa_heavy.start=2201-01-01"],
        "export_controls.aa_heavy.start",
    ),
    "duration": (
        ["authorities.county.review_days=36525"],
        ["authorities.county.review_days=36526"],
        "authorities.county.review_days",
    ),
    "interval between repeated events": (
        ["time.step_days=1"],
        ["time.step_days=0.99"],
        "time.step_days",
    ),
    "lognormal spread": (
        ["grid.west.study_days={dist='lognormal', median=10, p90=10000}"],
        ["grid.west.study_days={dist='lognormal', median=10, p90=10001}"],
        "grid.west.study_days",
    ),
    "background rate": (
        ["authorities.county.background_per_year=10000"],
        ["authorities.county.background_per_year=10001"],
        "authorities.county.background_per_year",
    ),
    "initial backlog": (
        ["grid.west.initial_backlog=10000"],
        ["grid.west.initial_backlog=10001"],
        "grid.west.initial_backlog",
    ),
    "servers": (
        ["authorities.county.reviewers=100000"],
        ["authorities.county.reviewers=100001"],
        "authorities.county.reviewers",
    ),
    "transformers per upgrade": (
        ["grid.west.transformers_per_upgrade=20"],
        ["grid.west.transformers_per_upgrade=21"],
        "grid.west.transformers_per_upgrade",
    ),
    "smallest upgrade block": (
        ["grid.west.upgrade_mw=10"],
        ["grid.west.upgrade_mw=9.9"],
        "grid.west.upgrade_mw",
    ),
    "one grid request": (
        ["datacenters.bb_campus.phases.0.it_mw=10000"],
        ["datacenters.bb_campus.phases.0.it_mw=10001"],
        "datacenters.bb_campus.phases.0.it_mw",
    ),
    "cost per kW": (
        ["grid.west.upgrade_cost_usd_per_kw=100000"],
        ["grid.west.upgrade_cost_usd_per_kw=100001"],
        "grid.west.upgrade_cost_usd_per_kw",
    ),
    "demand per year": (
        ['countries.AA.datacenter_stock={gw = 10000, utilisation = 0.5, source = "test"}'],
        ['countries.AA.datacenter_stock={gw = 10001, utilisation = 0.5, source = "test"}'],
        "countries.AA.datacenter_stock.gw",
    ),
    "grid headroom": (
        ["grid.west.spare_mw=1e6"],
        ["grid.west.spare_mw=1.1e6"],
        "grid.west.spare_mw",
    ),
    "flow": (
        ["mines.bb_mine.capacity_t_per_year=1e9"],
        ["mines.bb_mine.capacity_t_per_year=1.1e9"],
        "mines.bb_mine.capacity_t_per_year",
    ),
    "stock": (
        [
            'stockpiles.pile={country="BB", material="dy_oxide", initial=1e9, '
            'release_from=2026-01-01, source="assumption: test"}'
        ],
        [
            'stockpiles.pile={country="BB", material="dy_oxide", initial=2e9, '
            'release_from=2026-01-01, source="assumption: test"}'
        ],
        "stockpiles.pile.initial",
    ),
    "wafer starts": (
        ["fabs.bb_fab.wafer_starts_per_month=1e7"],
        ["fabs.bb_fab.wafer_starts_per_month=1.1e7"],
        "fabs.bb_fab.wafer_starts_per_month",
    ),
    "good dies per wafer": (
        ["fabs.bb_fab.good_dies_per_wafer=10000"],
        ["fabs.bb_fab.good_dies_per_wafer=10001"],
        "fabs.bb_fab.good_dies_per_wafer",
    ),
    "accelerators per MW": (
        ["datacenters.bb_campus.accelerators_per_mw=100000"],
        ["datacenters.bb_campus.accelerators_per_mw=100001"],
        "datacenters.bb_campus.accelerators_per_mw",
    ),
    "magnets per MW": (
        ["datacenters.bb_campus.magnet_t_per_mw=100"],
        ["datacenters.bb_campus.magnet_t_per_mw=101"],
        "datacenters.bb_campus.magnet_t_per_mw",
    ),
    "recipe quantity": (
        ["magnet_makers.aa_magnets.recipe.ndpr_oxide=1000"],
        ["magnet_makers.aa_magnets.recipe.ndpr_oxide=1001"],
        "magnet_makers.aa_magnets.recipe.ndpr_oxide",
    ),
    "mix weight": (
        ["authorities.county.background_mix={other=1e6}"],
        ["authorities.county.background_mix={other=1.1e6}"],
        "authorities.county.background_mix.other",
    ),
    "scenario name": (["name=" + "n" * 80], ["name=" + "n" * 81], "name"),
    "id length": (
        ["datacenters.bb_campus.phases.0.name=" + "p" * 100],
        ["datacenters.bb_campus.phases.0.name=" + "p" * 101],
        "datacenters.bb_campus.phases.0.name",
    ),
}
#: Limits on files, tested in test_hostile_inputs.py.
ELSEWHERE = {"file size", "nesting depth", "extends chain"}


def test_every_limit_has_a_test() -> None:
    assert {limit.name for limit in limits.LIMITS} == set(AT_AND_PAST) | ELSEWHERE


@pytest.mark.parametrize("name", sorted(AT_AND_PAST))
def test_limit_at_the_bound_passes_and_past_it_is_refused(name: str) -> None:
    (limit,) = [lim for lim in limits.LIMITS if lim.name == name]
    at, past, path = AT_AND_PAST[name]
    load_scenario(TINY, [*at, "time.allow_phases_outside_run=true"])
    message = _refused(past, path)
    # The message states the bound and the reason.
    assert limit.shown() in message, message
    assert limit.why in message, message


def test_limits_are_listed_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert limits.limits_table() in readme


def test_every_limit_gives_a_reason() -> None:
    for limit in limits.LIMITS:
        assert len(limit.why) > 20, limit.name
        assert limit.applies_to, limit.name


def test_the_default_world_is_far_inside_every_limit() -> None:
    scenario = load_scenario()
    years = (scenario.time.end - scenario.time.start).days / 365.25
    assert years < limits.MAX_HORIZON_YEARS.number / 4
    assert max(g.initial_backlog for g in scenario.grid.values()) < 100
    assert max(e.background_per_year for e in scenario.export_controls.values()) <= 1000


# ------------------------------------------------------------------ unit types
@pytest.mark.parametrize(
    ("override", "path"),
    [
        ("grid.west.study_teams=true", "grid.west.study_teams"),
        ("grid.west.spare_mw=true", "grid.west.spare_mw"),
        ("authorities.county.background_per_year=false", "authorities.county.background_per_year"),
        ("datacenters.bb_campus.pue=true", "datacenters.bb_campus.pue"),
        ("baskets.clay.shares.ce_oxide=true", "baskets.clay.shares.ce_oxide"),
        (
            "magnet_makers.aa_magnets.recipe.ndpr_oxide=true",
            "magnet_makers.aa_magnets.recipe.ndpr_oxide",
        ),
        ("grid.west.connection_days=true", "grid.west.connection_days"),
    ],
)
def test_a_boolean_is_never_a_number(override: str, path: str) -> None:
    _refused([override], path, "boolean")


def test_a_boolean_inside_a_distribution_is_refused() -> None:
    _refused(
        ["grid.west.study_days={dist='uniform', low=true, high=5}"],
        "grid.west.study_days",
        "'low' must be a number, got true",
    )


@pytest.mark.parametrize(
    ("override", "path"),
    [
        ("datacenters.bb_campus.designated_site=1", "datacenters.bb_campus.designated_site"),
        ('mines.bb_mine.enabled="yes"', "mines.bb_mine.enabled"),
    ],
)
def test_a_number_or_text_is_never_a_boolean(override: str, path: str) -> None:
    _refused([override], path, "expected true or false")


@pytest.mark.parametrize("value", ["2.0", "2.5", "1e3"])
def test_counts_are_whole_numbers(value: str) -> None:
    _refused([f"grid.west.study_teams={value}"], "grid.west.study_teams", "whole number")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+inf"])
@pytest.mark.parametrize(
    "path",
    [
        "grid.west.spare_mw",
        "baskets.clay.shares.ce_oxide",
        "magnet_makers.aa_magnets.recipe.ndpr_oxide",
        "demands.aa_industry.growth_per_year",
        "grid.west.connection_days",
        "export_controls.aa_heavy.denial_probability",
        "time.step_days",
    ],
)
def test_every_number_is_finite(path: str, value: str) -> None:
    _refused([f"{path}={value}"], path, "finite number")


@pytest.mark.parametrize(
    "path",
    [
        "grid.west.connection_days",
        "authorities.county.review_days",
        "export_controls.aa_heavy.denial_probability",
        "mines.aa_mine.outages.every_days",
    ],
)
def test_distribution_parameters_are_finite(path: str) -> None:
    _refused([f"{path}={{dist='uniform', low=0, high=nan}}"], path, "finite number")


def test_text_where_a_number_is_meant_says_remove_the_quotes() -> None:
    _refused(['grid.west.spare_mw="150"'], "grid.west.spare_mw", "got the text '150' (remove")
    _refused(["grid.west.spare_mw=lots"], "grid.west.spare_mw", "got the text 'lots'")


@pytest.mark.parametrize(
    ("override", "path", "fragment"),
    [
        ("mines.aa_mine.outages.every_days=0", "mines.aa_mine.outages.every_days", "never be 0"),
        ("time.sample_every_days=0", "time.sample_every_days", "greater than 0"),
        ("grid.west.cluster_cycle_days=0.5", "grid.west.cluster_cycle_days", "0 means none"),
        ("grid.west.upgrade_mw=0", "grid.west.upgrade_mw", "greater than 0"),
        (
            "datacenters.bb_campus.phases.0.it_mw=0",
            "datacenters.bb_campus.phases.0.it_mw",
            "greater",
        ),
        (
            "separation_plants.aa_sep.recovery_yield=0",
            "separation_plants.aa_sep.recovery_yield",
            "greater",
        ),
        ("grid.west.spare_mw=-1", "grid.west.spare_mw", "greater than or equal to 0"),
        (
            "authorities.county.review_days=-1",
            "authorities.county.review_days",
            "must not go below 0",
        ),
    ],
)
def test_intervals_and_rates_are_positive(override: str, path: str, fragment: str) -> None:
    _refused([override], path, fragment)


def test_zero_cluster_cycle_still_means_no_windows() -> None:
    assert (
        load_scenario(TINY, ["grid.west.cluster_cycle_days=0"]).grid["west"].cluster_cycle_days == 0
    )


def test_models_built_from_python_keep_working() -> None:
    """Notebooks and tests build models from dicts: ISO text dates and ints still work."""
    office = Authority.model_validate(
        {"country": "BB", "reviewers": 2, "review_days": 100, "source": "assumption: t"}
    )
    assert office.reviewers == 2 and office.review_days.mean() == 100
    phase = Phase.model_validate({"it_mw": 5, "start": "2026-01-01"})
    assert phase.start == dt.date(2026, 1, 1) and phase.it_mw == 5.0


# ------------------------------------------------------------------ dates
@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("2035", "write a date as 2035-01-01"),
        ("20350101", "write a date as 2035-01-01"),
        ('"next spring"', "write a date as 2035-01-01"),
        ('"2035-02-30"', "not a day of the calendar"),
        ("2035-01-01T08:00:00", "has a time of day"),
        ("2035-01-01T00:00:00", "has a time of day"),
        ("true", "write a date as"),
        ("2263-01-01", "after the latest date paxsim accepts, 2200-12-31"),
        ("9999-12-31", "pandas timestamps, which end on 2262-04-11"),
        ("1800-01-01", "before the earliest date paxsim accepts, 1900-01-01"),
    ],
)
def test_dates_are_explained(value: str, fragment: str) -> None:
    _refused(
        [f"export_controls.aa_heavy.start={value}"], "export_controls.aa_heavy.start", fragment
    )


def test_a_quoted_iso_date_is_accepted() -> None:
    s = load_scenario(TINY, ['export_controls.aa_heavy.end="2030-06-01"'])
    assert s.export_controls["aa_heavy"].end == dt.date(2030, 6, 1)


# ------------------------------------------------------------------ ids and names
@pytest.mark.parametrize(
    ("override", "path"),
    [
        ('name="a\\u001bb"', "name"),
        ('name="\\u202eevil"', "name"),
        ('name=""', "name"),
        ('datacenters.bb_campus.phases.0.name="a\\u200bb"', "datacenters.bb_campus.phases.0.name"),
    ],
)
def test_names_must_be_printable(override: str, path: str) -> None:
    message = _refused([override], path)
    assert "\x1b" not in message and "\u202e" not in message and "\u200b" not in message


def test_an_id_with_a_control_character_is_refused_and_shown_escaped() -> None:
    error = _id_problem('coalitions={"c\\u0007lub"={name="c", source="assumption: t"}}')
    (problem,) = [p for p in error.problems if p.path == "coalitions.c\x07lub"]
    assert "holds a non-printing character (U+0007, a control character)" in problem.message
    assert "coalitions.c\\x07lub: id 'c\\x07lub'" in str(error)
    assert "\x07" not in str(error)


def _id_problem(override: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(TINY, [override])
    return info.value


def test_ids_are_unique_across_sections() -> None:
    text = str(
        _id_problem(
            'demands.aa_mine={country="AA", material="ndfeb_magnet", rate_per_year=1, '
            'suppliers=["aa_magnets"], source="assumption: t"}'
        )
    )
    assert "demands.aa_mine: id 'aa_mine' is also used by mines.aa_mine" in text
    # Only the clash is reported: every other reference to the id would be ambiguous.
    assert "1 problem" not in text and "problems in the scenario" not in text


def test_a_country_code_is_an_id_too() -> None:
    text = str(_id_problem('materials.AA={unit="t"}'))
    assert "materials.AA: id 'AA' is also used by countries.AA" in text


def test_phase_names_are_unique_within_a_data_center() -> None:
    _refused(
        [
            'datacenters.bb_campus.phases=[{name="x", it_mw=1, start=2025-02-01}, '
            '{name="x", it_mw=1, start=2025-03-01}]'
        ],
        "datacenters.bb_campus.phases.1.name",
        "unique within a data center",
    )


# ------------------------------------------------------------------ references to disabled entities
@pytest.mark.parametrize(
    ("override", "path", "fragment"),
    [
        (
            "grid.west.enabled=false",
            "datacenters.bb_campus.grid_region",
            "grid region 'west' is disabled",
        ),
        (
            "authorities.county.enabled=false",
            "datacenters.bb_campus.permits.0",
            "(authorities.county.enabled = false)",
        ),
        ("baskets.hardrock.enabled=false", "mines.bb_mine.basket", "basket 'hardrock' is disabled"),
        ("coalitions.club.enabled=false", "trust_coalition", "coalition 'club' is disabled"),
        (
            "magnet_makers.bb_magnets.enabled=false",
            "fabs.bb_fab.suppliers.ndfeb_magnet.0",
            "magnet_makers.bb_magnets is disabled",
        ),
    ],
)
def test_a_reference_to_a_disabled_entity_is_an_error(
    override: str, path: str, fragment: str
) -> None:
    _refused([override], path, fragment)


def test_disabling_an_entity_and_everything_that_uses_it_is_fine() -> None:
    s = load_scenario(TINY, ["grid.west.enabled=false", "datacenters.bb_campus.enabled=false"])
    assert not s.grid["west"].enabled


def test_superseding_a_disabled_regime_is_fine() -> None:
    s = load_scenario(
        None,
        ["export_controls.cn_apr2025_mofcom18.enabled=false"],
    )
    assert s.export_controls["cn_oct2025_package"].supersedes == ["cn_apr2025_mofcom18"]


# ------------------------------------------------------------------ phase dates
def test_a_phase_before_the_run_is_an_error_unless_allowed() -> None:
    early = "datacenters.bb_campus.phases.0.start=2024-12-01"
    _refused(
        [early],
        "datacenters.bb_campus.phases.0.start",
        "before the run starts",
        "allow_phases_outside_run",
    )
    with pytest.warns(match="started on 2025-01-01 with no work done before the run"):
        load_scenario(TINY, [early, "time.allow_phases_outside_run=true"])


def test_a_phase_on_the_last_day_is_outside_the_run() -> None:
    _refused(
        ["datacenters.bb_campus.phases.1.start=2029-01-01"],
        "datacenters.bb_campus.phases.1.start",
        "when the run has ended",
    )


def test_planned_online_after_the_horizon_is_fine() -> None:
    s = load_scenario(TINY, ["datacenters.bb_campus.phases.1.planned_online=2040-01-01"])
    assert s.datacenters["bb_campus"].phases[1].planned_online == dt.date(2040, 1, 1)


# ------------------------------------------------------------------ message helpers
def test_did_you_mean() -> None:
    assert (
        did_you_mean("pjm_dominon", ["pjm_dominion", "ercot"]) == "; did you mean 'pjm_dominion'?"
    )
    assert did_you_mean("zzz", ["pjm_dominion", "ercot"]) == ""
    assert did_you_mean("ERCOT", ["pjm_dominion", "ercot"]) == "; did you mean 'ercot'?"


def test_choices_lists_all_or_a_count_and_the_closest() -> None:
    few = [f"region_{i}" for i in range(limits.MAX_LISTED)]
    assert choices(few) == ", ".join(sorted(few))
    many = [f"region_{i:03d}" for i in range(200)]
    text = choices(many, "region_1x7")
    assert text.startswith("200 defined; closest: region_1")
    assert len(text.split(", ")) == 5
    assert choices([]) == "(none defined)"


def test_unknown_ids_suggest_and_list_every_name_in_the_default_world() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(None, ["datacenters.nova_loudoun_campus.magnet_suppliers=['jp_magnet']"])
    message = info.value.problems[0].message
    assert "unknown supplier 'jp_magnet'; did you mean 'jp_magnets'?" in message
    # The default world has more suppliers than a message lists: a count and the closest.
    assert re.search(r"\(defined: \d+ defined; closest: jp_magnets, ", message), message


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain_id", "'plain_id'"),
        ("p\u0430x", "'p\\u0430x' (holds U+0430 CYRILLIC SMALL LETTER A)"),
        ("a\x1bb", "'a\\x1bb' (holds U+001B, a control character)"),
        ("\u202eevil", "'\\u202eevil' (holds U+202E RIGHT-TO-LEFT OVERRIDE)"),
    ],
)
def test_shown_id_escapes_lookalikes_and_controls(text: str, shown: str) -> None:
    assert shown_id(text) == shown
    assert shown_id(text).isascii() and shown_id(text).isprintable()


def test_char_name() -> None:
    assert char_name("\u0430") == "U+0430 CYRILLIC SMALL LETTER A"
    assert char_name("\x07") == "U+0007, a control character"


def test_unknown_key_suggests_and_lists_every_allowed_key() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(TINY, ["grid.west.spare_mv=5"])
    (problem,) = info.value.problems
    assert problem.message.startswith("unknown key 'spare_mv'; did you mean 'spare_mw'?")
    allowed = re.search(r"\(allowed here: (.*)\)", problem.message)
    assert allowed is not None
    keys = set(allowed.group(1).split(", "))
    assert keys == {f.alias or n for n, f in GridRegion.model_fields.items()}


def test_unknown_set_entry_is_one_line_with_a_suggestion() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(None, ["export_controls.cn_apr2025_mofcom81.enabled=false"])
    (problem,) = info.value.problems
    assert problem.file == "--set"
    assert problem.path == "export_controls.cn_apr2025_mofcom81"
    assert problem.message.startswith(
        "unknown export_controls entry 'cn_apr2025_mofcom81'; did you mean 'cn_apr2025_mofcom18'?"
    )


def test_unknown_set_key_on_the_way_suggests() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(TINY, ["gird.west.spare_mw=5"])
    (problem,) = info.value.problems
    assert (problem.file, problem.path) == ("--set", "gird")
    assert "did you mean 'grid'?" in problem.message


def test_set_can_fill_in_a_missing_optional_table() -> None:
    s = load_scenario(
        TINY,
        ["mines.bb_mine.outages.every_days=400", "mines.bb_mine.outages.duration_days=10"],
    )
    outages = s.mines["bb_mine"].outages
    assert outages is not None and outages.every_days.mean() == 400


def test_a_new_entry_with_a_typo_says_so_in_one_line(tmp_path: Path) -> None:
    child = tmp_path / "child.toml"
    child.write_text(
        f'extends = "{TINY.as_posix()}"\n[grid.wset]\nspare_mw = 5\n', encoding="utf-8"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    (problem,) = info.value.problems
    assert problem.path == "grid.wset"
    assert problem.message.startswith("required fields are missing: ")
    assert "'wset' is a new entry: did you mean 'west'?" in problem.message


def test_literal_choice_suggests() -> None:
    _refused(
        ["datacenters.bb_campus.permit_mode=paralel"],
        "datacenters.bb_campus.permit_mode",
        "did you mean 'parallel'?",
    )
