"""Every broken scenario under tests/scenarios/broken/ fails with a clear, located message.

For each file we know the dotted field path that is wrong and a fragment of
the message. We check it twice: through :func:`models.loader.load_scenario`
(a :class:`ScenarioError` naming the file, the path and the fragment) and
through ``paxsim validate FILE`` in a subprocess (exit 2, the same text on
stderr, never a traceback).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import pytest

from paxsim.models.loader import ScenarioError, load_scenario

REPO = Path(__file__).resolve().parents[1]
BROKEN = REPO / "tests" / "scenarios" / "broken"


class Case(NamedTuple):
    file: str
    path: str  # dotted field path; "" when the problem is the file itself
    fragment: str


CASES: list[Case] = [
    Case("unknown_key.toml", "mines.bb_mine.capacity_t_per_yr", "unknown key"),
    Case(
        "negative_capacity.toml",
        "separation_plants.aa_sep.capacity_t_per_year",
        "greater than or equal to 0",
    ),
    Case("wrong_type.toml", "grid.west.study_teams", "valid integer"),
    Case("unknown_dist.toml", "authorities.county.review_days", "unknown distribution 'gamma'"),
    Case(
        "lognormal_p90_below_median.toml",
        "authorities.county.review_days",
        "lognormal needs 0 < median < p90",
    ),
    Case(
        "triangular_min_above_max.toml",
        "grid.west.study_days",
        "triangular needs min <= mode <= max",
    ),
    Case(
        "probability_above_one.toml",
        "export_controls.aa_heavy.denial_probability",
        "probability must stay within [0, 1]",
    ),
    Case(
        "unknown_supplier.toml",
        "separation_plants.bb_sep.suppliers.1",
        "unknown supplier 'bb_mien'",
    ),
    Case(
        "supplier_wrong_material.toml",
        "demands.aa_industry.suppliers.0",
        "supplier 'aa_sep' does not produce 'ndfeb_magnet'",
    ),
    Case("missing_lane.toml", "demands.cc_chips.suppliers.0", "no lane from BB to CC"),
    Case(
        "unknown_grid_region.toml",
        "datacenters.bb_campus.grid_region",
        "unknown grid region 'east'",
    ),
    Case(
        "unknown_authority.toml",
        "datacenters.bb_campus.permits.1",
        "unknown permitting authority 'state'",
    ),
    Case("unknown_country.toml", "authorities.county.country", "unknown country 'ZZ'"),
    Case(
        "planned_without_project_start.toml",
        "magnet_makers.cc_magnets",
        "planned facility needs project_start",
    ),
    Case("invalid_toml.toml", "", "not valid TOML"),
    Case("end_before_start.toml", "time", "must be after time.start"),
    Case(
        "planned_online_before_start.toml",
        "datacenters.bb_campus.phases.0.planned_online",
        "before the phase's start",
    ),
    Case("missing_required_field.toml", "mines.cc_mine.basket", "required field is missing"),
    Case("full_missing_materials.toml", "materials", "required field is missing"),
    Case("extends_cycle_a.toml", "extends", "too many levels"),
    Case("extends_cycle_b.toml", "extends", "too many levels"),
    Case(
        "unknown_basket_material.toml",
        "baskets.hardrock.shares.la_oxide",
        "unknown material 'la_oxide'",
    ),
    Case(
        "qualified_not_supplier.toml",
        "separation_plants.bb_sep.qualified.1",
        "not one of this plant's suppliers",
    ),
    Case(
        "reorder_above_cover.toml",
        "magnet_makers.aa_magnets",
        "reorder_days (90.0) must not exceed cover_days (60.0)",
    ),
    Case("bad_date.toml", "export_controls.aa_heavy.start", "valid date"),
    Case(
        "bool_as_distribution.toml",
        "grid.west.connection_days",
        "expected a number or a distribution table",
    ),
]

# The mistake is in the child's ``extends`` line, but the message names only the
# (missing) parent path: neither the file that holds the mistake nor the field.
EXTENDS_MISSING = Case("extends_missing_parent.toml", "extends", "not found")

PARAMS = [pytest.param(c, id=c.file.removesuffix(".toml")) for c in CASES] + [
    pytest.param(
        EXTENDS_MISSING,
        id=EXTENDS_MISSING.file.removesuffix(".toml"),
    )
]


def _rel(name: str) -> str:
    """The file as a user in the repository root would name it."""
    return f"tests/scenarios/broken/{name}"


def _has_located_line(text: str, case: Case, shown: str) -> bool:
    """One line of ``text`` names the file, then the path, then holds the fragment."""
    where = f"{shown}: {case.path}: " if case.path else f"{shown}: "
    return any(where in line and case.fragment in line for line in text.splitlines())


def test_every_broken_file_has_a_case() -> None:
    listed = {c.file for c in CASES} | {EXTENDS_MISSING.file}
    on_disk = {p.name for p in BROKEN.glob("*.toml")}
    assert on_disk == listed
    assert len(on_disk) >= 15


def test_cases_are_distinct_mistakes() -> None:
    keys = [(c.path, c.fragment) for c in CASES if not c.file.startswith("extends_cycle")]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("case", PARAMS)
def test_load_scenario_raises_located_error(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    with pytest.raises(ScenarioError) as info:
        load_scenario(_rel(case.file))
    exc = info.value
    text = str(exc)
    assert "Traceback" not in text
    assert _rel(case.file) in text, text
    assert case.fragment in text, text
    if case.path:
        assert case.path in text, text
    assert _has_located_line(text, case, _rel(case.file)), text
    # The structured form agrees with the text.
    assert any(
        p.file == _rel(case.file) and p.path == case.path and case.fragment in p.message
        for p in exc.problems
    ), exc.problems


@pytest.mark.parametrize("case", PARAMS)
def test_load_scenario_absolute_path(case: Case) -> None:
    """The same error when the file is given by absolute path (no cwd dependence)."""
    path = BROKEN / case.file
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    assert str(path) in text, text
    assert case.fragment in text, text


# ------------------------------------------------------------------ through the CLI
#: Mistakes beyond the required list are checked in one multi-file ``validate`` call
#: (which also tests that mode); every other file gets a ``paxsim validate FILE`` of its own.
BATCHED = {
    "extends_cycle_b.toml",
    "unknown_basket_material.toml",
    "qualified_not_supplier.toml",
    "reorder_above_cover.toml",
    "bad_date.toml",
    "bool_as_distribution.toml",
    "full_missing_materials.toml",
}


def _validate(names: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "paxsim.cli", "validate", *[_rel(n) for n in names]],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def _section(stderr: str, name: str) -> str:
    """The part of a multi-file ``validate`` report that belongs to ``name``."""
    blocks = re.split(r"(?m)^(?=INVALID )", stderr)
    mine = [b for b in blocks if b.startswith(f"INVALID {_rel(name)}\n")]
    assert len(mine) == 1, stderr
    return mine[0]


@pytest.fixture(scope="module")
def validate_runs() -> dict[str, tuple[int, str, str]]:
    """(exit code, stdout, stderr) of ``paxsim validate`` for every broken file."""
    names = [c.file for c in CASES] + [EXTENDS_MISSING.file]
    alone = [n for n in names if n not in BATCHED]
    batch = sorted(BATCHED)
    with ThreadPoolExecutor(max_workers=4) as pool:
        singles = dict(zip(alone, pool.map(_validate, [[n] for n in alone]), strict=True))
        together = _validate(batch)
    out = {n: (p.returncode, p.stdout, p.stderr) for n, p in singles.items()}
    for n in batch:
        out[n] = (together.returncode, together.stdout, _section(together.stderr, n))
    return out


def test_validate_many_files_reports_each() -> None:
    """One good file among bad ones: OK for it on stdout, INVALID for the others, exit 2."""
    proc = _validate(["../tiny.toml", "wrong_type.toml", "unknown_key.toml"])
    assert proc.returncode == 2
    assert "OK tests/scenarios/broken/../tiny.toml" in proc.stdout
    assert proc.stderr.count("INVALID ") == 2
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("case", PARAMS)
def test_validate_cli_exits_2_with_message(
    case: Case,
    validate_runs: dict[str, tuple[int, str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, stdout, stderr = validate_runs[case.file]
    monkeypatch.chdir(REPO)
    with pytest.raises(ScenarioError) as info:
        load_scenario(_rel(case.file))
    assert str(info.value) in stderr  # the CLI prints exactly what the loader says
    assert code == 2, (code, stdout, stderr)
    assert "Traceback" not in stderr
    assert "Traceback" not in stdout
    assert f"INVALID {_rel(case.file)}" in stderr
    assert case.fragment in stderr, stderr
    if case.path:
        assert case.path in stderr, stderr
    assert _has_located_line(stderr, case, _rel(case.file)), stderr
