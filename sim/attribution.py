"""Critical-path delay attribution.

A :class:`Milestone` is a moment in an entity's life together with the chain of
:class:`Segment` s that led to it. Sequencing appends a segment; joining
(``all of these must be done``) keeps the path of whichever input finished
last, which is by definition the one that set the date. The segments of a
milestone therefore tile the interval from the origin to its time exactly, and
``excess = actual - nominal`` per segment says how much each cause cost
against an unconstrained plan.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

__all__ = ["Milestone", "Segment", "attribute", "clipped", "join"]


class Segment(NamedTuple):
    cause: str
    start: float
    end: float
    nominal: float  # duration under the unconstrained plan
    detail: str = ""

    @property
    def actual(self) -> float:
        return self.end - self.start

    @property
    def excess(self) -> float:
        return self.actual - self.nominal


class Milestone(NamedTuple):
    time: float
    path: tuple[Segment, ...] = ()

    @classmethod
    def origin(cls, time: float) -> Milestone:
        return cls(time, ())

    def then(self, cause: str, end: float, nominal: float, detail: str = "") -> Milestone:
        """Extend the path with the interval ``[self.time, end]`` spent on ``cause``."""
        if end < self.time - 1e-9:
            raise ValueError(f"segment {cause!r} ends ({end}) before it starts ({self.time})")
        return Milestone(end, (*self.path, Segment(cause, self.time, end, nominal, detail)))

    def days_by_cause(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for seg in self.path:
            out[seg.cause] += seg.actual
        return dict(out)

    def excess_by_cause(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for seg in self.path:
            out[seg.cause] += seg.excess
        return dict(out)

    def nominal_length(self) -> float:
        return sum(seg.nominal for seg in self.path)


def join(*milestones: Milestone) -> Milestone:
    """The latest of several milestones (ties go to the first given)."""
    if not milestones:
        raise ValueError("join needs at least one milestone")
    best = milestones[0]
    for m in milestones[1:]:
        if m.time > best.time:
            best = m
    return best


def clipped(milestone: Milestone, from_time: float, nominal_total: float) -> Milestone:
    """The part of ``milestone``'s path after ``from_time``, re-rooted there.

    Used when a later phase joins a process already under way (a project's
    shared permits). ``nominal_total`` is the planned remaining duration; it is
    put on the last kept segment so the clipped path's nominal length is exact.
    """
    if milestone.time <= from_time:
        return Milestone.origin(from_time)
    if not milestone.path or milestone.path[0].start > from_time:
        # Nothing recorded before the milestone: one opaque segment keeps the tiling exact.
        cause = milestone.path[0].cause if milestone.path else "wait"
        head = Segment(
            cause, from_time, milestone.path[0].start if milestone.path else milestone.time, 0.0
        )
        milestone = Milestone(milestone.time, (head, *milestone.path))
    kept: list[Segment] = []
    for seg in milestone.path:
        if seg.end <= from_time:
            continue
        kept.append(Segment(seg.cause, max(seg.start, from_time), seg.end, 0.0, seg.detail))
    if kept:
        last = kept[-1]
        kept[-1] = last._replace(nominal=nominal_total)
    return Milestone(milestone.time, tuple(kept))


def attribute(path: tuple[Segment, ...], float_days: float) -> tuple[dict[str, float], float]:
    """Split a delay against an unconstrained plan among the causes on the critical path.

    ``float_days`` is how much longer the plan's longest branch was than the
    nominal length of the branch that turned out critical: excess on the
    critical branch first uses up that float (in time order) before it delays
    the date. Returns ``(days_by_cause, unused_float)``; their sum equals
    ``actual_length - planned_length`` exactly. ``unused_float`` is <= 0 and is
    non-zero only when the entity finished ahead of its plan.
    """
    remaining = float_days
    out: dict[str, float] = defaultdict(float)
    for seg in path:
        excess = seg.excess
        if excess > 0 and remaining > 0:
            absorbed = min(excess, remaining)
            remaining -= absorbed
            excess -= absorbed
        out[seg.cause] += excess
    return dict(out), -remaining
