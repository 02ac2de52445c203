"""Watt-bit Japan: Japan's data-centre demand against grid build rates, with and without
coordinated power-and-telecom planning. When does the grid bind, and how much does
coordination bring forward?

Demand cases (Japanese grid regions' ``datacenter_pipeline`` request volumes):

* ``default_demand``: the default world's pipelines (TEPCO's formal applications, ~2.9 GW
  of requests a year across Tokyo, Chiba, Kansai and Hokkaido);
* ``forecast``: every Japanese pipeline's request volume scaled by
  :data:`FORECAST_REQUEST_SCALE`, chosen so that Japan's data centres use ~61.5 TWh in 2034
  *when the grid never binds* (the mid-point of Wood Mackenzie's 57-66 TWh, from 19 TWh in
  2024). The forecast is a hold-out of the model's validation; here it is only a demand
  *scenario*, so nothing in this study validates the model against it.

Grid build rates: ``slow`` / default / ``fast`` = every Japanese network upgrade takes twice
/ once / half its time (``upgrade_days``); with the crews unchanged, a region's most upgrade
MW a year halves / doubles with it. (Doubling the crews alone changed nothing in a
two-replication check at forecast demand: the crew limit did not bind.) Coordination
``+coord`` = ``watt_bit_japan.toml``: dated upgrades started 2025-04-01 and reserved for
designated sites (Inzai, Ishikari).
The grid-unconstrained reference ``*_unconstrained`` gives every Japanese region
:data:`UNCONSTRAINED_SPARE_MW` of spare capacity, so no request waits for an upgrade
(studies, connection works, permits and supply still take their time).

Arms (each is one batch; all paired on the replication seed): ``default_demand`` (the
baseline: the default world), ``default_demand+coord``, ``default_demand_unconstrained``,
``forecast``, ``forecast+coord``, ``forecast_slow_grid``, ``forecast_slow_grid+coord``,
``forecast_fast_grid``, ``forecast_fast_grid+coord``, ``forecast_unconstrained``.

Usage::

    python -m experiments.watt_bit_japan --reps 20 --workers 2 --out runs/watt_bit_japan
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from paxsim import plots
from paxsim.models.results.batch import BatchResults
from paxsim.models.results.metrics import paired, summarise
from paxsim.models.scenario import Dist, Scenario
from paxsim.plots.style import legend_outside, set_title, styled
from paxsim.sim.replications import REPLICATION
from paxsim.study import (
    Arm,
    Study,
    StudyOptions,
    difference_text,
    interval_text,
    level_text,
    number,
    row_where,
    study_main,
)
from paxsim.study import effect_text_noting_zero as _effect

NAME = "watt_bit_japan"
QUESTION = (
    "Japan's data-centre demand path, 19 TWh (2024) -> 57-66 TWh (2034), against grid build "
    "rates, with and without coordinated power-and-telecom planning (dated, pre-built "
    "capacity for designated sites): when does the grid bind, and how much does coordination "
    "bring forward?"
)
COUNTRY = "JP"
#: Wood Mackenzie: Japan's data centres used 19 TWh in 2024 (an input: the installed base).
TWH_2024 = 19.0
#: Wood Mackenzie's 2034 forecast (a hold-out of the validation; a demand scenario here).
TWH_2034_RANGE = (57.0, 66.0)
TWH_2034 = sum(TWH_2034_RANGE) / 2.0
#: Multiplier on every Japanese pipeline's request volume in the forecast case. Calibrated
#: (2026-12, seeds 0-3, the grid-unconstrained arm): 0.37 gave 57.3 TWh in 2034 and 0.45 gave
#: 69.2 TWh (means); linear interpolation to 61.5 TWh gives 0.40. The study reports the
#: value it reaches (finding "demand scenario") so a drift in the model shows.
FORECAST_REQUEST_SCALE = 0.40
#: Spare MW per region in the grid-unconstrained reference: ~10x Japan's data-centre load.
UNCONSTRAINED_SPARE_MW = 100_000.0
#: Grid build-rate multipliers: network upgrades take 1/factor of their time.
BUILD_RATES: dict[str, float] = {"slow": 0.5, "default": 1.0, "fast": 2.0}
COORDINATION_FILE = "watt_bit_japan.toml"
#: Years the effects are reported for (those inside the run).
REPORT_YEARS = (2028, 2030, 2034)

Demand = Literal["default", "forecast"]
Build = Literal["slow", "default", "fast", "unconstrained"]


@dataclass(frozen=True)
class Design:
    """One arm's position in the design: demand case, grid build rate, coordination."""

    demand: Demand
    build: Build
    coordination: bool = False

    @property
    def label(self) -> str:
        demand = {"default": "default_demand", "forecast": "forecast"}[self.demand]
        build = {
            "default": "",
            "slow": "_slow_grid",
            "fast": "_fast_grid",
            "unconstrained": "_unconstrained",
        }[self.build]
        return f"{demand}{build}{'+coord' if self.coordination else ''}"

    def describe(self) -> str:
        demand = {
            "default": "default JP pipelines",
            "forecast": f"forecast demand (JP request volumes x {FORECAST_REQUEST_SCALE:g})",
        }[self.demand]
        build = {
            "default": "default grid build rate",
            "slow": "slow grid build (JP network upgrades take twice as long)",
            "fast": "fast grid build (JP network upgrades take half as long)",
            "unconstrained": f"grid-unconstrained reference ({UNCONSTRAINED_SPARE_MW:,.0f} MW "
            "spare in every JP region)",
        }[self.build]
        coordination = (
            "watt-bit coordination (reserved, dated upgrades for designated sites)"
            if self.coordination
            else "no coordination"
        )
        return f"{demand}; {build}; {coordination}"


#: The design, in the order tables and figures read. The first is the baseline.
DESIGNS: tuple[Design, ...] = (
    Design("default", "default"),
    Design("default", "default", True),
    Design("default", "unconstrained"),
    Design("forecast", "default"),
    Design("forecast", "default", True),
    Design("forecast", "slow"),
    Design("forecast", "slow", True),
    Design("forecast", "fast"),
    Design("forecast", "fast", True),
    Design("forecast", "unconstrained"),
)
BASELINE = Arm(DESIGNS[0].label, None, (), DESIGNS[0].describe() + " (the default world)")


# ------------------------------------------------------------------------------ overrides
def country_regions(scenario: Scenario, country: str = COUNTRY) -> list[str]:
    """The enabled grid regions of ``country`` (ValueError if it has none)."""
    regions = [r for r, spec in scenario.grid.items() if spec.enabled and spec.country == country]
    if not regions:
        raise ValueError(f"the scenario has no enabled grid region in {country!r}")
    return sorted(regions)


def demand_overrides(scenario: Scenario, scale: float, country: str = COUNTRY) -> tuple[str, ...]:
    """``--set`` values that multiply every ``country`` pipeline's request volume by ``scale``.

    Each demand step keeps its date and unit (GW or TWh a year); only the volume changes,
    so the path's shape is the default world's and its level is the scenario's.
    """
    if not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"the demand scale must be a positive number, got {scale!r}")
    source = json.dumps(f"{NAME} scenario: {scale:g} x default")
    out = []
    for region in country_regions(scenario, country):
        pipeline = scenario.grid[region].datacenter_pipeline
        if pipeline is None:
            continue
        steps = []
        for step in pipeline.requests:
            unit, value = (
                ("gw_per_year", step.gw_per_year)
                if step.gw_per_year is not None
                else ("twh_per_year", step.twh_per_year)
            )
            assert value is not None  # DemandStep guarantees exactly one unit
            steps.append(
                f"{{ start = {step.start.isoformat()}, {unit} = {value * scale:.6g}, "
                f"source = {source} }}"
            )
        out.append(f"grid.{region}.datacenter_pipeline.requests=[{', '.join(steps)}]")
    if not out:
        raise ValueError(f"no grid region in {country!r} has a datacenter_pipeline to scale")
    return tuple(out)


def scaled_dist_toml(dist: Dist, factor: float) -> str:
    """A distribution of durations with every value multiplied by ``factor``, as TOML.

    Every distribution paxsim knows is scaled by its numeric parameters (fixed value,
    bounds, mode, median and p90, mean, samples), so the result keeps the shape: a
    lognormal keeps its p90/median spread. Empirical weights are not values and stay.
    """
    if not math.isfinite(factor) or factor <= 0:
        raise ValueError(f"the scale factor must be a positive number, got {factor!r}")
    fields = dist.model_dump(by_alias=True)
    parts = []
    for key, value in fields.items():
        if key == "dist" or key == "weights" or value is None:
            text = json.dumps(value) if value is not None else None
        elif isinstance(value, list):
            text = "[" + ", ".join(f"{float(v) * factor:.6g}" for v in value) + "]"
        else:
            text = f"{float(value) * factor:.6g}"
        if text is not None:
            parts.append(f"{key} = {text}")
    return "{ " + ", ".join(parts) + " }"


def build_rate_overrides(
    scenario: Scenario, factor: float, country: str = COUNTRY
) -> tuple[str, ...]:
    """``--set`` values that make ``country``'s network upgrades ``factor`` times as fast.

    Each region's ``upgrade_days`` is divided by ``factor``; the crew limit stays, so a
    region's most upgrade MW a year (crews x upgrade_mw / upgrade time) scales by
    ``factor`` too: the build *rate* changes, both in latency and in throughput.
    """
    if not math.isfinite(factor) or factor <= 0:
        raise ValueError(f"the build-rate factor must be a positive number, got {factor!r}")
    if factor == 1.0:
        return ()
    return tuple(
        f"grid.{region}.upgrade_days="
        f"{scaled_dist_toml(scenario.grid[region].upgrade_days, 1.0 / factor)}"
        for region in country_regions(scenario, country)
    )


def unconstrained_overrides(scenario: Scenario, country: str = COUNTRY) -> tuple[str, ...]:
    """``--set`` values that give every ``country`` region effectively unlimited spare MW."""
    return tuple(
        f"grid.{r}.spare_mw={UNCONSTRAINED_SPARE_MW:.0f}"
        for r in country_regions(scenario, country)
    )


def arm_for(design: Design, base: Scenario) -> Arm:
    """The arm of one design point; overrides are derived from the baseline world ``base``."""
    overrides: tuple[str, ...] = ()
    if design.demand == "forecast":
        overrides += demand_overrides(base, FORECAST_REQUEST_SCALE)
    if design.build == "unconstrained":
        if design.coordination:
            raise ValueError("coordination is meaningless on the grid-unconstrained reference")
        overrides += unconstrained_overrides(base)
    else:
        overrides += build_rate_overrides(base, BUILD_RATES[design.build])
    source = COORDINATION_FILE if design.coordination else None
    return Arm(design.label, source, overrides, design.describe())


def arms(base: Scenario) -> list[Arm]:
    """Every arm after the baseline, in :data:`DESIGNS` order."""
    return [arm_for(design, base) for design in DESIGNS[1:]]


# ------------------------------------------------------------------------------ analysis
def national_series(batch: BatchResults, country: str = COUNTRY) -> pd.DataFrame:
    """Per replication and year: ``country``'s GW online at year end and TWh used in the year.

    The national table's region ``all``: installed base + pipeline sites + named phases at
    full power, facility load at the meter.
    """
    nat = batch.national
    rows = nat[(nat["country"] == country) & (nat["region"] == "all")]
    if rows.empty:
        raise ValueError(f"the batch's national table has no rows for {country!r}")
    return rows[[REPLICATION, "year", "gw_online", "twh"]].reset_index(drop=True)


def paired_by_year(base: pd.DataFrame, policy: pd.DataFrame) -> pd.DataFrame:
    """``policy - base`` of GW online and TWh per year, paired on the replication.

    Both frames come from :func:`national_series`. Columns: metric, unit, year, n,
    base_mean, policy_mean, diff_mean, halfwidth, low, high, ... (as
    :func:`paxsim.models.results.metrics.paired`).
    """
    frames = [
        paired(base, policy, metric, "year").assign(metric=metric, unit=unit)
        for metric, unit in (("gw_online", "GW"), ("twh", "TWh"))
    ]
    out = pd.concat(frames, ignore_index=True)
    first = ["metric", "unit", "year"]
    return out[[*first, *[c for c in out.columns if c not in first]]]


def binding_year(gaps: pd.DataFrame, metric: str = "gw_online") -> int | None:
    """The first year an arm is significantly below its grid-unconstrained reference.

    ``gaps`` is :func:`paired_by_year` of (unconstrained, arm): a year binds when the 95 %
    interval of arm - unconstrained lies wholly below zero. None when no year does.
    """
    needed = {"metric", "year", "high"}
    if not needed <= set(gaps.columns):
        raise ValueError(f"gaps lacks column(s) {sorted(needed - set(gaps.columns))}")
    rows = gaps[(gaps["metric"] == metric) & (gaps["high"] < 0)]
    return None if rows.empty else int(rows["year"].min())


def binding_table(gaps: pd.DataFrame) -> pd.DataFrame:
    """Per arm: the year the grid binds and the gap (GW, TWh) then and in the last year.

    ``gaps`` stacks :func:`paired_by_year` frames with an ``arm`` and ``reference`` column.
    ``bound_after`` says whether every later year is bound too.
    """
    rows = []
    for (arm, reference), sub in gaps.groupby(["arm", "reference"], sort=False):
        year = binding_year(sub)
        last = int(sub["year"].max())
        gw = sub[sub["metric"] == "gw_online"].set_index("year")
        twh = sub[sub["metric"] == "twh"].set_index("year")
        at = year if year is not None else last
        bound_after = year is not None and bool((gw.loc[gw.index >= year, "high"] < 0).all())
        rows.append(
            {
                "arm": arm,
                "reference": reference,
                "binding_year": year,
                "bound_every_year_after": bound_after,
                "gap_year": at,
                "gap_gw": gw.at[at, "diff_mean"],
                "gap_gw_halfwidth": gw.at[at, "halfwidth"],
                "gap_twh": twh.at[at, "diff_mean"],
                "gap_twh_halfwidth": twh.at[at, "halfwidth"],
                "last_year": last,
                "last_gap_gw": gw.at[last, "diff_mean"],
                "last_gap_gw_halfwidth": gw.at[last, "halfwidth"],
                "last_gap_twh": twh.at[last, "diff_mean"],
                "last_gap_twh_halfwidth": twh.at[last, "halfwidth"],
                "unconstrained_gw_last": gw.at[last, "base_mean"],
            }
        )
    out = pd.DataFrame(rows)
    out["binding_year"] = out["binding_year"].astype("Int64")
    return out


def levels_by_year(series: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Per arm, metric (gw_online, twh) and year: mean ± CI and P10/P50/P90 over replications."""
    frames = []
    for arm, frame in series.items():
        for metric, unit in (("gw_online", "GW"), ("twh", "TWh")):
            out = summarise(frame, metric, "year")
            frames.append(out.assign(arm=arm, metric=metric, unit=unit))
    out = pd.concat(frames, ignore_index=True)
    first = ["arm", "metric", "unit", "year"]
    return out[[*first, *[c for c in out.columns if c not in first]]]


def forecast_path_twh(year: int | float) -> float:
    """The forecast's TWh in ``year``, interpolated geometrically from 2024 to 2034.

    Wood Mackenzie gives the two ends only; the geometric path (~12.4 %/yr) is an
    assumption used to draw the path, not an input of the runs.
    """
    growth = (TWH_2034 / TWH_2024) ** (1.0 / 10.0)
    return TWH_2024 * growth ** (float(year) - 2024.0)


def designated_phases(scenario: Scenario, country: str = COUNTRY) -> list[str]:
    """Phase ids of ``country``'s named campuses designated for reserved upgrades."""
    return [
        f"{dc_id}/{phase.name}"
        for dc_id, dc in scenario.datacenters.items()
        if dc.country == country and dc.designated_site
        for phase in dc.phases
    ]


# ------------------------------------------------------------------------------ figure
#: Key arms drawn in the deployment figure, with their colours.
S_CURVE_ARMS = {
    "default_demand": "#7f7f7f",
    "default_demand_unconstrained": "#bcbd22",
    "forecast": "#1f77b4",
    "forecast+coord": "#d62728",
    "forecast_slow_grid": "#9467bd",
    "forecast_unconstrained": "#2ca02c",
}


@styled
def jp_deployment(levels: pd.DataFrame, context: str) -> Figure:
    """Japan's GW online (left) and TWh (right) by year: P50 line and P10-P90 band per key arm.

    The TWh panel carries the forecast path (geometric interpolation, dashed) and
    Wood Mackenzie's 57-66 TWh range in 2034: the demand the forecast case is scaled to.
    """
    needed = {"arm", "metric", "year", "p10", "p50", "p90"}
    if not needed <= set(levels.columns):
        raise ValueError(f"levels lacks column(s) {sorted(needed - set(levels.columns))}")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), layout="constrained")
    for ax, (metric, ylabel) in zip(
        axes,
        (
            ("gw_online", "JP data-centre load online at year end (GW at the meter)"),
            ("twh", "JP data-centre energy used in the year (TWh)"),
        ),
        strict=True,
    ):
        for arm, colour in S_CURVE_ARMS.items():
            sub = levels[(levels["arm"] == arm) & (levels["metric"] == metric)]
            if sub.empty:
                continue
            sub = sub.sort_values("year")
            x = sub["year"].to_numpy(dtype=float)
            ax.fill_between(x, sub["p10"], sub["p90"], color=colour, alpha=0.15, lw=0)
            ax.plot(x, sub["p50"], color=colour, marker="o", ms=3, label=arm)
        ax.set_xlabel("year")
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
    path_years = list(range(2024, 2035))
    axes[1].plot(
        path_years,
        [forecast_path_twh(y) for y in path_years],
        color="black",
        ls="--",
        lw=1,
        label="forecast path (19 -> 61.5 TWh, geometric)",
    )
    low, high = TWH_2034_RANGE
    axes[1].errorbar(
        [2034],
        [TWH_2034],
        yerr=[[TWH_2034 - low], [high - TWH_2034]],
        fmt="s",
        color="black",
        capsize=4,
        label="Wood Mackenzie 2034: 57-66 TWh",
    )
    legend_outside(axes[1], title="P50 line, P10-P90 band")
    set_title(fig, "Japan's data-centre deployment: demand cases against the grid", context)
    return fig


# ------------------------------------------------------------------------------ the study
def _pairs() -> list[tuple[Design, Design]]:
    """(without, with) coordination at each demand and build rate that has both."""
    return [
        (off, on)
        for on in DESIGNS
        if on.coordination
        for off in DESIGNS
        if not off.coordination and (off.demand, off.build) == (on.demand, on.build)
    ]


def _reference(design: Design) -> Design:
    return Design(design.demand, "unconstrained")


def _years(batch: BatchResults) -> list[int]:
    return sorted(int(y) for y in pd.unique(batch.national["year"]))


def run(options: StudyOptions) -> Study:
    """Run (or reuse) every arm; tabulate when the grid binds and what coordination brings."""
    study = Study(NAME, QUESTION, options, BASELINE)
    base_world = study.scenario(BASELINE)
    by_label = {BASELINE.label: BASELINE, **{arm.label: arm for arm in arms(base_world)}}
    designs = {d.label: d for d in DESIGNS}
    batches = {label: study.run(arm) for label, arm in by_label.items()}
    series = {label: national_series(batch) for label, batch in batches.items()}
    years = _years(batches[BASELINE.label])
    last = years[-1]
    report_years = [y for y in REPORT_YEARS if y in years] or [last]
    context = study.context()

    study.table(
        pd.DataFrame(
            [
                {
                    "arm": d.label,
                    "demand": d.demand,
                    "build": d.build,
                    "build_rate_factor": BUILD_RATES.get(d.build, math.nan),
                    "coordination": d.coordination,
                    "description": d.describe(),
                    "overrides": " ".join(by_label[d.label].overrides),
                }
                for d in DESIGNS
            ]
        ),
        "design",
    )
    levels = levels_by_year(series)
    study.table(levels, "jp_by_year")
    path = pd.DataFrame({"year": list(range(2024, 2035))})
    path["forecast_path_twh"] = [forecast_path_twh(y) for y in path["year"]]
    study.table(path, "forecast_path")

    # When does the grid bind: each arm against the unconstrained reference of its demand.
    gap_frames = []
    for label, design in designs.items():
        if design.build == "unconstrained":
            continue
        ref = _reference(design).label
        gap_frames.append(
            paired_by_year(series[ref], series[label]).assign(arm=label, reference=ref)
        )
    gaps = pd.concat(gap_frames, ignore_index=True)
    study.table(gaps, "gap_to_unconstrained")
    binding = binding_table(gaps)
    study.table(binding, "grid_binds")

    # How much coordination brings forward: with - without, at each demand and build rate.
    pairs = _pairs()
    coord_effects = pd.concat(
        [
            study.effects(
                [by_label[on.label]], base=by_label[off.label], years=report_years
            ).assign(arm=f"coord @ {off.label}", without=off.label, **{"with": on.label})
            for off, on in pairs
        ],
        ignore_index=True,
    )
    study.table(coord_effects, "coordination_effects")
    coord_by_year = pd.concat(
        [
            paired_by_year(series[off.label], series[on.label]).assign(arm=f"coord @ {off.label}")
            for off, on in pairs
        ],
        ignore_index=True,
    )
    study.table(coord_by_year, "coordination_by_year")
    # Grid build rate (and no grid limit) at forecast demand, without coordination.
    build_arms = [
        by_label[d.label]
        for d in DESIGNS
        if d.demand == "forecast" and not d.coordination and d.build != "default"
    ]
    build_effects = study.effects(build_arms, base=by_label["forecast"], years=report_years)
    study.table(build_effects, "build_rate_effects")

    key_on, key_off = by_label["forecast+coord"], by_label["forecast"]
    comparison = study.compare(key_on, base=key_off)
    designated = set(designated_phases(study.scenario(key_on)))
    phases = comparison.phase_differences()
    phases = phases[phases["phase_id"].isin(designated)]
    study.table(phases, "coordination_designated_phases")

    # Figures.
    study.figure(jp_deployment(levels, context), "jp_deployment_s_curves")
    for reference in dict.fromkeys(gaps["reference"]):
        demand = str(reference).removesuffix("_unconstrained")
        study.figure(
            plots.effect_grid(
                gaps[gaps["reference"] == reference],
                "year",
                "gw_online",
                unit="GW",
                context=context,
                series="arm",
                headline=f"JP GW online: each arm - {reference} (where the grid binds)",
            ),
            f"gap_to_unconstrained_gw_{demand}",
        )
    study.figure(plots.policy_fan(comparison), "policy_fan_coordination_forecast")
    study.figure(plots.policy_fan(comparison, metric="twh"), "policy_fan_coordination_forecast_twh")
    study.figure(
        plots.arm_effects(
            coord_effects,
            "full_power_day",
            unit="days",
            context=context,
            groups=[COUNTRY],
            headline="Coordination: JP named phases' MW-weighted full-power date (with - without)",
        ),
        "effect_coordination_full_power_day",
    )
    gw_metric = f"gw_online_{report_years[-1]}"
    study.figure(
        plots.arm_effects(
            coord_effects,
            gw_metric,
            unit="GW",
            context=context,
            groups=[COUNTRY],
            headline=f"Coordination: JP GW online at end-{report_years[-1]} (with - without)",
        ),
        f"effect_coordination_{gw_metric}",
    )
    study.figure(
        plots.arm_effects(
            build_effects,
            gw_metric,
            unit="GW",
            context=context,
            groups=[COUNTRY],
            headline=f"Grid build rate at forecast demand: JP GW online at end-{report_years[-1]}",
        ),
        f"effect_build_rate_{gw_metric}",
    )

    # Findings.
    at = min(2034, last)
    reached = row_where(levels, arm="forecast_unconstrained", metric="twh", year=at)
    target = (
        f", against the forecast's {TWH_2034_RANGE[0]:g}-{TWH_2034_RANGE[1]:g} TWh in 2034."
        if at == 2034
        else f" (the run ends before 2034; the forecast path gives {forecast_path_twh(at):.1f} "
        f"TWh in {at})."
    )
    study.finding(
        f"**Demand scenario** (not a validation): with every JP request volume x "
        f"{FORECAST_REQUEST_SCALE:g} and no grid limit, JP data centres use "
        f"{level_text(number(reached['mean']), number(reached['halfwidth']), 'TWh', 1)} in {at}"
        + target
    )
    for b in binding.to_dict("records"):
        row = {str(k): v for k, v in b.items()}
        arm, ref, final = row["arm"], row["reference"], int(row["last_year"])
        if pd.isna(row["binding_year"]):
            study.finding(
                f"**{arm}**: JP GW online is never significantly below the grid-unconstrained "
                f"reference ({ref}) through {final}; gap in {final} "
                f"{difference_text(row, 'GW', 2, 'last_gap_gw')}: the grid does not bind within "
                "the horizon."
            )
            continue
        after = "and stays bound" if row["bound_every_year_after"] else "(not in every later year)"
        study.finding(
            f"**{arm}**: the grid binds from {int(row['binding_year'])} {after}: JP GW online "
            f"{difference_text(row, 'GW', 2, 'gap_gw')} and TWh "
            f"{difference_text(row, 'TWh', 1, 'gap_twh')} "
            f"against {ref} that year; by {final} {difference_text(row, 'GW', 2, 'last_gap_gw')}, "
            f"{difference_text(row, 'TWh', 1, 'last_gap_twh')}."
        )
    for off, _on in pairs:
        arm = f"coord @ {off.label}"
        twh = row_where(coord_by_year, arm=arm, metric="twh", year=report_years[-1])
        study.finding(
            f"**Coordination at {off.label}**: JP named phases' MW-weighted full-power date "
            f"{_effect(coord_effects, arm, 'full_power_day', COUNTRY)} (negative: earlier); "
            f"JP GW online at end-{report_years[-1]} "
            f"{_effect(coord_effects, arm, gw_metric, COUNTRY, 2)}; JP TWh in "
            f"{report_years[-1]} {difference_text(twh, 'TWh', 2)}."
        )
    for arm in build_arms:
        study.finding(
            f"**{arm.label}** against forecast (default build rate): JP GW online at end-"
            f"{report_years[-1]} {_effect(build_effects, arm.label, gw_metric, COUNTRY, 2)}; "
            f"JP named phases' MW-weighted full-power date "
            f"{_effect(build_effects, arm.label, 'full_power_day', COUNTRY)}."
        )
    moved = []
    for p in phases.to_dict("records"):
        diff = interval_text(number(p["online_day_diff"]), number(p["online_day_halfwidth"]))
        why = str(p.get("binding_constraint") or "")
        moved.append(f"{p['phase_id']} {diff}" + (f" ({why})" if why else ""))
    study.finding(
        "**Designated phases under coordination** (forecast demand, default build rate; "
        "full-power day, with - without): " + ("; ".join(moved) or "none in the run") + "."
    )
    study.section(
        "How to read this",
        [
            "- *GW online* is data-centre facility load at the meter (IT x PUE) at year end, "
            "and *TWh* the energy it used in the year, for all of Japan (national table: "
            "installed base of 2.7 GW + pipeline sites + named phases at full power).",
            "- *The grid binds* in the first year whose JP GW online is significantly below "
            "the grid-unconstrained reference of the same demand (95 % paired interval "
            "entirely below 0). The reference removes the capacity limit only (spare MW, "
            "hence no upgrades); studies, connection works, permits, construction and "
            "magnet supply still take their time, so the gap is what grid capacity costs.",
            f"- *Forecast demand* is an assumption: one multiplier ({FORECAST_REQUEST_SCALE:g}) "
            "on every JP pipeline's request volume, calibrated so that the unconstrained arm "
            "reaches ~61.5 TWh in 2034. The pipelines start in 2025 with no requests from "
            "earlier years, so the path rises later and steeper than a smooth interpolation "
            "(table forecast_path). Wood Mackenzie's forecast is a hold-out: matching it here "
            "is by construction and validates nothing.",
            "- *Build rate* x0.5 / x2 makes every JP network upgrade take twice / half its "
            "upgrade_days (an assumption about what a build programme could do); the crew "
            "limit stays, so the most upgrade MW a region adds a year scales the same way. "
            "*Coordination* is watt_bit_japan.toml: 400 MW (Chiba) and 150 MW "
            "(Hokkaido) of upgrades started 2025-04-01, reserved for the designated Inzai and "
            "Ishikari campuses (an assumption, not a sourced plan); it adds no free capacity.",
            "- Full-power dates are MW-weighted over JP named phases; a phase not online by "
            "the horizon counts at the horizon, so an effect on them is a lower bound.",
        ],
    )
    return study


def main(argv: Sequence[str] | None = None) -> int:
    return study_main(NAME, __doc__, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
