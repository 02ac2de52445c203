"""One interconnection request, what it came to, and where its random draws come from.

A request never draws from a stream it shares with anyone whose timing a
lever can change. Our own requests (a data-center phase, a planned plant)
draw lazily from their own stream. Background requests draw everything they
may need the moment they arrive, from their region's per-kind attribute
stream in arrival order (:mod:`paxsim.models.grid.background`), so a lever
elsewhere, which can only change *when* things happen, never changes *what*
each request is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import simpy

from paxsim.models.scenario import GridRegion
from paxsim.sim.attribution import Milestone

__all__ = [
    "GRID_REQUEST_COLUMNS",
    "MAX_RESTUDIES",
    "GridConnection",
    "GridRequest",
    "PhasePlan",
    "RequestDraws",
]

#: A request restudied this many times proceeds anyway (guards p = 1).
MAX_RESTUDIES = 5

GRID_REQUEST_COLUMNS = (
    "region",
    "request_id",
    "kind",
    "background",
    "mw",
    "arrival",
    "study_start",
    "study_end",
    "energized",
    "outcome",
)

#: (phase name, drawn days, nominal days, withdrawal probability)
PhasePlan = list[tuple[str, float, float, float]]


class GridConnection(NamedTuple):
    """What a project's request came to: full energisation, and an early partial one."""

    full: Milestone
    early: Milestone | None = None
    early_share: float = 0.0


def collapse_parallel(plan: PhasePlan) -> PhasePlan:
    """Phases run side by side: the longest sets the pace, any withdrawal counts."""
    longest = max(d for _, d, _, _ in plan)
    nominal = max(n for _, _, n, _ in plan)
    total_p = 1.0 - float(np.prod([1.0 - w for *_, w in plan]))
    return [("parallel_studies", longest, nominal, total_p)]


class RequestDraws:
    """Every random quantity a request may need, in one place.

    This base class draws lazily from one stream that belongs to the request
    alone (our requests). :class:`~paxsim.models.grid.background.PredrawnDraws`
    serves the same quantities from values fixed at arrival.
    """

    def __init__(self, rng: np.random.Generator, spec: GridRegion) -> None:
        self.rng = rng
        self.spec = spec

    def readiness_days(self) -> float:
        return max(0.0, self.spec.readiness_days.sample(self.rng))

    def phase_plan(self) -> PhasePlan:
        rng = self.rng
        plan = [
            (
                p.name,
                max(0.0, p.days.sample(rng)),
                p.days.median(),
                p.withdrawal_probability.sample(rng),
            )
            for p in self.spec.phases()
        ]
        return collapse_parallel(plan) if self.spec.parallel_studies else plan

    def uniform(self) -> float:
        return float(self.rng.random())

    def upgrade_days(self) -> float:
        return max(0.0, self.spec.upgrade_days.sample(self.rng))

    def connection_days(self) -> float:
        return max(0.0, self.spec.connection_days.sample(self.rng))

    def early_connection_days(self) -> float:
        return max(0.0, self.spec.connection_days.sample(self.rng))

    def transformer_rng(self) -> np.random.Generator:
        return self.rng


_ORIGIN = Milestone.origin(0.0)


@dataclass(slots=True)
class GridRequest:
    request_id: str
    kind: str
    background: bool
    mw: float
    arrival: float
    draws: RequestDraws
    designated: bool = False
    done: simpy.Event | None = None
    path: Milestone = _ORIGIN  # immutable: set for real when studies begin
    withdrawn: bool = False
    study_start: float = math.nan
    restudies: int = 0
    phase_withdrawal: float | None = None  # overrides the phases' own odds
    patience: float | None = None  # days it will wait for a study team (background)
    reneged: bool = False  # gave up while waiting
    tolerance: float | None = None  # USD/kW of assigned upgrade cost it will bear
    assigned_cost: float = math.nan  # USD/kW of upgrade it was assigned
    energized_day: float = math.nan
    committed: float = math.nan  # a pipeline site: when it committed and began building
    site_ready: float = math.nan  # a pipeline site: when its building is done

    def withdraws(self, probability: float) -> bool:
        if self.phase_withdrawal is not None:
            probability = self.phase_withdrawal
        return self.draws.uniform() < probability
