"""Trust by rules of origin: tiers with dates, origin stages, de minimis, FEOC, mandates.

Pinned on the :class:`Trust` rules directly, then end to end on the tiny world
(where a de minimis share, a partner tier or a FEOC flag each changes what
counts as trusted in the direction its rule implies).
"""

from __future__ import annotations

import datetime as dt

import pytest

from paxsim import load_scenario, simulate
from paxsim.models.scenario import Coalition, RulesOfOrigin
from paxsim.models.trust import FEOC, Trust, origin_tokens, stage_tags, touched_only
from paxsim.sim.calendar import SimCalendar

CAL = SimCalendar(dt.date(2025, 1, 1))
TINY = "tests/scenarios/tiny.toml"


def _member(country: str, joined: str, left: str | None = None) -> dict[str, object]:
    out: dict[str, object] = {"country": country, "joined": dt.date.fromisoformat(joined)}
    if left:
        out["left"] = dt.date.fromisoformat(left)
    return out | {"source": "assumption: test"}


def _trust(tiers: list[str] | None = None) -> Trust:
    coalition = Coalition.model_validate(
        {
            "name": "club",
            "source": "assumption: test",
            "members": [_member("US", "2025-06-01"), _member("JP", "2025-06-01")],
            "partners": [_member("TW", "2025-06-01")],
            "of_concern": [_member("CN", "2000-01-01")],
        }
    )
    rules = RulesOfOrigin.model_validate(
        {"trusted_tiers": tiers or ["signatory"], "source": "assumption: test"}
    )
    return Trust(coalition, CAL, rules)


DAY = 365.0  # 2026-01-01, after everyone joined


def test_tiers_have_dates() -> None:
    trust = _trust()
    assert trust.tier("US", 0.0) == "neutral"  # before it joined
    assert trust.tier("US", DAY) == "signatory"
    assert trust.tier("TW", DAY) == "partner"
    assert trust.tier("CN", DAY) == "concern"
    assert trust.tier("MY", DAY) == "neutral"


def test_origin_is_the_stages_carried_not_every_country_touched() -> None:
    # A Japanese magnet of Chinese NdPr carries both stages; one whose Chinese input
    # was below the de minimis share carries only the Japanese stage.
    full = stage_tags("CN") | stage_tags("JP")
    minimis = touched_only(stage_tags("CN")) | stage_tags("JP")
    assert origin_tokens(full) == {"CN", "JP"}
    assert origin_tokens(minimis) == {"JP"}
    assert "CN" in minimis  # still recorded as touched
    trust = _trust(["signatory", "partner"])
    assert not trust.is_trusted(full, DAY)
    assert trust.is_trusted(minimis, DAY)


def test_partners_count_only_where_the_tiers_say_so() -> None:
    taiwan = stage_tags("TW")
    assert not _trust(["signatory"]).is_trusted(taiwan, DAY)
    assert _trust(["signatory", "partner"]).is_trusted(taiwan, DAY)
    # a mandate may name its own tiers, whatever the scenario's default
    assert _trust(["signatory"]).is_trusted(taiwan, DAY, ("signatory", "partner"))


def test_a_foreign_entity_of_concern_taints_the_path() -> None:
    trust = _trust(["signatory", "partner"])
    assert trust.is_trusted(stage_tags("US"), DAY)
    assert not trust.is_trusted(stage_tags("US", feoc=True), DAY)
    assert FEOC in stage_tags("US", feoc=True)


def test_plain_country_lists_are_read_as_origins() -> None:
    # old-style provenance (a stockpile's list of countries) still works
    trust = _trust()
    assert trust.is_trusted(frozenset({"US", "JP"}), DAY)
    assert not trust.is_trusted(frozenset({"US", "CN"}), DAY)


# ---------------------------------------------------------------------------- end to end
def _accelerator_trusted(overrides: list[str], seed: int = 2) -> float:
    """Share of the tiny fab's accelerator output trusted, after BB joined the club."""
    res = simulate(load_scenario(TINY, overrides), seed)
    ts = res.trusted_share
    acc = ts[(ts["material"] == "accelerator") & (ts["time"] > 200)]
    return float(acc["trusted_output"].sum() / acc["output"].sum())


def test_de_minimis_inputs_stop_tainting_the_accelerators() -> None:
    # The fab (BB, a member) uses AA ceria and AA magnets; AA is not a member.
    strict = _accelerator_trusted([])
    lenient = _accelerator_trusted(
        [
            "rules_of_origin.de_minimis_mass_share=0.1",
            "materials.accelerator.unit_mass_t=0.001",
        ]
    )
    assert lenient > strict
    assert lenient == pytest.approx(1.0)


def test_a_feoc_fab_is_never_trusted() -> None:
    lenient = [
        "rules_of_origin.de_minimis_mass_share=0.1",
        "materials.accelerator.unit_mass_t=0.001",
    ]
    flagged = _accelerator_trusted([*lenient, "fabs.bb_fab.foreign_entity_of_concern=true"])
    assert flagged == 0.0


def test_phase_trusted_shares_are_reported() -> None:
    res = simulate(load_scenario(TINY), 1)
    cols = {"magnet_trusted_share", "accelerator_trusted_share"}
    assert cols <= set(res.projects.columns)
    shares = res.projects[sorted(cols)].stack()
    assert ((shares >= 0) & (shares <= 1)).all()


def test_default_world_counts_allied_accelerators_as_trusted(default_run: object) -> None:
    ts = default_run.trusted_share  # type: ignore[attr-defined]
    late = ts[(ts["material"] == "accelerator") & (ts["date"] >= "2027-01-01")]
    share = late["trusted_output"].sum() / late["output"].sum()
    # TSMC Taiwan (partner), TSMC Arizona, Samsung Taylor, Rapidus (signatories)
    assert share > 0.9
