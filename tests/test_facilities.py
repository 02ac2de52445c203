"""Domain tests of the facilities, trust and provenance (models/*.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from paxsim.models.loader import load_scenario
from paxsim.models.scenario import Coalition
from paxsim.models.simulation import simulate
from paxsim.models.trust import Trust
from paxsim.models.world import World
from paxsim.sim.calendar import SimCalendar

TINY = Path(__file__).parent / "scenarios" / "tiny.toml"


def world(*overrides: str, seed: int = 1) -> World:
    return World(load_scenario(TINY, list(overrides)), seed).run()


def test_trust_follows_membership_dates() -> None:
    coalition = Coalition.model_validate(
        {
            "name": "c",
            "source": "assumption: test",
            "members": [
                {"country": "US", "joined": "2025-12-12", "source": "assumption: t"},
                {"country": "JP", "joined": "2025-12-12", "left": "2030-01-01", "source": "a: t"},
            ],
        }
    )
    trust = Trust(coalition, SimCalendar(dt.date(2025, 1, 1)))
    dec = float((dt.date(2025, 12, 12) - dt.date(2025, 1, 1)).days)
    assert not trust.is_trusted({"US"}, dec - 1)
    assert trust.is_trusted({"US", "JP"}, dec)
    assert not trust.is_trusted({"US", "CN"}, dec + 10)
    assert not trust.is_trusted({"JP"}, 5 * 365.25 + 10)


def test_separation_yields_basket_times_recovery() -> None:
    w = world("mines.aa_mine.outages.every_days=30000")
    plant = w.facilities["aa_sep"]
    produced = plant.chain.ledger.produced
    # Every NdPr tonne came from concentrate x basket share x yield (two plants, two baskets).
    res = simulate(load_scenario(TINY), 1)
    prov = res.provenance
    ndpr = prov[(prov["facility"] == "aa_sep") & (prov["material"] == "ndpr_oxide")]["qty"].sum()
    ce = prov[(prov["facility"] == "aa_sep") & (prov["material"] == "ce_oxide")]["qty"].sum()
    assert ndpr / ce == pytest.approx(0.25 / 0.05, rel=1e-9)  # the clay basket's ratio
    assert produced["ndpr_oxide"] > 0


def test_plant_without_heavy_capability_makes_no_heavy_oxides() -> None:
    # bb_sep has no heavy-REE circuit; fed clay (heavy-rich) once qualified, it still makes none.
    res = simulate(load_scenario(TINY, ["mines.bb_mine.capacity_t_per_year=100"]), 1)
    prov = res.provenance
    bb = prov[prov["facility"] == "bb_sep"]
    assert bb[bb["material"] == "ndpr_oxide"]["qty"].sum() > 0
    assert bb[bb["material"].isin(["dy_oxide", "tb_oxide"])]["qty"].sum() == 0


def test_heavy_capability_starts_on_its_date() -> None:
    res = simulate(load_scenario(TINY, ["separation_plants.aa_sep.heavy_from=2026-01-01"]), 1)
    prov = res.provenance
    dy = prov[(prov["facility"] == "aa_sep") & (prov["material"] == "dy_oxide")]
    assert dy["qty"].sum() > 0
    assert dy[dy["qty"] > 0]["date"].min() >= pd_ts("2026-01-01")


def pd_ts(text: str):  # type: ignore[no-untyped-def]
    import pandas as pd

    return pd.Timestamp(text)


def test_unqualified_supplier_is_used_only_after_qualification() -> None:
    res = simulate(
        load_scenario(
            TINY,
            [
                "mines.bb_mine.capacity_t_per_year=100",  # too small: bb_sep must turn to aa_mine
                "separation_plants.bb_sep.qualification_days=200",
            ],
        ),
        1,
    )
    ev = res.events
    qualified = ev[ev["event"] == "qualified:aa_mine"]
    assert len(qualified) == 1
    ships = res.shipments
    from_aa = ships[(ships["supplier"] == "aa_mine") & (ships["buyer"] == "bb_sep")]
    assert len(from_aa) > 0
    assert from_aa["time"].min() >= qualified["time"].iloc[0]


def test_planned_facility_produces_only_after_it_is_built() -> None:
    res = simulate(load_scenario(TINY), 1)
    online = res.events[(res.events["entity"] == "bb_magnets") & (res.events["event"] == "online")]
    assert len(online) == 1
    start = float((dt.date(2025, 6, 1) - dt.date(2025, 1, 1)).days)
    assert online["time"].iloc[0] > start
    prov = res.provenance
    made = prov[(prov["facility"] == "bb_magnets") & (prov["qty"] > 0)]
    assert made.empty or made["time"].min() >= online["time"].iloc[0]


def test_stockpile_ships_only_from_its_release_date() -> None:
    res = simulate(
        load_scenario(
            TINY,
            [
                "stockpiles.reserve={country='BB', material='ndfeb_magnet', initial=500.0, "
                "release_from=2026-06-01, source='assumption: test'}",
                "demands.bb_buyers={country='BB', material='ndfeb_magnet', rate_per_year=400.0, "
                "suppliers=['reserve'], source='assumption: test'}",
            ],
        ),
        1,
    )
    ships = res.shipments[res.shipments["supplier"] == "reserve"]
    release = float((dt.date(2026, 6, 1) - dt.date(2025, 1, 1)).days)
    assert len(ships) > 0 and ships["time"].min() >= release
    assert ships["qty"].sum() <= 500 + 1e-6


def test_demand_grows_at_its_rate() -> None:
    w = world()
    sink = w.demands["aa_industry"]
    assert sink.rate_per_day(365.25) == pytest.approx(sink.rate_per_day(0) * 1.05)


def test_trusted_only_buyer_takes_no_untrusted_lots() -> None:
    # From mid-2025 the club (BB only) is the trust coalition; AA lots are never trusted.
    res = simulate(load_scenario(TINY, ["demands.aa_industry.trusted_only_from=2025-07-01"]), 1)
    ships = res.shipments[(res.shipments["buyer"] == "aa_industry")]
    late = float((dt.date(2025, 7, 1) - dt.date(2025, 1, 1)).days)
    assert (ships["time"] < late).all()
    assert res.shortages["reason"].str.startswith("untrusted_stock").any()


def test_provenance_accumulates_countries_along_the_chain() -> None:
    res = simulate(load_scenario(TINY), 1)
    prov = res.provenance
    magnets = prov[(prov["facility"] == "bb_magnets") & (prov["qty"] > 0)]
    assert not magnets.empty
    # NdPr from AA or BB, Dy/Tb from AA: every BB magnet has passed through AA.
    assert magnets["provenance"].str.contains("AA").all()
    assert magnets["provenance"].str.contains("BB").all()
