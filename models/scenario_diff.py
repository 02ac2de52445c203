"""What a scenario changes against its parent (``paxsim show --diff FILE``).

Both scenarios are compared resolved (after ``extends``, deltas and defaults),
as dotted paths. Tables are compared key by key; a distribution is one value;
a list of scalars (suppliers, permits) is one value; a list of tables is
matched item by item on a key that identifies its items (``name``, ``country``,
``date`` or ``ready``) when there is one, else by position::

    ~ grid.pjm_dominion.study_teams: 70 -> 8
    + coalitions.pax_silica.members[country=IN] = {country = "IN", joined = 2026-06-01, ...}
    - coalitions.pax_silica.members[country=QA] (was {country = "QA", ...})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from paxsim.models.loader import (
    DEFAULT_NAME,
    Problem,
    ScenarioError,
    escaped,
    inline_value,
    load_scenario,
    parent_of,
)
from paxsim.models.scenario import Scenario, shown_id

__all__ = ["Change", "diff_against_parent", "diff_scenarios", "format_diff"]

#: Keys that identify an item in a list of tables, tried in order.
ITEM_KEYS = ("name", "country", "date", "ready")


@dataclass(frozen=True)
class Change:
    path: str
    kind: Literal["added", "removed", "changed"]
    old: Any = None
    new: Any = None

    def __str__(self) -> str:
        if self.kind == "added":
            return f"+ {self.path} = {inline_value(self.new, 120)}"
        if self.kind == "removed":
            return f"- {self.path} (was {inline_value(self.old, 120)})"
        return f"~ {self.path}: {inline_value(self.old, 80)} -> {inline_value(self.new, 80)}"


def _plain(scenario: Scenario) -> dict[str, Any]:
    """The resolved scenario as data, without ``extends`` (where values came from) or nulls."""
    data = scenario.model_dump(mode="python", by_alias=True, exclude={"extends"})
    return _drop_none(data)


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def _is_table(value: Any) -> bool:
    return isinstance(value, Mapping) and "dist" not in value


def _item_key(old: Sequence[Any], new: Sequence[Any]) -> str | None:
    """A key that names every item of both lists uniquely, if there is one."""
    items = [*old, *new]
    if not items or not all(_is_table(i) for i in items):
        return None
    for key in ITEM_KEYS:
        if all(key in i for i in items) and all(
            len({str(i[key]) for i in side}) == len(side) for side in (old, new)
        ):
            return key
    return None


def _walk(path: str, old: Any, new: Any, out: list[Change]) -> None:
    if _is_table(old) and _is_table(new):
        for key in [*old, *(k for k in new if k not in old)]:
            where = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.append(Change(where, "removed", old=old[key]))
            elif key not in old:
                out.append(Change(where, "added", new=new[key]))
            else:
                _walk(where, old[key], new[key], out)
        return
    if isinstance(old, list) and isinstance(new, list) and old != new:
        key = _item_key(old, new)
        if key is not None:
            _walk_keyed(path, key, old, new, out)
            return
        if all(_is_table(i) for i in [*old, *new]) and old and new:
            for i in range(max(len(old), len(new))):
                where = f"{path}.{i}"
                if i >= len(new):
                    out.append(Change(where, "removed", old=old[i]))
                elif i >= len(old):
                    out.append(Change(where, "added", new=new[i]))
                else:
                    _walk(where, old[i], new[i], out)
            return
    if old != new:
        out.append(Change(path, "changed", old=old, new=new))


def _walk_keyed(path: str, key: str, old: list[Any], new: list[Any], out: list[Change]) -> None:
    before = {str(i[key]): i for i in old}
    after = {str(i[key]): i for i in new}
    for name in [*before, *(n for n in after if n not in before)]:
        where = f"{path}[{key}={name}]"
        if name not in after:
            out.append(Change(where, "removed", old=before[name]))
        elif name not in before:
            out.append(Change(where, "added", new=after[name]))
        else:
            _walk(where, before[name], after[name], out)


def diff_scenarios(old: Scenario, new: Scenario) -> list[Change]:
    """Every dotted path whose value differs between two resolved scenarios."""
    out: list[Change] = []
    _walk("", _plain(old), _plain(new), out)
    return out


def diff_against_parent(
    source: str | Path | None, overrides: Iterable[str] = ()
) -> tuple[str, list[Change]]:
    """(a heading, the changes) of ``source`` (with ``--set``) against what it extends.

    The base is the scenario named by ``extends``; a scenario without one is
    compared with itself before ``--set``. With neither there is nothing to
    compare, which is a :class:`ScenarioError`.
    """
    overrides = list(overrides)
    shown = DEFAULT_NAME if source is None else str(source)
    parent = None if source is None else parent_of(source)
    if parent is None and not overrides:
        raise ScenarioError(
            [
                Problem(
                    "default (embedded)" if source is None else shown,
                    "extends",
                    "this scenario extends no other, so there is nothing to compare it with; "
                    "give a file that has `extends`, or add --set to see what overrides change",
                )
            ]
        )
    new = load_scenario(source, overrides)
    if parent is None:
        base, against = load_scenario(source), "itself without --set"
    elif parent == DEFAULT_NAME:
        base = load_scenario(None)
        against = f"its parent {shown_id(base.name)} (embedded)"
    else:
        base = load_scenario(parent)
        against = f"its parent {shown_id(base.name)} ({escaped(parent)})"
    where = "the embedded default world" if source is None else escaped(shown)
    heading = (
        f"scenario {shown_id(new.name)} ({where}{' with --set' if overrides else ''}) "
        f"against {against}:"
    )
    return heading, diff_scenarios(base, new)


def format_diff(heading: str, changes: Sequence[Change]) -> str:
    """The heading, one line per change, and a count by kind."""
    if not changes:
        return f"{heading}\nno changes\n"
    counts = {
        kind: sum(c.kind == kind for c in changes) for kind in ("added", "removed", "changed")
    }
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    noun = "change" if len(changes) == 1 else "changes"
    lines = [heading, *(str(c) for c in changes), f"{len(changes)} {noun} ({summary})"]
    return "\n".join(lines) + "\n"
