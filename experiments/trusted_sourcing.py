"""Trusted sourcing: a trusted-origin mandate from a given date. How much downstream
capacity is stranded, and for how long (MW and MW-years)? How does the answer change as
the UAE, Qatar and India join the coalition and as partner tiers count?

The mandate (``trusted_sourcing_2028.toml``, policy ``us_jp_2028``): from its start, US and
Japanese buyers of NdFeB magnets, Dy and Tb oxide accept only lots whose every processing
stage is in a country of a trusted tier (default: coalition signatories and partners), each
shipment after an audit.

Arms (all against ``no_mandate``, the default world, paired on the replication seed):

* ``mandate_2027`` / ``mandate_2028`` / ``mandate_2030``: the mandate from 1 Jan 2027,
  2028 (the scenario file) or 2030;
* ``2028_without_uae_qatar``: the 2028 mandate, the UAE and Qatar not members;
* ``2028_with_india_2027``: the 2028 mandate, India a member from 2027-01-01;
* ``2028_signatories_only``: the 2028 mandate, partners' stages do not count
  (``rules_of_origin.trusted_tiers = ["signatory"]``);
* ``2028_neutral_counts``: the 2028 mandate, neutral countries' stages count too (only
  countries of concern are excluded): the loosest rule, for scale.

Usage::

    python -m experiments.trusted_sourcing --reps 20 --workers 2 --out runs/trusted_sourcing
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from paxsim import plots
from paxsim.models.results.batch import BatchResults
from paxsim.models.results.metrics import paired, stranded_mw, stranded_summary, summarise
from paxsim.models.scenario import Scenario
from paxsim.plots.style import legend_outside, set_title, styled
from paxsim.sim.replications import REPLICATION
from paxsim.study import (
    Arm,
    Study,
    StudyOptions,
    difference_text,
    level_text,
    number,
    row_where,
    study_main,
)
from paxsim.study import effect_text_noting_zero as _effect

NAME = "trusted_sourcing"
QUESTION = (
    "A trusted-origin mandate from a given date: how much downstream capacity is stranded, "
    "and for how long (MW and MW-years)? How does the answer change as the UAE, Qatar and "
    "India join and as partner tiers count?"
)
MANDATE_FILE = "trusted_sourcing_2028.toml"
MANDATE_ID = "us_jp_2028"
INDIA_JOINED = "2027-01-01"
#: Groups every metric is reported for (countries of the named phases, and all of them).
GROUPS = ("US", "JP", "all")
#: Step of the stranded-MW curve (days).
CURVE_STEP_DAYS = 30.0
#: A replication strands *extra* MW on a day when the policy strands this much more than
#: the baseline (MW): below it, float noise.
EXTRA_TOLERANCE_MW = 0.5
#: The kinds of facility where a processing stage (and so a lot's origin) happens.
SUPPLY_KINDS = ("mines", "separation_plants", "metal_plants", "magnet_makers", "fabs")
#: Countries whose membership the coalition variants change.
VARIANT_COUNTRIES = ("AE", "QA", "IN")

BASELINE = Arm("no_mandate", None, (), "the default world: no trusted-sourcing mandate")


def arms(coalition: str) -> list[Arm]:
    """The mandates, start dates first, then coalition and tier variants of the 2028 one.

    ``coalition`` is the scenario's ``trust_coalition`` (whose membership the variants
    change).
    """
    mandate = Arm(
        "mandate_2028",
        MANDATE_FILE,
        (),
        "US and JP buyers of NdFeB, Dy and Tb oxide accept only trusted-origin lots from "
        "2028-01-01 (signatory and partner stages qualify)",
    )
    policy = f"policies.trusted_sourcing.{MANDATE_ID}"
    members = f"coalitions.{coalition}.members"

    def start(label: str, date: str) -> Arm:
        return mandate.with_overrides(
            f"{policy}.start={date}", label=label, description=f"the mandate from {date}"
        )

    return [
        start("mandate_2027", "2027-01-01"),
        mandate,
        start("mandate_2030", "2030-01-01"),
        mandate.with_overrides(
            f'{members}-=[{{ country = "AE" }}, {{ country = "QA" }}]',
            label="2028_without_uae_qatar",
            description="the 2028 mandate; the UAE and Qatar are not members",
        ),
        mandate.with_overrides(
            f'{members}+=[{{ country = "IN", joined = {INDIA_JOINED}, '
            f'source = "assumption: study lever ({NAME})" }}]',
            label="2028_with_india_2027",
            description=f"the 2028 mandate; India a member from {INDIA_JOINED}",
        ),
        mandate.with_overrides(
            'rules_of_origin.trusted_tiers=["signatory"]',
            label="2028_signatories_only",
            description="the 2028 mandate; only signatories' stages qualify (partners do not)",
        ),
        mandate.with_overrides(
            'rules_of_origin.trusted_tiers=["signatory", "partner", "neutral"]',
            label="2028_neutral_counts",
            description="the 2028 mandate; neutral countries' stages qualify too",
        ),
    ]


# ------------------------------------------------------------------------------ analysis
def curve_days(horizon_days: float, step_days: float = CURVE_STEP_DAYS) -> np.ndarray:
    """Days 0, step, 2 step, ... up to the horizon (which is always included)."""
    if not (math.isfinite(step_days) and step_days > 0):
        raise ValueError(f"step_days must be a positive number of days, got {step_days!r}")
    if not (math.isfinite(horizon_days) and horizon_days > 0):
        raise ValueError(f"horizon_days must be positive, got {horizon_days!r}")
    days = np.arange(0.0, horizon_days, step_days)
    return np.append(days, horizon_days)


def stranded_curve(
    projects: pd.DataFrame, horizon_days: float, step_days: float = CURVE_STEP_DAYS
) -> pd.DataFrame:
    """MW planned but not at full power, per replication, group (country and "all") and day."""
    days = curve_days(horizon_days, step_days)
    return pd.concat(
        [
            stranded_mw(projects, days, horizon_days, by="country"),
            stranded_mw(projects, days, horizon_days, by=None),
        ],
        ignore_index=True,
    )


def curve_difference(base: pd.DataFrame, policy: pd.DataFrame) -> pd.DataFrame:
    """Policy - base stranded MW per group and day, paired on the replication, with its CI."""
    return paired(base, policy, "stranded_mw", ["group", "day"])


def extra_stranded_days(
    base: pd.DataFrame,
    policy: pd.DataFrame,
    step_days: float = CURVE_STEP_DAYS,
    tolerance_mw: float = EXTRA_TOLERANCE_MW,
) -> pd.DataFrame:
    """Per replication and group: how long the policy strands more MW than the baseline.

    Both frames are :func:`stranded_curve` output on the same day grid; each grid day on
    which policy - base exceeds ``tolerance_mw`` counts ``step_days``. Also the first and
    last such day (NaN when there is none). Columns: replication, group,
    extra_stranded_days, first_extra_day, last_extra_day.
    """
    keys = [REPLICATION, "group", "day"]
    merged = base[[*keys, "stranded_mw"]].merge(
        policy[[*keys, "stranded_mw"]], on=keys, suffixes=("_base", "_policy")
    )
    if merged.empty:
        raise ValueError("the two curves share no replication, group and day")
    extra = merged["stranded_mw_policy"] - merged["stranded_mw_base"] > tolerance_mw
    merged = merged.assign(extra=extra, extra_day=merged["day"].where(extra))
    grouped = merged.groupby([REPLICATION, "group"], sort=True)
    out = grouped.agg(
        extra_points=("extra", "sum"),
        first_extra_day=("extra_day", "min"),
        last_extra_day=("extra_day", "max"),
    )
    out["extra_stranded_days"] = out.pop("extra_points").astype(float) * step_days
    return out.reset_index()[
        [REPLICATION, "group", "extra_stranded_days", "first_extra_day", "last_extra_day"]
    ]


def stranded_by_group(projects: pd.DataFrame, horizon_days: float) -> pd.DataFrame:
    """:func:`stranded_summary` by country and for "all" (peak, at horizon, MW-years, days)."""
    return pd.concat(
        [
            stranded_summary(projects, horizon_days, by="country"),
            stranded_summary(projects, horizon_days, by=None),
        ],
        ignore_index=True,
    )


def national_gw(national: pd.DataFrame) -> pd.DataFrame:
    """Per replication, group (each country's total and "all") and year: GW online at year end.

    The national table's region ``all`` of each country (installed base, pipeline sites
    and named phases at full power); ``all`` sums the countries.
    """
    needed = [REPLICATION, "country", "region", "year", "gw_online"]
    missing = [c for c in needed if c not in national.columns]
    if missing:
        raise ValueError(f"national lacks column(s) {missing}")
    rows = national[national["region"] == "all"]
    by_country = rows[[REPLICATION, "country", "year", "gw_online"]].rename(
        columns={"country": "group"}
    )
    total = rows.groupby([REPLICATION, "year"], as_index=False)["gw_online"].sum()
    out = pd.concat([by_country, total.assign(group="all")], ignore_index=True)
    return out[[REPLICATION, "group", "year", "gw_online"]]


def gw_years_lost(base: pd.DataFrame, policy: pd.DataFrame) -> pd.DataFrame:
    """Per replication and group: GW-years the policy's national load falls short of the base.

    Σ over the run's years of (base - policy) year-end GW, each year counting one year: a
    step approximation of the area between the two deployment curves, *net* (a year ahead
    offsets a year behind). Both frames are :func:`national_gw` output.
    """
    keys = [REPLICATION, "group", "year"]
    merged = base[[*keys, "gw_online"]].merge(
        policy[[*keys, "gw_online"]], on=keys, suffixes=("_base", "_policy")
    )
    if merged.empty:
        raise ValueError("the two national tables share no replication, group and year")
    merged["gw_years_lost"] = merged["gw_online_base"] - merged["gw_online_policy"]
    out = merged.groupby([REPLICATION, "group"], sort=True)["gw_years_lost"].sum()
    return out.reset_index()


def shortfall_years(differences: pd.DataFrame) -> list[int]:
    """Years whose paired difference (policy - base) lies wholly below zero (95 % CI)."""
    needed = {"year", "high"}
    if not needed <= set(differences.columns):
        raise ValueError(f"differences lacks column(s) {sorted(needed - set(differences.columns))}")
    return sorted(int(y) for y in differences.loc[differences["high"] < 0, "year"])


def trusted_share(projects: pd.DataFrame) -> pd.DataFrame:
    """Per replication and group: the MW-weighted trusted share of what named phases received.

    ``magnet_trusted_share`` / ``accelerator_trusted_share`` are each phase's share of
    delivered magnets (accelerators) that were trusted on arrival; a phase that received
    none (NaN) is left out of that material's weighting.
    """
    needed = [REPLICATION, "country", "it_mw", "magnet_trusted_share", "accelerator_trusted_share"]
    missing = [c for c in needed if c not in projects.columns]
    if missing:
        raise ValueError(f"projects lacks column(s) {missing}")
    frames = []
    for material in ("magnet", "accelerator"):
        col = f"{material}_trusted_share"
        known = projects[projects[col].notna()]
        for group, rows in (
            *((str(c), r) for c, r in known.groupby("country", sort=True)),
            ("all", known),
        ):
            weighted = (rows[col] * rows["it_mw"]).groupby(rows[REPLICATION]).sum()
            mw = rows["it_mw"].groupby(rows[REPLICATION]).sum()
            share = (weighted / mw.where(mw > 0)).rename("trusted_share").reset_index()
            frames.append(share.assign(group=group, material=material))
    if not frames:
        return pd.DataFrame(columns=[REPLICATION, "group", "material", "trusted_share"])
    return pd.concat(frames, ignore_index=True)[[REPLICATION, "group", "material", "trusted_share"]]


def supply_stages_in(
    scenario: Scenario, countries: Iterable[str], kinds: Sequence[str] = SUPPLY_KINDS
) -> dict[str, list[str]]:
    """Per country: the enabled facilities (``kind.id``) where a processing stage happens.

    A coalition's membership only changes a lot's trust through the stages it carries, so
    a country with none here cannot move any result by joining or leaving.
    """
    out: dict[str, list[str]] = {str(c): [] for c in countries}
    for kind in kinds:
        table = getattr(scenario, kind, None)
        if not isinstance(table, Mapping):
            raise ValueError(f"the scenario has no facility table {kind!r}")
        for fid, spec in table.items():
            country = getattr(spec, "country", None)
            if country in out and getattr(spec, "enabled", True):
                out[country].append(f"{kind}.{fid}")
    return out


# ------------------------------------------------------------------------------ figure
@styled
def stranded_difference_figure(
    differences: pd.DataFrame, start: pd.Timestamp, context: str, groups: Sequence[str] = GROUPS
) -> Figure:
    """Extra MW stranded over time (policy - baseline), one line and 95 % CI band per arm,
    one panel per group. A line at zero whose band covers it: no stranding beyond the
    baseline's own delays."""
    needed = {"arm", "group", "day", "diff_mean", "halfwidth"}
    if not needed <= set(differences.columns):
        raise ValueError(f"differences lacks column(s) {sorted(needed - set(differences.columns))}")
    present = [g for g in groups if g in set(differences["group"])]
    if not present:
        raise ValueError(f"no rows for groups {list(groups)}")
    fig, axes = plt.subplots(
        len(present), 1, figsize=(10, 3.0 * len(present) + 1.2), sharex=True,
        layout="constrained", squeeze=False,
    )  # fmt: skip
    arms_in_order = list(dict.fromkeys(differences["arm"].astype(str)))
    palette = plt.get_cmap("tab10")
    colours = {arm: palette(i % 10) for i, arm in enumerate(arms_in_order)}
    for ax, group in zip(axes[:, 0], present, strict=True):
        for arm, sub in differences[differences["group"] == group].groupby("arm", sort=False):
            sub = sub.sort_values("day")
            dates = pd.Timestamp(start) + pd.to_timedelta(sub["day"].to_numpy(), unit="D")
            mean = sub["diff_mean"].to_numpy(dtype=float)
            half = np.nan_to_num(sub["halfwidth"].to_numpy(dtype=float), nan=0.0)
            colour = colours[str(arm)]
            ax.fill_between(dates, mean - half, mean + half, color=colour, alpha=0.15, lw=0)
            ax.plot(dates, mean, color=colour, lw=1.2, label=str(arm))
        ax.axhline(0, color="black", lw=0.8)
        ax.set_title(f"{group}: named phases", fontsize=9)
        ax.set_ylabel("extra MW stranded\n(policy - no mandate)")
    axes[-1, 0].set_xlabel("date")
    legend_outside(axes[0, 0], title="mean, band: 95 % CI")
    set_title(fig, "MW stranded by the mandate over time (paired on replication)", context)
    return fig


# ------------------------------------------------------------------------------ the study
def _date(start: pd.Timestamp, day: float) -> str:
    return str((start + pd.Timedelta(days=day)).date()) if math.isfinite(day) else "n/a"


def _peak(curve: pd.DataFrame) -> dict[str, Any]:
    """The row of a difference curve where the mean extra stranded MW is largest."""
    if curve.empty:
        raise ValueError("an empty difference curve has no peak")
    rows = curve.sort_values(["diff_mean", "day"], ascending=[False, True]).to_dict("records")
    return {str(k): v for k, v in rows[0].items()}


def run(options: StudyOptions) -> Study:
    """Run (or reuse) every arm; tabulate stranded MW, for how long, and the trusted share."""
    study = Study(NAME, QUESTION, options, BASELINE)
    world = study.scenario(BASELINE)
    policies = arms(world.trust_coalition)
    base = study.run(BASELINE)
    batches: dict[str, BatchResults] = {a.label: study.run(a) for a in policies}
    horizon, start = base.horizon_days, base.start
    years = sorted(int(y) for y in pd.unique(base.national["year"]))
    report_years: list[int] = [y for y in (2028, 2030) if y in years] or [years[-1]]
    context = study.context()

    effects = study.effects(policies, years=report_years)
    study.table(effects, "effects")
    variants = [a for a in policies if a.label.startswith("2028_")]
    mandate = next(a for a in policies if a.label == "mandate_2028")

    # The stranded-MW curve and how long the mandate strands extra MW.
    base_curve = stranded_curve(base.projects, horizon)
    base_summary = stranded_by_group(base.projects, horizon)
    diff_frames, extra_frames, summary_frames = [], [], []
    summaries: dict[str, pd.DataFrame] = {}
    for label, batch in batches.items():
        curve = stranded_curve(batch.projects, horizon)
        diff_frames.append(curve_difference(base_curve, curve).assign(arm=label))
        extra = summarise(extra_stranded_days(base_curve, curve), "extra_stranded_days", "group")
        extra_frames.append(extra.assign(arm=label))
        mine = summaries[label] = stranded_by_group(batch.projects, horizon)
        for metric in ("peak_stranded_mw", "stranded_days"):
            summary_frames.append(
                paired(base_summary, mine, metric, "group").assign(arm=label, metric=metric)
            )
    differences = pd.concat(diff_frames, ignore_index=True)
    differences["date"] = start + pd.to_timedelta(differences["day"], unit="D")
    extra_days = pd.concat(extra_frames, ignore_index=True)
    stranded_effects = pd.concat(summary_frames, ignore_index=True)
    # How the answer changes: each coalition or tier variant against the 2028 mandate.
    vs_mandate = pd.concat(
        [
            paired(summaries[mandate.label], summaries[arm.label], metric, "group").assign(
                arm=arm.label, metric=metric, unit=unit
            )
            for arm in variants
            for metric, unit in (("mw_years_lost", "MW·yr"), ("stranded_mw_at_horizon", "MW"))
        ],
        ignore_index=True,
    )
    study.table(vs_mandate, "variants_vs_mandate_2028")
    study.table(differences, "stranded_mw_difference_curve")
    study.table(extra_days, "extra_stranded_days")
    study.table(stranded_effects, "stranded_peak_and_duration_effects")

    # Pipeline sites order magnets too: the national load (GW) behind the no-mandate run.
    base_gw = national_gw(base.national)
    national_frames, lost_frames = [], []
    for label, batch in batches.items():
        mine_gw = national_gw(batch.national)
        by_year = paired(base_gw, mine_gw, "gw_online", ["group", "year"])
        national_frames.append(by_year.assign(arm=label, metric="gw_online", unit="GW"))
        lost_frames.append(
            summarise(gw_years_lost(base_gw, mine_gw), "gw_years_lost", "group").assign(arm=label)
        )
    national_diff = pd.concat(national_frames, ignore_index=True)
    national_lost = pd.concat(lost_frames, ignore_index=True)
    study.table(national_diff, "national_gw_difference")
    study.table(national_lost, "national_gw_years_lost")

    shares = []
    for label, batch in {BASELINE.label: base, **batches}.items():
        frame = trusted_share(batch.projects)
        shares.append(summarise(frame, "trusted_share", ["material", "group"]).assign(arm=label))
    share_table = pd.concat(shares, ignore_index=True)
    study.table(share_table, "trusted_share")
    coverage = supply_stages_in(world, VARIANT_COUNTRIES)
    study.table(
        pd.DataFrame(
            [{"country": c, "supply_stages": ", ".join(f) or "none"} for c, f in coverage.items()]
        ),
        "variant_country_supply_stages",
    )

    # Figures.
    groups = [g for g in ("US", "JP") if g in set(effects["group"])]
    for metric, unit in (
        ("stranded_mw_at_horizon", "MW"),
        ("mw_years_lost", "MW·yr"),
        (f"gw_online_{report_years[-1]}", "GW"),
    ):
        study.figure(
            plots.arm_effects(effects, metric, unit=unit, context=context, groups=groups),
            f"effect_{metric}",
        )
    study.figure(stranded_difference_figure(differences, start, context), "stranded_mw_over_time")
    for group in ("US", "JP"):
        study.figure(
            plots.effect_grid(
                national_diff,
                "year",
                "gw_online",
                unit="GW",
                context=context,
                series="arm",
                group=group,
                headline=f"{group} data-centre GW online at year end: mandate - no mandate",
            ),
            f"national_gw_difference_{group}",
        )
    study.figure(plots.policy_fan(study.compare(mandate)), "policy_fan_mandate_2028")

    # Findings.
    for arm in policies:
        parts = []
        for group in GROUPS:
            if group not in set(effects["group"]):
                continue
            gw = "; ".join(
                f"GW online end-{y} {_effect(effects, arm.label, f'gw_online_{y}', group, 2)}"
                for y in report_years
            )
            parts.append(
                f"{group}: stranded at the horizon "
                f"{_effect(effects, arm.label, 'stranded_mw_at_horizon', group)}, MW-years lost "
                f"{_effect(effects, arm.label, 'mw_years_lost', group, 1)}, {gw}"
            )
        study.finding(f"**{arm.label}** against no mandate: " + " | ".join(parts) + ".")
    for arm in policies:
        curve = differences[(differences["arm"] == arm.label) & (differences["group"] == "all")]
        peak = _peak(curve)
        extra_row = row_where(extra_days, arm=arm.label, group="all")
        peak_fx = row_where(stranded_effects, arm=arm.label, group="all", metric="peak_stranded_mw")
        any_fx = row_where(stranded_effects, arm=arm.label, group="all", metric="stranded_days")
        if number(peak["diff_mean"]) > 0:
            when = (
                f"the mean extra-stranded curve peaks on {_date(start, number(peak['day']))} at "
                f"{difference_text(peak, 'MW')}"
            )
        else:
            when = "on average the mandate never strands MW beyond the no-mandate run"
        study.finding(
            f"**{arm.label}**, how long: extra MW stranded (beyond the no-mandate run) on "
            f"{level_text(number(extra_row['mean']), number(extra_row['halfwidth']), 'd', 0)} of "
            f"the run; {when}; effect on the peak of the stranded-MW curve "
            f"{difference_text(peak_fx, 'MW')} and on the time any MW is stranded "
            f"{difference_text(any_fx, 'd')} (all named phases)."
        )
    for arm in policies:
        parts = []
        for group in GROUPS:
            try:
                lost = row_where(national_lost, arm=arm.label, group=group)
            except KeyError:
                continue
            parts.append(
                f"{group} {level_text(number(lost['mean']), number(lost['halfwidth']), 'GW·yr', 2)}"
            )
        mine = national_diff[
            (national_diff["arm"] == arm.label) & (national_diff["group"] == "all")
        ]
        years_short = shortfall_years(mine)
        worst = row_where(mine.sort_values(["diff_mean", "year"]), arm=arm.label)
        span = (
            f"below it in {len(years_short)} year(s) ({years_short[0]}-{years_short[-1]})"
            if years_short
            else "never significantly below it in any year"
        )
        largest = (
            f"the largest mean shortfall is at end-{int(worst['year'])}: "
            f"{difference_text(worst, 'GW', 2)}"
            if number(worst["diff_mean"]) < 0
            else "no year has a mean shortfall"
        )
        study.finding(
            f"**{arm.label}**, national load (pipeline sites and named phases): net GW-years "
            f"behind the no-mandate run {'; '.join(parts)}; US+JP GW online is {span}; "
            f"{largest}."
        )
    for arm in variants:
        lost = row_where(vs_mandate, arm=arm.label, metric="mw_years_lost", group="all")
        at_end = row_where(vs_mandate, arm=arm.label, metric="stranded_mw_at_horizon", group="all")
        study.finding(
            f"**{arm.label}** against mandate_2028: MW-years lost "
            f"{difference_text(lost, 'MW·yr', 1)}, stranded at the horizon "
            f"{difference_text(at_end, 'MW')} (all named phases)."
        )
    absent = [c for c, found in coverage.items() if not found]
    if absent:
        study.finding(
            f"No modelled processing stage (mine, separation, metal, magnet, fab) is in "
            f"{', '.join(absent)}: their joining or leaving cannot change any lot's origin "
            "in this world, so a coalition variant about them can only reproduce "
            "mandate_2028 (its paired difference above is zero or noise); the answer to "
            "'as they join' needs supply in those countries, which the default world lacks."
        )
    for arm_label in (BASELINE.label, "mandate_2028"):
        parts = []
        for group in ("US", "JP"):
            try:
                row = row_where(share_table, arm=arm_label, group=group, material="magnet")
            except KeyError:
                continue
            parts.append(f"{group} {level_text(number(row['mean']), number(row['halfwidth']))}")
        if parts:
            study.finding(
                f"**{arm_label}**: MW-weighted trusted share of the magnets named phases "
                f"received: {'; '.join(parts)}."
            )
    study.section(
        "How to read this",
        [
            "- *Stranded MW* at a date: named-phase IT MW planned by then but not yet at full "
            "power; the mandate's share is the paired difference against the no-mandate run "
            "(replication i of both shares its random numbers), so the baseline's own grid "
            "and permit delays cancel. *MW-years lost* integrate it to the horizon; *MW "
            "stranded at the horizon* are phases still not online at the end.",
            "- *How long*: days on which a replication's mandate run strands more than "
            f"{EXTRA_TOLERANCE_MW:g} MW beyond its no-mandate twin (a {CURVE_STEP_DAYS:g}-day "
            "grid), and the effect on the time during which any MW is stranded.",
            "- *GW online* comes from the national table (installed base, pipeline sites "
            "and named phases at full power); pipeline sites order magnets too, so they "
            "feel the mandate. *Net GW-years behind* sums (no mandate - mandate) year-end GW "
            "over the run's years, each counting a year: a step approximation of the area "
            "between the two deployment curves, where a year ahead offsets a year behind.",
            "- Named phases that received their magnets before a mandate starts keep them: "
            "a mandate acts on later orders (later phases and pipeline sites).",
            "- *Trusted share*: of the magnets a named phase received, the share trusted on "
            "arrival under that arm's rules of origin (so the tier variants measure trust by "
            "their own tiers); phases that received none are left out.",
            "- The coalition dates (UAE and Qatar 2026-01-15, India 2027-01-01) and the "
            "audit time are assumptions; the mandate is a lever, not a recorded policy.",
        ],
    )
    return study


def main(argv: Sequence[str] | None = None) -> int:
    return study_main(NAME, __doc__, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
