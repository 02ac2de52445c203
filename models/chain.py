"""The collaborators a facility, demand sink or data-center project works with.

Built once by :class:`~paxsim.models.world.World` and handed to every
component, instead of the world itself: a component sees the context (clock,
streams, calendar), the gates, the material ledger, the recorder, the
sourcing rules, the culprit tracer and logistics, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from paxsim.models.context import SimContext
from paxsim.models.culprits import CulpritTracer
from paxsim.models.export_control import ExportRegimes
from paxsim.models.grid import GridRegionGate
from paxsim.models.ledger import Ledger
from paxsim.models.permitting import PermitOffice
from paxsim.models.production import ProductionTick
from paxsim.models.recorder import Recorder
from paxsim.models.sourcing_rules import SourcingRules
from paxsim.models.transformers import TransformerFactory

if TYPE_CHECKING:
    from paxsim.models.logistics import Logistics

__all__ = ["Chain", "Gates"]


@dataclass(frozen=True, slots=True)
class Gates:
    grid: dict[str, GridRegionGate]
    authorities: dict[str, PermitOffice]
    regimes: ExportRegimes
    transformers: TransformerFactory | None


@dataclass(frozen=True, slots=True)
class Chain:
    ctx: SimContext
    gates: Gates
    ledger: Ledger
    recorder: Recorder
    rules: SourcingRules
    tracer: CulpritTracer
    logistics: Logistics
    production: ProductionTick
