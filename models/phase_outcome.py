"""What a data-center phase came to: a typed record, and the days by cause behind it.

The phase's online date is measured against its *unconstrained plan* (every
step at its median, nothing queued). The float between the plan and the sum
of the critical path's nominal lengths is consumed first; the rest of each
segment's excess is its cause's days (:func:`paxsim.sim.attribution.attribute`),
so the days by cause sum exactly to the delay.
"""

from __future__ import annotations

from dataclasses import dataclass

from paxsim.sim.attribution import Milestone, Segment, attribute

__all__ = ["CAUSES", "PhaseOutcome", "phase_outcome"]

#: Every cause a phase's critical path can contain, in the order tables show them.
CAUSES = (
    "permit_queue",
    "permit_review",
    "litigation",
    "interconnection_queue",
    "interconnection_study",
    "interconnection_restudy",
    "grid_capacity_queue",
    "network_upgrade",
    "transformer_delivery",
    "grid_energization",
    "colocated_generation",
    "construction",
    "magnet_shortage",
    "accelerator_shortage",
    "export_licence",
    "export_quota",
    "trusted_audit",
    "transit",
    "equipment_manufacture",
    "accelerator_install",
)


@dataclass(frozen=True, slots=True)
class PhaseOutcome:
    project: str
    phase: int  # 1-based
    phase_id: str
    country: str
    region: str
    it_mw: float
    grid_mw: float
    start_day: float
    planned_day: float
    unconstrained_day: float
    online_day: float  # full power: every MW installed and energised (the headline)
    critical_cause: str
    culprit: str
    days: dict[str, float]  # days by cause to full power, plus plan_optimism and unused_float
    path: tuple[Segment, ...]
    first_power_day: float  # a flexible connection may energise part of the MW earlier
    initial_share: float  # share of the MW online at first power


def phase_outcome(
    *,
    project: str,
    index: int,
    phase_id: str,
    country: str,
    region: str,
    it_mw: float,
    grid_mw: float,
    start_day: float,
    planned_day: float,
    unconstrained_day: float,
    online: Milestone,
    first_power_day: float,
    initial_share: float,
) -> PhaseOutcome:
    """``online`` is the full-power milestone: its critical path is what the days explain."""
    float_days = (unconstrained_day - start_day) - online.nominal_length()
    days, unused_float = attribute(online.path, float_days)
    days["unused_float"] = unused_float
    days["plan_optimism"] = unconstrained_day - planned_day
    positive = {c: d for c, d in days.items() if c in CAUSES and d > 1e-9}
    critical = max(positive, key=lambda c: positive[c]) if positive else ""
    culprit = ""
    for seg in online.path:
        if seg.cause == critical and seg.detail:
            culprit = seg.detail
    return PhaseOutcome(
        project=project,
        phase=index + 1,
        phase_id=phase_id,
        country=country,
        region=region,
        it_mw=it_mw,
        grid_mw=grid_mw,
        start_day=start_day,
        planned_day=planned_day,
        unconstrained_day=unconstrained_day,
        online_day=online.time,
        critical_cause=critical,
        culprit=culprit,
        days=days,
        path=tuple(online.path),
        first_power_day=first_power_day,
        initial_share=initial_share,
    )
