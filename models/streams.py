"""Which random stream every draw in the model comes from (common random numbers).

One stream per entity and purpose, and per member where several parties share
an entity (applicants at a permit office or licence desk, requests at a grid
region). The rule that keeps ``paxsim compare`` honest: a lever in one place
changes no draw anywhere else. So exogenous load (background arrivals and what
each arriving request is) never shares a stream with anything a lever can
reorder, and every party draws from its own stream, in its own order.
"""

from __future__ import annotations

from enum import StrEnum

from paxsim.sim.random import StreamName

__all__ = ["Entity", "Purpose", "stream_name"]


class Entity(StrEnum):
    """Kinds of entity that draw."""

    GRID = "grid"
    PERMIT_OFFICE = "permit_office"
    LICENCE_DESK = "licence_desk"
    TRANSFORMERS = "transformers"
    FACILITY = "facility"
    DATACENTER_PHASE = "datacenter_phase"
    LANE = "lane"
    BUYER = "buyer"


class Purpose(StrEnum):
    """What a draw is for."""

    ARRIVALS = "arrivals"  # when exogenous requests arrive
    ATTRIBUTES = "attributes"  # what each exogenous request is: size, kind, odds, durations
    BACKLOG = "backlog"  # requests already queued at the start
    STUDIES = "studies"  # a grid region's cluster study durations and restudies
    REQUEST = "request"  # one of our requests' own durations and outcomes
    APPLICATION = "application"  # an applicant's review times and decisions
    BUILD = "build"  # construction and ramp durations
    OUTAGES = "outages"
    QUALIFICATION = "qualification"  # feedstock qualification of a supplier
    TRANSIT = "transit"
    AUDIT = "audit"
    EQUIPMENT = "equipment"


def stream_name(kind: Entity, entity: str, purpose: Purpose, member: str = "") -> StreamName:
    return StreamName(kind.value, entity, purpose.value, member)
