"""The recorder: owns every result row a run appends, as flat tuples (Ciw's records).

Components append through its methods; ``collect`` turns the lists into
DataFrames once, at the end. The recorder knows the clock, so callers never
pass the time of an event that happens now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import simpy

from paxsim.models.grid import GRID_REQUEST_COLUMNS, PIPELINE_COLUMNS
from paxsim.models.grid.capacity import HEADROOM_COLUMNS
from paxsim.models.trust import FEOC, Trust, origin_tokens, touched_only
from paxsim.sim.records import RecordList

if TYPE_CHECKING:
    from paxsim.models.phase_outcome import PhaseOutcome

__all__ = ["OPTIONAL_TABLES", "Recorder"]


#: Row tables the recorder can skip when nobody will collect them (a batch keeps few).
OPTIONAL_TABLES = (
    "facility_timeseries",
    "provenance",
    "trusted_share",
    "shortages",
    "shipments",
    "licences",
    "exports",
    "events",
)


def _ignore(*_args: Any) -> None:
    """Stands in for a record method whose table is not kept."""


class Recorder:
    """Owns the rows; ``keep`` names the tables to record (None: all of them).

    A table not kept costs nothing: its record method is a no-op.
    """

    def __init__(
        self, env: simpy.Environment, trust: Trust, keep: Collection[str] | None = None
    ) -> None:
        self.env = env
        self.trust = trust
        kept = set(OPTIONAL_TABLES) if keep is None else set(keep)
        self.keeps_provenance = bool(kept & {"provenance", "trusted_share"})
        self.keeps_timeseries = "facility_timeseries" in kept
        self.timeseries = RecordList(("time", "entity", "kind", "material", "variable", "value"))
        self.shortages = RecordList(("time", "entity", "material", "qty", "reason", "context"))
        self.shipments = RecordList(("time", "supplier", "buyer", "material", "qty"))
        self.licences = RecordList(
            ("regime", "applied", "decided", "supplier", "buyer", "material", "qty", "granted")
        )
        self.events = RecordList(("time", "entity", "event"))
        # provenance: countries the lots touched; origin: the stages that confer origin
        self.provenance = RecordList(
            ("time", "facility", "material", "provenance", "origin", "trusted", "qty")
        )
        self.exports = RecordList(
            ("time", "supplier", "buyer", "origin", "destination", "material", "qty")
        )
        self.grid_requests = RecordList(GRID_REQUEST_COLUMNS)
        self.headroom = RecordList(HEADROOM_COLUMNS)
        self.pipeline_requests = RecordList(PIPELINE_COLUMNS)
        self.phases: list[PhaseOutcome] = []
        self._prov_acc: dict[tuple[str, str, frozenset[str]], float] = defaultdict(float)
        skipped = {
            "shortages": "shortage",
            "shipments": "shipment",
            "licences": "licence",
            "exports": "export",
            "events": "event",
        }
        for table, method in skipped.items():
            if table not in kept:
                setattr(self, method, _ignore)
        if not self.keeps_provenance:
            self.provenance_of = _ignore  # type: ignore[method-assign,assignment]

    def shortage(self, entity: str, material: str, qty: float, reason: str, context: str) -> None:
        self.shortages.rows.append((self.env.now, entity, material, qty, reason, context))

    def shipment(self, supplier: str, buyer: str, material: str, qty: float) -> None:
        self.shipments.rows.append((self.env.now, supplier, buyer, material, qty))

    def licence(
        self,
        regime: str,
        supplier: str,
        buyer: str,
        material: str,
        qty: float,
        applied: float,
        granted: bool,
    ) -> None:
        self.licences.rows.append(
            (regime, applied, self.env.now, supplier, buyer, material, qty, granted)
        )

    def export(self, supplier: Any, buyer: Any, material: str, qty: float) -> None:
        """A lot crossing a border, at the moment it clears export control."""
        self.exports.rows.append(
            (
                self.env.now,
                supplier.name,
                buyer.name,
                supplier.country,
                buyer.country,
                material,
                qty,
            )
        )

    def event(self, entity: str, event: str) -> None:
        self.events.rows.append((self.env.now, entity, event))

    def provenance_of(self, facility: str, material: str, tags: frozenset[str], qty: float) -> None:
        """Output by provenance, accumulated between samples (one row per pool per sample)."""
        self._prov_acc[(facility, material, tags)] += qty

    def phase(self, outcome: PhaseOutcome) -> None:
        self.phases.append(outcome)

    def flush_provenance(self, now: float) -> None:
        rows = self.provenance.rows
        trust = self.trust
        for (facility, material, tags), qty in self._prov_acc.items():
            touched = "+".join(sorted(touched_only(tags)))
            origin = "+".join(sorted(origin_tokens(tags))) + ("+FEOC" if FEOC in tags else "")
            rows.append(
                (now, facility, material, touched, origin, trust.is_trusted(tags, now), qty)
            )
        self._prov_acc.clear()
