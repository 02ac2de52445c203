"""Every parameter of a world, labelled sourced, calibrated or assumed (docs/model.md, 3.2).

For each entity of each section, every parameter the file sets explicitly
(pydantic's ``model_fields_set``) gets a status from the text that cites it:

- its own ``sources[field]`` if there is one: text starting with "assumption"
  makes it *assumed*; text containing "calibrated" (any case) makes it
  *calibrated* (to the figure that follows); text starting with "derived"
  makes it *sourced (derived)*; any other text is a citation, *sourced*;
- otherwise the entity's ``source``: "assumption..." makes it *assumed*, any
  other citation *sourced (entity)* (the citation is the entity's, and may not
  state this value); no source at all makes it *assumed* (nothing cites it).

A list whose items carry their own ``source`` (dated ``capacity_changes``,
coalition ``members``) gives one parameter per item, labelled by that
``source``. A table of numbers (``shares``, ``recipe``) gives one parameter
per key when ``sources`` cites one of its keys, else one parameter in all.
Metadata (``source``, ``notes``...) and references to other entities
(``suppliers``, ``country``, ``basket``...) are not parameters.

``python -m paxsim.models.parameter_table`` prints the Markdown for the
default world; ``--update docs/model.md`` rewrites the block between the
markers in that file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from paxsim.models.scenario import Scenario

__all__ = [
    "BEGIN",
    "END",
    "EXCLUDED",
    "NOT_PARAMETERS",
    "SECTIONS",
    "STATUSES",
    "Parameter",
    "Row",
    "classify",
    "entity_parameters",
    "main",
    "parameter_status",
    "parameter_table",
    "replace_block",
    "rows",
]

Status = Literal["sourced", "derived", "entity", "calibrated", "assumed"]
#: Every status, in the order the summary shows them.
STATUSES: tuple[Status, ...] = ("sourced", "derived", "entity", "calibrated", "assumed")
_STATUS_HEADINGS = {
    "sourced": "sourced (cited)",
    "derived": "sourced (derived)",
    "entity": "sourced (entity)",
    "calibrated": "calibrated",
    "assumed": "assumed",
}

#: The sections the table covers: tables of entities, single entities
#: (``transformers``) and top-level parameters (``domestic_transit_days``).
SECTIONS: tuple[str, ...] = (
    "authorities",
    "baskets",
    "coalitions",
    "contracts",
    "datacenters",
    "demands",
    "domestic_transit_days",
    "export_controls",
    "fabs",
    "lanes",
    "magnet_makers",
    "metal_plants",
    "mines",
    "policies.trusted_sourcing",
    "rules_of_origin",
    "separation_plants",
    "stockpiles",
    "transformers",
)

#: Scenario fields the table leaves out, and why.
EXCLUDED: dict[str, str] = {
    "name": "the scenario's name",
    "description": "text",
    "extends": "the parent scenario",
    "time": "run settings (horizon, step), not a property of the world",
    "trust_coalition": "a reference to a coalition",
    "grid": "docs/model.md section 3.1",
    "countries": "names; datacenter_stock is in docs/model.md section 3.1",
    "materials": "units and descriptions; accelerator unit_mass_t is an assumption stated "
    "in default.toml",
}

#: Fields that are not parameters: metadata, and references to other entities.
NOT_PARAMETERS: frozenset[str] = frozenset(
    {
        # metadata
        "enabled",
        "name",
        "notes",
        "source",
        "sources",
        # a descriptor: a planned facility is one with project_start and construction_days
        "status",
        # references
        "accelerator_material",
        "accelerator_suppliers",
        "ban_exporter",
        "basket",
        "buyer",
        "countries",
        "country",
        "eligible",
        "exempt_countries",
        "from_country",
        "grid_region",
        "heavy_materials",
        "input",
        "magnet_material",
        "magnet_suppliers",
        "material",
        "materials",
        "output",
        "owner",
        "permits",
        "provenance",
        "qualified",
        "supersedes",
        "supplier",
        "suppliers",
        "to_country",
    }
)

#: Attributes that name an item of a list of sourced items, first found wins.
_ITEM_KEYS = ("date", "country", "start", "name")

BEGIN = "<!-- PARAMETER_TABLE:BEGIN -->"
END = "<!-- PARAMETER_TABLE:END -->"

_FIGURE_CHARS = 60


@dataclass(frozen=True)
class Parameter:
    """One parameter with its status; ``figure`` names what a calibrated one was fitted to."""

    name: str
    status: Status
    figure: str = ""


@dataclass(frozen=True)
class Row:
    section: str
    entity: str
    parameters: tuple[Parameter, ...]


# --------------------------------------------------------------------------- status
def classify(text: str) -> tuple[Status, str]:
    """The status a citation text gives a parameter it cites, and the figure if calibrated."""
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered.startswith("assumption"):
        return "assumed", ""
    at = lowered.find("calibrated")
    if at >= 0:
        return "calibrated", _figure(stripped[at + len("calibrated") :])
    if lowered.startswith("derived"):
        return "derived", ""
    return "sourced", ""


def _figure(text: str) -> str:
    """The first words of what follows "calibrated": the figure fitted to."""
    text = text.lstrip(" :;,-").strip()
    text = text.removeprefix("to ")
    text = " ".join(text.split())
    if len(text) <= _FIGURE_CHARS:
        return text
    cut = text[:_FIGURE_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:(") + "…"


def parameter_status(field_source: str | None, entity_source: str | None) -> tuple[Status, str]:
    """A parameter's status: from its own citation, else from its entity's ``source``."""
    if field_source is not None and field_source.strip():
        return classify(field_source)
    if entity_source is None or not entity_source.strip():
        return "assumed", ""
    if entity_source.strip().lower().startswith("assumption"):
        return "assumed", ""
    return "entity", ""


# --------------------------------------------------------------------------- parameters
def _item_key(item: BaseModel, index: int) -> str:
    for attr in _ITEM_KEYS:
        value = getattr(item, attr, None)
        if isinstance(value, (str, dt.date)):
            return value.isoformat() if isinstance(value, dt.date) else value
    return str(index)


def entity_parameters(entity: BaseModel, fields: Iterable[str] | None = None) -> list[Parameter]:
    """The parameters ``entity`` sets explicitly (or ``fields``), each with its status, sorted."""
    sources: dict[str, str] = getattr(entity, "sources", None) or {}
    entity_source: str | None = getattr(entity, "source", None)
    names = sorted(entity.model_fields_set - NOT_PARAMETERS if fields is None else fields)
    found: list[Parameter] = []

    def add(name: str, field_source: str | None) -> None:
        status, figure = parameter_status(field_source, entity_source)
        found.append(Parameter(name, status, figure))

    for field in names:
        value = getattr(entity, field)
        if isinstance(value, list) and value and all(_has_source(v) for v in value):
            for index, item in enumerate(value):
                add(f"{field}[{_item_key(item, index)}]", item.source)
        elif isinstance(value, dict) and any(_key_source(sources, field, k) for k in value):
            for key in sorted(value):
                add(f"{field}[{key}]", _key_source(sources, field, key) or sources.get(field))
        else:
            add(field, sources.get(field))
    return sorted(found, key=lambda p: p.name)


def _has_source(item: Any) -> bool:
    return isinstance(item, BaseModel) and isinstance(getattr(item, "source", None), str)


def _key_source(sources: dict[str, str], field: str, key: str) -> str | None:
    """The citation of one key of a table field: ``field.key``, ``field[key]`` or ``key``."""
    for name in (f"{field}.{key}", f"{field}[{key}]", key):
        if name in sources:
            return sources[name]
    return None


def _section_entities(scenario: Scenario, section: str) -> list[tuple[str, BaseModel, list[str]]]:
    """(entity name, model, fields) for a section; fields empty means "explicitly set"."""
    value: Any = scenario
    for part in section.split("."):
        value = getattr(value, part)
    if isinstance(value, dict):
        return [(name, value[name], []) for name in sorted(value)]
    if isinstance(value, BaseModel) and "source" in type(value).model_fields:
        return [(section, value, [])]
    if value is None or section not in scenario.model_fields_set:
        return []
    # A top-level parameter (a number or a distribution): the scenario is its
    # entity, and it has no source of its own.
    return [("(top level)", scenario, [section])]


def rows(scenario: Scenario, sections: Sequence[str] = SECTIONS) -> list[Row]:
    """One row per entity of ``sections``, sorted by section and entity."""
    found: list[Row] = []
    for section in sorted(sections):
        for name, entity, fields in _section_entities(scenario, section):
            shown = name if getattr(entity, "enabled", True) else f"{name} (disabled)"
            params = entity_parameters(entity, fields or None)
            found.append(Row(section, shown, tuple(params)))
    return found


# --------------------------------------------------------------------------- Markdown
def _names(params: Iterable[Parameter]) -> str:
    """Names, comma separated; items of one field merged: ``capacity_changes[2027, 2029]``."""
    parts: list[str] = []
    merged: dict[str, list[str]] = {}
    for p in params:
        if p.figure:
            parts.append(f"{p.name} ({_cell(p.figure)})")
            continue
        match = re.fullmatch(r"([^\[]+)\[(.*)\]", p.name)
        if match is None:
            parts.append(p.name)
            continue
        base, key = match.groups()
        if base not in merged:
            merged[base] = []
            parts.append(base)  # placeholder, filled below
        merged[base].append(key)
    return ", ".join(f"{p}[{', '.join(merged[p])}]" if p in merged else p for p in parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _sourced_cell(params: Sequence[Parameter]) -> str:
    groups = []
    cited = [p for p in params if p.status == "sourced"]
    if cited:
        groups.append(_names(cited))
    for status in ("derived", "entity"):
        chosen = [p for p in params if p.status == status]
        if chosen:
            groups.append(f"{status}: {_names(chosen)}")
    return "; ".join(groups) or "—"


def _status_cell(params: Sequence[Parameter], status: Status) -> str:
    return _names(p for p in params if p.status == status) or "—"


def parameter_table(scenario: Scenario, sections: Sequence[str] = SECTIONS) -> str:
    """Markdown: one row per entity (parameters by status), then counts per section."""
    table = rows(scenario, sections)
    lines = [
        "| section | entity | sourced | calibrated | assumed |",
        "|---|---|---|---|---|",
    ]
    for row in table:
        params = row.parameters
        lines.append(
            f"| {row.section} | {row.entity} | {_sourced_cell(params)} | "
            f"{_status_cell(params, 'calibrated')} | {_status_cell(params, 'assumed')} |"
        )
    lines += [
        "",
        "*Parameters per section and status*",
        "",
        "| section | entities | "
        + " | ".join(_STATUS_HEADINGS[s] for s in STATUSES)
        + " | parameters |",
        "|---|" + "---:|" * (len(STATUSES) + 2),
    ]
    totals = [0] * (len(STATUSES) + 2)
    for section in sorted(sections):
        in_section = [r for r in table if r.section == section]
        found = [p for r in in_section for p in r.parameters]
        counts = [len(in_section), *(sum(p.status == s for p in found) for s in STATUSES)]
        counts.append(len(found))
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        lines.append(f"| {section} | " + " | ".join(str(c) for c in counts) + " |")
    lines.append("| **all** | " + " | ".join(f"**{c}**" for c in totals) + " |")
    return "\n".join(lines) + "\n"


def replace_block(document: str, block: str) -> str:
    """``document`` with the text between the markers replaced by ``block``."""
    start = document.find(BEGIN)
    stop = document.find(END)
    if start < 0 or stop < start:
        raise ValueError(f"the markers {BEGIN} and {END} are missing or out of order")
    head = document[: start + len(BEGIN)]
    return f"{head}\n{block.strip()}\n{document[stop:]}"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table for the default world, or rewrite the block in a Markdown file."""
    from paxsim.models.loader import load_scenario

    parser = argparse.ArgumentParser(
        prog="python -m paxsim.models.parameter_table",
        description="Every parameter of the default world, sourced, calibrated or assumed.",
    )
    parser.add_argument(
        "--update",
        metavar="MARKDOWN",
        type=Path,
        help=f"replace the text between {BEGIN} and {END} in this file",
    )
    args = parser.parse_args(argv)
    text = parameter_table(load_scenario())
    if args.update is None:
        sys.stdout.write(text)
        return 0
    path: Path = args.update
    path.write_text(replace_block(path.read_text(encoding="utf-8"), text), encoding="utf-8")
    print(f"updated {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
