"""Separation investment: what heavy-REE separation at Mountain Pass (the 2025 loan case), a
US Dy/Tb stockpile and doubled magnet recycling save under a Chinese magnet ban, in months of
MW-weighted full-power delay avoided and MW-years of data-center capacity saved.

Shocks (each the baseline of its own levers, paired on the replication seed):

* ``open``: a ban on Dy, Tb and NdFeB exports from 2027-01-01 with no end
  (``magnet_ban_2027.toml``);
* ``12m``: the same ban ending 2028-01-01.

Levers under each shock:

* ``heavy <capacity> t/yr from <start>``: the Mountain Pass heavy circuit
  (``separation_plants.mp_heavy_circuit``, default 3,000 t/yr feed, not
  pre-qualified) in the loan case: feed pre-qualified with Serra Verde, Nigerian
  monazite and Mountain Pass, at 6,000 or 12,000 t/yr of feed, project start
  2025-01-01 or 2026-07-01 (a 2x2 design; ``--capacities`` / ``--starts`` change it);
* ``stockpile``: the US Dy/Tb reserve of ``us_dy_tb_stockpile.toml`` (300 t Dy + 65 t Tb
  oxide, released on the ban);
* ``recycling x2``: US magnet-scrap collection (and its 2028 step) and the US magnet
  recycling plant both doubled.

Where a lever's interval includes zero the findings say which constraint binds instead:
the MW-weighted tally of ``Comparison.phase_differences()["binding_constraint"]``.

Usage::

    python -m experiments.separation_investment --reps 20 --out runs/separation_investment
    python -m experiments.separation_investment --shocks open --capacities 6000 ...
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from paxsim import plots
from paxsim.models.results.batch import BatchResults
from paxsim.models.results.comparison import Comparison
from paxsim.models.results.metrics import mw_weighted_full_power_day, paired
from paxsim.models.scenario import Scenario
from paxsim.study import (
    Arm,
    Study,
    StudyOptions,
    covers_zero,
    effect_of,
    interval_text,
    run_study_main,
    study_parser,
)

NAME = "separation_investment"
QUESTION = (
    "Heavy-REE separation at Mountain Pass (the 2025 loan case), at several start dates and "
    "capacities, against a strategic stockpile and recycling, under the ban shocks: how many "
    "months of delay and MW-years does each avoid, and which constraint binds where a lever "
    "saves nothing?"
)
BAN_FILE = "magnet_ban_2027.toml"
STOCKPILE_FILE = "us_dy_tb_stockpile.toml"
BAN_START = "2027-01-01"
#: The shocks: key -> end of the ban (None: no end).
SHOCK_ENDS: dict[str, str | None] = {"open": None, "12m": "2028-01-01"}
#: The loan case's heavy-circuit design (feed t REO per year; project start dates).
CAPACITIES_T_PER_YEAR = (6000, 12000)
PROJECT_STARTS = ("2025-01-01", "2026-07-01")
HEAVY_CIRCUIT = "separation_plants.mp_heavy_circuit"
#: Feed the loan pre-qualifies (as experiments/scenarios/heavy_ree_acceleration.toml).
LOAN_QUALIFIED = ("serra_verde", "ng_monazite", "mountain_pass")
SCRAP_MINE, RECYCLER = "us_magnet_scrap", "us_magnet_recycling"
#: Mean days per month, to turn days of delay into months.
DAYS_PER_MONTH = 30.44
GROUPS = ("US", "JP", "all")
#: The "avoided" metrics (sign flipped so that a lever that helps is positive).
MONTHS_AVOIDED, MW_YEARS_SAVED = "months_delay_avoided", "mw_years_saved"
GW_2030 = "gw_online_2030"
SAVING_WORDS = {MONTHS_AVOIDED: "months of delay avoided", MW_YEARS_SAVED: "MW-years saved"}
_MOVED = "moved by the lever"


@dataclass(frozen=True)
class Lever:
    """A policy arm under one shock, with the design variables the figures read."""

    arm: Arm
    shock: str
    lever: str
    capacity_t_per_year: float = math.nan
    project_start: str = ""


def _shock_end(shock: str) -> str | None:
    if shock not in SHOCK_ENDS:
        raise ValueError(f"unknown shock {shock!r}; choose from {sorted(SHOCK_ENDS)}")
    return SHOCK_ENDS[shock]


def shock_arm(shock: str) -> Arm:
    """The ban shock ``shock`` ("open" or "12m"): the baseline of its levers."""
    end = _shock_end(shock)
    if end is None:
        return Arm(f"ban {shock}", BAN_FILE, (), f"Dy/Tb/NdFeB ban from {BAN_START}, no end")
    return Arm(
        f"ban {shock}",
        BAN_FILE,
        (f"export_controls.cn_ban_2027.end={end}",),
        f"Dy/Tb/NdFeB ban from {BAN_START} to {end}",
    )


BASELINE = shock_arm("open")


def heavy_circuit_overrides(capacity_t_per_year: float, project_start: str) -> tuple[str, ...]:
    """The loan case: the heavy circuit at ``capacity`` t/yr feed from ``project_start``,
    its feed pre-qualified (the loan's offtake skips the months of qualification)."""
    if not math.isfinite(capacity_t_per_year) or capacity_t_per_year <= 0:
        raise ValueError(f"heavy-circuit capacity must be > 0 t/yr, got {capacity_t_per_year!r}")
    start = _iso_date(project_start, "heavy-circuit project start")
    qualified = json.dumps(list(LOAN_QUALIFIED))
    return (
        f"{HEAVY_CIRCUIT}.capacity_t_per_year={capacity_t_per_year:g}",
        f"{HEAVY_CIRCUIT}.project_start={start}",
        f"{HEAVY_CIRCUIT}.qualified={qualified}",
    )


def recycling_overrides(scenario: Scenario) -> tuple[str, ...]:
    """Magnet-scrap collection (and each of its capacity steps) and the recycler, doubled.

    Read from the shock's resolved scenario rather than typed in, so the lever
    stays "twice what the world has" if the data (or a ``--set``) change.
    """
    if SCRAP_MINE not in scenario.mines or RECYCLER not in scenario.separation_plants:
        raise ValueError(
            f"the recycling lever needs mines.{SCRAP_MINE} and separation_plants.{RECYCLER} "
            f"in scenario {scenario.name!r}"
        )
    mine = scenario.mines[SCRAP_MINE]
    steps = ", ".join(
        f"{{ date = {c.date.isoformat()}, capacity = {2 * c.capacity:g}, "
        f"source = {json.dumps('assumption: doubled (separation_investment); was: ' + c.source)} }}"
        for c in mine.capacity_changes
    )
    recycler = scenario.separation_plants[RECYCLER]
    return (
        f"mines.{SCRAP_MINE}.capacity_t_per_year={2 * mine.capacity_t_per_year:g}",
        f"mines.{SCRAP_MINE}.capacity_changes=[{steps}]",
        f"separation_plants.{RECYCLER}.capacity_t_per_year={2 * recycler.capacity_t_per_year:g}",
    )


def levers(
    study: Study,
    shock: str,
    capacities: Sequence[float] = CAPACITIES_T_PER_YEAR,
    starts: Sequence[str] = PROJECT_STARTS,
) -> list[Lever]:
    """The levers under one shock: the heavy-circuit design, then stockpile and recycling."""
    base = shock_arm(shock)
    out = [
        Lever(
            base.with_overrides(
                *heavy_circuit_overrides(capacity, start),
                label=f"{shock}: heavy {capacity:g} t/yr from {start[:7]}",
                description=f"Mountain Pass heavy circuit, {capacity:g} t/yr feed, "
                f"pre-qualified, project start {start}",
            ),
            shock,
            "heavy circuit",
            float(capacity),
            start,
        )
        for start in starts
        for capacity in capacities
    ]
    out.append(
        Lever(
            Arm(
                f"{shock}: stockpile",
                STOCKPILE_FILE,
                base.overrides,
                "US reserve of 300 t Dy + 65 t Tb oxide, released on the ban",
            ),
            shock,
            "stockpile",
        )
    )
    out.append(
        Lever(
            base.with_overrides(
                *recycling_overrides(study.scenario(base)),
                label=f"{shock}: recycling x2",
                description="US magnet-scrap collection and magnet recycling doubled",
            ),
            shock,
            "recycling x2",
        )
    )
    return out


def avoided(effects: pd.DataFrame) -> pd.DataFrame:
    """The effects as savings: months of delay avoided and MW-years saved (positive = helps).

    ``months_delay_avoided`` = -(policy - shock) MW-weighted full-power delay /
    30.44 days; ``mw_years_saved`` = -(policy - shock) MW-years lost. The
    interval flips with the sign (low <- -high). Other columns of the effects
    frame (arm, group, design variables) are kept; base/policy means and
    quantiles are left out, since they are not savings.
    """
    needed = ["arm", "metric", "group", "n", "diff_mean", "halfwidth", "low", "high"]
    missing = [c for c in needed if c not in effects.columns]
    if missing:
        raise ValueError(f"effects lacks column(s) {missing}; pass Study.effects() output")
    dropped = [
        c
        for c in effects.columns
        if c.startswith(("base_", "policy_", "diff_p", "variance_", "censored_"))
        or c in ("metric", "unit", "note", "quantile_warning", "why_withheld")
    ]
    frames = []
    for metric, name, unit, scale in (
        ("mw_weighted_delay_days", MONTHS_AVOIDED, "months", DAYS_PER_MONTH),
        ("mw_years_lost", MW_YEARS_SAVED, "MW·yr", 1.0),
    ):
        rows = effects[effects["metric"] == metric]
        out = rows.drop(columns=dropped).assign(
            metric=name,
            unit=unit,
            # + 0.0: a saving of exactly nothing reads "+0", not "-0"
            diff_mean=-rows["diff_mean"] / scale + 0.0,
            halfwidth=rows["halfwidth"] / scale,
            low=-rows["high"] / scale + 0.0,
            high=-rows["low"] / scale + 0.0,
        )
        frames.append(out)
    return pd.concat(frames, ignore_index=True)


def includes_zero(row: pd.Series) -> bool:
    """True when an effect's 95 % interval includes 0 (or there is no interval)."""
    return covers_zero(float(row["low"]), float(row["high"]))


#: Critical-path causes (models/phase_outcome.py) by the constraint family they belong to.
CAUSE_FAMILIES: dict[str, str] = {
    **dict.fromkeys(("permit_queue", "permit_review", "litigation"), "permits"),
    **dict.fromkeys(
        (
            "interconnection_queue",
            "interconnection_study",
            "interconnection_restudy",
            "grid_capacity_queue",
            "network_upgrade",
            "transformer_delivery",
            "grid_energization",
            "colocated_generation",
        ),
        "grid",
    ),
    "construction": "construction",
    **dict.fromkeys(
        (
            "magnet_shortage",
            "export_licence",
            "export_quota",
            "trusted_audit",
            "transit",
            "equipment_manufacture",
        ),
        "magnets and equipment",
    ),
    **dict.fromkeys(("accelerator_shortage", "accelerator_install"), "accelerators"),
    **dict.fromkeys(("plan_optimism", "unused_float"), "none (optimistic plan)"),
}
#: What a phase not online by the horizon was waiting in (its state) -> constraint family.
STATE_FAMILIES: dict[str, str] = {
    "permits": "permits",
    "construction": "construction",
    "equipment": "magnets and equipment",
    "accelerators": "accelerators",
    "install": "accelerators",
    "grid": "grid",
    "not started": "not started",
}
_NOT_DUE = "not due by the horizon"


def binding_tally(comparison: Comparison) -> pd.DataFrame:
    """What held each phase the lever did not move, MW-weighted, per country and "all".

    Reads ``phase_differences()["binding_constraint"]`` and, for a phase not
    online by the horizon, what it most often waited on in the lever's run
    (``held_back_by``); :func:`tally_constraints` does the counting.
    """
    diffs = comparison.phase_differences()
    projects = comparison.policy.projects
    first = projects.drop_duplicates("phase_id").set_index("phase_id")
    phases = diffs[["phase_id", "binding_constraint"]].join(
        first[["country", "it_mw", "planned_day"]], on="phase_id"
    )
    phases["waits_on"] = [_waits_on(projects, str(p)) for p in phases["phase_id"]]
    return tally_constraints(phases, comparison.policy.horizon_days)


def tally_constraints(phases: pd.DataFrame, horizon_days: float) -> pd.DataFrame:
    """Per group (country and "all") and constraint: the MW and share of MW it held.

    ``phases`` has one row per phase: phase_id, country, it_mw, planned_day,
    binding_constraint ("" = the lever moved it; "critical path: <cause>";
    "not online by the horizon ..."; "no constraint: ..."; "on plan ...") and
    waits_on (the state a stranded phase waited in). A stranded phase planned
    after the horizon was not due, so nothing held it: it is "not due by the
    horizon". Columns: group, family (grid, permits, ...), constraint
    (the detail), it_mw, mw_share (of the group's MW).
    """
    needed = ["country", "it_mw", "planned_day", "binding_constraint", "waits_on"]
    missing = [c for c in needed if c not in phases.columns]
    if missing:
        raise ValueError(f"phases lacks column(s) {missing}")
    labels = [
        _constraint(str(b), str(w), float(d) > horizon_days)
        for b, w, d in zip(
            phases["binding_constraint"], phases["waits_on"], phases["planned_day"], strict=True
        )
    ]
    frame = phases.assign(
        family=[family for family, _ in labels], constraint=[detail for _, detail in labels]
    )
    both = pd.concat([frame.assign(group=frame["country"]), frame.assign(group="all")])
    out = both.groupby(["group", "family", "constraint"])[["it_mw"]].sum().reset_index()
    out["mw_share"] = out["it_mw"] / out.groupby("group")["it_mw"].transform("sum")
    return out.sort_values(["group", "mw_share"], ascending=[True, False], ignore_index=True)


def _constraint(binding: str, waits_on: str, planned_after_horizon: bool) -> tuple[str, str]:
    """(family, detail) of one phase's binding constraint."""
    if not binding:
        return _MOVED, _MOVED
    if binding.startswith("not online"):
        if planned_after_horizon:
            return _NOT_DUE, _NOT_DUE
        family = STATE_FAMILIES.get(waits_on, waits_on or "unknown")
        return family, f"not online by the horizon (waiting in {waits_on or 'unknown'})"
    if binding.startswith("critical path: "):
        cause = binding.removeprefix("critical path: ")
        return CAUSE_FAMILIES.get(cause, cause), cause
    if binding.startswith("no constraint"):
        return CAUSE_FAMILIES["plan_optimism"], binding
    return "none (on plan)", binding


def _waits_on(projects: pd.DataFrame, phase: str) -> str:
    """The most frequent state a phase waited in over the replications it was stranded."""
    if "held_back_by" not in projects.columns:
        return ""
    rows = projects[(projects["phase_id"] == phase) & projects["online_day"].isna()]
    if rows.empty:
        return ""
    text = str(rows["held_back_by"].mode().iloc[0])
    return text.removeprefix("not online by horizon (").removesuffix(")")


def binding_text(tally: pd.DataFrame, group: str, top: int = 2) -> str:
    """``grid on 78 % of MW, permits on 12 % of MW``: the largest constraint families of a
    group, MW-weighted ("moved by the lever" included, so the shares are of all MW)."""
    rows = tally[tally["group"] == group].groupby("family")["mw_share"].sum().nlargest(top)
    if rows.empty:
        return "no phases"
    return ", ".join(f"{family} on {100 * share:.0f} % of MW" for family, share in rows.items())


def _iso_date(text: str, what: str) -> str:
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise ValueError(f"{what} must be a date YYYY-MM-DD, got {text!r}") from None


def _design(options: StudyOptions) -> tuple[list[str], list[float], list[str]]:
    """The shocks, capacities and start dates asked for on the command line, checked."""
    extra = options.extra
    shocks = _split(extra.get("shocks"), list(SHOCK_ENDS))
    for shock in shocks:
        _shock_end(shock)
    capacities = []
    for text in _split(extra.get("capacities"), [str(c) for c in CAPACITIES_T_PER_YEAR]):
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"--capacities takes numbers (t/yr feed), got {text!r}") from None
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"--capacities must be > 0 t/yr, got {text!r}")
        capacities.append(value)
    starts = [_iso_date(s, "--starts") for s in _split(extra.get("starts"), list(PROJECT_STARTS))]
    for name, values in (("--shocks", shocks), ("--capacities", capacities), ("--starts", starts)):
        if len(set(values)) != len(values):
            raise ValueError(f"{name} lists a value twice: {values}")
    return shocks, capacities, starts


def _split(text: object, default: list[str]) -> list[str]:
    if text is None:
        return default
    values = [v.strip() for v in str(text).split(",") if v.strip()]
    if not values:
        raise ValueError(f"an empty list where values were expected: {text!r}")
    return values


def _design_columns(frame: pd.DataFrame, policies: Sequence[Lever]) -> pd.DataFrame:
    """Add shock, lever, capacity and start date (and a figure series) to an effects frame."""
    info = pd.DataFrame(
        {
            "arm": [p.arm.label for p in policies],
            "shock": [p.shock for p in policies],
            "lever": [p.lever for p in policies],
            "capacity_t_per_year": [p.capacity_t_per_year for p in policies],
            "project_start": [p.project_start for p in policies],
            "series": [f"{p.shock} ban, start {p.project_start[:7]}" for p in policies],
        }
    )
    return frame.merge(info, on="arm", how="left")


def _lever_finding(
    lever: Lever, effects: pd.DataFrame, saved: pd.DataFrame, tally: pd.DataFrame
) -> str:
    """One lever under one shock: months avoided and MW-years saved by group, GW in 2030,
    and, where the saving is indistinguishable from zero, what binds instead."""
    label = lever.arm.label
    warnings: list[str] = []
    parts = []
    for g in GROUPS:
        if not _has(saved, label, MONTHS_AVOIDED, g):
            continue
        months = _interval(saved, label, MONTHS_AVOIDED, g, 1, warnings)
        mw_years = _interval(saved, label, MW_YEARS_SAVED, g, 0, warnings)
        parts.append(f"{g} {months} of delay avoided and {mw_years} saved")
    text = f"**{label}** (against the {lever.shock} ban): " + "; ".join(parts) + "."
    gw_groups = [g for g in GROUPS if _has(effects, label, GW_2030, g)]
    if gw_groups and int(effect_of(effects, label, GW_2030, gw_groups[0])["n"]) > 0:
        gw = ", ".join(
            f"{g} {_interval(effects, label, GW_2030, g, 2, warnings)}" for g in gw_groups
        )
        text += f" GW online at end-2030: {gw}."
    else:
        text += " GW online at end-2030: not measured (2030 lies beyond the horizon)."
    flat = [
        g
        for g in GROUPS
        if _has(saved, label, MONTHS_AVOIDED, g)
        and includes_zero(effect_of(saved, label, MONTHS_AVOIDED, g))
    ]
    if flat:
        binds = "; ".join(f"{g}: {binding_text(tally, g)}" for g in flat)
        text += (
            f" The delay avoided is indistinguishable from zero for {', '.join(flat)}; what "
            f"binds there instead (MW-weighted over phases): {binds}."
        )
    if warnings:
        text += f" ({'; '.join(dict.fromkeys(warnings))}.)"
    return text


def _interval(
    frame: pd.DataFrame, arm: str, metric: str, group: str, digits: int, warnings: list[str]
) -> str:
    """An effect as "+1.2 months (95 % CI ...)"; its warning goes to ``warnings`` (said once)."""
    row = effect_of(frame, arm, metric, group)
    if row.get("warning"):
        warnings.append(str(row["warning"]))
    return interval_text(float(row["diff_mean"]), float(row["halfwidth"]), str(row["unit"]), digits)


def _has(frame: pd.DataFrame, arm: str, metric: str, group: str) -> bool:
    return bool(
        ((frame["arm"] == arm) & (frame["metric"] == metric) & (frame["group"] == group)).any()
    )


def start_date_cost(early: BatchResults, late: BatchResults) -> pd.DataFrame:
    """MW-weighted full-power delay of ``late`` minus ``early``, paired, in days, by country
    and "all": what starting the same circuit later costs (positive = more delay)."""
    sides = [
        pd.concat(
            [
                mw_weighted_full_power_day(b.projects, b.horizon_days, by="country"),
                mw_weighted_full_power_day(b.projects, b.horizon_days, by=None),
            ],
            ignore_index=True,
        )
        for b in (early, late)
    ]
    return paired(sides[0], sides[1], "mw_weighted_delay_days", "group")


def _start_findings(study: Study, policies: Sequence[Lever], starts: Sequence[str]) -> list[str]:
    """Per shock and capacity: what starting later than the first start date costs."""
    heavy = {
        (p.shock, p.capacity_t_per_year, p.project_start): p
        for p in policies
        if p.lever == "heavy circuit"
    }
    texts = []
    for (shock, capacity, start), lever in heavy.items():
        early = heavy.get((shock, capacity, starts[0]))
        if early is None or start == starts[0]:
            continue
        cost = start_date_cost(study.run(early.arm), study.run(lever.arm))
        row = cost[cost["group"] == "all"].iloc[0]
        text = interval_text(
            float(row["diff_mean"]) / DAYS_PER_MONTH,
            float(row["halfwidth"]) / DAYS_PER_MONTH,
            "months",
            1,
        )
        warning = f" [{row['warning']}]" if row["warning"] else ""
        texts.append(
            f"**Start date**, {shock} ban, {capacity:g} t/yr: starting on {start} instead of "
            f"{starts[0]} changes the MW-weighted full-power delay (all countries) by "
            f"{text}{warning} (positive: the later start saves less)."
        )
    return texts


def run(options: StudyOptions) -> Study:
    shocks, capacities, starts = _design(options)
    study = Study(NAME, QUESTION, options, shock_arm(shocks[0]))
    context = study.context()
    effect_frames, tallies, policies = [], [], []
    for shock in shocks:
        base = shock_arm(shock)
        own = levers(study, shock, capacities, starts)
        policies += own
        effect_frames.append(study.effects([p.arm for p in own], base=base))
        for lever in own:
            tally = binding_tally(study.compare(lever.arm, base=base))
            tallies.append(tally.assign(arm=lever.arm.label))
    effects = _design_columns(pd.concat(effect_frames, ignore_index=True), policies)
    saved = avoided(effects)
    tally = pd.concat(tallies, ignore_index=True)
    study.table(effects, "effects")
    study.table(saved, "savings")
    study.table(tally, "binding_constraints")
    # The shocks' own levels (censored shares, dates); the levers' are in effects' policy_mean.
    study.table(study.headlines([shock_arm(s) for s in shocks]), "headlines")
    groups = [g for g in ("US", "JP") if g in set(saved["group"])]
    heavy = saved[saved["lever"] == "heavy circuit"]
    for metric, unit in ((MONTHS_AVOIDED, "months"), (MW_YEARS_SAVED, "MW·yr")):
        words = SAVING_WORDS[metric]
        bars = plots.arm_effects(
            saved,
            metric,
            unit=unit,
            context=context,
            groups=groups,
            headline=f"{words.capitalize()} against the ban (positive = the lever helps)",
        )
        bars.axes[0].set_xlabel(f"{words}: -(lever - ban) ({unit}); bars: 95 % CI")
        study.figure(bars, f"effect_{metric}")
        grid = plots.effect_grid(
            heavy,
            "capacity_t_per_year",
            metric,
            unit=unit,
            context=context,
            series="series",
            group="all",
            headline=f"Heavy circuit (loan case): {words} by feed capacity, all countries",
        )
        grid.axes[0].set_xlabel("heavy-circuit feed capacity (t REO / yr)")
        grid.axes[0].set_ylabel(f"{words} ({unit}); band: 95 % CI")
        study.figure(grid, f"grid_{metric}")
    if "open" in shocks:
        study.figure(plots.delay_attribution(study.run(shock_arm("open"))), "attribution_ban_open")
    for lever in policies:
        lever_tally = tally[tally["arm"] == lever.arm.label]
        study.finding(_lever_finding(lever, effects, saved, lever_tally))
    for text in _start_findings(study, policies, starts):
        study.finding(text)
    study.section("How to read this", _notes())
    return study


def _notes() -> list[str]:
    return [
        "- **Months of delay avoided** = -(lever - shock) MW-weighted full-power delay / "
        f"{DAYS_PER_MONTH} days; **MW-years saved** = -(lever - shock) MW-years lost. Positive "
        "means the lever helps. Both are paired on the replication (common random numbers) "
        "against the shock the lever sits under, never against a world without a ban.",
        "- Phases not online by the horizon count at the horizon, so a delay avoided can be "
        "understated when the shock strands phases past it (see the censored share in "
        "tables/headlines).",
        "- **What binds**: where the months of delay avoided have an interval that includes "
        "zero (for a country or all phases), each data-center phase "
        "the lever did not move (its full-power day interval includes zero) is labelled with "
        "its largest critical-path cause in the lever's run, or with what it waited in when "
        "it was not online by the horizon (a phase planned after the horizon is 'not due'); "
        "causes are grouped into families (grid: queues, studies, upgrades, transformers, "
        "energisation; permits: queues, review, litigation; magnets and equipment; "
        "accelerators; construction) and summed by the phases' IT MW. Phases the lever did "
        "move count as 'moved by the lever'. tables/binding_constraints has the detail.",
        "- **Assumptions**: the loan case pre-qualifies the heavy circuit's feed (Serra Verde, "
        "Nigerian monazite, Mountain Pass), which removes the months of qualification; its "
        "capacities are feed t REO/yr and the build time is the default one (a later "
        "project start shifts it); the stockpile's size and release rate are those of "
        "us_dy_tb_stockpile.toml (a policy assumption); recycling doubles both collection "
        "and plant capacity, which assumes the scrap exists; the 12-month ban's end is a "
        "stress-case assumption.",
    ]


def _parser() -> argparse.ArgumentParser:
    parser = study_parser(NAME, __doc__ or "", default_reps=20)
    parser.add_argument("--shocks", default=None, help="comma list of shocks (default: open,12m)")
    parser.add_argument(
        "--capacities",
        default=None,
        help="comma list of heavy-circuit feed capacities, t/yr (default: 6000,12000)",
    )
    parser.add_argument(
        "--starts",
        default=None,
        help="comma list of heavy-circuit project starts (default: 2025-01-01,2026-07-01)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_study_main(_parser(), run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
