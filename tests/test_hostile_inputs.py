"""Broken and hostile scenarios: every one gets a clear, located error, never a traceback.

Three layers:

* the corpus in tests/corpus/ (one mistake per file, the comment on its first
  line says which), each run in-process through ``paxsim validate FILE`` and
  ``paxsim run FILE --out <tmp>``: exit 2, a line that names the file and the
  field path, no traceback, no "internal error", nothing written anywhere;
* inputs that cannot live in a committed file (a 6 MB file, a FIFO, a symlink
  to /dev/zero);
* hypothesis: the default world mutated at random (types, signs, NaN/inf,
  huge values, removals, duplicated entries) either validates or fails with a
  :class:`ScenarioError`, and a mutant that validates runs (two years) without
  raising anything else.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import os
import tomllib
import warnings
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paxsim.cli import main
from paxsim.models.loader import (
    ScenarioError,
    ScenarioWarning,
    escaped,
    load_scenario,
    validate_raw,
)

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "corpus"
TINY = REPO / "tests" / "scenarios" / "tiny.toml"
DEFAULT = REPO / "models" / "data" / "default.toml"


class Case(NamedTuple):
    path: str  # the dotted field path as printed; "" when the problem is the file itself
    fragment: str


CASES: dict[str, Case] = {
    # booleans, text and non-finite values where numbers are meant
    "bool_study_teams": Case("grid.west.study_teams", "a boolean is not a number"),
    "bool_spare_mw": Case("grid.west.spare_mw", "a boolean is not a number"),
    "text_number": Case("grid.west.spare_mw", "got the text '150' (remove the quotes)"),
    "float_count": Case("authorities.county.reviewers", "a whole number (a count), got 2.5"),
    "enabled_as_number": Case("mines.bb_mine.enabled", "expected true or false, got 1"),
    "inf_spare_mw": Case("grid.west.spare_mw", "must be a finite number, got inf"),
    "nan_basket_share": Case("baskets.clay.shares.ce_oxide", "must be a finite number, got nan"),
    "nan_recipe": Case("magnet_makers.aa_magnets.recipe.ndpr_oxide", "finite number, got nan"),
    "negative_inf_growth": Case("demands.aa_industry.growth_per_year", "finite number, got -inf"),
    "huge_int_capacity": Case("mines.aa_mine.capacity_t_per_year", "too large to be a number"),
    "huge_capacity": Case(
        "mines.aa_mine.capacity_t_per_year", "above the limit of 1,000,000,000 t or units"
    ),
    "huge_phase_mw": Case("datacenters.bb_campus.phases.0.it_mw", "above the limit of 10,000 MW"),
    "tiny_upgrade_block": Case("grid.west.upgrade_mw", "below the minimum of 10 MW"),
    # intervals and rates
    "outage_every_zero": Case("mines.aa_mine.outages.every_days", "never be 0 days"),
    "outage_every_tiny": Case("mines.aa_mine.outages.every_days", "below the minimum of 1 day"),
    "outage_every_empirical_zero": Case("mines.aa_mine.outages.every_days", "never be 0 days"),
    "step_days_tiny": Case("time.step_days", "below the minimum of 1 day"),
    "cluster_cycle_tiny": Case("grid.west.cluster_cycle_days", "0 means none"),
    "background_1e308": Case(
        "authorities.county.background_per_year", "above the limit of 10,000 requests per year"
    ),
    "initial_backlog_1e12": Case("grid.west.initial_backlog", "above the limit of 10,000 requests"),
    "lognormal_wide": Case("authorities.county.review_days", "lognormal p90 / median = 1e+18"),
    "dist_bool_parameter": Case("grid.west.study_days", "'value' must be a number, got true"),
    "dist_nan_parameter": Case("grid.west.connection_days", "'low' must be a finite number"),
    "duration_century_plus": Case(
        "authorities.county.review_days", "above the limit of 36,525 days"
    ),
    # time and dates
    "horizon_100_years": Case("time", "a horizon of 100.0 years is above the limit of 60 years"),
    "date_past_2262": Case(
        "export_controls.aa_heavy.start", "after the latest date paxsim accepts, 2200-12-31"
    ),
    "date_as_year": Case("export_controls.aa_heavy.start", "write a date as 2035-01-01"),
    "date_as_integer": Case("time.end", "write a date as 2035-01-01"),
    "date_with_time": Case("export_controls.aa_heavy.end", "has a time of day"),
    "date_not_in_calendar": Case("export_controls.aa_heavy.end", "not a day of the calendar"),
    "date_toml_typo": Case("", "write a date as 2035-01-01"),
    "phase_before_run": Case("datacenters.bb_campus.phases.0.start", "before the run starts"),
    "phase_after_run": Case("datacenters.bb_campus.phases.0.start", "when the run has ended"),
    # ids, names and references
    "duplicate_id_across_sections": Case("fabs.bb_mine", "also used by mines.bb_mine"),
    "duplicate_phase_names": Case(
        "datacenters.bb_campus.phases.1.name", "unique within a data center"
    ),
    "disabled_grid_region": Case(
        "datacenters.bb_campus.grid_region", "grid region 'west' is disabled"
    ),
    "disabled_authority": Case(
        "datacenters.bb_campus.permits.0", "permitting authority 'county' is disabled"
    ),
    "disabled_basket": Case("mines.aa_mine.basket", "basket 'clay' is disabled"),
    "disabled_coalition": Case("trust_coalition", "coalition 'club' is disabled"),
    "long_name": Case("name", "above the limit of 80 characters"),
    "name_escape_codes": Case("name", "'\\x1b[31mred\\x1b[0m' holds a non-printing character"),
    "id_bidi_override": Case("demands.aa\\u202eindustry", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    "lookalike_supplier": Case(
        "separation_plants.bb_sep.suppliers.0",
        "'bb_m\\u0456ne' (holds U+0456 CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I); "
        "did you mean 'bb_mine'?",
    ),
    "unknown_key_typo": Case(
        "mines.aa_mine.capacity_t_per_yer", "did you mean 'capacity_t_per_year'?"
    ),
    "unknown_section": Case("grids", "did you mean 'grid'?"),
    "unknown_grid_region_typo": Case(
        "datacenters.bb_campus.grid_region", "unknown grid region 'wset'; did you mean 'west'?"
    ),
    "new_entry_typo": Case("export_controls.aa_hevy", "did you mean 'aa_heavy'?"),
    "literal_typo": Case("export_controls.aa_heavy.mode", "did you mean 'licence'?"),
    "table_expected": Case("transformers", "expected a table"),
    "text_unquoted": Case("", "text values need quotes"),
    # files and extends
    "deep_nesting": Case("", "above the limit of 16 levels"),
    "nesting_past_limit": Case("", "above the limit of 16 levels"),
    "extends_dev_zero": Case("extends", "'/dev/zero': is not a regular file"),
    "extends_folder": Case("extends", "is a folder"),
    "extends_nul_byte": Case("extends", "cannot read"),
    "extends_self": Case("extends", "cycle"),
    "extends_not_text": Case("extends", "must be a string"),
    "utf16": Case("", "is UTF-16 text"),
    "latin1": Case("", "is not UTF-8 text"),
    "bom_then_typo": Case("grid.west.spare_mv", "did you mean 'spare_mw'?"),
    # deltas
    "unset_missing_key": Case("grid.west.study_dayz", "nothing to unset"),
    "unset_required": Case("grid.west.connection_days", "required field is missing"),
    "remove_missing_item": Case("separation_plants.bb_sep.suppliers-", "nothing to remove"),
    "append_to_number": Case("grid.west.spare_mw+", "appends to a list"),
}


def _rel(name: str) -> str:
    return f"tests/corpus/{name}.toml"


def _located(text: str, file: str, case: Case) -> bool:
    """A line of ``text`` names the file, then the path, and holds the fragment."""
    where = f"{file}: {case.path}: " if case.path else f"{file}: "
    return any(where in line and case.fragment in line for line in text.splitlines())


def _clean(text: str) -> None:
    assert "Traceback" not in text
    assert "internal error" not in text
    assert "\x1b" not in text and "\u202e" not in text, "raw control characters printed"


def test_corpus_is_complete() -> None:
    on_disk = {p.stem for p in CORPUS.glob("*.toml")}
    assert on_disk == set(CASES)
    assert len(on_disk) >= 40


def test_corpus_files_are_distinct() -> None:
    contents = [p.read_bytes() for p in CORPUS.glob("*.toml")]
    assert len(set(contents)) == len(contents)


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_load_scenario_names_file_and_path(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = CASES[name]
    monkeypatch.chdir(REPO)
    with pytest.raises(ScenarioError) as info:
        load_scenario(_rel(name))
    text = str(info.value)
    _clean(text)
    assert _located(text, _rel(name), case), text
    assert any(
        p.file == _rel(name) and escaped(p.path) == case.path and case.fragment in p.message
        for p in info.value.problems
    ), info.value.problems


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_through_the_cli(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``validate`` and ``run --out`` in-process: exit 2, located message, nothing written."""
    case = CASES[name]
    file = str(CORPUS / f"{name}.toml")
    work, out = tmp_path / "cwd", tmp_path / "out"
    work.mkdir()
    monkeypatch.chdir(work)
    corpus_before = sorted(p.name for p in CORPUS.iterdir())

    assert main(["validate", file]) == 2
    captured = capsys.readouterr()
    _clean(captured.out + captured.err)
    assert f"INVALID {file}" in captured.err
    assert _located(captured.err, file, case), captured.err

    assert main(["run", file, "--out", str(out), "--quiet"]) == 2
    captured = capsys.readouterr()
    _clean(captured.out + captured.err)
    assert _located(captured.err, file, case), captured.err
    assert "paxsim: error:" in captured.err

    assert list(work.iterdir()) == [], "run wrote into the working folder"
    assert not out.exists() or not any(out.rglob("*")), "a refused scenario wrote output"
    assert sorted(p.name for p in CORPUS.iterdir()) == corpus_before


# ------------------------------------------------------------------ inputs no file can hold
def _child(tmp_path: Path, body: str, name: str = "child.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'extends = "{TINY.as_posix()}"\nname = "child"\n{body}', encoding="utf-8")
    return path


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * 5_000_100 + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(big)
    assert f"{big}: a file of 5,000,103 bytes is above the limit of 5,000,000 bytes" in str(
        info.value
    )


def test_parent_over_the_size_limit_is_reported_at_extends(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * 5_000_100 + "\n", encoding="utf-8")
    child = tmp_path / "child.toml"
    child.write_text('extends = "big.toml"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    (problem,) = info.value.problems
    assert (problem.file, problem.path) == (str(child), "extends")
    assert "above the limit of 5,000,000 bytes" in problem.message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_without_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    with pytest.raises(ScenarioError, match="not a regular file"):
        load_scenario(fifo)  # opening a FIFO for reading would block forever


def test_symlink_to_dev_zero_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "zero.toml"
    link.symlink_to("/dev/zero")
    with pytest.raises(ScenarioError, match="not a regular file"):
        load_scenario(link)
    child = tmp_path / "child.toml"
    child.write_text('extends = "zero.toml"\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"extends: parent scenario 'zero\.toml': is not a"):
        load_scenario(child)


def test_cycle_of_two_files_names_both(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "a.toml")
    (problem,) = info.value.problems
    assert problem.file == str(tmp_path / "a.toml")
    assert f"{tmp_path / 'a.toml'} -> {tmp_path / 'b.toml'} -> {tmp_path / 'a.toml'}" in (
        problem.message
    )


def test_extends_chain_past_the_limit(tmp_path: Path) -> None:
    (tmp_path / "f0.toml").write_text(f'extends = "{TINY.as_posix()}"\n', encoding="utf-8")
    for i in range(1, 10):
        (tmp_path / f"f{i}.toml").write_text(f'extends = "f{i - 1}.toml"\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match="above the limit of 8 files"):
        load_scenario(tmp_path / "f9.toml")
    assert load_scenario(tmp_path / "f6.toml").name == "tiny"


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + TINY.read_bytes())
    assert load_scenario(path) == load_scenario(TINY)


@pytest.mark.parametrize(
    ("override", "path", "fragment"),
    [
        ("grid.west.spare_mw=inf", "grid.west.spare_mw", "finite number"),
        ("grid.west.spare_mw=nan", "grid.west.spare_mw", "finite number"),
        ("grid.west.study_teams=true", "grid.west.study_teams", "a boolean is not a number"),
        ("time.end=2035", "time.end", "write a date as 2035-01-01"),
        ("time.end=2400-01-01", "time.end", "latest date"),
        ("name=" + "n" * 81, "name", "above the limit of 80 characters"),
        ("grid.west.initial_backlog=1e12", "grid.west.initial_backlog", "whole number"),
    ],
)
def test_hostile_set_values(override: str, path: str, fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(TINY, [override])
    assert any(p.path == path and fragment in p.message for p in info.value.problems), str(
        info.value
    )


def test_deeply_nested_set_value() -> None:
    with pytest.raises(ScenarioError, match="above the limit of 16 levels") as info:
        load_scenario(TINY, ["grid.west.spare_mw=" + "[" * 3000 + "]" * 3000])
    assert info.value.problems[0].file == "--set"


def test_phases_outside_the_run_allowed_with_a_warning(tmp_path: Path) -> None:
    child = _child(
        tmp_path,
        "[time]\nallow_phases_outside_run = true\n"
        "[datacenters.bb_campus]\n"
        "phases = [{ it_mw = 10, start = 2024-06-01 }, { it_mw = 10, start = 2030-01-01 }]\n",
    )
    with pytest.warns(ScenarioWarning) as caught:
        scenario = load_scenario(child)
    texts = [str(w.message) for w in caught]
    assert any(
        "datacenters.bb_campus.phases.0.start: starts on 2024-06-01, before time.start: "
        "it is started on 2025-01-01 with no work done before the run" in t
        for t in texts
    ), texts
    assert any("phases.1.start" in t and "it never starts" in t for t in texts), texts
    assert all(w.filename == str(child) for w in caught)
    assert scenario.time.allow_phases_outside_run


def test_validate_prints_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    child = _child(
        tmp_path,
        "[time]\nallow_phases_outside_run = true\n"
        "[datacenters.bb_campus]\nphases = [{ it_mw = 10, start = 2024-06-01 }]\n",
    )
    assert main(["validate", str(child)]) == 0
    captured = capsys.readouterr()
    assert f"WARNING {child}: datacenters.bb_campus.phases.0.start: starts on 2024-06-01" in (
        captured.err
    )
    assert f"OK {child}: scenario 'child' is valid" in captured.out


def test_no_warning_without_the_flag() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScenarioWarning)
        load_scenario(TINY)


# ------------------------------------------------------------------ hypothesis: mutate the world
#: The default world cut to two years (every phase still starts inside the run).
END = dt.date(2027, 3, 1)


@cache
def _default_raw() -> dict[str, Any]:
    raw = tomllib.loads(DEFAULT.read_text(encoding="utf-8"))
    raw["time"]["end"] = END
    return raw


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key and list index below ``node``, depth first."""
    out: list[tuple[Any, ...]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, child in items:
        path = (*prefix, key)
        out.append(path)
        if isinstance(child, (dict, list)):
            out.extend(_paths(child, path))
    return out


def _parent(raw: dict[str, Any], path: tuple[Any, ...]) -> Any:
    node: Any = raw
    for key in path[:-1]:
        node = node[key]
    return node


HOSTILE_VALUES = st.sampled_from(
    [
        True,
        False,
        0,
        -1,
        -1e9,
        0.5,
        2.5,
        1e308,
        -1e308,
        float("nan"),
        float("inf"),
        float("-inf"),
        10**30,
        "",
        "text",
        "2035",
        "__unset__",
        [],
        {},
        [1, 2],
        {"dist": "fixed", "value": -3},
        {"dist": "lognormal", "median": 1, "p90": 1e12},
        dt.date(1000, 1, 1),
        dt.date(9999, 12, 31),
        dt.datetime(2030, 1, 1, 12, 0),
    ]
)
FACTORS = st.sampled_from([-1.0, 0.0, 1e-9, 0.5, 2.0, 1e6, 1e12])
SECTIONS = ("mines", "separation_plants", "magnet_makers", "fabs", "demands", "datacenters")


@st.composite
def mutated_default(draw: st.DrawFn) -> dict[str, Any]:
    raw = copy.deepcopy(_default_raw())
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(raw)))
        parent, key = _parent(raw, path), path[-1]
        op = draw(st.sampled_from(["replace", "remove", "scale", "duplicate", "move"]))
        value = parent[key]
        if op == "remove":
            del parent[key]
        elif op == "scale" and isinstance(value, (int, float)) and not isinstance(value, bool):
            factor = draw(FACTORS)
            parent[key] = type(value)(value * factor) if abs(value * factor) < 1e300 else 1e300
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(value))
        elif op == "duplicate" and isinstance(parent, dict) and isinstance(value, dict):
            parent[f"{key}_copy"] = copy.deepcopy(value)
        elif op == "move" and len(path) == 2 and path[0] in SECTIONS:
            # The same id in another section.
            other = draw(st.sampled_from([s for s in SECTIONS if s != path[0]]))
            raw.setdefault(other, {})[key] = copy.deepcopy(value)
        else:
            parent[key] = draw(HOSTILE_VALUES)
    return raw


@st.composite
def plausible_default(draw: st.DrawFn) -> dict[str, Any]:
    """Mutants more likely to validate (so the engine sees them): numbers scaled (a
    distribution's parameters together), switches flipped, list items dropped or doubled."""
    raw = copy.deepcopy(_default_raw())
    paths = _paths(raw)

    def value(path: tuple[Any, ...]) -> Any:
        return _parent(raw, path)[path[-1]]

    numbers = [p for p in paths if type(value(p)) in (int, float)]
    switches = [p for p in paths if type(value(p)) is bool]
    items = [p for p in paths if isinstance(_parent(raw, p), list)]
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["number", "number", "number", "switch", "item"]))
        if kind == "number":
            path = draw(st.sampled_from(numbers))
            parent = _parent(raw, path)
            dist = isinstance(parent, dict) and "dist" in parent
            # A distribution scales as a whole, by a factor that keeps its shape.
            factors = [0.5, 2, 0.1, 10, 0.001, 1000] + ([] if dist else [0])
            factor = draw(st.sampled_from(factors))
            keys = [k for k in parent if type(parent[k]) in (int, float)] if dist else [path[-1]]
            for key in keys:
                scaled = parent[key] * factor
                parent[key] = int(scaled) if type(parent[key]) is int and not dist else scaled
        elif kind == "switch":
            path = draw(st.sampled_from(switches))
            _parent(raw, path)[path[-1]] = not value(path)
        else:
            path = draw(st.sampled_from(items))
            parent = _parent(raw, path)
            if path[-1] < len(parent):
                if draw(st.booleans()):
                    del parent[path[-1]]
                else:
                    parent.append(copy.deepcopy(parent[path[-1]]))
    return raw


MUTANTS = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@settings(MUTANTS, max_examples=100)
@given(raw=mutated_default())
def test_mutated_default_validates_or_fails_cleanly(raw: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        try:
            validate_raw(raw, "<mutant>")
        except ScenarioError as exc:
            assert exc.problems
            assert all(p.file == "<mutant>" for p in exc.problems)


@settings(MUTANTS, max_examples=30)
@given(raw=mutated_default())
def test_mutated_default_as_a_file_loads_or_fails_cleanly(raw: dict[str, Any]) -> None:
    """The same mutants written as TOML files and loaded as a user would (merge, deltas)."""
    import tempfile

    import tomli_w

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mutant.toml"
        try:
            path.write_text(tomli_w.dumps(raw), encoding="utf-8")
        except (TypeError, ValueError):  # TOML cannot hold it (e.g. a datetime in a list)
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScenarioWarning)
            try:
                load_scenario(path)
            except ScenarioError as exc:
                assert all(p.file == str(path) for p in exc.problems)


@settings(MUTANTS, max_examples=25)
@given(raw=st.one_of(mutated_default(), plausible_default()))
def test_mutated_default_that_validates_also_runs(raw: dict[str, Any]) -> None:
    from paxsim.models.simulation import simulate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        try:
            scenario = validate_raw(raw, "<mutant>")
        except ScenarioError:
            return
    with contextlib.suppress(ScenarioError):  # the only exception a run may raise
        simulate(scenario, 0)
