"""Export licensing: what China's 2025 regimes, and bans of 6, 12, 24 months or no end, do
to data-center full-power dates and MW-years in the US and Japan, and which facilities run
dry first, for how long.

Arms (all against *no controls*, paired on the replication seed):

* ``april_2025``: MOFCOM No. 18 (4 Apr 2025) alone, the October package suspended for good;
* ``as_recorded``: No. 18 plus the October 2025 package, suspended until 10 Nov 2026 and
  then back in force (the default world);
* ``october_unsuspended``: as if the October package had taken effect on 1 Dec 2025;
* ``ban_6m`` / ``ban_12m`` / ``ban_24m`` / ``ban_open``: a ban on Dy, Tb and NdFeB exports
  from 1 Jan 2027 lasting 6, 12, 24 months, or with no end (on top of the recorded regimes).

Usage::

    python -m experiments.export_licensing --reps 20 --out runs/export_licensing
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from paxsim import plots
from paxsim.study import Arm, Study, StudyOptions, effect_text, study_main

NAME = "export_licensing"
QUESTION = (
    "What do China's 2025 export-licensing regimes, and full bans of 6, 12, 24 months or no "
    "end, do to AI data-center full-power dates and MW-years in the US and Japan, and which "
    "facilities run dry first, for how long?"
)
BAN_START = "2027-01-01"
BAN_ENDS = {"ban_6m": "2027-07-01", "ban_12m": "2028-01-01", "ban_24m": "2029-01-01"}

BASELINE = Arm("no_controls", "no_export_controls.toml", (), "no export licensing at all")


def arms() -> list[Arm]:
    """The policies, in the order the figures read (mildest first)."""
    ban = Arm("ban_open", "magnet_ban_2027.toml", (), f"ban from {BAN_START}, no end")
    return [
        Arm(
            "april_2025",
            "truce_extended.toml",
            (),
            "MOFCOM No. 18 (Apr 2025) only; the October 2025 package stays suspended",
        ),
        Arm(
            "as_recorded",
            None,
            (),
            "No. 18 plus the October 2025 package, suspended until 2026-11-10, then in force",
        ),
        Arm(
            "october_unsuspended",
            None,
            ("export_controls.cn_oct2025_package.start=2025-12-01",),
            "the October 2025 package in force from 2025-12-01, never suspended",
        ),
        *[
            ban.with_overrides(
                f"export_controls.cn_ban_2027.end={end}",
                label=label,
                description=f"ban from {BAN_START} to {end}",
            )
            for label, end in BAN_ENDS.items()
        ],
        ban,
    ]


def dry_facilities(study: Study, policies: Sequence[Arm], top: int = 8) -> pd.DataFrame:
    """Per arm and facility: when it first ran dry (P50, date) and extra dry days vs baseline.

    "Dry" = a sample period in which the facility made under half of what it
    meant to make for want of inputs (models/results/compact.py). Extra days
    are paired on the replication; facilities are those dry earliest under
    each arm that are drier than without controls.
    """
    from paxsim.models.results.metrics import paired

    base = study.run(study.baseline)
    base_sf = base.facility_shortfall.rename(columns={"entity": "group"})
    rows = []
    for arm in policies:
        batch = study.run(arm)
        sf = batch.facility_shortfall.rename(columns={"entity": "group"})
        extra = paired(base_sf, sf, "dry_days", "group")
        summary = batch.shortfall_summary().rename(columns={"entity": "group"})
        merged = summary.merge(extra, on="group", suffixes=("", "_extra"))
        merged = merged[merged["diff_mean"] > 0].nsmallest(top, ["first_dry_p50"])
        merged["first_dry_date"] = [
            (batch.start + pd.Timedelta(days=d)).date() if pd.notna(d) and d < 1e9 else None
            for d in merged["first_dry_p50"]
        ]
        rows.append(merged.assign(arm=arm.label))
    cols = [
        "arm",
        "group",
        "kind",
        "p_ever_dry",
        "first_dry_p50",
        "first_dry_date",
        "dry_days",
        "diff_mean",
        "halfwidth",
        "warning",
    ]
    out = pd.concat(rows, ignore_index=True)[cols]
    return out.rename(
        columns={"group": "facility", "diff_mean": "extra_dry_days", "halfwidth": "extra_halfwidth"}
    )


def run(options: StudyOptions) -> Study:
    study = Study(NAME, QUESTION, options, BASELINE)
    policies = arms()
    effects = study.effects(policies)
    study.table(effects, "effects")
    study.table(study.headlines([BASELINE, *policies]), "headlines")
    dry = dry_facilities(study, policies)
    study.table(dry, "facilities_dry")
    context = study.context()
    for metric, unit in (
        ("mw_weighted_delay_days", "days"),
        ("mw_years_lost", "MW·yr"),
        ("gw_online_2030", "GW"),
    ):
        rows = effects[effects["metric"] == metric]
        if not rows["diff_mean"].notna().any():
            continue  # e.g. a year beyond a shortened horizon: the findings say so
        groups = [g for g in ("US", "JP") if g in set(rows["group"])]
        study.figure(
            plots.arm_effects(effects, metric, unit=unit, context=context, groups=groups),
            f"effect_{metric}",
        )
    comparison = study.compare(policies[-1])
    study.figure(plots.policy_fan(comparison), "policy_fan_ban_open")
    study.figure(plots.delay_attribution(study.run(policies[-1])), "attribution_ban_open")
    for arm in policies:
        for country in ("US", "JP"):
            if country not in set(effects["group"]):
                continue
            delay = effect_text(effects, arm.label, "mw_weighted_delay_days", country)
            lost = effect_text(effects, arm.label, "mw_years_lost", country, 1)
            gw = effect_text(effects, arm.label, "gw_online_2030", country, 2)
            study.finding(
                f"**{arm.label}**, {country}: MW-weighted full-power delay {delay}, MW-years "
                f"lost {lost}, GW online at end-2030 {gw}, against no controls."
            )
    for arm in policies:
        first = dry[dry["arm"] == arm.label].head(3)
        if first.empty:
            study.finding(f"**{arm.label}**: no facility runs dry more than without controls.")
            continue
        parts = [
            f"{r.facility} ({r.kind}) from {r.first_dry_date} (P50), "
            f"{r.extra_dry_days:+.0f} d dry (95 % CI ±{r.extra_halfwidth:.0f})"
            for r in first.itertuples()
        ]
        study.finding(f"**{arm.label}**: first to run dry: " + "; ".join(parts) + ".")
    study.section(
        "How to read this",
        [
            "Delays are MW-weighted over the named data-center phases of each country, counted "
            "at full power; a phase not online by the horizon counts at the horizon, so a "
            "delay is a lower bound and the tables give the censored share. GW online comes "
            "from the national table (installed base + pipeline sites + named phases).",
            "Dry = a month in which a facility made under half its intended output for want "
            "of inputs; extra dry days are paired against no controls.",
        ],
    )
    return study


def main(argv: Sequence[str] | None = None) -> int:
    return study_main(NAME, __doc__, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
