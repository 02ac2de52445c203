"""The mill's levers on the default world, each in the direction its mechanism implies.

Paired on the seed (common random numbers), so each difference is the lever's.
Outputs are read where the lever acts (a plant's output, a phase's deliveries),
not only at data-centre dates, which the grid often holds instead (``paxsim
compare`` then says so in its "not moved because" column).
"""

from __future__ import annotations

from functools import cache

import pandas as pd
import pytest

from paxsim import load_scenario, simulate
from paxsim.models.results import Results

SCENARIOS = "experiments/scenarios"
US_MAKERS = [
    "mp_independence",
    "mp_10x",
    "evac_sumter",
    "noveon_san_marcos",
    "usa_rare_earth_stillwater",
]
SEEDS = (0, 1)


@cache
def _run(path: str, seed: int) -> Results:
    return simulate(load_scenario(path), seed)


def _output(res: Results, entities: list[str], material: str, years: range) -> float:
    ts = res.facility_timeseries
    rows = ts[
        ts["entity"].isin(entities) & (ts["variable"] == "output") & (ts["material"] == material)
    ]
    year = pd.to_datetime(rows["date"]).dt.year
    return float(rows.loc[year.isin(list(years)), "value"].sum())


@pytest.mark.parametrize("seed", SEEDS)
def test_a_reserve_released_on_the_ban_keeps_us_magnet_makers_running(seed: int) -> None:
    ban = _run(f"{SCENARIOS}/magnet_ban_2027.toml", seed)
    reserve = _run(f"{SCENARIOS}/us_dy_tb_stockpile.toml", seed)
    years = range(2027, 2030)
    assert _output(reserve, US_MAKERS, "ndfeb_magnet", years) > _output(
        ban, US_MAKERS, "ndfeb_magnet", years
    )
    # before the ban the reserve stays shut: identical output
    early = range(2025, 2027)
    assert _output(reserve, US_MAKERS, "ndfeb_magnet", early) == pytest.approx(
        _output(ban, US_MAKERS, "ndfeb_magnet", early)
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_heavy_ree_separation_raises_us_heavy_oxide_output(seed: int) -> None:
    base = _run("default", seed)
    lever = _run(f"{SCENARIOS}/heavy_ree_acceleration.toml", seed)
    years = range(2027, 2032)
    plant = ["mp_heavy_circuit"]
    assert _output(lever, plant, "dy_oxide", years) > _output(base, plant, "dy_oxide", years)


def _from_china_to(res: Results, countries: set[str], after_day: float) -> float:
    """Magnets shipped from the Chinese maker to buyers in ``countries`` after a day."""
    scenario = load_scenario()
    country_of = {n: e.country for n, e in scenario.datacenters.items()}
    country_of |= {n: e.country for n, e in scenario.demands.items()}
    for table in scenario.facility_tables().values():
        country_of |= {n: e.country for n, e in table.items()}
    ships = res.shipments
    buyer = ships["buyer"].str.split("/").str[0].map(country_of)
    late = ships[
        (ships["material"] == "ndfeb_magnet")
        & (ships["supplier"] == "cn_magnets")
        & (ships["time"] > after_day)
        & buyer.isin(countries)
    ]
    return float(late["qty"].sum())


def test_a_trusted_origin_mandate_stops_untrusted_magnets_reaching_us_and_japan() -> None:
    mandate_day = 365.25 * 3 + 1  # 2028-01-01 and after
    base = _run("default", 0)
    mandate = _run(f"{SCENARIOS}/trusted_sourcing_2028.toml", 0)
    assert _from_china_to(base, {"US", "JP"}, mandate_day) > 0  # not vacuous
    assert _from_china_to(mandate, {"US", "JP"}, mandate_day) == 0.0
    # buyers elsewhere are not bound by it
    assert _from_china_to(mandate, {"DE", "KR"}, mandate_day) > 0


def test_magnets_are_made_from_metal_and_china_makes_most_of_it(default_run: Results) -> None:
    ts = default_run.facility_timeseries
    metal = ts[(ts["material"] == "ndpr_metal") & (ts["variable"] == "output")]
    assert metal["value"].sum() > 0
    scenario = load_scenario()
    country = {n: p.country for n, p in scenario.metal_plants.items()}
    year = pd.to_datetime(metal["date"]).dt.year
    in_2026 = metal[year == 2026]
    by_country = in_2026.groupby(in_2026["entity"].map(country))["value"].sum()
    assert by_country["CN"] / by_country.sum() > 0.85  # the chokepoint the mill issue names
    # what the magnet makers made needed 0.286 t of metal a tonne: no metal, no magnets
    bal = default_run.balance.set_index("material")
    assert abs(bal.loc["ndpr_metal", "imbalance"]) < 1e-6 * bal.loc["ndpr_metal", "produced"]
    made = ts[(ts["material"] == "ndfeb_magnet") & (ts["variable"] == "output")]["value"].sum()
    used = bal.loc["ndpr_metal", "consumed"]
    assert used == pytest.approx(0.286 * made, rel=0.02)


def test_recycling_recovers_oxides_and_more_scrap_means_more_us_oxide() -> None:
    base = _run("default", 0)
    more = simulate(load_scenario(overrides=["mines.us_magnet_scrap.capacity_t_per_year=460"]), 0)
    years = range(2025, 2028)
    recycler = ["us_magnet_recycling"]
    got = _output(base, recycler, "ndpr_oxide", years)
    assert got > 0
    assert _output(more, recycler, "ndpr_oxide", years) > got
    # the recovered Dy is real heavy-REE supply outside China
    assert _output(base, recycler, "dy_oxide", years) > 0


def test_pipeline_sites_after_2027_order_magnets_and_the_mandate_binds_them() -> None:
    """The national pipelines give the mill data centres to act on after 2027."""
    after = 365.25 * 3 + 1  # committed from 2028 on (the mandate's start)
    base = _run("default", 0).pipeline_requests
    mandate = _run(f"{SCENARIOS}/trusted_sourcing_2028.toml", 0).pipeline_requests
    us_jp_late = (base["committed"] >= after) & base["country"].isin(["US", "JP"])
    assert us_jp_late.sum() > 20  # sites keep committing after 2027
    shares = base.loc[us_jp_late, "magnet_trusted_share"].dropna()
    assert len(shares) and (shares < 1).any()  # untrusted magnets reach them without it
    late = (mandate["committed"] >= after) & mandate["country"].isin(["US", "JP"])
    bound = mandate.loc[late, "magnet_trusted_share"].dropna()
    assert (bound == 1.0).all()  # with it, only trusted lots
    # and the constraint costs time: fewer of those sites are equipped by the horizon
    assert (
        mandate.loc[late, "equipped"].notna().mean()
        < base.loc[us_jp_late, "equipped"].notna().mean()
    )
