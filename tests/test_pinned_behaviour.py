"""Behaviour that one-line changes used to slip past the suite.

Each test here pins a mechanism through a scenario and the result tables only
(no private attributes, no gate constructors), so the gates and the world can
be rewritten underneath without touching these. Each was checked by applying
the named one-line mutant by hand and watching the test fail:

* separation output not multiplied by ``recovery_yield`` (models/separation.py);
* permit litigation ``requeue`` behaving like ``delay`` (models/permitting.py);
* the export quota never renewing (models/export_control.py);
* ``capacity_changes`` ignored (models/facility.py);
* background queue waits recorded as 0 (sim/queues.py ``submit``);
* the trusted-sourcing policy ignored (models/world.py ``accept_filter``).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from paxsim import load_scenario, simulate

TINY = Path(__file__).parent / "scenarios" / "tiny.toml"
START = dt.date(2025, 1, 1)  # tiny.toml's time.start


def run_tiny(*overrides: str, seed: int = 1) -> Any:
    return simulate(load_scenario(TINY, list(overrides)), seed)


def day(date: dt.date) -> float:
    return float((date - START).days)


# ----------------------------------------------------------------------------- (a) recovery yield
@pytest.mark.parametrize("recovery", [0.9, 0.6])
def test_separated_oxides_are_feed_times_share_times_recovery(recovery: float) -> None:
    # bb_sep idle: every tonne of concentrate consumed is clay fed to aa_sep,
    # so each oxide aa_sep made is that feed x the clay share x the yield.
    res = run_tiny(
        "separation_plants.bb_sep.capacity_t_per_year=0",
        f"separation_plants.aa_sep.recovery_yield={recovery}",
    )
    feed = float(res.balance.set_index("material").loc["concentrate", "consumed"])
    assert feed > 1000
    prov = res.provenance
    made = prov[prov["facility"] == "aa_sep"].groupby("material")["qty"].sum()
    clay = {"ndpr_oxide": 0.25, "ce_oxide": 0.05, "dy_oxide": 0.06, "tb_oxide": 0.01}
    for material, share in clay.items():
        assert made[material] == pytest.approx(feed * share * recovery, rel=1e-6), material


# ----------------------------------------------------------------------------- (b) litigation
def _project_permit_rows(outcome: str) -> pd.DataFrame:
    res = run_tiny(
        "authorities.county.litigation_probability=1.0",
        "authorities.county.litigation_days=30",
        f"authorities.county.litigation_outcome='{outcome}'",
    )
    q = res.queue_records
    return q[(q["gate"] == "permit:county") & ~q["background"]].sort_values("arrival")


def test_litigation_requeue_goes_back_through_the_reviewers_queue() -> None:
    delay = _project_permit_rows("delay")
    requeue = _project_permit_rows("requeue")
    # Under "delay" each applicant (bb_campus, bb_magnets) passes the queue once.
    assert len(delay) == 2
    # Under "requeue" every application lost in court queues again ...
    assert len(requeue) > len(delay)
    # ... arriving exactly when its 30 days in court end, behind the others.
    ends = requeue["end"].to_numpy() + 30.0
    rearrivals = [a for a in requeue["arrival"] if np.isclose(ends, a, atol=1e-6).any()]
    assert len(rearrivals) >= 2
    assert requeue["wait"].iloc[2:].max() > 0


# ----------------------------------------------------------------------------- (c) quota renewal
def test_export_quota_renews_every_quota_year() -> None:
    quota = 3.0
    res = run_tiny(
        "export_controls.aa_heavy.mode='quota'",
        f"export_controls.aa_heavy.quota_per_year={quota}",
        "export_controls.aa_heavy.materials=['ndfeb_magnet']",
    )
    ex = res.exports
    start = day(dt.date(2025, 4, 4))
    horizon = day(dt.date(2029, 1, 1))
    mag = ex[(ex["origin"] == "AA") & (ex["material"] == "ndfeb_magnet") & (ex["time"] >= start)]
    period = ((mag["time"] - start) // 365.25).astype(int)
    complete = int((horizon - start) // 365.25)
    assert complete >= 3
    per_period = mag.groupby(period)["qty"].sum()
    # Exports resume in every quota year ...
    for k in range(complete):
        assert per_period.get(k, 0.0) > 0, f"no exports in quota year {k}"
    # ... so over the regime they add up to more than one year's quota and a lot.
    assert mag["qty"].sum() > quota + mag["qty"].max()


# ----------------------------------------------------------------------------- (d) capacity changes
def test_capacity_change_sets_the_production_rate_from_its_date() -> None:
    res = run_tiny(
        "mines.bb_mine.capacity_changes=[{date=2026-07-01, capacity=10000.0, "
        "source='assumption: test'}]"
    )
    ts = res.facility_timeseries
    out = ts[(ts["entity"] == "bb_mine") & (ts["variable"] == "output")]
    by_year = out.groupby(out["date"].dt.year)["value"].sum()
    assert by_year[2025] == pytest.approx(4000, rel=0.1)  # the nameplate before
    assert by_year[2027] == pytest.approx(10000, rel=0.1)  # the new rate after
    assert 4000 * 1.1 < by_year[2026] < 10000 * 0.9  # half a year of each


# ----------------------------------------------------------------------------- (e) background waits
def test_background_waits_at_a_saturated_gate_match_queueing_theory() -> None:
    # One reviewer, fixed 3-day reviews, ~100 background applications a year:
    # an M/D/1 queue at utilisation ~0.82. Pollaczek-Khinchine gives the mean
    # wait rho * S / (2 (1 - rho)); by PASTA a share rho of arrivals wait at all.
    service = 3.0
    ratios, waited = [], []
    for seed in (1, 2):
        res = run_tiny(
            "authorities.county.reviewers=1",
            f"authorities.county.review_days={service}",
            "authorities.county.background_per_year=100",
            "time.end=2035-01-01",
            seed=seed,
        )
        q = res.queue_records
        # requests still in review at the horizon are recorded as censored
        bg = q[(q["gate"] == "permit:county") & q["background"] & ~q["censored"]]
        span = day(dt.date(2035, 1, 1))
        rho = len(bg) / span * service
        assert 0.7 < rho < 0.95
        assert bg["service"].sum() / span == pytest.approx(rho, rel=0.05)  # utilisation
        assert (bg["wait"] >= 0).all()
        expected = rho * service / (2 * (1 - rho))
        ratios.append(bg["wait"].mean() / expected)
        waited.append((bg["wait"] > 1e-9).mean() - rho)
    assert 0.7 < float(np.mean(ratios)) < 1.4, ratios
    assert abs(float(np.mean(waited))) < 0.05, waited


# ----------------------------------------------------------------------------- (f) trusted sourcing
POLICY = (
    "policies.trusted_sourcing.bb_trusted={countries=['BB'], "
    "materials=['ndfeb_magnet', 'ndpr_oxide', 'ce_oxide'], start=2026-01-01, "
    "source='assumption: test'}"
)
COVERED = ["ndfeb_magnet", "ndpr_oxide", "ce_oxide"]
POLICY_DAY = day(dt.date(2026, 1, 1))
BASE = ("grid.west.spare_mw=1000",)  # so phases come online without the policy


def _countries(scenario: Any) -> dict[str, str]:
    """Buyer name -> country, for every kind of buyer the shipments table names."""
    out: dict[str, str] = {}
    for section in ("separation_plants", "magnet_makers", "fabs", "demands", "datacenters"):
        for name, ent in getattr(scenario, section).items():
            out[name] = ent.country
    return out


def _buyer_country(buyer: str, countries: dict[str, str]) -> str:
    return countries[buyer.split("/")[0]]  # data-center orders are named campus/phase


def _trusted_made(prov: pd.DataFrame, members: set[str]) -> pd.Series:
    """Per (facility, material): output whose whole provenance is coalition members."""
    ok = prov["provenance"].str.split("+").apply(lambda tags: set(tags) <= members)
    return prov[ok].groupby(["facility", "material"])["qty"].sum()


@pytest.mark.parametrize("seed", [0, 1])
def test_trusted_sourcing_buyers_take_only_trusted_lots(seed: int) -> None:
    # bb_mine too small: bb_sep also refines AA clay, so its stock mixes
    # BB-only (trusted) pools with AA+BB ones the policy must leave behind.
    scenario = load_scenario(TINY, [*BASE, POLICY, "mines.bb_mine.capacity_t_per_year=1000"])
    res = simulate(scenario, seed)
    countries = _countries(scenario)
    ships = res.shipments.assign(
        country=[_buyer_country(b, countries) for b in res.shipments["buyer"]]
    )
    covered = ships["material"].isin(COVERED) & (ships["country"] == "BB")
    after = ships[covered & (ships["time"] >= POLICY_DAY)]
    # Before the start date BB buyers still take untrusted (AA-made) lots ...
    before = ships[covered & (ships["time"] < POLICY_DAY)]
    assert (before["supplier"] == "aa_magnets").any()
    # ... after it, a supplier ships BB buyers no more than it ever made from
    # club-only (trusted) provenance; AA plants made none, so they ship nothing.
    trusted = _trusted_made(res.provenance, {"BB"})
    shipped = after.groupby(["supplier", "material"])["qty"].sum()
    assert shipped.get(("bb_sep", "ndpr_oxide"), 0.0) > 0, "trusted material still flows"
    for (supplier, material), qty in shipped.items():
        assert qty <= trusted.get((supplier, material), 0.0) + 1e-6, (supplier, material, qty)
    assert not after["supplier"].isin(["aa_magnets", "aa_sep"]).any()
    # Buyers in other countries are not named, and keep buying AA lots.
    aa = ships[(ships["country"] == "AA") & (ships["time"] >= POLICY_DAY)]
    assert (aa["supplier"] == "aa_magnets").any()
    assert res.shortages["reason"].str.startswith("untrusted_stock").any()


def test_trusted_sourcing_never_brings_a_data_center_online_earlier() -> None:
    # From early 2025: the campus (tier 1) gets its magnets in 2025, so a 2026
    # mandate would come after its orders; this one covers them.
    early = POLICY.replace("start=2026-01-01", "start=2025-02-01")
    later = 0
    for seed in range(4):
        without = run_tiny(*BASE, seed=seed).projects.set_index("phase_id")["online_day"]
        with_policy = run_tiny(*BASE, early, seed=seed).projects.set_index("phase_id")
        assert list(with_policy.index) == list(without.index)
        for phase, base_day in without.items():
            policy_day = with_policy.loc[phase, "online_day"]
            a = math.inf if pd.isna(base_day) else float(base_day)
            b = math.inf if pd.isna(policy_day) else float(policy_day)
            assert b >= a - 1e-9, (seed, phase, a, b)
            later += b > a + 1e-9
    # Magnets all carry AA provenance, so the lever must bite somewhere.
    assert later > 0
