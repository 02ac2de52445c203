"""Loading scenario files: TOML, ``extends``, deltas, ``--set`` overrides, clear errors.

Every problem a user can cause becomes a :class:`ScenarioError` that names the
file, the dotted field path, the value given and what is allowed. Nothing
below lets a pydantic or TOML traceback reach the user. The limits in
:mod:`models.limits` (file size, nesting depth, the extends chain) are checked
before anything is parsed or merged.

Scenario deltas (README.md, "Scenario deltas"), in files and in ``--set``:

- ``key = "__unset__"`` removes an inherited value (the field takes its default);
- ``"key+" = [...]`` appends to an inherited list, ``"key-" = [...]`` removes
  items from it (a table item is removed when every key given matches).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import stat
import tomllib
import types
import typing
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from paxsim.models import limits
from paxsim.models.references import check_references, scenario_warnings
from paxsim.models.scenario import (
    Scenario,
    choices,
    closest,
    did_you_mean,
    shown_id,
    shown_value,
)
from paxsim.sim.distributions import _Dist

__all__ = [
    "DEFAULT_NAME",
    "UNSET",
    "Problem",
    "ScenarioError",
    "ScenarioWarning",
    "apply_overrides",
    "deep_merge",
    "escaped",
    "inline_value",
    "load_raw",
    "load_scenario",
    "parent_of",
    "parse_override",
    "scenario_hash",
    "validate_raw",
]

DEFAULT_NAME = "default"
MAX_EXTENDS_DEPTH = int(limits.MAX_EXTENDS_DEPTH.number)
#: A value that removes the key it is given for (an inherited value, or one set by ``--set``).
UNSET = "__unset__"
#: Suffixes on a list's key: append to it, remove from it.
APPEND, REMOVE = "+", "-"


def escaped(text: str) -> str:
    """``text`` with non-printing and non-ASCII characters escaped (for file names and paths)."""
    if text.isascii() and text.isprintable():
        return text
    return ascii(text)[1:-1]


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{escaped(self.file)}: " if self.file else ""
        field = f"{escaped(self.path)}: " if self.path else ""
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


class ScenarioWarning(UserWarning):
    """A scenario that is valid but asks for something the reader should know about."""


class _FileError(Exception):
    """A file that cannot be read as a scenario (reported against the file or its child)."""


class _DeltaError(Exception):
    """A delta (unset, append, remove) that cannot apply; ``path`` is the dotted key."""

    def __init__(self, path: Sequence[str], message: str) -> None:
        super().__init__(message)
        self.path = ".".join(path)
        self.message = message


# --------------------------------------------------------------------------- reading files
def _default_text() -> str:
    default = resources.files("paxsim.models").joinpath("data/default.toml")
    return default.read_text(encoding="utf-8")


def _read_bytes(path: Path) -> bytes:
    """The file's bytes: a regular file, at most the stated size, read no further."""
    size_limit = int(limits.MAX_FILE_BYTES.number)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise _FileError("file not found") from None
    except (OSError, ValueError) as exc:
        raise _FileError(f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise _FileError("is a folder, expected a .toml file")
    if not stat.S_ISREG(info.st_mode):
        raise _FileError("is not a regular file (a device, pipe or socket); give a .toml file")
    if info.st_size > size_limit:
        raise _FileError(limits.MAX_FILE_BYTES.refuse(f"a file of {info.st_size:,} bytes"))
    try:
        with path.open("rb") as handle:
            data = handle.read(size_limit + 1)
    except OSError as exc:
        raise _FileError(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > size_limit:
        raise _FileError(limits.MAX_FILE_BYTES.refuse("the file (it grew while read)"))
    return data


def _decode(data: bytes) -> str:
    """UTF-8 text; a UTF-8 byte-order mark is accepted and dropped, UTF-16 is named as such."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _FileError(
            "is UTF-16 text (it starts with a UTF-16 byte-order mark); save it as UTF-8"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _FileError(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from None


def _too_deep(value: Any) -> bool:
    """More tables and arrays inside one another than the stated limit (checked iteratively)."""
    limit = int(limits.MAX_NESTING_DEPTH.number)
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return False


def _nesting_problem() -> str:
    return limits.MAX_NESTING_DEPTH.refuse("the nesting of tables and arrays")


def _parse_toml(text: str) -> dict[str, Any]:
    try:
        table = tomllib.loads(text)
    except RecursionError:
        raise _FileError(_nesting_problem()) from None
    except ValueError as exc:  # TOMLDecodeError, and dates such as 0000-01-01
        raise _FileError(f"not valid TOML: {exc}{_toml_hint(text, exc)}") from None
    if _too_deep(table):
        raise _FileError(_nesting_problem())
    return table


def _toml_hint(text: str, exc: ValueError) -> str:
    """A hint for the TOML mistakes people make most."""
    found = re.search(r"line (\d+)", str(exc))
    if not found:
        return ""
    lines = text.splitlines()
    number = int(found.group(1))
    line = lines[number - 1] if 0 < number <= len(lines) else ""
    if re.search(r"=\s*\d{4}-\d{1,2}-\d{1,2}\b", line) or re.search(r"=\s*\d{1,2}/\d", line):
        return " (write a date as 2035-01-01: four-digit year, two-digit month and day)"
    if re.search(r"=\s*[A-Za-z_][\w-]*\s*$", line) and not re.search(r"=\s*(true|false)\s*$", line):
        return ' (text values need quotes: key = "value")'
    return ""


def _read_toml(source: str | Path) -> tuple[dict[str, Any], str]:
    """Parse a file (or the embedded default); return the table and its display name."""
    if str(source) == DEFAULT_NAME:
        return tomllib.loads(_default_text()), "default (embedded)"
    shown = str(source)
    try:
        return _parse_toml(_decode(_read_bytes(Path(source)))), shown
    except _FileError as exc:
        raise ScenarioError([Problem(shown, "", str(exc))]) from None


def deep_merge(
    base: Mapping[str, Any], child: Mapping[str, Any], _path: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Tables merge key by key; any other value (arrays included) replaces.

    Deltas in ``child`` apply to ``base``: ``"__unset__"`` removes a key, and
    ``key+`` / ``key-`` append to / remove from a list (after the plain keys,
    removals first). A delta that cannot apply raises ``_DeltaError``.
    """
    return _merge_into(copy.deepcopy(dict(base)), child, _path)


def _merge_into(
    merged: dict[str, Any], child: Mapping[str, Any], path: tuple[str, ...]
) -> dict[str, Any]:
    """:func:`deep_merge` on a ``merged`` that is already a copy (copied once, not per level)."""
    deltas: list[tuple[str, Any]] = []
    for key, value in child.items():
        if _is_delta_key(key):
            deltas.append((key, value))
        elif isinstance(value, str) and value == UNSET:
            _unset(merged, key, path)
        elif isinstance(value, Mapping) and "dist" in value:
            # A distribution table is one value: a child's replaces the parent's whole.
            merged[key] = copy.deepcopy(value)
        elif isinstance(value, Mapping):
            below = merged.get(key)
            below = below if isinstance(below, dict) else {}
            merged[key] = _merge_into(below, value, (*path, key))
        else:
            merged[key] = copy.deepcopy(value)
    for key, value in sorted(deltas, key=lambda kv: kv[0].endswith(APPEND)):
        _apply_list_delta(merged, key[:-1], key[-1], value, path)
    return merged


def _is_delta_key(key: Any) -> bool:
    return isinstance(key, str) and len(key) > 1 and key[-1] in (APPEND, REMOVE)


def _unset(table: dict[str, Any], key: str, path: Sequence[str]) -> None:
    if key not in table:
        where = ".".join((*path, key))
        raise _DeltaError(
            (*path, key),
            f"nothing to unset: {where} has no value to remove here{did_you_mean(key, table)}",
        )
    del table[key]


def _same(item: Any, wanted: Any) -> bool:
    """A list item matches a removal: equal, or (tables) every key given is equal."""
    if isinstance(wanted, Mapping) and isinstance(item, Mapping):
        return all(k in item and _same(item[k], v) for k, v in wanted.items())
    return bool(item == wanted) and isinstance(item, bool) == isinstance(wanted, bool)


def _apply_list_delta(
    table: dict[str, Any], key: str, op: str, value: Any, path: Sequence[str]
) -> None:
    """``key+`` appends ``value`` (a list, or one item) to ``table[key]``; ``key-`` removes it."""
    items = value if isinstance(value, list) else [value]
    where = ".".join((*path, key))
    current = table[key] if key in table else _schema_default((*path, key))
    if not isinstance(current, list):
        raise _DeltaError(
            (*path, key + op),
            f"'{key}{op}' {'appends to' if op == APPEND else 'removes from'} a list, "
            f"but {where} is {shown_value(current)}",
        )
    if op == APPEND:
        table[key] = [*current, *copy.deepcopy(items)]
        return
    kept = list(current)
    for wanted in items:
        if not any(_same(item, wanted) for item in kept):
            raise _DeltaError(
                (*path, key + op),
                f"nothing to remove: no item of {where} matches {inline_value(wanted)}; "
                f"its items: {', '.join(inline_value(i) for i in kept) or '(none)'}",
            )
        kept = [item for item in kept if not _same(item, wanted)]
    table[key] = kept


def inline_value(value: Any, limit: int = 60) -> str:
    """A short TOML-like rendering of one value (messages, ``show --diff``)."""
    if isinstance(value, Mapping):
        text = "{" + ", ".join(f"{k} = {inline_value(v, limit)}" for k, v in value.items()) + "}"
    elif isinstance(value, list):
        text = "[" + ", ".join(inline_value(v, limit) for v in value) + "]"
    elif isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, str):
        text = json.dumps(value)
    elif isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        text = str(int(value))
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _resolve(source: str | Path, parent: str) -> str:
    """Where ``extends = parent`` in ``source`` points: 'default' or a path beside the file."""
    if parent == DEFAULT_NAME or str(source) == DEFAULT_NAME or Path(parent).is_absolute():
        return parent
    return str(Path(source).parent / parent)


def _identity(source: str) -> str:
    """A file's identity for cycle detection (its resolved path)."""
    if source == DEFAULT_NAME:
        return source
    try:
        return str(Path(source).resolve())
    except (OSError, ValueError, RuntimeError):
        return source


def parent_of(source: str | Path) -> str | None:
    """The scenario that ``source`` extends ('default' or a path), or None."""
    raw, shown = _read_toml(source)
    parent = raw.get("extends")
    if parent is None:
        return None
    if not isinstance(parent, str):
        raise ScenarioError([Problem(shown, "extends", f"must be a string, got {parent!r}")])
    return _resolve(source, parent)


def load_raw(source: str | Path = DEFAULT_NAME) -> tuple[dict[str, Any], str]:
    """The raw table after following ``extends`` and applying deltas; parents are validated."""
    return _load_chain(str(source), ())


def _load_chain(source: str, chain: tuple[tuple[str, str], ...]) -> tuple[dict[str, Any], str]:
    """``chain`` holds (identity, shown name) of the children that led here."""
    raw, shown = _read_toml(source)
    chain = (*chain, (_identity(source), shown))
    parent = raw.get("extends")
    if parent is None:
        return _merge({}, raw, shown), shown
    if not isinstance(parent, str):
        raise ScenarioError([Problem(shown, "extends", f"must be a string, got {parent!r}")])
    target = _resolve(source, parent)
    seen = [identity for identity, _ in chain]
    if _identity(target) in seen:
        first = seen.index(_identity(target))
        names = " -> ".join([name for _, name in chain[first:]] + [chain[first][1]])
        raise ScenarioError(
            [
                Problem(
                    chain[first][1],
                    "extends",
                    f"extends goes round in a cycle, {names} (too many levels to follow)",
                )
            ]
        )
    if len(chain) > MAX_EXTENDS_DEPTH:
        raise ScenarioError(
            [
                Problem(
                    shown,
                    "extends",
                    limits.MAX_EXTENDS_DEPTH.refuse(f"a chain of {len(chain)} files"),
                )
            ]
        )
    if target != DEFAULT_NAME:
        _check_parent_file(target, raw["extends"], shown)
    parent_raw, parent_shown = _load_chain(target, chain)
    validate_raw(parent_raw, parent_shown, warn=False)
    merged = _merge(parent_raw, raw, shown)
    merged.pop("extends", None)
    merged["extends"] = raw["extends"]
    return merged, shown


def _check_parent_file(target: str, given: str, shown: str) -> None:
    """A parent that cannot be read is the child's mistake: report it at ``extends``."""
    try:
        _read_bytes(Path(target))
    except _FileError as exc:
        reason = str(exc)
        if reason == "file not found":
            reason = (
                f"not found (looked for {target}); give 'default' or a path relative to this file"
            )
            raise ScenarioError(
                [Problem(shown, "extends", f"parent scenario {shown_value(given)} {reason}")]
            ) from None
        raise ScenarioError(
            [Problem(shown, "extends", f"parent scenario {shown_value(given)}: {reason}")]
        ) from None


def _merge(base: Mapping[str, Any], child: Mapping[str, Any], shown: str) -> dict[str, Any]:
    try:
        return deep_merge(base, child)
    except _DeltaError as exc:
        raise ScenarioError([Problem(shown, exc.path, exc.message)]) from None


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
    except RecursionError:
        raise ScenarioError([Problem("--set", key.strip(), _nesting_problem())]) from None
    except ValueError:
        value = value_text.strip()
    if _too_deep(value):
        raise ScenarioError([Problem("--set", key.strip(), _nesting_problem())])
    return parts, value


def apply_overrides(raw: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Apply ``--set`` texts in order; deltas (``key+``, ``key-``, ``__unset__``) work too."""
    out = copy.deepcopy(raw)
    for text in overrides:
        parts, value = parse_override(text)
        node: Any = out
        for i, part in enumerate(parts[:-1]):
            node = _descend(node, part, parts[: i + 1], text)
        last = parts[-1]
        if isinstance(node, list):
            if _is_delta_key(last) or value == UNSET:
                raise ScenarioError(
                    [
                        Problem(
                            "--set",
                            ".".join(parts),
                            "a list item cannot be unset or appended to; use "
                            f"{'.'.join(parts[:-1])}-=... to remove items ({text})",
                        )
                    ]
                )
            node[_index(node, last, parts, text)] = value
        elif isinstance(node, dict):
            try:
                if _is_delta_key(last):
                    _apply_list_delta(node, last[:-1], last[-1], value, parts[:-1])
                elif isinstance(value, str) and value == UNSET:
                    _unset(node, last, parts[:-1])
                else:
                    node[last] = value
            except _DeltaError as exc:
                raise ScenarioError([Problem("--set", exc.path, exc.message)]) from None
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
                    f"list index must be 0..{len(node) - 1}, got {shown_value(part)} ({text})",
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
        _check_new_key(node, part, so_far)
        node[part] = {}
    return node[part]


def _check_new_key(node: dict[str, Any], part: str, so_far: list[str]) -> None:
    """``--set`` may fill in a missing field, but not invent an entity or a key."""
    container = _walk(so_far[:-1])
    where = ".".join(so_far[:-1])
    if _is_section(container):
        hint = did_you_mean(part, node)
        listed = "" if hint else f"; defined: {choices(node, part)}"
        raise ScenarioError(
            [
                Problem(
                    "--set",
                    ".".join(so_far),
                    f"unknown {where} entry {shown_id(part)}{hint}{listed} (to add an entry, "
                    f"set its whole table: --set '{where}.{part}={{...}}')",
                )
            ]
        )
    if _is_model(container) and _field(container, part) is None:
        allowed = _allowed_keys(container)
        raise ScenarioError(
            [
                Problem(
                    "--set",
                    ".".join(so_far),
                    f"unknown key {shown_id(part)}{did_you_mean(part, allowed)} "
                    f"(allowed here: {choices(allowed, part, full=True)})",
                )
            ]
        )


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


def _is_model(annotation: Any) -> bool:
    """A scenario table with named fields (a distribution is a value, not such a table)."""
    return (
        isinstance(annotation, type)
        and issubclass(annotation, BaseModel)
        and not issubclass(annotation, _Dist)
    )


def _is_section(annotation: Any) -> bool:
    """A table of entities by id (``grid``, ``mines``, ``policies.trusted_sourcing``...)."""
    if typing.get_origin(annotation) is not dict:
        return False
    return _is_model(_unwrap(typing.get_args(annotation)[1]))


def _field(model: type[BaseModel], key: str) -> Any:
    field = model.model_fields.get(key)
    if field is None:
        field = {f.alias: f for f in model.model_fields.values() if f.alias}.get(key)
    return field


def _walk(parts: Sequence[Any]) -> Any:
    """The (unwrapped) schema annotation at a path of raw keys; None where the schema ends."""
    current: Any = Scenario
    for part in parts:
        current = _unwrap(current)
        origin = typing.get_origin(current)
        if origin is dict:
            current = typing.get_args(current)[1]
        elif origin is list:
            current = typing.get_args(current)[0]
        elif _is_model(current):
            field = _field(current, str(part))
            if field is None:
                return None
            current = field.annotation
        else:
            return None
    return _unwrap(current)


def _model_at(loc: Sequence[Any]) -> type[BaseModel] | None:
    """The pydantic model class that owns the field at ``loc`` (best effort)."""
    found = _walk(loc)
    return found if _is_model(found) else None


def _schema_default(path: Sequence[str]) -> Any:
    """The default of the field at ``path`` as raw data ([] when it has none)."""
    owner = _model_at(path[:-1])
    field = _field(owner, path[-1]) if owner is not None else None
    if field is None or field.is_required():
        return []
    value = field.get_default(call_default_factory=True)
    if isinstance(value, list):
        return [v.model_dump(by_alias=True) if isinstance(v, BaseModel) else v for v in value]
    return value


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return sorted(f.alias or name for name, f in model.model_fields.items())


#: pydantic error types and what to say instead ("{got}" is the value given).
_PLAIN = {
    "model_type": "expected a table ([section] or {{ key = value }}), got {got}",
    "dict_type": "expected a table ([section] or {{ key = value }}), got {got}",
    "model_attributes_type": "expected a table ([section] or {{ key = value }}), got {got}",
    "list_type": "expected a list [ ... ], got {got}",
    "string_type": 'expected text in quotes ("..."), got {got}',
    "bool_type": "expected true or false, got {got}",
    "int_type": "Input should be a valid integer: expected a whole number, got {got}",
    "float_type": "Input should be a valid number, got {got}",
}


def _problem_from_error(err: Any, file: str, raw: Mapping[str, Any] | None = None) -> Problem:
    loc = [p for p in err["loc"] if p != "[key]"]
    path = ".".join(str(p) for p in loc)
    kind = err["type"]
    msg = err["msg"].removeprefix("Value error, ")
    given = err.get("input")
    if kind == "extra_forbidden":
        owner = _model_at(loc[:-1])
        key = str(loc[-1]) if loc else ""
        if owner is None:
            return Problem(file, path, "unknown key")
        allowed = _allowed_keys(owner)
        return Problem(
            file,
            path,
            f"unknown key {shown_id(key)}{did_you_mean(key, allowed)} "
            f"(allowed here: {choices(allowed, key, full=True)})",
        )
    if kind == "missing":
        return Problem(file, path, "required field is missing")
    if kind == "value_error":
        return Problem(file, path, msg)
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        hint = did_you_mean(given, allowed) if isinstance(given, str) else ""
        return Problem(file, path, f"{msg}{hint} (got {shown_value(given)})")
    if kind in _PLAIN:
        return Problem(file, path, _PLAIN[kind].format(got=shown_value(given)))
    return Problem(file, path, f"{msg} (got {shown_value(given)})")


def _problems(exc: ValidationError, file: str, raw: Mapping[str, Any]) -> list[Problem]:
    """One problem per error, but one line for a table that lacks several required fields."""
    errors = exc.errors()
    missing: dict[tuple[Any, ...], list[str]] = {}
    for err in errors:
        if err["type"] == "missing" and err["loc"]:
            missing.setdefault(tuple(err["loc"][:-1]), []).append(str(err["loc"][-1]))
    problems: list[Problem] = []
    grouped: set[tuple[Any, ...]] = set()
    for err in errors:
        parent = tuple(err["loc"][:-1])
        if err["type"] == "missing" and len(missing.get(parent, [])) > 1:
            if parent not in grouped:
                grouped.add(parent)
                fields = ", ".join(missing[parent])
                problems.append(
                    Problem(
                        file,
                        ".".join(str(p) for p in parent),
                        f"required fields are missing: {fields}{_new_entry_hint(parent, raw)}",
                    )
                )
            continue
        problem = _problem_from_error(err, file, raw)
        if err["type"] == "missing":
            problem = Problem(file, problem.path, problem.message + _new_entry_hint(parent, raw))
        problems.append(problem)
    return problems


def _new_entry_hint(parent: tuple[Any, ...], raw: Mapping[str, Any]) -> str:
    """For an entity that lacks fields: is its id a typo for one that exists?"""
    if len(parent) < 2 or not _is_section(_walk(parent[:-1])):
        return ""
    node: Any = raw
    for part in parent[:-1]:
        node = node.get(part) if isinstance(node, Mapping) else None
    if not isinstance(node, Mapping):
        return ""
    found = closest(str(parent[-1]), [k for k in node if k != parent[-1]], n=1)
    if not found:
        return ""
    return f" ({shown_id(str(parent[-1]))} is a new entry: did you mean {shown_id(found[0])}?)"


def validate_raw(raw: Mapping[str, Any], file: str, *, warn: bool = True) -> Scenario:
    """Shape-check with pydantic, then check cross-references; warn about what is allowed."""
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(_problems(exc, file, raw)) from None
    except RecursionError:
        raise ScenarioError([Problem(file, "", _nesting_problem())]) from None
    problems = [Problem(file, path, message) for path, message in check_references(scenario)]
    if problems:
        raise ScenarioError(problems)
    if warn:
        # Shown as "<file>:0: ScenarioWarning: <path>: <message>" (line 0: no source line).
        for path, message in scenario_warnings(scenario):
            warnings.warn_explicit(f"{escaped(path)}: {message}", ScenarioWarning, escaped(file), 0)
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
