"""The embedded default world (models/data/default.toml): loads, is sourced, is calibrated.

Static checks read the scenario only; the last two run one replication and
compare it with the calibration targets of docs/calibration.md, so a change in
the engine that moves the world away from them shows up here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from paxsim.models.loader import load_scenario
from paxsim.models.scenario import Entity, Facility, Scenario

MID_2025 = dt.date(2025, 7, 1)


@pytest.fixture(scope="module")
def world() -> Scenario:
    return load_scenario()


# --------------------------------------------------------------------------- helpers
def _entities(s: Scenario) -> Iterator[tuple[str, Entity]]:
    """Every named entity (enabled or not) as (dotted path, entity)."""
    for section in (
        "coalitions",
        "baskets",
        "lanes",
        "authorities",
        "grid",
        "export_controls",
        "mines",
        "separation_plants",
        "magnet_makers",
        "fabs",
        "stockpiles",
        "demands",
        "datacenters",
    ):
        for name, ent in getattr(s, section).items():
            yield f"{section}.{name}", ent
    for name, pol in s.policies.trusted_sourcing.items():
        yield f"policies.trusted_sourcing.{name}", pol


def _capacity_on(fac: Any, day: dt.date) -> float:
    """Nameplate in force on ``day`` for an operating facility (planned ones: 0)."""
    if fac.status != "operating":
        return 0.0
    if hasattr(fac, "capacity_t_per_year"):
        cap = fac.capacity_t_per_year
    else:
        cap = fac.capacity_units_per_year
    for change in sorted(fac.capacity_changes, key=lambda c: c.date):
        if change.date <= day:
            cap = change.capacity
    return float(cap)


def _share(table: dict[str, Facility], country: str, day: dt.date) -> float:
    caps = {n: _capacity_on(f, day) for n, f in table.items() if f.enabled}
    total = sum(caps.values())
    ours = sum(c for n, c in caps.items() if table[n].country == country)
    return ours / total


# --------------------------------------------------------------------------- loading
def test_default_loads(world: Scenario) -> None:
    assert world.name == "default"
    assert world.trust_coalition == "pax_silica"
    assert world.policies.trusted_sourcing == {}, "trusted sourcing is a lever, not a default"


def test_horizon_covers_2025_to_2035(world: Scenario) -> None:
    assert world.time.start <= dt.date(2025, 1, 1)
    assert world.time.end >= dt.date(2036, 1, 1)
    assert world.time.step_days == 7


# --------------------------------------------------------------------------- sources
def test_every_enabled_entity_is_sourced(world: Scenario) -> None:
    missing = [p for p, e in _entities(world) if e.enabled and not e.source.strip()]
    assert not missing, f"entities without a source: {missing}"


def test_assumptions_give_a_reason(world: Scenario) -> None:
    """'assumption' alone is not enough: it must say why."""
    texts: list[tuple[str, str]] = []
    for path, ent in _entities(world):
        texts.append((path, ent.source))
        texts += [(f"{path}.sources.{k}", v) for k, v in ent.sources.items()]
        if isinstance(ent, Facility):
            texts += [(f"{path}.capacity_changes", c.source) for c in ent.capacity_changes]
    for name, coal in world.coalitions.items():
        texts += [(f"coalitions.{name}.members.{m.country}", m.source) for m in coal.members]
    assert world.transformers is not None
    texts.append(("transformers", world.transformers.source))
    bare = [
        p
        for p, text in texts
        if text.strip().lower().startswith("assumption")
        and len(text.strip().split(":", 1)[-1].strip()) < 10
    ]
    assert not bare, f"assumptions without a reason: {bare}"


# --------------------------------------------------------------------------- supply shares
def test_china_share_of_separation_feed_2025(world: Scenario) -> None:
    """IEA: China 91-92 % of separation (2023-24); feed capacity should land near it."""
    share = _share(world.separation_plants, "CN", MID_2025)
    assert 0.85 <= share <= 0.95, share


def test_china_share_of_magnet_capacity_2025(world: Scenario) -> None:
    """IEA: China 94 % of permanent-magnet manufacturing (2024)."""
    share = _share(world.magnet_makers, "CN", MID_2025)
    assert 0.85 <= share <= 0.97, share


def test_mines_match_usgs_2024(world: Scenario) -> None:
    """USGS MCS 2025: China 270 kt (quota), US 45 kt, Burma 31 kt, Australia 13 kt."""
    china = sum(m.capacity_t_per_year for m in world.mines.values() if m.country == "CN")
    assert china == pytest.approx(270_000, rel=0.01)
    assert world.mines["mountain_pass"].capacity_t_per_year == 45_000
    assert world.mines["mm_kachin_clay"].capacity_t_per_year == 31_000
    assert world.mines["mt_weld"].capacity_t_per_year == 13_000
    assert world.mines["mm_kachin_clay"].outages is not None, "Myanmar has real disruptions"


def test_baskets_separate_light_and_heavy_ores(world: Scenario) -> None:
    clay = world.baskets["ionic_clay"].shares
    assert clay["dy_oxide"] >= 0.03 and clay["tb_oxide"] >= 0.005
    for light in ("bayan_obo", "bastnaesite", "mt_weld_monazite"):
        shares = world.baskets[light].shares
        assert shares["dy_oxide"] < 0.005, light
        assert 0.15 <= shares["ndpr_oxide"] <= 0.25, light


def test_required_facilities_exist(world: Scenario) -> None:
    for name in (
        "cn_separation",
        "lynas_malaysia",
        "mp_mountain_pass",
        "solvay_la_rochelle",
        "neo_silmet",
        "energy_fuels_white_mesa",
        "iluka_eneabba",
    ):
        assert world.separation_plants[name].enabled, name
    assert world.separation_plants["cn_separation"].heavy_capable
    assert world.separation_plants["lynas_malaysia"].heavy_from == dt.date(2025, 5, 1)
    assert world.separation_plants["iluka_eneabba"].status == "planned"
    for name in (
        "cn_magnets",
        "jp_magnets",
        "mp_independence",
        "mp_10x",
        "neo_narva",
        "evac_sumter",
        "noveon_san_marcos",
    ):
        assert world.magnet_makers[name].enabled, name
    assert world.magnet_makers["mp_10x"].status == "planned"
    for name in (
        "tsmc_arizona_p1",
        "jasm_kumamoto",
        "rapidus_iim1",
        "tw_advanced_fabs",
        "samsung_taylor",
    ):
        assert world.fabs[name].enabled, name
    assert world.fabs["rapidus_iim1"].status == "planned"
    assert world.fabs["samsung_taylor"].status == "planned"


def test_demand_roughly_matches_supply_in_2025(world: Scenario) -> None:
    """Sinks absorb most output without starving the chain in normal times."""
    magnets = sum(d.rate_per_year for d in world.demands.values() if d.material == "ndfeb_magnet")
    magnet_cap = sum(_capacity_on(m, MID_2025) for m in world.magnet_makers.values())
    assert 0.8 <= magnets / magnet_cap <= 1.0, magnets / magnet_cap
    chips = sum(d.rate_per_year for d in world.demands.values() if d.material == "accelerator")
    fab_cap = sum(_capacity_on(f, MID_2025) for f in world.fabs.values())
    assert 0.7 <= chips / fab_cap <= 1.0, chips / fab_cap


# --------------------------------------------------------------------------- gates
def test_export_control_regimes_match_calibration(world: Scenario) -> None:
    regimes = world.export_controls
    april = regimes["cn_apr2025_mofcom18"]
    assert april.country == "CN"
    assert april.start == dt.date(2025, 4, 4)  # MOFCOM/GAC No. 18, effective at once
    assert april.end is None  # not in No. 70's suspended list
    assert {"dy_oxide", "tb_oxide", "ndfeb_magnet"} <= set(april.materials)
    assert april.mode == "licence"
    # ~1 week to 45 working days (~2-3 months): the review itself spans that range
    assert april.review_days.lower_bound() >= 7
    assert 30 <= april.review_days.median() <= 63
    assert april.review_days.upper_bound() <= 100

    october = regimes["cn_oct2025_package"]
    assert october.country == "CN"
    assert october.start == dt.date(2026, 11, 10)  # end of the No. 70 suspension
    # The engine lets the first listed licence regime govern; the broader
    # package must come first to take over once it is in force.
    names = list(regimes)
    assert names.index("cn_oct2025_package") < names.index("cn_apr2025_mofcom18")
    # The 2010 quota cut is a validation case, not part of the default world.
    assert all(r.start >= dt.date(2025, 1, 1) for r in regimes.values())
    assert all(r.mode != "quota" for r in regimes.values())


def test_pax_silica_membership_dates(world: Scenario) -> None:
    members = {m.country: m.joined for m in world.coalitions["pax_silica"].members}
    founders = {"US", "JP", "KR", "SG", "GB", "IL", "AU"}
    assert founders <= set(members)
    assert all(members[c] == dt.date(2025, 12, 12) for c in founders)
    for late in ("AE", "QA"):
        assert dt.date(2025, 12, 12) < members[late] <= dt.date(2026, 3, 31)
    assert "NL" not in members and "TW" not in members and "IN" not in members


def test_grid_regions_and_datacenter_phases(world: Scenario) -> None:
    regions = [n for n, g in world.grid.items() if g.enabled]
    assert len(regions) >= 4
    for required in ("pjm_dominion", "ercot", "tepco_chiba", "hokkaido"):
        assert required in regions
    phases = [
        (name, ph) for name, dc in world.datacenters.items() if dc.enabled for ph in dc.phases
    ]
    assert len(phases) >= 15
    used = {dc.grid_region for dc in world.datacenters.values() if dc.enabled}
    assert len(used) >= 4


def test_datacenter_phases_are_plausible(world: Scenario) -> None:
    for name, dc in world.datacenters.items():
        starts = [ph.start for ph in dc.phases]
        assert starts == sorted(starts), f"{name}: phases must be in start order"
        for ph in dc.phases:
            assert ph.start >= world.time.start, f"{name}: phase starts before the run"
            assert 50 <= ph.it_mw <= 300, f"{name}: phase of {ph.it_mw} MW"
            assert ph.planned_online is None or ph.planned_online > ph.start
        assert 1.1 <= dc.pue <= 1.3
        assert 550 <= dc.accelerators_per_mw <= 780  # 1 / (1.28-1.8 kW per GPU)
        assert 0 < dc.magnet_t_per_mw <= 0.3
        # durations are in days, not years
        assert 300 <= dc.construction_days.median() <= 800, name


def test_durations_are_in_days(world: Scenario) -> None:
    for name, auth in world.authorities.items():
        assert auth.review_days.median() >= 30, name
    for name, region in world.grid.items():
        assert region.upgrade_days.median() >= 365, name
        assert region.connection_days.median() >= 30, name
    assert world.transformers is not None
    weeks = world.transformers.build_days.median() / 7
    assert 52 <= weeks <= 78  # manufacture alone: the pre-2020 lead time, 12-18 months


# --------------------------------------------------------------------------- one replication
@pytest.fixture(scope="module")
def run(default_run: Any) -> Any:
    """The default world, seed 0 (run once per session, see conftest.py)."""
    return default_run


def test_simulated_china_share_of_separated_oxides_2025(run: Any) -> None:
    """Separated-oxide output by origin: China 91-92 % (IEA); accept 0.85-0.95."""
    shares = run.origin_share("CN", ["ndpr_oxide", "dy_oxide", "tb_oxide", "ce_oxide"])
    share_2025 = float(shares.loc[shares["year"] == 2025, "share"].iloc[0])
    assert 0.85 <= share_2025 <= 0.95, share_2025


def test_simulated_grid_waits_in_calibrated_range(run: Any) -> None:
    """Large-load request -> energisation: median ~4 yr, p90 ~7 yr (suggested table)."""
    req = run.grid_requests
    ours = req[~req["background"].astype(bool) & (req["outcome"] == "energized")]
    years = (ours["energized"] - ours["arrival"]) / 365.25
    assert len(years) >= 12
    assert 2.5 <= years.median() <= 6.0, years.median()
