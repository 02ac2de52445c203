"""The parameter table of docs/model.md section 3.2 (models/parameter_table.py).

The block between the markers in docs/model.md must equal what the module
prints for the default world, so the labels cannot drift from the file; the
status rule is checked on small synthetic entities; every section of the
scenario is either in the table or excluded with a reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from paxsim.models.loader import load_scenario
from paxsim.models.parameter_table import (
    BEGIN,
    END,
    EXCLUDED,
    NOT_PARAMETERS,
    SECTIONS,
    Parameter,
    classify,
    entity_parameters,
    parameter_status,
    parameter_table,
    replace_block,
    rows,
)
from paxsim.models.scenario import Basket, Lane, Mine, Policies, Scenario

MODEL_MD = Path(__file__).resolve().parents[1] / "docs" / "model.md"
REGENERATE = (
    "docs/model.md section 3.2 is out of date with the default world: regenerate it with "
    "`python -m paxsim.models.parameter_table --update docs/model.md` (or paste the output of "
    "`python -m paxsim.models.parameter_table` between the markers)"
)


@pytest.fixture(scope="module")
def world() -> Scenario:
    return load_scenario()


@pytest.fixture(scope="module")
def table(world: Scenario) -> str:
    return parameter_table(world)


def _block(document: str) -> str:
    assert document.count(BEGIN) == 1, f"docs/model.md needs exactly one {BEGIN}"
    assert document.count(END) == 1, f"docs/model.md needs exactly one {END}"
    start, stop = document.index(BEGIN) + len(BEGIN), document.index(END)
    assert start < stop, f"{BEGIN} must come before {END}"
    return document[start:stop]


# --------------------------------------------------------------------------- no drift
def test_doc_block_matches_the_default_world(table: str) -> None:
    shown = _block(MODEL_MD.read_text(encoding="utf-8"))
    assert shown.strip() == table.strip(), REGENERATE


def test_replace_block_rewrites_only_the_block() -> None:
    doc = f"intro\n{BEGIN}\nold\n{END}\noutro\n"
    assert replace_block(doc, "new\n") == f"intro\n{BEGIN}\nnew\n{END}\noutro\n"
    with pytest.raises(ValueError, match="markers"):
        replace_block("no markers here", "new")


# --------------------------------------------------------------------------- the status rule
@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("assumption: mature plants", "assumed"),
        ("Assumption", "assumed"),
        ("assumption: calibrated later", "assumed"),  # "assumption" comes first
        ("CALIBRATED: chosen so that IR -> COD is ~55 months", "calibrated"),
        ("LBNL 2025; calibrated to the 2024 lead time", "calibrated"),
        ("derived from Energy Fuels Phase 2: 240 / 6,000 x 0.22", "derived"),
        ("derived: 19 TWh / (8.766 x 0.8)", "derived"),
        ("USGS MCS 2025 (US 45,000 t in 2024)", "sourced"),
        ("Suggested default parameters table; spread: assumption", "sourced"),
    ],
)
def test_classify(text: str, status: str) -> None:
    assert classify(text)[0] == status


def test_calibrated_quotes_the_figure_briefly() -> None:
    status, figure = classify("calibrated to Wood Mackenzie's ~120-week average lead time")
    assert status == "calibrated"
    assert figure == "Wood Mackenzie's ~120-week average lead time"
    long = "CALIBRATED: " + "a figure with many words " * 10
    status, figure = classify(long)
    assert status == "calibrated"
    assert figure.startswith("a figure with many words")
    assert figure.endswith("…")
    assert len(figure) <= 61


def test_entity_fallback() -> None:
    assert parameter_status(None, "assumption: representative campus") == ("assumed", "")
    assert parameter_status(None, "USGS MCS 2025") == ("entity", "")
    assert parameter_status(None, "derived: from USGS") == ("entity", "")
    assert parameter_status("", "USGS MCS 2025") == ("entity", "")
    assert parameter_status(None, None) == ("assumed", "")  # nothing cites it
    assert parameter_status(None, "  ") == ("assumed", "")
    # a field's own citation wins over its entity's
    assert parameter_status("USGS MCS 2025", "assumption: x") == ("sourced", "")
    assert parameter_status("assumption: y", "USGS MCS 2025") == ("assumed", "")


def _by_name(params: list[Parameter]) -> dict[str, str]:
    return {p.name: p.status for p in params}


def test_entity_parameters_on_a_synthetic_mine() -> None:
    mine = Mine.model_validate(
        {
            "country": "US",
            "capacity_t_per_year": 100.0,
            "basket": "b",
            "ramp_days": 30.0,
            "cover_days": 60.0,
            "outages": {"every_days": 365.0, "duration_days": 10.0},
            "capacity_changes": [
                {"date": "2027-01-01", "capacity": 200.0, "source": "assumption: growth"},
                {"date": "2026-01-01", "capacity": 150.0, "source": "Company release 2025"},
                {"date": "2028-01-01", "capacity": 250.0, "source": "CALIBRATED to 2028"},
            ],
            "source": "USGS MCS 2025",
            "sources": {
                "ramp_days": "assumption: one year",
                "cover_days": "derived: 2 months of use",
                "basket": "assumption: ore type",
            },
            "notes": "not a parameter",
        }
    )
    assert _by_name(entity_parameters(mine)) == {
        "capacity_changes[2026-01-01]": "sourced",
        "capacity_changes[2027-01-01]": "assumed",
        "capacity_changes[2028-01-01]": "calibrated",
        "capacity_t_per_year": "entity",
        "cover_days": "derived",
        "outages": "entity",
        "ramp_days": "assumed",
    }, "references (basket, country) and metadata are not parameters; defaults are not listed"


def test_a_table_splits_only_when_its_keys_are_cited() -> None:
    plain = Basket.model_validate({"shares": {"a": 0.2, "b": 0.3}, "source": "assumption: x"})
    assert _by_name(entity_parameters(plain)) == {"shares": "assumed"}
    cited = Basket.model_validate(
        {
            "shares": {"a": 0.2, "b": 0.3, "c": 0.1},
            "source": "assumption: x",
            "sources": {"b": "derived from a release", "shares.c": "A report 2024"},
        }
    )
    assert _by_name(entity_parameters(cited)) == {
        "shares[a]": "assumed",
        "shares[b]": "derived",
        "shares[c]": "sourced",
    }


def test_rendering_groups_statuses(world: Scenario) -> None:
    lane = Lane.model_validate(
        {"from": "US", "to": "JP", "transit_days": 20.0, "source": "assumption: sea"}
    )
    assert _by_name(entity_parameters(lane)) == {"transit_days": "assumed"}
    text = parameter_table(world, sections=["lanes"])
    assert "| lanes | us_jp | — | — | transit_days |" in text


# --------------------------------------------------------------------------- coverage
def test_every_section_is_covered_or_excluded() -> None:
    asked = {
        "lanes",
        "authorities",
        "transformers",
        "export_controls",
        "mines",
        "separation_plants",
        "magnet_makers",
        "fabs",
        "stockpiles",
        "demands",
        "datacenters",
        "baskets",
        "policies.trusted_sourcing",
        "domestic_transit_days",
    }
    assert asked <= set(SECTIONS)
    fields = set(Scenario.model_fields) - {"policies"}
    fields |= {f"policies.{name}" for name in Policies.model_fields}
    assert fields == set(SECTIONS) | set(EXCLUDED), (
        "a scenario section is neither in parameter_table.SECTIONS nor in EXCLUDED"
    )
    assert not set(SECTIONS) & set(EXCLUDED)


def test_every_section_appears_in_the_summary(table: str) -> None:
    summary = table.split("*Parameters per section and status*")[1]
    for section in SECTIONS:
        assert f"\n| {section} | " in summary, section
    assert "| **all** |" in summary


def test_every_entity_has_one_row(world: Scenario) -> None:
    found = rows(world)
    keys = [(r.section, r.entity) for r in found]
    assert len(keys) == len(set(keys))
    assert keys == sorted(keys)
    for section in SECTIONS:
        value = world
        for part in section.split("."):
            value = getattr(value, part)
        if isinstance(value, dict):
            assert {e for s, e in keys if s == section} == set(value), section
    for row in found:
        names = [p.name.split("[")[0] for p in row.parameters]
        assert not set(names) & NOT_PARAMETERS, row
        assert [p.name for p in row.parameters] == sorted(p.name for p in row.parameters)
