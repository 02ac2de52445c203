"""Delay by gate: the phases' attributed delay, split by cause and gate, queue or service."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from paxsim.models.phase_outcome import CAUSES
from paxsim.models.results.delay_by_gate import QUEUE_CAUSES, delay_by_gate


def test_the_split_adds_up_to_the_attributed_delay(default_run: Any) -> None:
    table = default_run.delay_by_gate()
    p = default_run.projects[default_run.projects["online_by_horizon"]]
    attributed = sum(p[f"days_{c}"].clip(lower=0).sum() for c in CAUSES)
    assert np.isclose(table["days"].sum(), attributed, rtol=1e-9)
    assert np.isclose(table["share"].sum(), 1.0)
    assert set(table.loc[table["queue"], "cause"]) <= QUEUE_CAUSES


def test_queueing_is_a_material_share_of_delay_in_the_default_world(default_run: Any) -> None:
    """The meter's delays come out of queues, not out of assumed durations alone."""
    table = default_run.delay_by_gate()
    assert table.loc[table["queue"], "share"].sum() > 0.25
    # named by gate: a grid region, not just a cause
    grid = table[table["cause"] == "grid_capacity_queue"]
    assert len(grid) and set(grid["gate"]) <= {
        "pjm_dominion",
        "ercot",
        "tepco_chiba",
        "hokkaido",
        "kansai",
    }


def test_a_cause_is_shared_among_its_segments_by_excess() -> None:
    projects = pd.DataFrame(
        {
            "phase_id": ["p"],
            "online_by_horizon": [True],
            "days_permit_queue": [30.0],
            **{f"days_{c}": [0.0] for c in CAUSES if c != "permit_queue"},
        }
    )
    critical = pd.DataFrame(
        {
            "phase_id": ["p", "p"],
            "cause": ["permit_queue", "permit_queue"],
            "detail": ["county", "state"],
            "excess_days": [10.0, 30.0],
        }
    )
    out = delay_by_gate(projects, critical).set_index("gate")
    assert out.loc["county", "days"] == 7.5 and out.loc["state", "days"] == 22.5
    assert out["queue"].all()
