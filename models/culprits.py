"""The upstream culprit tracer: why a supplier could not deliver, followed up the chain.

For example ``mp_independence:short of dy_oxide (supplier_short:mp_heavy_circuit)
<- mp_heavy_circuit:at_capacity``. It reads each facility's current limit and
each input's last shortage reason, plus the lots held at export licensing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paxsim.models.facility import ProducingFacility

__all__ = ["CulpritTracer"]


class CulpritTracer:
    def __init__(self, facilities: dict[str, ProducingFacility]) -> None:
        self.facilities = facilities
        #: (buyer, material) -> lots waiting for an export licence now
        self.awaiting_licence: dict[tuple[str, str], int] = defaultdict(int)

    def chain(self, reasons: list[tuple[str, str]], material: str) -> str:
        """Why each supplier could not deliver, each followed upstream (first three)."""
        return " | ".join(self.trace(s, r, material) for s, r in reasons[:3])

    def trace(self, supplier: str, reason: str, material: str, depth: int = 6) -> str:
        """Follow one supplier's shortage upstream: who was short, and what *they* waited for."""
        links = [f"{supplier}:{reason}"]
        current = supplier
        for _ in range(depth):
            fac = self.facilities.get(current)
            if fac is None or reason != "supplier_short":
                break
            limit = fac.limit_reason
            if not limit.startswith("input:"):
                links.append(f"{current}:{limit}")
                break
            mat = limit.split(":", 1)[1]
            if self.awaiting_licence.get((current, mat), 0) > 0:
                links.append(f"{current}:awaiting export_licence for {mat}")
                break
            last = fac.inputs[mat].last_reason or "input_short"
            links.append(f"{current}:short of {mat} ({last})")
            if ":" not in last:
                break
            reason, current = last.split(":", 1)
        return " <- ".join(links)
