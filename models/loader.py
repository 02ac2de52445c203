"""Loading scenario files: TOML, ``extends``, ``--set`` overrides, clear errors.

Every problem a user can cause becomes a :class:`ScenarioError` that names the
file, the dotted field path, the value given and what is allowed. Nothing
below lets a pydantic or TOML traceback reach the user.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from paxsim.models.references import check_references
from paxsim.models.scenario import Scenario

__all__ = [
    "DEFAULT_NAME",
    "Problem",
    "ScenarioError",
    "apply_overrides",
    "load_raw",
    "load_scenario",
    "parse_override",
    "scenario_hash",
    "validate_raw",
]

DEFAULT_NAME = "default"
MAX_EXTENDS_DEPTH = 8


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        field = f"{self.path}: " if self.path else ""
        return f"{where}{field}{self.message}"


class ScenarioError(Exception):
    """One or more problems with a scenario; ``str()`` lists them all."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(self._text())

    def _text(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"{len(self.problems)} problems in the scenario:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


# --------------------------------------------------------------------------- reading files
def _default_text() -> str:
    default = resources.files("paxsim.models").joinpath("data/default.toml")
    return default.read_text(encoding="utf-8")


def _read_toml(source: str | Path) -> tuple[dict[str, Any], str]:
    """Parse a file (or the embedded default); return the table and its display name."""
    if str(source) == DEFAULT_NAME:
        return tomllib.loads(_default_text()), "default (embedded)"
    path = Path(source)
    if not path.exists():
        raise ScenarioError([Problem(str(path), "", "file not found")])
    if path.is_dir():
        raise ScenarioError([Problem(str(path), "", "is a folder, expected a .toml file")])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(str(path), "", f"cannot read: {exc}")]) from None
    try:
        return tomllib.loads(text), str(path)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([Problem(str(path), "", f"not valid TOML: {exc}")]) from None


def deep_merge(base: Mapping[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; any other value (arrays included) replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in child.items():
        # A distribution table is one value: a child's replaces the parent's whole.
        if isinstance(value, Mapping) and "dist" in value:
            merged[key] = copy.deepcopy(value)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_raw(source: str | Path = DEFAULT_NAME, _depth: int = 0) -> tuple[dict[str, Any], str]:
    """The raw table after following ``extends``; each parent is validated on its own."""
    raw, shown = _read_toml(source)
    parent = raw.get("extends")
    if parent is None:
        return raw, shown
    if not isinstance(parent, str):
        raise ScenarioError([Problem(shown, "extends", f"must be a string, got {parent!r}")])
    if _depth >= MAX_EXTENDS_DEPTH:
        raise ScenarioError([Problem(shown, "extends", "too many levels (a cycle?)")])
    if parent != DEFAULT_NAME and not Path(parent).is_absolute() and str(source) != DEFAULT_NAME:
        parent = str(Path(source).parent / parent)
    if parent != DEFAULT_NAME and not Path(parent).exists():
        raise ScenarioError(
            [
                Problem(
                    shown,
                    "extends",
                    f"parent scenario {raw['extends']!r} not found (looked for {parent}); "
                    "give 'default' or a path relative to this file",
                )
            ]
        )
    parent_raw, parent_shown = load_raw(parent, _depth + 1)
    validate_raw(parent_raw, parent_shown)
    merged = deep_merge(parent_raw, raw)
    merged.pop("extends", None)
    merged["extends"] = raw["extends"]
    return merged, shown


# --------------------------------------------------------------------------- overrides
def parse_override(text: str) -> tuple[list[str], Any]:
    """``a.b.c=value`` -> (["a","b","c"], value); the value is read as TOML if it parses."""
    if "=" not in text:
        raise ScenarioError(
            [Problem("--set", text, "expected KEY=VALUE, e.g. grid.pjm_dominion.spare_mw=500")]
        )
    key, _, value_text = text.partition("=")
    parts = [p.strip() for p in key.strip().split(".")]
    if not all(parts):
        raise ScenarioError([Problem("--set", key, "empty segment in the dotted key")])
    try:
        value = tomllib.loads(f"v = {value_text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = value_text.strip()
    return parts, value


def apply_overrides(raw: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    for text in overrides:
        parts, value = parse_override(text)
        node: Any = out
        for i, part in enumerate(parts[:-1]):
            node = _descend(node, part, parts[: i + 1], text)
        last = parts[-1]
        if isinstance(node, list):
            node[_index(node, last, parts, text)] = value
        elif isinstance(node, dict):
            node[last] = value
        else:
            raise ScenarioError(
                [Problem("--set", ".".join(parts[:-1]), f"is a value, not a table ({text})")]
            )
    return out


def _index(node: list[Any], part: str, parts: list[str], text: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise ScenarioError(
            [
                Problem(
                    "--set",
                    ".".join(parts),
                    f"list index must be 0..{len(node) - 1}, got {part!r} ({text})",
                )
            ]
        )
    return int(part)


def _descend(node: Any, part: str, so_far: list[str], text: str) -> Any:
    if isinstance(node, list):
        return node[_index(node, part, so_far, text)]
    if not isinstance(node, dict):
        raise ScenarioError(
            [Problem("--set", ".".join(so_far[:-1]), f"is a value, not a table ({text})")]
        )
    if part not in node:
        node[part] = {}
    return node[part]


# --------------------------------------------------------------------------- validation
def _unwrap(annotation: Any) -> Any:
    """Strip Optional/Annotated so the walker sees the container or model."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            containers = [a for a in args if typing.get_origin(a) in (dict, list)]
            pick = models or containers or args
            annotation = pick[0]
            continue
        return annotation


def _model_at(loc: Sequence[Any]) -> type[BaseModel] | None:
    """The pydantic model class that owns the field at ``loc`` (best effort)."""
    current: Any = Scenario
    for part in loc:
        current = _unwrap(current)
        origin = typing.get_origin(current)
        if origin is dict:
            current = typing.get_args(current)[1]
        elif origin is list:
            current = typing.get_args(current)[0]
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                aliases = {f.alias: f for f in current.model_fields.values() if f.alias}
                field = aliases.get(str(part))
            if field is None:
                return None
            current = field.annotation
        else:
            return None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return sorted(f.alias or name for name, f in model.model_fields.items())


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _problem_from_error(err: Any, file: str) -> Problem:
    loc = [p for p in err["loc"]]
    path = ".".join(str(p) for p in loc)
    kind = err["type"]
    msg = err["msg"].removeprefix("Value error, ")
    given = err.get("input")
    if kind == "extra_forbidden":
        owner = _model_at(loc[:-1])
        allowed = f"; allowed keys here: {', '.join(_allowed_keys(owner))}" if owner else ""
        return Problem(file, path, f"unknown key{allowed}")
    if kind == "missing":
        return Problem(file, path, "required field is missing")
    return Problem(file, path, f"{msg} (got {_short(given)})")


def validate_raw(raw: Mapping[str, Any], file: str) -> Scenario:
    """Shape-check with pydantic, then check cross-references."""
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError([_problem_from_error(e, file) for e in exc.errors()]) from None
    problems = [Problem(file, path, message) for path, message in check_references(scenario)]
    if problems:
        raise ScenarioError(problems)
    return scenario


def load_scenario(source: str | Path | None = None, overrides: Iterable[str] = ()) -> Scenario:
    """Load the embedded default world or a file, follow ``extends``, apply ``--set``."""
    raw, shown = load_raw(DEFAULT_NAME if source is None else source)
    overrides = list(overrides)
    if overrides:
        raw = apply_overrides(raw, overrides)
        shown = f"{shown} (with --set {' '.join(overrides)})"
    return validate_raw(raw, shown)


def scenario_hash(scenario: Scenario) -> str:
    """Content hash of the resolved scenario (stable across runs and machines)."""
    # ``extends`` names where values came from, not what they are: leave it out.
    data = scenario.model_dump(mode="json", by_alias=True, exclude={"extends"})
    payload = json.dumps(data, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
