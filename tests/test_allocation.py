"""Allocation under shortage: tiers first, pro rata within a tier, contracts, stockpile rules.

The arithmetic is pinned on :class:`Allocation` itself; the levers are checked
end to end on the tiny world, where one magnet maker cannot serve everyone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from paxsim import load_scenario, simulate
from paxsim.models.allocation import Allocation
from paxsim.models.loader import ScenarioError
from paxsim.models.scenario import Contract, Stockpile
from paxsim.sim.calendar import SimCalendar

TINY = "tests/scenarios/tiny.toml"
CAL = SimCalendar(dt.date(2025, 1, 1))


def _contract(**fields: Any) -> Contract:
    base = {"buyer": "b", "supplier": "s", "material": "m", "source": "assumption: test"}
    return Contract.model_validate(base | fields)


# ---------------------------------------------------------------------------- the rule
def test_without_claims_a_buyer_takes_what_it_asks() -> None:
    alloc = Allocation({}, None, 7.0)
    assert alloc.allowed("s", "m", "b", 3, 40.0, 10.0, 0.0) == 40.0  # stock decides the rest


def test_higher_tiers_claims_are_protected_and_lower_ones_ignored() -> None:
    alloc = Allocation({}, None, 7.0)
    alloc.claim(["s"], "m", "dc", {"s": 1}, 60.0, 0.0)
    alloc.claim(["s"], "m", "sink", {"s": 3}, 500.0, 0.0)
    # a tier-2 plant may take only what is beyond the tier-1 claim
    assert alloc.allowed("s", "m", "plant", 2, 100.0, 100.0, 1.0) == pytest.approx(40.0)
    # the tier-1 buyer is not held back by the tier-3 claim
    assert alloc.allowed("s", "m", "dc", 1, 60.0, 100.0, 1.0) == pytest.approx(60.0)


def test_within_a_tier_a_shortage_is_shared_pro_rata() -> None:
    alloc = Allocation({}, None, 7.0)
    alloc.claim(["s"], "m", "a", {"s": 2}, 30.0, 0.0)
    # b asks 10, a still needs 30: 40 wanted of 20 in stock -> b gets 10/40 of 20
    assert alloc.allowed("s", "m", "b", 2, 10.0, 20.0, 1.0) == pytest.approx(5.0)
    # with enough stock nobody is rationed
    assert alloc.allowed("s", "m", "b", 2, 10.0, 100.0, 1.0) == pytest.approx(10.0)


def test_claims_lapse_after_two_steps_and_clear_when_met() -> None:
    alloc = Allocation({}, None, 7.0)
    alloc.claim(["s"], "m", "dc", {"s": 1}, 60.0, 0.0)
    assert alloc.allowed("s", "m", "x", 2, 50.0, 50.0, 14.0) == 0.0  # still fresh
    assert alloc.allowed("s", "m", "x", 2, 50.0, 50.0, 14.1) == 50.0  # lapsed
    alloc.claim(["s"], "m", "dc", {"s": 1}, 0.0, 15.0)  # met: cleared
    assert alloc.allowed("s", "m", "x", 2, 50.0, 50.0, 15.0) == 50.0


def test_a_contract_sets_the_tier_while_it_holds_and_for_its_volume() -> None:
    terms = {
        "c": _contract(
            tier=1, t_per_year=365.25, start=dt.date(2025, 1, 1), end=dt.date(2026, 1, 1)
        )
    }
    alloc = Allocation(terms, CAL, 7.0)
    assert alloc.tier("b", 3, "s", "m", 10.0) == 1
    assert alloc.tier("b", 3, "other", "m", 10.0) == 3  # another supplier: own tier
    assert alloc.tier("b", 3, "s", "m", 400.0) == 3  # after the end
    # 1 t a day plus a month ahead: by day 10, ~40 t; beyond it, the own tier
    alloc.taken("b", "s", "m", 45.0)
    assert alloc.tier("b", 3, "s", "m", 10.0) == 3
    assert alloc.tier("b", 3, "s", "m", 20.0) == 1  # the entitlement grew again


def test_schema_rules_for_stockpiles_and_contracts() -> None:
    with pytest.raises(ValidationError, match="ban_exporter exactly when"):
        Stockpile.model_validate(
            {
                "country": "BB",
                "material": "m",
                "initial": 1.0,
                "release_from": dt.date(2025, 1, 1),
                "release_on": "export_ban",
                "source": "assumption: test",
            }
        )
    with pytest.raises(ValidationError):
        _contract(tier=0)


def test_references_name_the_field_of_a_bad_contract() -> None:
    bad = [
        'contracts.c1={buyer = "bb_campuz", supplier = "aa_magnets", '
        'material = "ndfeb_magnet", source = "test"}'
    ]
    with pytest.raises(ScenarioError, match=r"contracts\.c1\.buyer.*bb_campus"):
        load_scenario(TINY, bad)
    wrong = [
        'contracts.c1={buyer = "bb_campus", supplier = "aa_sep", '
        'material = "ndfeb_magnet", source = "test"}'
    ]
    with pytest.raises(ScenarioError, match=r"contracts\.c1\.supplier"):
        load_scenario(TINY, wrong)


# ---------------------------------------------------------------------------- end to end
#: One magnet maker, far too small for the industry sink and the campus together.
SCARCE = [
    "magnet_makers.aa_magnets.capacity_t_per_year=2000",
    "magnet_makers.bb_magnets.enabled=false",
    'fabs.bb_fab.suppliers.ndfeb_magnet=["aa_magnets"]',
    'datacenters.bb_campus.magnet_suppliers=["aa_magnets"]',
    "datacenters.bb_campus.magnet_t_per_mw=5.0",
]


def _phase_magnet_short(overrides: list[str], seed: int = 4) -> float:
    res = simulate(load_scenario(TINY, [*SCARCE, *overrides]), seed)
    short = res.shortages
    mine = short[(short["material"] == "ndfeb_magnet") & (short["context"] == "phase")]
    return float(mine["qty"].sum())


def test_data_centre_tier_is_served_before_the_rest_of_the_economy() -> None:
    first = _phase_magnet_short([])  # campus tier 1, industry tier 3 (the defaults)
    last = _phase_magnet_short(["datacenters.bb_campus.supply_tier=9"])
    assert first < last


def test_a_contract_adds_a_supplier_without_restating_the_list() -> None:
    scenario = load_scenario(
        TINY,
        [
            'contracts.extra={buyer = "aa_industry", supplier = "bb_magnets", '
            'material = "ndfeb_magnet", tier = 2, source = "assumption: test"}'
        ],
    )
    from paxsim.models.world import World

    world = World(scenario, 1)
    assert world.demands["aa_industry"].slot.suppliers == ["aa_magnets", "bb_magnets"]
    assert scenario.demands["aa_industry"].suppliers == ["aa_magnets"]  # the spec is untouched


def _pile(**fields: Any) -> str:
    base = {
        "country": "BB",
        "material": "ndfeb_magnet",
        "initial": 3000.0,
        "release_from": "2025-01-01",
        "eligible": ["bb_campus"],
        "source": "assumption: test",
    }
    body = ", ".join(
        f"{k} = {v!r}".replace("'", '"') if not isinstance(v, float) else f"{k} = {v}"
        for k, v in (base | fields).items()
    )
    return "stockpiles.reserve={" + body.replace('"2025-01-01"', "2025-01-01") + "}"


def test_an_eligible_stockpile_released_on_shortage_relieves_the_phase() -> None:
    without = _phase_magnet_short([])
    with_pile = _phase_magnet_short([_pile(release_on="shortage")])
    assert with_pile < without


def test_a_ban_triggered_stockpile_stays_shut_without_a_ban() -> None:
    # No ban on magnets from AA to BB in the tiny world: the reserve never opens.
    shut = _phase_magnet_short([_pile(release_on="export_ban", ban_exporter="AA")])
    without = _phase_magnet_short([])
    assert shut == pytest.approx(without)


def test_a_release_cap_limits_what_the_stockpile_ships() -> None:
    scenario = load_scenario(
        TINY, [*SCARCE, _pile(release_on="shortage", release_t_per_year=100.0)]
    )
    res = simulate(scenario, 4)
    ship = res.shipments
    out = float(ship.loc[ship["supplier"] == "reserve", "qty"].sum())
    years = (scenario.time.end - scenario.time.start).days / 365.25
    assert 0 < out <= 100.0 * years + 100.0 / 12 + 1e-6


def _reserve_bought(overrides: list[str], seed: int = 4) -> tuple[float, float]:
    """(what the reserve bought back, what it released) over the run."""
    from paxsim.models.world import World

    world = World(load_scenario(TINY, overrides), seed).run()
    pile = world.stockpiles["reserve"]
    return pile.bought_t, pile.released_t


def test_a_drawn_reserve_refills_from_spare_supply_but_never_from_buyers_in_need() -> None:
    # Short while the campus orders, plenty from mid-2026: the reserve buys itself back.
    campus_short = [
        *SCARCE,
        "magnet_makers.aa_magnets.capacity_changes="
        '[{date = 2026-06-01, capacity = 40000, source = "assumption: test"}]',
    ]
    bought, released = _reserve_bought(
        [
            *campus_short,
            _pile(release_on="shortage", replenish_t_per_year=600.0, replenish_from=["aa_magnets"]),
        ]
    )
    assert released > 0
    assert 0 < bought <= released + 1e-6  # refills what it gave, never more than its size
    # Scarce magnets: everyone else needs them first, so the reserve buys nothing back.
    bought_scarce, released_scarce = _reserve_bought(
        [
            *SCARCE,
            _pile(release_on="shortage", replenish_t_per_year=600.0, replenish_from=["aa_magnets"]),
        ]
    )
    assert released_scarce > 0
    assert bought_scarce == pytest.approx(0.0, abs=1e-6)


def test_replenishment_needs_a_rate_and_suppliers_together() -> None:
    with pytest.raises(ValidationError, match="replenish_t_per_year and replenish_from"):
        Stockpile.model_validate(
            {
                "country": "BB",
                "material": "m",
                "initial": 1.0,
                "release_from": dt.date(2025, 1, 1),
                "replenish_t_per_year": 10.0,
                "source": "assumption: test",
            }
        )


def test_a_new_magnet_plant_permitted_and_built_through_the_gates_relieves_the_campus() -> None:
    """The planned bb_magnets passes the county's permits and its build, then supplies."""
    later = "datacenters.bb_campus.phases=[{it_mw = 100, start = 2027-06-01}]"  # after it is built
    plant = [
        later,
        "magnet_makers.bb_magnets.enabled=true",
        'datacenters.bb_campus.magnet_suppliers=["bb_magnets", "aa_magnets"]',
    ]
    assert _phase_magnet_short(plant) < _phase_magnet_short([later])
    res = simulate(load_scenario(TINY, [*SCARCE, *plant]), 4)
    events = res.events
    online = events[(events["entity"] == "bb_magnets") & (events["event"] == "online")]
    assert len(online) == 1 and float(online["time"].iloc[0]) > 150  # after permits and build


def test_an_allied_offtake_contract_relieves_a_campus_that_did_not_list_the_maker() -> None:
    later = "datacenters.bb_campus.phases=[{it_mw = 100, start = 2027-06-01}]"
    plant = [later, "magnet_makers.bb_magnets.enabled=true"]  # the campus lists aa_magnets only
    contract = (
        'contracts.offtake={buyer = "bb_campus", supplier = "bb_magnets", '
        'material = "ndfeb_magnet", tier = 1, source = "assumption: test"}'
    )
    assert _phase_magnet_short([*plant, contract]) < _phase_magnet_short(plant)
