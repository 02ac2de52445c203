"""The default world against the public record (calibration.md), with stated tolerances.

These run the embedded default world, so they are the slowest tests; each
figure they check is also printed by ``python experiments/validate_gates.py``.
"""

from __future__ import annotations

import pytest

from paxsim.models.calibration_checks import (
    export_trough_check,
    generation_queue_check,
    grid_requests_alone,
)
from paxsim.models.loader import load_scenario
from paxsim.models.results import Results
from paxsim.models.simulation import simulate

US_REGIONS = ["pjm_dominion", "ercot"]


@pytest.fixture(scope="module")
def default_runs(default_run: Results) -> list[Results]:
    """Seeds 0-5; seed 0 is the session's shared run (conftest.py)."""
    scenario = load_scenario()
    return [default_run, *(simulate(scenario, seed) for seed in range(1, 6))]


def test_export_trough_depth_and_recovery(default_runs: list[Results]) -> None:
    may, july = export_trough_check(default_runs)
    assert may.passed, may.line()
    assert july.passed, july.line()


def test_us_generation_queue_time_and_completion() -> None:
    # The US regions' gates alone, 8 replications pooled; long enough that the
    # cohort's requests resolve, skipping three years so the initial backlog
    # does not dominate.
    requests = grid_requests_alone(load_scenario(), US_REGIONS, list(range(8)), years=17)
    median, share = generation_queue_check(requests, cohort_from_day=3 * 365.25, cohort_years=4)
    assert median.passed, median.line()
    assert share.passed, share.line()


def test_china_share_of_separated_oxides_2025(default_runs: list[Results]) -> None:
    share = default_runs[0].origin_share("CN", ["ndpr_oxide", "dy_oxide", "tb_oxide", "ce_oxide"])
    value = float(share.loc[share["year"] == 2025, "share"].iloc[0])
    # IEA GCMO 2024: China 92 % of refined output (2023); IEA Oct 2025: 91 % (2024).
    assert 0.86 <= value <= 0.96


def test_data_center_grid_waits_in_published_range(default_runs: list[Results]) -> None:
    import numpy as np

    sites, ours = [], []
    for res in default_runs:
        req = res.grid_requests
        done = req[req["outcome"] == "energized"]
        years = (done["energized"] - done["arrival"]) / 365.25
        sites.extend(years[done["kind"] == "datacenter"].tolist())
        ours.extend(years[done["kind"] == "project"].tolist())
    # calibration.md section 5: large-load request -> energisation ~3-4 yr typical
    # (Dominion), up to 7; syntheses 3-7+ yr, up to ~10. Not fitted: the pipelines'
    # volumes, studies and upgrade crews produce it. Measured (seeds 0-5): the
    # pipeline sites' median ~4.4 yr, p90 ~5.8; the 20 named phases, which sit in
    # the most congested spots (Dominion, West Texas, Inzai), ~6 yr.
    site_p50, site_p90 = np.percentile(sites, [50, 90])
    assert 3.0 <= site_p50 <= 5.5, site_p50
    assert site_p90 <= 8.0, site_p90
    assert float(np.median(ours)) <= 7.0
    assert max([*sites, *ours]) <= 12
