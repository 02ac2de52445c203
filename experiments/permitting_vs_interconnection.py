"""Permitting vs interconnection reform: a 2x2 factorial of the two, with main effects, the
interaction and their confidence intervals, on MW-weighted full-power dates by country.

Arms (the four cells, paired on the replication seed):

* ``baseline``: the default world;
* ``permitting``: a 180-day statutory shot clock at five data-center authorities
  (``permitting_shot_clock.toml``);
* ``interconnection``: first-ready queues with readiness screening, parallel studies and
  flexible connection in PJM Dominion and ERCOT (``grid_reform.toml``);
* ``both``: ``grid_reform.toml`` plus the shot-clock settings, read from
  ``permitting_shot_clock.toml`` (not retyped).

With common random numbers each replication r gives four outcomes y00, y10
(permitting), y01 (interconnection), y11 (both), so the effects are taken per
replication and their t intervals are across replications:

* main effect of permitting = ((y10 - y00) + (y11 - y01)) / 2;
* main effect of interconnection = ((y01 - y00) + (y11 - y10)) / 2;
* interaction = y11 - y10 - y01 + y00 (0: the reforms add up).

Outcomes: the MW-weighted full-power day (days; lower is earlier) and MW-years lost,
for the US, Japan and all phases.

Usage::

    python -m experiments.permitting_vs_interconnection --reps 20 --out runs/pvi
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from paxsim import plots
from paxsim.models.results.batch import BatchResults
from paxsim.models.results.metrics import (
    mw_weighted_full_power_day,
    mw_years_lost,
    paired,
    replication_warning,
)
from paxsim.plots.style import SCENARIO_COLOURS, set_title, styled
from paxsim.sim import stats
from paxsim.sim.replications import REPLICATION
from paxsim.study import (
    SCENARIOS,
    Arm,
    Study,
    StudyOptions,
    covers_zero,
    interval_text,
    study_main,
)

NAME = "permitting_vs_interconnection"
QUESTION = (
    "A 2x2 factorial of permitting reform and interconnection reform: what are their main "
    "effects and their interaction, with confidence intervals, on MW-weighted full-power "
    "dates of AI data centers by country?"
)
PERMITTING_FILE = "permitting_shot_clock.toml"
GRID_FILE = "grid_reform.toml"
#: The cells, keyed (permitting, interconnection): 0 = status quo, 1 = reform.
Cell = tuple[int, int]
CELLS: tuple[Cell, ...] = ((0, 0), (1, 0), (0, 1), (1, 1))
EFFECTS = ("permitting", "interconnection", "interaction")
GROUPS = ("US", "JP", "all")
#: Outcomes per replication: column -> (unit, what it is).
OUTCOMES: dict[str, tuple[str, str]] = {
    "full_power_day": ("d", "MW-weighted full-power day"),
    "mw_years_lost": ("MW·yr", "MW-years lost"),
}

BASELINE = Arm("baseline", None, (), "the default world: neither reform")


def shot_clock_overrides(path: Path | None = None) -> tuple[str, ...]:
    """The permitting reform as overrides (``authorities.<id>.<key>=<value>``), from its file.

    Read rather than retyped so the "both" arm stays the permitting arm's
    settings if the file changes. A file that changes anything but authorities,
    or extends another scenario than the default, cannot be stacked onto
    grid_reform.toml this way and is refused.
    """
    path = SCENARIOS / PERMITTING_FILE if path is None else path
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    if data.get("extends", "default") != "default":
        raise ValueError(f"{path.name} extends {data['extends']!r}; the both arm needs 'default'")
    other = sorted(set(data) - {"name", "extends", "description", "authorities"})
    if other:
        raise ValueError(
            f"{path.name} also sets {other}; only [authorities.*] can be stacked onto {GRID_FILE}"
        )
    authorities = data.get("authorities")
    if not isinstance(authorities, dict) or not authorities:
        raise ValueError(f"{path.name} has no [authorities.<id>] tables")
    return tuple(
        f"authorities.{authority}.{key}={_toml_value(value)}"
        for authority, table in authorities.items()
        for key, value in table.items()
    )


def _toml_value(value: object) -> str:
    """A TOML literal of a value read by tomllib (for an override)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise ValueError(f"cannot write {value!r} as a TOML override")


def cells() -> dict[Cell, Arm]:
    """The four arms, keyed (permitting, interconnection)."""
    return {
        (0, 0): BASELINE,
        (1, 0): Arm(
            "permitting",
            PERMITTING_FILE,
            (),
            "permitting reform: 180-day shot clock at five data-center authorities",
        ),
        (0, 1): Arm(
            "interconnection",
            GRID_FILE,
            (),
            "interconnection reform: first-ready queues, readiness screening, parallel studies "
            "and flexible connection in PJM Dominion and ERCOT",
        ),
        (1, 1): Arm(
            "both",
            GRID_FILE,
            shot_clock_overrides(),
            "both reforms: grid_reform.toml plus the shot clock",
        ),
    }


def outcomes(batch: BatchResults) -> pd.DataFrame:
    """Per replication and group (country, "all"): MW-weighted full-power day, MW-years lost,
    and the MW-weighted *first*-power day (to show what a flexible connection does).

    Phases not online by the horizon count at the horizon (lower bounds).
    """
    p, h = batch.projects, batch.horizon_days
    first = p.assign(online_day=p["first_power_day"]) if "first_power_day" in p else p
    keys = [REPLICATION, "group"]
    full = _by_country_and_all(mw_weighted_full_power_day, p, h, "full_power_day")
    lost = _by_country_and_all(mw_years_lost, p, h, "mw_years_lost")
    early = _by_country_and_all(mw_weighted_full_power_day, first, h, "full_power_day")
    return full.merge(lost, on=keys).merge(
        early.rename(columns={"full_power_day": "first_power_day"}), on=keys
    )


def _by_country_and_all(
    metric: Callable[..., pd.DataFrame], projects: pd.DataFrame, horizon_days: float, column: str
) -> pd.DataFrame:
    parts = [metric(projects, horizon_days, by=by) for by in ("country", None)]
    return pd.concat(parts, ignore_index=True)[[REPLICATION, "group", column]]


def _check_cells(
    frames: Mapping[Cell, pd.DataFrame], value: str, keys: str | Sequence[str]
) -> list[str]:
    key_list = [keys] if isinstance(keys, str) else list(keys)
    missing_cells = [c for c in CELLS if c not in frames]
    if missing_cells:
        raise ValueError(f"frames lacks cell(s) {missing_cells}; need {list(CELLS)}")
    for cell in CELLS:
        frame = frames[cell]
        missing = [c for c in [REPLICATION, *key_list, value] if c not in frame.columns]
        if missing:
            raise ValueError(f"cell {cell} lacks column(s) {missing}")
        if frame.duplicated([REPLICATION, *key_list]).any():
            raise ValueError(f"cell {cell} has several rows per replication and {key_list}")
        if not np.isfinite(frame[value].dropna().astype(float)).all():
            raise ValueError(f"cell {cell} has infinite {value}: censor at the horizon first")
    return key_list


def factorial_effects(
    frames: Mapping[Cell, pd.DataFrame],
    value: str,
    keys: str | Sequence[str] = "group",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Main effects and interaction of a 2x2 factorial, per replication, then t intervals.

    ``frames`` maps (permitting, interconnection) in {0, 1}² to a frame with
    one row per replication and key (columns ``replication``, ``keys``,
    ``value``). Common random numbers pair the cells by replication, so
    per replication r: permitting = ((y10 - y00) + (y11 - y01)) / 2,
    interconnection = ((y01 - y00) + (y11 - y10)) / 2, interaction =
    y11 - y10 - y01 + y00. Only replications present in all four cells count.
    Columns: keys, effect, n, mean, halfwidth, low, high, warning.
    """
    key_list = _check_cells(frames, value, keys)
    join = [REPLICATION, *key_list]
    wide = frames[CELLS[0]][[*join, value]].rename(columns={value: "y00"})
    for p, g in CELLS[1:]:
        part = frames[(p, g)][[*join, value]].rename(columns={value: f"y{p}{g}"})
        wide = wide.merge(part, on=join, how="inner")
    wide = wide.dropna()
    y00, y10, y01, y11 = (wide[c].astype(float) for c in ("y00", "y10", "y01", "y11"))
    wide = wide.assign(
        permitting=((y10 - y00) + (y11 - y01)) / 2,
        interconnection=((y01 - y00) + (y11 - y10)) / 2,
        interaction=y11 - y10 - y01 + y00,
    )
    long = wide.melt(id_vars=join, value_vars=list(EFFECTS), var_name="effect", value_name="v")
    out = stats.grouped_intervals(long, [*key_list, "effect"], "v", confidence).drop(columns="std")
    out["warning"] = [replication_warning(int(n), "mean") for n in out["n"]]
    for col in ("mean", "low", "high"):  # an effect of exactly nothing reads +0, not -0
        out[col] = out[col] + 0.0
    out["effect"] = pd.Categorical(out["effect"], categories=list(EFFECTS), ordered=True)
    out = out.sort_values([*key_list, "effect"], ignore_index=True)
    out["effect"] = out["effect"].astype(str)
    return out


def cell_means(
    frames: Mapping[Cell, pd.DataFrame],
    value: str,
    keys: str | Sequence[str] = "group",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Each cell's mean ± t half-width per key (columns permitting, interconnection, keys,
    n, mean, halfwidth, low, high): the points of the interaction plot."""
    key_list = _check_cells(frames, value, keys)
    parts = [
        stats.grouped_intervals(frames[cell], key_list, value, confidence)
        .drop(columns="std")
        .assign(permitting=cell[0], interconnection=cell[1])
        for cell in CELLS
    ]
    out = pd.concat(parts, ignore_index=True)
    first = ["permitting", "interconnection"]
    return out[[*first, *[c for c in out.columns if c not in first]]]


@styled
def interaction_plot(
    means: pd.DataFrame, *, ylabel: str, context: str, groups: Sequence[str], headline: str
) -> Figure:
    """One panel per group: the cell means (95 % CI) against interconnection reform off/on,
    one line per permitting setting. Parallel lines mean the reforms add up."""
    needed = ["permitting", "interconnection", "group", "mean", "halfwidth"]
    missing = [c for c in needed if c not in means.columns]
    if missing:
        raise ValueError(f"means lacks column(s) {missing}; use cell_means()")
    fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 4.2), squeeze=False)
    for ax, group in zip(axes[0], groups, strict=True):
        sub = means[means["group"] == group]
        for permitting, style, side in ((0, "--", "base"), (1, "-", "policy")):
            line = sub[sub["permitting"] == permitting].sort_values("interconnection")
            # nudged apart so overlapping intervals stay readable
            nudge = 0.03 if permitting else -0.03
            ax.errorbar(
                line["interconnection"].to_numpy(dtype=float) + nudge,
                line["mean"],
                yerr=np.nan_to_num(line["halfwidth"].to_numpy(dtype=float)),
                ls=style,
                marker="o",
                capsize=4,
                color=SCENARIO_COLOURS[side],
                label=f"permitting reform {'on' if permitting else 'off'}",
            )
        ax.set_xticks([0, 1], ["status quo", "reform"])
        ax.set_xlim(-0.3, 1.3)
        ax.set_xlabel("interconnection")
        ax.set_title(group)
        ax.legend(loc="best", fontsize="small")
    axes[0][0].set_ylabel(ylabel)
    set_title(fig, headline, context)
    fig.tight_layout()
    return fig


def _effect_phrase(row: pd.Series, unit: str, digits: int) -> str:
    text = interval_text(float(row["mean"]), float(row["halfwidth"]), unit, digits)
    if covers_zero(float(row["low"]), float(row["high"])):
        text += ", indistinguishable from zero"
    return text


def _interaction_reading(effects: Mapping[str, pd.Series]) -> str:
    """What the interaction says: both reforms together against the sum of each alone.

    The interaction is exactly (y11 - y00) - (y10 - y00) - (y01 - y00). The
    words "overlap" / "complement" are added only when both reforms help
    (both main effects negative: earlier, fewer MW-years lost).
    """
    row = effects["interaction"]
    low, high = float(row["low"]), float(row["high"])
    if covers_zero(low, high):
        return "the two reforms' effects add up, as far as the replications can tell"
    helps = all(float(effects[e]["mean"]) < 0 for e in ("permitting", "interconnection"))
    if low > 0:
        reading = "; the reforms partly overlap" if helps else ""
        return f"both together end higher (later / more lost) than the two effects summed{reading}"
    reading = "; the reforms complement each other" if helps else ""
    return f"both together end lower (earlier / less lost) than the two effects summed{reading}"


def _factorial_findings(effects: pd.DataFrame, value: str) -> list[str]:
    """Per group: the two main effects and the interaction of one outcome, in words."""
    unit, what = OUTCOMES[value]
    texts = []
    for group in GROUPS:
        rows = effects[(effects["outcome"] == value) & (effects["group"] == group)]
        if rows.empty:
            continue
        by = {str(r["effect"]): r for _, r in rows.iterrows()}
        warning = str(by["permitting"]["warning"] or "")
        texts.append(
            f"**{what}, {group}** (lower is better): main effect of permitting reform "
            f"{_effect_phrase(by['permitting'], unit, 0)}; of interconnection reform "
            f"{_effect_phrase(by['interconnection'], unit, 0)}; interaction "
            f"{_effect_phrase(by['interaction'], unit, 0)}: "
            f"{_interaction_reading(by)}." + (f" ({warning}.)" if warning else "")
        )
    return texts


def _cell_finding(means: pd.DataFrame, arms: Mapping[Cell, Arm], start: pd.Timestamp) -> str:
    parts = []
    for cell in CELLS:
        rows = means[
            (means["permitting"] == cell[0])
            & (means["interconnection"] == cell[1])
            & (means["group"] == "all")
        ]
        if rows.empty:
            continue
        row = rows.iloc[0]
        day, half = float(row["mean"]), float(row["halfwidth"])
        when = (start + pd.Timedelta(days=day)).date()
        parts.append(f"{arms[cell].label} {when} (± {half:.0f} d)")
    return (
        "**Cell means**, MW-weighted full-power date over all phases (95 % CI half-width): "
        + ", ".join(parts)
        + "."
    )


def _first_power_finding(base: pd.DataFrame, grid: pd.DataFrame, label: str) -> str:
    """Full power, not first power, is the measure: the flexible connection's first power."""
    full = paired(base, grid, "full_power_day", "group")
    first = paired(base, grid, "first_power_day", "group")
    parts = []
    for group in [g for g in ("US", "all") if g in set(full["group"])]:
        f = full[full["group"] == group].iloc[0]
        p = first[first["group"] == group].iloc[0]
        parts.append(
            f"{group}: first power {interval_text(float(p['diff_mean']), float(p['halfwidth']))}, "
            f"full power {interval_text(float(f['diff_mean']), float(f['halfwidth']))}"
        )
    return (
        "**Full power, not first power, is the measure** of every finding here: the "
        "interconnection reform's flexible connection can energise part of a phase before "
        f"all of it. Its effect ({label} - baseline, MW-weighted) measured at first power vs "
        "at full power: " + "; ".join(parts) + "."
    )


def run(options: StudyOptions) -> Study:
    study = Study(NAME, QUESTION, options, BASELINE)
    arms = cells()
    frames = {cell: outcomes(study.run(arm)) for cell, arm in arms.items()}
    start = study.run(BASELINE).start
    context = study.context()
    effects = pd.concat(
        [factorial_effects(frames, value, "group").assign(outcome=value) for value in OUTCOMES],
        ignore_index=True,
    )
    means = pd.concat(
        [cell_means(frames, value, "group").assign(outcome=value) for value in OUTCOMES],
        ignore_index=True,
    )
    means["arm"] = [
        arms[(int(p), int(g))].label
        for p, g in zip(means["permitting"], means["interconnection"], strict=True)
    ]
    per_rep = pd.concat([f.assign(arm=arms[c].label) for c, f in frames.items()], ignore_index=True)
    study.table(effects, "factorial_effects")
    study.table(means, "cell_means")
    study.table(per_rep, "outcomes_per_replication")
    study.table(study.effects([arms[c] for c in CELLS[1:]]), "effects")
    groups = [g for g in GROUPS if g in set(effects["group"])]
    for value, (unit, what) in OUTCOMES.items():
        ylabel = f"{what} ({'days after ' + str(start.date()) if unit == 'd' else unit})"
        study.figure(
            interaction_plot(
                means[means["outcome"] == value],
                ylabel=ylabel,
                context=context,
                groups=groups,
                headline=f"{what}: the four cells (95 % CI)",
            ),
            f"interaction_{value}",
        )
        bars = effects[effects["outcome"] == value].rename(
            columns={"effect": "arm", "mean": "diff_mean"}
        )
        fig = plots.arm_effects(
            bars.assign(metric=value),
            value,
            unit="days" if unit == "d" else unit,
            context=context,
            groups=groups,
            headline=f"{what}: main effects and interaction (negative = earlier / fewer)",
        )
        fig.axes[0].set_xlabel(
            f"effect on {what} ({'days' if unit == 'd' else unit}); bars: 95 % CI across "
            "replications"
        )
        study.figure(fig, f"effects_{value}")
    study.finding(_cell_finding(means[means["outcome"] == "full_power_day"], arms, start))
    for value in OUTCOMES:
        for text in _factorial_findings(effects, value):
            study.finding(text)
    study.finding(_first_power_finding(frames[(0, 0)], frames[(0, 1)], arms[(0, 1)].label))
    study.section("How to read this", _notes())
    return study


def _notes() -> list[str]:
    return [
        "- **Measure**: the MW-weighted full-power day of the named data-center phases (every "
        "MW installed and energised), by country and over all phases; a phase not online by "
        "the horizon counts at the horizon, so the days are lower bounds and effects involving "
        "stranded phases are understated. MW-years lost integrate the MW planned but not at "
        "full power.",
        "- **Effects** are computed per replication from the four cells run with the same "
        "seed (common random numbers), then averaged, with 95 % t intervals across "
        "replications: main effect = the average of a reform's effect with the other reform "
        "off and on; interaction = y11 - y10 - y01 + y00. Negative effects on days are "
        "earlier dates; a positive interaction means the two reforms overlap (each removes "
        "a wait the other would have left binding).",
        "- **Assumptions**: the permitting reform is a 180-day statutory shot clock at five "
        "authorities, enforced as written; the interconnection reform's readiness screening "
        "(30-180 days), parallel studies and 50 % flexible connection are those of "
        "grid_reform.toml, in PJM Dominion and ERCOT only; the both arm stacks the two files' "
        "settings with no further interaction assumed.",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    return study_main(NAME, __doc__, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
