"""Hypothesis strategies: random small scenarios built from tests/scenarios/tiny.toml.

``scenario_dicts()`` starts from tiny.toml's table (read with tomllib) and
draws the parameters that shape a run: capacities, yields, rates, phase sizes
and dates, permit mode, the time step, reviewers, spare MW, export control
off / licence / ban, and a horizon of 2-4 years. The result is a raw dict, ready for
:func:`models.loader.validate_raw`.
"""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

TINY = Path(__file__).resolve().parent / "scenarios" / "tiny.toml"

__all__ = ["TINY", "scenario_dicts", "seeds", "tiny_raw"]

#: Seeds accepted by ``simulate`` (non-negative integers).
seeds = st.integers(min_value=0, max_value=2**32 - 1)


@cache
def _tiny_raw() -> dict[str, Any]:
    return tomllib.loads(TINY.read_text(encoding="utf-8"))


def tiny_raw() -> dict[str, Any]:
    """A fresh deep copy of tiny.toml's table."""
    return copy.deepcopy(_tiny_raw())


def _amount(high: int) -> st.SearchStrategy[float]:
    """A capacity or rate: zero now and then, otherwise a whole number up to ``high``."""
    return st.one_of(st.just(0.0), st.integers(1, high).map(float))


def _fraction(low: float, high: float) -> st.SearchStrategy[float]:
    return st.integers(round(low * 1000), round(high * 1000)).map(lambda v: v / 1000)


@st.composite
def _phase(draw: st.DrawFn, start: dt.date, end: dt.date) -> dict[str, Any]:
    span = (end - start).days
    begin = start + dt.timedelta(days=draw(st.integers(-120, span - 30)))
    phase: dict[str, Any] = {"it_mw": float(draw(st.integers(1, 400))), "start": begin}
    if draw(st.booleans()):
        phase["planned_online"] = begin + dt.timedelta(days=draw(st.integers(0, 1200)))
    return phase


@st.composite
def scenario_dicts(draw: st.DrawFn) -> dict[str, Any]:
    raw = tiny_raw()
    start = raw["time"]["start"]
    years = draw(st.integers(2, 4))
    end = start.replace(year=start.year + years)
    raw["time"]["end"] = end
    raw["time"]["step_days"] = draw(st.sampled_from([3.5, 7.0, 14.0, 30.0]))

    raw["mines"]["aa_mine"]["capacity_t_per_year"] = draw(_amount(40_000))
    raw["mines"]["bb_mine"]["capacity_t_per_year"] = draw(_amount(10_000))
    for name, high in (("aa_sep", 30_000), ("bb_sep", 8_000)):
        plant = raw["separation_plants"][name]
        plant["capacity_t_per_year"] = draw(_amount(high))
        plant["recovery_yield"] = draw(_fraction(0.3, 1.0))
    raw["magnet_makers"]["aa_magnets"]["capacity_t_per_year"] = draw(_amount(20_000))
    raw["magnet_makers"]["bb_magnets"]["capacity_t_per_year"] = draw(_amount(3_000))
    fab = raw["fabs"]["bb_fab"]
    fab["wafer_starts_per_month"] = draw(_amount(10_000))
    fab["ai_wafer_share"] = draw(_fraction(0.05, 1.0))
    raw["demands"]["aa_industry"]["rate_per_year"] = draw(_amount(20_000))
    raw["demands"]["aa_industry"]["growth_per_year"] = draw(_fraction(-0.2, 0.3))
    raw["demands"]["bb_chips"]["rate_per_year"] = draw(_amount(1_000_000))

    raw["authorities"]["county"]["reviewers"] = draw(st.integers(1, 4))
    raw["authorities"]["county"]["background_per_year"] = float(draw(st.integers(0, 12)))
    grid = raw["grid"]["west"]
    grid["spare_mw"] = float(draw(st.integers(0, 600)))
    grid["study_teams"] = draw(st.integers(1, 3))
    grid["upgrade_mw"] = float(draw(st.integers(10, 600)))

    ctrl = raw["export_controls"]["aa_heavy"]
    regime = draw(st.sampled_from(["off", "licence", "ban"]))
    if regime == "off":
        ctrl["enabled"] = False
    else:
        ctrl["mode"] = regime
        ctrl["reviewers"] = draw(st.integers(1, 4))
        ctrl["denial_probability"] = draw(_fraction(0.0, 1.0))

    dc = raw["datacenters"]["bb_campus"]
    # Phases in order of start date: out-of-order phases crash the engine (see
    # test_properties.test_phases_out_of_order_simulate).
    phases = draw(st.lists(_phase(start, end), min_size=1, max_size=3))
    dc["phases"] = sorted(phases, key=lambda p: p["start"])
    # Phases may start up to 120 days before the run: allowed explicitly (with a warning).
    raw["time"]["allow_phases_outside_run"] = any(p["start"] < start for p in phases)
    dc["permit_mode"] = draw(st.sampled_from(["sequence", "parallel"]))
    dc["permit_per_phase"] = draw(st.booleans())
    dc["magnet_t_per_mw"] = draw(_fraction(0.0, 1.0))
    dc["accelerators_per_mw"] = float(draw(st.integers(0, 1000)))
    return raw
